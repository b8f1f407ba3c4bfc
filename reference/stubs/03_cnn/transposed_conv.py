"""Transposed convolution and upsampling (nearest, bilinear), in NumPy.

Implement with NumPy. A convolution maps a window of pixels to one output; a transposed
convolution goes the other way: every input pixel paints a scaled copy of the kernel
onto the output, and where the copies overlap they add up. That is exactly how a
convolution's gradient flows back to its input, which is where the name comes from:
conv_transpose2d(dout, w) is d loss / d x of conv2d(x, w) with the same w, stride and
padding. Decoders (U-Net, FCN, GAN generators) use it, or a fixed upsampling followed
by a convolution, to grow feature maps back to image size.

    out = conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)  # H -> 2H
    out = upsample_bilinear(x, scale_factor=2, align_corners=False)

stride, padding, output_padding, dilation, kernel sizes and scale factors are an int
(or a float for scales) for both axes, or a pair (height, width).

Run: pytest katas/03_cnn/test_transposed_conv.py
"""

import numpy as np


def conv_transpose2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D transposed convolution (a.k.a. fractionally strided convolution, "deconvolution").

    Math:
        full[n, o, i*sH + a*dH, j*sW + c*dW] += x[n, ci, i, j] * w[ci, o, a, c]
            summed over input channels ci (of o's group), pixels (i, j), taps (a, c);
        out = full cropped by pH rows at the top, pW columns at the left, to
        H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + opH + 1  (W_out likewise);
        output_padding adds opH rows at the bottom (opW columns at the right);
        out += b[o] when b is given.

    Shapes:
        x: (N, C_in, H, W); w: (C_in, C_out // groups, kH, kW) (torch's layout: input
        channels first, the transpose of conv2d's); b: (C_out,);
        out: (N, C_out, H_out, W_out).

    Args:
        x: input feature maps, any memory layout.
        w: the kernel, laid out as F.conv_transpose2d's weight.
        b: optional bias.
        stride: the step between where neighbouring input pixels paint (the upsampling).
        padding: rows / columns cropped from each side of the full result.
        output_padding: extra rows / columns at the bottom / right, less than stride
            (or dilation): it picks one of the sizes stride > 1 makes ambiguous.
        dilation: spacing between kernel taps.
        groups: C_in and C_out split into groups that do not mix.

    Returns:
        out: x's dtype.

    Numerics:
        A sum of products, as in conv2d; keep x's dtype (float32 in, float32 out).
        Do not flip the kernel: tap (a, c) lands at offset (a*dH, c*dW).

    Reference:
        torch.nn.functional.conv_transpose2d(x, w, b, stride, padding, output_padding,
        groups, dilation); nn.ConvTranspose2d.
    """
    raise NotImplementedError


def upsample_nearest(x: np.ndarray, scale_factor: float | tuple[float, float]) -> np.ndarray:
    """Nearest-neighbour upsampling (or downsampling) by a scale factor.

    Math:
        H_out = floor(H * sH);  src_row(i) = min(floor(i / sH), H - 1)   (columns likewise)
        out[n, c, i, j] = x[n, c, src_row(i), src_col(j)]

    Shapes:
        x: (N, C, H, W); out: (N, C, H_out, W_out).

    Args:
        x: input feature maps.
        scale_factor: sH and sW, or one number for both; need not be an integer.

    Returns:
        out: x's dtype.

    Numerics:
        Divide by the scale factor you were given, not by H_out / H: with a scale of
        1.5 on 5 rows, H_out = 7 and 7 / 5 is not 1.5. (torch computes i * (1 / s) in
        float32; the tests use scales where that agrees with floor(i / s).)

    Reference:
        torch.nn.functional.interpolate(x, scale_factor=..., mode="nearest").
    """
    raise NotImplementedError


def upsample_bilinear(
    x: np.ndarray,
    size: int | tuple[int, int] | None = None,
    scale_factor: float | tuple[float, float] | None = None,
    align_corners: bool = False,
) -> np.ndarray:
    """Bilinear resizing to a size or by a scale factor (exactly one of the two).

    Math:
        per axis, for output index i (rows shown; columns likewise):
        align_corners=True:   src = i * (H - 1) / (H_out - 1)   (src = 0 when H_out = 1)
        align_corners=False:  src = (i + 0.5) * r - 0.5, clamped below at 0, where
                              r = 1 / scale_factor if a scale was given, else H / H_out
        i0 = min(floor(src), H - 1);  i1 = min(i0 + 1, H - 1);  t = src - i0
        out = (1 - t) * x[i0] + t * x[i1], first along rows, then along columns.

    Shapes:
        x: (N, C, H, W); out: (N, C, H_out, W_out), with (H_out, W_out) = size, or
        (floor(H * sH), floor(W * sW)) from scale_factor.

    Args:
        x: input feature maps.
        size: (H_out, W_out) or an int for both.
        scale_factor: (sH, sW) or one number.
        align_corners: True maps the corner pixels' centres onto each other; False
            treats pixels as unit squares and maps their edges (torch's default).

    Returns:
        out: x's dtype.

    Numerics:
        With align_corners=False the first output pixels' src is negative: clamp it at
        0, or floor(-0.25) = -1 reads x[-1], the LAST pixel. Keep x's dtype.

    Reference:
        torch.nn.functional.interpolate(x, size, scale_factor, mode="bilinear",
        align_corners=...).
    """
    raise NotImplementedError
