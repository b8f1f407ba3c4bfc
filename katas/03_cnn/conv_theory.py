"""Convolution arithmetic and the inductive bias: sizes, receptive fields, costs, equivariance.

Implement with NumPy and plain Python. Why convolutions suit images, in numbers: how big
the output is, how far one output pixel sees, how few parameters a conv layer needs next
to a dense layer over the same image, and what "shift the input, the output shifts too"
(translation equivariance) means, measured. Run: pytest katas/03_cnn/test_conv_theory.py
"""

from collections.abc import Callable, Sequence

import numpy as np


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution along one axis.

    Math:
        A dilated kernel spans d * (k - 1) + 1 pixels. It starts at 0, s, 2s, ... on the
        padded input (length size + 2p) as long as it still fits:
        out = (size + 2p - d (k - 1) - 1) // s + 1   (floor division)

    Shapes:
        Plain ints.

    Args:
        size: input length (H or W); kernel, stride, padding, dilation: along that axis.

    Returns:
        The output length, an int >= 1.

    Numerics:
        Raise ValueError when the dilated kernel is longer than the padded input (torch
        raises too; the formula would give 0 or less).

    Reference:
        The shape formula in the torch.nn.Conv2d documentation.
    """
    raise NotImplementedError


def receptive_field(layers: Sequence[tuple[int, int, int]]) -> int:
    """Side of the input region that one output pixel of a stack of conv layers depends on.

    Math:
        Walk the layers from the input: r = 1, jump = 1 (the distance, in input pixels,
        between neighbouring pixels of the current layer's input). For each layer:
        r += d * (k - 1) * jump; then jump *= s.
        (A stride does not widen its own layer's field; it spreads out the next layers'.)

    Shapes:
        layers: a list of (kernel, stride, dilation) tuples, input side first.

    Args:
        layers: square kernels, no padding needed (padding does not change the field).

    Returns:
        r, an int: the side of the square of input pixels that can change one output
        pixel (its extent: with dilation or strides there may be holes inside). An empty
        stack sees 1 pixel.

    Numerics:
        Exact integer arithmetic.

    Reference:
        The test's oracle measures it: all-ones filters, and torch.autograd's gradient of
        one output pixel w.r.t. the input is nonzero exactly on that region.
    """
    raise NotImplementedError


def conv_params_and_macs(
    c_in: int,
    c_out: int,
    k: int | tuple[int, int],
    h_out: int,
    w_out: int,
    groups: int = 1,
    bias: bool = True,
) -> tuple[int, int]:
    """Parameters and multiply-accumulates (MACs) of one Conv2d layer.

    Math:
        Every output channel has one filter of (c_in / groups) x kH x kW weights and one
        bias, shared by all output positions. Each weight does one multiply-add per output
        position; bias additions are not MACs.

    Shapes:
        Plain ints; k an int or (kH, kW).

    Args:
        c_in, c_out: channels; k: kernel size; h_out, w_out: the output map's size;
        groups: G, which divides c_in and c_out; bias: whether the layer has one.

    Returns:
        (params, macs) for a batch of one image.

    Numerics:
        Exact integers.

    Reference:
        sum(p.numel() for p in nn.Conv2d(...).parameters());
        torch.utils.flop_counter.FlopCounterMode counts 2 FLOPs per MAC.
    """
    raise NotImplementedError


def dense_params_and_macs(
    c_in: int, h_in: int, w_in: int, c_out: int, h_out: int, w_out: int, bias: bool = True
) -> tuple[int, int]:
    """Parameters and MACs of a fully connected layer doing a conv layer's job on an image.

    Math:
        Flatten the c_in x h_in x w_in input and the c_out x h_out x w_out output: a
        Linear layer connects every input value to every output value, with its own
        weight for each pair and its own bias for each output value. Nothing is shared.

    Shapes:
        Plain ints.

    Args:
        c_in, h_in, w_in: the input image; c_out, h_out, w_out: the output map;
        bias: whether the layer has one.

    Returns:
        (params, macs) for a batch of one image.

    Numerics:
        Exact (Python ints do not overflow; these numbers get large).

    Reference:
        nn.Linear(c_in * h_in * w_in, c_out * h_out * w_out, bias=bias)
    """
    raise NotImplementedError


def shift(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """x translated by dy rows down and dx columns right, zeros shifted in (no wrap-around).

    Math:
        out[..., i, j] = x[..., i - dy, j - dx] where 0 <= i - dy < H and 0 <= j - dx < W,
        0 elsewhere. Negative dy / dx move up / left. Content shifted past the edge is
        lost.

    Shapes:
        x: (..., H, W): any leading axes; out: the same shape.

    Args:
        x: the image(s); dy, dx: the shift in pixels, any int (|dy| >= H gives all zeros).

    Returns:
        A new array, x's dtype.

    Numerics:
        Exact (a copy). Careful with x[..., :-dy] when dy == 0: that slice is empty.

    Reference:
        torch.roll wraps around; this is torch.roll with the wrapped part set to zero,
        or F.pad followed by a crop.
    """
    raise NotImplementedError


def equivariance_error(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    dy: int,
    dx: int,
    *,
    stride: int = 1,
    border: int = 0,
) -> float:
    """How far f is from translation equivariance for one shift: 0 when f commutes with it.

    Math:
        a = f(shift(x, dy, dx))                          shift, then apply f
        b = shift(f(x), dy // stride, dx // stride)      apply f, then shift
        (f downsamples by `stride`: an input shift of dy moves its output by dy / stride;
        floor division, so for a shift smaller than the stride b = f(x), and the error
        measures how far f is from invariant to it.)
        error = max |a - b| over the output without `border` pixels on each of its four
        sides (near the edges, zeros came in and content left the frame).

    Shapes:
        x: (..., H, W); f maps it to (..., H', W').

    Args:
        f: the operation (a convolution, a pooling...), called on NumPy arrays.
        x: the input; dy, dx: the shift; stride: f's downsampling factor.
        border: output pixels to leave out on every side.

    Returns:
        A Python float; 0.0 when the region left is empty.

    Numerics:
        Exact operations give exactly 0; a convolution may give rounding noise ~1e-15.

    Reference:
        Goodfellow et al., Deep Learning, section 9.2: f(shift(x)) = shift(f(x)).
    """
    raise NotImplementedError
