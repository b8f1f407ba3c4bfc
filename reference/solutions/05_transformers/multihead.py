"""Multi-head attention laid out as nn.MultiheadAttention, forward and backward (reference).

One packed in-projection makes q, k and v; each of the H heads attends in its own slice of
E // H features; the heads' outputs are put side by side again and mixed by out_proj.
References: Vaswani et al. 2017, "Attention Is All You Need", section 3.2.2;
torch.nn.functional.multi_head_attention_forward (the code nn.MultiheadAttention runs).
"""

import math

import numpy as np


def split_heads(x, num_heads):
    """(N, L, E) -> (N, H, L, E // H): head h owns features h*d .. (h+1)*d - 1."""
    N, L, E = x.shape
    d = E // num_heads
    return x.reshape(N, L, num_heads, d).transpose(0, 2, 1, 3)  # (N, H, L, d)


def merge_heads(x):
    """(N, H, L, d) -> (N, L, H * d): the inverse of split_heads."""
    N, H, L, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, L, H * d)  # heads side by side again


def multihead_attention_forward(
    query,
    key,
    value,
    params,
    num_heads,
    key_padding_mask=None,
    attn_mask=None,
    need_weights=True,
    average_attn_weights=True,
    batch_first=True,
):
    """Multi-head attention: returns (out, weights, cache)."""
    if not batch_first:
        # torch's default layout is (L, N, E): work batch first, give the same layout back.
        query, key, value = (np.swapaxes(x, 0, 1) for x in (query, key, value))  # (N, L, E)
        out, weights, cache = multihead_attention_forward(
            query,
            key,
            value,
            params,
            num_heads,
            key_padding_mask,
            attn_mask,
            need_weights,
            average_attn_weights,
        )
        return np.swapaxes(out, 0, 1), weights, {**cache, "batch_first": False}
    N, L, E = query.shape
    S = key.shape[1]
    H = num_heads
    if E % H:
        raise ValueError(f"embed_dim {E} is not divisible by num_heads {H}")
    d = E // H
    scale = 1.0 / math.sqrt(d)  # a Python float: keeps float32 inputs float32

    # 1. One packed projection: in_proj_weight's rows are W_q, W_k, W_v stacked, (3E, E).
    W_q, W_k, W_v = np.split(params["in_proj_weight"], 3)  # each (E, E), nn.Linear's (out, in)
    b_q, b_k, b_v = np.split(params["in_proj_bias"], 3)  # each (E,)
    q = split_heads(query @ W_q.T + b_q, H)  # (N, H, L, d)
    k = split_heads(key @ W_k.T + b_k, H)  # (N, H, S, d)
    v = split_heads(value @ W_v.T + b_v, H)  # (N, H, S, d)

    # 2. Every head scores every query against every key, scaled by 1/sqrt(d).
    scores = (q @ k.swapaxes(-1, -2)) * scale  # (N, H, L, S)
    if attn_mask is not None:
        # nn.MultiheadAttention's boolean masks say where NOT to look (True = blocked):
        # the opposite of scaled_dot_product_attention's. A float mask is added as it is.
        am = np.where(attn_mask, -np.inf, 0.0) if attn_mask.dtype == bool else attn_mask
        if am.ndim == 3:
            am = am.reshape(N, H, L, S)  # (N*H, L, S), batch-major: row n*H + h
        scores = scores + am.astype(scores.dtype)
    if key_padding_mask is not None:
        kpm = (
            np.where(key_padding_mask, -np.inf, 0.0)  # True = padding: ignore this key
            if key_padding_mask.dtype == bool
            else key_padding_mask
        )
        scores = scores + kpm[:, None, None, :].astype(scores.dtype)  # every head and query

    # 3. Softmax over the keys, shifted by the row's max so exp never overflows.
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    P = e / e.sum(axis=-1, keepdims=True)  # (N, H, L, S)

    # 4. Each head's weighted sum of values; heads side by side; the output projection.
    ctx = merge_heads(P @ v)  # (N, H, L, d) -> (N, L, E)
    W_o, b_o = params["out_proj.weight"], params["out_proj.bias"]
    out = ctx @ W_o.T + b_o  # (N, L, E)

    weights = None
    if need_weights:
        weights = P.mean(axis=1) if average_attn_weights else P  # (N, L, S) or (N, H, L, S)
    cache = {
        "inputs": (query, key, value),
        "heads": (q, k, v, P),
        "ctx": ctx,
        "params": params,
        "scale": scale,
        "batch_first": True,
    }
    return out, weights, cache


def multihead_attention_backward(dout, cache):
    """Gradients of multi-head attention: a dict keyed like the inputs and params."""
    batch_first = cache["batch_first"]
    if not batch_first:
        dout = np.swapaxes(dout, 0, 1)  # (L, N, E) -> (N, L, E), as the forward worked
    query, key, value = cache["inputs"]
    q, k, v, P = cache["heads"]
    ctx, params, scale = cache["ctx"], cache["params"], cache["scale"]
    H, E = q.shape[1], dout.shape[-1]
    W_q, W_k, W_v = np.split(params["in_proj_weight"], 3)
    W_o = params["out_proj.weight"]

    # 4. out = ctx @ W_o.T + b_o
    dW_o = dout.reshape(-1, E).T @ ctx.reshape(-1, E)  # (E, E), summed over N and L
    db_o = dout.sum(axis=(0, 1))
    dctx = split_heads(dout @ W_o, H)  # (N, H, L, d)

    # 3. ctx_h = P @ v, then P = softmax(scores): dS = P * (dP - sum_j dP_j P_j)
    dP = dctx @ v.swapaxes(-1, -2)  # (N, H, L, S)
    dv = P.swapaxes(-1, -2) @ dctx  # (N, H, S, d)
    dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True))  # masks are constants: no gradient

    # 2. scores = q @ k.T * scale
    dq = merge_heads((dS @ k) * scale)  # (N, L, E)
    dk = merge_heads((dS.swapaxes(-1, -2) @ q) * scale)  # (N, S, E)
    dv = merge_heads(dv)  # (N, S, E)

    # 1. The three projections: the same rule as nn.Linear, then stacked like the params.
    def linear_grads(dy, x, W):
        return dy @ W, dy.reshape(-1, E).T @ x.reshape(-1, E), dy.sum(axis=(0, 1))

    dquery, dW_q, db_q = linear_grads(dq, query, W_q)
    dkey, dW_k, db_k = linear_grads(dk, key, W_k)
    dvalue, dW_v, db_v = linear_grads(dv, value, W_v)
    if not batch_first:
        dquery, dkey, dvalue = (np.swapaxes(g, 0, 1) for g in (dquery, dkey, dvalue))
    return {
        "query": dquery,
        "key": dkey,
        "value": dvalue,
        "in_proj_weight": np.concatenate([dW_q, dW_k, dW_v]),  # (3E, E)
        "in_proj_bias": np.concatenate([db_q, db_k, db_v]),  # (3E,)
        "out_proj.weight": dW_o,
        "out_proj.bias": db_o,
    }
