"""bidirectional.py: stacked bidirectional LSTM, checked against nn.LSTM(bidirectional=True)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import bidirectional as oracle

bi = kata("04_rnn/bidirectional")


def states(rng, L, N, H, dtype=np.float64):
    """Distinct random h0, c0 for every (layer, direction): a mix-up shows."""
    return [rng.uniform(-1, 1, (2 * L, N, H)).astype(dtype) for _ in range(2)]


def check(xs, h0, c0, params, dtype=np.float64):
    """output, h_n, c_n against nn.LSTM, naming the known layout mistakes."""
    __tracebackhide__ = True
    result = call(bi.bidirectional_lstm, xs, h0, c0, params)
    ok = (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], tuple)
          and len(result[1]) == 2)  # fmt: skip
    assert_true(ok, "bidirectional_lstm must return (output, (h_n, c_n)); got "
                f"{type(result).__name__}")  # fmt: skip
    output, (h_n, c_n) = result
    want, (want_h, want_c) = oracle.bidirectional_lstm(xs, h0, c0, params)
    cache = {}

    def slip(kind, part):
        def compute():
            if kind not in cache:
                cache[kind] = oracle.variant(kind, xs, h0, c0, params)
            got = cache[kind]
            return (got[0], got[1][0], got[1][1])[part]

        return compute

    for part, (yours, expected, name) in enumerate(
        ((output, want, "output"), (h_n, want_h, "h_n"), (c_n, want_c, "c_n"))
    ):
        mistakes = {label: slip(kind, part) for kind, label in oracle.MISTAKES.items()}
        assert_close(yours, expected, tol="matmul", name=name, dtype=dtype, mistakes=mistakes)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_cell_matches_torch(dtype, rng):
    N, D, H = 3, 4, 5
    k = 1 / np.sqrt(H)
    x, h, c = rng.standard_normal((N, D)), rng.uniform(-1, 1, (N, H)), rng.standard_normal((N, H))
    weights = [rng.uniform(-k, k, s) for s in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))]
    args = [a.astype(dtype) for a in (x, h, c, *weights)]
    result = call(bi.lstm_cell_forward, *args)
    assert_true(isinstance(result, tuple) and len(result) == 2,
                f"lstm_cell_forward must return (h, c); got {type(result).__name__}")  # fmt: skip
    want_h, want_c = oracle.lstm_cell(*args)
    assert_close(result[1], want_c, tol="matmul", name="c", dtype=dtype)
    assert_close(result[0], want_h, tol="matmul", name="h", dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bidirectional_lstm_matches_torch(num_layers, dtype, rng):
    T, N, D, H = 5, 3, 4, 3
    xs = rng.standard_normal((T, N, D)).astype(dtype)
    h0, c0 = states(rng, num_layers, N, H, dtype)
    check(xs, h0, c0, oracle.make_params(rng, D, H, num_layers, dtype), dtype=dtype)


@pytest.mark.oracle
def test_weights_copied_from_an_nn_lstm(rng):
    """The params list in torch's naming order, read straight off an nn.LSTM."""
    torch.manual_seed(int(rng.integers(2**31)))
    lstm = torch.nn.LSTM(4, 3, num_layers=2, bidirectional=True).double()
    xs = rng.standard_normal((6, 2, 4))
    h0, c0 = states(rng, 2, 2, 3)
    check(xs, h0, c0, oracle.params_of(lstm))


@pytest.mark.property
@given(T=st.integers(1, 4), N=st.integers(1, 3), D=st.integers(1, 4), H=st.integers(1, 3),
       L=st.integers(1, 2), data=st.data(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_bidirectional_lstm_matches_torch_for_any_shapes_and_layouts(T, N, D, H, L, data, seed):
    rng = np.random.default_rng(seed)
    xs = data.draw(cs.arrays((T, N, D), min_value=-3, max_value=3), label="xs")
    h0, c0 = states(rng, L, N, H)
    params = [tuple(cs.noncontiguous(w) for w in p) for p in oracle.make_params(rng, D, H, L)]
    check(xs, cs.noncontiguous(h0), c0, params)


@pytest.mark.edge
def test_the_backward_final_state_is_its_output_at_time_zero(rng):
    """h_n[1] (layer 0 backward) is output[0, :, H:], the state after reading xs[0]."""
    T, N, D, H = 4, 2, 3, 2
    xs = rng.standard_normal((T, N, D))
    h0, c0 = states(rng, 1, N, H)
    params = oracle.make_params(rng, D, H, 1)
    check(xs, h0, c0, params)
    output, (h_n, _) = call(bi.bidirectional_lstm, xs, h0, c0, params)
    assert_true(np.allclose(h_n[1], output[0, :, H:]) and np.allclose(h_n[0], output[-1, :, :H]),
                "h_n[0] must equal output[-1, :, :H] (forward, after xs[T-1]) and h_n[1] must "
                "equal output[0, :, H:] (backward, after xs[0])")  # fmt: skip


@pytest.mark.edge
def test_one_step_sequence(rng):
    """T = 1: both directions read the same single step, each from its own h0/c0."""
    xs = rng.standard_normal((1, 2, 3))
    h0, c0 = states(rng, 2, 2, 4)
    check(xs, h0, c0, oracle.make_params(rng, 3, 4, 2))


@pytest.mark.edge
def test_three_layers_with_a_wide_input(rng):
    """Layer 0 reads D = 7 features, layers 1 and 2 read 2H = 4: only layer 0 is D wide."""
    xs = rng.standard_normal((3, 2, 7))
    h0, c0 = states(rng, 3, 2, 2)
    check(xs, h0, c0, oracle.make_params(rng, 7, 2, 3))
