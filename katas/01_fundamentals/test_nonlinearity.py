"""nonlinearity.py: linear stacks collapse (vs nn.Sequential); XOR needs an activation."""

from functools import reduce

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import nonlinearity as oracle

nl = kata("01_fundamentals/nonlinearity")
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([[0.0], [1.0], [1.0], [0.0]])
SETTINGS = dict(hidden=16, steps=1000, lr=0.05)  # the docstring's settings
ACTIVATIONS = ["relu", "tanh", "identity"]
# Same values, three memory layouts: row-major, column-major (a transpose's), strided.
AFFINE = (
    "An affine f obeys f(0,0) + f(1,1) = f(0,1) + f(1,0) (both are w1 + w2 + 2b), so it cannot "
    "put both 1-targets above 0.5 and both 0-targets below: at most 3 of the 4 XOR points."
)


def random_stack(rng, sizes, dtype=np.float64):
    """Weights (D_in, D_out) scaled by 1/sqrt(D_in), random biases (never zero)."""
    pairs = zip(sizes[:-1], sizes[1:])
    weights = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype) for a, b in pairs]
    return weights, [rng.standard_normal(b).astype(dtype) for b in sizes[1:]]


def check_collapse(X, weights, biases, dtype=None):
    __tracebackhide__ = True
    W, b = call(nl.collapse_linear_stack, weights, biases)
    D = weights[0].shape[0]
    want_b = oracle.stack_forward(np.zeros((1, D)), weights, biases)[0]  # the stack at x = 0
    want_W = oracle.stack_forward(np.eye(D), weights, biases) - want_b  # row i: the image of e_i
    known_W, known_b = {}, {}
    if len({w.shape for w in weights}) == 1 and weights[0].shape[0] == weights[0].shape[1]:
        known_W["weights multiplied in reverse order"] = reduce(np.matmul, weights[::-1])
        known_b["biases added up without passing through later weights"] = sum(biases)
    assert_close(W, want_W, tol="matmul", name="W", dtype=dtype, mistakes=known_W)
    assert_close(b, want_b, tol="matmul", name="b", dtype=dtype, mistakes=known_b)
    assert_close(
        X @ W + b,
        oracle.stack_forward(X, weights, biases),
        tol="matmul",
        name="W, b whose X @ W + b",
        dtype=dtype,
    )


@pytest.mark.oracle
@pytest.mark.parametrize("sizes", [[5, 7, 3, 4], [4, 4, 4, 4]], ids=["rectangular", "square"])
def test_collapsed_map_matches_the_torch_stack(sizes, rng):
    weights, biases = random_stack(rng, sizes)
    check_collapse(rng.standard_normal((8, sizes[0])), weights, biases)


def test_collapse_keeps_float32(rng):
    weights, biases = random_stack(rng, [3, 5, 2], dtype=np.float32)
    check_collapse(rng.standard_normal((6, 3)).astype(np.float32), weights, biases, np.float32)


@pytest.mark.property
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    layout=cs.layouts(),
)
def test_any_linear_stack_collapses_to_one_affine_map(sizes, n, seed, layout):
    rng = np.random.default_rng(seed)
    weights, biases = random_stack(rng, sizes)
    weights = [cs.relayout(w, layout) for w in weights]
    check_collapse(rng.standard_normal((n, sizes[0])), weights, biases)


@pytest.mark.edge
def test_a_single_layer_collapses_to_itself(rng):
    weights, biases = random_stack(rng, [3, 2])
    W, b = call(nl.collapse_linear_stack, weights, biases)
    assert_close(W, weights[0], tol="matmul", name="W")
    assert_close(b, biases[0], tol="matmul", name="b")


def random_net(rng, n, d, hidden):
    params = {
        "W1": rng.standard_normal((d, hidden)),
        "b1": rng.standard_normal(hidden),
        "W2": rng.standard_normal((hidden, 1)),
        "b2": rng.standard_normal(1),
    }
    return params, rng.standard_normal((n, d)), rng.standard_normal((n, 1))


def check_grads(params, X, t, activation, known=None):
    __tracebackhide__ = True
    _, grads = call(nl.loss_and_grads, params, X, t, activation)
    _, want = oracle.loss_and_grads(params, X, t, activation)
    assert_true(
        isinstance(grads, dict) and set(grads) == set(params),
        f"grads must be a dict with keys {sorted(params)}; got {type(grads).__name__} "
        f"{sorted(grads) if isinstance(grads, dict) else ''}",
    )
    for name in ("W2", "b2", "W1", "b1"):  # in backward order: the first wrong one is the cause
        assert_close(
            grads[name],
            want[name],
            tol="grad",
            name=f"grads[{name!r}]",
            factors={"N": X.shape[0]},
            mistakes=(known or {}).get(name),
        )


@pytest.mark.oracle
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_matches_torch(activation, rng):
    params, X, t = random_net(rng, 6, 3, 5)
    loss, _ = call(nl.loss_and_grads, params, X, t, activation)
    want, _ = oracle.loss_and_grads(params, X, t, activation)
    assert_close(loss, want, tol="reduction", name="loss", factors={"N": 6})


@pytest.mark.oracle
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_grads_match_torch_autograd(activation, rng):
    check_grads(*random_net(rng, 6, 3, 5), activation)


@pytest.mark.property
@given(
    n=st.integers(1, 6),
    d=st.integers(1, 3),
    hidden=st.integers(1, 5),
    activation=st.sampled_from(ACTIVATIONS),
    seed=st.integers(0, 2**32 - 1),
    layout=cs.layouts(),
)
def test_grads_match_torch_for_any_sizes_and_layouts(n, d, hidden, activation, seed, layout):
    params, X, t = random_net(np.random.default_rng(seed), n, d, hidden)
    check_grads(params, cs.relayout(X, layout), t, activation)


@pytest.mark.edge
def test_relu_gradient_is_zero_at_zero():
    """z = 0 exactly (zero input, zero bias): torch takes relu'(0) = 0."""
    params = {
        "W1": np.array([[1.0, -2.0]]),
        "b1": np.zeros(2),
        "W2": np.array([[0.5], [1.5]]),
        "b2": np.array([0.1]),
    }
    X, t = np.array([[0.0], [1.0], [-1.0]]), np.array([[1.0], [0.0], [2.0]])
    _, at_ge = oracle.loss_and_grads(params, X, t, "relu_ge0")
    known = {k: {"relu'(0) = 1 (z >= 0 instead of z > 0)": at_ge[k]} for k in at_ge}
    check_grads(params, X, t, "relu", known)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_one_nonlinearity_makes_xor_learnable(activation, rng):
    params, out = call(nl.fit_xor, activation=activation, rng=rng, **SETTINGS)
    want = oracle.net_forward(params, XOR_X, activation)[:, 0]
    assert_close(out, want, tol="matmul", name="outputs (torch ran your trained params)")
    right = np.abs(out - XOR_T[:, 0]) < 0.25
    assert_true(
        right.all(),
        f"After {SETTINGS['steps']} steps the {activation} network should fit XOR: every "
        f"output within 0.25 of its target {XOR_T[:, 0]}; yours are {np.round(out, 3)}. "
        "Check the gradient-descent update (p - lr * grad, every parameter, every step).",
    )


def test_a_linear_network_cannot_learn_xor(rng):
    params, out = call(nl.fit_xor, activation="identity", rng=rng, **SETTINGS)
    assert_true(np.isfinite(out).all(), f"Training diverged: outputs {out}. Descent is p - lr * g.")
    want = oracle.net_forward(params, XOR_X, "identity")[:, 0]
    assert_close(out, want, tol="matmul", name="outputs (torch ran your trained params)")
    W, b = call(
        nl.collapse_linear_stack, [params["W1"], params["W2"]], [params["b1"], params["b2"]]
    )
    assert_close(
        XOR_X @ W + b,
        want[:, None],
        tol="matmul",
        name="(W, b) for the trained identity net whose XOR_X @ W + b (vs the net's outputs)",
    )
    defect = out[0] + out[3] - out[1] - out[2]
    assert_true(abs(defect) < 1e-8, f"{AFFINE} Yours: {defect:.3g} off. Is 'identity' identity?")
    mse = float(np.mean((out - XOR_T[:, 0]) ** 2))
    assert_true(
        mse >= 0.25 - 1e-9 and np.sum(np.abs(out - XOR_T[:, 0]) < 0.5) <= 3,
        f"{AFFINE} The best affine fit outputs 0.5 everywhere (MSE 0.25); yours has MSE "
        f"{mse:.4g} with outputs {out}.",
    )
