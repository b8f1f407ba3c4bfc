"""Gradients through 100 steps: tanh RNN against LSTM (reference solution)."""

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def input_gradient_norms(cell, params, xs):
    """||d(sum of h at the last step)/d x_t|| for every t, by backpropagation through time."""
    if cell not in ("rnn", "lstm"):
        raise ValueError(f"cell must be 'rnn' or 'lstm'; got {cell!r}")
    W_ih, W_hh = params["W_ih"], params["W_hh"]
    b = params["b_ih"] + params["b_hh"]
    T, N, _ = xs.shape
    H = W_hh.shape[1]
    h, c, steps = np.zeros((N, H), xs.dtype), np.zeros((N, H), xs.dtype), []
    for x in xs:  # forward, keeping what backward needs
        a = x @ W_ih.T + h @ W_hh.T + b
        if cell == "rnn":
            h = np.tanh(a)
            steps.append(h)
        else:
            i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 3 * H :])
            g = np.tanh(a[:, 2 * H : 3 * H])
            c_prev, c = c, f * c + i * g
            steps.append((i, f, g, o, c_prev, np.tanh(c)))
            h = o * np.tanh(c)
    dh, dc = np.ones((N, H), xs.dtype), np.zeros((N, H), xs.dtype)  # loss = h_{T-1}.sum()
    norms = np.empty(T, dtype=xs.dtype)
    for t in reversed(range(T)):
        if cell == "rnn":
            da = dh * (1 - steps[t] ** 2)
        else:
            i, f, g, o, c_prev, tc = steps[t]
            dc = dc + dh * o * (1 - tc**2)
            da = np.concatenate(
                [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                 dh * tc * o * (1 - o)], axis=1,
            )  # fmt: skip
            dc = dc * f
        norms[t] = np.sqrt(np.sum((da @ W_ih) ** 2))  # over the batch and the features
        dh = da @ W_hh
    return norms


def plot_gradient_norms(norms_by_name, path):
    """One line per network: ||dL/dx_t|| against t, on a log scale, saved as a PNG."""
    from matplotlib.figure import Figure  # no pyplot: no display, no global state

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    for name, norms in norms_by_name.items():
        norms = np.asarray(norms, dtype=np.float64)
        ax.plot(np.arange(len(norms)), norms, label=name)
    ax.set_yscale("log")  # an exponential decay is a straight line
    ax.set_xlabel("time step t")
    ax.set_ylabel("||dL/dx_t||  (L: the last step's output)")
    ax.set_title("Gradients through time")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return fig
