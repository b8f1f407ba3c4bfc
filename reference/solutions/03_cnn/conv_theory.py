"""Convolution arithmetic and the inductive bias: sizes, receptive fields, costs, equivariance.

References: Dumoulin & Visin 2016, "A guide to convolution arithmetic for deep learning";
Araujo et al. 2019, "Computing Receptive Fields of Convolutional Neural Networks" (Distill);
Simonyan & Zisserman 2014 (VGG: two 3x3 layers see as far as one 5x5); CS231n notes on
convolutional networks; Goodfellow et al., Deep Learning, section 9.2 (equivariance).
"""

import numpy as np


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one axis (torch's formula)."""
    span = dilation * (kernel - 1) + 1  # pixels a dilated kernel covers
    if size + 2 * padding < span:
        raise ValueError(f"a kernel spanning {span} pixels does not fit {size} + 2 * {padding}")
    # Start positions 0, s, 2s, ... while the window still ends inside the padded input.
    return (size + 2 * padding - span) // stride + 1


def receptive_field(layers):
    """Side of the input region one output pixel of a stack of conv layers depends on."""
    r = 1  # one output pixel of "no layers" sees one input pixel
    jump = 1  # input pixels between neighbouring positions of the current layer's input
    for kernel, stride, dilation in layers:
        # The layer widens the field by its kernel's span minus one, counted in the
        # current layer's input pixels, each of which is `jump` pixels of the input.
        r += dilation * (kernel - 1) * jump
        jump *= stride  # after this layer, neighbours are `stride` times further apart
    return r


def conv_params_and_macs(c_in, c_out, k, h_out, w_out, groups=1, bias=True):
    """(parameters, multiply-accumulates) of one Conv2d layer producing an h_out x w_out map."""
    kh, kw = _pair(k)
    # Each output channel's filter sees only its group's c_in / groups input channels.
    weights = c_out * (c_in // groups) * kh * kw
    params = weights + (c_out if bias else 0)  # one bias per output channel, shared
    macs = weights * h_out * w_out  # every weight is used once per output position
    return params, macs


def dense_params_and_macs(c_in, h_in, w_in, c_out, h_out, w_out, bias=True):
    """(parameters, multiply-accumulates) of a Linear layer doing the same map on the image."""
    d_in, d_out = c_in * h_in * w_in, c_out * h_out * w_out
    params = d_in * d_out + (d_out if bias else 0)  # a bias per output value, nothing shared
    return params, d_in * d_out


def shift(x, dy, dx):
    """x translated by dy rows (down) and dx columns (right), zeros shifted in."""
    H, W = x.shape[-2:]
    out = np.zeros_like(x)
    if abs(dy) >= H or abs(dx) >= W:
        return out  # everything moved out of the frame
    # out[..., i, j] = x[..., i - dy, j - dx]: destination and source ranges per axis.
    dst_h, src_h = slice(max(dy, 0), H + min(dy, 0)), slice(max(-dy, 0), H + min(-dy, 0))
    dst_w, src_w = slice(max(dx, 0), W + min(dx, 0)), slice(max(-dx, 0), W + min(-dx, 0))
    out[..., dst_h, dst_w] = x[..., src_h, src_w]
    return out


def equivariance_error(f, x, dy, dx, *, stride=1, border=0):
    """max |f(shift(x)) - shift(f(x))| away from the borders; 0 for an equivariant f."""
    shifted_first = f(shift(x, dy, dx))
    # f downsamples by `stride`: an input shift of dy is an output shift of dy // stride.
    shifted_after = shift(f(x), dy // stride, dx // stride)
    H, W = shifted_first.shape[-2:]
    # Near the borders zeros came in (and content left) in one order but not the other.
    inner = (..., slice(border, H - border), slice(border, W - border))
    diff = np.abs(shifted_first[inner] - shifted_after[inner])
    return float(np.max(diff, initial=0.0))
