"""Gradient checking: central differences and the relative error.

A backward pass is right when it agrees with the slope you can measure by nudging
each input. References: CS231n notes ("Neural Networks Part 3", gradient checks);
torch.autograd.gradcheck.
"""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """Central-difference estimate of the gradient of a scalar function f at x."""
    grad = np.zeros_like(x)  # x's shape and dtype
    # np.ndindex walks every index of any shape (0-d too), and x[idx] = ... writes
    # through to the caller's array even when x is a non-contiguous view.
    for idx in np.ndindex(x.shape):
        old = x[idx]  # a scalar: a copy of the value, not a view
        try:
            x[idx] = old + h
            f_plus = f(x)
            x[idx] = old - h
            f_minus = f(x)
        finally:
            # Write the saved value back, even when f raises: += h, -= 2h, += h
            # need not round back to old, and x must end bit-for-bit as it began.
            x[idx] = old
        # (f(x + h) - f(x - h)) / 2h: the error is O(h^2), a one-sided difference's is O(h).
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, n, eps=1e-12):
    """Largest elementwise relative error between two gradients."""
    a = np.asarray(a, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    # The guard keeps 0 / 0 (both gradients exactly zero) at 0 instead of nan.
    err = np.abs(a - n) / np.maximum(eps, np.abs(a) + np.abs(n))
    return float(np.max(err))


def gradcheck(f, grad_f, x, h=1e-5, tol=1e-6):
    """Compare an analytic gradient with central differences; (ok, max relative error)."""
    analytic = grad_f(x)
    numeric = numerical_gradient(f, x, h)
    err = relative_error(analytic, numeric)
    return err <= tol, err
