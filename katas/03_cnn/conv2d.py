"""2-D convolution: naive loops, then vectorised (im2col), then backward (col2im).

Implement with NumPy. Deep-learning "convolution" is cross-correlation: the kernel is NOT
flipped. Write the loops first (they are the definition), then gather every window into
one matrix so a single matmul does the work, then run that gather in reverse for the
gradient. Run: pytest katas/03_cnn/test_conv2d.py
"""

import numpy as np


def conv2d_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """Convolution by explicit loops over the output positions (the definition; slow).

    Math:
        xp = x with `padding` zeros on every side (p rows above AND below, p columns
        left AND right). With G = groups, Cg = C_in / G input channels per group and
        Og = C_out / G output channels per group, output channel o belongs to group
        g = o // Og, which sees only the input channels g * Cg ... (g + 1) * Cg - 1:
        out[n, o, i, j] = b[o] + sum over c < Cg, u < kH, v < kW of
            xp[n, g * Cg + c, i * s_h + u * d_h, j * s_w + v * d_w] * w[o, c, u, v]
        (no kernel flip). H_out = (H + 2 p_h - d_h (kH - 1) - 1) // s_h + 1, W_out alike.

    Shapes:
        x: (N, C_in, H, W); w: (C_out, C_in // groups, kH, kW); b: (C_out,);
        out: (N, C_out, H_out, W_out).

    Args:
        x, w, b: input, filters, bias (None: no bias).
        stride, padding, dilation: an int (both directions) or a pair (rows, columns).
        groups: G; both C_in and C_out must be multiples of G.

    Returns:
        out, x's dtype.

    Numerics:
        Keep x's dtype (float32 in, float32 out). Loops over output positions (and
        groups) are fine here; this version only runs on small inputs. Raise ValueError
        if the (dilated) kernel does not fit the padded input, or the channels do not
        match groups.

    Reference:
        torch.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups)
    """
    raise NotImplementedError


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> tuple[np.ndarray, object]:
    """Vectorised convolution (im2col + matmul); returns (out, cache) for the backward pass.

    Math:
        The same out as conv2d_naive. im2col: for every output position, its window
        (Cg x kH x kW values per group) becomes one column, so the convolution is one
        matrix product per group: (Og, Cg kH kW) @ (Cg kH kW, H_out W_out).

    Shapes:
        x: (N, C_in, H, W); w: (C_out, C_in // groups, kH, kW); b: (C_out,);
        out: (N, C_out, H_out, W_out); the columns: (N, G, Cg kH kW, H_out W_out).

    Args:
        As conv2d_naive.

    Returns:
        out: x's dtype.
        cache: anything conv2d_backward needs (the columns, w, the settings, x's shape).

    Numerics:
        Keep x's dtype. No Python loop over examples or pixels: build the columns with
        kH * kW strided slices of the padded input (one per kernel offset), or with
        np.lib.stride_tricks.sliding_window_view, then np.matmul / np.tensordot.

    Reference:
        torch.nn.functional.conv2d; torch.nn.functional.unfold is im2col.
    """
    raise NotImplementedError


def conv2d_backward(
    dout: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of the loss w.r.t. x, w and b, given dloss/dout and conv2d_forward's cache.

    Math:
        db[o] = sum over n, i, j of dout[n, o, i, j]
        dw = dout @ columns^T, summed over the batch (the same w serves every example)
        d columns = w^T @ dout; dx = col2im(d columns): every column entry goes back
        to the padded-input pixel it was read from, and ADDED there (windows overlap);
        then the padding is cut off.

    Shapes:
        dout: (N, C_out, H_out, W_out); dx: (N, C_in, H, W);
        dw: (C_out, C_in // groups, kH, kW); db: (C_out,) or None.

    Args:
        dout: gradient of the loss w.r.t. conv2d_forward's out.
        cache: what conv2d_forward returned beside out.

    Returns:
        (dx, dw, db), dout's dtype; db is None when the forward pass had no bias.

    Numerics:
        Pixels that no window reads (the last rows when the stride does not divide
        evenly) get gradient 0. Scatter with kH * kW strided slices (+=) or np.add.at;
        plain fancy-index assignment drops repeated indices.

    Reference:
        torch.autograd on torch.nn.functional.conv2d; torch.nn.functional.fold is col2im.
    """
    raise NotImplementedError
