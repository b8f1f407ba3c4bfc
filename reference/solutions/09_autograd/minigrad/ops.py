"""ops.py: the differentiable operations, each a Function with a NumPy forward and backward.

Every op follows one pattern: forward computes the result on ndarrays and saves what backward
needs; backward receives d(loss)/d(output) and returns d(loss)/d(input) for each input, of
that input's shape. Binary ops broadcast, so their backward sums the gradient back over the
broadcast dimensions (unbroadcast). At import, the ops become Tensor methods (a + b, a @ b,
a.sum(dim=1), a[0]), so user code reads like PyTorch.

Reference: torch/csrc/autograd/FunctionsManual.cpp and tools/autograd/derivatives.yaml (the
derivative of every torch op); micrograd's engine.py; tinygrad's mlops.
"""

from __future__ import annotations

import numpy as np

from . import errors
from .tensor import Function, Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient of the broadcast result's shape back to an input's shape."""
    # 1. Broadcasting added leading dims: the input was reused along each, so sum them away.
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    # 2. A dim of size 1 was stretched: sum over it, keeping it (size 1).
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _axes(dim, ndim: int) -> tuple[int, ...]:
    """dim (None, an int, or a tuple; negative allowed) as a sorted tuple of axes >= 0."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted(d % ndim if ndim else 0 for d in dims))


def _kept_shape(shape, axes) -> tuple[int, ...]:
    """shape with the reduced axes set to 1 (what keepdim=True would have returned)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _tensor(x, like: Tensor | None = None) -> Tensor:
    """x as a Tensor; a number or ndarray takes the dtype of the other (floating) operand."""
    if isinstance(x, Tensor):
        return x
    if like is not None and np.issubdtype(like.dtype, np.floating):
        return Tensor(np.asarray(x, dtype=like.dtype))
    return Tensor(np.asarray(x))


def _pair(a, b) -> tuple[Tensor, Tensor]:
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _tensor(a)
    return _tensor(a, like=b if isinstance(b, Tensor) else None), _tensor(b, like=a)


# --- elementwise binary ops (broadcasting) -------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape  # shapes are metadata, never freed
        return a + b

    def backward(self, grad):
        ga = unbroadcast(grad, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(grad, self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Sub(Function):
    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return a - b

    def backward(self, grad):
        ga = unbroadcast(grad, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-grad, self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved_tensors
        ga = unbroadcast(grad * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(grad * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad):
        a, b = self.saved_tensors
        # d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2
        ga = unbroadcast(grad / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class MatMul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, grad):
        a, b = self.saved_tensors
        # Treat 1-D operands as torch does: a (K,) is a row (1, K), b (K,) a column (K, 1).
        a2 = a[None, :] if a.ndim == 1 else a  # (..., M, K)
        b2 = b[:, None] if b.ndim == 1 else b  # (..., K, P)
        g2 = grad  # (..., M, P) with the dims of size 1 that 1-D operands dropped put back:
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)  # the column dim P = 1 (first: g2 may be 0-d)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)  # the row dim M = 1
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g2 @ np.swapaxes(b2, -1, -2)  # (..., M, P) @ (..., P, K) -> (..., M, K)
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)  # sum broadcast batch dims
        if self.needs_input_grad[1]:
            gb = np.swapaxes(a2, -1, -2) @ g2  # (..., K, M) @ (..., M, P) -> (..., K, P)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


class Where(Function):
    def forward(self, a, b, condition):
        self.a_shape, self.b_shape = a.shape, b.shape
        self.save_for_backward(condition)
        return np.where(condition, a, b)

    def backward(self, grad):
        (condition,) = self.saved_tensors
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(np.where(condition, grad, 0), self.a_shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(np.where(condition, 0, grad), self.b_shape)
        return ga, gb


# --- elementwise unary ops -----------------------------------------------------------------
class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


class Pow(Function):
    def forward(self, a, exponent):
        self.exponent = exponent
        self.save_for_backward(a)
        return a**exponent

    def backward(self, grad):
        (a,) = self.saved_tensors
        return (grad * self.exponent * a ** (self.exponent - 1),)


class Exp(Function):
    def forward(self, a):
        out = np.exp(a)
        self.save_for_backward(out)  # d e^a / da = e^a: keep the output, not the input
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return (grad * out,)


class Log(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return np.log(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return (grad / a,)


class Tanh(Function):
    def forward(self, a):
        t = np.tanh(a)
        self.save_for_backward(t)
        return t

    def backward(self, grad):
        (t,) = self.saved_tensors
        return (grad * (1 - t * t),)


class Sigmoid(Function):
    def forward(self, a):
        # Stable for large |a|: exp only ever sees -|a|, so it never overflows.
        e = np.exp(-np.abs(a))
        s = np.where(a >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(s)
        return s

    def backward(self, grad):
        (s,) = self.saved_tensors
        return (grad * s * (1 - s),)


class ReLU(Function):
    def forward(self, a):
        self.save_for_backward(a > 0)
        return np.maximum(a, 0)

    def backward(self, grad):
        (positive,) = self.saved_tensors
        return (grad * positive,)  # torch's convention: relu'(0) = 0


# --- reductions ----------------------------------------------------------------------------
class Sum(Function):
    def forward(self, a, dim=None, keepdim=False):
        self.shape, self.axes = a.shape, _axes(dim, a.ndim)
        return a.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, grad):
        g = grad.reshape(_kept_shape(self.shape, self.axes))  # put reduced dims back as 1
        return (np.broadcast_to(g, self.shape).copy(),)  # every input element got it once


class Mean(Function):
    def forward(self, a, dim=None, keepdim=False):
        self.shape, self.axes = a.shape, _axes(dim, a.ndim)
        return a.mean(axis=self.axes, keepdims=keepdim)

    def backward(self, grad):
        n = int(np.prod([self.shape[i] for i in self.axes]))  # elements averaged per output
        g = grad.reshape(_kept_shape(self.shape, self.axes)) / n
        return (np.broadcast_to(g, self.shape).copy(),)


class Max(Function):
    def forward(self, a, dim=None, keepdim=False):
        axes = _axes(dim, a.ndim)
        top = a.max(axis=axes, keepdims=True)
        hit = (a == top).astype(a.dtype)  # 1 where an element reaches the max (ties too)
        self.save_for_backward(hit / hit.sum(axis=axes, keepdims=True))  # ties share equally
        self.kept_shape = top.shape
        return top if keepdim else np.squeeze(top, axis=axes)

    def backward(self, grad):
        (share,) = self.saved_tensors
        return (share * grad.reshape(self.kept_shape),)


# --- shape ops -----------------------------------------------------------------------------
class Reshape(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return (grad.reshape(self.in_shape),)


class Transpose(Function):
    def forward(self, a, dim0, dim1):
        self.dims = (dim0, dim1)
        return np.swapaxes(a, dim0, dim1)

    def backward(self, grad):
        return (np.swapaxes(grad, *self.dims),)  # a swap is its own inverse


class Permute(Function):
    def forward(self, a, dims):
        self.dims = dims
        return np.transpose(a, dims)

    def backward(self, grad):
        # Output axis i came from input axis dims[i]; argsort sends each one back.
        return (np.transpose(grad, np.argsort(self.dims)),)


class GetItem(Function):
    def forward(self, a, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad):
        out = np.zeros(self.shape, dtype=self.dtype)
        # add.at, not out[index] = grad: an element picked twice must get both gradients.
        np.add.at(out, self.index, grad)
        return (out,)


class Cat(Function):
    def forward(self, *arrays, dim=0):
        self.dim = dim
        self.sizes = [x.shape[dim] for x in arrays]
        return np.concatenate(arrays, axis=dim)

    def backward(self, grad):
        cuts = np.cumsum(self.sizes)[:-1]  # where one input ends and the next begins
        return tuple(np.split(grad, cuts, axis=self.dim))


class Stack(Function):
    def forward(self, *arrays, dim=0):
        self.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.dim, 0))  # one slice per input, in order


# --- the functions users call --------------------------------------------------------------
def add(a, b) -> Tensor:
    return Add.apply(*_pair(a, b))


def sub(a, b) -> Tensor:
    return Sub.apply(*_pair(a, b))


def mul(a, b) -> Tensor:
    return Mul.apply(*_pair(a, b))


def div(a, b) -> Tensor:
    return Div.apply(*_pair(a, b))


def neg(a) -> Tensor:
    return Neg.apply(_tensor(a))


def pow(a, exponent: float) -> Tensor:  # noqa: A001 - torch's name
    return Pow.apply(_tensor(a), exponent=exponent)


def matmul(a, b) -> Tensor:
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise errors.matmul_shape_error(a, b)
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != k_b:  # check here: numpy's own message names no tensor
        raise errors.matmul_shape_error(a, b)
    return MatMul.apply(a, b)


def exp(a) -> Tensor:
    return Exp.apply(_tensor(a))


def log(a) -> Tensor:
    return Log.apply(_tensor(a))


def tanh(a) -> Tensor:
    return Tanh.apply(_tensor(a))


def sigmoid(a) -> Tensor:
    return Sigmoid.apply(_tensor(a))


def relu(a) -> Tensor:
    return ReLU.apply(_tensor(a))


def sum(a, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    return Sum.apply(_tensor(a), dim=dim, keepdim=keepdim)


def mean(a, dim=None, keepdim: bool = False) -> Tensor:
    return Mean.apply(_tensor(a), dim=dim, keepdim=keepdim)


def max(a, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    return Max.apply(_tensor(a), dim=dim, keepdim=keepdim)


def reshape(a, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])  # reshape(a, (2, 3)) as well as reshape(a, 2, 3)
    return Reshape.apply(_tensor(a), shape=shape)


def transpose(a, dim0: int, dim1: int) -> Tensor:
    return Transpose.apply(_tensor(a), dim0=dim0, dim1=dim1)


def permute(a, *dims) -> Tensor:
    a = _tensor(a)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return Permute.apply(a, dims=tuple(d % a.ndim for d in dims))


def getitem(a, index) -> Tensor:
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return GetItem.apply(_tensor(a), index=index)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [_tensor(t) for t in tensors]
    return Cat.apply(*tensors, dim=dim % tensors[0].ndim)


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = [_tensor(t) for t in tensors]
    return Stack.apply(*tensors, dim=dim % (tensors[0].ndim + 1))


def where(condition, a, b) -> Tensor:
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    a, b = _pair(a, b)
    return Where.apply(a, b, condition=condition.astype(bool))


# --- Tensor methods: a + b, 2 * a, a @ b, a[0], a.sum(1), a.T -----------------------------
def _install() -> None:
    T = Tensor
    T.__array_ufunc__ = None  # ndarray + Tensor: NumPy steps aside, Tensor.__radd__ runs
    T.__add__ = add
    T.__radd__ = lambda self, other: add(other, self)
    T.__sub__ = sub
    T.__rsub__ = lambda self, other: sub(other, self)
    T.__mul__ = mul
    T.__rmul__ = lambda self, other: mul(other, self)
    T.__truediv__ = div
    T.__rtruediv__ = lambda self, other: div(other, self)
    T.__neg__ = neg
    T.__pow__ = pow
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__getitem__ = getitem
    T.exp, T.log, T.tanh, T.sigmoid, T.relu = exp, log, tanh, sigmoid, relu
    T.sum, T.mean, T.max = sum, mean, max
    T.reshape, T.transpose, T.permute = reshape, transpose, permute
    T.T = property(lambda self: permute(self, *reversed(range(self.ndim))))


_install()
