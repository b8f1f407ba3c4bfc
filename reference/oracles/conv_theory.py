"""Oracle for 03_cnn/conv_theory: measured, not computed from formulas.

Output sizes from the shape F.conv2d returns; receptive fields from an autograd
experiment; parameter counts from nn.Conv2d / nn.Linear; a conv's multiply-adds by
running it on ones; shifts with F.pad. (torch's FlopCounterMode would count FLOPs too,
but it imports torch._dynamo: 3 s, more than this kata's whole budget.)
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reference.oracles import tensor


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1) -> int:
    """The length F.conv2d gives along one axis (a 1 x size image, a 1 x kernel filter)."""
    x, w = torch.zeros(1, 1, 1, size), torch.zeros(1, 1, 1, kernel)
    return F.conv2d(x, w, None, (1, stride), (0, padding), (1, dilation)).shape[-1]


def fits(size, kernel, stride=1, padding=0, dilation=1) -> bool:
    try:
        conv_output_size(size, kernel, stride, padding, dilation)
    except RuntimeError:  # torch: "Kernel size can't be greater than actual input size"
        return False
    return True


def receptive_field(layers) -> int:
    """The experiment: all-ones filters, no padding; d out[0, 0, 0, 0] / d x is nonzero
    exactly where output pixel (0, 0) looks. Returns that region's side (its extent:
    with dilation or strides it may have holes inside)."""
    size = 1 + sum(d * (k - 1) for k, _, d in layers)  # the spans; strides add more
    while True:  # double the input until the stack has an output pixel (0, 0)
        x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
        try:
            h = x
            for k, s, d in layers:
                h = F.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, dilation=d)
            break
        except RuntimeError:  # "Kernel size can't be greater than actual input size"
            size *= 2
    (grad,) = torch.autograd.grad(h[0, 0, 0, 0], x)
    rows = torch.nonzero(grad[0, 0].abs().sum(dim=1)).flatten()
    cols = torch.nonzero(grad[0, 0].abs().sum(dim=0)).flatten()
    extent = int(rows.max() - rows.min()) + 1
    assert extent == int(cols.max() - cols.min()) + 1  # square filters: a square region
    return extent


def field_slips(layers) -> dict[str, int]:
    """{mistake: the receptive field it gives}."""
    no_jump, no_dil, own, jump = 1, 1, 1, 1
    for k, s, d in layers:
        no_jump += d * (k - 1)
        no_dil += (k - 1) * jump
        own += d * (k - 1) * jump * s
        jump *= s
    return {
        "the kernels' spans added up without the product of the earlier strides": no_jump,
        "the dilation left out": no_dil,
        "each layer's own stride applied to its own kernel (jump multiplied before r grows)": own,
    }


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conv_params_and_macs(c_in, c_out, k, h_out, w_out, groups=1, bias=True) -> tuple[int, int]:
    """Parameters of nn.Conv2d; MACs by running F.conv2d on all-ones input and filters:
    each output value then counts the multiply-adds that made it, and they add up."""
    kh, kw = (k, k) if np.isscalar(k) else k
    layer = nn.Conv2d(c_in, c_out, (kh, kw), groups=groups, bias=bias, device="meta")
    x = torch.ones(1, c_in, h_out + kh - 1, w_out + kw - 1, dtype=torch.float64)  # valid conv
    w = torch.ones(c_out, c_in // groups, kh, kw, dtype=torch.float64)
    out = F.conv2d(x, w, groups=groups)
    assert out.shape[-2:] == (h_out, w_out)
    return _count(layer), int(out.sum())


def dense_params_and_macs(c_in, h_in, w_in, c_out, h_out, w_out, bias=True) -> tuple[int, int]:
    """Parameters of nn.Linear; MACs: each of its weights does one multiply-add per image
    (counted on the meta device: a dense layer over an image is too big to allocate)."""
    d_in, d_out = c_in * h_in * w_in, c_out * h_out * w_out
    layer = nn.Linear(d_in, d_out, bias=bias, device="meta")
    return _count(layer), layer.weight.numel()


def shift(x, dy, dx) -> np.ndarray:
    """Zero-filled translation: pad dy zeros above (or -dy below), dx left (or -dx right),
    then crop the H x W frame that follows the content."""
    t = tensor(x)
    H, W = t.shape[-2:]
    padded = F.pad(t, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    top, left = max(-dy, 0), max(-dx, 0)
    out = padded[..., top : top + H, left : left + W]
    return out.numpy().astype(x.dtype)


def equivariance_error(f, x, dy, dx, stride=1, border=0, out_shift=None, sides=2) -> float:
    """max |f(shift(x)) - shift(f(x))| inside the border. out_shift and sides=1 (border
    on the top and left only) reproduce learners' slips."""
    a = f(shift(x, dy, dx))
    oy, ox = out_shift or (math.floor(dy / stride), math.floor(dx / stride))
    b = shift(f(x), oy, ox)
    H, W = a.shape[-2:]
    inner = (..., slice(border, H - border * (sides - 1)), slice(border, W - border * (sides - 1)))
    if a[inner].size == 0:
        return 0.0
    return float(torch.max(torch.abs(tensor(a[inner]) - tensor(b[inner]))))


def equivariance_slips(f, x, dy, dx, stride=1, border=0) -> dict:
    def err(**kw):
        return lambda: np.float64(equivariance_error(f, x, dy, dx, stride, border, **kw))

    return {
        "f's output shifted by the input's (dy, dx), not by (dy // stride, dx // stride)": err(
            out_shift=(dy, dx)
        ),
        "f(shift(x)) compared with f(x), unshifted: that measures invariance": err(
            out_shift=(0, 0)
        ),
        "the border left out on the top and left only": err(sides=1),
    }


def size_slips(size, kernel, stride=1, padding=0, dilation=1) -> dict[str, int]:
    span = dilation * (kernel - 1) + 1
    return {
        "the dilation left out: (size + 2p - k) // s + 1": (size + 2 * padding - kernel) // stride
        + 1,
        "rounded up: ceil instead of floor division (that is ceil_mode, for pooling)": -(
            -(size + 2 * padding - span) // stride
        )
        + 1,
        "the padding added once: size + p instead of size + 2p": (size + padding - span) // stride
        + 1,
    }


def cost_slips(fn, args, groups=1, bias=True) -> dict[str, tuple[int, int]]:
    """{mistake: (params, macs)} for conv_params_and_macs / dense_params_and_macs."""
    if fn == "dense_params_and_macs":
        c_out, h_out, w_out = args[3:]
        params, macs = dense_params_and_macs(*args, bias=bias)
        per_channel = params - (c_out * h_out * w_out - c_out) * bias
        return {"one bias per output channel; a dense layer has one per output value": (
            per_channel, macs)}  # fmt: skip
    c_out, h_out, w_out = args[1], args[3], args[4]
    params, macs = conv_params_and_macs(*args, groups=groups, bias=bias)
    weights = params - c_out * bias
    return {
        "groups ignored: every filter counted as seeing all c_in channels": (
            weights * groups + c_out * bias, macs * groups),
        "a bias per output value; a conv layer has one per output channel, shared": (
            params + c_out * (h_out * w_out - 1) * bias, macs),
    }  # fmt: skip
