"""Oracle for 03_cnn/transposed_conv: torch in float64, and what known slips return.

The slips are computed with torch (or a few lines of NumPy where torch has no such
mistake to make), independently of the reference solution, so a failure can name them.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def pair(v):
    return (v, v) if isinstance(v, (int, float)) else tuple(v)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    out = F.conv_transpose2d(
        tensor(x), tensor(w), None if b is None else tensor(b),
        stride, padding, output_padding, groups, dilation,
    )  # fmt: skip
    return numpy(out)


def conv_transpose2d_slips(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1,
                           groups=1):  # fmt: skip
    """label -> what a known transposed-convolution mistake returns."""
    tb = None if b is None else tensor(b)
    tx, tw = tensor(x), tensor(w)
    flipped = F.conv_transpose2d(tx, tw.flip(-2, -1), tb, stride, padding, output_padding,
                                 groups, dilation)  # fmt: skip
    full = F.conv_transpose2d(tx, tw, tb, stride, 0, output_padding, groups, dilation)
    H_out, W_out = flipped.shape[2:]
    return {
        "the kernel flipped: tap (a, c) lands at offset (a*d, c*d) as it is (a flip belongs "
        "only to the other formulation, a convolution of the zero-stuffed input)": numpy(flipped),
        "padding cropped from the bottom / right only, not from both sides": numpy(
            full[..., :H_out, :W_out]
        ),
    }


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return numpy(
        F.interpolate(
            tensor(x), size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners
        )
    )


def nearest_slips(x, scale_factor):
    """label -> what a known nearest-neighbour mistake returns."""
    (H, W), (sH, sW) = x.shape[2:], pair(scale_factor)
    H_out, W_out = int(np.floor(H * sH)), int(np.floor(W * sW))

    def src(size, n_out, scale, rounding):
        return np.minimum(rounding(np.arange(n_out) / scale).astype(int), size - 1)

    x = np.asarray(x, dtype=np.float64)
    slips = {}
    for label, rounding, rh, rw in (
        ("round(i / s) instead of floor(i / s)", np.round, sH, sW),
        ("the ratio H / H_out instead of 1 / scale_factor", np.floor, H_out / H, W_out / W),
    ):
        rows, cols = src(H, H_out, rh, rounding), src(W, W_out, rw, rounding)
        slips[label] = x[:, :, rows[:, None], cols]
    return slips


def _bilinear_no_clamp(x, H_out, W_out, sH, sW):
    """align_corners=False with src left negative: floor(-0.25) = -1 reads the LAST pixel."""

    def weights(size, n_out, scale):
        src = (np.arange(n_out) + 0.5) / scale - 0.5
        i0 = np.minimum(np.floor(src).astype(int), size - 1)
        return i0, np.minimum(i0 + 1, size - 1), src - i0

    (r0, r1, tr), (c0, c1, tc) = weights(x.shape[2], H_out, sH), weights(x.shape[3], W_out, sW)
    rows = (1 - tr[:, None]) * x[:, :, r0] + tr[:, None] * x[:, :, r1]
    return (1 - tc) * rows[..., c0] + tc * rows[..., c1]


def bilinear_slips(x, size=None, scale_factor=None, align_corners=False):
    """label -> what a known bilinear mistake returns."""
    H, W = x.shape[2:]
    out = interpolate(x, size, scale_factor, "bilinear", align_corners)
    H_out, W_out = out.shape[2:]
    slips = {
        f"align_corners={not align_corners} used where it is {align_corners}": interpolate(
            x, size, scale_factor, "bilinear", not align_corners
        )
    }
    if not align_corners:
        sH, sW = pair(scale_factor) if scale_factor is not None else (H_out / H, W_out / W)
        slips["src not clamped at 0: the first pixels mix in the LAST pixel (x[-1])"] = (
            _bilinear_no_clamp(np.asarray(x, dtype=np.float64), H_out, W_out, sH, sW)
        )
        if scale_factor is not None:
            slips["the ratio H / H_out instead of 1 / scale_factor"] = interpolate(
                x, (H_out, W_out), None, "bilinear", False
            )
    return slips


def conv2d_input_grad(x, w, dout, stride=1, padding=0, dilation=1, groups=1):
    """torch.autograd's d loss / d x of F.conv2d(x, w) for the upstream gradient dout."""
    tx = tensor(x, grad=True)
    out = F.conv2d(tx, tensor(w), None, stride, padding, dilation, groups)
    (dx,) = torch.autograd.grad(out, tx, tensor(dout))
    return numpy(dx)
