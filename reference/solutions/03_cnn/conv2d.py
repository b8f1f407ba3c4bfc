"""2-D convolution (cross-correlation, as in every deep-learning framework), three ways.

conv2d_naive loops over output positions; conv2d_forward gathers every kernel tap into
one matrix (im2col) so a single batched matrix product does the work; conv2d_backward
runs the same gather in reverse (col2im). References: CS231n assignment 2 (conv_forward_naive,
im2col); Dumoulin & Visin 2016, "A guide to convolution arithmetic for deep learning";
the torch.nn.Conv2d documentation (shape formula, groups).
"""

import numpy as np


def _pair(v):
    """An int or a pair -> a pair of ints (one for the rows, one for the columns)."""
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _setup(x, w, stride, padding, dilation, groups):
    """Check the shapes, pad x with zeros, and work out the output size."""
    N, C, H, W = x.shape
    C_out, Cg, kH, kW = w.shape
    if C % groups or C_out % groups or Cg != C // groups:
        raise ValueError(
            f"x has {C} channels and w is {w.shape}: groups={groups} must divide C_in and "
            f"C_out, and w.shape[1] must be C_in // groups"
        )
    (sh, sw), (ph, pw), (dil_h, dil_w) = _pair(stride), _pair(padding), _pair(dilation)
    # Zero padding on all four sides: p rows above AND below, p columns left AND right.
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)  # (N, C, Hp, Wp)
    xp[:, :, ph : ph + H, pw : pw + W] = x
    Hp, Wp = xp.shape[2:]
    # A dilated kernel spans d * (k - 1) + 1 pixels; it fits (Hp - span) // s + 1 times.
    H_out = (Hp - dil_h * (kH - 1) - 1) // sh + 1
    W_out = (Wp - dil_w * (kW - 1) - 1) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(
            f"kernel {kH}x{kW} (dilation {dil_h}, {dil_w}) does not fit the padded input {Hp}x{Wp}"
        )
    return xp, (sh, sw), (ph, pw), (dil_h, dil_w), H_out, W_out


def conv2d_naive(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Convolution by explicit loops over the output positions (slow; for checking)."""
    xp, (sh, sw), _, (dil_h, dil_w), H_out, W_out = _setup(x, w, stride, padding, dilation, groups)
    N = x.shape[0]
    C_out, Cg, kH, kW = w.shape
    Og = C_out // groups  # output channels per group
    span_h, span_w = dil_h * (kH - 1) + 1, dil_w * (kW - 1) + 1  # the dilated kernel's extent
    out = np.zeros((N, C_out, H_out, W_out), dtype=x.dtype)
    for g in range(groups):
        w_g = w[g * Og : (g + 1) * Og]  # (Og, Cg, kH, kW): this group's filters
        x_g = xp[:, g * Cg : (g + 1) * Cg]  # (N, Cg, Hp, Wp): ...see only its channels
        for i in range(H_out):
            for j in range(W_out):
                # The window under output (i, j): kH x kW taps, d pixels apart.
                top, left = i * sh, j * sw
                window = x_g[:, :, top : top + span_h : dil_h, left : left + span_w : dil_w]
                # (N, Cg, kH, kW) . (Og, Cg, kH, kW) over (Cg, kH, kW) -> (N, Og)
                out[:, g * Og : (g + 1) * Og, i, j] = np.tensordot(
                    window, w_g, axes=([1, 2, 3], [1, 2, 3])
                )
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def conv2d_forward(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Vectorised convolution (im2col + one batched matmul); returns (out, cache)."""
    xp, (sh, sw), (ph, pw), (dil_h, dil_w), H_out, W_out = _setup(
        x, w, stride, padding, dilation, groups
    )
    N, C = x.shape[:2]
    C_out, Cg, kH, kW = w.shape
    G, Og = groups, C_out // groups
    # im2col, one kernel offset (ki, kj) at a time: what tap (ki, kj) reads at every output
    # position is a strided slice of xp, starting at (ki d_h, kj d_w), every s-th pixel.
    # kH * kW slices; no Python loop over examples or pixels.
    cols = np.empty((N, C, kH, kW, H_out, W_out), dtype=x.dtype)
    for ki in range(kH):
        for kj in range(kW):
            at_h = slice(ki * dil_h, ki * dil_h + sh * H_out, sh)  # H_out rows
            at_w = slice(kj * dil_w, kj * dil_w + sw * W_out, sw)  # W_out columns
            cols[:, :, ki, kj] = xp[:, :, at_h, at_w]
    # Group g sees channels [g * Cg, (g + 1) * Cg): consecutive blocks of C.
    cols = cols.reshape(N, G, Cg * kH * kW, H_out * W_out)  # (N, G, K, P), K = Cg kH kW
    w_mat = w.reshape(G, Og, Cg * kH * kW)  # (G, Og, K)
    out = np.matmul(w_mat, cols)  # (G, Og, K) @ (N, G, K, P) -> (N, G, Og, P)
    out = out.reshape(N, C_out, H_out, W_out)
    if b is not None:
        out += b.reshape(1, C_out, 1, 1)
    cache = (x.shape, cols, w_mat, w.shape, b is not None, (sh, sw), (ph, pw), (dil_h, dil_w), G)
    return out, cache


def conv2d_backward(dout, cache):
    """Gradients (dx, dw, db) of the loss, given dloss/dout; db is None without a bias."""
    x_shape, cols, w_mat, w_shape, has_bias, (sh, sw), (ph, pw), (dil_h, dil_w), G = cache
    N, C, H, W = x_shape
    C_out, Cg, kH, kW = w_shape
    H_out, W_out = dout.shape[2:]
    dout_mat = dout.reshape(N, G, C_out // G, H_out * W_out)  # (N, G, Og, P)
    # Every output pixel of every example used the same bias and the same weights:
    # their gradients add up over the batch and over the output positions.
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None  # (C_out,)
    # (N, G, Og, P) @ (N, G, P, K) -> (N, G, Og, K), summed over the batch
    dw = np.matmul(dout_mat, cols.transpose(0, 1, 3, 2)).sum(axis=0)  # (G, Og, K)
    dw = dw.reshape(w_shape)
    # d cols: each column's share of the loss, back through the matmul.
    dcols = np.matmul(w_mat.transpose(0, 2, 1), dout_mat)  # (G, K, Og) @ (N, G, Og, P)
    dcols = dcols.reshape(N, C, kH, kW, H_out, W_out)
    # col2im: scatter each kernel offset's slice back to the pixels it was read from.
    # Windows overlap, so a pixel collects from several offsets: add, never assign.
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    for ki in range(kH):
        for kj in range(kW):
            at_h = slice(ki * dil_h, ki * dil_h + sh * H_out, sh)  # the pixels tap (ki, kj)
            at_w = slice(kj * dil_w, kj * dil_w + sw * W_out, sw)  # read in the forward pass
            dxp[:, :, at_h, at_w] += dcols[:, :, ki, kj]
    dx = dxp[:, :, ph : ph + H, pw : pw + W]  # the padding's gradient goes nowhere
    return dx, dw, db
