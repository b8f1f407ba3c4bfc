"""Saddles and plateaus: where plain gradient descent stalls, and what gets it moving.

f(x, y) = x^2 - y^2 + y^4 / 4 + x^2 y^2 / 2 has a strict saddle at (0, 0) and minima at
(0, +-sqrt(2)). References: Dauphin et al. 2014, "Identifying and attacking the saddle
point problem in high-dimensional non-convex optimization"; Ge et al. 2015, "Escaping
from saddle points"; Goodfellow, Bengio, Courville, Deep Learning, sections 4.3 and 8.2.
"""

import numpy as np


def saddle_loss(p):
    """The landscape f at one point or a batch of points."""
    x, y = p[..., 0], p[..., 1]  # (...,) each
    return x**2 - y**2 + y**4 / 4 + x**2 * y**2 / 2


def saddle_grad(p):
    """The gradient of f, derived by hand, at one point or a batch of points."""
    x, y = p[..., 0], p[..., 1]
    dx = 2 * x + x * y**2
    dy = -2 * y + y**3 + x**2 * y
    return np.stack([dx, dy], axis=-1)  # (..., 2)


def saddle_hessian(p):
    """The Hessian of f (its matrix of second derivatives) at one point or a batch of points."""
    x, y = p[..., 0], p[..., 1]
    fxx = 2 + y**2
    fxy = 2 * x * y  # the same cross term on both sides: the Hessian is symmetric
    fyy = -2 + 3 * y**2 + x**2
    row_x = np.stack([fxx, fxy], axis=-1)  # (..., 2)
    row_y = np.stack([fxy, fyy], axis=-1)  # (..., 2)
    return np.stack([row_x, row_y], axis=-2)  # (..., 2, 2)


def classify_critical_point(hessian, tol=1e-8):
    """Name a critical point (a point where the gradient is 0) from its Hessian's eigenvalues."""
    eig = np.linalg.eigvalsh(hessian)  # real, because the Hessian is symmetric
    up, down = eig > tol, eig < -tol
    if up.any() and down.any():
        return "saddle"  # one direction goes up and another down, whatever the zeros do
    if not np.all(up | down):
        # A zero eigenvalue: the second derivatives are flat along some direction, and
        # only higher derivatives can tell what happens there.
        return "degenerate"
    return "minimum" if up.all() else "maximum"


def gradient_descent(grad_fn, x0, lr, steps):
    """Plain gradient descent from x0; returns the whole path."""
    x = np.array(x0, dtype=np.float64)  # a copy: x0 stays as it was
    path = [x]
    for _ in range(steps):
        x = x - lr * grad_fn(x)  # a new array, so the row already stored keeps its value
        path.append(x)
    return np.stack(path)  # (steps + 1, D)


def momentum_descent(grad_fn, x0, lr, momentum, steps):
    """Gradient descent with (heavy-ball) momentum from x0; returns the whole path."""
    x = np.array(x0, dtype=np.float64)
    v = np.zeros_like(x)  # the velocity lives across steps
    path = [x]
    for _ in range(steps):
        v = momentum * v + grad_fn(x)
        x = x - lr * v
        path.append(x)
    return np.stack(path)  # (steps + 1, D)


def noisy_gradient_descent(grad_fn, x0, lr, steps, noise_std, rng):
    """Gradient descent on a noisy gradient (what a minibatch does); returns the whole path."""
    x = np.array(x0, dtype=np.float64)
    path = [x]
    for _ in range(steps):
        noise = noise_std * rng.standard_normal(x.shape)  # a fresh draw every step
        x = x - lr * (grad_fn(x) + noise)
        path.append(x)
    return np.stack(path)  # (steps + 1, D)
