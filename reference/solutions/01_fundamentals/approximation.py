"""Universal approximation: one hidden tanh layer fits sin on [-pi, pi].

References: Cybenko (1989), "Approximation by superpositions of a sigmoidal
function"; Hornik (1991); Nielsen, "Neural Networks and Deep Learning", chapter 4
(a visual proof).
"""

import numpy as np


def init_net(hidden, rng):
    """Random initial parameters of a 1-H-1 tanh network."""
    return {
        "W1": rng.standard_normal((1, hidden)),
        # Unit j bends near x = -b1_j / W1_j: uniform biases spread the bends over the interval.
        "b1": rng.uniform(-np.pi, np.pi, hidden),
        "W2": rng.standard_normal((hidden, 1)) / np.sqrt(hidden),  # keeps the output O(1)
        "b2": np.zeros(1),
    }


def loss_and_grads(params, x, y):
    """MSE of the 1-H-1 tanh network on (x, y) and its gradients."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = x.shape[0]
    # Forward.
    z = x @ W1 + b1  # (N, 1) @ (1, H) -> (N, H)
    h = np.tanh(z)  # (N, H)
    y_hat = h @ W2 + b2  # (N, H) @ (H, 1) -> (N, 1)
    loss = np.mean((y_hat - y) ** 2)
    # Backward.
    dy_hat = 2 * (y_hat - y) / N  # d mean((y_hat - y)^2) / d y_hat, (N, 1)
    dW2 = h.T @ dy_hat  # (H, N) @ (N, 1) -> (H, 1)
    db2 = dy_hat.sum(axis=0)  # (1,)
    dz = (dy_hat @ W2.T) * (1 - h**2)  # tanh'(z) = 1 - tanh(z)^2, reusing h, (N, H)
    dW1 = x.T @ dz  # (1, N) @ (N, H) -> (1, H)
    db1 = dz.sum(axis=0)  # (H,)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def train_step(params, x, y, lr):
    """One full-batch gradient-descent step; returns the new params and the loss before it."""
    loss, grads = loss_and_grads(params, x, y)
    new_params = {name: p - lr * grads[name] for name, p in params.items()}  # new arrays
    return new_params, loss


def fit_sine(hidden, steps, lr, rng, n_points=64):
    """Fit sin on [-pi, pi] with a 1-H-1 tanh network and gradient descent."""
    x = np.linspace(-np.pi, np.pi, n_points)[:, None]  # (N, 1): one input feature
    y = np.sin(x)  # (N, 1)
    params = init_net(hidden, rng)
    mse_history = np.empty(steps)
    for i in range(steps):
        params, mse_history[i] = train_step(params, x, y, lr)
    return params, mse_history
