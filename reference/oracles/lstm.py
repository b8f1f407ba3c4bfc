"""Oracle for 04_rnn/lstm: nn.LSTMCell / nn.LSTM and autograd in float64, and known slips."""

from __future__ import annotations

import numpy as np
import torch

from reference.oracles import numpy, tensor

NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")


def _load(module, W_ih, W_hh, b_ih, b_hh, suffix=""):
    with torch.no_grad():
        for name, value in zip(NAMES, (W_ih, W_hh, b_ih, b_hh)):
            attr = {"W": "weight", "b": "bias"}[name[0]] + "_" + name[2:] + suffix
            getattr(module, attr).copy_(torch.as_tensor(np.asarray(value, dtype=np.float64)))


def cell(x, h, c, W_ih, W_hh, b_ih, b_hh, dh=None, dc=None) -> dict:
    """nn.LSTMCell's h and c (and, given dh and dc, every input's gradient)."""
    D, H = x.shape[1], h.shape[1]
    m = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    _load(m, W_ih, W_hh, b_ih, b_hh)
    tx, th, tc = tensor(x, grad=True), tensor(h, grad=True), tensor(c, grad=True)
    h1, c1 = m(tx, (th, tc))
    out = {"h": numpy(h1), "c": numpy(c1)}
    if dh is not None:
        params = (m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)
        g = torch.autograd.grad((h1, c1), (tx, th, tc, *params), (tensor(dh), tensor(dc)))
        out.update(zip(("x", "h_prev", "c_prev", *NAMES), map(numpy, g)))
    return out


def sequence(xs, h0, c0, params, dhs=None, dh_T=None, dc_T=None) -> dict:
    """nn.LSTM's hs, h_T, c_T (and, given dhs, the gradients of xs, h0, c0 and the weights)."""
    T, N, D = xs.shape
    H = h0.shape[1]
    m = torch.nn.LSTM(D, H, dtype=torch.float64)
    _load(m, *(params[k] for k in NAMES), suffix="_l0")
    txs, th, tc = tensor(xs, grad=True), tensor(h0, grad=True), tensor(c0, grad=True)
    hs, (hT, cT) = m(txs, (th[None], tc[None]))
    out = {"hs": numpy(hs), "h_T": numpy(hT[0]), "c_T": numpy(cT[0])}
    if dhs is not None:
        loss = (hs * tensor(dhs)).sum()
        if dh_T is not None:
            loss = loss + (hT[0] * tensor(dh_T)).sum()
        if dc_T is not None:
            loss = loss + (cT[0] * tensor(dc_T)).sum()
        ws = (m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0)
        g = torch.autograd.grad(loss, (txs, th, tc, *ws))
        out.update(zip(("xs", "h0", "c0", *NAMES), map(numpy, g)))
    return out


# ----------------------------------------------------------------------------- known slips
# A hand-written cell in torch with one slip each; autograd gives the slip's gradients.


def _sig(z):
    return torch.sigmoid(z)


def slip_cell(slip, x, h, c, W_ih, W_hh, b_ih, b_hh):
    """(h, c) of a cell with a named slip; torch tensors in, torch tensors out."""
    H = h.shape[1]
    bias = b_ih if slip == "b_hh ignored" else b_ih + b_hh
    a = x @ W_ih.T + h @ W_hh.T + bias
    ai, af, ag, ao = (a[:, k * H : (k + 1) * H] for k in range(4))
    if slip == "gates in the order i, f, o, g":
        ag, ao = ao, ag
    if slip == "gates in the order i, f, g, o read as f, i, g, o":
        ai, af = af, ai
    i, f, o = _sig(ai), _sig(af), _sig(ao)
    if slip == "tanh for the output gate":
        o = torch.tanh(ao)
    g = torch.tanh(ag)
    c1 = f * c + i * g
    h1 = o * c1 if slip == "h = o * c, no tanh" else o * torch.tanh(c1)
    return h1, c1


CELL_SLIPS = (
    "gates in the order i, f, o, g",
    "gates in the order i, f, g, o read as f, i, g, o",
    "tanh for the output gate",
    "h = o * c, no tanh",
    "b_hh ignored",
)


def cell_slips(x, h, c, W_ih, W_hh, b_ih, b_hh, dh=None, dc=None) -> dict[str, dict]:
    """For each name in h, c (and the gradients): {slip label: that slip's value}, lazily."""

    def run(slip):
        ts = [tensor(a, grad=True) for a in (x, h, c, W_ih, W_hh, b_ih, b_hh)]
        h1, c1 = slip_cell(slip, *ts)
        out = {"h": numpy(h1), "c": numpy(c1)}
        if dh is not None:
            g = torch.autograd.grad((h1, c1), ts, (tensor(dh), tensor(dc)))
            out.update(zip(("x", "h_prev", "c_prev", *NAMES), map(numpy, g)))
        return out

    cache: dict[str, dict] = {}

    def value(slip, key):
        def get():
            if slip not in cache:
                cache[slip] = run(slip)
            return cache[slip][key]

        return get

    keys = ("h", "c") + (() if dh is None else ("x", "h_prev", "c_prev", *NAMES))
    return {k: {s: value(s, k) for s in CELL_SLIPS} for k in keys}


BACKWARD_SLIPS = (
    "dc_prev = dc: the forget gate left out of the path from c to c_prev",
    "dh reaches c without tanh's derivative: dc += dh * o instead of dh * o * (1 - tanh(c)**2)",
    "the incoming dc dropped: dc = dh * o * (1 - tanh(c)**2) only",
)


def _backward(slip, x, h, c, W_ih, W_hh, b_ih, b_hh, dh, dc):
    x, h, c, W_ih, W_hh, b_ih, b_hh, dh, dc = (
        np.asarray(a, dtype=np.float64) for a in (x, h, c, W_ih, W_hh, b_ih, b_hh, dh, dc)
    )
    H = h.shape[1]
    a = x @ W_ih.T + h @ W_hh.T + b_ih + b_hh
    s = 1 / (1 + np.exp(-a))
    i, f, g, o = s[:, :H], s[:, H : 2 * H], np.tanh(a[:, 2 * H : 3 * H]), s[:, 3 * H :]
    tc = np.tanh(f * c + i * g)
    dtc = dh * o if slip == BACKWARD_SLIPS[1] else dh * o * (1 - tc**2)
    dct = dtc if slip == BACKWARD_SLIPS[2] else dc + dtc
    da = np.concatenate(
        [dct * g * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - g**2), dh * tc * o * (1 - o)],
        axis=1,
    )
    return {
        "x": da @ W_ih, "h_prev": da @ W_hh,
        "c_prev": dct if slip == BACKWARD_SLIPS[0] else dct * f,
        "W_ih": da.T @ x, "W_hh": da.T @ h, "b_ih": da.sum(0), "b_hh": da.sum(0),
    }  # fmt: skip


def backward_slips(x, h, c, W_ih, W_hh, b_ih, b_hh, dh, dc) -> dict[str, dict]:
    """{gradient name: {slip label: value}} for the backward slips above (NumPy, float64)."""
    runs = {s: _backward(s, x, h, c, W_ih, W_hh, b_ih, b_hh, dh, dc) for s in BACKWARD_SLIPS}
    return {k: {s: runs[s][k] for s in BACKWARD_SLIPS} for k in ("x", "h_prev", "c_prev", *NAMES)}
