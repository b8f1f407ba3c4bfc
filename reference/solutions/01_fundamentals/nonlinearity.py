"""Why non-linearity is necessary: linear stacks collapse, XOR needs a bend.

References: Goodfellow, Bengio & Courville, "Deep Learning", section 6.1 (learning
XOR); Minsky & Papert (1969), "Perceptrons".
"""

import numpy as np

# The four XOR points and their 0/1 targets, in the order (0,0), (0,1), (1,0), (1,1).
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)
XOR_T = np.array([[0.0], [1.0], [1.0], [0.0]])  # (4, 1)


def collapse_linear_stack(weights, biases):
    """The single affine map (W, b) that equals a stack of affine layers."""
    # Start from the empty stack, the identity map x -> x @ I + 0, and absorb one layer at a
    # time: (x @ W + b) @ W_i + b_i = x @ (W @ W_i) + (b @ W_i + b_i).
    D = weights[0].shape[0]
    W = np.eye(D, dtype=weights[0].dtype)  # (D, D)
    b = np.zeros(D, dtype=weights[0].dtype)  # (D,)
    for W_i, b_i in zip(weights, biases):
        W = W @ W_i  # (D, D_i) @ (D_i, D_{i+1}) -> (D, D_{i+1})
        b = b @ W_i + b_i  # earlier biases pass through every later layer's weights
    return W, b


def _activation(z, activation):
    """The activation and its derivative at z (elementwise)."""
    if activation == "relu":
        return np.maximum(z, 0), (z > 0).astype(z.dtype)  # relu'(0) = 0, as in torch
    if activation == "tanh":
        h = np.tanh(z)
        return h, 1 - h**2
    if activation == "identity":
        return z, np.ones_like(z)
    raise ValueError(f"unknown activation {activation!r}")


def loss_and_grads(params, X, t, activation):
    """MSE of a 2-H-1 network and its gradients with respect to every parameter."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    # Forward, keeping what backward needs.
    z = X @ W1 + b1  # (N, D) @ (D, H) -> (N, H)
    h, dh_dz = _activation(z, activation)  # (N, H)
    out = h @ W2 + b2  # (N, H) @ (H, 1) -> (N, 1)
    loss = np.mean((out - t) ** 2)
    # Backward: the chain rule, from the loss back to the first layer.
    dout = 2 * (out - t) / N  # d mean((out - t)^2) / d out, (N, 1)
    dW2 = h.T @ dout  # (H, N) @ (N, 1) -> (H, 1)
    db2 = dout.sum(axis=0)  # the bias is added to every row: its gradient sums them, (1,)
    dz = (dout @ W2.T) * dh_dz  # back through W2, then through the activation, (N, H)
    dW1 = X.T @ dz  # (D, N) @ (N, H) -> (D, H)
    db1 = dz.sum(axis=0)  # (H,)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def fit_xor(hidden, activation, steps, lr, rng):
    """Train a 2-H-1 network on XOR with full-batch gradient descent."""
    params = {
        "W1": rng.standard_normal((2, hidden)),
        "b1": np.zeros(hidden),
        "W2": rng.standard_normal((hidden, 1)) / np.sqrt(hidden),
        "b2": np.zeros(1),
    }
    for _ in range(steps):
        _, grads = loss_and_grads(params, XOR_X, XOR_T, activation)
        params = {name: p - lr * grads[name] for name, p in params.items()}
    h, _ = _activation(XOR_X @ params["W1"] + params["b1"], activation)  # (4, H)
    out = h @ params["W2"] + params["b2"]  # (4, 1)
    return params, out[:, 0]
