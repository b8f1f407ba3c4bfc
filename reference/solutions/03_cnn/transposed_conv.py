"""Transposed convolution and upsampling (nearest, bilinear), in NumPy.

A transposed convolution is a matrix product (every input pixel times the kernel) and
a col2im (each product added onto the output where it lands): the backward pass of
im2col convolution. References: Dumoulin & Visin 2016, "A guide to convolution
arithmetic for deep learning"; Long et al. 2015 (FCN); torch's UpSample.h for the
source-coordinate rules of nearest and bilinear interpolation.
"""

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, (int, float)) else tuple(v)


def conv_transpose2d(x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """2-D transposed convolution (a.k.a. fractionally strided convolution, "deconvolution")."""
    (sH, sW), (pH, pW) = _pair(stride), _pair(padding)
    (oH, oW), (dH, dW) = _pair(output_padding), _pair(dilation)
    N, C_in, H, W = x.shape
    _, C_out_g, kH, kW = w.shape  # (C_in, C_out // groups, kH, kW)
    G = groups
    H_out = (H - 1) * sH - 2 * pH + dH * (kH - 1) + oH + 1
    W_out = (W - 1) * sW - 2 * pW + dW * (kW - 1) + oW + 1

    # 1. Every input pixel scales the kernel: one product per group, no window copies.
    xg = x.reshape(N, G, C_in // G, H, W)
    wg = w.reshape(G, C_in // G, C_out_g, kH, kW)
    cols = np.einsum("ngchw,gcokl->ngoklhw", xg, wg, optimize=True)  # (N, G, O, kH, kW, H, W)

    # 2. col2im: tap (a, c) of pixel (i, j) lands on (i*sH + a*dH, j*sW + c*dW) of the full
    # result. One slice per tap, vectorised over every pixel; += adds where copies overlap.
    # output_padding extra rows / columns at the bottom / right stay zero (plus bias).
    full = np.zeros((N, G, C_out_g, (H - 1) * sH + dH * (kH - 1) + 1 + oH,
                     (W - 1) * sW + dW * (kW - 1) + 1 + oW), dtype=cols.dtype)  # fmt: skip
    for a in range(kH):
        for c in range(kW):
            rows = slice(a * dH, a * dH + (H - 1) * sH + 1, sH)
            columns = slice(c * dW, c * dW + (W - 1) * sW + 1, sW)
            full[..., rows, columns] += cols[:, :, :, a, c]

    # 3. padding crops the full result on both sides (the inverse of conv2d's padding).
    out = full[..., pH : pH + H_out, pW : pW + W_out].reshape(N, G * C_out_g, H_out, W_out)
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def upsample_nearest(x, scale_factor):
    """Nearest-neighbour upsampling (or downsampling) by a scale factor."""
    H, W = x.shape[2:]
    sH, sW = _pair(scale_factor)
    rows = _nearest_sources(H, sH)  # (H_out,)
    cols = _nearest_sources(W, sW)  # (W_out,)
    return x[:, :, rows[:, None], cols]  # (N, C, H_out, W_out)


def _nearest_sources(size, scale):
    """Input index each output index copies: floor(i / scale), kept inside the input."""
    n_out = int(np.floor(size * scale))
    src = np.floor(np.arange(n_out) / scale).astype(np.int64)
    return np.minimum(src, size - 1)


def _linear_sources(size, n_out, scale, align_corners):
    """(i0, i1, t) per output index: out = (1 - t) * x[i0] + t * x[i1] along one axis."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        # Corner pixel centres map onto each other: 0 -> 0 and n_out - 1 -> size - 1.
        src = dst * ((size - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        # Pixels are unit squares: the centre of output pixel i sits at (i + 0.5) * ratio
        # in input units. The given scale defines the ratio, not the rounded sizes.
        ratio = 1 / scale if scale is not None else size / n_out
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0)  # left of the first centre: clamp
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)  # the last pixel has no right neighbour
    return i0, i1, src - i0


def upsample_bilinear(x, size=None, scale_factor=None, align_corners=False):
    """Bilinear resizing to a size or by a scale factor (exactly one of the two)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("give exactly one of size and scale_factor")
    H, W = x.shape[2:]
    if size is not None:
        (H_out, W_out), (sH, sW) = _pair(size), (None, None)
    else:
        sH, sW = _pair(scale_factor)
        H_out, W_out = int(np.floor(H * sH)), int(np.floor(W * sW))
    r0, r1, tr = _linear_sources(H, H_out, sH, align_corners)
    c0, c1, tc = _linear_sources(W, W_out, sW, align_corners)
    tr = tr.astype(x.dtype)[:, None]  # (H_out, 1): x's dtype, so float32 stays float32
    tc = tc.astype(x.dtype)  # (W_out,)
    # Separable: interpolate along the rows, then along the columns.
    rows = (1 - tr) * x[:, :, r0] + tr * x[:, :, r1]  # (N, C, H_out, W)
    return (1 - tc) * rows[..., c0] + tc * rows[..., c1]  # (N, C, H_out, W_out)
