"""Oracle for 02_training/batchnorm: nn.BatchNorm{1,2,3}d with copied buffers, and autograd."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from reference.oracles import numpy, tensor

MODULES = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}


def batchnorm(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5,
              dout=None) -> dict[str, np.ndarray]:  # fmt: skip
    """torch's out and new running stats (and dx, dgamma, dbeta given dout), in float64."""
    bn = MODULES[x.ndim](x.shape[1], eps=eps, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(tensor(gamma))
        bn.bias.copy_(tensor(beta))
        bn.running_mean.copy_(tensor(running_mean))
        bn.running_var.copy_(tensor(running_var))
    bn.train(training)
    t = tensor(x, grad=True)
    out = bn(t)
    result = {"out": numpy(out), "mean": numpy(bn.running_mean), "var": numpy(bn.running_var)}
    if dout is not None:
        out.backward(tensor(dout))
        result.update(dx=numpy(t.grad), dgamma=numpy(bn.weight.grad), dbeta=numpy(bn.bias.grad))
    return result


def batch_stats(x) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-channel mean, biased variance and count n, in float64 (for naming mistakes)."""
    x = np.asarray(x, dtype=np.float64)
    axes = (0, *range(2, x.ndim))
    return x.mean(axis=axes), x.var(axis=axes), x.size // x.shape[1]


def channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped to broadcast against an (N, C, ...) array."""
    return np.asarray(v, dtype=np.float64).reshape((1, -1) + (1,) * (ndim - 2))


# ----------------------------------------------------------------------------- known mistakes
# What a learner's result would be after a known slip, in float64: assert_close names the
# slip when the learner's numbers equal one of these.


def forward_slips(args, training, momentum, eps) -> dict[str, dict[str, np.ndarray]]:
    """{"out" | "mean" | "var": {mistake: value}} for batchnorm_forward's outputs."""
    x, gamma, beta, rm, rv = (np.asarray(a, dtype=np.float64) for a in args)
    mu, var, n = batch_stats(x)
    g, b = channel(gamma, x.ndim), channel(beta, x.ndim)

    def norm(m, v):  # gamma * (x - m) / sqrt(v + eps) + beta, with (C,) vectors m and v
        return g * (x - channel(m, x.ndim)) / np.sqrt(channel(v, x.ndim) + eps) + b

    if not training:
        if n < 2:  # no batch statistics to mistake for the running ones
            return {"out": {}, "mean": {}, "var": {}}
        trained = batchnorm(*args, training=True, momentum=momentum, eps=eps)
        return {
            "out": {"batch statistics in eval mode": trained["out"]},
            "mean": {"running stats updated in eval mode": trained["mean"]},
            "var": {"running stats updated in eval mode": trained["var"]},
        }
    unbiased = var * n / (n - 1)
    per_pixel = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)  # stats over axis 0 only
    eps_outside = (x - channel(mu, x.ndim)) / (np.sqrt(channel(var, x.ndim)) + eps)
    reversed_ = "momentum the wrong way round, (1 - m) * batch"
    return {
        "out": {
            "statistics over axis 0 only (one mean per pixel, not per channel)": g * per_pixel + b,
            "normalised with the unbiased variance (n - 1)": norm(mu, unbiased),
            "eps added outside the square root": g * eps_outside + b,
            "the running statistics used in training": norm(rm, rv),
        },
        "mean": {reversed_: momentum * rm + (1 - momentum) * mu},
        "var": {
            "the biased batch variance in the running update": (1 - momentum) * rv + momentum * var,
            reversed_: momentum * rv + (1 - momentum) * unbiased,
        },
    }


def dx_slips(x, gamma, dout, eps) -> dict[str, np.ndarray]:
    """dx with the gradient through the batch mean, the variance or both left out."""
    x = np.asarray(x, dtype=np.float64)
    (mu, var, _), axes = batch_stats(x), (0, *range(2, x.ndim))
    inv_std = channel(1 / np.sqrt(var + eps), x.ndim)
    xhat, dxhat = (x - channel(mu, x.ndim)) * inv_std, dout * channel(gamma, x.ndim)
    through_mu = dxhat.mean(axis=axes, keepdims=True)
    through_var = xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)
    return {
        "mu and var treated as constants: dx = dout * gamma / std": dxhat * inv_std,
        "the gradient through mu (- mean of dxhat) left out": inv_std * (dxhat - through_var),
        "the gradient through var left out": inv_std * (dxhat - through_mu),
    }
