"""GRU cell oracle: nn.GRUCell with copied weights + autograd, and the known variants
(learner mistakes) computed the same way, all in float64."""

from __future__ import annotations

import torch

from reference.oracles import numpy, tensor

NAMES = ("x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh")


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh, dh=None):
    """(h', grads or None) from nn.GRUCell with the given weights."""
    D, H = W_ih.shape[1], W_hh.shape[1]
    cell = torch.nn.GRUCell(D, H).double()
    ts = [tensor(a, grad=True) for a in (x, h)]
    with torch.no_grad():
        for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                        (W_ih, W_hh, b_ih, b_hh)):  # fmt: skip
            p.copy_(tensor(v))
    out = cell(*ts)
    if dh is None:
        return numpy(out), None
    out.backward(tensor(dh))
    params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    grads = [t.grad for t in ts] + [p.grad for p in params]
    return numpy(out), {k: numpy(g) for k, g in zip(NAMES, grads)}


def variant(kind, x, h, W_ih, W_hh, b_ih, b_hh, dh=None):
    """A known mistake's (h', grads): kind is 'cho' (r applied to h before W_hn),
    'z-swapped' (h' = z*n + (1-z)*h), 'zrn' (gates read in the order z, r, n) or
    'b_hn-outside' (r * (W_hn h) + b_hn)."""
    ts = [tensor(a, grad=True) for a in (x, h, W_ih, W_hh, b_ih, b_hh)]
    x_, h_, Wi, Wh, bi, bh = ts
    H = h_.shape[1]
    gi = x_ @ Wi.T + bi
    gh = h_ @ Wh.T + bh
    a, b = (1, 0) if kind == "zrn" else (0, 1)
    sl = [slice(k * H, (k + 1) * H) for k in range(3)]
    r = torch.sigmoid(gi[:, sl[a]] + gh[:, sl[a]])
    z = torch.sigmoid(gi[:, sl[b]] + gh[:, sl[b]])
    if kind == "cho":
        n = torch.tanh(gi[:, sl[2]] + (r * h_) @ Wh[sl[2]].T + bh[sl[2]])
    elif kind == "b_hn-outside":
        n = torch.tanh(gi[:, sl[2]] + r * (h_ @ Wh[sl[2]].T) + bh[sl[2]])
    else:
        n = torch.tanh(gi[:, sl[2]] + r * gh[:, sl[2]])
    out = z * n + (1 - z) * h_ if kind == "z-swapped" else (1 - z) * n + z * h_
    if dh is None:
        return numpy(out), None
    out.backward(tensor(dh))
    return numpy(out), {k: numpy(t.grad) for k, t in zip(NAMES, ts)}


MISTAKES = {
    "cho": "r applied to h before the matmul (Cho et al. 2014), not to W_hn h + b_hn as torch",
    "z-swapped": "z and (1 - z) swapped: h' = z * n + (1 - z) * h",
    "zrn": "gates read in the order (z, r, n); torch stacks them (r, z, n)",
    "b_hn-outside": "b_hn added outside the reset product: r * (W_hn h) + b_hn",
}
