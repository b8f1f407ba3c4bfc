"""The errors a user of minigrad meets first, worded to say what went wrong and where.

A good error names the tensors (their name, or the operation that made them), their
shapes and dtypes, and the likely fix. Each function here builds the exception; the
library raises it.
"""

from __future__ import annotations


def describe(t) -> str:
    """How a message names a tensor: 'x' (shape (2, 3), float32), or the op that made it."""
    if t.name:
        who = repr(t.name)
    elif t.grad_fn is not None:
        who = f"the output of {type(t.grad_fn).__name__}"
    else:
        who = "a tensor"
    return f"{who} (shape {tuple(t.shape)}, {t.dtype})"


def matmul_shape_error(a, b) -> ValueError:
    """a @ b where the inner dimensions differ."""
    if a.ndim == 0 or b.ndim == 0:
        inner = "matmul needs operands of at least one dimension (use * for a scalar)"
    elif b.ndim > 1:
        inner = f"a.shape[-1] = {a.shape[-1]} but b.shape[-2] = {b.shape[-2]}"
    else:
        inner = f"a.shape[-1] = {a.shape[-1]} but b.shape[0] = {b.shape[0]}"
    return ValueError(
        f"matmul: cannot multiply {describe(a)} by {describe(b)}: {inner}. "
        "The last dimension of the left operand must equal the second-to-last of the right "
        "(a weight of shape (out, in) is used as x @ W.T)."
    )


def nonscalar_backward_error(t) -> RuntimeError:
    """backward() without a gradient on a tensor of more than one element."""
    return RuntimeError(
        f"backward() without a gradient needs a single-element tensor, but it was called on "
        f"{describe(t)}. Reduce it to a scalar first (loss.sum() or loss.mean()), or pass "
        "the gradient of your loss with respect to it: t.backward(grad) with grad of shape "
        f"{tuple(t.shape)}."
    )


def no_grad_backward_error(t) -> RuntimeError:
    """backward() on a tensor that no parameter's gradient flows into."""
    return RuntimeError(
        f"backward() was called on {describe(t)}, which does not require grad: nothing it "
        "was computed from has requires_grad=True, or it was computed under no_grad()."
    )


def modified_inplace_error(fn, t, saved_version: int) -> RuntimeError:
    """A tensor that a Function saved for backward was changed in place afterwards."""
    return RuntimeError(
        f"{describe(t)}, saved by {type(fn).__name__} for its backward, was modified in place "
        f"afterwards (its version is {t._version}, {type(fn).__name__} saved version "
        f"{saved_version}). Its gradient would use the new values. Change a copy instead, "
        "or make the change before the forward pass."
    )


def inplace_on_grad_error(t) -> RuntimeError:
    """An in-place change to a tensor that requires grad, with the graph being recorded."""
    return RuntimeError(
        f"in-place change of {describe(t)}, which requires grad: minigrad records no "
        "in-place operations. Use the out-of-place form (x = x + y), or wrap parameter "
        "updates in `with no_grad():`."
    )


def freed_graph_error(fn) -> RuntimeError:
    """A second backward through a graph whose saved values were freed."""
    return RuntimeError(
        f"backward through {type(fn).__name__} a second time: its saved values were freed "
        "by the first backward(). Pass retain_graph=True to the first backward() if you "
        "need to go back twice, or recompute the forward pass."
    )


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
