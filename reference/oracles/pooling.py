"""Oracle for 03_cnn/pooling: torch's pools + autograd in float64, and known slips.

The slips are what a common mistake returns on the same input, computed independently
of the reference solution (torch's unfold/fold and return_indices), so a failure can
name the mistake.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def maxpool(x, kernel_size, stride=None, padding=0, dout=None):
    """(out, dx): F.max_pool2d and, when dout is given, autograd's d loss / d x."""
    tx = tensor(x, grad=True)
    out = F.max_pool2d(tx, kernel_size, stride, padding)
    if dout is None:
        return numpy(out), None
    (dx,) = torch.autograd.grad(out, tx, tensor(dout))
    return numpy(out), numpy(dx)


def avgpool(x, kernel_size, stride=None, padding=0, count_include_pad=True, dout=None):
    """(out, dx): F.avg_pool2d and, when dout is given, autograd's d loss / d x."""
    tx = tensor(x, grad=True)
    out = F.avg_pool2d(tx, kernel_size, stride, padding, count_include_pad=count_include_pad)
    if dout is None:
        return numpy(out), None
    (dx,) = torch.autograd.grad(out, tx, tensor(dout))
    return numpy(out), numpy(dx)


def spp(x, levels=(1, 2, 4)):
    tx = tensor(x)
    return numpy(torch.cat([F.adaptive_max_pool2d(tx, lv).flatten(1) for lv in levels], dim=1))


# ----------------------------------------------------------------------------- slips


def _columns(x, kernel_size, stride, padding):
    """Windows of x padded with -inf, via unfold: (N, C, kH * kW, L), row-major in a window."""
    (pH, pW), k = pair(padding), pair(kernel_size)
    tx = F.pad(tensor(x), (pW, pW, pH, pH), value=float("-inf"))
    N, C = tx.shape[:2]
    cols = F.unfold(tx, k, stride=stride if stride is not None else k)  # (N, C*kH*kW, L)
    return cols.reshape(N, C, k[0] * k[1], -1)


def _fold(cols, x, kernel_size, stride, padding):
    """Sum window contributions (N, C, kH * kW, L) back into an (N, C, H, W) gradient."""
    (pH, pW), k = pair(padding), pair(kernel_size)
    N, C, H, W = x.shape
    dxp = F.fold(
        cols.reshape(N, C * k[0] * k[1], -1),
        (H + 2 * pH, W + 2 * pW),
        k,
        stride=stride if stride is not None else k,
    )
    return numpy(dxp[:, :, pH : pH + H, pW : pW + W])


def maxpool_backward_slips(x, kernel_size, stride, padding, dout):
    """label -> the dx a known max-pool backward mistake returns."""
    cols = _columns(x, kernel_size, stride, padding)  # (N, C, K, L)
    g = tensor(dout).flatten(2)[:, :, None, :]  # (N, C, 1, L)
    K = cols.shape[2]
    is_max = cols == cols.max(dim=2, keepdim=True).values
    last = K - 1 - torch.flip(cols, dims=(2,)).argmax(dim=2, keepdim=True)
    last_hot = torch.zeros_like(cols).scatter_(2, last, 1.0)
    slips = {
        "every tied maximum gets the gradient (torch gives it to the first only)": _fold(
            is_max * g, x, kernel_size, stride, padding
        ),
        "the LAST maximum of a tie gets the gradient (torch: the first, in row-major order)": (
            _fold(last_hot * g, x, kernel_size, stride, padding)
        ),
    }
    # dx[idx] += dout with repeated indices: NumPy keeps one write, not the sum.
    _, idx = F.max_pool2d(tensor(x), kernel_size, stride, padding, return_indices=True)
    N, C, H, W = x.shape
    dx = np.zeros((N * C, H * W))
    dx[np.arange(N * C)[:, None], idx.reshape(N * C, -1).numpy()] = np.reshape(dout, (N * C, -1))
    label = (
        "dx[idx] += dout with fancy indexing: a pixel picked by several overlapping windows "
        "gets one of their gradients, not the sum (np.add.at adds them all)"
    )
    slips[label] = dx.reshape(N, C, H, W)
    return slips


def maxpool_zero_pad(x, kernel_size, stride, padding, dout=None):
    """(out, dx) of max pooling over a ZERO-padded x: the pad wins over negative pixels."""
    (pH, pW) = pair(padding)
    tx = tensor(x, grad=True)
    out = F.max_pool2d(F.pad(tx, (pW, pW, pH, pH), value=0.0), kernel_size, stride)
    if dout is None:
        return numpy(out), None
    (dx,) = torch.autograd.grad(out, tx, tensor(dout))
    return numpy(out), numpy(dx)


def floor_end_bins(x, output_size, reduce):
    """Adaptive pooling with end = floor((i+1) * H / H_out): None when a bin comes out empty."""
    H_out, W_out = pair(output_size)
    H, W = x.shape[2:]
    if H_out > H or W_out > W:
        return None
    rs = [(i * H // H_out, (i + 1) * H // H_out) for i in range(H_out)]
    cs = [(j * W // W_out, (j + 1) * W // W_out) for j in range(W_out)]
    out = np.empty(x.shape[:2] + (H_out, W_out))
    for i, (r0, r1) in enumerate(rs):
        for j, (c0, c1) in enumerate(cs):
            out[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
    return out
