"""The LSTM cell and an LSTM over a sequence, forward and backward, in torch's layout.

Implement with NumPy. The four gates are stacked in one weight matrix, in torch's order:
input, forget, cell (g), output. Run: pytest katas/04_rnn/test_lstm.py
"""

import numpy as np


def lstm_cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, object]:
    """One LSTM step: the new hidden state h and cell state c, and a cache for backward.

    Math:
        a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh      (N, 4H), split in four:
        i = sigmoid(a[:, 0:H])      input gate
        f = sigmoid(a[:, H:2H])     forget gate
        g = tanh(a[:, 2H:3H])       candidate cell
        o = sigmoid(a[:, 3H:4H])    output gate
        c = f * c_prev + i * g
        h = o * tanh(c)

    Shapes:
        x: (N, D); h_prev, c_prev: (N, H); W_ih: (4H, D); W_hh: (4H, H);
        b_ih, b_hh: (4H,); h, c: (N, H).

    Args:
        x: this step's input batch.
        h_prev, c_prev: the previous hidden and cell states.
        W_ih, W_hh, b_ih, b_hh: the weights, laid out as nn.LSTMCell's weight_ih,
            weight_hh, bias_ih, bias_hh.

    Returns:
        (h, c, cache): h and c in x's dtype; cache is whatever lstm_cell_backward needs.

    Numerics:
        A sigmoid written as 1 / (1 + exp(-z)) overflows (harmlessly) for z < -709;
        exp(-|z|) never does.

    Reference:
        torch.nn.LSTMCell
    """
    raise NotImplementedError


def lstm_cell_backward(dh: np.ndarray, dc: np.ndarray, cache: object) -> dict[str, np.ndarray]:
    """Gradients of one LSTM step, given the loss's gradients with respect to h and c.

    Math:
        dc_total = dc + dh * o * (1 - tanh(c)**2)      (c reaches the loss two ways)
        do = dh * tanh(c);  di = dc_total * g;  dg = dc_total * i;  df = dc_total * c_prev
        da = [di * i(1-i), df * f(1-f), dg * (1-g**2), do * o(1-o)]   (N, 4H)
        dx = da @ W_ih;  dh_prev = da @ W_hh;  dc_prev = dc_total * f
        dW_ih = da.T @ x;  dW_hh = da.T @ h_prev;  db_ih = db_hh = sum of da over N

    Shapes:
        dh, dc: (N, H); the gradients have the shapes of the inputs they belong to.

    Args:
        dh: dL/dh for this step's output h.
        dc: dL/dc from outside the h path (the next step's dc_prev, or zeros).
        cache: what lstm_cell_forward returned.

    Returns:
        A dict with keys "x", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh".

    Numerics:
        Keep the dtype: float32 in, float32 out.

    Reference:
        torch.autograd.grad through torch.nn.LSTMCell
    """
    raise NotImplementedError


def lstm_forward(
    xs: np.ndarray, h0: np.ndarray, c0: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], object]:
    """Run the LSTM cell over a sequence, carrying h and c from step to step.

    Math:
        (h_t, c_t) = cell(x_t, h_{t-1}, c_{t-1})   for t = 0 .. T-1, from (h0, c0)

    Shapes:
        xs: (T, N, D); h0, c0: (N, H); hs: (T, N, H); h_T, c_T: (N, H).

    Args:
        xs: the input sequence, time first (nn.LSTM's default layout).
        h0, c0: the initial states.
        params: {"W_ih", "W_hh", "b_ih", "b_hh"}, shared by every step.

    Returns:
        (hs, (h_T, c_T), cache): every step's h, the last states, and a cache for backward.

    Numerics:
        Nothing beyond the cell's.

    Reference:
        torch.nn.LSTM (one layer, batch_first=False)
    """
    raise NotImplementedError


def lstm_backward(
    dhs: np.ndarray,
    cache: object,
    dh_T: np.ndarray | None = None,
    dc_T: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Backpropagation through time: the gradients of the whole sequence.

    Math:
        walking t = T-1 down to 0, with dh_next = dh_T and dc_next = dc_T (zeros if None):
            step = cell_backward(dhs[t] + dh_next, dc_next)
            dh_next, dc_next = step dh_prev, step dc_prev
        the weight gradients are the sums of every step's.

    Shapes:
        dhs: (T, N, H); dh_T, dc_T: (N, H); grads as their inputs.

    Args:
        dhs: dL/dh_t for every step's output (the loss reads hs).
        cache: what lstm_forward returned.
        dh_T, dc_T: extra gradients on the final states (the loss reads h_T, c_T).

    Returns:
        A dict with keys "xs", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh".

    Numerics:
        Keep the dtype: float32 in, float32 out.

    Reference:
        torch.autograd.grad through torch.nn.LSTM
    """
    raise NotImplementedError
