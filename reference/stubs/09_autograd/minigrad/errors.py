"""The errors a user of minigrad meets first, worded to say what went wrong and where.

A good error names the tensors (their name, or the operation that made them), their
shapes and dtypes, and the likely fix. Each function here builds the exception; the
library raises it (tensor.py and ops.py call `raise errors.X(...)`), so a builder
RETURNS the exception and never raises it itself.

You choose the wording: the tests check what a message must say, not how. Write shapes
as Python tuples, (2, 3), and name the operation that made a tensor by its Function's
class name (type(t.grad_fn).__name__, e.g. Mul). The last two builders are written, as
examples of the voice: what happened, to whom, and what to do about it.
Run: pytest katas/09_autograd/test_errors.py
"""

from __future__ import annotations


def describe(t) -> str:
    """How every message names a tensor: who it is, its shape and its dtype.

    Math:
        who = repr(t.name) if the tensor has a name ('weights'); else, if an operation
        made it (t.grad_fn is not None), "the output of <that Function's class name>";
        else "a tensor". The result is who, then the shape and the dtype:
        'weights' (shape (4, 5), float32).

    Shapes:
        t: a Tensor of any shape, 0-d included (its shape is ()).

    Args:
        t: the Tensor to name (read t.name, t.grad_fn, t.shape, t.dtype).

    Returns:
        A short string, for the middle of a sentence.

    Numerics:
        Never print the values: a tensor may hold a million of them.

    Reference:
        torch names tensors by shape and type ("[torch.FloatTensor [3]]"); we also name them.
    """
    raise NotImplementedError


def matmul_shape_error(a, b) -> ValueError:
    """The error for a @ b when the inner dimensions differ (ops.matmul raises it).

    Math:
        a (..., M, K) @ b (..., K, P) needs a.shape[-1] == b.shape[-2]; a 1-D operand
        counts as a row on the left, (K,), and as a column on the right (b.shape[0]).

    Shapes:
        a, b: any shapes that do not fit (0-d operands too: matmul refuses scalars).

    Args:
        a, b: the left and right operands, Tensors.

    Returns:
        A ValueError (a bad argument, not a failure inside the library) whose message
        names both operands with describe(), the left one first, and says which sizes
        must agree (the hint for Linear layers: x @ W.T with W of shape (out, in)).

    Numerics:
        Mind 1-D and 0-d operands: a.shape[-1] of a 0-d tensor is an IndexError.

    Reference:
        torch.matmul: "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)".
    """
    raise NotImplementedError


def nonscalar_backward_error(t) -> RuntimeError:
    """The error for t.backward() without a gradient when t has more than one element.

    Math:
        backward() starts from d(t)/d(t) = 1, which is a number only for one element;
        for more, the chain rule needs the gradient of a scalar loss with respect to t.

    Shapes:
        t: any shape with t.size > 1.

    Args:
        t: the tensor backward() was called on.

    Returns:
        A RuntimeError that names t with describe() and gives both fixes as code:
        reduce it first, `loss.sum()` or `loss.mean()`, or pass the gradient,
        `t.backward(grad)` with grad of t's shape.

    Numerics:
        None.

    Reference:
        torch: "grad can be implicitly created only for scalar outputs".
    """
    raise NotImplementedError


def no_grad_backward_error(t) -> RuntimeError:
    """The error for t.backward() when t does not require grad.

    Math:
        No input of t's graph has requires_grad=True (or it was computed under
        no_grad()), so there is no leaf for a gradient to reach.

    Shapes:
        t: any shape.

    Args:
        t: the tensor backward() was called on.

    Returns:
        A RuntimeError that names t with describe() and both causes: nothing it was
        computed from has requires_grad=True, or it was computed under no_grad().

    Numerics:
        None.

    Reference:
        torch: "element 0 of tensors does not require grad and does not have a grad_fn".
    """
    raise NotImplementedError


def modified_inplace_error(fn, t, saved_version: int) -> RuntimeError:
    """The error when a tensor a Function saved for backward was changed in place after.

    Math:
        Every in-place change bumps t._version. fn saved t's array at saved_version;
        now t._version differs, so fn's backward would compute with the new values.

    Shapes:
        t: any shape.

    Args:
        fn: the Function that saved it (name it by its class: Mul).
        t: the input tensor that was modified (name it with describe()).
        saved_version: t._version when fn saved it.

    Returns:
        A RuntimeError naming t, fn's class, the version now and the version saved,
        and the fix: change a copy, or change it before the forward pass.

    Numerics:
        None.

    Reference:
        torch: "one of the variables needed for gradient computation has been modified
        by an inplace operation: [torch.FloatTensor [3]] is at version 1; expected
        version 0 instead."
    """
    raise NotImplementedError


def inplace_on_grad_error(t) -> RuntimeError:
    """The error for an in-place change (add_, mul_, zero_, t[i] = v) of a tensor that
    requires grad while the graph is being recorded.

    Math:
        minigrad records no in-place operations: the graph would silently lose the change.

    Shapes:
        t: any shape.

    Args:
        t: the tensor being changed (name it with describe()).

    Returns:
        A RuntimeError naming t and the fixes: the out-of-place form (x = x + y), or
        `with no_grad():` around parameter updates.

    Numerics:
        None.

    Reference:
        torch: "a leaf Variable that requires grad is being used in an in-place operation."
    """
    raise NotImplementedError


def freed_graph_error(fn) -> RuntimeError:
    """The error for a second backward through a Function whose saved values were freed.

    Math:
        backward() without retain_graph releases what each Function saved (memory), so
        walking the same graph again finds nothing to compute with.

    Shapes:
        None.

    Args:
        fn: the Function whose saved values are gone (name it by its class).

    Returns:
        A RuntimeError naming fn's class and the fixes: pass retain_graph=True to the
        first backward(), or run the forward pass again.

    Numerics:
        None.

    Reference:
        torch: "Trying to backward through the graph a second time ... Specify
        retain_graph=True if you need to backward through the graph a second time".
    """
    raise NotImplementedError


# --- given: two messages in the voice this module speaks -------------------------------


def grad_shape_error(t, shape, where: str) -> RuntimeError:
    """A gradient whose shape is not the shape of the tensor it belongs to."""
    return RuntimeError(
        f"{where} produced a gradient of shape {tuple(shape)} for {describe(t)}: a "
        "gradient has its tensor's shape (sum a broadcast gradient back over the "
        "broadcast dimensions)."
    )


def backward_arity_error(fn, count: int) -> RuntimeError:
    """A Function's backward returned the wrong number of gradients."""
    return RuntimeError(
        f"{type(fn).__name__}.backward returned {count} gradients for {len(fn.inputs)} "
        "inputs: return one per input, in order (None for an input that needs none)."
    )
