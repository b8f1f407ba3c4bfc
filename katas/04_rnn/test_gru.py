"""gru.py: one GRU step forward and backward, checked against nn.GRUCell + autograd."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import gru as oracle

gru = kata("04_rnn/gru")
WEIGHTS = ("W_ih", "W_hh", "b_ih", "b_hh")


def make(rng, N, D, H, dtype=np.float64, scale=1.0):
    """x, h_prev and the four weights, torch-style U(-1/sqrt(H), 1/sqrt(H)) weights."""
    k = 1 / np.sqrt(H)
    arrs = [scale * rng.standard_normal((N, D)), rng.uniform(-1, 1, (N, H)),
            rng.uniform(-k, k, (3 * H, D)), rng.uniform(-k, k, (3 * H, H)),
            rng.uniform(-k, k, 3 * H), rng.uniform(-k, k, 3 * H)]  # fmt: skip
    return [a.astype(dtype) for a in arrs]


def forward(args):
    __tracebackhide__ = True
    result = call(gru.gru_cell_forward, *args)
    assert_true(isinstance(result, tuple) and len(result) == 2,
                "gru_cell_forward must return a tuple (h, cache); got "
                f"{type(result).__name__}")  # fmt: skip
    return result


def check(args, dh=None, dtype=np.float64):
    """Forward (and backward when dh is given) against the oracle, naming known mistakes."""
    __tracebackhide__ = True
    h, cache = forward(args)
    want, want_grads = oracle.gru_cell(*args, dh=dh)
    variants = {oracle.MISTAKES[k]: oracle.variant(k, *args, dh=dh) for k in oracle.MISTAKES}
    assert_close(h, want, tol="matmul", name="h", dtype=dtype,
                 mistakes={k: v[0] for k, v in variants.items()})  # fmt: skip
    if dh is None:
        return
    grads = call(gru.gru_cell_backward, dh, cache)
    got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
    assert_true(isinstance(grads, dict) and set(grads) == set(oracle.NAMES),
                f"gru_cell_backward must return a dict with keys {list(oracle.NAMES)}; "
                f"got {got}")  # fmt: skip
    for key in oracle.NAMES:
        assert_close(grads[key], want_grads[key], tol="grad", name=f'grads["{key}"]',
                     dtype=dtype, mistakes={k: v[1][key] for k, v in variants.items()})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gru_forward_matches_torch(dtype, rng):
    check(make(rng, 4, 5, 3, dtype), dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gru_backward_matches_torch(dtype, rng):
    args = make(rng, 4, 5, 3, dtype)
    check(args, dh=rng.standard_normal((4, 3)).astype(dtype), dtype=dtype)


@pytest.mark.property
@given(N=st.integers(1, 4), D=st.integers(1, 5), H=st.integers(1, 4), data=st.data(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_gru_matches_torch_for_any_shapes_and_layouts(N, D, H, data, seed):
    rng = np.random.default_rng(seed)
    args = make(rng, N, D, H)
    args[0] = data.draw(cs.arrays((N, D)), label="x")
    args[1] = data.draw(cs.arrays((N, H), min_value=-1, max_value=1), label="h_prev")
    args[2] = cs.noncontiguous(args[2])
    check(args, dh=cs.noncontiguous(rng.standard_normal((N, H))))


@pytest.mark.edge
def test_saturated_gates_stay_finite(rng):
    """Inputs of size 1e3 drive every gate into saturation: no overflow warning, no NaN."""
    args = make(rng, 3, 4, 2, scale=1e3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        check(args, dh=rng.standard_normal((3, 2)))
    numpy_warnings = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert_true(not numpy_warnings,
                f"NumPy warned {numpy_warnings[:2]} for pre-activations near -1e3: write "
                "sigmoid as 0.5 * (1 + tanh(a / 2)) so exp never overflows")  # fmt: skip


@pytest.mark.edge
def test_zero_input_and_state_still_see_the_biases(rng):
    """x = 0 and h = 0: h' = (1 - z) * tanh(b_in + r * b_hn), so b_hn's place shows."""
    args = make(rng, 2, 3, 4)
    args[0], args[1] = np.zeros((2, 3)), np.zeros((2, 4))
    args[4], args[5] = 3 * args[4], 3 * args[5]
    check(args, dh=rng.standard_normal((2, 4)))
