"""The GRU cell in torch's formulation, forward and backward, in NumPy.

Implement with NumPy. A GRU cell mixes the previous hidden state h with a candidate n:
an update gate z decides how much of h to keep, a reset gate r decides how much of h
the candidate may look at. Two published variants differ in WHERE r is applied; torch
(and cuDNN) apply it to W_hn h + b_hn, after the matmul. This kata uses torch's.

    h, cache = gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    grads = gru_cell_backward(dh, cache)   # dict: "x", "h_prev", "W_ih", ...

Run: pytest katas/04_rnn/test_gru.py
"""

import numpy as np


def gru_cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, object]:
    """One GRU step, as nn.GRUCell computes it; returns the new hidden state and a cache.

    Math:
        gi = x @ W_ih.T + b_ih;  gh = h_prev @ W_hh.T + b_hh   (each split into r, z, n)
        r = sigmoid(gi_r + gh_r)
        z = sigmoid(gi_z + gh_z)
        n = tanh(gi_n + r * gh_n)        # r multiplies (W_hn h + b_hn), bias included
        h = (1 - z) * n + z * h_prev

    Shapes:
        x: (N, D); h_prev: (N, H); W_ih: (3H, D); W_hh: (3H, H); b_ih, b_hh: (3H,).
        h: (N, H).

    Args:
        x: the input at this step, any memory layout.
        h_prev: the previous hidden state.
        W_ih, W_hh: weights stacked in torch's gate order (r, z, n): rows [0, H) are r,
            [H, 2H) are z, [2H, 3H) are n.
        b_ih, b_hh: biases, stacked the same way.

    Returns:
        h: the new hidden state, x's dtype.
        cache: whatever gru_cell_backward needs (any object you like).

    Numerics:
        Keep the dtype (float32 in, float32 out). Write sigmoid so that it does not
        overflow for large negative inputs (e.g. via 0.5 * (1 + tanh(x / 2))).

    Reference:
        torch.nn.GRUCell (weight_ih, weight_hh, bias_ih, bias_hh); Cho et al. 2014,
        "Learning Phrase Representations using RNN Encoder-Decoder" (the other variant).
    """
    raise NotImplementedError


def gru_cell_backward(dh: np.ndarray, cache: object) -> dict[str, np.ndarray]:
    """Gradients of the loss w.r.t. every input of gru_cell_forward, given dL/dh.

    Math:
        dn = dh * (1 - z);  dz = dh * (h_prev - n);  dh_prev (direct) = dh * z
        dan = dn * (1 - n**2)                      # pre-activation of n
        dgh_n = dan * r;  dr = dan * gh_n
        dar = dr * r * (1 - r);  daz = dz * z * (1 - z)
        dgi = [dar, daz, dan];  dgh = [dar, daz, dgh_n]
        dx = dgi @ W_ih;  dh_prev += dgh @ W_hh
        dW_ih = dgi.T @ x;  dW_hh = dgh.T @ h_prev;  db_ih = sum_N dgi;  db_hh = sum_N dgh

    Shapes:
        dh: (N, H). Each gradient has the shape of its input.

    Args:
        dh: upstream gradient dL/dh.
        cache: what gru_cell_forward returned.

    Returns:
        dict with keys "x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh".

    Numerics:
        Keep the dtype. Note dgi and dgh differ only in the n block: the reset gate
        multiplies the hidden side only.

    Reference:
        torch autograd through nn.GRUCell.
    """
    raise NotImplementedError
