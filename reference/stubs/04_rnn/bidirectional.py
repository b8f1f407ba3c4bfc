"""Bidirectional and stacked LSTM layers, laid out exactly as nn.LSTM lays them out, in NumPy.

Implement with NumPy. A bidirectional layer runs two LSTMs over the sequence: one from
t = 0 to T-1, one from T-1 down to 0, each with its own weights and initial state. Its
output at step t is both directions' hidden states at t, concatenated (forward first).
Stacking feeds that 2H-wide output to the next layer as its input sequence.

    h, c = lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh)       # one step
    output, (h_n, c_n) = bidirectional_lstm(xs, h0, c0, params)

params[2 * layer + direction] = (W_ih, W_hh, b_ih, b_hh), direction 0 forward and 1
backward: torch's order weight_ih_l0, ..., weight_ih_l0_reverse, ..., weight_ih_l1, ...

Run: pytest katas/04_rnn/test_bidirectional.py
"""

import numpy as np


def lstm_cell_forward(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step, as nn.LSTMCell computes it; returns the new (h, c).

    Math:
        g = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, split into four H-wide blocks i, f, g, o
        i = sigmoid(i); f = sigmoid(f); g = tanh(g); o = sigmoid(o)
        c' = f * c + i * g;  h' = o * tanh(c')

    Shapes:
        x: (N, D); h, c: (N, H); W_ih: (4H, D); W_hh: (4H, H); b_ih, b_hh: (4H,).

    Args:
        x: the input at this step.
        h, c: the previous hidden and cell states.
        W_ih, W_hh, b_ih, b_hh: weights stacked in torch's gate order (i, f, g, o).

    Returns:
        (h', c'), each (N, H), x's dtype.

    Numerics:
        Keep the dtype. Write sigmoid so it does not overflow (0.5 * (1 + tanh(a / 2))).

    Reference:
        torch.nn.LSTMCell; Hochreiter & Schmidhuber 1997 (with the forget gate of
        Gers et al. 2000).
    """
    raise NotImplementedError


def bidirectional_lstm(
    xs: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    params: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """A stacked bidirectional LSTM over a whole sequence, as nn.LSTM(bidirectional=True).

    Math:
        L = len(params) // 2 layers; inp = xs for layer 0.
        for layer l, direction d (k = 2 * l + d):
            forward  (d = 0): h_t = cell(inp[t], h_{t-1}) for t = 0 .. T-1, from (h0[k], c0[k])
            backward (d = 1): h_t = cell(inp[t], h_{t+1}) for t = T-1 .. 0, from (h0[k], c0[k])
            h_n[k], c_n[k] = the state after that direction's LAST step
                             (t = T-1 forward, t = 0 backward)
        out_l[t] = concat(forward h_t, backward h_t)  (2H wide); inp = out_l for layer l+1.
        output = out_{L-1}.

    Shapes:
        xs: (T, N, D); h0, c0: (2L, N, H); params[k]: W_ih (4H, D) for layer 0 and
        (4H, 2H) above, W_hh (4H, H), b_ih, b_hh (4H,).
        output: (T, N, 2H); h_n, c_n: (2L, N, H).

    Args:
        xs: the input sequence, time first (torch's batch_first=False), any layout.
        h0, c0: initial states, one per (layer, direction), layer-major.
        params: one (W_ih, W_hh, b_ih, b_hh) per (layer, direction), in that order.

    Returns:
        (output, (h_n, c_n)), all xs's dtype.

    Numerics:
        Keep the dtype. Output index t of the backward direction is the state after it
        READ xs[t]: put it back in time order, do not leave it reversed.

    Reference:
        torch.nn.LSTM(D, H, num_layers=L, bidirectional=True); Schuster & Paliwal 1997,
        "Bidirectional Recurrent Neural Networks"; Graves et al. 2013 (deep bidirectional).
    """
    raise NotImplementedError
