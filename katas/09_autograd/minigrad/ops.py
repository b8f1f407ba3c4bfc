"""ops.py: the differentiable operations, each a Function with a NumPy forward and backward.

Your tensor.py records a graph and walks it back; this file gives it something to record.
Every op is a Function subclass (see tensor.py), like this one (an example, not one of yours):

    class Square(Function):
        def forward(self, a):            # ndarrays in, an ndarray out
            self.save_for_backward(a)    # what backward will need
            return a * a

        def backward(self, grad):        # grad = d loss / d out, of out's shape
            (a,) = self.saved_tensors
            return (grad * 2 * a,)       # one gradient per input, each of its input's shape

plus the function users call, square(a) = Square.apply(a). Three rules hold everywhere:

1. Broadcasting. a (3, 1) + b (1, 4) is (3, 4): each element of a was used 4 times, so its
   gradient is the sum of 4 gradients. unbroadcast(grad, a.shape) sums grad back to a's shape.
2. Saving. Keep arrays for backward with save_for_backward (the inputs; or the output, for
   exp, tanh and sigmoid) and read them with self.saved_tensors: then an input changed in
   place after forward is refused, as in torch. Shapes and options can be plain attributes.
3. Never write into grad or a saved array (no grad *= b): the same array may be another
   tensor's gradient, or a value that a later backward needs.

GIVEN (working code, below the Functions): the functions users call (add, mul, ..., with
Python numbers and ndarrays turned into Tensors), the shape check of matmul, and the Tensor
operators installed at import (a + b, 2 * a, a @ b, a[0], a.sum(1), a.T ...).
YOURS: unbroadcast, and forward and backward of every Function.

Reference: torch's tools/autograd/derivatives.yaml (the derivative of every torch op);
micrograd's engine.py.
"""

from __future__ import annotations

import numpy as np

from . import errors
from .tensor import Function, Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient of the broadcast result's shape back to an input's shape.

    Math: broadcasting copies the input along some dims, and the gradient of a copy is
        the sum of the copies' gradients: (1) sum over the leading dims broadcasting added,
        (2) sum over each dim where shape has size 1 and grad does not, keeping it (size 1).
    Shapes: grad (broadcast shape), e.g. (2, 3, 4); shape, e.g. (4,) or (3, 1); returns shape.
    Args:
        grad: d loss / d (the broadcast result).
        shape: the shape of the input the gradient belongs to.
    Returns:
        an array of exactly `shape` (grad itself when nothing was broadcast).
    Numerics: sums only; grad.sum(axis=..., keepdims=True) keeps the size-1 dims.
    Reference: torch.Tensor.sum_to_size(shape).
    """
    raise NotImplementedError


def _axes(dim, ndim: int) -> tuple[int, ...]:
    """dim (None, an int, or a tuple; negative allowed) as a sorted tuple of axes >= 0."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted(d % ndim if ndim else 0 for d in dims))


def _kept_shape(shape, axes) -> tuple[int, ...]:
    """shape with the reduced axes set to 1 (what keepdim=True would have returned)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# --- elementwise binary ops (broadcasting) -------------------------------------------------
class Add(Function):
    """out = a + b, broadcasting.

    Math: d out/d a = 1, d out/d b = 1: each input gets grad, summed back to its shape.
    Shapes: a, b broadcastable; out and grad have the broadcast shape.
    Args: forward(a, b): the inputs' arrays. backward(grad): d loss / d out.
    Returns: forward: a + b. backward: (grad_a, grad_b), of a's and b's shapes.
    Numerics: backward needs only the shapes: keep them as attributes (self.a_shape = ...).
    Reference: torch.add.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a + b."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a, grad_b)."""
        raise NotImplementedError


class Sub(Function):
    """out = a - b, broadcasting.

    Math: d out/d a = 1, d out/d b = -1.
    Shapes: a, b broadcastable; out and grad have the broadcast shape.
    Args: forward(a, b). backward(grad).
    Returns: forward: a - b. backward: (grad_a, grad_b).
    Numerics: shapes only, as in Add.
    Reference: torch.sub.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a - b."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a, grad_b)."""
        raise NotImplementedError


class Mul(Function):
    """out = a * b, broadcasting.

    Math: d out/d a = b, d out/d b = a (then unbroadcast each).
    Shapes: a, b broadcastable; out and grad have the broadcast shape.
    Args: forward(a, b). backward(grad).
    Returns: forward: a * b. backward: (grad * b, grad * a), each summed to its input's shape.
    Numerics: save a and b. In x * x both inputs are the same tensor: return both gradients.
    Reference: torch.mul.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a * b."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a, grad_b)."""
        raise NotImplementedError


class Div(Function):
    """out = a / b, broadcasting.

    Math: d out/d a = 1 / b, d out/d b = -a / b**2.
    Shapes: a, b broadcastable; out and grad have the broadcast shape.
    Args: forward(a, b). backward(grad).
    Returns: forward: a / b. backward: (grad_a, grad_b).
    Numerics: b = 0 gives inf, as in torch; nothing to guard.
    Reference: torch.div.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a / b."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a, grad_b)."""
        raise NotImplementedError


class MatMul(Function):
    """out = a @ b: batched, batch dims broadcast, 1-D operands as in torch.

    Math: for matrices, d loss/d a = grad @ b^T and d loss/d b = a^T @ grad, where ^T swaps
        the LAST TWO axes (np.swapaxes(x, -1, -2); x.T would reverse every axis). A batch dim
        that broadcasting stretched (b (5, 4, 2) used by every a[i]) sums: unbroadcast.
        1-D operands: treat a (K,) as a row (1, K) and b (K,) as a column (K, 1), put the
        dims they dropped back into grad (np.expand_dims), and reshape the gradients back.
    Shapes: a (..., M, K) @ b (..., K, P) -> (..., M, P); (K,) @ (K,) -> ();
        (K,) @ (..., K, P) -> (..., P); (..., M, K) @ (K,) -> (..., M).
    Args: forward(a, b). backward(grad), of out's shape.
    Returns: forward: a @ b. backward: (grad_a, grad_b), of a's and b's shapes.
    Numerics: compute only the gradients asked for (self.needs_input_grad): a matmul each.
    Reference: torch.matmul.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a @ b."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a, grad_b)."""
        raise NotImplementedError


class Where(Function):
    """out = where(condition, a, b): a's element where condition holds, b's elsewhere.

    Math: d out/d a = 1 where condition, else 0; d out/d b the other way round.
    Shapes: condition, a, b broadcastable; out and grad have the broadcast shape.
    Args: forward(a, b, condition): condition a bool array (an option, not an input).
        backward(grad).
    Returns: forward: np.where(condition, a, b). backward: (grad_a, grad_b).
    Numerics: save condition; the masked-out side gets exact zeros.
    Reference: torch.where.
    """

    def forward(self, a: np.ndarray, b: np.ndarray, condition: np.ndarray) -> np.ndarray:
        """np.where(condition, a, b)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a, grad_b)."""
        raise NotImplementedError


# --- elementwise unary ops -----------------------------------------------------------------
class Neg(Function):
    """out = -a.

    Math: d out/d a = -1.
    Shapes: out, grad: a's shape.
    Args: forward(a). backward(grad).
    Returns: forward: -a. backward: (-grad,).
    Numerics: exact.
    Reference: torch.neg.
    """

    def forward(self, a: np.ndarray) -> np.ndarray:
        """-a."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Pow(Function):
    """out = a ** exponent, for a number exponent.

    Math: d out/d a = exponent * a ** (exponent - 1).
    Shapes: out, grad: a's shape.
    Args: forward(a, exponent): exponent a Python number. backward(grad).
    Returns: forward: a ** exponent. backward: (grad_a,).
    Numerics: a negative base with an integer-valued exponent (2.0, 3.0, -2.0) is fine in
        NumPy; a fractional exponent of a negative base is nan, as in torch.
    Reference: torch.pow.
    """

    def forward(self, a: np.ndarray, exponent: float) -> np.ndarray:
        """a ** exponent."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Exp(Function):
    """out = e ** a.

    Math: d out/d a = e ** a = out.
    Shapes: out, grad: a's shape.
    Args: forward(a). backward(grad).
    Returns: forward: np.exp(a). backward: (grad * out,).
    Numerics: save the output, not the input: no second exp.
    Reference: torch.exp.
    """

    def forward(self, a: np.ndarray) -> np.ndarray:
        """np.exp(a)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Log(Function):
    """out = ln a.

    Math: d out/d a = 1 / a.
    Shapes: out, grad: a's shape.
    Args: forward(a). backward(grad).
    Returns: forward: np.log(a). backward: (grad / a,).
    Numerics: a <= 0 gives -inf or nan, as in torch.
    Reference: torch.log.
    """

    def forward(self, a: np.ndarray) -> np.ndarray:
        """np.log(a)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Tanh(Function):
    """out = tanh a.

    Math: d out/d a = 1 - tanh(a)**2 = 1 - out**2 (the OUTPUT squared, not the input).
    Shapes: out, grad: a's shape.
    Args: forward(a). backward(grad).
    Returns: forward: np.tanh(a). backward: (grad_a,).
    Numerics: np.tanh saturates to +-1 without overflow; save the output.
    Reference: torch.tanh.
    """

    def forward(self, a: np.ndarray) -> np.ndarray:
        """np.tanh(a)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Sigmoid(Function):
    """out = s = 1 / (1 + e ** -a).

    Math: d s/d a = s * (1 - s), with s the OUTPUT.
    Shapes: out, grad: a's shape.
    Args: forward(a). backward(grad).
    Returns: forward: s. backward: (grad_a,).
    Numerics: e ** -a overflows for a = -800: with e = exp(-|a|) (never above 1),
        s = 1 / (1 + e) where a >= 0 and e / (1 + e) where a < 0. Save s.
    Reference: torch.sigmoid.
    """

    def forward(self, a: np.ndarray) -> np.ndarray:
        """The logistic sigmoid, without overflow."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class ReLU(Function):
    """out = max(a, 0).

    Math: d out/d a = 1 where a > 0, else 0 (0 at a = 0 too, as in torch).
    Shapes: out, grad: a's shape.
    Args: forward(a). backward(grad).
    Returns: forward: np.maximum(a, 0). backward: (grad_a,).
    Numerics: save the mask a > 0 (a bool array), not a copy of a.
    Reference: torch.relu.
    """

    def forward(self, a: np.ndarray) -> np.ndarray:
        """np.maximum(a, 0)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


# --- reductions ----------------------------------------------------------------------------
class Sum(Function):
    """out = a summed over dim (all dims when None), keeping them as size 1 if keepdim.

    Math: every input element enters its sum once: d out/d a = 1, so grad_a is grad copied
        back over the summed dims.
    Shapes: a (2, 3, 4), dim=(0, 2) -> (3,), or (1, 3, 1) with keepdim; grad: out's shape.
    Args: forward(a, dim=None, keepdim=False): dim None, an int, or a tuple; negative
        allowed (self.axes = _axes(dim, a.ndim) normalises it). backward(grad).
    Returns: forward: a.sum(axis=..., keepdims=keepdim). backward: (grad_a,), a's shape.
    Numerics: without keepdim, reshape grad to _kept_shape(a.shape, axes) BEFORE
        broadcasting: a grad (2,) does not line up with a (2, 3) summed over dim 1.
    Reference: torch.sum.
    """

    def forward(self, a: np.ndarray, dim=None, keepdim: bool = False) -> np.ndarray:
        """a.sum over dim."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Mean(Function):
    """out = a averaged over dim (all dims when None).

    Math: out = sum / n, n = the number of elements averaged into each output:
        d out/d a = 1 / n.
    Shapes: as Sum.
    Args: forward(a, dim=None, keepdim=False). backward(grad).
    Returns: forward: a.mean(axis=..., keepdims=keepdim). backward: (grad_a,), a's shape.
    Numerics: n is the product of the reduced dims' sizes, not a.size (unless dim is None).
    Reference: torch.mean.
    """

    def forward(self, a: np.ndarray, dim=None, keepdim: bool = False) -> np.ndarray:
        """a.mean over dim."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Max(Function):
    """out = the largest value over dim (values only), as torch.amax.

    Math: only the elements equal to the max receive gradient; k tied maxima share it
        equally (grad / k each), as torch.amax does.
    Shapes: as Sum.
    Args: forward(a, dim=None, keepdim=False). backward(grad).
    Returns: forward: a.max(axis=..., keepdims=keepdim). backward: (grad_a,), a's shape.
    Numerics: build the share in forward: hit = (a == max with keepdims) as a's dtype
        (a bool / int division would give float64), share = hit / hit.sum(over dim).
    Reference: torch.amax.
    """

    def forward(self, a: np.ndarray, dim=None, keepdim: bool = False) -> np.ndarray:
        """a.max over dim."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


# --- shape ops -----------------------------------------------------------------------------
class Reshape(Function):
    """out = a with a new shape, the same elements in the same (row-major) order.

    Math: a reshape moves no value: grad_a is grad reshaped back.
    Shapes: a (2, 3, 4), shape (4, -1) -> out (4, 6).
    Args: forward(a, shape): shape a tuple (-1 allowed). backward(grad).
    Returns: forward: a.reshape(shape). backward: (grad_a,), a's shape.
    Numerics: exact.
    Reference: torch.reshape.
    """

    def forward(self, a: np.ndarray, shape: tuple) -> np.ndarray:
        """a.reshape(shape)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Transpose(Function):
    """out = a with dims dim0 and dim1 swapped.

    Math: swapping the same two dims again undoes it: grad_a = grad with them swapped.
    Shapes: a (2, 3, 4), dims (0, -1) -> out (4, 3, 2).
    Args: forward(a, dim0, dim1). backward(grad).
    Returns: forward: np.swapaxes(a, dim0, dim1). backward: (grad_a,).
    Numerics: exact.
    Reference: torch.transpose.
    """

    def forward(self, a: np.ndarray, dim0: int, dim1: int) -> np.ndarray:
        """np.swapaxes(a, dim0, dim1)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Permute(Function):
    """out = a with its dims reordered: out's dim i is a's dim dims[i].

    Math: grad_a = grad permuted by the INVERSE permutation, np.argsort(dims); permuting by
        dims again is right only when dims is its own inverse (a swap).
    Shapes: a (2, 3, 4), dims (2, 0, 1) -> out (4, 2, 3).
    Args: forward(a, dims): a tuple of non-negative dims. backward(grad).
    Returns: forward: np.transpose(a, dims). backward: (grad_a,).
    Numerics: exact.
    Reference: torch.permute.
    """

    def forward(self, a: np.ndarray, dims: tuple) -> np.ndarray:
        """np.transpose(a, dims)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class GetItem(Function):
    """out = a[index]: basic slicing and integer-array indexing.

    Math: each picked element passes its gradient back to where it came from; an element
        picked twice (index [0, 2, 0]) receives both: np.add.at(grad_a, index, grad).
        grad_a[index] = grad would keep only the last of them.
    Shapes: a (3, 4), index [0, 2, 0] -> out (3, 4); index (slice(1, None), 2) -> (2,).
    Args: forward(a, index): anything NumPy indexing takes. backward(grad).
    Returns: forward: a[index]. backward: (grad_a,), zeros of a's shape and dtype plus grad.
    Numerics: exact.
    Reference: torch.Tensor.__getitem__ (index_put_ with accumulate=True in its backward).
    """

    def forward(self, a: np.ndarray, index) -> np.ndarray:
        """a[index]."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """(grad_a,)."""
        raise NotImplementedError


class Cat(Function):
    """out = the inputs joined along an existing dim.

    Math: each input owns a block of out: its gradient is that block of grad.
    Shapes: (2, 3) and (2, 5), dim=-1 -> (2, 8).
    Args: forward(*arrays, dim=0): dim >= 0 (the function below normalises it).
        backward(grad).
    Returns: forward: np.concatenate(arrays, axis=dim). backward: one block per input.
    Numerics: np.split(grad, cut points, axis=dim), the cut points np.cumsum of the sizes.
    Reference: torch.cat.
    """

    def forward(self, *arrays: np.ndarray, dim: int = 0) -> np.ndarray:
        """np.concatenate(arrays, axis=dim)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """One gradient per input."""
        raise NotImplementedError


class Stack(Function):
    """out = the inputs (all of one shape) stacked along a new dim.

    Math: input i is out's slice i along dim: its gradient is grad's slice i.
    Shapes: two (2, 3), dim=1 -> (2, 2, 3).
    Args: forward(*arrays, dim=0): dim >= 0 (normalised below). backward(grad).
    Returns: forward: np.stack(arrays, axis=dim). backward: one slice per input.
    Numerics: exact.
    Reference: torch.stack.
    """

    def forward(self, *arrays: np.ndarray, dim: int = 0) -> np.ndarray:
        """np.stack(arrays, axis=dim)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple:
        """One gradient per input."""
        raise NotImplementedError


# --- GIVEN: the functions users call --------------------------------------------------------
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


# --- GIVEN: Tensor methods: a + b, 2 * a, a @ b, a[0], a.sum(1), a.T ----------------------
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
