"""Multi-head attention, forward and backward, laid out exactly as nn.MultiheadAttention.

Implement with NumPy. H heads each attend in their own slice of E // H features, so one
layer can look at several things at once for the price of one big attention. The weights
use torch's names and shapes, so a state_dict loads straight in:

    params["in_proj_weight"]  (3E, E)   W_q, W_k, W_v stacked as rows, in that order
    params["in_proj_bias"]    (3E,)     b_q, b_k, b_v
    params["out_proj.weight"] (E, E)    nn.Linear layout: (out, in), used as x @ W.T
    params["out_proj.bias"]   (E,)

Per-head attention is written here again, on purpose: softmax(q k^T / sqrt(d) + mask) v,
now with a head axis. Run: pytest katas/05_transformers/test_multihead.py
"""

import numpy as np


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """Give every head its own block of features: (N, L, E) -> (N, H, L, E // H).

    Math:
        out[n, h, l, j] = x[n, l, h * d + j]      with d = E // H, j = 0 .. d-1
        (head 0 owns features 0..d-1, head 1 owns d..2d-1, ...)

    Shapes:
        x: (N, L, E); returns (N, H, L, d).

    Args:
        x: a projected sequence (q, k or v, or a gradient shaped like one).
        num_heads: H; divides E.

    Returns:
        The same values, with the head axis second: a reshape, then a transpose.

    Numerics:
        No arithmetic; keep the dtype.

    Reference:
        F.multi_head_attention_forward: q.view(L, N * H, d).transpose(0, 1)
    """
    raise NotImplementedError


def merge_heads(x: np.ndarray) -> np.ndarray:
    """Put the heads side by side again: (N, H, L, d) -> (N, L, H * d).

    Math:
        out[n, l, h * d + j] = x[n, h, l, j]       (the inverse of split_heads)

    Shapes:
        x: (N, H, L, d); returns (N, L, E) with E = H * d.

    Args:
        x: per-head results (each head's weighted sum of values, or a gradient).

    Returns:
        The same values, heads concatenated along the feature axis.

    Numerics:
        No arithmetic; keep the dtype.

    Reference:
        F.multi_head_attention_forward: attn_output.transpose(0, 1).reshape(L * N, E)
    """
    raise NotImplementedError


def multihead_attention_forward(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    params: dict[str, np.ndarray],
    num_heads: int,
    key_padding_mask: np.ndarray | None = None,
    attn_mask: np.ndarray | None = None,
    need_weights: bool = True,
    average_attn_weights: bool = True,
    batch_first: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, object]:
    """Multi-head attention: every query attends to the keys, once per head.

    Math:
        q = query @ W_q.T + b_q;  k = key @ W_k.T + b_k;  v = value @ W_v.T + b_v
        split q, k, v into H heads of d = E // H features each
        scores = q @ k^T / sqrt(d) + masks           (N, H, L, S)
        P = softmax(scores) over the keys (the last axis)
        out = merge_heads(P @ v) @ W_o.T + b_o
        masks, added to the scores: a boolean mask's True means BLOCKED (-inf), the
        opposite of scaled_dot_product_attention's; a float mask is added as it is.
        key_padding_mask (N, S): True at padding keys, for every head and query.
        attn_mask (L, S) for every batch element and head, or (N * H, L, S), row n*H + h.

    Shapes:
        batch_first: query (N, L, E), key and value (N, S, E), out (N, L, E);
        otherwise (L, N, E), (S, N, E), (L, N, E). weights: (N, L, S) averaged over the
        heads, (N, H, L, S) per head: batch first in both layouts, as torch returns them.

    Args:
        query, key, value: self-attention passes the same sequence three times;
            cross-attention has S != L keys (key and value have the same shape).
        params: in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias (see above).
        num_heads: H; raise ValueError when it does not divide E.
        key_padding_mask, attn_mask: bool or float arrays, or None (see Math).
        need_weights: return the attention weights P, or None in their place.
        average_attn_weights: P averaged over the heads, or every head's own.
        batch_first: the layout of query, key, value and out (torch's default is False).

    Returns:
        (out, weights, cache): cache is whatever multihead_attention_backward needs.

    Numerics:
        Subtract each row's max before exp: scores can be large. A query whose keys are
        all masked has nothing to attend to: torch gives NaN there (softmax of a row of
        -inf) or zeros (its fused path); either passes, but -1e9 in place of -inf does
        not (that row would attend to the padding). Scale by a Python float
        (1 / math.sqrt(d)), not np.sqrt: float32 in, float32 out.

    Reference:
        torch.nn.MultiheadAttention(E, H, batch_first=...)(query, key, value, ...)
        with dropout=0.0 (weights are returned without dropout).
    """
    raise NotImplementedError


def multihead_attention_backward(dout: np.ndarray, cache: object) -> dict[str, np.ndarray]:
    """Gradients of multi-head attention, for the inputs and every parameter.

    Math:
        walking the forward's steps backwards (ctx = merge_heads(P @ v)):
        dW_o = dout^T ctx (summed over N and L);  db_o = sum of dout;  dctx = dout @ W_o
        per head:  dP = dctx_h @ v^T;  dv_h = P^T @ dctx_h
                   dS = P * (dP - sum_j dP_j P_j)            (softmax's backward)
                   dq_h = dS @ k / sqrt(d);  dk_h = dS^T @ q / sqrt(d)
        merge dq, dk, dv, then each projection like nn.Linear:
        dquery = dq @ W_q;  dW_q = dq^T query;  db_q = sum of dq  (same for k and v)
        in_proj_weight's gradient stacks dW_q, dW_k, dW_v as rows; the bias likewise.

    Shapes:
        dout: out's shape (in out's layout); every gradient has its input's shape.

    Args:
        dout: dL/dout.
        cache: what multihead_attention_forward returned.

    Returns:
        A dict with keys "query", "key", "value", "in_proj_weight", "in_proj_bias",
        "out_proj.weight", "out_proj.bias".

    Numerics:
        Masked keys have P = 0, so their dS is 0: the masks need no gradient.
        Keep the dtype: float32 in, float32 out.

    Reference:
        torch.autograd.grad through torch.nn.MultiheadAttention
    """
    raise NotImplementedError
