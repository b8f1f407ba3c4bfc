"""tensor.py: Function.apply records the graph, Tensor.backward walks it back; every leaf's
.grad is compared with torch.autograd on the same expression, written in both libraries."""

import functools
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import tensor

mg = kata("09_autograd/tensor")


@functools.cache
def _functions(Function):
    """Small operations written on YOUR Function: what ops.py will be made of."""

    class Mul(Function):
        def forward(self, a, b):
            self.save_for_backward(a, b)
            return a * b

        def backward(self, grad):
            a, b = self.saved_tensors
            return (
                grad * b if self.needs_input_grad[0] else None,
                grad * a if self.needs_input_grad[1] else None,
            )

    class Add(Function):  # saves nothing
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            return grad, grad

    class Tanh(Function):  # saves its output, not its input
        def forward(self, a):
            out = np.tanh(a)
            self.save_for_backward(out)
            return out

        def backward(self, grad):
            (out,) = self.saved_tensors
            return (grad * (1 - out**2),)

    class Scale(Function):  # an option passed as a keyword
        def forward(self, a, c=1.0):
            self.c = c
            return a * c

        def backward(self, grad):
            return (grad * self.c,)

    class Sum(Function):
        def forward(self, a):
            self.input_shape = a.shape
            return np.asarray(a.sum())

        def backward(self, grad):
            return (np.broadcast_to(grad, self.input_shape).copy(),)

    class Probe(Function):  # remembers needs_input_grad
        log: list = []

        def forward(self, a, b):
            Probe.log.append(tuple(self.needs_input_grad))
            return a + b

        def backward(self, grad):
            return grad, grad

    return SimpleNamespace(
        mul=Mul.apply,
        add=Add.apply,
        tanh=Tanh.apply,
        sum=Sum.apply,
        Probe=Probe,
        scale=lambda a, c: Scale.apply(a, c=c),
        Mul=Mul,
        Add=Add,
        Sum=Sum,
    )


def fns():
    return _functions(mg.Function)


TORCH = SimpleNamespace(
    mul=torch.mul, add=torch.add, tanh=torch.tanh, sum=torch.sum, scale=lambda a, c: a * c
)


def pair(rng, shape=(3,), requires_grad=True, dtype=np.float64, name="x", low=-1.0):
    """The same leaf in minigrad and in torch (float64 unless dtype says otherwise)."""
    a = rng.uniform(low, 1.0, shape).astype(dtype)
    t = torch.from_numpy(a.copy()) if dtype != np.float64 else tensor(a)
    return mg.Tensor(a, requires_grad=requires_grad, name=name), t.requires_grad_(requires_grad)


ONE_PASS = (
    "torch's backward on the same graph raises nothing. Inside ONE backward call each "
    "Function's backward runs once: visit each tensor once (a set of those seen), and "
    "release() only after a Function's own backward."
)


def backward(y, *args, hint=ONE_PASS, **kwargs):
    """y.backward(...) through call(); when it raises where torch does not, say why."""
    __tracebackhide__ = True
    deep = False
    try:
        return call(y.backward, *args, **kwargs)
    except NotImplementedError:  # a RuntimeError too: not started is not a failure
        raise
    except RecursionError:  # shown without its thousand frames
        deep = True
    except RuntimeError as err:
        assert_true(False, f"{y.backward.__name__}() raised RuntimeError: {err}\n{hint}")
    assert_true(
        not deep,
        "backward() went past Python's recursion limit: a graph can be thousands of "
        "Functions deep (an RNN over a long sequence). Find the order with a loop and an "
        "explicit stack instead of a recursive function.",
    )


def check_grads(leaves, mistakes=None, dtype=None):
    """Each (name, minigrad leaf, torch leaf): .grad None where torch's is, else equal."""
    __tracebackhide__ = True
    for name, mine, theirs in leaves:
        if theirs.grad is None:
            assert_true(
                mine.grad is None,
                f"{name}.grad is {describe(mine.grad)}; torch leaves "
                "it None (it needs no gradient, or the output does not depend on it)",
            )
            continue
        assert_true(
            mine.grad is not None,
            f"after backward(), {name}.grad is None; torch "
            f"gives {describe(theirs.grad)}. The gradient never reached this leaf: are "
            "tensors visited in reverse topological order? does a leaf store its "
            "gradient in .grad?",
        )
        slips = (mistakes or {}).get(name)
        assert_close(
            mine.grad,
            theirs.grad,
            tol="grad",
            name=f"{name}.grad",
            inplace=True,
            dtype=dtype or theirs.dtype,
            mistakes=slips,
        )


def test_apply_returns_the_forward_result_as_a_tensor(rng):
    (x, tx), (w, tw) = pair(rng), pair(rng, requires_grad=False, name="w")
    out = call(fns().mul, x, w)
    assert_true(isinstance(out, mg.Tensor), f"Mul.apply returned {describe(out)}, not a Tensor")
    assert_close(out.data, tx * tw, tol="elementwise", name="out.data")
    out = call(fns().scale, x, 2.5)
    assert_close(out.data, tx * 2.5, tol="elementwise", name="Scale.apply(x, c=2.5).data")


def test_apply_links_the_output_to_the_function_that_made_it(rng):
    (x, _), (w, _) = pair(rng), pair(rng, requires_grad=False, name="w")
    out = call(fns().mul, x, w)
    fn = out.grad_fn
    assert_true(
        isinstance(fn, fns().Mul) and out.requires_grad and not out.is_leaf,
        f"Mul.apply(x, w) with x requiring grad must return a tensor with "
        f"requires_grad=True and grad_fn a Mul; got {out!r}",
    )
    inputs = tuple(getattr(fn, "inputs", ()))
    assert_true(
        len(inputs) == 2 and inputs[0] is x and inputs[1] is w,
        "grad_fn.inputs must be the input Tensors themselves, in order (x, w): "
        "they are the graph's edges back to the leaves",
    )


def test_apply_records_no_graph_when_no_input_requires_grad(rng):
    (a, ta), (b, tb) = (pair(rng, requires_grad=False, name=n) for n in "ab")
    out, want = call(fns().mul, a, b), ta * tb
    assert_true(
        out.requires_grad == want.requires_grad and out.grad_fn is None,
        f"Mul.apply(a, b) where neither requires grad gave {out!r}; torch gives "
        "requires_grad=False and no grad_fn: no gradient can be needed",
    )


def test_needs_input_grad_matches_torch(rng):
    class TorchProbe(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            log.append(tuple(ctx.needs_input_grad))
            return a + b

    for flags in [(True, False), (False, True), (True, True), (False, False)]:
        fns().Probe.log.clear()
        log = []
        (a, ta), (b, tb) = (pair(rng, requires_grad=f, name=n) for f, n in zip(flags, "ab"))
        call(fns().Probe.apply, a, b)
        TorchProbe.apply(ta, tb)
        assert_true(
            fns().Probe.log == log,
            f"with requires_grad {flags}, needs_input_grad "
            f"was {fns().Probe.log} in forward; torch's ctx.needs_input_grad is {log}",
        )


@pytest.mark.oracle
def test_chain_backward_matches_torch(rng):
    F, (x, tx), (w, tw) = fns(), pair(rng, (2, 3)), pair(rng, (2, 3), name="w")
    y = F.sum(F.scale(F.tanh(F.mul(x, w)), -2.0))
    TORCH.sum(TORCH.scale(torch.tanh(tx * tw), -2.0)).backward()
    backward(y)
    check_grads([("x", x, tx), ("w", w, tw)])


@pytest.mark.oracle
def test_a_tensor_used_twice_gets_the_sum_of_both_gradients(rng):
    F, (x, tx) = fns(), pair(rng, (4,))
    backward(F.sum(F.mul(x, x)))
    (tx * tx).sum().backward()
    slip = {"x": {"only one use of x counted: grads[parent] = g overwrote the other": tx.grad / 2}}
    check_grads([("x", x, tx)], mistakes=slip)


def diamond(F, x, w, cut=None):
    """h = tanh(x * w) feeds two branches, u = h * w and v = tanh(h); y = sum(u + v)."""
    h = F.tanh(F.mul(x, w))
    hu, hv = (h.detach() if cut == "u" else h), (h.detach() if cut == "v" else h)
    return F.sum(F.add(F.mul(hu, w), F.tanh(hv)))


@pytest.mark.oracle
def test_a_shared_intermediate_waits_for_all_its_consumers(rng):
    F, (x, tx), (w, tw) = fns(), pair(rng, (3,)), pair(rng, (3,), name="w")
    backward(diamond(F, x, w))
    diamond(TORCH, tx, tw).backward()

    def one_branch(cut):
        x2, w2 = tx.detach().requires_grad_(), tw.detach().requires_grad_()
        diamond(TORCH, x2, w2, cut).backward()
        return {"x": x2.grad, "w": w2.grad}

    slips = {
        k: {
            f"h passed on its gradient before branch {b} added its share": (
                lambda k=k, b=b: one_branch(b)[k]
            )
            for b in "uv"
        }
        for k in "xw"
    }
    check_grads([("x", x, tx), ("w", w, tw)], mistakes=slips)


def test_only_leaves_that_require_grad_get_a_grad(rng):
    F, (x, tx), (b, tb) = fns(), pair(rng), pair(rng, requires_grad=False, name="b")
    h = F.mul(x, b)
    backward(F.sum(F.tanh(h)))
    assert_true(
        h.grad is None and not h.is_leaf and x.is_leaf,
        f"the intermediate h = x * b has .grad {describe(h.grad)}; like torch, only "
        "leaves keep a .grad (a non-leaf's gradient lives only during backward)",
    )
    torch.tanh(tx * tb).sum().backward()
    check_grads([("x", x, tx), ("b", b, tb)])


@pytest.mark.oracle
def test_backward_with_an_explicit_grad_matches_torch(rng):
    F, (a, ta), (b, tb) = fns(), pair(rng, (2, 3), name="a"), pair(rng, (2, 3), name="b")
    g = rng.standard_normal((2, 3))
    backward(F.add(F.mul(a, b), a), g)
    (ta * tb + ta).backward(tensor(g))
    check_grads([("a", a, ta), ("b", b, tb)])
    y = F.add(a, b)
    a.grad = b.grad = None
    backward(y, g)
    assert_true(
        not np.shares_memory(a.grad, g) and not np.shares_memory(a.grad, b.grad),
        "after y = a + b; y.backward(g), a.grad shares memory with g or with b.grad: a "
        "leaf's first gradient must be a copy (an in-place update of one would change "
        "the other)",
    )


@pytest.mark.edge
def test_grads_accumulate_across_backward_calls_like_torch(rng):
    F, (x, tx), (w, tw) = fns(), pair(rng), pair(rng, name="w")
    y = F.sum(F.tanh(F.mul(x, w)))
    ty = torch.tanh(tx * tw).sum()
    backward(y, retain_graph=True)
    ty.backward(retain_graph=True)
    once = {"x": tx.grad.clone(), "w": tw.grad.clone()}
    backward(
        y,
        hint="The first call was backward(retain_graph=True): it must keep what the "
        "Functions saved (release() only without retain_graph).",
    )
    ty.backward()
    slips = {
        k: {"the second backward overwrote .grad instead of adding to it": v}
        for k, v in once.items()
    }
    check_grads([("x", x, tx), ("w", w, tw)], mistakes=slips)


@pytest.mark.edge
def test_a_second_backward_through_a_freed_graph_raises_like_torch(rng):
    F, (x, tx) = fns(), pair(rng)
    y = F.sum(F.mul(x, x))
    backward(y)
    ty = (tx * tx).sum()
    ty.backward()
    with pytest.raises(RuntimeError):
        ty.backward()
    assert_raises(
        RuntimeError,
        y.backward,
        why="torch raises: Mul's saved values were freed "
        "by the first backward (saved_tensors must refuse once released)",
    )


@pytest.mark.edge
def test_a_graph_that_saved_nothing_can_go_back_twice_like_torch(rng):
    F, (x, tx) = fns(), pair(rng)
    y = F.sum(F.add(x, F.add(x, x)))  # Add and Sum save no arrays: nothing to free
    backward(y)
    backward(
        y,
        hint="That was the second backward() through y = sum(x + (x + x)). torch "
        "allows it: no Function here saved anything, so nothing was freed. release() "
        "frees saved values, and only saved_tensors refuses after it.",
    )
    ty = (tx + (tx + tx)).sum()
    ty.backward()
    ty.backward()
    check_grads([("x", x, tx)])


@pytest.mark.edge
def test_backward_refuses_what_torch_refuses(rng):
    F, (x, _), (c, _) = fns(), pair(rng, (2, 3)), pair(rng, requires_grad=False, name="c")
    assert_raises(
        RuntimeError,
        F.mul(x, x).backward,
        why="y has 6 elements and no grad was "
        "given; torch: grad can be implicitly created only for scalar outputs",
    )
    assert_raises(
        RuntimeError,
        F.mul(x, x).backward,
        np.ones(3),
        why="grad has shape (3,), y has shape (2, 3); torch: Mismatch in shape",
    )
    assert_raises(
        RuntimeError,
        F.sum(c).backward,
        why="nothing y is made from requires grad; "
        "torch: element 0 of tensors does not require grad",
    )


def broken(Function, kind):
    """A Function whose backward breaks the contract (torch refuses both kinds)."""

    class Broken(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            return (grad.sum(axis=0), grad) if kind == "shape" else (grad,)

    return Broken


@pytest.mark.edge
@pytest.mark.parametrize("kind", ["shape", "arity"])
def test_a_function_returning_wrong_gradients_is_refused(kind, rng):
    (a, _), (b, _) = pair(rng, (2, 3), name="a"), pair(rng, (2, 3), name="b")
    y = fns().sum(broken(mg.Function, kind).apply(a, b))
    what = "a gradient of shape (3,) for a (2, 3)" if kind == "shape" else "1 gradient for 2 inputs"
    assert_raises(
        RuntimeError,
        y.backward,
        why=f"Broken.backward returned {what}: check what "
        "each Function's backward returns, as torch does",
    )


@pytest.mark.edge
def test_backward_from_a_leaf_gives_it_a_grad_of_one(rng):
    x = mg.Tensor(np.array(1.5), requires_grad=True, name="x")
    tx = tensor(np.array(1.5), grad=True)
    backward(x)
    tx.backward()
    check_grads([("x", x, tx)])


def test_no_grad_records_nothing_and_nests(rng):
    F, (x, tx) = fns(), pair(rng)
    with mg.no_grad():
        with mg.no_grad():
            pass
        out = call(F.mul, x, x)  # still inside the outer no_grad
    with torch.no_grad():
        want = tx * tx
    assert_true(
        out.requires_grad == want.requires_grad and out.grad_fn is None,
        f"Mul.apply(x, x) inside no_grad (after an inner no_grad had closed) gave "
        f"{out!r}; torch gives requires_grad=False, no grad_fn. Leaving no_grad must "
        "restore the mode found on entry, not switch grad mode on",
    )
    assert_true(F.mul(x, x).grad_fn is not None, "after no_grad, the graph is recorded again")


def test_no_grad_restores_grad_mode_after_an_exception_and_as_a_decorator(rng):
    F, (x, _) = fns(), pair(rng)
    with pytest.raises(KeyError):
        with mg.no_grad():
            raise KeyError("raised inside no_grad")
    out = F.mul(x, x)
    assert_true(
        mg.is_grad_enabled() and out.grad_fn is not None,
        "after an exception inside `with no_grad():`, grad mode stayed off: restore it "
        "in a finally: block",
    )
    square = mg.no_grad()(lambda t: F.mul(t, t))
    inside, after = square(x), F.mul(x, x)
    assert_true(
        inside.grad_fn is None and after.grad_fn is not None,
        "a function decorated with @no_grad() must record no graph, and only while "
        f"it runs: inside {inside!r}, after {after!r}",
    )


def test_detach_shares_data_and_cuts_the_graph(rng):
    F, (x, tx), (w, tw) = fns(), pair(rng), pair(rng, name="w")
    h = F.mul(x, w)
    d = call(h.detach)
    assert_true(
        d.data is h.data or np.shares_memory(d.data, h.data),
        "h.detach() must share h's data (no copy), as torch's detach does",
    )
    assert_true(
        not d.requires_grad and d.grad_fn is None,
        f"h.detach() gave {d!r}: a leaf that does not require grad",
    )
    backward(F.sum(F.mul(d, w)))
    (tx * tw).detach().mul(tw).sum().backward()
    check_grads([("x", x, tx), ("w", w, tw)])


@pytest.mark.edge
def test_changing_a_saved_input_in_place_makes_backward_raise_like_torch(rng):
    F, (x, tx), (b, tb) = fns(), pair(rng), pair(rng, requires_grad=False, name="b")
    y = F.sum(F.mul(x, b))
    b.add_(1.0)
    ty = (tx * tb).sum()
    tb.add_(1.0)
    with pytest.raises(RuntimeError):
        ty.backward()
    assert_raises(
        RuntimeError,
        y.backward,
        why="b was changed in place after Mul saved it: "
        "its gradient would use the new values (compare the versions saved)",
    )


@pytest.mark.edge
def test_changing_an_input_that_was_not_saved_is_allowed_like_torch(rng):
    F, (x, tx), (b, tb) = fns(), pair(rng), pair(rng, requires_grad=False, name="b")
    y = F.sum(F.add(x, b))
    b.add_(1.0)
    ty = (tx + tb).sum()
    tb.add_(1.0)
    ty.backward()
    backward(y)
    check_grads([("x", x, tx)])


def test_float32_graphs_give_float32_grads(rng):
    F = fns()
    (x, tx), (w, tw) = (pair(rng, (3, 2), dtype=np.float32, name=n) for n in "xw")
    backward(F.sum(F.tanh(F.mul(x, w))))
    torch.tanh(tx * tw).sum().backward()
    check_grads([("x", x, tx), ("w", w, tw)], dtype=np.float32)


@pytest.mark.oracle
def test_a_chain_5000_functions_deep_matches_torch(rng):
    """A recursive walk stops at Python's recursion limit (1000): walk with a stack."""
    F, (x, tx), (w, tw) = fns(), pair(rng, (2,)), pair(rng, (2,), name="w", low=0.5)
    y, ty = x, tx
    for _ in range(2500):
        y, ty = F.tanh(F.mul(y, w)), torch.tanh(ty * tw)
    backward(F.sum(y))
    ty.sum().backward()
    check_grads([("x", x, tx), ("w", w, tw)])


OPS = {"mul": 2, "add": 2, "tanh": 1, "scale": 1}


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    shape=cs.shapes(max_dims=3, max_side=4),
    layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_graphs_match_torch(data, shape, layout, seed):
    """Any DAG of these Functions over 1-3 leaves (some not requiring grad), any layout."""
    rng, F = np.random.default_rng(seed), fns()
    n = data.draw(st.integers(1, 3), label="leaves")
    flags = [True] + data.draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))
    arrays = [cs.relayout(rng.uniform(-1, 1, shape), layout) for _ in range(n)]
    mine = [
        mg.Tensor(a, requires_grad=f, name=f"x{i}") for i, (a, f) in enumerate(zip(arrays, flags))
    ]
    theirs = [tensor(a, grad=f) for a, f in zip(arrays, flags)]
    for _ in range(data.draw(st.integers(1, 6), label="operations")):
        op = data.draw(st.sampled_from(sorted(OPS)))
        args = [data.draw(st.integers(0, len(mine) - 1)) for _ in range(OPS[op])]
        extra = [data.draw(st.sampled_from([-1.5, 0.5, 2.0]))] if op == "scale" else []
        mine.append(getattr(F, op)(*(mine[i] for i in args), *extra))
        theirs.append(getattr(TORCH, op)(*(theirs[i] for i in args), *extra))
    backward(F.sum(F.mul(mine[-1], mine[0])))
    (theirs[-1] * theirs[0]).sum().backward()
    check_grads([(f"x{i}", mine[i], theirs[i]) for i in range(n)])
