"""lstm.py: the LSTM cell and BPTT over a sequence vs nn.LSTMCell, nn.LSTM and autograd."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import lstm as oracle

lstm = kata("04_rnn/lstm")
GRADS = ("x", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh")
WEIGHTS = ("W_ih", "W_hh", "b_ih", "b_hh")


def weights(rng, D, H, dtype=np.float64, scale=1.0):
    """torch's default init, uniform(-1/sqrt(H), 1/sqrt(H)), times scale (to reach saturation)."""
    k = scale / np.sqrt(H)
    shapes = {"W_ih": (4 * H, D), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,)}
    return {n: rng.uniform(-k, k, s).astype(dtype) for n, s in shapes.items()}


def cell_inputs(rng, N, D, H, dtype=np.float64, scale=1.0):
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    return [a.astype(dtype) for a in (x, h, c)] + list(weights(rng, D, H, dtype, scale).values())


def check_cell_forward(args, dtype=np.float64):
    __tracebackhide__ = True
    out = call(lstm.lstm_cell_forward, *args)
    what = type(out).__name__
    assert_true(isinstance(out, tuple) and len(out) == 3,
                f"lstm_cell_forward must return (h, c, cache); got {what}")  # fmt: skip
    want, slips = oracle.cell(*args), oracle.cell_slips(*args)
    for name, value in zip(("h", "c"), out[:2]):
        assert_close(value, want[name], tol="matmul", name=name, dtype=dtype, mistakes=slips[name])
    return out[2]


def check_cell_backward(args, dh, dc, dtype=np.float64):
    __tracebackhide__ = True
    cache = check_cell_forward(args, dtype)
    grads = call(lstm.lstm_cell_backward, dh, dc, cache)
    what = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
    assert_true(isinstance(grads, dict) and set(GRADS) <= set(grads),
                f"lstm_cell_backward must return a dict with keys {GRADS}; got {what}")  # fmt: skip
    want = oracle.cell(*args, dh=dh, dc=dc)
    slips = oracle.backward_slips(*args, dh, dc)
    for name in GRADS:
        assert_close(grads[name], want[name], tol="grad", name=f'grads["{name}"]', dtype=dtype,
                     mistakes=slips[name], factors={"N": len(dh)})  # fmt: skip


def not_carried(xs, h0, c0, params):
    """What a sequence gives when every step starts again from c0."""
    h, hs = h0, []
    for x in xs:
        out = oracle.cell(x, h, c0, *(params[k] for k in WEIGHTS))
        h = out["h"]
        hs.append(h)
    return np.stack(hs)


def check_sequence(xs, h0, c0, params, dhs, dh_T=None, dc_T=None, dtype=np.float64):
    __tracebackhide__ = True
    out = call(lstm.lstm_forward, xs, h0, c0, params)
    assert_true(isinstance(out, tuple) and len(out) == 3 and len(out[1]) == 2,
                "lstm_forward must return (hs, (h_T, c_T), cache)")  # fmt: skip
    hs, (h_T, c_T), cache = out
    want = oracle.sequence(xs, h0, c0, params, dhs, dh_T, dc_T)
    slip = {"the cell state not carried: every step starts from c0":
            lambda: not_carried(xs, h0, c0, params)}  # fmt: skip
    assert_close(hs, want["hs"], tol="matmul", name="hs", dtype=dtype, mistakes=slip)
    assert_close(h_T, want["h_T"], tol="matmul", name="h_T", dtype=dtype)
    assert_close(c_T, want["c_T"], tol="matmul", name="c_T", dtype=dtype)
    kw = {} if dh_T is None and dc_T is None else {"dh_T": dh_T, "dc_T": dc_T}
    grads = call(lstm.lstm_backward, dhs, cache, **kw)
    keys = ("xs", "h0", "c0", *WEIGHTS)
    assert_true(isinstance(grads, dict) and set(keys) <= set(grads),
                f"lstm_backward must return a dict with keys {keys}")  # fmt: skip
    T = len(xs)
    for name in keys:
        assert_close(grads[name], want[name], tol="grad", name=f'grads["{name}"]', dtype=dtype,
                     factors={"T": T, "N": xs.shape[1], "T * N": T * xs.shape[1]})  # fmt: skip
    return grads


def sequence_inputs(rng, T, N, D, H, dtype=np.float64):
    xs = rng.standard_normal((T, N, D)).astype(dtype)
    h0, c0 = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    dhs = rng.standard_normal((T, N, H)).astype(dtype)
    return xs, h0, c0, weights(rng, D, H, dtype), dhs


@pytest.mark.oracle
@pytest.mark.parametrize("N,D,H", [(3, 4, 5), (2, 6, 3)])
def test_cell_forward_matches_torch(N, D, H, rng):
    check_cell_forward(cell_inputs(rng, N, D, H))


@pytest.mark.oracle
@pytest.mark.parametrize("N,D,H", [(3, 4, 5), (2, 6, 3)])
def test_cell_backward_matches_torch(N, D, H, rng):
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    check_cell_backward(cell_inputs(rng, N, D, H), dh, dc)


@pytest.mark.oracle
@pytest.mark.parametrize("seeds", ["dhs only", "dhs, dh_T and dc_T"])
def test_sequence_forward_and_bptt_match_torch(seeds, rng):
    xs, h0, c0, params, dhs = sequence_inputs(rng, 6, 3, 4, 5)
    extra = {} if seeds == "dhs only" else dict(dh_T=rng.standard_normal((3, 5)),
                                                 dc_T=rng.standard_normal((3, 5)))  # fmt: skip
    check_sequence(xs, h0, c0, params, dhs, **extra)


def test_float32_stays_float32(rng):
    args = cell_inputs(rng, 3, 4, 5, np.float32)
    dh, dc = (rng.standard_normal((3, 5)).astype(np.float32) for _ in range(2))
    check_cell_backward(args, dh, dc, np.float32)
    check_sequence(*sequence_inputs(rng, 4, 3, 4, 5, np.float32), dtype=np.float32)


@pytest.mark.property
@settings(max_examples=15, deadline=None)
@given(T=st.integers(1, 4), N=st.integers(1, 3), D=st.integers(1, 3), H=st.integers(1, 3),
       strided=st.booleans(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_any_sizes_and_layouts_match_torch(T, N, D, H, strided, seed):
    rng = np.random.default_rng(seed)
    xs, h0, c0, params, dhs = sequence_inputs(rng, T, N, D, H)
    if strided:
        xs, h0, dhs = cs.noncontiguous(xs), cs.noncontiguous(h0), cs.noncontiguous(dhs)
        params = {k: cs.noncontiguous(v) for k, v in params.items()}
    check_cell_backward([xs[0], h0, c0, *params.values()], dhs[0], dhs[-1])
    check_sequence(xs, h0, c0, params, dhs, dc_T=rng.standard_normal((N, H)))


@pytest.mark.edge
def test_a_gradient_on_c_alone_reaches_c_prev_through_the_forget_gate(rng):
    args = cell_inputs(rng, 2, 3, 4)
    check_cell_backward(args, np.zeros((2, 4)), rng.standard_normal((2, 4)))


@pytest.mark.edge
def test_a_loss_on_the_last_cell_state_reaches_the_first_input(rng):
    xs, h0, c0, params, dhs = sequence_inputs(rng, 5, 2, 3, 4)
    params["b_ih"][4:8] += 3.0  # a forget gate near 1: c carries the signal through
    check_sequence(xs, h0, c0, params, np.zeros_like(dhs), dc_T=rng.standard_normal((2, 4)))


@pytest.mark.edge
def test_saturated_gates_and_a_single_step(rng):
    """Weights 10x torch's init push every gate to 0 or 1; T = 1 has no step to carry to."""
    args = cell_inputs(rng, 2, 3, 2, scale=10.0)
    check_cell_backward(args, rng.standard_normal((2, 2)), rng.standard_normal((2, 2)))
    xs, h0, c0, params, dhs = sequence_inputs(rng, 1, 2, 3, 2)
    check_sequence(xs, h0, c0, params, dhs, dh_T=rng.standard_normal((2, 2)))
