"""The Tensor: an ndarray that remembers how it was made, and backward() that walks back.

Every differentiable operation is a Function: forward computes on ndarrays, backward
turns the output's gradient into one gradient per input. Function.apply runs forward and,
when grad mode is on and an input requires grad, links the output to the Function that
made it (out.grad_fn). backward() visits that graph in reverse topological order, so a
node's gradient is complete (every consumer has added its share) before it passes it on.
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import errors

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Inside `with no_grad():` (or a function decorated with it) no graph is recorded."""
    global _grad_enabled
    before, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = before


class Tensor:
    """An ndarray with autograd: requires_grad, grad, grad_fn and backward()."""

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
        self._version = 0  # bumped by every in-place change (checked by backward)

    # --- what it is -------------------------------------------------------------------
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
        """The same data, cut from the graph (shares memory, as torch's detach does)."""
        return Tensor(self.data)

    # --- in place ---------------------------------------------------------------------
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
        """Accumulate d self / d leaf into every leaf's .grad that requires grad.

        grad is d(loss)/d(self); it may be left out only when self has one element.
        Without retain_graph, each Function frees what it saved, so a second backward
        through the same graph raises instead of silently reusing stale buffers.
        """
        if not self.requires_grad:
            raise errors.no_grad_backward_error(self)
        if grad is None:
            if self.size != 1:
                raise errors.nonscalar_backward_error(self)
            grad = np.ones_like(self.data)
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise errors.grad_shape_error(self, grad.shape, "backward(grad)")

        # Reverse topological order: a tensor comes after every tensor computed from it.
        order: list[Tensor] = []
        seen: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:  # iterative DFS: an LSTM's graph is deeper than Python's recursion limit
            t, expanded = stack.pop()
            if expanded:
                order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            if t.grad_fn is not None:
                for parent in t.grad_fn.inputs:
                    if parent.requires_grad and id(parent) not in seen:
                        stack.append((parent, False))

        grads: dict[int, np.ndarray] = {id(self): grad}
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if t.grad_fn is None:  # a leaf: accumulate, as torch does across backward calls
                t.grad = g.copy() if t.grad is None else t.grad + g
                continue
            fn = t.grad_fn
            in_grads = fn.backward(g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if len(in_grads) != len(fn.inputs):
                raise errors.backward_arity_error(fn, len(in_grads))
            for parent, pg in zip(fn.inputs, in_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent.shape:
                    raise errors.grad_shape_error(parent, pg.shape, type(fn).__name__)
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg
            if not retain_graph:
                fn.release()


class Function:
    """One differentiable operation. Subclasses write forward and backward on ndarrays.

    forward(*arrays, **options) -> ndarray: save what backward needs with save_for_backward.
    backward(grad) -> one gradient (or None) per input, each of that input's shape.
    """

    def __init__(self, *inputs: Tensor):
        self.inputs = inputs
        self.needs_input_grad = tuple(t.requires_grad for t in inputs)
        self._saved: tuple | None = ()
        self._versions: list[tuple[Tensor, int]] = []

    def save_for_backward(self, *values) -> None:
        """Keep arrays for backward. An input's own array is version-checked when used."""
        self._saved = values
        self._versions = [(t, t._version) for t in self.inputs if any(v is t.data for v in values)]

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise errors.freed_graph_error(self)
        for t, version in self._versions:
            if t._version != version:
                raise errors.modified_inplace_error(self, t, version)
        return self._saved

    def release(self) -> None:
        """Free what forward saved (backward without retain_graph)."""
        if self._saved:  # a Function that saved nothing can run backward again, as in torch
            self._saved = None

    def forward(self, *arrays: np.ndarray, **options) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **options) -> Tensor:
        """Run forward on the inputs' arrays; record the graph when a gradient is needed."""
        fn = cls(*inputs)
        out = Tensor(fn.forward(*(t.data for t in inputs), **options))
        if is_grad_enabled() and any(fn.needs_input_grad):
            out.requires_grad = True
            out.grad_fn = fn
        return out
