"""Forward propagation through an MLP, in matrix form.

Every row of X is one example; one matrix product pushes the whole batch through
a layer at once. References: CS231n lecture 4 notes ("Neural Networks Part 1").
"""

import numpy as np


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    """Apply a named elementwise nonlinearity."""
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    raise ValueError(f"unknown activation {activation!r}")


def mlp_forward(X, weights, biases, activation="relu"):
    """Batched forward pass of an MLP; returns the output and the cache of activations."""
    h = X  # (N, D)
    cache = {"h": [], "z": []}
    for i, (W, b) in enumerate(zip(weights, biases)):
        cache["h"].append(h)
        z = h @ W + b  # (N, D_in) @ (D_in, D_out) + (D_out,) -> (N, D_out)
        cache["z"].append(z)
        # The last layer stays linear: its outputs are logits (or regression values).
        last = i == len(weights) - 1
        h = z if last else activate(z, activation)
    return h, cache
