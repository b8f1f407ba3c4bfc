"""Oracle for 03_cnn/conv2d: F.conv2d and autograd in float64, and what known slips give."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def conv2d(x, w, b=None, dout=None, **kw) -> dict[str, np.ndarray | None]:
    """torch's out (and dx, dw, db given dout), in float64. kw: stride, padding, ..."""
    tx, tw = tensor(x, grad=True), tensor(w, grad=True)
    tb = None if b is None else tensor(b, grad=True)
    out = F.conv2d(tx, tw, tb, **kw)
    result = {"out": numpy(out)}
    if dout is not None:
        out.backward(tensor(dout))
        result.update(
            dx=numpy(tx.grad), dw=numpy(tw.grad), db=None if b is None else numpy(tb.grad)
        )
    return result


def out_shape(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1) -> tuple:
    """The shape F.conv2d returns (by running it on zeros: no formula of ours)."""
    return tuple(F.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), None, stride, padding,
                          dilation, groups).shape)  # fmt: skip


# ----------------------------------------------------------------------------- known slips
# What a learner's result would be after a known slip. Functions of no arguments:
# assert_close computes them only when the learner's answer is wrong.


def shape_slips(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1) -> dict:
    """{mistake: the output shape it gives}, for slips that change the output's size."""
    N, _, H, W = x_shape
    C_out, _, kH, kW = w_shape
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    no_dilation = (N, C_out, (H + 2 * ph - kH) // sh + 1, (W + 2 * pw - kW) // sw + 1)
    one_pad = (
        N,
        C_out,
        (H + ph - dh * (kH - 1) - 1) // sh + 1,
        (W + pw - dw * (kW - 1) - 1) // sw + 1,
    )
    return {
        "the output size without the dilation, (H + 2p - k) // s + 1; a dilated kernel "
        "spans d * (k - 1) + 1 pixels": no_dilation,
        "the padding counted once, (H + p - d * (k - 1) - 1) // s + 1; p zeros go on BOTH "
        "sides": one_pad,
    }


FLIPPED = (
    "true convolution, the kernel flipped (w[:, :, ::-1, ::-1]); F.conv2d and every framework "
    "compute cross-correlation"
)
ONE_SIDE = "padding on one side only: 2p zeros below and to the right, none above and to the left"
INTERLEAVED = (
    "groups that take interleaved channels (channel c in group c % groups) instead of "
    "consecutive blocks of C_in // groups"
)
STRIDE_IGNORED = (
    "the stride ignored when scattering back (col2im wrote each kernel offset's gradients "
    "to consecutive pixels, not to every s-th one)"
)
ASSIGNED = (
    "col2im assigned (=) instead of adding (+=): where windows overlap, only the last kernel "
    "offset's gradient survives"
)
LAST_EXAMPLE = (
    "dw from the last example only: overwritten in a loop over the batch, not summed over it"
)


def dx_shape_slips(x_shape, padding=0, **_) -> dict:
    """{mistake: the dx shape it gives}."""
    (ph, pw), (N, C, H, W) = pair(padding), x_shape
    return {
        "the padding kept in dx: cut its rows and columns off (dxp[:, :, p : p + H, p : p + W])": (
            N,
            C,
            H + 2 * ph,
            W + 2 * pw,
        )
    }


def forward_slips(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> dict:
    """{mistake: callable giving conv2d's out after that mistake}."""
    kw = dict(stride=stride, dilation=dilation, groups=groups)
    (ph, pw), C, G = pair(padding), x.shape[1], groups

    def one_side():
        xp = F.pad(tensor(x), (0, 2 * pw, 0, 2 * ph))  # all 2p zeros after the image
        return F.conv2d(xp, tensor(w), None if b is None else tensor(b), padding=0, **kw)

    # Group g as channels g, g + G, g + 2G, ...: F.conv2d on the channels permuted.
    interleaved = [g + G * i for g in range(G) for i in range(C // G)]
    slips = {
        FLIPPED: lambda: conv2d(x, np.flip(w, (2, 3)), b, padding=padding, **kw)["out"],
        ONE_SIDE: one_side,
        "the bias left out": lambda: conv2d(x, w, None, padding=padding, **kw)["out"],
    }
    if G > 1 and C // G > 1:
        slips[INTERLEAVED] = lambda: conv2d(x[:, interleaved], w, b, padding=padding, **kw)["out"]
    return slips


def backward_slips(x, w, b, dout, stride=1, padding=0, dilation=1, groups=1) -> dict:
    """{"dx" | "dw" | "db": {mistake: callable}} for conv2d_backward's results."""
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    H, W = x.shape[2:]

    def stride_ignored():
        # Each kernel offset's gradients land on H_out x W_out consecutive pixels, as if
        # the stride were 1: a stride-1 transposed convolution, then the padding cut off.
        full = F.conv_transpose2d(tensor(dout), tensor(w), None, 1, 0, 0, groups, (dh, dw))
        Hp, Wp = H + 2 * ph, W + 2 * pw
        full = F.pad(full, (0, max(0, Wp - full.shape[3]), 0, max(0, Hp - full.shape[2])))
        return full[:, :, ph : ph + H, pw : pw + W]

    def assigned():
        # col2im with = instead of +=, offsets in raster order: the last writer wins.
        N, C = x.shape[:2]
        C_out, Cg, kH, kW = w.shape
        H_out, W_out = dout.shape[2:]
        d = tensor(dout).reshape(N, groups, C_out // groups, H_out * W_out)
        wm = tensor(w).reshape(groups, C_out // groups, Cg * kH * kW)
        dcols = torch.einsum("gok,ngop->ngkp", wm, d).reshape(N, C, kH, kW, H_out, W_out)
        dxp = torch.zeros(N, C, H + 2 * ph, W + 2 * pw, dtype=torch.float64)
        for u in range(kH):
            for v in range(kW):
                rows = slice(u * dh, u * dh + sh * H_out, sh)
                cols = slice(v * dw, v * dw + sw * W_out, sw)
                dxp[:, :, rows, cols] = dcols[:, :, u, v]
        return dxp[:, :, ph : ph + H, pw : pw + W]

    slips = {
        "dx": {
            "dx computed with the kernel flipped": lambda: conv2d(
                x, np.flip(w, (2, 3)), None, dout=dout, **kw
            )["dx"],
            ASSIGNED: assigned,
        },
        "dw": {LAST_EXAMPLE: lambda: conv2d(x[-1:], w, None, dout=dout[-1:], **kw)["dw"]},
    }
    if (sh, sw) != (1, 1):
        slips["dx"][STRIDE_IGNORED] = stride_ignored
    return slips
