"""Bidirectional and stacked LSTM layers, laid out exactly as nn.LSTM lays them out.

Each (layer, direction) is one LSTM with its own weights and initial state; the backward
one reads the sequence reversed and its outputs are put back in time order. Layer l+1
reads layer l's (T, N, 2H) output. h_n / c_n are layer-major: [l0 fwd, l0 bwd, l1 fwd, ...].
"""

import numpy as np


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, as nn.LSTMCell computes it; returns the new (h, c)."""
    H = h.shape[1]
    g = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f = _sigmoid(g[:, :H]), _sigmoid(g[:, H : 2 * H])
    gg, o = np.tanh(g[:, 2 * H : 3 * H]), _sigmoid(g[:, 3 * H :])
    c = f * c + i * gg
    return o * np.tanh(c), c


def _run(inp, h, c, weights, reverse):
    """One direction over the sequence: outputs in time order and the final (h, c)."""
    T = inp.shape[0]
    out = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        h, c = lstm_cell_forward(inp[t], h, c, *weights)
        out[t] = h
    return np.stack(out), h, c


def bidirectional_lstm(xs, h0, c0, params):
    """A stacked bidirectional LSTM over a whole sequence, as nn.LSTM(bidirectional=True)."""
    inp, h_n, c_n = xs, [], []
    for layer in range(len(params) // 2):
        outs = []
        for d in (0, 1):
            k = 2 * layer + d
            out, h, c = _run(inp, h0[k], c0[k], params[k], reverse=d == 1)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        inp = np.concatenate(outs, axis=-1)
    return inp, (np.stack(h_n), np.stack(c_n))
