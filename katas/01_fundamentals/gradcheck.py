"""Gradient checking: central differences and the relative error.

Backprop is right when its gradient agrees with the slope you measure by nudging
each input a little. Implement with NumPy.
Run: pytest katas/01_fundamentals/test_gradcheck.py
"""

from collections.abc import Callable

import numpy as np


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Central-difference estimate of the gradient of a scalar function f at x.

    Math:
        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)     for every entry i of x
        (e_i: 1 at entry i, 0 elsewhere). The error is O(h^2): h^2/6 |f'''|.
        A one-sided (f(x + h e_i) - f(x)) / h errs by O(h): h/2 |f''|.

    Shapes:
        x: any shape (0-d included), any memory layout; grad: x's shape and dtype.

    Args:
        f: maps an array of x's shape to a float; it reads the array it is given.
        x: where to take the gradient. Nudge its entries IN PLACE (x[idx] = ...) and
            call f(x): f may be a closure over x, as a loss over a model's weights is.
        h: the step.

    Returns:
        grad: an array of x's shape and dtype.

    Numerics:
        Call f exactly 2 * x.size times. Save each entry and write the saved value back
        afterwards (+= h, -= 2h, += h need not round back to it), also when f raises
        (try/finally): x must be bit-for-bit what it was. x may be a non-contiguous view
        (x.T, x[:, ::2]): x.ravel() or x.flatten() is then a copy and nudging it changes
        nothing; index x itself (np.ndindex(x.shape) gives every index of any shape).

    Reference:
        torch.autograd.gradcheck computes the same numerical Jacobian (eps=h).
    """
    raise NotImplementedError


def relative_error(a: np.ndarray, n: np.ndarray, eps: float = 1e-12) -> float:
    """Largest elementwise relative error between two gradients.

    Math:
        max over entries of |a - n| / max(eps, |a| + |n|)

    Shapes:
        a, n: the same shape (any); returns a scalar.

    Args:
        a: one gradient (e.g. analytic, from backprop).
        n: the other (e.g. numerical).
        eps: floor for the denominator.

    Returns:
        A float in [0, 1]: 0 when they agree, 1 when they have opposite signs.

    Numerics:
        Where both entries are exactly 0 (a ReLU's dead units) |a| + |n| = 0 and 0 / 0
        is nan: the max(eps, ...) guard makes that entry 0. Symmetric in a and n.

    Reference:
        CS231n "Neural Networks Part 3": gradient checks, relative error.
    """
    raise NotImplementedError


def gradcheck(
    f: Callable[[np.ndarray], float],
    grad_f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    h: float = 1e-5,
    tol: float = 1e-6,
) -> tuple[bool, float]:
    """Check an analytic gradient against central differences.

    Math:
        err = relative_error(grad_f(x), numerical_gradient(f, x, h));  ok = err <= tol

    Shapes:
        x: any shape; grad_f(x): x's shape.

    Args:
        f: the scalar function.
        grad_f: its claimed gradient (what your backward pass computes).
        x: the point to check at.
        h: the finite-difference step.
        tol: the largest relative error accepted. In float64, central differences of
            smooth functions give ~1e-10; a wrong gradient gives ~1e-2 or more.

    Returns:
        (ok, max_rel_error): ok a bool; max_rel_error a float.

    Numerics:
        A nan error (see relative_error) must not pass; x is left as it was.

    Reference:
        torch.autograd.gradcheck(fn, (x,), eps=h, atol=..., rtol=...) (it uses an
        absolute plus relative tolerance instead of the relative error).
    """
    raise NotImplementedError
