"""The Tensor: an ndarray that remembers how it was made, and backward() that walks back.

Every differentiable operation is a Function: forward computes on ndarrays, backward
turns the output's gradient into one gradient per input. Function.apply runs forward and,
when a gradient will be needed, links the output to the Function that made it
(out.grad_fn, whose .inputs are the edges back). Tensor.backward() visits that graph in
reverse topological order and leaves d(loss)/d(leaf) in each leaf's .grad.

Implement with NumPy. Raise the errors that minigrad's errors module builds (errors.X(...)):
they say what went wrong in words a user understands.
Run: pytest katas/09_autograd/test_tensor.py
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import errors

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether Function.apply records the graph now (False inside no_grad())."""
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Turn graph recording off inside `with no_grad():`, and restore it on the way out.

    Math:
        No graph, no gradients: outputs made inside have requires_grad=False and no
        grad_fn. Used for evaluation and for parameter updates (p.data -= lr * p.grad).

    Shapes:
        None: it changes the module's flag _grad_enabled (read by is_grad_enabled()).

    Args:
        None. Works as a decorator too (`@no_grad()`), thanks to contextlib.

    Returns:
        A context manager: write a generator that sets the flag to False, yields, and
        puts back the value it found (no_grad inside no_grad must not turn grad mode on).

    Numerics:
        Restore the flag even when the body raises: try / finally around the yield.

    Reference:
        torch.no_grad
    """
    global _grad_enabled
    raise NotImplementedError
    yield  # makes this a generator; remove the raise above and write yours


class Tensor:
    """An ndarray with autograd: requires_grad, grad, grad_fn and backward().

    Math:
        backward() computes d(self)/d(leaf), or grad^T d(self)/d(leaf) with an explicit
        grad, for every leaf that requires grad, by the chain rule in reverse mode:
        a node's gradient is the sum over its consumers of what their backward returns.
        Order: reverse topological (a node after every node computed from it), found
        with an iterative depth-first search (a visited set, a stack, post-order).

    Shapes:
        .data: any shape; .grad: the same shape and dtype as .data (leaves only);
        backward(grad): grad of self's shape (left out only when self has one element).

    Args:
        data: an array-like, wrapped with np.asarray (no copy).
        requires_grad: whether backward() fills this leaf's .grad.
        name: shown in repr and error messages.

    Returns:
        backward() returns None; each leaf that requires grad gets .grad (the first
        backward stores a copy, later ones add to it); non-leaf .grad stays None.

    Numerics:
        Without retain_graph, each Function releases its saved values after its backward,
        so a second backward through it raises errors.freed_graph_error. Raise
        errors.no_grad_backward_error (self does not require grad),
        errors.nonscalar_backward_error (no grad for a tensor of several elements),
        errors.grad_shape_error (a gradient of the wrong shape; also for what a
        Function's backward returns), errors.backward_arity_error (a Function's backward
        returned the wrong number of gradients). Depth 5000 must work: no recursion.

    Reference:
        torch.Tensor.backward, torch.Tensor.detach, torch.autograd.backward
    """

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = np.asarray(data)
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise RuntimeError(
                f"only floating point tensors can require gradients, not {self.data.dtype}"
            )
        self.requires_grad = requires_grad
        self.grad: np.ndarray | None = None  # filled by backward() on leaves
        self.grad_fn: Function | None = None  # the Function that made this tensor
        self.name = name
        self._version = 0  # bumped by every in-place change (checked by saved_tensors)

    # --- what it is (given) -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def __repr__(self) -> str:
        extra = f", grad_fn={type(self.grad_fn).__name__}" if self.grad_fn else ""
        extra += ", requires_grad=True" if self.requires_grad and self.is_leaf else ""
        extra += f", name={self.name!r}" if self.name else ""
        return f"Tensor({self.data!r}{extra})"

    def detach(self) -> Tensor:
        """A new leaf on the same data (shared memory, no copy) that requires no grad."""
        raise NotImplementedError

    # --- in place (given) -------------------------------------------------------------
    def _check_inplace(self) -> None:
        if self.requires_grad and is_grad_enabled():
            raise errors.inplace_on_grad_error(self)
        self._version += 1

    def zero_(self) -> Tensor:
        self._check_inplace()
        self.data[...] = 0
        return self

    def add_(self, other) -> Tensor:
        self._check_inplace()
        self.data += other.data if isinstance(other, Tensor) else other
        return self

    def mul_(self, other) -> Tensor:
        self._check_inplace()
        self.data *= other.data if isinstance(other, Tensor) else other
        return self

    def __setitem__(self, index, value) -> None:
        self._check_inplace()
        self.data[index] = value.data if isinstance(value, Tensor) else value

    # --- backward ---------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the .grad of every leaf that requires grad."""
        # 1. Check self requires grad; grad defaults to ones (one element only), in
        #    self's dtype and shape.
        # 2. Topological order of the tensors that require grad, iteratively.
        # 3. grads = {id(self): grad}; in reverse order: a leaf adds its gradient to .grad;
        #    a non-leaf calls grad_fn.backward, checks and sums what comes back into its
        #    inputs' entries, then (unless retain_graph) grad_fn.release().
        raise NotImplementedError


class Function:
    """One differentiable operation. Subclasses write forward and backward on ndarrays.

    Math:
        out = forward(*arrays, **options); backward(grad) returns, for each input i,
        grad_i = grad^T d(out)/d(input_i) (the vector-Jacobian product), or None.

    Shapes:
        forward returns an ndarray; backward returns a tuple with one gradient per input,
        each of that input's shape (None where that input needs no gradient).

    Args:
        *inputs: the Tensors the operation reads (kept as self.inputs: the graph's edges),
            with self.needs_input_grad = one bool per input (does it require grad?).
            Subclasses pass non-tensor options to apply as keywords.

    Returns:
        apply returns a new Tensor; when grad mode is on and an input requires grad, it
        has requires_grad=True and grad_fn = the Function instance that made it.

    Numerics:
        saved_tensors raises errors.freed_graph_error once release() has freed what
        forward saved (a Function that saved nothing never is), and
        errors.modified_inplace_error if an input whose own array was saved has changed
        version (t._version) since save_for_backward.

    Reference:
        torch.autograd.Function (apply, ctx.save_for_backward, ctx.saved_tensors,
        ctx.needs_input_grad)
    """

    def __init__(self, *inputs: Tensor):
        """Keep the inputs and which of them need a gradient; nothing saved yet."""
        raise NotImplementedError

    def save_for_backward(self, *values) -> None:
        """Keep arrays for backward, and the version of each input whose array is kept."""
        raise NotImplementedError

    @property
    def saved_tensors(self) -> tuple:
        """What forward saved, after checking it was neither freed nor changed in place."""
        raise NotImplementedError

    def release(self) -> None:
        """Free what forward saved (called by backward() without retain_graph)."""
        raise NotImplementedError

    def forward(self, *arrays: np.ndarray, **options) -> np.ndarray:
        """The operation on ndarrays (each subclass writes its own)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray):
        """One gradient per input (each subclass writes its own)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **options) -> Tensor:
        """Run forward on the inputs' arrays; record the graph when a gradient is needed."""
        raise NotImplementedError
