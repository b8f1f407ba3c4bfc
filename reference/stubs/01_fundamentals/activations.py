"""Activation functions and their gradients: sigmoid, tanh, ReLU, leaky ReLU, GELU, softmax.

Implement with NumPy. Every forward takes x and returns an array of x's shape and dtype.
Every backward takes (dout, x): the upstream gradient dL/dy and the forward's INPUT x (not
its output), recomputes what it needs from x, and returns dL/dx with x's shape and dtype.
Run: pytest katas/01_fundamentals/test_activations.py
"""

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid, squashing any real number into (0, 1).

    Math:
        sigmoid(x) = 1 / (1 + exp(-x)) = exp(x) / (1 + exp(x))

    Shapes:
        x: any shape; returns the same shape.

    Args:
        x: pre-activations (float32 or float64).

    Returns:
        sigmoid(x), x's dtype.

    Numerics:
        exp(-x) overflows for x below about -88 in float32 (-709 in float64). Use
        e = exp(-|x|), which is always in (0, 1]: sigmoid = 1/(1+e) where x >= 0 and
        e/(1+e) where x < 0. Combine the two with np.where.

    Reference:
        torch.sigmoid
    """
    raise NotImplementedError


def sigmoid_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of sigmoid: dL/dx given dL/dy, where y = sigmoid(x).

    Math:
        dy/dx = s * (1 - s) with s = sigmoid(x);  dL/dx = dout * s * (1 - s)

    Shapes:
        dout, x: the same shape; returns that shape.

    Args:
        dout: upstream gradient dL/dy.
        x: the forward's input (not its output: compute s from x).

    Returns:
        dL/dx, x's dtype.

    Numerics:
        Reuse your stable sigmoid.

    Reference:
        torch.sigmoid(x).backward(dout); x.grad
    """
    raise NotImplementedError


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, squashing into (-1, 1) and zero-centred.

    Math:
        tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)) = 2 sigmoid(2x) - 1

    Shapes:
        x: any shape; returns the same shape.

    Args:
        x: pre-activations.

    Returns:
        tanh(x), x's dtype.

    Numerics:
        np.tanh is stable; the exp formula overflows for |x| > ~44 in float32.

    Reference:
        torch.tanh
    """
    raise NotImplementedError


def tanh_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of tanh: dL/dx given dL/dy, where y = tanh(x).

    Math:
        dy/dx = 1 - tanh(x)^2

    Shapes:
        dout, x: the same shape; returns that shape.

    Args:
        dout: upstream gradient dL/dy.
        x: the forward's input.

    Returns:
        dL/dx, x's dtype.

    Numerics:
        Nothing special: tanh(x)^2 <= 1.

    Reference:
        torch.tanh(x).backward(dout); x.grad
    """
    raise NotImplementedError


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit.

    Math:
        relu(x) = max(x, 0)

    Shapes:
        x: any shape; returns the same shape.

    Args:
        x: pre-activations.

    Returns:
        relu(x), x's dtype.

    Numerics:
        Compare with the Python int 0 (np.maximum(x, 0)) so float32 stays float32.

    Reference:
        torch.nn.functional.relu
    """
    raise NotImplementedError


def relu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of ReLU: dout where x > 0, zero elsewhere.

    Math:
        relu'(x) = 1 if x > 0 else 0   (at x == 0 exactly, torch uses 0)

    Shapes:
        dout, x: the same shape; returns that shape.

    Args:
        dout: upstream gradient dL/dy.
        x: the forward's input.

    Returns:
        dL/dx, x's dtype.

    Numerics:
        relu is not differentiable at 0; follow torch's convention relu'(0) = 0.

    Reference:
        torch.nn.functional.relu(x).backward(dout); x.grad
    """
    raise NotImplementedError


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: a small slope for negative inputs instead of a flat zero.

    Math:
        leaky_relu(x) = x if x > 0 else negative_slope * x

    Shapes:
        x: any shape; returns the same shape.

    Args:
        x: pre-activations.
        negative_slope: slope for x <= 0.

    Returns:
        leaky_relu(x), x's dtype.

    Numerics:
        Nothing special.

    Reference:
        torch.nn.functional.leaky_relu(x, negative_slope)
    """
    raise NotImplementedError


def leaky_relu_backward(
    dout: np.ndarray, x: np.ndarray, negative_slope: float = 0.01
) -> np.ndarray:
    """Gradient of leaky ReLU.

    Math:
        leaky_relu'(x) = 1 if x > 0 else negative_slope   (at x == 0: negative_slope, as torch)

    Shapes:
        dout, x: the same shape; returns that shape.

    Args:
        dout: upstream gradient dL/dy.
        x: the forward's input.
        negative_slope: the forward's slope for x <= 0.

    Returns:
        dL/dx, x's dtype.

    Numerics:
        Nothing special.

    Reference:
        torch.nn.functional.leaky_relu(x, negative_slope).backward(dout); x.grad
    """
    raise NotImplementedError


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit: x weighted by the probability that a standard normal is below it.

    Math:
        "none":  gelu(x) = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
        "tanh":  gelu(x) = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))

    Shapes:
        x: any shape; returns the same shape.

    Args:
        x: pre-activations.
        approximate: "none" (exact, erf) or "tanh"; anything else raises ValueError.

    Returns:
        gelu(x), x's dtype.

    Numerics:
        NumPy has no erf (and scipy is not a dependency): `import math` and apply math.erf
        per element, e.g. erf = np.vectorize(math.erf, otypes=[np.float64]), then cast the
        result back to x.dtype. Write constants as Python floats (math.sqrt(2 / math.pi)):
        an np.float64 scalar times a float32 array gives float64 in NumPy 2. Large |x| must
        not give nan.

    Reference:
        torch.nn.functional.gelu(x, approximate="none" | "tanh")
    """
    raise NotImplementedError


def gelu_backward(dout: np.ndarray, x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gradient of GELU, exact or tanh form.

    Math:
        "none":  d/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        "tanh":  u = sqrt(2/pi) (x + 0.044715 x^3),  t = tanh(u)
                 d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)

    Shapes:
        dout, x: the same shape; returns that shape.

    Args:
        dout: upstream gradient dL/dy.
        x: the forward's input.
        approximate: "none" or "tanh", as in the forward.

    Returns:
        dL/dx, x's dtype.

    Numerics:
        As gelu: math.erf per element, cast back to x.dtype; no nan at large |x|.

    Reference:
        torch.nn.functional.gelu(x, approximate=...).backward(dout); x.grad
    """
    raise NotImplementedError


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along one axis: positive values that sum to 1 along that axis.

    Math:
        softmax(x)_i = exp(x_i) / sum_j exp(x_j) = exp(x_i - m) / sum_j exp(x_j - m), any m

    Shapes:
        x: any shape, e.g. logits (N, C) with axis=-1; returns the same shape.

    Args:
        x: logits.
        axis: the axis to normalise over (may be negative, need not be the last).

    Returns:
        softmax(x) along axis, x's dtype.

    Numerics:
        exp(1e4) is inf. Subtract m = max along axis (keepdims=True) first: every exponent
        is then <= 0 and the largest term is exp(0) = 1. Must hold for |x| up to 1e4 in float32.

    Reference:
        torch.nn.functional.softmax(x, dim=axis)
    """
    raise NotImplementedError


def softmax_backward(dout: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of softmax along axis: the Jacobian-vector product.

    Math:
        s = softmax(x);  ds_i/dx_j = s_i ([i == j] - s_j)
        dL/dx = s * (dout - sum(dout * s, axis))

    Shapes:
        dout, x: the same shape; returns that shape.

    Args:
        dout: upstream gradient dL/ds.
        x: the forward's input (logits).
        axis: the forward's axis.

    Returns:
        dL/dx, x's dtype.

    Numerics:
        Never build the (C, C) Jacobian; keepdims=True makes the sum broadcast back.

    Reference:
        torch.nn.functional.softmax(x, dim=axis).backward(dout); x.grad
    """
    raise NotImplementedError


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log of softmax, computed directly: x minus log-sum-exp along axis.

    Math:
        log_softmax(x)_i = x_i - log(sum_j exp(x_j)) = (x_i - m) - log(sum_j exp(x_j - m))

    Shapes:
        x: any shape; returns the same shape.

    Args:
        x: logits.
        axis: the axis to normalise over.

    Returns:
        log_softmax(x) along axis, x's dtype.

    Numerics:
        np.log(softmax(x)) fails: small probabilities underflow to 0 and log(0) = -inf,
        while the true value (e.g. -2e4) is finite. Shift by the max, then subtract the log
        of the sum; the sum is >= 1, so its log is safe.

    Reference:
        torch.nn.functional.log_softmax(x, dim=axis)
    """
    raise NotImplementedError


def log_softmax_backward(dout: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of log_softmax along axis.

    Math:
        dy_i/dx_j = [i == j] - softmax(x)_j
        dL/dx = dout - softmax(x) * sum(dout, axis)

    Shapes:
        dout, x: the same shape; returns that shape.

    Args:
        dout: upstream gradient dL/dy.
        x: the forward's input (logits).
        axis: the forward's axis.

    Returns:
        dL/dx, x's dtype.

    Numerics:
        Use your stable softmax; keepdims=True on the sum.

    Reference:
        torch.nn.functional.log_softmax(x, dim=axis).backward(dout); x.grad
    """
    raise NotImplementedError
