"""Gradient flow through a deep MLP: measure it per layer, name the problem, clip, plot.

W_i is (D_i, D_{i+1}), z_i = h_i @ W_i + b_i, the last layer linear. References:
Glorot & Bengio 2010; Pascanu et al. 2013 ("On the difficulty of training recurrent neural
networks": clipping by the global norm); torch/nn/utils/clip_grad.py.
"""

import math

import numpy as np


def _act(z, activation):
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    raise ValueError(f"unknown activation {activation!r}")


def _act_grad(z, h, activation):
    """d act / d z at z, from z and h = act(z) (whichever is cheaper)."""
    if activation == "relu":
        return (z > 0).astype(z.dtype)  # torch: relu'(0) = 0
    if activation == "tanh":
        return 1 - h * h
    return h * (1 - h)  # sigmoid: s (1 - s), with s the activation, never z


def _loss_grad(out, y, loss):
    """d loss / d out for the mean loss over the batch."""
    N = out.shape[0]
    if loss == "mse":
        return 2 * (out - y) / out.size  # mean over all N * C entries
    if loss == "cross_entropy":
        e = np.exp(out - out.max(axis=1, keepdims=True))  # shifted: no overflow
        p = e / e.sum(axis=1, keepdims=True)  # (N, C) softmax
        p[np.arange(N), y] -= 1  # softmax - onehot
        return p / N
    raise ValueError(f"unknown loss {loss!r}")


def layer_gradients(X, y, weights, biases, activation="sigmoid", loss="mse"):
    """Forward and backward through the MLP: the loss's gradient w.r.t. every W_i and b_i."""
    # Forward, keeping every layer's input h_i and pre-activation z_i.
    hs, zs = [], []
    h = X  # (N, D)
    for i, (W, b) in enumerate(zip(weights, biases)):
        hs.append(h)
        z = h @ W + b  # (N, D_i) @ (D_i, D_{i+1}) -> (N, D_{i+1})
        zs.append(z)
        h = z if i == len(weights) - 1 else _act(z, activation)
    # Backward, last layer first.
    dz = _loss_grad(h, y, loss).astype(X.dtype)  # the last layer is linear: dz = dout
    dWs, dbs = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        dWs[i] = hs[i].T @ dz  # (D_i, N) @ (N, D_{i+1})
        dbs[i] = dz.sum(axis=0)
        if i > 0:
            dh = dz @ weights[i].T  # (N, D_{i+1}) @ (D_{i+1}, D_i)
            dz = dh * _act_grad(zs[i - 1], hs[i], activation)  # hs[i] = act(zs[i - 1])
    return dWs, dbs


def layer_grad_norms(X, y, weights, biases, activation="sigmoid", loss="mse"):
    """The size of each layer's weight gradient: one number per layer, first layer first."""
    dWs, _ = layer_gradients(X, y, weights, biases, activation, loss)
    return np.array([np.linalg.norm(dW) for dW in dWs], dtype=X.dtype)


def classify_gradient_flow(norms, ratio=100.0, high=1e3, low=1e-6):
    """Name the gradient flow of a freshly initialised net from its per-layer norms."""
    norms = np.asarray(norms, dtype=np.float64)
    first, last, biggest = norms[0], norms[-1], norms.max()
    if not np.all(np.isfinite(norms)) or biggest > high or first > ratio * last:
        return "exploding"
    if biggest < low or first < last / ratio:
        return "vanishing"
    return "healthy"


def clip_grad_norm_(grads, max_norm, norm_type=2.0):
    """Scale all gradients together, in place, so that their global norm is at most max_norm."""
    if len(grads) == 0:
        return 0.0
    norm_type = float(norm_type)
    # One norm over everything, as if all gradients were one long vector: the norm of the
    # per-array norms is exactly that, for every p (and for inf: the max of the maxima).
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g), initial=0.0)) for g in grads)
    else:
        per_array = [np.sum(np.abs(g.astype(np.float64)) ** norm_type) for g in grads]
        total = float(np.sum(per_array) ** (1.0 / norm_type))
    coef = max_norm / (total + 1e-6)
    if coef < 1:  # only ever scale down
        for g in grads:
            g *= coef  # in place: whoever holds g sees the clipped gradient
    return total


def plot_gradient_flow(norms, path):
    """Draw the per-layer gradient norms on a log scale and save the picture as a PNG."""
    from matplotlib.figure import Figure  # no pyplot: no display, no global state

    norms = np.asarray(norms, dtype=np.float64)
    layers = np.arange(1, len(norms) + 1)
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    ax.plot(layers, norms, marker="o")
    ax.set_yscale("log")  # vanishing shows as a straight slope, not a line glued to zero
    ax.set_xlabel("layer")
    ax.set_ylabel("||dL/dW||")
    ax.set_title("Gradient flow")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return fig
