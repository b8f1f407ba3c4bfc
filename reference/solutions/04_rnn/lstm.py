"""The LSTM cell and an LSTM over a sequence, forward and backward (reference solution)."""

import numpy as np

WEIGHTS = ("W_ih", "W_hh", "b_ih", "b_hh")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigmoid(z) = (1 + tanh(z / 2)) / 2: stable for any z (no exp to overflow)."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def _gates(a, c_prev, H):
    """From the pre-activations a (N, 4H): the gates, the new c, tanh(c) and the new h."""
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return i, f, g, o, c, tc, h


def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, gates stacked as torch stacks them: input, forget, cell (g), output."""
    a = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh  # (N, 4H)
    i, f, g, o, c, tc, h = _gates(a, c_prev, h_prev.shape[1])
    return h, c, (x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tc)


def _backward(dh, dc, cache):
    """The gradient of the pre-activations, da (N, 4H), and dc_prev."""
    x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tc = cache
    do = dh * tc
    dc = dc + dh * o * (1 - tc**2)  # c reaches the loss directly and through h
    di, df, dg = dc * g, dc * c_prev, dc * i
    da = np.concatenate(
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
    )
    return da, dc * f


def lstm_cell_backward(dh, dc, cache):
    """Gradients of one LSTM step given dL/dh and dL/dc (dc: from the next step, or zeros)."""
    x, h_prev, _, W_ih, W_hh = cache[:5]
    da, dc_prev = _backward(dh, dc, cache)
    db = da.sum(axis=0)
    return {
        "x": da @ W_ih,
        "h_prev": da @ W_hh,
        "c_prev": dc_prev,
        "W_ih": da.T @ x,
        "W_hh": da.T @ h_prev,
        "b_ih": db,
        "b_hh": db.copy(),
    }


def lstm_forward(xs, h0, c0, params):
    """Run the cell over xs (T, N, D); return every h, the final (h, c), and the caches.

    Same steps as lstm_cell_forward, with the input projection of all T steps done in one
    matrix product up front (it does not depend on h).
    """
    W_ih, W_hh, b_ih, b_hh = (params[k] for k in WEIGHTS)
    T, N, D = xs.shape
    H = h0.shape[1]
    ax = (xs.reshape(T * N, D) @ W_ih.T + (b_ih + b_hh)).reshape(T, N, 4 * H)
    h, c, caches, hs = h0, c0, [], np.empty((T, N, H), dtype=np.result_type(xs, h0))
    for t in range(T):
        c_prev, h_prev = c, h
        i, f, g, o, c, tc, h = _gates(ax[t] + h @ W_hh.T, c_prev, H)
        hs[t] = h
        caches.append((xs[t], h_prev, c_prev, W_ih, W_hh, i, f, g, o, tc))
    return hs, (h, c), caches


def lstm_backward(dhs, cache, dh_T=None, dc_T=None):
    """Backpropagation through time: walk the steps backwards, summing weight gradients.

    Per step only da and the recurrent gradients; the weight and input gradients of all
    steps then come from one matrix product each (sum over t of da_t.T @ x_t, etc.).
    """
    T = len(cache)
    W_ih, W_hh = cache[0][3], cache[0][4]
    dh_next = np.zeros_like(dhs[0]) if dh_T is None else dh_T
    dc_next = np.zeros_like(dhs[0]) if dc_T is None else dc_T
    N, H = dhs.shape[1:]
    das = np.empty((T, N, 4 * H), dtype=dhs.dtype)
    for t in reversed(range(T)):
        das[t], dc_next = _backward(dhs[t] + dh_next, dc_next, cache[t])
        dh_next = das[t] @ W_hh
    da = das.reshape(T * N, 4 * H)
    xs = np.stack([step[0] for step in cache]).reshape(T * N, -1)
    h_prevs = np.stack([step[1] for step in cache]).reshape(T * N, H)
    db = da.sum(axis=0)
    return {
        "xs": (da @ W_ih).reshape(T, N, -1),
        "h0": dh_next,
        "c0": dc_next,
        "W_ih": da.T @ xs,
        "W_hh": da.T @ h_prevs,
        "b_ih": db,
        "b_hh": db.copy(),
    }
