"""Pooling: max, average, global, adaptive and spatial pyramid pooling, in NumPy.

Implement with NumPy. A pooling window slides over each channel of each image and
reduces what it sees to one number: its maximum or its mean. Windows overlap when
the stride is smaller than the kernel, and then a pixel's gradient is the SUM of
what every window that used it sends back.

    out, cache = maxpool2d_forward(x, 3, stride=2, padding=1)
    dx = maxpool2d_backward(dout, cache)

kernel_size, stride and padding are an int (the same for height and width) or a
pair (height, width); stride=None means stride = kernel_size, as in torch.

Run: pytest katas/03_cnn/test_pooling.py
"""

import numpy as np


def maxpool2d_forward(
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> tuple[np.ndarray, object]:
    """Max pooling over kH x kW windows of every channel; returns the output and a cache.

    Math:
        pad x with -inf on every side (a padded position never wins);
        out[n, c, i, j] = max over a < kH, b < kW of xpad[n, c, i*sH + a, j*sW + b]
        H_out = (H + 2*pH - kH) // sH + 1;  W_out likewise.

    Shapes:
        x: (N, C, H, W); out: (N, C, H_out, W_out).

    Args:
        x: a batch of images, any memory layout.
        kernel_size: (kH, kW) or an int.
        stride: (sH, sW) or an int; None means kernel_size.
        padding: (pH, pW) or an int, at most half the kernel (torch's rule).

    Returns:
        out: x's dtype.
        cache: whatever maxpool2d_backward needs (any object you like).

    Numerics:
        Pad with -inf, not 0: with all-negative inputs a zero pad would be the maximum.
        Keep x's dtype (float32 in, float32 out).

    Reference:
        torch.nn.functional.max_pool2d(x, kernel_size, stride, padding); nn.MaxPool2d.
    """
    raise NotImplementedError


def maxpool2d_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """Gradient of the loss w.r.t. the max pool's input.

    Math:
        each window sends its dout to the ONE pixel that was its maximum; on a tie,
        the first maximum in row-major window order (a over rows, then b) gets it, as
        torch does. Windows overlap when stride < kernel: a pixel that is the maximum
        of several windows receives the sum of their gradients.

    Shapes:
        dout: (N, C, H_out, W_out); returns dx: (N, C, H, W), the input's shape.

    Args:
        dout: gradient of the loss w.r.t. the pool's output.
        cache: what maxpool2d_forward returned.

    Returns:
        dx: the input's dtype; zero at every pixel no window picked.

    Numerics:
        dx[idx] += g with a repeated index adds only once in NumPy (fancy indexing
        keeps the last write): accumulate with np.add.at or np.bincount.

    Reference:
        torch.autograd on F.max_pool2d (its MaxPool2DWithIndicesBackward).
    """
    raise NotImplementedError


def avgpool2d_forward(
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    count_include_pad: bool = True,
) -> tuple[np.ndarray, object]:
    """Average pooling over kH x kW windows; returns the output and a cache.

    Math:
        pad x with zeros; out[n, c, i, j] = sum of the window / count, where
        count = kH * kW                               if count_include_pad
        count = number of real (unpadded) pixels in the window   otherwise
        H_out = (H + 2*pH - kH) // sH + 1;  W_out likewise.

    Shapes:
        x: (N, C, H, W); out: (N, C, H_out, W_out).

    Args:
        x: a batch of images, any memory layout.
        kernel_size, stride, padding: as in maxpool2d_forward.
        count_include_pad: whether padded zeros count in the divisor.

    Returns:
        out: x's dtype.
        cache: whatever avgpool2d_backward needs.

    Numerics:
        With count_include_pad=False a corner window holds fewer real pixels than the
        kernel: divide by that smaller count. Keep x's dtype.

    Reference:
        torch.nn.functional.avg_pool2d(x, kernel_size, stride, padding,
        count_include_pad=...); nn.AvgPool2d.
    """
    raise NotImplementedError


def avgpool2d_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """Gradient of the loss w.r.t. the average pool's input.

    Math:
        each window spreads dout / count evenly over its kH * kW positions; padded
        positions are dropped; overlapping windows add up.

    Shapes:
        dout: (N, C, H_out, W_out); returns dx: (N, C, H, W).

    Args:
        dout: gradient of the loss w.r.t. the pool's output.
        cache: what avgpool2d_forward returned.

    Returns:
        dx: the input's dtype.

    Numerics:
        The same count as the forward pass (count_include_pad decides it).

    Reference:
        torch.autograd on F.avg_pool2d.
    """
    raise NotImplementedError


def global_avgpool(x: np.ndarray) -> np.ndarray:
    """Average every channel over all its pixels (the head of ResNet and friends).

    Math:
        out[n, c] = mean over i, j of x[n, c, i, j]

    Shapes:
        x: (N, C, H, W); out: (N, C).

    Args:
        x: a batch of feature maps.

    Returns:
        out: (N, C), x's dtype.

    Numerics:
        Keep x's dtype.

    Reference:
        F.adaptive_avg_pool2d(x, 1).flatten(1); x.mean(dim=(2, 3)).
    """
    raise NotImplementedError


def adaptive_avgpool2d(x: np.ndarray, output_size: int | tuple[int, int]) -> np.ndarray:
    """Average pooling to a fixed output size, whatever the input size.

    Math:
        output row i averages input rows start_i <= r < end_i with
        start_i = floor(i * H / H_out),  end_i = ceil((i + 1) * H / H_out)
        (columns likewise). When H_out does not divide H the bins differ in size
        and neighbouring bins can share a row.

    Shapes:
        x: (N, C, H, W); out: (N, C, H_out, W_out).

    Args:
        x: a batch of feature maps.
        output_size: (H_out, W_out) or an int for both; may exceed H or W.

    Returns:
        out: x's dtype.

    Numerics:
        end uses the ceiling: with a floor, bins lose their last row and can be empty.

    Reference:
        torch.nn.functional.adaptive_avg_pool2d(x, output_size); nn.AdaptiveAvgPool2d.
    """
    raise NotImplementedError


def adaptive_maxpool2d(x: np.ndarray, output_size: int | tuple[int, int]) -> np.ndarray:
    """Max pooling to a fixed output size, with the same bins as adaptive_avgpool2d.

    Math:
        out[n, c, i, j] = max of x[n, c, start_i:end_i, start_j:end_j],
        start_i = floor(i * H / H_out),  end_i = ceil((i + 1) * H / H_out).

    Shapes:
        x: (N, C, H, W); out: (N, C, H_out, W_out).

    Args:
        x: a batch of feature maps.
        output_size: (H_out, W_out) or an int for both.

    Returns:
        out: x's dtype.

    Numerics:
        Keep x's dtype.

    Reference:
        torch.nn.functional.adaptive_max_pool2d(x, output_size); nn.AdaptiveMaxPool2d.
    """
    raise NotImplementedError


def spatial_pyramid_pool(x: np.ndarray, levels: tuple[int, ...] = (1, 2, 4)) -> np.ndarray:
    """Spatial pyramid pooling: a fixed-length vector from any image size (He et al. 2014).

    Math:
        for each level l, in the order given: adaptive max pool to (l, l), flattened
        per image in (C, bin_y, bin_x) order; the levels concatenated:
        out = concat over l of adaptive_maxpool2d(x, l).reshape(N, C * l * l)

    Shapes:
        x: (N, C, H, W); out: (N, C * sum(l * l for l in levels)).

    Args:
        x: a batch of feature maps.
        levels: bins per side at each level.

    Returns:
        out: x's dtype.

    Numerics:
        Keep x's dtype.

    Reference:
        torch.cat([F.adaptive_max_pool2d(x, l).flatten(1) for l in levels], dim=1).
    """
    raise NotImplementedError
