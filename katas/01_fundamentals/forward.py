"""Forward propagation through an MLP, in matrix form.

Implement with NumPy. Every row of X is one example: one matrix product pushes
the whole batch through a layer at once. Run: pytest katas/01_fundamentals/test_forward.py
"""

import numpy as np


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    """Apply a named elementwise nonlinearity.

    Math:
        relu(z) = max(z, 0);  tanh(z);  sigmoid(z) = 1 / (1 + exp(-z))

    Shapes:
        z: any shape; returns the same shape and dtype.

    Args:
        z: pre-activations.
        activation: "relu", "tanh" or "sigmoid"; anything else raises ValueError.

    Returns:
        The activated array (a new array: z is not modified).

    Numerics:
        exp(-z) may overflow to inf for very negative z; 1 / (1 + inf) = 0 is the
        right answer, so a RuntimeWarning is harmless here.

    Reference:
        torch.relu, torch.tanh, torch.sigmoid
    """
    raise NotImplementedError


def mlp_forward(
    X: np.ndarray,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    activation: str = "relu",
) -> tuple[np.ndarray, dict[str, list[np.ndarray]]]:
    """Batched forward pass of an MLP; returns the output and the cache of activations.

    Math:
        h_0 = X
        z_i = h_i @ W_i + b_i                  for every layer i
        h_{i+1} = activation(z_i)              for every layer but the last
        out = z_last                           (the last layer stays linear)

    Shapes:
        X: (N, D); W_i: (D_i, D_{i+1}) with D_0 = D; b_i: (D_{i+1},); out: (N, C).

    Args:
        X: a batch of N examples, one per row.
        weights, biases: one (W_i, b_i) pair per layer, in order.
        activation: the nonlinearity between layers ("relu", "tanh", "sigmoid").

    Returns:
        out: the last layer's pre-activation (logits), (N, C), X's dtype.
        cache: {"h": [h_0, ..., h_{L-1}], "z": [z_0, ..., z_{L-1}]}: the input and the
            pre-activation of every layer; backprop will need both.

    Numerics:
        Keep X's dtype (float32 in, float32 out).

    Reference:
        torch.nn.Sequential(nn.Linear, nn.ReLU, ..., nn.Linear); nn.Linear stores
        weight as (out, in), so W_i here is its weight transposed.
    """
    raise NotImplementedError
