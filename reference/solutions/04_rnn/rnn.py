"""A tanh RNN in NumPy: the cell, unrolling over a sequence, and backpropagation through time.

The cell is nn.RNNCell: h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh). Unrolling calls
it once per step with the same weights, so in the backward pass every weight gradient is a
SUM over time, and the gradient reaching h_t is what its output receives plus what h_{t+1}
sends back through W_hh. Truncated BPTT cuts that second path at chunk boundaries.
References: Elman 1990; Werner 1990 (BPTT); Williams & Peng 1990 (truncated BPTT);
torch.nn.RNN docs.
"""

import numpy as np

WEIGHTS = ("W_ih", "W_hh", "b_ih", "b_hh")


def rnn_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step of a tanh RNN; returns (h, cache)."""
    h = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    return h, (x, h_prev, W_ih, W_hh, h)


def rnn_cell_backward(dh, cache):
    """Gradients of one step w.r.t. its six inputs."""
    x, h_prev, W_ih, W_hh, h = cache
    dz = dh * (1 - h * h)  # tanh'(z) = 1 - tanh(z)^2
    db = dz.sum(axis=0)
    return {"x": dz @ W_ih, "h_prev": dz @ W_hh, "W_ih": dz.T @ x, "W_hh": dz.T @ h_prev,
            "b_ih": db, "b_hh": db.copy()}  # fmt: skip


def rnn_forward(xs, h0, params):
    """A stack of tanh RNN layers over a (T, N, D) sequence; returns (hs, cache)."""
    inp, caches = xs, []
    for layer, p in enumerate(params):
        h, hs, steps = h0[layer], [], []
        for t in range(xs.shape[0]):
            h, step = rnn_cell_forward(inp[t], h, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
            hs.append(h)
            steps.append(step)
        caches.append(steps)
        inp = np.stack(hs)  # the next layer reads this layer's outputs
    return inp, caches


def rnn_backward(dhs, cache, truncate=None):
    """Backpropagation through time (full, or truncated every `truncate` steps)."""
    dout, grads, dh0 = dhs, [], []
    for steps in reversed(cache):
        W_ih, W_hh = steps[0][2], steps[0][3]
        g = {"W_ih": np.zeros_like(W_ih), "W_hh": np.zeros_like(W_hh),
             "b_ih": np.zeros_like(W_hh[0]), "b_hh": np.zeros_like(W_hh[0])}  # fmt: skip
        dxs = [None] * len(steps)
        carry = np.zeros_like(dout[0])
        for t in reversed(range(len(steps))):
            d = rnn_cell_backward(dout[t] + carry, steps[t])
            for k in WEIGHTS:
                g[k] = g[k] + d[k]
            dxs[t] = d["x"]
            carry = d["h_prev"]
            if truncate is not None and t > 0 and t % truncate == 0:
                carry = np.zeros_like(carry)  # h_{t-1} was detached: chunk boundary
        grads.append(g)
        dh0.append(carry)
        dout = np.stack(dxs)
    return {"xs": dout, "h0": np.stack(dh0[::-1]), "params": grads[::-1]}
