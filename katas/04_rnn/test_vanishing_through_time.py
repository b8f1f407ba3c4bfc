"""vanishing_through_time.py: dL_T/dx_t over 100 steps vs autograd on nn.RNN / nn.LSTM."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_png, assert_raises, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import vanishing_through_time as oracle

vt = kata("04_rnn/vanishing_through_time")
SEEDS = (0, 1, 2)
# Measured with the reference over seeds 0..7 (T = 100, N = 4, D = 16, H = 32, torch's
# default init, LSTM forget-gate bias 1): norms[0] / norms[T-1] was 1e-31 .. 3e-27 for the
# tanh RNN and 1e-9 .. 1e-7 for the LSTM. Bars with 1e3+ of margin on each side:
RNN_BAR, LSTM_BAR = 1e-20, 1e-12


def setup(cell, T, N, D, H, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, N, D)).astype(dtype)
    params = {k: v.astype(dtype) for k, v in oracle.init(cell, D, H, seed).items()}
    return params, xs


def check_norms(cell, params, xs, dtype=np.float64):
    __tracebackhide__ = True
    norms = call(vt.input_gradient_norms, cell, params, xs)
    want = oracle.norms(cell, params, xs)
    assert_close(norms, want, tol="grad", name=f"the {cell} norms", dtype=dtype,
                 mistakes=oracle.slips(cell, params, xs))  # fmt: skip
    return norms


@pytest.mark.oracle
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_norms_match_torch(cell):
    check_norms(cell, *setup(cell, 12, 3, 4, 5, seed=7))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_float32_stays_float32(cell):
    check_norms(cell, *setup(cell, 6, 2, 3, 4, seed=3, dtype=np.float32), dtype=np.float32)


@pytest.mark.property
@settings(max_examples=15, deadline=None)
@given(cell=st.sampled_from(["rnn", "lstm"]), T=st.integers(1, 5), N=st.integers(1, 3),
       D=st.integers(1, 3), H=st.integers(1, 3), strided=st.booleans(),
       seed=st.integers(0, 2**31 - 1))  # fmt: skip
def test_any_sizes_and_layouts_match_torch(cell, T, N, D, H, strided, seed):
    params, xs = setup(cell, T, N, D, H, seed)
    if strided:
        xs, params = cs.noncontiguous(xs), {k: cs.noncontiguous(v) for k, v in params.items()}
    check_norms(cell, params, xs)


@pytest.mark.edge
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_single_step(cell):
    check_norms(cell, *setup(cell, 1, 2, 3, 4, seed=5))


@pytest.mark.edge
def test_an_unknown_cell_is_refused():
    params, xs = setup("rnn", 3, 2, 3, 4, seed=0)
    assert_raises(ValueError, vt.input_gradient_norms, "gru", params, xs,
                  why="cell must be 'rnn' or 'lstm'")  # fmt: skip


def test_rnn_gradients_vanish_and_lstm_gradients_survive_100_steps():
    """Standard init: torch's uniform(-1/sqrt(H), 1/sqrt(H)); the LSTM's forget-gate bias
    set to 1 (b_ih + b_hh = 1 on the forget slice), a common practice (Jozefowicz et al.
    2015) that keeps f near sigmoid(1) = 0.73 at the start of training."""
    for seed in SEEDS:
        ratios = {}
        for cell in ("rnn", "lstm"):
            norms = check_norms(cell, *setup(cell, 100, 4, 16, 32, seed))
            ratios[cell] = float(norms[0] / norms[-1])
        assert_true(ratios["rnn"] < RNN_BAR,
                    f"seed {seed}: the tanh RNN's norms[0] / norms[99] is {ratios['rnn']:.2e}; "
                    f"expected below {RNN_BAR:.0e} (the gradient vanishes through 100 tanh "
                    "steps)")  # fmt: skip
        assert_true(ratios["lstm"] > LSTM_BAR,
                    f"seed {seed}: the LSTM's norms[0] / norms[99] is {ratios['lstm']:.2e}; "
                    f"expected above {LSTM_BAR:.0e} (the cell state's additive path, scaled "
                    "by f, keeps the gradient alive far longer)")  # fmt: skip


def test_plot_writes_a_log_scale_png_with_one_line_per_network(tmp_path):
    norms = {"tanh RNN": np.logspace(-30, 0, 100), "LSTM": np.logspace(-8, 0, 100)}
    path = tmp_path / "through_time.png"
    fig = call(vt.plot_gradient_norms, norms, path)
    assert_png(path, "plot_gradient_norms(norms_by_name, path)", min_bytes=100)
    axes = getattr(fig, "axes", [])
    assert_true(len(axes) >= 1 and axes[0].get_yscale() == "log", "the figure's y-axis must "
                "be log-scale (ax.set_yscale('log')): on a linear axis the RNN's early steps "
                "(1e-30) and the LSTM's (1e-8) both look like zero")  # fmt: skip
    lines = axes[0].get_lines()
    ys = [np.asarray(line.get_ydata(), dtype=float) for line in lines]
    for name, want in norms.items():
        assert_true(any(y.shape == want.shape and np.allclose(y, want) for y in ys),
                    f"the plot must have a line through the {name!r} norms, one point per "
                    f"step; found {len(ys)} lines")  # fmt: skip
    labels = [line.get_label() for line in lines]
    assert_true(
        set(norms) <= set(labels),
        f"label each line with its name (label=name) for the legend; found {labels}",
    )
