"""rnn.py: a tanh RNN cell, unrolled and stacked, with full and truncated BPTT, vs torch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import rnn as oracle

mod = kata("04_rnn/rnn")
WEIGHTS = oracle.WEIGHTS
CELL_KEYS = ("x", "h_prev", *WEIGHTS)
# name -> (T, N, D, H, L); D == H lets a layer read the wrong input without a shape error
CONFIGS = {"1 layer": (5, 3, 3, 4, 1), "2 layers D=H": (5, 2, 4, 4, 2),
           "3 layers": (4, 3, 2, 5, 3)}  # fmt: skip


def make_params(rng, D, H, L, dtype=np.float64):
    return [{"W_ih": (rng.standard_normal((H, D if li == 0 else H)) * 0.6).astype(dtype),
             "W_hh": (rng.standard_normal((H, H)) * 0.6).astype(dtype),
             "b_ih": (rng.standard_normal(H) * 0.3).astype(dtype),
             "b_hh": (rng.standard_normal(H) * 0.3).astype(dtype)} for li in range(L)]  # fmt: skip


def make_inputs(rng, T, N, D, H, L, dtype=np.float64):
    def draw(*shape):
        return rng.standard_normal(shape).astype(dtype)

    return draw(T, N, D), draw(L, N, H), make_params(rng, D, H, L, dtype), draw(T, N, H)


def unpack(result, fn):
    __tracebackhide__ = True
    assert_true(isinstance(result, tuple) and len(result) == 2,
                f"{fn} must return a tuple (output, cache); got {type(result).__name__}"
                f"{' of ' + str(len(result)) if isinstance(result, tuple) else ''}")  # fmt: skip
    return result


def entry(d, key, where):
    __tracebackhide__ = True
    assert_true(isinstance(d, dict) and key in d,
                f"{where} must be a dict with key {key!r}; got "
                f"{sorted(d) if isinstance(d, dict) else type(d).__name__}")  # fmt: skip
    return d[key]


def check_cell(x, h_prev, p, dh=None, dtype=np.float64):
    __tracebackhide__ = True
    h, cache = unpack(call(mod.rnn_cell_forward, x, h_prev, *(p[k] for k in WEIGHTS)),
                      "rnn_cell_forward")  # fmt: skip
    want, want_grads = oracle.cell(x, h_prev, p, dh)
    slips = {}
    if h_prev.shape[1] > 1:  # with H = 1, W_hh.T == W_hh
        slips["h_prev @ W_hh instead of h_prev @ W_hh.T"] = lambda: oracle.cell(
            x, h_prev, p, transpose_hh=True
        )[0]
    assert_close(h, want, tol="matmul", name="h", dtype=dtype, mistakes=slips)
    if dh is None:
        return
    grads = call(mod.rnn_cell_backward, dh, cache)
    dz = dh.astype(np.float64)  # the slip: tanh' left out
    no_tanh = {"x": dz @ p["W_ih"], "h_prev": dz @ p["W_hh"], "W_ih": dz.T @ x,
               "W_hh": dz.T @ h_prev, "b_ih": dz.sum(0), "b_hh": dz.sum(0)}  # fmt: skip
    for k in CELL_KEYS:
        assert_close(entry(grads, k, "rnn_cell_backward's result"), want_grads[k], tol="grad",
                     name=f"grads[{k!r}]", dtype=dtype,
                     mistakes={"tanh' = 1 - h**2 left out of backward": no_tanh[k]})  # fmt: skip


def check_rnn(xs, h0, params, dhs=None, truncate=None, dtype=np.float64, slips=None):
    """slips: label -> (layer_input, truncate, cut_shift) of a known mistake's oracle run."""
    __tracebackhide__ = True
    hs, cache = unpack(call(mod.rnn_forward, xs, h0, params), "rnn_forward")
    want, want_grads = oracle.rnn(xs, h0, params, dhs, truncate)
    T, N, D = xs.shape
    L, H = len(params), h0.shape[2]
    wrong_input = {}
    if L > 1 and D == H:
        wrong_input["every layer fed xs instead of the outputs of the layer below"] = lambda: (
            oracle.rnn(xs, h0, params, layer_input="xs")[0]
        )
    assert_close(hs, want, tol="matmul", name="hs", dtype=dtype, mistakes=wrong_input)
    if dhs is None:
        return
    kw = {} if truncate is None else {"truncate": truncate}
    grads = call(mod.rnn_backward, dhs, cache, **kw)
    runs = {}
    for label, (inp, k, shift) in (slips or {}).items():
        runs[label] = oracle.rnn(xs, h0, params, dhs, k, layer_input=inp, cut_shift=shift)[1]
    if T > 1:
        runs["the gradient to h_{t-1} not carried back through W_hh"] = oracle.rnn(
            xs, h0, params, dhs, truncate=1)[1]  # fmt: skip

    def compare(got, key_path, pick):
        assert_close(got, pick(want_grads), tol="grad", name=f"grads{key_path}", dtype=dtype,
                     mistakes={lab: pick(g) for lab, g in runs.items()})  # fmt: skip

    compare(entry(grads, "xs", "rnn_backward's result"), "['xs']", lambda g: g["xs"])
    compare(entry(grads, "h0", "rnn_backward's result"), "['h0']", lambda g: g["h0"])
    layers = entry(grads, "params", "rnn_backward's result")
    assert_true(isinstance(layers, (list, tuple)) and len(layers) == L,
                f"grads['params'] must be a list with one dict per layer ({L}); got "
                f"{type(layers).__name__} of {len(layers) if hasattr(layers, '__len__') else 0}"
                )  # fmt: skip
    for li in range(L):
        for k in WEIGHTS:
            compare(entry(layers[li], k, f"grads['params'][{li}]"), f"['params'][{li}][{k!r}]",
                    lambda g, li=li, k=k: g["params"][li][k])  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cell_forward_matches_torch(dtype, rng):
    x, h0, params, _ = make_inputs(rng, 1, 4, 3, 5, 1, dtype)
    check_cell(x[0], h0[0], params[0], dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cell_backward_matches_torch(dtype, rng):
    x, h0, params, dh = make_inputs(rng, 1, 4, 3, 5, 1, dtype)
    check_cell(x[0], h0[0], params[0], dh[0], dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("config", CONFIGS)
def test_forward_matches_torch(config, rng):
    xs, h0, params, _ = make_inputs(rng, *CONFIGS[config])
    check_rnn(xs, h0, params)


@pytest.mark.oracle
@pytest.mark.parametrize("config", CONFIGS)
def test_full_bptt_matches_torch(config, rng):
    check_rnn(*make_inputs(rng, *CONFIGS[config]))


@pytest.mark.oracle
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_truncated_bptt_matches_torch(k, rng):
    """T = 7 cut every k steps: the gradient to h_{t-1} is dropped where t % k == 0."""
    slips = {"truncation ignored (full BPTT)": ("previous", None, 0)}
    if k > 1:
        slips["chunks cut one step early (where (t + 1) % k == 0)"] = ("previous", k, 1)
    if k > 2:
        slips["chunks cut one step late (where (t - 1) % k == 0)"] = ("previous", k, -1)
    check_rnn(*make_inputs(rng, 7, 2, 3, 4, 2), truncate=k, slips=slips)


def test_rnn_keeps_float32(rng):
    xs, h0, params, dhs = make_inputs(rng, 4, 2, 3, 4, 2, np.float32)
    check_rnn(xs, h0, params, dhs, dtype=np.float32)
    check_rnn(xs, h0, params, dhs, truncate=2, dtype=np.float32)


@pytest.mark.property
@given(T=st.integers(1, 5), N=st.integers(1, 3), D=st.integers(1, 4), H=st.integers(1, 4),
       L=st.integers(1, 3), truncate=st.none() | st.integers(1, 6), data=st.data(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_rnn_matches_torch_for_any_shapes_and_layouts(T, N, D, H, L, truncate, data, seed):
    xs = data.draw(cs.arrays((T, N, D), min_value=-2, max_value=2), label="xs")
    rng = np.random.default_rng(seed)
    _, h0, params, dhs = make_inputs(rng, T, N, D, H, L)
    h0, dhs = cs.noncontiguous(h0), cs.noncontiguous(dhs)
    params = [{k: cs.noncontiguous(v) if v.ndim == 2 else v for k, v in p.items()}
              for p in params]  # fmt: skip
    check_rnn(xs, h0, params, dhs, truncate=truncate)


@pytest.mark.edge
def test_one_step_sequence_and_one_example(rng):
    """T = 1: the only gradient to h0 comes straight through the first step; N = 1."""
    check_rnn(*make_inputs(rng, 1, 1, 3, 4, 2))
    check_rnn(*make_inputs(rng, 1, 1, 3, 4, 2), truncate=1)


@pytest.mark.edge
@pytest.mark.parametrize("k", [6, 9], ids=["k=T", "k>T"])
def test_truncating_at_or_beyond_T_is_full_bptt(k, rng):
    """No t in 1..T-1 is a multiple of k >= T: nothing is cut, h0 gets the whole gradient."""
    check_rnn(*make_inputs(rng, 6, 2, 3, 3, 1), truncate=k)


@pytest.mark.edge
def test_gradient_sums_over_every_step_for_the_shared_weights(rng):
    """Only the last output has a gradient: W_hh's gradient still comes from all 6 steps."""
    xs, h0, params, dhs = make_inputs(rng, 6, 2, 3, 4, 1)
    dhs[:-1] = 0.0
    check_rnn(xs, h0, params, dhs)
