"""Pooling: max, average, global, adaptive and spatial pyramid pooling, in NumPy.

One idea carries the fixed-window pools: window (i, j) starts at padded pixel
(i*sH, j*sW), so its tap (a, b) is pixel (i*sH + a, j*sW + b), and ONE strided slice
holds tap (a, b) of every window at once. A loop over the kH * kW taps, vectorised over
every window, does the forward reductions and scatters the gradients back, adding where
windows overlap. References: CS231n assignment 2 (max pool); He et al. 2014, "Spatial
Pyramid Pooling in Deep Convolutional Networks"; torch's MaxPoolKernel.cpp and
AdaptivePooling.h for the tie rule and the adaptive bins.
"""

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _params(x, kernel_size, stride, padding):
    """kernel, stride, padding as pairs, and (H_out, W_out)."""
    kernel, padding = _pair(kernel_size), _pair(padding)
    stride = _pair(kernel if stride is None else stride)
    out_hw = tuple((x.shape[2 + i] + 2 * padding[i] - kernel[i]) // stride[i] + 1 for i in (0, 1))
    return kernel, stride, padding, out_hw


def _pad(x, padding, value):
    (pH, pW) = padding
    return np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)), constant_values=value)


def _tap(xp, a, b, stride, out_hw):
    """Tap (a, b) of every window, a strided view of the padded batch: (N, C, H_out, W_out)."""
    (sH, sW), (H_out, W_out) = stride, out_hw
    return xp[:, :, a : a + sH * (H_out - 1) + 1 : sH, b : b + sW * (W_out - 1) + 1 : sW]


def maxpool2d_forward(x, kernel_size, stride=None, padding=0):
    """Max pooling over kH x kW windows of every channel; returns the output and a cache."""
    (kH, kW), (sH, sW), padding, (H_out, W_out) = _params(x, kernel_size, stride, padding)
    # -inf, not 0: a padded position must never be the maximum of negative pixels.
    xp = _pad(x, padding, -np.inf)  # (N, C, Hp, Wp) = (N, C, H + 2pH, W + 2pW)
    Wp = xp.shape[3]
    taps = [(a, b) for a in range(kH) for b in range(kW)]  # row-major order in a window
    out = _tap(xp, 0, 0, (sH, sW), (H_out, W_out)).copy()  # (N, C, H_out, W_out)
    for a, b in taps[1:]:
        np.maximum(out, _tap(xp, a, b, (sH, sW), (H_out, W_out)), out=out)

    # Where each window's maximum sits in its padded plane, as a flat index row * Wp + col.
    # On a tie the FIRST maximum in row-major order wins (torch's rule): `found` keeps
    # later taps out. Masks times numbers instead of argmax[mask] = v: no branches, faster.
    argmax = np.zeros(out.shape, dtype=np.intp)  # (N, C, H_out, W_out)
    found = np.zeros(out.shape, dtype=bool)
    for a, b in taps:
        first = (_tap(xp, a, b, (sH, sW), (H_out, W_out)) == out) & ~found
        argmax += (a * Wp + b) * first  # the tap's offset from the window's corner
        found |= first
    argmax += np.arange(H_out)[:, None] * sH * Wp + np.arange(W_out) * sW  # + the corner
    return out, (x.shape, x.dtype, xp.shape[2:], padding, argmax)


def maxpool2d_backward(dout, cache):
    """Gradient of the loss w.r.t. the max pool's input."""
    (N, C, H, W), dtype, (Hp, Wp), (pH, pW), argmax = cache
    plane = np.arange(N * C).reshape(N, C, 1, 1) * (Hp * Wp)  # where each (n, c) starts
    dxp = np.zeros(N * C * Hp * Wp, dtype=dtype)
    # Overlapping windows can pick the same pixel: its gradients must ADD UP. np.add.at
    # adds once per index occurrence; dxp[idx] += g would add only one of them.
    np.add.at(dxp, (plane + argmax).ravel(), dout.ravel())
    return dxp.reshape(N, C, Hp, Wp)[:, :, pH : pH + H, pW : pW + W]  # drop the padding


def _counts(size, k, s, p, n_out):
    """Real (unpadded) pixels in each window along one axis: (n_out,)."""
    start = np.arange(n_out) * s - p
    return np.minimum(start + k, size) - np.maximum(start, 0)


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Average pooling over kH x kW windows; returns the output and a cache."""
    (kH, kW), stride, padding, (H_out, W_out) = _params(x, kernel_size, stride, padding)
    xp = _pad(x, padding, 0)  # (N, C, H + 2pH, W + 2pW)
    total = np.zeros(x.shape[:2] + (H_out, W_out), dtype=x.dtype)
    for a in range(kH):
        for b in range(kW):
            total += _tap(xp, a, b, stride, (H_out, W_out))
    if count_include_pad:
        count = np.full((H_out, W_out), kH * kW)
    else:  # only the real pixels: fewer in windows that hang over the border
        count = np.outer(
            _counts(x.shape[2], kH, stride[0], padding[0], H_out),
            _counts(x.shape[3], kW, stride[1], padding[1], W_out),
        )  # (H_out, W_out)
    count = count.astype(x.dtype)  # an int64 count would promote float32 to float64
    return total / count, (x.shape, (kH, kW), stride, padding, count)


def avgpool2d_backward(dout, cache):
    """Gradient of the loss w.r.t. the average pool's input."""
    (N, C, H, W), (kH, kW), stride, (pH, pW), count = cache
    share = dout / count  # (N, C, H_out, W_out): what each tap of a window gets
    dxp = np.zeros((N, C, H + 2 * pH, W + 2 * pW), dtype=dout.dtype)
    # One slice per tap never hits a pixel twice; += adds what overlapping windows send.
    for a in range(kH):
        for b in range(kW):
            _tap(dxp, a, b, stride, dout.shape[2:])[...] += share
    return dxp[:, :, pH : pH + H, pW : pW + W]


def global_avgpool(x):
    """Average every channel over all its pixels (the head of ResNet and friends)."""
    return x.mean(axis=(2, 3))  # (N, C)


def _bins(size, n_out):
    """torch's adaptive bins along one axis: [floor(i*size/n), ceil((i+1)*size/n))."""
    i = np.arange(n_out)
    start = (i * size) // n_out
    end = -((-(i + 1) * size) // n_out)  # ceiling division in integers
    return zip(start, end)


def _adaptive(x, output_size, reduce):
    H_out, W_out = _pair(output_size)
    # A bin is a rectangle, so pool the rows first, then the columns: H_out + W_out
    # slices instead of H_out * W_out (max and mean of equal-width rows both separate).
    rows = np.stack([reduce(x[:, :, s:e], axis=2) for s, e in _bins(x.shape[2], H_out)], 2)
    return np.stack([reduce(rows[..., s:e], axis=3) for s, e in _bins(x.shape[3], W_out)], 3)


def adaptive_avgpool2d(x, output_size):
    """Average pooling to a fixed output size, whatever the input size."""
    return _adaptive(x, output_size, np.mean)  # (N, C, H_out, W_out)


def adaptive_maxpool2d(x, output_size):
    """Max pooling to a fixed output size, with the same bins as adaptive_avgpool2d."""
    return _adaptive(x, output_size, np.max)  # (N, C, H_out, W_out)


def spatial_pyramid_pool(x, levels=(1, 2, 4)):
    """Spatial pyramid pooling: a fixed-length vector from any image size (He et al. 2014)."""
    N = x.shape[0]
    # (N, C, l, l) -> (N, C * l * l): per image, channel-major, then bin rows, then columns.
    pooled = [adaptive_maxpool2d(x, level).reshape(N, -1) for level in levels]
    return np.concatenate(pooled, axis=1)  # (N, C * sum(l * l))
