"""Gradient flow through a deep MLP: measure it per layer, name the problem, clip, plot.

Implement with NumPy. The MLP is the one from 01_fundamentals/forward: W_i is (D_i, D_{i+1}),
z_i = h_i @ W_i + b_i, the activation between layers, the last layer linear. A deep sigmoid
net starves its first layers (sigmoid' <= 1/4 at every layer on the way back); a net
initialised too large overflows. Both show in one number per layer, the norm of that
layer's weight gradient, and in one picture of those numbers on a log scale.
Run: pytest katas/02_training/test_gradient_flow.py
"""

from pathlib import Path

import numpy as np


def layer_gradients(
    X: np.ndarray,
    y: np.ndarray,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    activation: str = "sigmoid",
    loss: str = "mse",
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward and backward through the MLP: the loss's gradient w.r.t. every W_i and b_i.

    Math:
        forward: h_0 = X;  z_i = h_i @ W_i + b_i;  h_{i+1} = act(z_i) (not after the last)
        loss "mse": mean((out - y)^2) over all N * C entries;  dout = 2 (out - y) / (N C)
        loss "cross_entropy": mean_n -log softmax(out)_n[y_n];
            dout = (softmax(out) - onehot(y)) / N
        backward, last layer first:  dW_i = h_i^T @ dz_i;  db_i = sum_n dz_i;
        dh_i = dz_i @ W_i^T;  dz_{i-1} = dh_i * act'(z_{i-1})
        act': relu 1[z > 0];  tanh 1 - tanh(z)^2;  sigmoid s (1 - s) with s = sigmoid(z)

    Shapes:
        X: (N, D); y: (N, C) floats for "mse", (N,) class ids for "cross_entropy";
        W_i: (D_i, D_{i+1}); b_i: (D_{i+1},); dW_i, db_i: the shapes of W_i, b_i.

    Args:
        X, y: a batch and its targets.
        weights, biases: one (W_i, b_i) per layer, first layer first (not modified).
        activation: "relu", "tanh" or "sigmoid".
        loss: "mse" or "cross_entropy"; anything else raises ValueError.

    Returns:
        (dWs, dbs): two lists of new arrays in layer order, in X's dtype.

    Numerics:
        Softmax with the row max subtracted. sigmoid(z) = 1 / (1 + exp(-z)) may overflow
        exp for very negative z: the result 0 is right.

    Reference:
        nn.Sequential(nn.Linear, nn.Sigmoid, ..., nn.Linear); F.mse_loss or F.cross_entropy;
        loss.backward(); each Linear's weight.grad.T and bias.grad.
    """
    raise NotImplementedError


def layer_grad_norms(
    X: np.ndarray,
    y: np.ndarray,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    activation: str = "sigmoid",
    loss: str = "mse",
) -> np.ndarray:
    """The size of each layer's weight gradient: one number per layer, first layer first.

    Math:
        norms[i] = ||dL/dW_i||_F = sqrt(sum of squares of dW_i)   (biases left out)

    Shapes:
        Returns (L,) for L layers.

    Args:
        X, y, weights, biases, activation, loss: as in layer_gradients.

    Returns:
        Array (L,) in X's dtype.

    Numerics:
        Norms of the gradients, not of the weights themselves.

    Reference:
        [p.grad.norm() for p in weights] after loss.backward(); the per-layer picture of
        the PyTorch forums' plot_grad_flow.
    """
    raise NotImplementedError


def classify_gradient_flow(
    norms: np.ndarray, ratio: float = 100.0, high: float = 1e3, low: float = 1e-6
) -> str:
    """Name the gradient flow of a freshly initialised net from its per-layer norms.

    Math:
        Rules, checked in this order (first = norms[0], last = norms[-1]):
        1. "exploding" if any norm is nan or inf, or max(norms) > high,
           or first > ratio * last (growing toward the input);
        2. "vanishing" if max(norms) < low, or first < last / ratio
           (shrinking toward the input: the first layers barely learn);
        3. "healthy" otherwise.
        Why both a ratio and absolute bounds: a weight gradient is (layer input) x
        (gradient from above), so a net that scales everything by s per layer gets about
        s^(L-1) in every layer: the ratio stays near 1 and only the size gives it away.

    Shapes:
        norms: (L,), L >= 1.

    Args:
        norms: per-layer gradient norms (layer_grad_norms), first layer first.
        ratio: how many times smaller or larger the first layer's norm may be than the last's.
        high, low: absolute bounds on the largest norm.

    Returns:
        "vanishing", "exploding" or "healthy".

    Numerics:
        Compare with multiplications (first < last / ratio), no division by a norm that
        may be 0; nan compares False with everything, so test for it explicitly.

    Reference:
        None in torch: a rule of thumb (Glorot & Bengio 2010 watch the same per-layer sizes).
    """
    raise NotImplementedError


def clip_grad_norm_(grads: list[np.ndarray], max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together, in place, so that their global norm is at most max_norm.

    Math:
        total = || concat of all grads, flattened ||_p;  for p = inf: max of all |g|
        coef = max_norm / (total + 1e-6);  if coef < 1: every g *= coef (else unchanged)

    Shapes:
        grads: arrays of any shapes; one norm over all of them together.

    Args:
        grads: the gradients; each array is scaled in place (g *= coef), so every
            reference to it sees the clipped values. The list itself is not changed.
        max_norm: the largest global norm allowed.
        norm_type: p of the p-norm: 2.0 (default), 1.0, ..., or float("inf").

    Returns:
        The global norm BEFORE clipping, as a Python float (0.0 for an empty list).

    Numerics:
        The 1e-6 keeps the division finite for zero gradients and makes the clipped norm
        slightly below max_norm. Keep each array's dtype.

    Reference:
        torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type)
    """
    raise NotImplementedError


def plot_gradient_flow(norms: np.ndarray, path: str | Path):
    """Draw the per-layer gradient norms on a log scale and save the picture as a PNG.

    Math:
        x = layer index 1..L, y = norms (log-scale axis: vanishing layers show as a slope,
        not as a flat line at zero).

    Shapes:
        norms: (L,).

    Args:
        norms: per-layer gradient norms, first layer first.
        path: where to write the PNG.

    Returns:
        The matplotlib Figure, with one Axes whose y-scale is "log" and a line (ax.plot)
        or bars (ax.bar) whose heights are the norms.

    Numerics:
        No display: from matplotlib.figure import Figure; fig = Figure(); ax =
        fig.add_subplot(); ...; fig.savefig(path) renders with Agg and leaves pyplot's
        global state alone. Import matplotlib inside the function: it is slow to import.

    Reference:
        The PyTorch forums' plot_grad_flow (plt.plot of each layer's grad.abs().mean()).
    """
    raise NotImplementedError
