"""dying_relu.py: dead ReLU units, their zero gradients, and the step that kills them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import dying_relu as oracle

dr = kata("01_fundamentals/dying_relu")


def layer(rng, n, d, h, dtype=np.float64):
    """X (N, D), W (D, H) scaled by 1/sqrt(D), b (H,) with every third unit pushed to -10."""
    X = rng.standard_normal((n, d)).astype(dtype)
    W = (rng.standard_normal((d, h)) / np.sqrt(d)).astype(dtype)
    b = rng.standard_normal(h)
    b[::3] -= 10.0  # far below any x @ w: these units are dead on every example
    return X, W, b.astype(dtype)


def off_mistakes(X, W, b):
    """What the common wrong definitions of 'dead' return."""
    Z = X @ W + b
    return {
        "dead judged on the first example only": Z[0] <= 0,
        "dead judged on the mean pre-activation (one positive example keeps a unit alive)": (
            Z.mean(axis=0) <= 0
        ),
    }


@pytest.mark.oracle
def test_dead_units_match_torch(rng):
    X, W, b = layer(rng, 16, 5, 12)
    dead = call(dr.dead_units, X, W, b)
    shape = getattr(dead, "shape", None)
    assert_true(
        shape != (16,),
        "dead_units must answer per unit, shape (H,) = (12,); yours has "
        "shape (N,) = (16,): it reduced over the units axis instead of the examples axis",
    )
    assert_close(dead, oracle.dead_units(X, W, b), name="dead", mistakes=off_mistakes(X, W, b))


@pytest.mark.oracle
def test_dead_fraction_counts_units_not_examples(rng):
    X, W, b = layer(rng, 16, 5, 12)
    frac = call(dr.dead_fraction, X, W, b)
    pairs = {"the fraction of (example, unit) pairs that are off": np.mean(X @ W + b <= 0)}
    assert_close(frac, np.mean(oracle.dead_units(X, W, b)), name="fraction", mistakes=pairs)


@pytest.mark.oracle
@pytest.mark.parametrize("negative_slope", [0.0, 0.01, 0.3])
def test_relu_layer_grads_match_autograd(negative_slope, rng):
    X, W, b = layer(rng, 10, 4, 7)
    dout = rng.standard_normal((10, 7))
    dW, db = call(dr.relu_layer_grads, X, W, b, dout, negative_slope=negative_slope)
    want_dW, want_db = oracle.grads(X, W, b, dout, negative_slope)
    relu_dW, relu_db = oracle.grads(X, W, b, dout, 0.0)
    forgot = "the slope forgotten: gradient 0 where z <= 0, as for plain ReLU"
    assert_close(dW, want_dW, tol="grad", name="dW", mistakes={forgot: relu_dW})
    assert_close(db, want_db, tol="grad", name="db", mistakes={forgot: relu_db})


@pytest.mark.oracle
@pytest.mark.parametrize("negative_slope", [0.0, 0.01])
def test_grad_norms_match_autograd(negative_slope, rng):
    X, W, b = layer(rng, 10, 4, 7)
    dout = rng.standard_normal((10, 7))
    norms = call(dr.relu_layer_grad_norms, X, W, b, dout, negative_slope=negative_slope)
    want_dW, _ = oracle.grads(X, W, b, dout, negative_slope)
    assert_close(norms, np.linalg.norm(want_dW, axis=0), tol="grad", name="norms")


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_step_matches_torch_optim(dtype, rng):
    X, W, b = layer(rng, 8, 3, 5, dtype)
    dout = rng.standard_normal((8, 5)).astype(dtype)
    W1, b1 = call(dr.sgd_step, X, W, b, dout, 0.1)
    want_W, want_b = oracle.sgd_step(X, W, b, dout, 0.1)
    assert_close(W1, want_W, tol="grad", name="W_new", dtype=dtype)
    assert_close(b1, want_b, tol="grad", name="b_new", dtype=dtype)


def test_dead_units_get_no_gradient_and_leaky_units_always_do(rng):
    X, W, b = layer(rng, 12, 4, 9)
    dout = rng.standard_normal((12, 9))
    dead = oracle.dead_units(X, W, b)
    relu_norms = call(dr.relu_layer_grad_norms, X, W, b, dout)
    assert_true(
        np.all(relu_norms[dead] == 0),
        f"dead units {np.flatnonzero(dead).tolist()} "
        f"must get exactly zero gradient under ReLU; yours: {relu_norms[dead]}",
    )
    leaky = call(dr.relu_layer_grad_norms, X, W, b, dout, negative_slope=0.01)
    assert_true(
        np.all(leaky > 0),
        "with leaky ReLU (slope 0.01) every unit must get some "
        f"gradient, dead or not; yours: {leaky}",
    )


@pytest.mark.edge
def test_a_unit_at_exactly_zero_for_every_example_is_dead(rng):
    X, W, b = layer(rng, 6, 3, 4)
    W[:, 1], b[1] = 0.0, 0.0  # z = 0 exactly for every example: relu'(0) = 0 in torch
    W[:, 2], b[2] = 0.0, 1e-12  # z barely positive everywhere: alive
    strict = {
        "'< 0' instead of '<= 0': a unit stuck at exactly 0 is dead too": np.all(
            X @ W + b < 0, axis=0
        )
    }
    assert_close(
        call(dr.dead_units, X, W, b), oracle.dead_units(X, W, b), name="dead", mistakes=strict
    )
    dout = rng.standard_normal((6, 4))
    norms = call(dr.relu_layer_grad_norms, X, W, b, dout)
    assert_true(
        norms[1] == 0,
        f"unit 1 sits at z = 0 on every example; torch's relu'(0) = 0, "
        f"so its gradient norm must be 0, yours is {norms[1]:.6g} (z > 0, not z >= 0)",
    )


@pytest.mark.edge
@pytest.mark.parametrize(("n", "h"), [(1, 4), (7, 1), (1, 1)])
def test_one_example_or_one_unit(n, h, rng):
    X, W, b = layer(rng, n, 3, h)
    assert_close(call(dr.dead_units, X, W, b), oracle.dead_units(X, W, b), name="dead")
    dout = rng.standard_normal((n, h))
    dW, db = call(dr.relu_layer_grads, X, W, b, dout, negative_slope=0.1)
    want_dW, want_db = oracle.grads(X, W, b, dout, 0.1)
    assert_close(dW, want_dW, tol="grad", name="dW")
    assert_close(db, want_db, tol="grad", name="db")


@pytest.mark.property
@given(
    n=st.integers(1, 8),
    d=st.integers(1, 5),
    h=st.integers(1, 6),
    shift=st.floats(-3, 1),
    seed=st.integers(0, 2**32 - 1),
    layout=cs.layouts(),
)
def test_dead_units_are_exactly_the_zero_gradient_units(n, d, h, shift, seed, layout):
    rng = np.random.default_rng(seed)
    X, W, b = layer(rng, n, d, h)
    b = b + shift
    X = cs.relayout(X, layout)
    dead = call(dr.dead_units, X, W, b)
    assert_close(dead, oracle.dead_units(X, W, b), name="dead")
    dout = rng.uniform(0.5, 1.5, (n, h))  # nonzero everywhere
    norms = call(dr.relu_layer_grad_norms, X, W, b, dout)
    assert_close(
        norms, np.linalg.norm(oracle.grads(X, W, b, dout)[0], axis=0), tol="grad", name="norms"
    )
    assert_true(np.all(norms[dead] == 0), "a dead unit must get exactly zero gradient")


@pytest.mark.edge
def test_a_large_step_kills_units_a_small_one_does_not(rng):
    """ReLU outputs of a previous layer are >= 0; an upstream gradient of ones says 'shrink
    every activation'. The step lowers each active unit's bias by lr * (its active count)."""
    X = np.abs(rng.standard_normal((32, 6)))  # (N, D), inputs >= 0 like any ReLU output
    W = rng.standard_normal((6, 16)) / np.sqrt(6)
    b = np.full(16, 0.5)
    dout = np.ones((32, 16))
    before = call(dr.dead_fraction, X, W, b)
    assert_close(before, np.mean(oracle.dead_units(X, W, b)), name="fraction before")
    after = {}
    for lr in (1e-4, 1.0):
        W1, b1 = call(dr.sgd_step, X, W, b, dout, lr)
        after[lr] = call(dr.dead_fraction, X, W1, b1)
        want = np.mean(oracle.dead_units(X, *oracle.sgd_step(X, W, b, dout, lr)))
        assert_close(after[lr], want, name=f"fraction after a step of lr={lr:g}")
    assert_true(
        after[1.0] >= 0.5 > before,
        f"one step with lr=1 should kill most units: "
        f"dead fraction {before:.3g} before, {after[1.0]:.3g} after",
    )
    assert_true(
        after[1e-4] == before,
        f"a small step (lr=1e-4) should kill none: dead fraction "
        f"{before:.3g} before, {after[1e-4]:.3g} after",
    )
