"""Saddles and plateaus: where plain gradient descent stalls, and what gets it moving.

Implement with NumPy. The landscape is a small non-convex function of a point p = (x, y):

    f(x, y) = x^2 - y^2 + y^4 / 4 + x^2 y^2 / 2

It has a strict saddle at (0, 0) (f = 0: a minimum along x, a maximum along y) and two
minima at (0, +sqrt(2)) and (0, -sqrt(2)) (f = -1). Gradient descent started on the line
y = 0 never learns that y could go down: it slides into the saddle and stays there. Near
the saddle the gradient is tiny (a plateau), so escaping takes many steps; momentum builds
speed along the escape direction, and noise knocks the point off the line altogether.
Run: pytest katas/02_training/test_loss_landscape.py
"""

from collections.abc import Callable

import numpy as np


def saddle_loss(p: np.ndarray) -> np.ndarray:
    """The landscape f at one point or a batch of points.

    Math:
        f(x, y) = x^2 - y^2 + y^4 / 4 + x^2 y^2 / 2,  with x = p[..., 0], y = p[..., 1]

    Shapes:
        p: (..., 2), any number of leading (batch) axes; returns (...).

    Args:
        p: points, the last axis holding (x, y).

    Returns:
        f at every point, p's dtype.

    Numerics:
        Keep the dtype (float32 in, float32 out): Python scalars do, np.float64 constants do not.

    Reference:
        the same formula on a torch tensor: p[..., 0] ** 2 - p[..., 1] ** 2 + ...
    """
    raise NotImplementedError


def saddle_grad(p: np.ndarray) -> np.ndarray:
    """The gradient of f, derived by hand, at one point or a batch of points.

    Math:
        df/dx = 2x + x y^2
        df/dy = -2y + y^3 + x^2 y

    Shapes:
        p: (..., 2); returns (..., 2), the last axis holding (df/dx, df/dy).

    Args:
        p: points, the last axis holding (x, y).

    Returns:
        The gradient at every point, p's dtype.

    Numerics:
        Keep the dtype. The gradient is exactly 0 at the three critical points.

    Reference:
        torch.autograd.grad(f(p).sum(), p): each point's f depends on that point only.
    """
    raise NotImplementedError


def saddle_hessian(p: np.ndarray) -> np.ndarray:
    """The Hessian of f (its matrix of second derivatives) at one point or a batch of points.

    Math:
        H = [[d2f/dx2,  d2f/dxdy],      d2f/dx2 = 2 + y^2
             [d2f/dydx, d2f/dy2 ]]      d2f/dxdy = d2f/dydx = 2xy
                                        d2f/dy2 = -2 + 3y^2 + x^2

    Shapes:
        p: (..., 2); returns (..., 2, 2): H[..., i, j] = d2f / dp_i dp_j.

    Args:
        p: points, the last axis holding (x, y).

    Returns:
        The symmetric 2 x 2 Hessian at every point, p's dtype.

    Numerics:
        Keep the dtype. Both off-diagonal entries hold the same cross term.

    Reference:
        torch.autograd.functional.hessian(f, point) for one point; torch.func.hessian.
    """
    raise NotImplementedError


def classify_critical_point(hessian: np.ndarray, tol: float = 1e-8) -> str:
    """Name a critical point (a point where the gradient is 0) from its Hessian's eigenvalues.

    Math:
        lambda = eigenvalues of the symmetric Hessian; lambda is "zero" when |lambda| <= tol.
        some lambda > 0 and some lambda < 0         -> "saddle" (zeros or not)
        otherwise, any lambda zero                  -> "degenerate" (the test cannot decide:
                                                       x^2 + y^4 and x^2 + y^3 share one Hessian)
        all lambda > 0 -> "minimum";  all lambda < 0 -> "maximum"

    Shapes:
        hessian: (D, D), symmetric, D >= 1.

    Args:
        hessian: the matrix of second derivatives at the critical point.
        tol: eigenvalues within tol of 0 count as 0.

    Returns:
        One of "minimum", "maximum", "saddle", "degenerate".

    Numerics:
        np.linalg.eigvalsh for a symmetric matrix: real eigenvalues, in ascending order.
        The signs of the diagonal entries are not the signs of the eigenvalues.

    Reference:
        torch.linalg.eigvalsh(H), then the rule above.
    """
    raise NotImplementedError


def gradient_descent(
    grad_fn: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, lr: float, steps: int
) -> np.ndarray:
    """Plain gradient descent from x0; returns the whole path.

    Math:
        x_0 = x0;  x_{t+1} = x_t - lr * grad_fn(x_t)

    Shapes:
        x0: (D,); returns (steps + 1, D).

    Args:
        grad_fn: the gradient of the function being minimised, (D,) -> (D,).
        x0: the starting point (left unmodified).
        lr: the learning rate.
        steps: how many updates to take (0: the path is x0 alone).

    Returns:
        The trajectory, float64: row 0 is x0, row t the point after t steps.

    Numerics:
        Store a new array per row: appending x and then updating it in place makes every
        row the same array.

    Reference:
        torch.optim.SGD([p], lr=lr): per step, p.grad = grad; opt.step().
    """
    raise NotImplementedError


def momentum_descent(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    lr: float,
    momentum: float,
    steps: int,
) -> np.ndarray:
    """Gradient descent with (heavy-ball) momentum from x0; returns the whole path.

    Math:
        v_0 = 0;  v_{t+1} = momentum * v_t + grad_fn(x_t);  x_{t+1} = x_t - lr * v_{t+1}

    Shapes:
        x0: (D,); returns (steps + 1, D).

    Args:
        grad_fn: the gradient, (D,) -> (D,).
        x0: the starting point (left unmodified).
        lr: the learning rate.
        momentum: how much of the velocity survives each step (0: plain gradient descent).
        steps: how many updates to take.

    Returns:
        The trajectory, float64: row 0 is x0, row t the point after t steps.

    Numerics:
        The velocity lives across steps. torch adds the whole gradient to it (no 1 - momentum).

    Reference:
        torch.optim.SGD([p], lr=lr, momentum=momentum) (dampening=0, its momentum_buffer).
    """
    raise NotImplementedError


def noisy_gradient_descent(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    lr: float,
    steps: int,
    noise_std: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Gradient descent on a noisy gradient (what a minibatch does); returns the whole path.

    Math:
        z_t = rng.standard_normal(D)            one fresh draw per step, in step order
        x_{t+1} = x_t - lr * (grad_fn(x_t) + noise_std * z_t)

    Shapes:
        x0: (D,); returns (steps + 1, D).

    Args:
        grad_fn: the gradient, (D,) -> (D,).
        x0: the starting point (left unmodified).
        lr: the learning rate.
        steps: how many updates to take.
        noise_std: the standard deviation of the noise added to the gradient.
        rng: where every random number comes from (not np.random's global state).

    Returns:
        The trajectory, float64: row 0 is x0, row t the point after t steps.

    Numerics:
        noise_std = 0 must give plain gradient descent exactly.

    Reference:
        torch.optim.SGD([p], lr=lr) with p.grad = grad + noise_std * z before each step.
    """
    raise NotImplementedError
