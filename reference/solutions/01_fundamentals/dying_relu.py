"""The dying ReLU problem: units whose pre-activation is never positive get no gradient.

A ReLU unit j of the layer h = relu(X @ W + b) is dead on a dataset when z_nj <= 0 for
every example n: relu'(z) = 0 there (torch's convention includes z == 0), so no example
sends any gradient to its weights and gradient descent can never revive it. Leaky ReLU
keeps a small slope for z <= 0, so its gradient never vanishes. References: CS231n
lecture 4 notes ("Neural Networks Part 1": ReLU's cons); Maas et al., "Rectifier
Nonlinearities Improve Neural Network Acoustic Models" (2013).
"""

import numpy as np


def dead_units(X, W, b):
    """Which units of relu(X @ W + b) are dead on the batch X."""
    Z = X @ W + b  # (N, D) @ (D, H) + (H,) -> (N, H)
    # Dead = off for EVERY example: reduce over the batch axis, one answer per unit.
    return np.all(Z <= 0, axis=0)  # (H,)


def dead_fraction(X, W, b):
    """Fraction of the layer's units that are dead on X."""
    return float(np.mean(dead_units(X, W, b)))


def relu_layer_grads(X, W, b, dout, negative_slope=0.0):
    """dL/dW and dL/db for L = sum(dout * leaky_relu(X @ W + b, negative_slope))."""
    Z = X @ W + b  # (N, H)
    # The activation's slope: 1 where the unit is on, negative_slope where it is off
    # (0 for plain ReLU, including z == 0 exactly, as in torch).
    slope = np.where(Z > 0, 1.0, negative_slope).astype(Z.dtype)  # (N, H)
    dZ = dout * slope  # (N, H)
    dW = X.T @ dZ  # (D, N) @ (N, H) -> (D, H)
    db = np.sum(dZ, axis=0)  # (H,)
    return dW, db


def relu_layer_grad_norms(X, W, b, dout, negative_slope=0.0):
    """The L2 norm of dL/dW for each unit (each column of W)."""
    dW, _ = relu_layer_grads(X, W, b, dout, negative_slope)
    return np.linalg.norm(dW, axis=0)  # (D, H) -> (H,)


def sgd_step(X, W, b, dout, lr, negative_slope=0.0):
    """One gradient-descent step on W and b; returns new arrays (W and b are not modified)."""
    dW, db = relu_layer_grads(X, W, b, dout, negative_slope)
    return W - lr * dW, b - lr * db
