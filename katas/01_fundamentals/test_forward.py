"""forward.py: an MLP's forward pass in matrix form, checked against nn.Sequential."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import forward as oracle
from reference.oracles import tensor

fwd = kata("01_fundamentals/forward")
TORCH_ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def random_mlp(rng, sizes, dtype=np.float64):
    """Weights (D_in, D_out) scaled by 1/sqrt(D_in), random biases (never zero)."""
    weights = [
        (rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype)
        for a, b in zip(sizes[:-1], sizes[1:])
    ]
    biases = [rng.standard_normal(b).astype(dtype) for b in sizes[1:]]
    return weights, biases


def check_cache(cache, want_cache, n_layers, dtype=None):
    __tracebackhide__ = True
    assert_true(
        isinstance(cache, dict) and set(cache) == {"h", "z"},
        f"mlp_forward's cache must be a dict with keys 'h' and 'z'; got "
        f"{type(cache).__name__} {sorted(cache) if isinstance(cache, dict) else ''}",
    )
    for key, meaning in (("h", "input"), ("z", "pre-activation")):
        assert_true(
            len(cache[key]) == n_layers,
            f"cache[{key!r}] must hold one {meaning} per layer: {n_layers} layers, "
            f"got {len(cache[key])} arrays",
        )
        for i, (mine, want) in enumerate(zip(cache[key], want_cache[key])):
            assert_close(
                mine,
                want,
                tol="matmul",
                name=f"cache[{key!r}][{i}] (layer {i}'s {meaning})",
                dtype=dtype,
            )


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_activate_matches_torch(activation, rng):
    z = rng.standard_normal((4, 6)) * 3
    out = call(fwd.activate, z, activation)
    assert_close(out, TORCH_ACT[activation](tensor(z)), tol="elementwise")


def test_activate_rejects_unknown_names():
    with pytest.raises(ValueError):
        call(fwd.activate, np.zeros(3), "swish")


@pytest.mark.oracle
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_forward_matches_torch(activation, rng):
    X = rng.standard_normal((8, 5))
    weights, biases = random_mlp(rng, [5, 7, 6, 3])
    out, cache = call(fwd.mlp_forward, X, weights, biases, activation=activation)
    want, want_cache = oracle.mlp_forward(X, weights, biases, activation)
    assert_close(
        out,
        want,
        tol="matmul",
        name="out",
        mistakes={
            "the activation applied to the last layer too": TORCH_ACT[activation](tensor(want)),
        },
    )
    check_cache(cache, want_cache, n_layers=3)


def test_mlp_forward_keeps_float32(rng):
    X = rng.standard_normal((6, 4)).astype(np.float32)
    weights, biases = random_mlp(rng, [4, 5, 2], dtype=np.float32)
    out, cache = call(fwd.mlp_forward, X, weights, biases)
    want, want_cache = oracle.mlp_forward(X, weights, biases, "relu")
    assert_close(out, want, tol="matmul", name="out", dtype=np.float32)
    check_cache(cache, want_cache, n_layers=2, dtype=np.float32)


@pytest.mark.property
@given(
    n=st.integers(1, 6),
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    activation=st.sampled_from(["relu", "tanh", "sigmoid"]),
    seed=st.integers(0, 2**32 - 1),
    layout=cs.layouts(),
)
def test_mlp_forward_matches_torch_for_any_sizes_and_layouts(n, sizes, activation, seed, layout):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    X = cs.relayout(X, layout)
    weights, biases = random_mlp(rng, sizes)
    out, cache = call(fwd.mlp_forward, X, weights, biases, activation=activation)
    want, want_cache = oracle.mlp_forward(X, weights, biases, activation)
    assert_close(out, want, tol="matmul", name="out")
    check_cache(cache, want_cache, n_layers=len(sizes) - 1)


@pytest.mark.edge
def test_a_single_layer_is_purely_affine(rng):
    """One layer means no hidden layer: no activation anywhere, negative outputs stay."""
    X = rng.standard_normal((5, 3))
    weights, biases = random_mlp(rng, [3, 4])
    biases[0] -= 2.0  # push outputs negative: a stray ReLU would clip them
    out, _ = call(fwd.mlp_forward, X, weights, biases)
    want, _ = oracle.mlp_forward(X, weights, biases, "relu")
    assert_close(
        out,
        want,
        tol="matmul",
        name="out",
        mistakes={"a ReLU on the output layer": np.maximum(want, 0)},
    )


@pytest.mark.edge
def test_one_example_batch_keeps_its_batch_axis(rng):
    X = rng.standard_normal((1, 4))
    weights, biases = random_mlp(rng, [4, 3, 1])
    out, cache = call(fwd.mlp_forward, X, weights, biases)
    want, want_cache = oracle.mlp_forward(X, weights, biases, "relu")
    assert_close(out, want, tol="matmul", name="out")
    check_cache(cache, want_cache, n_layers=2)


@pytest.mark.edge
def test_sigmoid_saturates_without_nan():
    z = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    with np.errstate(over="ignore"):
        out = call(fwd.activate, z, "sigmoid")
    assert_close(out, torch.sigmoid(tensor(z)), tol="elementwise")
