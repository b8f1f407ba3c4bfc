"""computational_graph.py: reverse-mode autodiff over a graph of scalar ops, against torch."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from reference.oracles import computational_graph as oracle

cg = kata("01_fundamentals/computational_graph")

# Every op once; x fans out (used by a and b); the output is "out".
ALL_OPS = [
    ("x", "input"), ("y", "input"), ("z", "input"),
    ("a", "mul", "x", "y"), ("b", "add", "a", "x"), ("c", "tanh", "b"),
    ("d", "sigmoid", "z"), ("e", "log", "d"), ("f", "div", "c", "e"),
    ("g", "sub", "f", "y"), ("h", "relu", "g"), ("k", "pow", "d", 3.0),
    ("m", "exp", "c"), ("o", "add", "h", "k"), ("out", "mul", "o", "m"),
]  # fmt: skip


def all_ops_inputs(rng):
    # y < -1.5 keeps g = f - y > 0, so the relu passes gradient; z < 0 keeps e = log(d) < -0.69
    return {"x": rng.uniform(0.5, 1.5), "y": -rng.uniform(1.5, 2.5), "z": -rng.uniform(0, 2)}


def check_nodes(got, want, what, tol, mistakes=None):
    """got must hold `what` (e.g. "d out / d {}") for every node; compared one node at a time."""
    __tracebackhide__ = True
    keys = sorted(got) if isinstance(got, dict) else type(got).__name__
    assert_true(
        isinstance(got, dict) and set(got) == set(want),
        f"expected a dict with {what.format('node')} for every node, keys {sorted(want)}; "
        f"got {keys}",
    )
    for name, w in want.items():
        m = (mistakes or {}).get(name)
        assert_close(got[name], w, tol=tol, name=what.format(name), mistakes=m)


def run_backward(graph, inputs, output, mistakes=None):
    """Your backward from torch's forward values (so a forward bug cannot hide here)."""
    __tracebackhide__ = True
    values = {n: float(v) for n, v in oracle.forward(graph, inputs).items()}
    before = dict(values)
    grads = call(cg.backward, graph, values, output)
    assert_true(
        values == before,
        "backward modified the values dict it was given; leave it as "
        "it is and keep the gradients in a new dict.",
    )
    want = oracle.backward(graph, inputs, output)
    check_nodes(grads, want, f"d {output} / d {{}}", "grad", mistakes)


@pytest.mark.oracle
def test_forward_matches_torch(rng):
    inputs = all_ops_inputs(rng)
    values = call(cg.forward, ALL_OPS, inputs)
    check_nodes(values, oracle.forward(ALL_OPS, inputs), "the value of node {}", "reduction")


@pytest.mark.oracle
def test_backward_matches_torch(rng):
    run_backward(ALL_OPS, all_ops_inputs(rng), "out")


# One op at a time, at x > 0 and y < 0, with what each classic slip would return.
ONE_OP = {
    "add": ("o", "add", "x", "y"), "sub": ("o", "sub", "x", "y"), "mul": ("o", "mul", "x", "y"),
    "div": ("o", "div", "x", "y"), "pow": ("o", "pow", "x", 3.0), "exp": ("o", "exp", "x"),
    "log": ("o", "log", "x"), "tanh": ("o", "tanh", "x"), "relu": ("o", "relu", "x"),
    "sigmoid": ("o", "sigmoid", "x"),
}  # fmt: skip
SLIPS = {
    "sub": lambda x, y: {"y": {"d(a - b)/db = +1: the minus sign lost": 1.0}},
    "mul": lambda x, y: {"x": {"d(a * b)/da = a: the factors swapped": x}},
    "div": lambda x, y: {"y": {"d(a / b)/db = +a/b^2: the sign of -a/b^2 lost": x / y**2}},
    "pow": lambda x, y: {"x": {"a^(p-1) without the factor p": x**2.0}},
    "tanh": lambda x, y: {"x": {"1 - x^2 from the input, not 1 - tanh(x)^2": 1 - x**2}},
    "sigmoid": lambda x, y: {"x": {"x(1 - x) from the input, not s(1 - s)": x * (1 - x)}},
    "log": lambda x, y: {"x": {"log(x) instead of 1/x": math.log(x)}},
}


@pytest.mark.oracle
@pytest.mark.parametrize("op", ONE_OP)
def test_each_op_backward_matches_torch(op, rng):
    x, y = rng.uniform(0.5, 2.0), -rng.uniform(0.5, 2.0)
    graph = [("x", "input"), ("y", "input"), ONE_OP[op]]
    slips = SLIPS[op](x, y) if op in SLIPS else None
    run_backward(graph, {"x": x, "y": y}, "o", mistakes=slips)


@pytest.mark.property
@given(drawn=oracle.graphs())
def test_forward_matches_torch_on_random_graphs(drawn):
    graph, inputs = drawn
    values = call(cg.forward, graph, inputs)
    check_nodes(values, oracle.forward(graph, inputs), "the value of node {}", "reduction")


@pytest.mark.property
@given(drawn=oracle.graphs(), pick=st.integers(0, 2**16))
def test_backward_matches_torch_on_random_graphs(drawn, pick):
    graph, inputs = drawn
    run_backward(graph, inputs, graph[pick % len(graph)][0])  # any node can be the output


@pytest.mark.property
@given(drawn=oracle.graphs(), seed=st.integers(0, 2**32 - 1))
def test_topological_order_sorts_a_shuffled_graph(drawn, seed):
    graph, inputs = drawn
    shuffled = [graph[i] for i in np.random.default_rng(seed).permutation(len(graph))]
    given_list = list(shuffled)
    order = call(cg.topological_order, shuffled)
    assert_true(shuffled == given_list, "topological_order modified the list it was given.")
    assert_true(
        isinstance(order, list) and sorted(order, key=str) == sorted(graph, key=str),
        f"topological_order must return the same {len(graph)} node tuples, reordered; "
        f"got {order!r}",
    )
    placed = set()
    for name, _op, *args in order:
        uses = [a for a in args if isinstance(a, str)]
        late = [a for a in uses if a not in placed]
        assert_true(
            not late,
            f"node {name!r} comes before {late}, which it uses: every node "
            f"must come after its arguments. Your order: {[n[0] for n in order]}",
        )
        placed.add(name)


@pytest.mark.edge
def test_a_node_used_twice_gets_both_gradients(rng):
    """b = x * x + x: db/dx = 2x + 1, three uses of x whose shares add up."""
    x = rng.uniform(0.5, 2.0)
    graph = [("x", "input"), ("a", "mul", "x", "x"), ("b", "add", "a", "x")]
    overwrite = {"x": {"x: each share overwrote the last (= instead of +=)": x}}
    run_backward(graph, {"x": x}, "b", mistakes=overwrite)


@pytest.mark.edge
def test_gradient_flows_back_along_a_chain(rng):
    """x -> exp -> tanh -> sigmoid: x's gradient exists only once every later node passed it on."""
    graph = [("x", "input"), ("a", "exp", "x"), ("b", "tanh", "a"), ("c", "sigmoid", "b")]
    slip = "0: nodes visited in forward order, so x passed on its gradient before receiving any"
    forward_order = {"x": {slip: 0.0}}
    run_backward(graph, {"x": rng.uniform(-1, 1)}, "c", mistakes=forward_order)


@pytest.mark.edge
def test_nodes_the_output_does_not_use_get_zero_gradient(rng):
    graph = [("x", "input"), ("y", "input"), ("u", "exp", "y"), ("a", "mul", "x", "x"),
             ("out", "tanh", "a"), ("later", "mul", "out", "u")]  # fmt: skip
    run_backward(graph, {"x": rng.uniform(-1, 1), "y": rng.uniform(-1, 1)}, "out")


@pytest.mark.edge
def test_the_output_has_gradient_one_with_respect_to_itself(rng):
    graph = [("x", "input"), ("a", "sigmoid", "x"), ("b", "mul", "a", "a")]
    run_backward(graph, {"x": rng.uniform(-1, 1)}, "a")
    run_backward(graph, {"x": rng.uniform(-1, 1)}, "x")


@pytest.mark.edge
def test_relu_passes_no_gradient_at_zero_or_below():
    graph = [("x", "input"), ("y", "input"), ("a", "relu", "x"), ("b", "relu", "y"),
             ("c", "add", "a", "b")]  # fmt: skip
    at_zero = {"x": {"relu'(0) = 1 (x >= 0 where torch uses x > 0)": 1.0}}
    run_backward(graph, {"x": 0.0, "y": -1.5}, "c", mistakes=at_zero)


@pytest.mark.edge
@pytest.mark.parametrize(
    "graph",
    [
        [("x", "input"), ("a", "add", "b", "x"), ("b", "mul", "a", "x")],
        [("x", "input"), ("a", "tanh", "a")],
        [("x", "input"), ("a", "add", "x", "nowhere")],
    ],
    ids=["cycle", "self-loop", "unknown-name"],
)
def test_topological_order_rejects_cycles_and_unknown_names(graph):
    with pytest.raises(ValueError):
        call(cg.topological_order, graph)
