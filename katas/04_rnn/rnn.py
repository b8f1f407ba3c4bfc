"""A tanh RNN in NumPy: the cell, unrolling over a sequence, backpropagation through time.

Implement with NumPy. The cell is torch's nn.RNNCell; unrolling applies the SAME cell
(same weights) at every step, so in the backward pass each weight's gradient is a sum
over time steps, and the gradient reaching h_t is what its own output receives plus
what step t+1 sends back through W_hh.

    h, cache = rnn_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    hs, cache = rnn_forward(xs, h0, params)      # params: one dict per layer
    grads = rnn_backward(dhs, cache, truncate=None)

Layouts follow nn.RNN's default (seq-first): xs (T, N, D), h0 (L, N, H), hs (T, N, H).

Run: pytest katas/04_rnn/test_rnn.py
"""

import numpy as np


def rnn_cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, object]:
    """One step of a tanh RNN; returns the new hidden state and a cache.

    Math:
        h = tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)

    Shapes:
        x: (N, D); h_prev: (N, H); W_ih: (H, D); W_hh: (H, H); b_ih, b_hh: (H,);
        h: (N, H).

    Args:
        x: the inputs at this step, any memory layout.
        h_prev: the previous hidden state.
        W_ih, W_hh, b_ih, b_hh: the weights, laid out as nn.RNNCell's weight_ih,
            weight_hh, bias_ih, bias_hh (rows are hidden units).

    Returns:
        h: x's dtype.
        cache: whatever rnn_cell_backward needs (any object you like).

    Numerics:
        Keep float32 in, float32 out. Do not modify the inputs.

    Reference:
        torch.nn.RNNCell(D, H, nonlinearity="tanh").
    """
    raise NotImplementedError


def rnn_cell_backward(dh: np.ndarray, cache: object) -> dict[str, np.ndarray]:
    """Gradients of one RNN step w.r.t. its six inputs, given dL/dh.

    Math:
        dz = dh * (1 - h**2)            (tanh'(z) = 1 - tanh(z)**2)
        dx = dz @ W_ih;  dh_prev = dz @ W_hh
        dW_ih = dz.T @ x;  dW_hh = dz.T @ h_prev;  db_ih = db_hh = dz summed over the batch

    Shapes:
        dh: (N, H); each gradient has the shape of what it is the gradient of.

    Args:
        dh: dL/dh for this step's output.
        cache: what rnn_cell_forward returned.

    Returns:
        {"x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"}: the gradients.

    Numerics:
        Use the cached h for tanh' (no need to recompute z).

    Reference:
        autograd through torch.nn.RNNCell.
    """
    raise NotImplementedError


def rnn_forward(
    xs: np.ndarray, h0: np.ndarray, params: list[dict[str, np.ndarray]]
) -> tuple[np.ndarray, object]:
    """Run a stack of L tanh RNN layers over a sequence; returns the top layer's outputs.

    Math:
        layer 0 reads xs; layer l reads the hidden states of layer l-1:
        h^l_t = cell(in^l_t, h^l_{t-1}, params[l]),  h^l_{-1} = h0[l],  in^0 = xs,
        in^l = (h^{l-1}_0, ..., h^{l-1}_{T-1}).

    Shapes:
        xs: (T, N, D); h0: (L, N, H); params[0]["W_ih"]: (H, D), params[l > 0]["W_ih"]:
        (H, H), every W_hh (H, H), biases (H,); hs: (T, N, H).

    Args:
        xs: the sequence, seq-first as nn.RNN's default (batch_first=False).
        h0: the initial hidden state of every layer.
        params: one dict per layer with keys "W_ih", "W_hh", "b_ih", "b_hh".

    Returns:
        hs: the LAST layer's hidden state at every step, xs's dtype (nn.RNN's output).
        cache: whatever rnn_backward needs.

    Numerics:
        Keep float32 in, float32 out.

    Reference:
        torch.nn.RNN(D, H, num_layers=L) with weight_ih_l{l} = params[l]["W_ih"], etc.
    """
    raise NotImplementedError


def rnn_backward(dhs: np.ndarray, cache: object, truncate: int | None = None) -> dict[str, object]:
    """Backpropagation through time: gradients of L = sum(hs * dhs) for rnn_forward.

    Math:
        go from t = T-1 down to 0 in each layer (top layer first):
        dh_t = dhs_t + (what step t+1 sent back through W_hh), then the cell's backward;
        weight gradients are SUMMED over t; layer l's dx_t is layer l-1's dhs_t.
        truncate=k (truncated BPTT): the sequence is cut into chunks [0, k), [k, 2k), ...;
        no gradient crosses a chunk boundary through the hidden state, i.e. for every
        t > 0 with t % k == 0 the gradient step t sends to h_{t-1} is dropped (as if
        h_{t-1} were detached before step t). The input path (dx) is never cut; h0
        receives gradient from the first chunk only. truncate=None, or k >= T, is full BPTT.

    Shapes:
        dhs: (T, N, H), like hs. grads["xs"]: (T, N, D); grads["h0"]: (L, N, H);
        grads["params"][l][key]: like params[l][key].

    Args:
        dhs: dL/dhs for the top layer's outputs.
        cache: what rnn_forward returned.
        truncate: None for full BPTT, or k >= 1 (see Math).

    Returns:
        {"xs": ..., "h0": ..., "params": [{"W_ih", "W_hh", "b_ih", "b_hh"} per layer]}.

    Numerics:
        Keep float32 in, float32 out.

    Reference:
        autograd through nn.RNN; truncation as nn.RNNCell with h = h.detach() before
        every step t > 0 with t % k == 0.
    """
    raise NotImplementedError
