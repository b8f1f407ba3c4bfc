"""Universal approximation: one hidden tanh layer fits sin on [-pi, pi].

Implement with NumPy. A network with a single hidden layer of tanh units can
approximate any continuous function on a bounded interval as closely as you like,
given enough units: each unit is a smooth step, and a weighted sum of steps can
follow any curve. Here you train one on sin and watch the error fall with width.
Run: pytest katas/01_fundamentals/test_approximation.py
"""

import numpy as np


def init_net(hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial parameters of a 1-H-1 tanh network.

    Math:
        Drawn in this order:
        W1 = rng.standard_normal((1, hidden))
        b1 = rng.uniform(-pi, pi, hidden)        (unit j bends near x = -b1_j / W1_j)
        W2 = rng.standard_normal((hidden, 1)) / sqrt(hidden)
        b2 = zeros(1)

    Shapes:
        W1: (1, H); b1: (H,); W2: (H, 1); b2: (1,).

    Args:
        hidden: H, the number of hidden units (at least 1).
        rng: the only source of randomness.

    Returns:
        {"W1", "b1", "W2", "b2"}, float64 arrays.

    Numerics:
        The 1/sqrt(H) keeps the initial output O(1) however wide the layer.

    Reference:
        nn.Linear(1, H), nn.Tanh(), nn.Linear(H, 1) (torch initialises differently).
    """
    raise NotImplementedError


def loss_and_grads(
    params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """MSE of the 1-H-1 tanh network on (x, y) and its gradients.

    Math:
        z = x @ W1 + b1;  h = tanh(z);  y_hat = h @ W2 + b2
        loss = mean((y_hat - y)^2)
        d loss / d y_hat = 2 (y_hat - y) / N;  tanh'(z) = 1 - tanh(z)^2 = 1 - h^2;
        a bias's gradient sums its layer's gradient over the N rows.

    Shapes:
        x, y: (N, 1); params as init_net returns them.

    Args:
        params: {"W1", "b1", "W2", "b2"}.
        x: inputs, one per row; y: targets.

    Returns:
        loss: a scalar.
        grads: {"W1", "b1", "W2", "b2"}, each the shape (and dtype) of its parameter.

    Numerics:
        Reuse h for tanh's derivative (1 - h^2): no second tanh needed.

    Reference:
        torch.autograd: F.mse_loss(y_hat, y).backward().
    """
    raise NotImplementedError


def train_step(
    params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float
) -> tuple[dict[str, np.ndarray], float]:
    """One full-batch gradient-descent step; returns the new params and the loss before it.

    Math:
        loss, grads = loss_and_grads(params, x, y)
        p_new = p - lr * grads[p]       for every parameter

    Shapes:
        As loss_and_grads.

    Args:
        params: the current parameters (left unmodified).
        x, y: the whole training set.
        lr: the learning rate.

    Returns:
        (new_params, loss): NEW arrays (params is not modified), and the loss of the
        params you were given (before the step).

    Numerics:
        Too large an lr diverges to inf/NaN; the curvature grows with the width H,
        so wider networks need smaller steps.

    Reference:
        torch.optim.SGD(params, lr=lr).step() after loss.backward().
    """
    raise NotImplementedError


def fit_sine(
    hidden: int, steps: int, lr: float, rng: np.random.Generator, n_points: int = 64
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fit sin on [-pi, pi] with a 1-H-1 tanh network and gradient descent.

    Math:
        x = n_points evenly spaced points from -pi to pi (both included); y = sin(x)
        params = init_net(hidden, rng); then `steps` train_steps on all of (x, y).
        Good settings: hidden=32, steps=5000, lr=0.05 (MSE around 1e-4; the tests
        use these, and hidden=1 or 2 to show what narrow networks cannot do).

    Shapes:
        x, y: (n_points, 1); returns params as init_net, mse_history: (steps,).

    Args:
        hidden: H, the number of hidden units.
        steps: how many gradient-descent steps.
        lr: the learning rate.
        rng: the only source of randomness (passed to init_net).
        n_points: how many training points.

    Returns:
        (params, mse_history): the trained parameters, and the loss train_step
        returned at every step (so mse_history[0] is the untrained network's MSE).

    Numerics:
        No early stopping: run every step, so a run is deterministic given rng.

    Reference:
        torch.optim.SGD on F.mse_loss, full batch; np.linspace(-np.pi, np.pi, n_points).
    """
    raise NotImplementedError
