"""Batch normalization: forward and backward by hand, with running statistics.

Implement with NumPy. Each channel (axis 1) is normalised with statistics taken over
every other axis: the batch, and for images every pixel too. Training uses the batch's
statistics and updates running averages; evaluation uses the running averages.

    out, cache, rm, rv = batchnorm_forward(x, gamma, beta, rm, rv, training=True)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)

Run: pytest katas/02_training/test_batchnorm.py
"""

import numpy as np


def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    *,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, object, np.ndarray, np.ndarray]:
    """Normalise each channel, scale and shift it; update the running statistics.

    Math:
        n = number of values per channel (N times the spatial size)
        training:  mu = mean of x over every axis but 1;  var = mean of (x - mu)^2
                   (biased: divide by n)
                   new_running_mean = (1 - momentum) * running_mean + momentum * mu
                   new_running_var  = (1 - momentum) * running_var
                                      + momentum * var * n / (n - 1)   (unbiased)
        eval:      mu, var = running_mean, running_var; both returned unchanged
        xhat = (x - mu) / sqrt(var + eps);   out = gamma * xhat + beta   (per channel)

    Shapes:
        x: (N, C) or (N, C, *spatial), e.g. (N, C, H, W); out: the same as x.
        gamma, beta, running_mean, running_var: (C,); the new running stats: (C,).

    Args:
        x: the batch; channels on axis 1, any memory layout.
        gamma, beta: the per-channel scale and shift (weight and bias in torch).
        running_mean, running_var: the running statistics so far.
        training: True uses and tracks batch statistics; False uses the running ones.
        momentum: weight of the current batch in the running average.
        eps: added to the variance inside the square root.

    Returns:
        out: x's shape and dtype.
        cache: whatever batchnorm_backward needs (any object you like).
        new_running_mean, new_running_var: (C,), the updated statistics in training;
            in eval the same values as the inputs (returning the inputs themselves is fine).

    Numerics:
        Inputs are never modified: return new arrays (torch updates its buffers in place;
        here you return them). Keep x's dtype (float32 in, float32 out). Compute the
        variance as the mean of (x - mu)^2, not mean(x^2) - mu^2, which cancels badly
        when |mu| is large. A constant channel has var = 0: eps keeps it finite.
        Training with a single value per channel (n = 1) raises ValueError, as torch does.

    Reference:
        torch.nn.BatchNorm1d (x of 2 or 3 dims), BatchNorm2d (4), BatchNorm3d (5);
        F.batch_norm(x, running_mean, running_var, gamma, beta, training, momentum, eps).
    """
    raise NotImplementedError


def batchnorm_backward(
    dout: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the loss w.r.t. x, gamma and beta, for a training-mode forward.

    Math:
        sums and means over every axis but 1, per channel, n values each:
        dbeta = sum(dout);  dgamma = sum(dout * xhat);  dxhat = dout * gamma
        dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
        (the two means are the gradient flowing through mu and through var)

    Shapes:
        dout, dx: x's shape; dgamma, dbeta: (C,).

    Args:
        dout: d loss / d out.
        cache: what batchnorm_forward returned for the same batch, in training mode.

    Returns:
        (dx, dgamma, dbeta), in dout's dtype.

    Numerics:
        Reuse xhat and 1 / sqrt(var + eps) from the forward; do not recompute them.

    Reference:
        torch.autograd: out.backward(dout) on nn.BatchNorm2d in training mode fills
        x.grad, weight.grad and bias.grad.
    """
    raise NotImplementedError
