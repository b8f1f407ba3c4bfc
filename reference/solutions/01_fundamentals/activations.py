"""Activation functions and their gradients.

Every backward takes (dout, x): the upstream gradient and the forward's *input*, and
recomputes what it needs from x. Results keep x's dtype. References: CS231n lecture 4
notes; Hendrycks & Gimpel, "Gaussian Error Linear Units" (2016).
"""

import math

import numpy as np

# math.erf works on one Python float; vectorised it takes arrays. It computes in float64,
# so callers cast back to the input dtype.
_erf = np.vectorize(math.erf, otypes=[np.float64])
# Python floats, not np.float64 scalars: NumPy 2 would promote float32 arrays to float64.
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), without overflow."""
    # exp(-|x|) is in (0, 1]: it never overflows. For x < 0, 1/(1+exp(-x)) = e/(1+e).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dout, x):
    """dL/dx for y = sigmoid(x)."""
    s = sigmoid(x)
    return dout * s * (1 - s)


def tanh(x):
    """Hyperbolic tangent."""
    return np.tanh(x)


def tanh_backward(dout, x):
    """dL/dx for y = tanh(x)."""
    t = np.tanh(x)
    return dout * (1 - t**2)


def relu(x):
    """max(x, 0)."""
    return np.maximum(x, 0)


def relu_backward(dout, x):
    """dL/dx for y = relu(x); relu'(0) = 0 as in torch."""
    # Strictly positive: at x == 0 torch treats the unit as off.
    return np.where(x > 0, dout, 0)


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_backward(dout, x, negative_slope=0.01):
    """dL/dx for y = leaky_relu(x); the slope at 0 is negative_slope, as in torch."""
    return np.where(x > 0, dout, negative_slope * dout)


def _gelu_tanh_inner(x):
    """u = sqrt(2/pi) * (x + 0.044715 x^3), the argument of tanh in GELU's tanh form."""
    return _SQRT_2_OVER_PI * (x + 0.044715 * x**3)


def gelu(x, approximate="none"):
    """x * Phi(x) (exact, with erf) or its tanh approximation."""
    if approximate == "none":
        # Phi(x) = (1 + erf(x / sqrt 2)) / 2 is the standard normal CDF.
        return (0.5 * x * (1 + _erf(x * _INV_SQRT_2))).astype(x.dtype)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_gelu_tanh_inner(x)))
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu_backward(dout, x, approximate="none"):
    """dL/dx for y = gelu(x, approximate)."""
    if approximate == "none":
        # d/dx [x Phi(x)] = Phi(x) + x phi(x), phi the standard normal density.
        cdf = 0.5 * (1 + _erf(x * _INV_SQRT_2))
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * x**2)
        return (dout * (cdf + x * pdf)).astype(x.dtype)
    if approximate == "tanh":
        t = np.tanh(_gelu_tanh_inner(x))
        du_dx = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
        # Product rule on 0.5 x (1 + t), with dt/du = 1 - t^2.
        return dout * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * du_dx)
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along axis, computed after subtracting the max."""
    # softmax(x) = softmax(x - c) for any c; with c = max every exponent is <= 0,
    # so exp cannot overflow, and the max element gives exp(0) = 1, so the sum is >= 1.
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_backward(dout, x, axis=-1):
    """dL/dx for y = softmax(x, axis): the Jacobian-vector product, without the Jacobian."""
    s = softmax(x, axis=axis)
    # J = diag(s) - s s^T, so J^T dout = s * (dout - <dout, s>) along the axis.
    return s * (dout - np.sum(dout * s, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along axis."""
    # log(softmax) would take the log of values that underflowed to 0 (-inf);
    # instead subtract the log-sum-exp, computed on max-shifted values.
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(dout, x, axis=-1):
    """dL/dx for y = log_softmax(x, axis)."""
    # d y_i / d x_j = [i == j] - softmax(x)_j, so dx = dout - softmax(x) * sum(dout).
    return dout - softmax(x, axis=axis) * np.sum(dout, axis=axis, keepdims=True)
