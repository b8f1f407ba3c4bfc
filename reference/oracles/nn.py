"""Oracles for minigrad's nn kata: torch modules with a minigrad layer's weights, run in
float64, and what the common LSTM mistakes compute (for the failure messages)."""

from __future__ import annotations

import numpy as np
import torch

from reference.oracles import numpy as to_numpy
from reference.oracles import tensor

LSTM_PARAMS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


class TorchNet(torch.nn.Module):
    """The model the nn tests build in minigrad with a plain list and dict, in torch."""

    def __init__(self, p: float):
        super().__init__()
        nn = torch.nn
        self.stem = nn.Linear(4, 5)
        self.scale = nn.Parameter(torch.ones(5))
        seq = nn.Sequential(nn.Linear(5, 5), nn.Tanh(), nn.Dropout(p))
        self.layers = nn.ModuleList([nn.Linear(5, 5), seq])
        self.heads = nn.ModuleDict({"a": nn.Linear(5, 3), "b": nn.Linear(5, 3, bias=False)})
        self.drop = nn.Dropout(p)

    def forward(self, x):
        h = self.stem(x) * self.scale
        for layer in self.layers:
            h = layer(h).tanh()
        h = self.drop(h)
        return self.heads["a"](h) + self.heads["b"](h)


def copy_into(theirs: torch.nn.Module, params: dict[str, np.ndarray]) -> torch.nn.Module:
    """theirs in float64, with each named parameter set to params[name]."""
    theirs = theirs.double()
    with torch.no_grad():
        for name, value in params.items():
            theirs.get_parameter(name).copy_(tensor(value))
    return theirs


def run(theirs: torch.nn.Module, inputs: list, seeds: list) -> dict[str, np.ndarray]:
    """Outputs and gradients of theirs(*inputs) for the loss sum(output_k * seeds[k]).

    inputs: ndarrays (float ones get gradients) or None. Returns "out0", "out1", ...
    (the outputs, flattened from nested tuples), "in0", ... (input grads) and every
    parameter's grad by name.
    """
    ts = [
        None
        if x is None
        else tuple(tensor(v, grad=True) for v in x)
        if isinstance(x, tuple)
        else tensor(x, grad=np.asarray(x).dtype.kind == "f")
        for x in inputs
    ]
    outs = _flatten(theirs(*ts))
    loss = sum((o * tensor(g)).sum() for o, g in zip(outs, seeds))
    theirs.zero_grad()
    loss.backward()
    got = {f"out{k}": to_numpy(o) for k, o in enumerate(outs)}
    flat_in = _flatten(tuple(t for t in ts if t is not None))
    got.update({f"in{k}": to_numpy(t.grad) for k, t in enumerate(flat_in) if t.grad is not None})
    got.update({name: to_numpy(p.grad) for name, p in theirs.named_parameters()})
    return got


def _flatten(value) -> list:
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _flatten(v)]
    return [value]


def lstm_gates_swapped(params: dict, x, hx=None) -> np.ndarray:
    """The output when the gate blocks are read as i, f, o, g instead of torch's i, f, g, o:
    the same as torch's LSTM with the g and o row blocks of every weight swapped."""
    H = params["weight_hh_l0"].shape[1]
    order = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]
    swapped = {name: value[order] for name, value in params.items()}
    return lstm_by_hand(swapped, x, hx)


def lstm_by_hand(params: dict, x, hx=None, slip: str | None = None) -> np.ndarray:
    """A batch-first LSTM's output (N, T, H) written out step by step in torch float64.

    slip="no input gate": c = f * c + g (the input gate i forgotten).
    """
    W_ih, W_hh, b_ih, b_hh = (tensor(params[k]) for k in LSTM_PARAMS)
    xs = tensor(x)
    N, T, _ = xs.shape
    H = W_hh.shape[1]
    h, c = (torch.zeros(N, H, dtype=torch.float64) for _ in range(2))
    if hx is not None:
        h, c = tensor(hx[0]).reshape(N, H), tensor(hx[1]).reshape(N, H)
    outs = []
    for t in range(T):
        a = xs[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        i, f, g, o = a.chunk(4, dim=1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + (g if slip == "no input gate" else i * g)
        h = o * c.tanh()
        outs.append(h)
    return to_numpy(torch.stack(outs, dim=1))
