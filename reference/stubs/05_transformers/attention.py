"""Scaled dot-product attention, forward and backward.

Implement with NumPy. Every query asks "which keys look like me?": it scores each key
with a dot product, a softmax turns the scores into weights that sum to 1, and the answer
is the weighted average of the values. Nothing here depends on where a key sits in the
sequence, only on what it holds, and every step is differentiable: that is why attention
can learn what to look at. Run: pytest katas/05_transformers/test_attention.py
"""

import numpy as np


def scaled_dot_product_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    is_causal: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Attend from every query to every key; return the output and the attention weights.

    Math:
        scores  = q @ k^T / sqrt(E)                      (..., L, S)
        scores += bias   where bias is 0 where a query may attend and -inf where not:
                         bool mask: -inf where mask is False (True = may attend);
                         float mask: added as it is (0 keeps, -inf removes, others bias);
                         is_causal: query i may attend to keys 0..i only, i.e. the lower
                         triangle of an (L, S) matrix counted from the TOP-LEFT corner,
                         np.tril(np.ones((L, S))) also when L != S
        weights = softmax(scores) over the keys (the last axis): each row sums to 1
        out     = weights @ v                             (..., L, Ev)

    Shapes:
        q: (..., L, E); k: (..., S, E); v: (..., S, Ev), with the same batch dims "..."
        (any number of them, none included). mask: broadcastable to (..., L, S), e.g.
        (L, S) for all batches or (N, 1, S) to hide padded keys per sequence.
        Returns out (..., L, Ev) and weights (..., L, S).

    Args:
        q, k, v: queries, keys and values (float32 or float64).
        mask: None, a bool array (True = may attend) or a float array added to the scores.
        is_causal: hide the future: query i sees keys 0..i. Passing both a mask and
            is_causal=True raises ValueError (torch refuses it too).

    Returns:
        (out, weights), both in q's dtype: float32 in, float32 out.

    Numerics:
        exp of a large score overflows (float32 overflows past exp(88)): subtract each
        row's max score before exp, as a stable softmax does. A row whose keys are ALL
        masked has nothing to attend to: its max is -inf and -inf - (-inf) is NaN. Return
        weights 0 and out 0 for such a row (torch 2.13's scaled_dot_product_attention
        returns 0 there, not NaN). Do not modify q, k, v or mask. Keep the dtype: scale by
        a Python float (1 / math.sqrt(E)); an np.float64 scalar promotes float32 arrays.

    Reference:
        torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
        is_causal=is_causal) for out; torch.softmax of the masked scores for weights.
    """
    raise NotImplementedError


def scaled_dot_product_attention_backward(
    dout: np.ndarray,
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    is_causal: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the loss with respect to q, k and v, given dout = dLoss/dout.

    Math:
        Recompute P = weights from the forward pass (same mask, same is_causal). Then
        out = P @ v         gives  dv = P^T @ dout,  dP = dout @ v^T
        P = softmax(scores) gives, row by row (the softmax Jacobian),
                             dscores = P * (dP - sum(P * dP, over the keys, keepdims))
        scores = q @ k^T / sqrt(E) gives  dq = dscores @ k / sqrt(E),
                                          dk = dscores^T @ q / sqrt(E)
        (^T swaps the last two axes only: np.swapaxes(x, -1, -2).)

    Shapes:
        dout: (..., L, Ev); q: (..., L, E); k: (..., S, E); v: (..., S, Ev); mask as in
        scaled_dot_product_attention. Returns dq (..., L, E), dk (..., S, E), dv (..., S, Ev).

    Args:
        dout: the gradient of the loss with respect to out.
        q, k, v, mask, is_causal: exactly what the forward pass was given.

    Returns:
        (dq, dk, dv), in q's dtype.

    Numerics:
        Masked keys have weight 0, so no gradient reaches them; a fully masked row gives
        zero gradients (not NaN), as torch does. Do not modify any input.

    Reference:
        torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, ...), (q, k, v), dout)
    """
    raise NotImplementedError
