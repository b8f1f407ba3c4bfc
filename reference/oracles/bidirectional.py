"""Bidirectional LSTM oracle: nn.LSTM(bidirectional=True) with copied weights, float64,
and the known layout mistakes computed with nn.LSTMCell, for the failure messages."""

from __future__ import annotations

import numpy as np
import torch

from reference.oracles import numpy, tensor

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_params(rng, D, H, num_layers, dtype=np.float64):
    """Random per-(layer, direction) (W_ih, W_hh, b_ih, b_hh), torch's U(-1/sqrt(H), ..)."""
    k = 1 / np.sqrt(H)
    params = []
    for layer in range(num_layers):
        width = D if layer == 0 else 2 * H
        for _ in range(2):
            shapes = ((4 * H, width), (4 * H, H), (4 * H,), (4 * H,))
            params.append(tuple(rng.uniform(-k, k, s).astype(dtype) for s in shapes))
    return params


def params_of(lstm: torch.nn.LSTM):
    """Copy an nn.LSTM's parameters out in the kata's layout (torch's naming order)."""
    params = []
    for layer in range(lstm.num_layers):
        for suffix in ("", "_reverse"):
            params.append(
                tuple(
                    numpy(getattr(lstm, f"{n}_l{layer}{suffix}")).astype(np.float64)
                    for n in PARAM_NAMES
                )
            )
    return params


def lstm_from(params, D) -> torch.nn.LSTM:
    """An nn.LSTM(bidirectional=True) in float64 holding the given parameters."""
    H = params[0][1].shape[1]
    lstm = torch.nn.LSTM(D, H, num_layers=len(params) // 2, bidirectional=True).double()
    with torch.no_grad():
        for k, weights in enumerate(params):
            suffix = f"_l{k // 2}" + ("_reverse" if k % 2 else "")
            for n, v in zip(PARAM_NAMES, weights):
                getattr(lstm, n + suffix).copy_(tensor(v))
    return lstm


def bidirectional_lstm(xs, h0, c0, params):
    """torch's (output, (h_n, c_n)) as float64 arrays."""
    lstm = lstm_from(params, xs.shape[-1])
    with torch.no_grad():
        out, (h_n, c_n) = lstm(tensor(xs), (tensor(h0), tensor(c0)))
    return numpy(out), (numpy(h_n), numpy(c_n))


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """nn.LSTMCell's (h', c') as float64 arrays."""
    cell = torch.nn.LSTMCell(W_ih.shape[1], W_hh.shape[1]).double()
    with torch.no_grad():
        for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                        (W_ih, W_hh, b_ih, b_hh)):  # fmt: skip
            p.copy_(tensor(v))
        h, c = cell(tensor(x), (tensor(h), tensor(c)))
    return numpy(h), numpy(c)


def variant(kind, xs, h0, c0, params):
    """(output, (h_n, c_n)) of a known mistake. kind: 'not-rereversed', 'direction-major',
    'chained-state', 'backward-first'. (Feeding layer 1 only the forward half cannot run:
    its W_ih is 2H wide, so NumPy's matmul already refuses it.)"""
    inp, hs, cs = np.asarray(xs, dtype=np.float64), [], []
    L = len(params) // 2
    for layer in range(L):
        outs, state = [], None
        for d in (0, 1):
            k = 2 * layer + d
            h, c = (h0[k], c0[k]) if kind != "chained-state" or d == 0 else state
            steps = range(inp.shape[0] - 1, -1, -1) if d else range(inp.shape[0])
            out = []
            for t in steps:
                h, c = lstm_cell(inp[t], h, c, *params[k])
                out.append(h)
            if not (d == 1 and kind == "not-rereversed"):
                out = out[::-1] if d else out
            outs.append(np.stack(out))
            hs.append(h)
            cs.append(c)
            state = (h, c)
        inp = np.concatenate(outs[::-1] if kind == "backward-first" else outs, axis=-1)
    h_n, c_n = np.stack(hs), np.stack(cs)
    if kind == "direction-major":
        order = [2 * layer + d for d in (0, 1) for layer in range(L)]
        h_n, c_n = h_n[order], c_n[order]
    return inp, (h_n, c_n)


MISTAKES = {
    "not-rereversed": "the backward direction's outputs left in reversed time order",
    "direction-major": "h_n/c_n ordered direction-major (all forward layers, then all "
    "backward); torch is layer-major: l0 fwd, l0 bwd, l1 fwd, ...",
    "chained-state": "the backward direction started from the forward one's final state "
    "instead of its own h0/c0",
    "backward-first": "the halves concatenated backward-first; torch puts forward first",
}
