"""Layer normalization and group normalization (instance norm is a special case).

Each example is normalised on its own: no batch statistics, no running averages.
References: Ba, Kiros & Hinton 2016, "Layer Normalization"; Wu & He 2018, "Group
Normalization"; Ulyanov et al. 2016, "Instance Normalization".
"""

import numpy as np


def _standardize_backward(dxhat, xhat, inv_std, axes):
    """dx from d loss / d xhat, for xhat = (x - mean) * inv_std with stats over `axes`."""
    # mu and var depend on every x they were taken over: each adds a mean over `axes`.
    return inv_std * (
        dxhat
        - dxhat.mean(axis=axes, keepdims=True)  # through mu
        - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)  # through var
    )


def layernorm_forward(x, normalized_shape, gamma, beta, eps=1e-5):
    """Normalise over the trailing axes of each example, then scale and shift elementwise."""
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))  # the last k axes
    mean = x.mean(axis=axes, keepdims=True)  # (*lead, 1, ..., 1)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)  # biased, as torch
    inv_std = 1 / np.sqrt(var + eps)
    xhat = xc * inv_std  # (*lead, *normalized_shape)
    out = gamma * xhat + beta  # gamma, beta broadcast over the leading axes
    return out, (xhat, gamma, inv_std, axes)


def layernorm_backward(dout, cache):
    """Gradients of the loss w.r.t. x, gamma and beta for layer norm."""
    xhat, gamma, inv_std, axes = cache
    lead = tuple(range(dout.ndim - len(axes)))  # the axes gamma is shared across
    dgamma = (dout * xhat).sum(axis=lead)  # normalized_shape
    dbeta = dout.sum(axis=lead)
    dx = _standardize_backward(dout * gamma, xhat, inv_std, axes)
    return dx, dgamma, dbeta


def groupnorm_forward(x, num_groups, gamma, beta, eps=1e-5):
    """Normalise each group of consecutive channels per example; scale and shift per channel."""
    N, C = x.shape[:2]
    if C % num_groups:
        raise ValueError(f"num_groups={num_groups} must divide the {C} channels")
    bshape = (1, -1) + (1,) * (x.ndim - 2)  # (1, C, 1, ...): a (C,) vector against x
    # Channels are consecutive in memory order, so group g is channels g*C/G ... (g+1)*C/G - 1.
    xg = x.reshape(N, num_groups, -1)  # (N, G, C/G * spatial)
    mean = xg.mean(axis=2, keepdims=True)  # (N, G, 1)
    xc = xg - mean
    var = (xc * xc).mean(axis=2, keepdims=True)  # (N, G, 1), biased
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (xc * inv_std).reshape(x.shape)  # back to (N, C, *spatial)
    out = gamma.reshape(bshape) * xhat + beta.reshape(bshape)
    return out, (xhat, gamma, inv_std, num_groups, bshape)


def groupnorm_backward(dout, cache):
    """Gradients of the loss w.r.t. x, gamma and beta for group norm."""
    xhat, gamma, inv_std, num_groups, bshape = cache
    N = dout.shape[0]
    channel_axes = (0, *range(2, dout.ndim))  # gamma is shared across N and the pixels
    dgamma = (dout * xhat).sum(axis=channel_axes)  # (C,)
    dbeta = dout.sum(axis=channel_axes)  # (C,)
    dxhat = (dout * gamma.reshape(bshape)).reshape(N, num_groups, -1)  # (N, G, C/G * spatial)
    dx = _standardize_backward(dxhat, xhat.reshape(N, num_groups, -1), inv_std, axes=2)
    return dx.reshape(dout.shape), dgamma, dbeta
