"""Functional layers: the maths of every layer, as differentiable functions (torch.nn.functional).

Where the gradient is the lesson (linear, log_softmax, cross_entropy, conv2d, max_pool2d,
embedding, layer_norm) a Function writes forward and backward on ndarrays; the rest (softmax,
mse_loss, dropout) are a line of ops, and autograd finds their gradients. Convolution and
pooling gather every window into a column (im2col) so one matmul or one max does the work;
their backward scatters the columns back and ADDS where windows overlap (col2im).

References: CS231n's assignment 2 (im2col, col2im); torch.nn.functional's documentation;
Ba et al. 2016, "Layer Normalization"; Srivastava et al. 2014, "Dropout".
"""

from __future__ import annotations

import numpy as np

from . import errors
from .tensor import Function, Tensor

# --- composed from ops: autograd finds the gradient -----------------------------------------


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(log_softmax): stable for large logits, and its gradient comes for free."""
    return log_softmax(x, dim).exp()


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Squared error, averaged (mean), summed (sum) or per element (none)."""
    diff = input - target
    sq = diff * diff
    return _reduce(sq, reduction)


def dropout(x: Tensor, mask: np.ndarray, p: float) -> Tensor:
    """Inverted dropout: zero where mask is 0, scale the kept units by 1/(1-p)."""
    # Scaling in training keeps E[out] = x, so evaluation is the identity. p = 1 keeps
    # nothing (mask all zeros): the scale is irrelevant, and 1/(1-p) would be inf * 0 = nan.
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], not {p}")
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    return x * (np.asarray(mask) * scale)  # an ndarray operand takes x's dtype


def _reduce(t: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return t.mean()
    if reduction == "sum":
        return t.sum()
    if reduction == "none":
        return t
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


# --- im2col and col2im: every window as a column, and back ------------------------------------


def _out_size(size: int, k: int, stride: int, padding: int) -> int:
    out = (size + 2 * padding - k) // stride + 1
    if out < 1:
        raise ValueError(f"a window of {k} does not fit an input of {size} with padding {padding}")
    return out


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Every kh x kw window of x (zero-padded) as a column, in the order of F.unfold."""
    N, C, H, W = x.shape
    OH, OW = _out_size(H, kh, stride, padding), _out_size(W, kw, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((N, C, kh, kw, OH, OW), dtype=x.dtype)
    # One slice per kernel offset (i, j): the pixel at that offset in every window at once.
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i : i + stride * OH : stride, j : j + stride * OW : stride]
    return cols.reshape(N, C * kh * kw, OH * OW)  # (N, C kh kw, L), L = OH OW windows


def col2im(
    cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """im2col's adjoint: add every column back onto the pixels it came from (fold)."""
    N, C, H, W = x_shape
    OH, OW = _out_size(H, kh, stride, padding), _out_size(W, kw, stride, padding)
    cols = cols.reshape(N, C, kh, kw, OH, OW)
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            # += : a pixel in several windows (stride < kernel) gets the sum of their shares.
            xp[:, :, i : i + stride * OH : stride, j : j + stride * OW : stride] += cols[:, :, i, j]
    return xp[:, :, padding : padding + H, padding : padding + W]  # drop the padding


# --- Functions: forward and backward by hand -------------------------------------------------


class Linear(Function):
    """y = x W^T + b as one node, as torch's addmm: x @ weight.T + bias built from ops is
    three nodes, and its weight gradient arrives transposed (a strided copy per step)."""

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None):
        self.save_for_backward(x, w)
        y = x @ w.T  # (..., in) @ (in, out) -> (..., out)
        return y if b is None else y + b  # (out,) broadcasts over the leading axes

    def backward(self, grad: np.ndarray):
        x, w = self.saved_tensors
        g = grad.reshape(-1, grad.shape[-1])  # (M, out), M = every leading index
        dx = grad @ w if self.needs_input_grad[0] else None  # (..., out) @ (out, in)
        dw = g.T @ x.reshape(-1, x.shape[-1]) if self.needs_input_grad[1] else None  # (out, in)
        if len(self.inputs) == 2:
            return dx, dw
        return dx, dw, g.sum(axis=0)  # the bias was added to every row: sum them


class LogSoftmax(Function):
    """log softmax along dim, shifted by the max so that exp never overflows."""

    def forward(self, x: np.ndarray, dim: int = -1) -> np.ndarray:
        self.dim = dim
        shifted = x - x.max(axis=dim, keepdims=True)  # the largest is 0: exp(shifted) <= 1
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray):
        (out,) = self.saved_tensors
        # d out_i / d x_j = [i == j] - softmax_j: the gradient minus softmax * its sum.
        return (grad - np.exp(out) * grad.sum(axis=self.dim, keepdims=True),)


class CrossEntropy(Function):
    """-log softmax(logits)[target] per example, then the reduction; fused for stability."""

    def forward(self, logits: np.ndarray, target: np.ndarray, reduction: str = "mean"):
        N = logits.shape[0]
        self.target, self.reduction = target, reduction
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
        losses = -logp[np.arange(N), target]  # (N,): each example's own class
        self.save_for_backward(np.exp(logp))  # softmax, for backward
        if reduction == "mean":
            return losses.mean()  # the mean over the N examples, not over N * C entries
        return losses.sum() if reduction == "sum" else losses

    def backward(self, grad: np.ndarray):
        (probs,) = self.saved_tensors
        N = probs.shape[0]
        d = probs.copy()  # d loss_n / d logits_n = softmax_n - onehot(target_n)
        d[np.arange(N), self.target] -= 1
        if self.reduction == "mean":
            return (d * (grad / N),)
        if self.reduction == "sum":
            return (d * grad,)
        return (d * grad[:, None],)  # "none": each row by its own loss's gradient


class Conv2d(Function):
    """Cross-correlation (no kernel flip) as one matmul over im2col's columns."""

    def forward(self, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0):
        N, C, H, W = x.shape
        F, _, kh, kw = w.shape
        self.geometry = (x.shape, kh, kw, stride, padding)
        cols = im2col(x, kh, kw, stride, padding)  # (N, C kh kw, L)
        self.save_for_backward(cols, w)
        out = w.reshape(F, -1) @ cols  # (F, C kh kw) @ (N, C kh kw, L) -> (N, F, L)
        OH = (H + 2 * padding - kh) // stride + 1
        return out.reshape(N, F, OH, -1)  # (N, F, OH, OW)

    def backward(self, grad: np.ndarray):
        cols, w = self.saved_tensors
        x_shape, kh, kw, stride, padding = self.geometry
        N, F = grad.shape[:2]
        g = grad.reshape(N, F, -1)  # (N, F, L)
        # dW[f, k] = sum over examples n and windows l of g[n, f, l] * cols[n, k, l]:
        # one (F, L) @ (L, C kh kw) product per example, summed over the examples
        dw = (g @ cols.transpose(0, 2, 1)).sum(axis=0)  # (F, C kh kw)
        dw = dw.reshape(w.shape)
        dx = None
        if self.needs_input_grad[0]:  # the images of a first layer need no gradient
            dcols = w.reshape(F, -1).T @ g  # (C kh kw, F) @ (N, F, L) -> (N, C kh kw, L)
            dx = col2im(dcols, x_shape, kh, kw, stride, padding)
        return dx, dw


class MaxPool2d(Function):
    """The max of every window; backward routes each gradient to its window's argmax."""

    def forward(self, x: np.ndarray, kernel_size: int = 2, stride: int = 2):
        N, C, H, W = x.shape
        k, s = kernel_size, stride
        # Channels pool independently: treat each as an image of one channel.
        cols = im2col(x.reshape(N * C, 1, H, W), k, k, s)  # (N C, k k, L)
        self.arg = cols.argmax(axis=1)[:, None, :]  # (N C, 1, L): each window's winner
        OH, OW = _out_size(H, k, s, 0), _out_size(W, k, s, 0)
        self.geometry = (x.shape, k, s, OH, OW)
        out = np.take_along_axis(cols, self.arg, axis=1)  # (N C, 1, L)
        return out.reshape(N, C, OH, OW)

    def backward(self, grad: np.ndarray):
        (N, C, H, W), k, s, OH, OW = self.geometry
        dcols = np.zeros((N * C, k * k, OH * OW), dtype=grad.dtype)
        # Only the max of each window moved the output: it alone gets the gradient.
        np.put_along_axis(dcols, self.arg, grad.reshape(N * C, 1, OH * OW), axis=1)
        dx = col2im(dcols, (N * C, 1, H, W), k, k, s)  # overlapping windows add up
        return (dx.reshape(N, C, H, W),)


class Embedding(Function):
    """Row lookup weight[indices]; backward adds each output row's gradient to its row."""

    def forward(self, weight: np.ndarray, indices: np.ndarray):
        self.indices, self.weight_shape = indices, weight.shape
        return weight[indices]  # indices.shape + (E,)

    def backward(self, grad: np.ndarray):
        dw = np.zeros(self.weight_shape, dtype=grad.dtype)
        # A token used twice gets both gradients: add.at accumulates repeated indices,
        # where dw[indices] += grad would keep only the last one.
        np.add.at(dw, self.indices, grad)
        return (dw,)


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) over the last k axes, var biased (divided by their size)."""

    def forward(self, x: np.ndarray, normalized_ndim: int = 1, eps: float = 1e-5):
        self.axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        mu = x.mean(axis=self.axes, keepdims=True)
        var = x.var(axis=self.axes, keepdims=True)  # biased, as torch normalises
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x - mu) * inv_std
        self.save_for_backward(xhat, inv_std)
        return xhat

    def backward(self, grad: np.ndarray):
        xhat, inv_std = self.saved_tensors
        mean = lambda a: a.mean(axis=self.axes, keepdims=True)  # noqa: E731
        # Three paths from x to xhat: directly, through the mean, through the variance.
        dx = (grad - mean(grad) - xhat * mean(grad * xhat)) * inv_std
        return (dx,)


# --- the public functions: one line of glue around each Function -----------------------------


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
