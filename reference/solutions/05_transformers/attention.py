"""Scaled dot-product attention, forward and backward (reference solution).

Each query scores every key with a dot product, the scores become weights with a
softmax over the keys, and the output is the weighted average of the values: a soft,
differentiable dictionary lookup. References: Vaswani et al. 2017, "Attention Is All
You Need", section 3.2.1; torch.nn.functional.scaled_dot_product_attention.
"""

import math

import numpy as np


def _swap(x: np.ndarray) -> np.ndarray:
    """The last two axes swapped: (..., A, B) -> (..., B, A), a view (no copy)."""
    return np.swapaxes(x, -1, -2)


def _scores(q, k, mask, is_causal):
    """The masked, scaled scores (..., L, S): -inf where a query may not look."""
    if mask is not None and is_causal:
        raise ValueError("pass either mask or is_causal=True, not both (torch refuses it too)")
    E = q.shape[-1]
    # math.sqrt gives a Python float, which keeps float32 float32 (np.sqrt(E) would not).
    scores = q @ _swap(k) / math.sqrt(E)  # (..., L, E) @ (..., E, S) -> (..., L, S)
    L, S = scores.shape[-2:]
    if is_causal:
        # Query i sees keys 0..i: the lower triangle of (L, S), from the top-left corner.
        mask = np.tril(np.ones((L, S), dtype=bool))
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype == bool:
            scores = np.where(mask, scores, -np.inf)  # True = may attend (torch's convention)
        else:
            scores = scores + mask  # an additive mask: 0 keeps, -inf removes, others bias
    return scores


def _softmax_in_place(scores):
    """Softmax over the keys, written over scores (a fresh array of ours, never an input).

    Working in place saves four (..., L, S) temporaries: for small heads, allocating them
    costs more than the arithmetic. A row with every key masked gets weights 0 (as torch).
    """
    axis = -1  # over the keys: each query's weights sum to 1
    row_max = scores.max(axis=axis, keepdims=True)
    # A fully masked row has max -inf, and -inf - (-inf) is NaN: shift it by 0 instead.
    row_max[np.isneginf(row_max)] = 0
    scores -= row_max  # every exponent <= 0: exp cannot overflow
    np.exp(scores, out=scores)
    total = scores.sum(axis=axis, keepdims=True)
    total[total == 0] = 1  # a fully masked row: 0 / 1 = 0
    scores /= total
    return scores


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    """out = softmax(q k^T / sqrt(E) + mask) v; returns (out, weights)."""
    weights = _softmax_in_place(_scores(q, k, mask, is_causal))  # (..., L, S)
    return weights @ v, weights  # (..., L, S) @ (..., S, Ev) -> (..., L, Ev)


def scaled_dot_product_attention_backward(dout, q, k, v, mask=None, is_causal=False):
    """(dq, dk, dv) of sum(out * dout), recomputing the weights from q, k and the mask."""
    P = _softmax_in_place(_scores(q, k, mask, is_causal))  # (..., L, S)
    # 1. out = P @ v: the two gradients of a matrix product.
    dv = _swap(P) @ dout  # (..., S, L) @ (..., L, Ev) -> (..., S, Ev)
    dP = dout @ _swap(v)  # (..., L, Ev) @ (..., Ev, S) -> (..., L, S)
    # 2. Softmax, row by row: dS_j = P_j (dP_j - sum_i P_i dP_i). Masked keys have P = 0,
    #    so no gradient reaches them (and a fully masked row gets none at all).
    #    Computed in place in dP, a fresh array of ours, to spare two temporaries.
    dS = dP
    dS -= (P * dP).sum(axis=-1, keepdims=True)
    dS *= P
    # 3. scores = q @ k^T / sqrt(E): both q and k get the scale.
    E = q.shape[-1]
    dq = dS @ k / math.sqrt(E)  # (..., L, S) @ (..., S, E) -> (..., L, E)
    dk = _swap(dS) @ q / math.sqrt(E)  # (..., S, L) @ (..., L, E) -> (..., S, E)
    return dq, dk, dv
