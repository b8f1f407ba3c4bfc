"""Batch normalization: forward and backward by hand, with running statistics.

Each channel (axis 1) is normalised with statistics over every other axis. References:
Ioffe & Szegedy 2015, "Batch Normalization"; CS231n assignment 2; torch's BatchNorm docs.
"""

import numpy as np


def batchnorm_forward(
    x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5
):
    """Normalise each channel, scale and shift it; update the running statistics."""
    axes = (0, *range(2, x.ndim))  # every axis but the channel axis 1
    bshape = (1, -1) + (1,) * (x.ndim - 2)  # (1, C, 1, ...): a (C,) vector against x
    if training:
        n = x.size // x.shape[1]  # values per channel
        if n < 2:
            raise ValueError(f"expected more than 1 value per channel when training, got {n}")
        mean = x.mean(axis=axes)  # (C,)
        xc = x - mean.reshape(bshape)  # (N, C, ...)
        # Two passes (centre, then square) stay accurate when |mean| >> std.
        var = (xc * xc).mean(axis=axes)  # (C,) biased (divide by n): what normalises
        unbiased = var * n / (n - 1)  # what the running estimate tracks, as torch does
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * unbiased
    else:
        mean, var = running_mean, running_var
        xc = x - mean.reshape(bshape)
        new_mean, new_var = running_mean.copy(), running_var.copy()  # eval tracks nothing
    inv_std = 1 / np.sqrt(var + eps)  # (C,)
    xhat = xc * inv_std.reshape(bshape)  # (N, C, ...)
    out = gamma.reshape(bshape) * xhat + beta.reshape(bshape)
    cache = (xhat, gamma, inv_std, axes, bshape)
    return out, cache, new_mean, new_var


def batchnorm_backward(dout, cache):
    """Gradients of the loss w.r.t. x, gamma and beta, for a training-mode forward."""
    xhat, gamma, inv_std, axes, bshape = cache
    n = dout.size // dout.shape[1]  # values per channel
    dbeta = dout.sum(axis=axes)  # (C,)
    dgamma = (dout * xhat).sum(axis=axes)  # (C,)
    dxhat = dout * gamma.reshape(bshape)  # (N, C, ...)
    # mu and var depend on every x of the channel: each adds a mean over the channel.
    # Those means are sums we already have: mean(dxhat) = gamma * dbeta / n and
    # mean(dxhat * xhat) = gamma * dgamma / n, so no further pass over the batch.
    dx = inv_std.reshape(bshape) * (
        dxhat
        - (gamma * dbeta / n).reshape(bshape)  # mean(dxhat): through mu
        - xhat * (gamma * dgamma / n).reshape(bshape)  # mean(dxhat * xhat): through var
    )
    return dx, dgamma, dbeta
