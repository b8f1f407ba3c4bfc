"""ops.py: every op's forward and backward against torch.autograd in float64, broadcast
gradients summed back by unbroadcast, and random graphs built in both libraries."""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from checker import assert_close, assert_raises, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import numpy as as_numpy
from reference.oracles import tensor

mg = kata("09_autograd/ops")
COND = np.array([[True], [False], [True]])  # where's condition, (3, 1)
REPEATED = np.array([0, 2, 0, 0])  # row 0 picked three times: its gradient adds up


def sum_to(g, shape):
    """torch's own unbroadcast: sum g down to shape (leading dims, then stretched 1s)."""
    return as_numpy(tensor(g).sum_to_size(shape))


class Op(NamedTuple):
    fn: str  # the function in ops.py
    shapes: tuple  # the tensor inputs' shapes
    torch: Callable  # the same op on torch tensors
    args: tuple = ()  # passed after the tensors
    kwargs: dict = {}
    pre: tuple = ()  # passed before the tensors (where's condition)
    listed: bool = False  # the tensors go in as one list (cat, stack)
    positive: bool = False  # inputs |x| + 0.5: log, fractional powers, denominators
    tol: str = "elementwise"
    slips: Callable | None = None  # (inputs, grad) -> {input index: {mistake: its grad}}
    factors: dict | None = None  # sizes a missing scaling might be (mean's n)


OPS = {
    "add": Op("add", ((3, 1), (1, 4)), torch.add),
    "add_leading_dims": Op("add", ((4,), (2, 3, 4)), torch.add),
    "sub": Op("sub", ((2, 3, 4), (3, 1)), torch.sub),
    "mul": Op("mul", ((2, 1, 4), (3, 1)), torch.mul),
    "div": Op("div", ((3, 4), (4,)), torch.div, positive=True, slips=lambda x, g: {1: {
        "d(a/b)/db written -1/b**2, without the a": sum_to(-g / x[1] ** 2, x[1].shape)}}),
    "neg": Op("neg", ((2, 3),), torch.neg),
    "pow": Op("pow", ((2, 3),), lambda a: a**3.0, args=(3.0,), slips=lambda x, g: {0: {
        "the exponent's factor p forgotten: a**(p-1)": g * x[0] ** 2}}),
    "pow_fractional": Op("pow", ((2, 3),), lambda a: a**0.5, args=(0.5,), positive=True),
    "matmul": Op("matmul", ((3, 4), (4, 5)), torch.matmul, tol="matmul"),
    "matmul_square": Op("matmul", ((3, 3), (3, 3)), torch.matmul, tol="matmul"),
    "matmul_batched": Op("matmul", ((2, 1, 3, 4), (5, 4, 2)), torch.matmul, tol="matmul"),
    "matmul_vector_vector": Op("matmul", ((4,), (4,)), torch.matmul, tol="matmul"),
    "matmul_vector_matrix": Op("matmul", ((4,), (2, 4, 3)), torch.matmul, tol="matmul"),
    "matmul_matrix_vector": Op("matmul", ((2, 3, 4), (4,)), torch.matmul, tol="matmul"),
    "exp": Op("exp", ((2, 3),), torch.exp),
    "log": Op("log", ((2, 3),), torch.log, positive=True),
    "tanh": Op("tanh", ((2, 3),), torch.tanh, slips=lambda x, g: {0: {
        "tanh' computed from the input: 1 - x**2 instead of 1 - tanh(x)**2": g * (1 - x[0] ** 2)}}),
    "sigmoid": Op("sigmoid", ((2, 3),), torch.sigmoid, slips=lambda x, g: {0: {
        "sigmoid' computed from the input: x(1 - x) instead of s(1 - s)": g * x[0] * (1 - x[0])}}),
    "relu": Op("relu", ((2, 3),), torch.relu),
    "sum": Op("sum", ((3, 4),), torch.sum, tol="reduction"),
    "sum_dim": Op("sum", ((3, 3),), lambda a: a.sum(-1), kwargs={"dim": -1}, tol="reduction"),
    "sum_dims_keepdim": Op("sum", ((2, 3, 4),), lambda a: a.sum((0, 2), keepdim=True),
                           kwargs={"dim": (0, 2), "keepdim": True}, tol="reduction"),
    "mean": Op("mean", ((3, 4),), torch.mean, tol="reduction", factors={"n": 12}),
    "mean_dims": Op("mean", ((2, 3, 4),), lambda a: a.mean((-1, 0)), kwargs={"dim": (-1, 0)},
                    tol="reduction", factors={"n": 8}),
    "mean_keepdim": Op("mean", ((2, 3, 4),), lambda a: a.mean(1, keepdim=True),
                       kwargs={"dim": 1, "keepdim": True}, tol="reduction", factors={"n": 3}),
    "max": Op("max", ((3, 4),), torch.amax, slips=lambda x, g: {0: {
        "the gradient sent to every element, not only to the max": np.full(x[0].shape, g)}}),
    "max_dim": Op("max", ((3, 4),), lambda a: a.amax(1), kwargs={"dim": 1}),
    "max_dims_keepdim": Op("max", ((2, 3, 4),), lambda a: a.amax((0, -1), keepdim=True),
                           kwargs={"dim": (0, -1), "keepdim": True}),
    "reshape": Op("reshape", ((2, 3, 4),), lambda a: a.reshape(4, -1), args=(4, -1)),
    "transpose": Op("transpose", ((2, 3, 4),), lambda a: a.transpose(0, -1), args=(0, -1)),
    "permute": Op("permute", ((2, 3, 4),), lambda a: a.permute(2, 0, 1), args=(2, 0, 1)),
    "permute_cube": Op("permute", ((3, 3, 3),), lambda a: a.permute(2, 0, 1), args=(2, 0, 1),
                       slips=lambda x, g: {0: {"the gradient permuted by dims again, not by "
                                               "their inverse np.argsort(dims)":
                                               np.transpose(g, (2, 0, 1))}}),
    "getitem_slice": Op("getitem", ((3, 4),), lambda a: a[1:, 2], args=((slice(1, None), 2),)),
    "getitem_repeated": Op("getitem", ((3, 4),), lambda a: a[tensor(REPEATED)], args=(REPEATED,),
                           slips=lambda x, g: {0: {"repeated indices counted once: "
                                                   "out[index] = grad instead of np.add.at":
                                                   assigned(x[0].shape, REPEATED, g)}}),
    "cat": Op("cat", ((2, 3), (2, 5)), lambda a, b: torch.cat([a, b], -1), kwargs={"dim": -1},
              listed=True),
    "stack": Op("stack", ((2, 3), (2, 3)), lambda a, b: torch.stack([a, b], 1), kwargs={"dim": 1},
                listed=True),
    "where": Op("where", ((1, 4), (3, 4)), lambda a, b: torch.where(tensor(COND), a, b),
                pre=(COND,)),
}  # fmt: skip


def assigned(shape, index, g):
    out = np.zeros(shape)
    out[index] = g
    return out


def inputs(op, rng, dtype=np.float64, layout="contiguous"):
    arrays = [rng.standard_normal(s) for s in op.shapes]
    arrays = [np.abs(x) + 0.5 if op.positive else x for x in arrays]
    return [cs.relayout(x.astype(dtype), layout) for x in arrays]


def expression(op, names):
    args = [f"[{', '.join(names)}]"] if op.listed else list(names)
    args = ["condition"] * len(op.pre) + args + [repr(a) for a in op.args]
    args += [f"{k}={v!r}" for k, v in op.kwargs.items()]
    return f"ops.{op.fn}({', '.join(args)})"


def run(op, arrays):
    """Your op on leaves a, b, ... (requiring grad): (leaves, output, 'ops.fn(a, b)')."""
    __tracebackhide__ = True
    Tensor = mg.package.Tensor
    names = "ab"[: len(arrays)]
    leaves = [Tensor(x, requires_grad=True, name=n) for x, n in zip(arrays, names)]
    packed = [leaves] if op.listed else leaves
    out = call(getattr(mg, op.fn), *op.pre, *packed, *op.args, **op.kwargs)
    expr = expression(op, names) + "".join(f", {n} {x.shape}" for n, x in zip(names, arrays))
    assert_true(isinstance(out, Tensor), f"{expr} returned {describe(out)}, not a Tensor")
    return leaves, out, expr


def backward(out, grad, expr):
    """out.backward(grad) through call(); a RuntimeError from tensor.py is explained."""
    __tracebackhide__ = True
    try:
        call(out.backward, grad)
    except NotImplementedError:
        raise
    except (RuntimeError, ValueError, IndexError, TypeError) as err:  # from your backward
        raise AssertionError(f"backward through out = {expr} raised "
                             f"{type(err).__name__}: {err}") from err  # fmt: skip


def check_unchanged(arrays, copies, when):
    __tracebackhide__ = True
    for name, x, before in zip("ab", arrays, copies):
        assert_true(np.array_equal(x, before), f"input {name}'s data changed during {when}: "
                    "compute into new arrays (x = x * 2, not x *= 2), never into an input or "
                    "an array saved for backward")  # fmt: skip


def check_grads(leaves, theirs, expr, dtype=np.float64, slips=None, factors=None):
    __tracebackhide__ = True
    for i, (t, w) in enumerate(zip(leaves, theirs)):
        assert_true(t.grad is not None, f"after out.backward(grad) with out = {expr}, "
                    f"{t.name}.grad is None; torch gives {describe(as_numpy(w.grad))}. "
                    "Return one gradient per input from backward, in order")  # fmt: skip
        assert_close(t.grad, w.grad, tol="grad", name=f"{t.name}.grad for out = {expr}",
                     inplace=True, dtype=dtype, mistakes=(slips or {}).get(i),
                     factors=factors)  # fmt: skip


# --- unbroadcast: the helper every broadcasting backward needs ---------------------------
def test_unbroadcast_sums_the_leading_dims_away(rng):
    g = rng.standard_normal((2, 3, 4))
    assert_close(call(mg.unbroadcast, g, (4,)), sum_to(g, (4,)), tol="reduction")
    assert_close(call(mg.unbroadcast, g, (3, 4)), sum_to(g, (3, 4)), tol="reduction")


def test_unbroadcast_sums_stretched_dims_keeping_them_as_size_1(rng):
    g = rng.standard_normal((3, 4))
    for shape in [(3, 1), (1, 4), (1, 1), (4,), ()]:
        assert_close(call(mg.unbroadcast, g, shape), sum_to(g, shape), tol="reduction",
                     name=f"the gradient summed to {shape}")  # fmt: skip


@pytest.mark.property
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       seed=st.integers(0, 2**32 - 1), layout=cs.layouts())  # fmt: skip
def test_unbroadcast_matches_torch_sum_to_size_for_any_shapes(shapes, seed, layout):
    g = cs.relayout(np.random.default_rng(seed).standard_normal(shapes.result_shape), layout)
    for shape in shapes.input_shapes:
        assert_close(call(mg.unbroadcast, g, shape), sum_to(g, shape), tol="reduction",
                     name=f"the gradient summed to {shape}")  # fmt: skip


# --- every op on its own: forward, then backward ------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("label", list(OPS))
def test_forward_matches_torch(label, rng):
    op = OPS[label]
    arrays = inputs(op, rng, layout="strided")  # views with NaN in the gaps: read them, see NaN
    copies = [x.copy() for x in arrays]
    _, out, expr = run(op, arrays)
    want = op.torch(*(tensor(x) for x in arrays))
    assert_close(out.data, want, tol=op.tol, name=f"out.data for out = {expr}")
    check_unchanged(arrays, copies, f"out = {expr}")


@pytest.mark.oracle
@pytest.mark.parametrize("label", list(OPS))
def test_backward_matches_torch(label, rng):
    op = OPS[label]
    arrays = inputs(op, rng)
    copies = [x.copy() for x in arrays]
    leaves, out, expr = run(op, arrays)
    g = rng.standard_normal(out.shape)
    backward(out, g, expr)
    theirs = [tensor(x, grad=True) for x in arrays]
    op.torch(*theirs).backward(tensor(g))
    check_grads(leaves, theirs, expr, slips=op.slips and op.slips(arrays, g), factors=op.factors)
    check_unchanged(arrays, copies, f"out.backward(grad), out = {expr}")


@pytest.mark.parametrize("label", ["mul", "div", "matmul", "pow", "log", "sigmoid", "max"])
def test_float32_stays_float32_in_values_and_gradients(label, rng):
    op = OPS[label]
    arrays = inputs(op, rng, dtype=np.float32)
    leaves, out, expr = run(op, arrays)
    assert_close(out.data, op.torch(*(tensor(x) for x in arrays)), tol=op.tol,
                 name=f"out.data for out = {expr}", dtype=np.float32)  # fmt: skip
    g = rng.standard_normal(out.shape).astype(np.float32)
    backward(out, g, expr)
    theirs = [tensor(x, grad=True) for x in arrays]
    op.torch(*theirs).backward(tensor(g))
    check_grads(leaves, theirs, expr, dtype=np.float32)


@pytest.mark.parametrize("label", ["mul", "div", "matmul", "pow", "log"])
def test_an_input_changed_in_place_after_forward_is_refused_at_backward(label, rng):
    """torch raises here too: backward would use the new values. save_for_backward(a, b)
    records each input's version, and saved_tensors checks it."""
    op = OPS[label]
    leaves, out, expr = run(op, inputs(op, rng))
    with mg.package.no_grad():
        leaves[0].add_(1.0)
    err = assert_raises(RuntimeError, out.backward, np.ones(out.shape),
                        why=f"a changed in place after out = {expr}, and torch refuses: save "
                        "the input arrays themselves with self.save_for_backward(...) and "
                        "read them back with self.saved_tensors")  # fmt: skip
    if isinstance(err, NotImplementedError):  # a RuntimeError too: not started
        raise err


# --- pinned cases ------------------------------------------------------------------------
def pair(rng, shape, name, low=-2.0, high=2.0):
    """The same leaf in minigrad and torch."""
    x = rng.uniform(low, high, shape)
    return mg.package.Tensor(x, requires_grad=True, name=name), tensor(x, grad=True)


@pytest.mark.edge
def test_a_node_used_twice_gets_both_gradients(rng):
    (x, tx), g = pair(rng, (3,), "x"), rng.standard_normal(3)
    out = call(mg.mul, x, x)
    backward(out, g, "ops.mul(x, x)")
    (tx * tx).backward(tensor(g))
    check_grads([x], [tx], "ops.mul(x, x)", slips={0: {"one use of x counted": g * x.data}})


@pytest.mark.edge
@pytest.mark.parametrize("shapes", [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((2, 1, 3), (4, 1))])
def test_broadcast_gradients_sum_back_to_each_input_shape(shapes, rng):
    (a, ta), (b, tb) = pair(rng, shapes[0], "a"), pair(rng, shapes[1], "b")
    out = call(mg.mul, a, b)
    g = rng.standard_normal(out.shape)
    backward(out, g, "ops.mul(a, b)")
    (ta * tb).backward(tensor(g))
    check_grads([a, b], [ta, tb], f"ops.mul(a, b) with a {shapes[0]}, b {shapes[1]}")


@pytest.mark.edge
@pytest.mark.parametrize("shapes", [((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 1))])
def test_matmul_of_vectors_and_batches_matches_torch(shapes, rng):
    (a, ta), (b, tb) = pair(rng, shapes[0], "a"), pair(rng, shapes[1], "b")
    expr = f"ops.matmul(a, b) with a {shapes[0]}, b {shapes[1]}"
    out = call(mg.matmul, a, b)
    want = ta @ tb
    assert_close(out.data, want, tol="matmul", name=f"out.data for out = {expr}")
    g = rng.standard_normal(out.shape)
    backward(out, g, expr)
    want.backward(tensor(g))
    check_grads([a, b], [ta, tb], expr)


@pytest.mark.edge
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_max_splits_the_gradient_equally_among_ties_like_amax(dim):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    a, ta = mg.package.Tensor(x, requires_grad=True, name="a"), tensor(x, grad=True)
    out = call(mg.max, a, dim=dim)
    want = ta.amax() if dim is None else ta.amax(dim)
    g = np.arange(1.0, out.size + 1).reshape(out.shape)
    backward(out, g, f"ops.max(a, dim={dim})")
    want.backward(tensor(g))
    top = x.max(axis=dim, keepdims=True)
    whole = np.where(x == top, g if dim is None else g.reshape(top.shape), 0.0)
    slip = "each tied maximum got the whole gradient (torch.amax splits it equally)"
    check_grads([a], [ta], f"ops.max(a, dim={dim})", slips={0: {slip: whole}})


@pytest.mark.edge
@pytest.mark.parametrize(
    "index", [REPEATED, (np.array([1, 1, 0]), np.array([2, 2, 3]))], ids=["rows", "elements"]
)
def test_getitem_with_repeated_indices_accumulates(index, rng):
    (a, ta), expr = pair(rng, (3, 4), "a"), "ops.getitem(a, index) with repeated indices"
    out = call(mg.getitem, a, index)
    g = rng.standard_normal(out.shape)
    backward(out, g, expr)
    tindex = tuple(map(torch.from_numpy, index)) if isinstance(index, tuple) else tensor(index)
    ta[tindex].backward(tensor(g))
    slip = "repeated indices counted once: out[index] = grad instead of np.add.at"
    check_grads([a], [ta], expr, slips={0: {slip: assigned((3, 4), index, g)}})


@pytest.mark.edge
@pytest.mark.parametrize("exponent", [2.0, 3.0, -2.0])
def test_pow_of_a_negative_base_with_an_integer_exponent(exponent, rng):
    (a, ta), expr = pair(rng, (5,), "a", low=-3.0, high=-0.5), f"ops.pow(a, {exponent})"
    out = call(mg.pow, a, exponent)
    assert_close(out.data, ta**exponent, tol="elementwise", name=f"out.data for out = {expr}")
    backward(out, np.ones(5), expr)
    (ta**exponent).sum().backward()
    check_grads([a], [ta], expr)


@pytest.mark.edge
def test_relu_passes_no_gradient_at_zero():
    x = np.array([-1.0, 0.0, 2.0])
    a, ta = mg.package.Tensor(x, requires_grad=True, name="a"), tensor(x, grad=True)
    backward(call(mg.relu, a), np.ones(3), "ops.relu(a)")
    torch.relu(ta).sum().backward()
    check_grads([a], [ta], "ops.relu(a) at -1, 0, 2 (torch's relu'(0) = 0)")


@pytest.mark.edge
@pytest.mark.parametrize("fn", ["sigmoid", "tanh", "exp"])
def test_saturating_inputs_give_no_nan(fn):
    x = np.array([-800.0, -40.0, 0.0, 40.0, 80.0 if fn == "exp" else 800.0])
    a, ta = mg.package.Tensor(x, requires_grad=True, name="a"), tensor(x, grad=True)
    # exp(800) overflows to inf in torch too; sigmoid and tanh must never overflow
    with np.errstate(over="ignore" if fn == "exp" else "raise", under="ignore"):
        try:
            out = call(getattr(mg, fn), a)
            backward(out, np.ones(5), f"ops.{fn}(a)")
        except FloatingPointError as err:
            raise AssertionError(f"ops.{fn}(a) at a = +-40, +-800 overflowed ({err}): see the "
                                 "Numerics part of its docstring") from err  # fmt: skip
    assert_close(out.data, getattr(torch, fn)(ta), tol="elementwise",
                 name=f"out.data for out = ops.{fn}(a) at +-40, +-800")  # fmt: skip
    getattr(torch, fn)(ta).sum().backward()
    check_grads([a], [ta], f"ops.{fn}(a) at +-40, +-800")


# --- the operators and methods ops.py installs on Tensor ----------------------------------
ONES = np.ones((2, 3))
T1 = tensor(ONES)
EXPRESSIONS = {
    "numbers_on_either_side": (lambda a, b: 2 - a * 3 + 1 / (b * b + 1) - a / 2,),
    "powers_and_negation": (lambda a, b: -(a**2) + b**3.0,),
    "matmul_operator": (lambda a, b: a @ b.T,),
    "ndarray_on_the_left": (lambda a, b: ONES + ONES * a - ONES / (b * b + 1),
                            lambda a, b: T1 + T1 * a - T1 / (b * b + 1)),
    "indexing": (lambda a, b: a[0] * b[:, 1:].sum() + a[1, np.array([2, 2, 0])],
                 lambda a, b: a[0] * b[:, 1:].sum() + a[1, tensor(np.array([2, 2, 0]))]),
    "unary_methods": (lambda a, b: a.exp().log() + a.tanh() * b.sigmoid() - a.relu(),),
    "reductions": (lambda a, b: a.sum(dim=1, keepdim=True) * b.mean(0) + a.max(-1, keepdim=True),
                   lambda a, b: a.sum(dim=1, keepdim=True) * b.mean(0) + a.amax(-1, keepdim=True)),
    "shape_methods": (lambda a, b: a.reshape(3, 2).transpose(0, 1) + b.T.T * a.permute(1, 0).T,),
}  # fmt: skip


@pytest.mark.parametrize("label", list(EXPRESSIONS))
def test_tensor_operators_and_methods_match_torch(label, rng):
    mine, theirs = (EXPRESSIONS[label] * 2)[:2]
    mine.__qualname__ = label  # how call() names it in messages
    (a, ta), (b, tb) = pair(rng, (2, 3), "a"), pair(rng, (2, 3), "b")
    out = call(mine, a, b)
    assert_true(isinstance(out, mg.package.Tensor), f"{label} gave {describe(out)}, not a Tensor")
    want = theirs(ta, tb)
    assert_close(out.data, want, tol="reduction", name="the expression's value")
    g = rng.standard_normal(out.shape)
    backward(out, g, label)
    want.backward(tensor(g))
    check_grads([a, b], [ta, tb], f"the expression {label}")


# --- THE property: random graphs, built node by node in minigrad and in torch -------------
class Node(NamedTuple):
    name: str
    mine: object  # your Tensor
    theirs: torch.Tensor
    recipe: str


class Twin:
    """One random computation written twice, in minigrad (yours) and torch (the oracle).
    `pool` holds the nodes whose shape broadcasts to `shape`: any two combine."""

    KINDS = ("neg", "exp", "log", "tanh", "sigmoid", "relu", "pow", "add", "sub", "mul",
             "div", "where", "matmul", "sum", "mean", "max", "permute", "getitem", "cat",
             "stack")  # fmt: skip

    def __init__(self, draw, rng, shape):
        self.draw, self.rng, self.shape = draw, rng, shape
        self.nodes, self.pool, self.leaves = [], [], []

    def text(self):
        return "; ".join(f"{n.name} = {n.recipe}" for n in self.nodes)

    def leaf(self, shape, layout="contiguous", pool=True):
        x = cs.relayout(self.rng.standard_normal(shape), layout)
        name = f"x{len(self.leaves)}"
        mine = mg.package.Tensor(x, requires_grad=True, name=name)
        node = Node(name, mine, tensor(x, grad=True), f"leaf {shape}")
        self.leaves.append(node)
        return self._keep(node, pool)

    def _keep(self, node, pool):
        self.nodes.append(node)
        if pool:
            self.pool.append(node)
        return node

    def op(self, fn, torch_fn, *args, pool=True, **kwargs):
        """n = ops.fn(*args, **kwargs) in both libraries (args: Nodes, lists of Nodes,
        plain values); None when torch's values leave [-100, 100] (no overflow wanted)."""
        __tracebackhide__ = True
        if any(a is None for a in args):  # an operand was dropped (out of range)
            return None

        def each(side):  # the args with each Node (or list of Nodes) as `side` sees it
            pick = lambda a: getattr(a, side) if isinstance(a, Node) else a  # noqa: E731
            return [[pick(x) for x in a] if isinstance(a, list) else pick(a) for a in args]

        theirs = torch_fn(*each("theirs"), **kwargs)
        if not torch.isfinite(theirs).all() or theirs.abs().max() > 100:
            return None
        mine = call(getattr(mg, fn), *each("mine"), **kwargs)
        shown = [f"[{', '.join(x.name for x in a)}]" if isinstance(a, list) else
                 a.name if isinstance(a, Node) else "index" if isinstance(a, tuple) else
                 "condition" if isinstance(a, np.ndarray) else repr(a) for a in args]  # fmt: skip
        shown += [f"{k}={v!r}" for k, v in kwargs.items()]
        node = Node(f"n{len(self.nodes)}", mine, theirs, f"{fn}({', '.join(shown)})")
        assert_true(isinstance(mine, mg.package.Tensor),
                    f"ops.{node.recipe} returned {describe(mine)}, not a Tensor")  # fmt: skip
        assert_close(mine.data, theirs, tol="matmul", name=f"{node.name} = {node.recipe} "
                     f"(the graph so far: {self.text()})")  # fmt: skip
        return self._keep(node, pool)

    def step(self, kind):
        a, b = self.pool[-1], self.draw(st.sampled_from(self.pool))  # b may be a: x * x
        nd, shape = a.theirs.ndim, tuple(a.theirs.shape)
        dim = self.draw(st.integers(-nd, nd - 1)) if nd else None
        same = [n for n in self.pool if n.theirs.shape == a.theirs.shape]  # a is one of them
        if kind in ("neg", "exp", "tanh", "sigmoid", "relu"):
            self.op(kind, getattr(torch, kind), a)
        elif kind == "log":  # of a*a + 1 > 0
            sq = self.op("mul", torch.mul, a, a)
            self.op("log", torch.log, self.op("add", torch.add, sq, 1.0))
        elif kind == "pow":
            self.op("pow", torch.pow, a, self.draw(st.sampled_from([2.0, 3.0])))
        elif kind in ("add", "sub", "mul") or (kind == "div" and b.theirs.abs().min() > 0.25):
            self.op(kind, getattr(torch, kind), a, b)
        elif kind == "where":
            cond = self.rng.random(self.shape) > 0.5
            self.op("where", lambda c, x, y: torch.where(torch.from_numpy(c), x, y), cond, a, b)
        elif kind == "matmul" and nd:  # a @ W or W @ a, W square: a's shape stays
            how = self.draw(st.sampled_from(["a @ W", "W @ a"] + ["dot"] * (nd == 1)))
            if how == "dot":  # (K,) @ (K,) -> ()
                self.op("matmul", torch.matmul, a, self.draw(st.sampled_from(same)))
            else:
                left = how == "W @ a"
                w = self.leaf((shape[-2] if left and nd >= 2 else shape[-1],) * 2, pool=False)
                self.op("matmul", torch.matmul, *((w, a) if left else (a, w)))
        elif kind in ("sum", "mean", "max"):
            dims = None
            if nd:
                dims = self.draw(
                    st.none()
                    | st.lists(
                        st.integers(-nd, nd - 1),
                        min_size=1,
                        max_size=nd,
                        unique_by=lambda d: d % nd,
                    )
                )
                dims = dims if dims is None or len(dims) > 1 else dims[0]
                dims = tuple(dims) if isinstance(dims, list) else dims
            keepdim = dims is not None and self.draw(st.booleans())
            name = "amax" if kind == "max" else kind
            tfn = lambda x, dim, keepdim: (  # noqa: E731
                getattr(x, name)() if dim is None else getattr(x, name)(dim, keepdim=keepdim)
            )
            r = self.op(kind, tfn, a, dim=dims, keepdim=keepdim, pool=False)
            if r is not None and (dims is None or keepdim):  # () or size-1 dims: broadcasts
                self.pool.append(r)
            elif r is not None:  # put the reduced dims back as size 1
                axes = {d % nd for d in np.atleast_1d(dims)}
                kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
                self.op("reshape", lambda x, *s: x.reshape(s), r, *kept)
        elif kind == "permute" and nd >= 2:  # permute (or transpose), times a leaf, and back
            if self.draw(st.booleans()):
                perm = tuple(self.draw(st.permutations(range(nd))))
                back = tuple(int(d) for d in np.argsort(perm))
                fn, there, home = "permute", perm, back
                tfn = lambda x, *d: x.permute(d)  # noqa: E731
            else:
                pair = tuple(
                    self.draw(
                        st.lists(
                            st.integers(-nd, nd - 1),
                            min_size=2,
                            max_size=2,
                            unique_by=lambda d: d % nd,
                        )
                    )
                )
                fn, there, home, tfn = "transpose", pair, pair, torch.transpose
            p = self.op(fn, tfn, a, *there, pool=False)  # values unchanged: never dropped
            leaf = self.leaf(tuple(p.theirs.shape), pool=False)
            self.op(fn, tfn, self.op("mul", torch.mul, p, leaf, pool=False), *home)
        elif kind in ("getitem", "cat") and nd:  # a random pick along dim, repeats likely
            src = a
            if kind == "cat":  # a and a partner of its shape, side by side
                partner = self.draw(st.sampled_from(same))
                src = self.op("cat", torch.cat, [a, partner], dim=dim, pool=False)
            size = 2 * shape[dim] if kind == "cat" else shape[dim]
            index = (slice(None),) * (dim % nd) + (self.rng.integers(0, size, shape[dim]),)
            self.op("getitem", lambda x, i: x[i[:-1] + (torch.from_numpy(i[-1]),)], src, index)
        elif kind == "stack":  # a and a partner stacked along a new dim, then averaged
            at = self.draw(st.integers(-nd - 1, nd))
            s = self.op("stack", torch.stack, [a, self.draw(st.sampled_from(same))], dim=at,
                        pool=False)  # fmt: skip
            self.op("mean", lambda x, dim: x.mean(dim), s, dim=at)


@st.composite
def shapes_broadcasting_to(draw, shape):
    """Shapes that broadcast TO shape: some leading dims dropped, some sides set to 1."""
    tail = shape[draw(st.integers(0, len(shape))) :]
    return tuple(draw(st.sampled_from([n, 1])) for n in tail)


@pytest.mark.property
@given(data=st.data(), seed=st.integers(0, 2**32 - 1),
       shape=cs.shapes(max_dims=3, max_side=4), n_leaves=st.integers(0, 2),
       kinds=st.lists(st.sampled_from(Twin.KINDS), min_size=2, max_size=8))  # fmt: skip
def test_random_graphs_match_torch_in_values_and_leaf_gradients(data, seed, shape, n_leaves, kinds):
    graph = Twin(data.draw, np.random.default_rng(seed), shape)
    graph.leaf(shape, layout=data.draw(cs.layouts()))
    for _ in range(n_leaves):  # more leaves, of shapes that broadcast to `shape`
        graph.leaf(data.draw(shapes_broadcasting_to(shape)), layout=data.draw(cs.layouts()))
    for kind in kinds:
        graph.step(kind)
    out = graph.pool[-1]
    for x in graph.leaves[: n_leaves + 1]:  # every first leaf reaches the output
        out = graph.op("add", torch.add, out, x) or out
    g = graph.rng.standard_normal(tuple(out.theirs.shape))
    backward(out.mine, g, f"{out.name}, the graph: {graph.text()}")
    out.theirs.backward(tensor(g))
    for n in graph.nodes:  # a backward that wrote into a saved array changed a node's value
        assert_close(n.mine.data, n.theirs, tol="matmul", name=f"{n.name}'s data after "
                     f"backward() (it must not change; the graph: {graph.text()})")  # fmt: skip
    for x in graph.leaves:
        if x.theirs.grad is None:
            assert_true(x.mine.grad is None, f"{x.name}.grad is {describe(x.mine.grad)}, but "
                        f"{out.name} does not depend on it; the graph: {graph.text()}")  # fmt: skip
            continue
        check_grads([x.mine], [x.theirs], f"{out.name}, the graph: {graph.text()}")
