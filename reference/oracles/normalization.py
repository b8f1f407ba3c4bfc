"""Oracle for 02_training/normalization: F.layer_norm, F.group_norm and autograd, float64."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def _run(fn, x, gamma, beta, dout) -> dict[str, np.ndarray]:
    t, w, b = tensor(x, grad=True), tensor(gamma, grad=True), tensor(beta, grad=True)
    out = fn(t, w, b)
    result = {"out": numpy(out)}
    if dout is not None:
        out.backward(tensor(dout))
        result.update(dx=numpy(t.grad), dgamma=numpy(w.grad), dbeta=numpy(b.grad))
    return result


def layer_norm(x, normalized_shape, gamma, beta, eps=1e-5, dout=None) -> dict[str, np.ndarray]:
    """torch's out (and dx, dgamma, dbeta given dout)."""
    return _run(lambda t, w, b: F.layer_norm(t, tuple(normalized_shape), w, b, eps),
                x, gamma, beta, dout)  # fmt: skip


def group_norm(x, num_groups, gamma, beta, eps=1e-5, dout=None) -> dict[str, np.ndarray]:
    """torch's out (and dx, dgamma, dbeta given dout).

    torch.group_norm is the op F.group_norm calls after a batch-norm style size check that
    refuses one value per group when N = 1; statistics here are per example, so that
    input is well defined (xhat = 0) and the kata's edge case uses it.
    """
    return _run(lambda t, w, b: torch.group_norm(t, num_groups, w, b, eps), x, gamma, beta, dout)


def instance_norm(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """F.instance_norm with affine weights: per example and channel, over the pixels."""
    return numpy(F.instance_norm(tensor(x), weight=tensor(gamma), bias=tensor(beta), eps=eps))


def layer_norm_then_channel_affine(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """F.layer_norm over (C, *spatial) without affine, then a per-channel gamma and beta."""
    ch = (1, -1) + (1,) * (np.ndim(x) - 2)
    xhat = numpy(F.layer_norm(tensor(x), tuple(np.shape(x)[1:]), eps=eps))
    return np.reshape(gamma, ch) * xhat + np.reshape(beta, ch)


def standardize(x, axes, eps=1e-5, ddof=0, eps_inside=True) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) over axes in float64, for naming mistakes."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return xc / (np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps)


# ----------------------------------------------------------------------------- known mistakes
# What a learner's result would be after a known slip, in float64: assert_close names the
# slip when the learner's numbers equal one of these.


def _dx_slips(dxhat, xhat, inv_std, axes, shape) -> dict[str, np.ndarray]:
    """dx with the gradient through mu, var or both left out."""
    through_mu = dxhat.mean(axis=axes, keepdims=True)
    through_var = xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)
    slips = {
        "mu and var treated as constants: dx = dout * gamma / std": dxhat,
        "the gradient through mu (- mean of dxhat) left out": dxhat - through_var,
        "the gradient through var left out": dxhat - through_mu,
    }
    return {k: (inv_std * v).reshape(shape) for k, v in slips.items()}


def layer_norm_slips(x, k, gamma, beta, eps, dout=None) -> dict[str, np.ndarray]:
    """Slips in out (dout None) or in dx, for layer norm over the last k axes."""
    x, g = np.asarray(x, dtype=np.float64), np.asarray(gamma, dtype=np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    if dout is not None:
        inv_std = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
        return _dx_slips(dout * g, standardize(x, axes, eps), inv_std, axes, x.shape)
    slips = {"eps added outside the square root": standardize(x, axes, eps, eps_inside=False)}
    if np.prod(x.shape[x.ndim - k :]) > 1:
        slips["the unbiased variance (n - 1)"] = standardize(x, axes, eps, ddof=1)
    if k > 1:
        slips["statistics over the last axis only"] = standardize(x, -1, eps)
    return {m: g * v + beta for m, v in slips.items()}


def group_norm_slips(x, G, gamma, beta, eps, dout=None) -> dict[str, np.ndarray]:
    """Slips in out (dout None) or in dx, for group norm with G groups."""
    x = np.asarray(x, dtype=np.float64)
    (N, C), ch = x.shape[:2], (1, -1) + (1,) * (x.ndim - 2)
    g, xg = np.reshape(gamma, ch).astype(np.float64), x.reshape(N, G, -1)  # (N, G, C/G * S)
    if dout is not None:
        inv_std = 1 / np.sqrt(xg.var(axis=2, keepdims=True) + eps)
        dxhat = (dout * g).reshape(N, G, -1)
        return _dx_slips(dxhat, standardize(xg, 2, eps), inv_std, 2, x.shape)
    mixed = x.reshape(N, C // G, G, -1).swapaxes(1, 2).reshape(N, G, -1)  # group g: c % G == g
    slips = {
        "groups of interleaved channels (c % G), not consecutive ones": standardize(mixed, 2, eps)
        .reshape(N, G, C // G, -1)
        .swapaxes(1, 2),
        "reshape (N, -1, G): groups interleaved element by element": standardize(
            x.reshape(N, -1, G), 1, eps
        ),
        "statistics over the whole batch too": standardize(xg, (0, 2), eps),
        "one group per channel (instance norm)": standardize(x.reshape(N, C, -1), 2, eps),
        "one group for all channels": standardize(x.reshape(N, 1, -1), 2, eps),
    }
    return {m: g * v.reshape(x.shape) + np.reshape(beta, ch) for m, v in slips.items()}
