"""The GRU cell in torch's formulation, forward and backward, in NumPy.

r multiplies the hidden side's n pre-activation (W_hn h + b_hn), as torch and cuDNN do,
not h before the matmul (Cho et al. 2014). The backward reuses the forward's gates.
"""

import numpy as np


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, as nn.GRUCell computes it; returns the new hidden state and a cache."""
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r = _sigmoid(gi[:, :H] + gh[:, :H])
    z = _sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    gh_n = gh[:, 2 * H :]
    n = np.tanh(gi[:, 2 * H :] + r * gh_n)
    h = (1 - z) * n + z * h_prev
    return h, (x, h_prev, W_ih, W_hh, r, z, n, gh_n)


def gru_cell_backward(dh, cache):
    """Gradients of the loss w.r.t. every input of gru_cell_forward, given dL/dh."""
    x, h_prev, W_ih, W_hh, r, z, n, gh_n = cache
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1 - n**2)
    dr = dan * gh_n
    dar = dr * r * (1 - r)
    daz = dz * z * (1 - z)
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)
    return {
        "x": dgi @ W_ih,
        "h_prev": dh * z + dgh @ W_hh,
        "W_ih": dgi.T @ x,
        "W_hh": dgh.T @ h_prev,
        "b_ih": dgi.sum(axis=0),
        "b_hh": dgh.sum(axis=0),
    }
