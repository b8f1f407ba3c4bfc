"""Functional layers: the maths of every layer, as differentiable functions (torch.nn.functional).

Two ways to make a function differentiable. Build it from ops (softmax, mse_loss, dropout):
autograd then finds the gradient for you. Or write a Function with a NumPy forward and a
hand-derived backward (linear, log_softmax, cross_entropy, conv2d, max_pool2d, embedding,
layer_norm): faster, numerically safer, and the lesson of this kata. Given: the one-line
public functions that call each Function. Convolution and pooling rest on im2col (every
window as a column) and col2im (the columns added back onto the pixels).

Test: pytest katas/09_autograd/test_functional.py
"""

from __future__ import annotations

import numpy as np

from . import errors
from .tensor import Function, Tensor

# --- composed from ops: autograd finds the gradient -----------------------------------------


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Probabilities along dim.

    Math:
        softmax(x)_i = exp(x_i) / sum_j exp(x_j) = exp(log_softmax(x)_i)

    Shapes:
        x: any shape; the result has x's shape, and sums to 1 along dim.

    Args:
        x: logits. dim: the axis of the classes (negative counts from the end).

    Returns:
        A Tensor built from log_softmax and ops (its gradient comes for free).

    Numerics:
        exp of a logit of 1e4 overflows: go through log_softmax, which is stable.

    Reference:
        torch.softmax
    """
    raise NotImplementedError


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean squared error.

    Math:
        l_i = (input_i - target_i)^2; "mean": the mean of all l_i; "sum": their sum;
        "none": l itself.

    Shapes:
        input, target: the same shape; the loss: () for "mean" and "sum", else input's.

    Args:
        input: a Tensor. target: a Tensor or ndarray (if a Tensor that requires grad,
            its gradient is computed too). reduction: "mean", "sum" or "none".

    Returns:
        The loss, a Tensor built from ops.

    Numerics:
        Keep input's dtype.

    Reference:
        torch.nn.functional.mse_loss
    """
    raise NotImplementedError


def dropout(x: Tensor, mask: np.ndarray, p: float) -> Tensor:
    """Inverted dropout with a mask drawn by the caller.

    Math:
        out = x * mask / (1 - p): dropped units (mask 0) are zero, kept ones are scaled
        by 1/(1-p) so that E[out] = x and evaluation needs no rescaling.

    Shapes:
        x: any shape; mask: x's shape (0 = dropped, 1 = kept); out: x's shape.

    Args:
        x: a Tensor. mask: 0/1 (or bool) ndarray, drawn by the caller with P(1) = 1 - p.
        p: the probability of dropping, in [0, 1].

    Returns:
        A Tensor built from ops.

    Numerics:
        p = 1 keeps nothing: return zeros (1/(1-p) = inf, and inf * 0 = nan). Keep x's
        dtype (an ndarray operand takes x's dtype in ops).

    Reference:
        torch.nn.functional.dropout (which draws its own mask)
    """
    raise NotImplementedError


# --- im2col and col2im: every window as a column, and back ------------------------------------


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Gather every kh x kw window of the zero-padded x into one column.

    Math:
        xp = x with `padding` zeros on every side. Window l = (r, c) (row-major over the
        OH x OW output positions) starts at xp[:, :, r*stride, c*stride];
        cols[n, (ch, i, j), l] = xp[n, ch, r*stride + i, c*stride + j], the index (ch, i, j)
        flattened channel first, then i, then j (the order of weight.reshape(F, -1)).
        OH = (H + 2 padding - kh) // stride + 1, OW alike.

    Shapes:
        x: (N, C, H, W); cols: (N, C*kh*kw, OH*OW).

    Args:
        x: images. kh, kw: window height and width. stride, padding: ints.

    Returns:
        cols, x's dtype.

    Numerics:
        Vectorised: loop over the kh*kw kernel offsets (each one strided slice of xp), never
        over examples or pixels. Raise ValueError when the window does not fit (OH < 1).

    Reference:
        torch.nn.functional.unfold(x, (kh, kw), padding=padding, stride=stride)
    """
    raise NotImplementedError


def col2im(
    cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """im2col in reverse: add every column's values back onto the pixels they came from.

    Math:
        x[n, ch, r*stride + i - padding, c*stride + j - padding] += cols[n, (ch, i, j), (r, c)]
        summed over every window that covers the pixel (when stride < kernel, windows overlap
        and a pixel gets several shares), then the padding is cut off.

    Shapes:
        cols: (N, C*kh*kw, OH*OW); x_shape: (N, C, H, W); returns (N, C, H, W).

    Args:
        cols: one column per window (a gradient, in backward). x_shape: the images' shape.
        kh, kw, stride, padding: as in im2col.

    Returns:
        The images, cols' dtype.

    Numerics:
        ADD (+=), never assign: assignment keeps only the last window's share. Loop over
        the kh*kw offsets only.

    Reference:
        torch.nn.functional.fold(cols, (H, W), (kh, kw), padding=padding, stride=stride)
    """
    raise NotImplementedError


# --- Functions: forward and backward by hand -------------------------------------------------


class Linear(Function):
    """y = x W^T + b in one node: the Function behind linear (torch's addmm).

    Math:
        y = x W^T + b. Backward, with g = grad: dx = g W; dW = g^T x (summed over every
        leading index of x); db = g summed over every leading index. Built from ops instead
        (x @ weight.T + bias) it is three nodes, and dW arrives transposed: a strided copy
        of the largest gradient at every step.

    Shapes:
        x: (..., in); w: (out, in); b: (out,); y: (..., out). For dW and db, flatten the
        leading dims: g as (M, out), x as (M, in).

    Args:
        forward(x, w, b=None): ndarrays (b is None when the layer has no bias).
        backward(grad): grad of y's shape.

    Returns:
        forward: y (ndarray). backward: (dx, dw), or (dx, dw, db) when there is a bias
        (len(self.inputs) == 3); dx or dw may be None when self.needs_input_grad says so.

    Numerics:
        Keep the dtype (float32 in, float32 out). No Python loops.

    Reference:
        torch.nn.functional.linear
    """

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None):
        """y; save x and w for backward."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(dx, dw) or (dx, dw, db)."""
        raise NotImplementedError


class LogSoftmax(Function):
    """log softmax along dim: the autograd Function behind log_softmax(x, dim).

    Math:
        out = x - m - log(sum_j exp(x_j - m)), m = max_j x_j (any m gives the same out).
        Backward: dx = grad - softmax(x) * sum(grad along dim), softmax(x) = exp(out).

    Shapes:
        x: any shape; out: x's shape; the sums keep dim (keepdims=True) to broadcast.

    Args:
        forward(x, dim): x an ndarray, dim an int (negative counts from the end).
        backward(grad): grad of out's shape.

    Returns:
        forward: out (ndarray). backward: a 1-tuple (dx,).

    Numerics:
        Subtract the max before exp: exp(1e4) overflows, exp(x - max) <= 1. Keep the dtype.

    Reference:
        torch.log_softmax
    """

    def forward(self, x: np.ndarray, dim: int = -1) -> np.ndarray:
        """log softmax of x along dim; save what backward needs."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(dx,)."""
        raise NotImplementedError


class CrossEntropy(Function):
    """Softmax and negative log-likelihood fused: the Function behind cross_entropy.

    Math:
        loss_n = -log softmax(logits_n)[target_n] = logsumexp(logits_n) - logits_n[target_n];
        "mean" = (1/N) sum_n loss_n (over examples, not classes), "sum", "none" = (loss_n).
        Backward: dlogits_n = (softmax(logits_n) - onehot(target_n)) * grad_n, with grad_n
        = grad / N ("mean"), grad ("sum") or grad[n] ("none").

    Shapes:
        logits: (N, C); target: (N,) ints in [0, C); loss: () or (N,) for "none".

    Args:
        forward(logits, target, reduction): target an int ndarray (an option, not an input).
        backward(grad): grad of the loss's shape.

    Returns:
        forward: the loss (ndarray). backward: (dlogits,).

    Numerics:
        Shift by each row's max (logits of 1e4). Keep the dtype.

    Reference:
        torch.nn.functional.cross_entropy(logits, target, reduction=...)
    """

    def forward(self, logits: np.ndarray, target: np.ndarray, reduction: str = "mean"):
        """The loss; save the softmax for backward."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(dlogits,)."""
        raise NotImplementedError


class Conv2d(Function):
    """2-D convolution (cross-correlation: no kernel flip) as one matmul over im2col's columns.

    Math:
        cols = im2col(x); out = W2 @ cols, W2 = w.reshape(F, C*kh*kw).
        Backward, with g = grad as (N, F, L): dW2 = sum_n g[n] @ cols[n]^T;
        dcols = W2^T @ g; dx = col2im(dcols).

    Shapes:
        x: (N, C, H, W); w: (F, C, kh, kw); cols: (N, C*kh*kw, L), L = OH*OW;
        out: (N, F, OH, OW).

    Args:
        forward(x, w, stride, padding): ints stride and padding (the bias is added by
        conv2d, with ops). backward(grad): grad of out's shape.

    Returns:
        forward: out (ndarray). backward: (dx, dw) (dx may be None when
        self.needs_input_grad[0] is False: the images of a first layer).

    Numerics:
        No Python loops over examples or pixels: matmul broadcasts over N (for dW2, a
        batched product then .sum(axis=0)). Keep the dtype.

    Reference:
        torch.nn.functional.conv2d(x, w, stride=stride, padding=padding)
    """

    def forward(self, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0):
        """out; save the columns and w for backward."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(dx, dw)."""
        raise NotImplementedError


class MaxPool2d(Function):
    """The max of every k x k window: the Function behind max_pool2d.

    Math:
        out[n, c, r, s] = max over the window (r, s) of x[n, c]. Backward: each
        grad[n, c, r, s] goes to the window's argmax only; a pixel that wins several
        overlapping windows (stride < k) gets the sum of their gradients.

    Shapes:
        x: (N, C, H, W); out: (N, C, OH, OW), OH = (H - k) // stride + 1.

    Args:
        forward(x, kernel_size, stride): ints. backward(grad): grad of out's shape.

    Returns:
        forward: out (ndarray). backward: (dx,).

    Numerics:
        Channels pool independently: im2col on x as (N*C, 1, H, W) puts each window in a
        column; argmax along the column; backward with np.put_along_axis and col2im. Ties
        go to the first max, as in torch.

    Reference:
        torch.nn.functional.max_pool2d(x, kernel_size, stride)
    """

    def forward(self, x: np.ndarray, kernel_size: int = 2, stride: int = 2):
        """out; remember each window's argmax."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(dx,)."""
        raise NotImplementedError


class Embedding(Function):
    """A table lookup, the Function behind embedding.

    Math:
        out[...] = weight[indices[...]]. Backward: dweight[v] = sum of grad over every
        position where indices == v (zero for tokens not used).

    Shapes:
        weight: (V, E); indices: any shape of ints in [0, V); out: indices.shape + (E,).

    Args:
        forward(weight, indices): indices an int ndarray (an option, not an input).
        backward(grad): grad of out's shape.

    Returns:
        forward: out (ndarray). backward: (dweight,).

    Numerics:
        A repeated index must accumulate: np.add.at(dw, indices, grad). dw[indices] += grad
        keeps only one of the repeats.

    Reference:
        torch.nn.functional.embedding(indices, weight)
    """

    def forward(self, weight: np.ndarray, indices: np.ndarray):
        """weight[indices]."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(dweight,)."""
        raise NotImplementedError


class LayerNorm(Function):
    """Normalise over the last k axes (the affine part is added by layer_norm, with ops).

    Math:
        mu = mean(x), var = mean((x - mu)^2) (biased: divided by D, not D - 1),
        xhat = (x - mu) / sqrt(var + eps), all over the last k axes (D elements).
        Backward: dx = (grad - mean(grad) - xhat * mean(grad * xhat)) / sqrt(var + eps).

    Shapes:
        x: (..., *normalized_shape); xhat: x's shape; means keep their axes.

    Args:
        forward(x, normalized_ndim, eps): normalized_ndim = k = len(normalized_shape).
        backward(grad): grad of xhat's shape.

    Returns:
        forward: xhat (ndarray). backward: (dx,).

    Numerics:
        eps inside the square root. Keep the dtype.

    Reference:
        torch.nn.functional.layer_norm(x, normalized_shape) (weight and bias None)
    """

    def forward(self, x: np.ndarray, normalized_ndim: int = 1, eps: float = 1e-5):
        """xhat; save what backward needs."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(dx,)."""
        raise NotImplementedError


# --- given: the public functions, one line of glue around each Function ----------------------


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, weight stored (out, in) as torch stores it (the Linear Function)."""
    if x.shape[-1] != weight.shape[-1]:  # name the weight, not an anonymous transpose
        raise errors.matmul_shape_error(
            x, Tensor(weight.data.T, name=f"{weight.name or 'weight'}.T")
        )
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log softmax along dim (the LogSoftmax Function)."""
    return LogSoftmax.apply(x, dim=dim)


def cross_entropy(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """Cross-entropy of logits (N, C) against class ids (N,) (the CrossEntropy Function)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    return CrossEntropy.apply(logits, target=target, reduction=reduction)


def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0
) -> Tensor:
    """2-D convolution (the Conv2d Function), plus the bias per output channel."""
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv2d takes x (N, C, H, W) and weight (F, C, kh, kw) with the same C; got "
            f"x {tuple(x.shape)} and weight {tuple(weight.shape)}"
        )
    out = Conv2d.apply(x, weight, stride=stride, padding=padding)  # (N, F, OH, OW)
    return out if bias is None else out + bias.reshape(1, bias.shape[0], 1, 1)


def max_pool2d(x: Tensor, kernel_size: int, stride: int | None = None) -> Tensor:
    """Max pooling over square windows (the MaxPool2d Function); stride defaults to kernel_size."""
    stride = kernel_size if stride is None else stride
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride)


def embedding(indices, weight: Tensor) -> Tensor:
    """weight[indices] (the Embedding Function)."""
    indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    return Embedding.apply(weight, indices=indices)


def layer_norm(x: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) axes (LayerNorm), then scale and shift."""
    shape = (normalized_shape,) if np.isscalar(normalized_shape) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape) :]) != shape:
        raise ValueError(f"layer_norm over {shape}, but the input's shape is {tuple(x.shape)}")
    out = LayerNorm.apply(x, normalized_ndim=len(shape), eps=eps)
    if weight is not None:
        out = out * weight  # (D,) broadcasts over the leading axes
    if bias is not None:
        out = out + bias
    return out
