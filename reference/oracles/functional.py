"""Oracles for minigrad's functional kata: one case per function and variant (how to draw
its inputs, the torch.nn.functional call it must match in float64), and what the common
mistakes compute, for the failure messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as tF

from reference.oracles import numpy as to_numpy
from reference.oracles import tensor


@dataclass(frozen=True)
class Case:
    """functional.<fn>(*args, **kwargs) vs torch_fn(*args as float64 tensors, **kwargs).

    make(rng, a, b, c, d) -> (args, kwargs): args in the function's positional order
    (ndarrays, None, or plain values), sizes a..d >= 1. grads: the float args passed as
    Tensors that require grad (the others stay ndarrays). tol: the forward's tolerance.
    """

    id: str
    fn: str
    make: Callable
    torch_fn: Callable
    grads: tuple[str, ...]
    tol: str = "reduction"
    sizes: tuple[int, int, int, int] = (3, 4, 5, 2)


def _labels(rng, n, c):
    return rng.integers(0, c, size=n)


def _linear(bias=True):
    def make(rng, a, b, c, d):
        x = rng.standard_normal((a, b, c))  # leading axes broadcast: (N, T, in)
        w = rng.standard_normal((d, c)) / np.sqrt(c)
        return {"x": x, "weight": w, "bias": rng.standard_normal(d) if bias else None}, {}

    return make


def _logits(dim, scale=1.0):
    def make(rng, a, b, c, d):
        return {"x": rng.standard_normal((a, b, c)) * 3 * scale}, {"dim": dim}

    return make


def _ce(reduction, scale=1.0):
    def make(rng, a, b, c, d):
        logits = rng.standard_normal((a * b, c)) * 3 * scale  # (N, C)
        return {"logits": logits, "target": _labels(rng, a * b, c)}, {"reduction": reduction}

    return make


def _mse(reduction):
    def make(rng, a, b, c, d):
        x, y = rng.standard_normal((a, b, c)), rng.standard_normal((a, b, c))
        return {"input": x, "target": y}, {"reduction": reduction}

    return make


def _dropout(p):
    def make(rng, a, b, c, d):
        x = rng.standard_normal((a, b, c))
        mask = (rng.random((a, b, c)) >= p).astype(np.float64)
        return {"x": x, "mask": mask}, {"p": p}

    return make


def _conv(kh, kw, stride, padding, bias=True):
    def make(rng, a, b, c, d):
        F = 3
        x = rng.standard_normal((a, b, c + kh - 1, d + kw - 1))  # at least one window
        w = rng.standard_normal((F, b, kh, kw)) / np.sqrt(b * kh * kw)
        args = {"x": x, "weight": w, "bias": rng.standard_normal(F) if bias else None}
        return args, {"stride": stride, "padding": padding}

    return make


def _pool(k, stride):
    def make(rng, a, b, c, d):
        x = rng.standard_normal((a, b, c + k - 1, d + k))
        return {"x": x}, {"kernel_size": k, "stride": stride}

    return make


def _emb(rng, a, b, c, d):
    V = a + 1
    indices = rng.integers(0, V, size=(b, c + 1))  # more lookups than rows: repeats
    return {"indices": indices, "weight": rng.standard_normal((V, d))}, {}


def _layer_norm(k, affine=True):
    def make(rng, a, b, c, d):
        x = rng.standard_normal((a, b, c, d)) * 2 + 1
        shape = (a, b, c, d)[4 - k :]
        w = rng.standard_normal(shape) if affine else None  # random gamma: a bug can't hide
        bias = rng.standard_normal(shape) if affine else None
        return {"x": x, "normalized_shape": shape, "weight": w, "bias": bias}, {"eps": 1e-5}

    return make


def _ce_torch(logits, target, reduction):
    return tF.cross_entropy(logits, target, reduction=reduction)


def _dropout_torch(x, mask, p):
    return x * mask / (1 - p)  # torch's convention: kept units scaled by 1/(1-p)


CASES = [
    Case("linear", "linear", _linear(), tF.linear, ("x", "weight", "bias"), "matmul"),
    Case("linear-no-bias", "linear", _linear(False), tF.linear, ("x", "weight"), "matmul"),
    Case("log_softmax-last", "log_softmax", _logits(-1), torch.log_softmax, ("x",)),
    Case("log_softmax-dim0", "log_softmax", _logits(0), torch.log_softmax, ("x",)),
    Case("softmax-last", "softmax", _logits(-1), torch.softmax, ("x",)),
    Case("softmax-dim1", "softmax", _logits(1), torch.softmax, ("x",)),
    Case("cross_entropy-mean", "cross_entropy", _ce("mean"), _ce_torch, ("logits",)),
    Case("cross_entropy-sum", "cross_entropy", _ce("sum"), _ce_torch, ("logits",)),
    Case("cross_entropy-none", "cross_entropy", _ce("none"), _ce_torch, ("logits",)),
    Case("mse_loss-mean", "mse_loss", _mse("mean"), tF.mse_loss, ("input",)),
    Case("mse_loss-none-target-grad", "mse_loss", _mse("none"), tF.mse_loss, ("input", "target")),
    Case("dropout", "dropout", _dropout(0.3), _dropout_torch, ("x",), "elementwise"),
    Case("conv2d", "conv2d", _conv(3, 2, 1, 0), tF.conv2d, ("x", "weight", "bias"), "matmul"),
    Case(
        "conv2d-stride2-pad1",
        "conv2d",
        _conv(3, 3, 2, 1, bias=False),
        tF.conv2d,
        ("x", "weight"),
        "matmul",
        (2, 3, 4, 5),
    ),
    Case("max_pool2d", "max_pool2d", _pool(2, None), tF.max_pool2d, ("x",), "elementwise"),
    Case(
        "max_pool2d-overlapping",
        "max_pool2d",
        _pool(3, 1),
        tF.max_pool2d,
        ("x",),
        "elementwise",
    ),
    Case("embedding", "embedding", _emb, tF.embedding, ("weight",), "elementwise"),
    Case("layer_norm", "layer_norm", _layer_norm(1), tF.layer_norm, ("x", "weight", "bias")),
    Case("layer_norm-2d-no-affine", "layer_norm", _layer_norm(2, False), tF.layer_norm, ("x",)),
]
BY_ID = {c.id: c for c in CASES}


def to_torch(args: dict, grads: tuple[str, ...]) -> list:
    """The args as float64 tensors (those in grads require grad); other values as they are."""
    return [tensor(v, grad=k in grads) if isinstance(v, np.ndarray) else v for k, v in args.items()]


def run(case: Case, args: dict, kwargs: dict, seed_grad: np.ndarray | None = None) -> dict:
    """torch's output ("out"), and, given the output's gradient, each input's ("<name>")."""
    ts = to_torch(args, case.grads)
    out = case.torch_fn(*ts, **kwargs)
    got = {"out": to_numpy(out)}
    if seed_grad is not None:
        out.backward(tensor(seed_grad))
        got.update({k: to_numpy(t.grad) for k, t in zip(args, ts) if k in case.grads})
    return got


# --- what the common mistakes compute (labels for assert_close's mistakes=) -------------------


def _np_log_softmax_naive(x, dim):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(x)
        return np.log(e / e.sum(axis=dim, keepdims=True))


def forward_slips(case: Case, args: dict, kwargs: dict) -> dict:
    """label -> what a known mistake returns for this case's forward (or a thunk)."""
    fn, a = case.fn, list(args.values())
    if fn in ("log_softmax", "softmax"):
        x, dim = a[0], kwargs["dim"]
        naive = _np_log_softmax_naive(x, dim)
        slips = {"exp of the raw logits (no max subtracted): overflow": naive if
                 fn == "log_softmax" else np.exp(naive)}  # fmt: skip
        if dim % x.ndim != x.ndim - 1:
            other = torch.log_softmax(tensor(x), -1)
            slips["normalised over the last axis, not over dim"] = to_numpy(
                other if fn == "log_softmax" else other.exp()
            )
        return slips
    if fn == "cross_entropy":
        logits, target = a
        N, C = logits.shape
        losses = to_numpy(tF.cross_entropy(tensor(logits), tensor(target), reduction="none"))
        return {
            "the mean over all N * C entries instead of over the N examples": losses.sum()
            / (N * C),
            "the sum where the mean was asked": losses.sum(),
        }
    if fn == "dropout":
        x, mask = a
        p = kwargs["p"]
        return {"kept units not scaled by 1/(1-p)": x * mask,
                "kept units scaled by (1-p), the test-time rule": x * mask * (1 - p)}  # fmt: skip
    if fn == "conv2d":
        x, w, b = a
        flipped = tF.conv2d(tensor(x), tensor(w).flip((2, 3)), None if b is None else tensor(b),
                            **kwargs)  # fmt: skip
        return {"the kernel flipped (true convolution; conv2d is cross-correlation)": to_numpy(
            flipped)}  # fmt: skip
    if fn == "layer_norm":
        x, shape, w, b = a
        axes = tuple(range(x.ndim - len(shape), x.ndim))
        if np.prod([x.shape[i] for i in axes]) < 2:
            return {}  # one feature: D - 1 = 0, no unbiased variance to mistake it for
        unbiased = (x - x.mean(axes, keepdims=True)) / np.sqrt(
            x.var(axes, ddof=1, keepdims=True) + kwargs["eps"]
        )
        unbiased = unbiased * (1 if w is None else w) + (0 if b is None else b)
        return {"the unbiased variance (divided by D - 1; torch divides by D)": unbiased}
    return {}


def backward_slips(case: Case, args: dict, kwargs: dict, g: np.ndarray) -> dict:
    """{input name: {label: what a known mistake gives as that input's gradient}}."""
    fn, a = case.fn, list(args.values())
    if fn == "log_softmax":
        p = np.exp(to_numpy(torch.log_softmax(tensor(a[0]), kwargs["dim"])))
        return {"x": {"grad * (1 - softmax): only the diagonal of the Jacobian": g * (1 - p)}}
    if fn == "conv2d":
        x, w, _ = a
        want = run(case, args, kwargs, g)
        F, kh, kw = w.shape[0], w.shape[2], w.shape[3]
        dcols = w.reshape(-1, F) @ g.reshape(g.shape[0], F, -1)  # (C kh kw, F) @ (N, F, L)
        scrambled = tF.fold(tensor(dcols), x.shape[2:], (kh, kw), **kwargs)
        return {
            "weight": {"the weight gradient with the kernel flipped":
                       want["weight"][:, :, ::-1, ::-1]},
            "x": {"dcols from w.reshape(-1, F), a reshape where a transpose (.T) was meant":
                  to_numpy(scrambled)},
        }  # fmt: skip
    if fn == "max_pool2d":
        k = kwargs["kernel_size"]
        x = tensor(a[0], grad=True)
        # avg_pool2d sends grad / k^2 to every element of a window: times k^2 is "everywhere"
        tF.avg_pool2d(x, k, kwargs["stride"]).backward(tensor(g))
        return {"x": {"the gradient sent to every element of the window, not just its max":
                      to_numpy(x.grad) * k * k}}  # fmt: skip
    if fn == "embedding":
        indices, w = a
        assigned = np.zeros_like(w)
        assigned[indices] = g  # what dw[indices] = grad (or +=) keeps: one share per row
        return {"weight": {"dw[indices] = grad: repeated indices overwrite, not accumulate":
                           assigned}}  # fmt: skip
    if fn == "layer_norm":
        x, shape, w, _ = a
        axes = tuple(range(x.ndim - len(shape), x.ndim))
        inv_std = 1 / np.sqrt(x.var(axes, keepdims=True) + kwargs["eps"])
        xhat = (x - x.mean(axes, keepdims=True)) * inv_std
        gh = g * (1 if w is None else w)
        mean = lambda v: v.mean(axes, keepdims=True)  # noqa: E731
        return {"x": {
            "dx without the term through the variance (- xhat * mean(grad * xhat))":
                (gh - mean(gh)) * inv_std,
            "dx without the term through the mean (- mean(grad))":
                (gh - xhat * mean(gh * xhat)) * inv_std,
        }}  # fmt: skip
    return {}


def col2im_assigned(cols, x_shape, kh, kw, stride, padding) -> np.ndarray:
    """col2im with `=` where `+=` belongs: each pixel keeps only the last window's share."""
    N, C, H, W = x_shape
    OH = (H + 2 * padding - kh) // stride + 1
    OW = (W + 2 * padding - kw) // stride + 1
    cols = cols.reshape(N, C, kh, kw, OH, OW)
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i : i + stride * OH : stride, j : j + stride * OW : stride] = cols[:, :, i, j]
    return xp[:, :, padding : padding + H, padding : padding + W]
