"""Oracles for the rnn kata: nn.RNN / nn.RNNCell with copied weights, float64, autograd."""

from __future__ import annotations

import torch
from torch import nn

from reference.oracles import numpy, tensor

WEIGHTS = ("W_ih", "W_hh", "b_ih", "b_hh")
TORCH_NAMES = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}


def cell(x, h_prev, p, dh=None, transpose_hh=False):
    """nn.RNNCell: (h, grads or None). transpose_hh: the W_hh-transposed slip."""
    D, H = x.shape[1], h_prev.shape[1]
    m = nn.RNNCell(D, H, nonlinearity="tanh").double()
    with torch.no_grad():
        for k in WEIGHTS:
            v = tensor(p[k])
            getattr(m, TORCH_NAMES[k]).copy_(v.T if (k == "W_hh" and transpose_hh) else v)
    X, Hp = tensor(x, grad=True), tensor(h_prev, grad=True)
    h = m(X, Hp)
    if dh is None:
        return numpy(h), None
    (h * tensor(dh)).sum().backward()
    grads = {"x": X.grad, "h_prev": Hp.grad}
    grads.update({k: getattr(m, TORCH_NAMES[k]).grad for k in WEIGHTS})
    return numpy(h), {k: numpy(v) for k, v in grads.items()}


def _grads(X, H0, mods, L):
    def grad(li, k):
        if isinstance(mods, list):  # one RNNCell per layer
            return numpy(getattr(mods[li], TORCH_NAMES[k]).grad)
        return numpy(getattr(mods, f"{TORCH_NAMES[k]}_l{li}").grad)

    return {"xs": numpy(X.grad), "h0": numpy(H0.grad),
            "params": [{k: grad(li, k) for k in WEIGHTS} for li in range(L)]}  # fmt: skip


def rnn(xs, h0, params, dhs=None, truncate=None, layer_input="previous", cut_shift=0):
    """(hs, grads or None) of a stack of tanh RNN layers.

    Full BPTT runs nn.RNN(num_layers=L). Truncated BPTT runs one nn.RNNCell per layer and
    detaches h_{t-1} before step t whenever t > 0 and (t + cut_shift) % truncate == 0.
    layer_input="xs" feeds every layer the sequence itself (a slip; needs D == H).
    """
    T, N, D = xs.shape
    L, H = len(params), h0.shape[2]
    X, H0 = tensor(xs, grad=True), tensor(h0, grad=True)
    if truncate is None and layer_input == "previous":
        m = nn.RNN(D, H, num_layers=L, nonlinearity="tanh").double()
        with torch.no_grad():
            for li, p in enumerate(params):
                for k in WEIGHTS:
                    getattr(m, f"{TORCH_NAMES[k]}_l{li}").copy_(tensor(p[k]))
        hs, _ = m(X, H0)
        mods = m
    else:
        mods = []
        inp = X
        for li, p in enumerate(params):
            c = nn.RNNCell(D if li == 0 else H, H, nonlinearity="tanh").double()
            with torch.no_grad():
                for k in WEIGHTS:
                    getattr(c, TORCH_NAMES[k]).copy_(tensor(p[k]))
            mods.append(c)
            h, outs = H0[li], []
            for t in range(T):
                if truncate is not None and t > 0 and (t + cut_shift) % truncate == 0:
                    h = h.detach()
                h = c(X[t] if layer_input == "xs" else inp[t], h)
                outs.append(h)
            inp = torch.stack(outs)
        hs = inp
    if dhs is None:
        return numpy(hs), None
    (hs * tensor(dhs)).sum().backward()
    return numpy(hs), _grads(X, H0, mods, L)
