"""forecasting.py: gaps, windows, a time split, a scaler fitted on the past, MAE, the
seasonal-naive baseline, a GRU forecaster and its training loop; then the forecaster
against the baseline on a generated series and on Mauna Loa CO2 (slow, last)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from checker import assert_close, assert_raises, assert_true, call, describe, kata, note
from checker import strategies as cs
from reference.oracles import forecasting as oracle
from reference.oracles import tensor

mod = kata("04_rnn/forecasting")


def interpolated(series):
    """pandas' linear interpolation, gaps at both ends held flat: the independent answer."""
    import pandas as pd

    return pd.Series(series).interpolate(method="linear", limit_direction="both").to_numpy()


def with_gaps(rng, T):
    series = np.cumsum(rng.standard_normal(T))
    series[rng.random(T) < 0.4] = np.nan
    series[rng.integers(T)] = rng.standard_normal()  # at least one observed value
    return series


@pytest.mark.oracle
@pytest.mark.edge
def test_fill_gaps_interpolates_runs_and_holds_the_ends():
    series = np.array([np.nan, np.nan, 1.0, np.nan, np.nan, np.nan, 5.0, 4.0, np.nan])
    assert_close(
        call(mod.fill_gaps, series),
        interpolated(series),
        name="the filled series",
        mistakes={"the last observation carried forward": [1, 1, 1, 1, 1, 1, 5, 4, 4]},
    )
    assert_raises(ValueError, mod.fill_gaps, np.full(4, np.nan), why="all NaN: nothing observed")


@pytest.mark.property
@given(T=st.integers(1, 30), seed=st.integers(0, 2**32 - 1), layout=cs.layouts())
def test_fill_gaps_matches_pandas_for_any_gaps(T, seed, layout):
    series = cs.relayout(with_gaps(np.random.default_rng(seed), T), layout)
    assert_close(call(mod.fill_gaps, series), interpolated(series), name="the filled series")


def check_windows(series, L, H):
    __tracebackhide__ = True
    out = call(mod.make_windows, series, L, H)
    assert_true(isinstance(out, tuple) and len(out) == 2, "make_windows must return (X, Y)")
    want_X, want_Y = oracle.windows(series, L, H)
    assert_close(out[0], want_X, name="X (the inputs)")
    slips = {
        "the target starts on the input's last value (series[i + L - 1 :])": lambda: (
            oracle.shifted_windows(series, L, H, -1)
        ),
    }
    assert_close(out[1], want_Y, name="Y (the targets)", mistakes=slips)


@pytest.mark.oracle
def test_make_windows_matches_torch_unfold(rng):
    check_windows(rng.standard_normal(20), 5, 3)


@pytest.mark.property
@given(
    L=st.integers(1, 6), H=st.integers(1, 6), extra=st.integers(0, 6), layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_make_windows_matches_torch_for_any_sizes_and_layouts(L, H, extra, layout, seed):
    series = np.random.default_rng(seed).standard_normal(L + H + extra)
    check_windows(cs.relayout(series, layout), L, H)


@pytest.mark.edge
def test_make_windows_gives_one_window_at_exact_length_and_refuses_shorter(rng):
    check_windows(rng.standard_normal(7), 4, 3)
    assert_raises(ValueError, mod.make_windows, rng.standard_normal(6), 4, 3,
                  why="6 values cannot hold lookback 4 + horizon 3")  # fmt: skip


@pytest.mark.property
@given(T=st.integers(2, 40), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**32 - 1))
def test_train_test_split_time_keeps_time_order(T, fraction, seed):
    series = np.random.default_rng(seed).standard_normal(T)
    n_test = math.ceil(fraction * T)
    if n_test >= T:
        why = f"n_test = ceil({fraction} * {T}) leaves nothing to train on"
        assert_raises(ValueError, mod.train_test_split_time, series, fraction, why=why)
        return
    out = call(mod.train_test_split_time, series, fraction)
    assert_true(isinstance(out, tuple) and len(out) == 2, "train_test_split_time: (train, test)")
    train = np.asarray(out[0])
    foreign = train.shape == (T - n_test,) and not np.isin(train, series[: T - n_test]).all()
    shuffled = {"train holds values from the end: shuffled before splitting": train}
    assert_close(out[0], series[: T - n_test], name="train (the first part)",
                 mistakes=shuffled if foreign else None)  # fmt: skip
    assert_close(out[1], series[T - n_test :], name="test (the last n_test values)")


@pytest.mark.oracle
def test_standard_scaler_matches_torch(rng):
    series = 5 + 3 * rng.standard_normal(8)  # short: ddof 0 and 1 differ by 7%
    scaler = call(mod.StandardScaler().fit, series)
    want = oracle.Scaler(series)
    unbiased = oracle.Scaler(series, correction=1).scale_
    assert_true(isinstance(scaler, mod.StandardScaler), "fit must return self")
    assert_close(np.float64(scaler.mean_), want.mean_, tol="reduction", name="mean_")
    assert_close(np.float64(scaler.scale_), want.scale_, tol="reduction", name="scale_",
                 mistakes={"torch.std's default, the unbiased std (ddof=1)": unbiased})  # fmt: skip
    windows = rng.standard_normal((4, 3)).T  # any shape, non-contiguous
    z = call(scaler.transform, windows)
    assert_close(z, want.transform(windows), tol="reduction", name="transform(windows)")
    back = call(scaler.inverse_transform, z)
    assert_close(back, windows, tol="reduction", name="inverse_transform(transform(windows))")


@pytest.mark.edge
def test_standard_scaler_shifts_a_constant_series_without_dividing_by_zero():
    scaler = call(mod.StandardScaler().fit, np.full(5, 2.5))
    assert_close(np.float64(scaler.scale_), np.float64(1.0), name="scale_ of a constant series")
    assert_close(call(scaler.transform, np.full(3, 2.5)), np.zeros(3), name="transform")


@pytest.mark.oracle
def test_mae_matches_torch_l1_loss(rng):
    y, y_hat = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    got = call(mod.mae, y, y_hat)
    assert_true(isinstance(got, float), f"mae must return a Python float; got {type(got)}")
    slips = {"no abs: errors of opposite signs cancel": np.mean(y - y_hat),
             "the root mean squared error": np.sqrt(np.mean((y - y_hat) ** 2))}  # fmt: skip
    assert_close(np.float64(got), F.l1_loss(tensor(y_hat), tensor(y)), tol="reduction",
                 name="the MAE", mistakes=slips)  # fmt: skip
    assert_raises(ValueError, mod.mae, y[:, 0], y_hat[:, :1],
                  why="(5,) against (5, 1) would broadcast to (5, 5)")  # fmt: skip


def check_seasonal_naive(history, m, horizon):
    __tracebackhide__ = True
    slips = {
        "lag 1 (the last value repeated), not lag m": np.repeat(history[..., -1:], horizon, -1),
        "y[T - m + k] without k % m: past one season it runs off the end (wrapped here)": (
            history[..., (history.shape[-1] - m + np.arange(horizon)) % history.shape[-1]]
        ),
        "the last `horizon` values, not the last season": (
            history[..., -horizon:] if horizon <= history.shape[-1] else None
        ),
    }
    want = oracle.seasonal_naive(history, m, horizon)
    got = call(mod.seasonal_naive, history, m, horizon)
    assert_close(got, want, name="the forecast", mistakes=slips)


@pytest.mark.oracle
@pytest.mark.edge
def test_seasonal_naive_repeats_the_last_season_past_one_season(rng):
    check_seasonal_naive(rng.standard_normal(15), 4, 10)  # horizon 2.5 seasons: wraps twice
    check_seasonal_naive(rng.standard_normal(3), 3, 2)  # the history is exactly one season


@pytest.mark.property
@given(
    shape=cs.shapes(1, 2), m=st.integers(1, 5), horizon=st.integers(1, 12),
    layout=cs.layouts(), seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_seasonal_naive_matches_a_loop_for_any_shapes(shape, m, horizon, layout, seed):
    history = np.random.default_rng(seed).standard_normal(shape[:-1] + (shape[-1] + m,))
    check_seasonal_naive(cs.relayout(history, layout), m, horizon)


@pytest.mark.edge
def test_seasonal_naive_refuses_less_than_a_season(rng):
    assert_raises(ValueError, mod.seasonal_naive, rng.standard_normal(5), 6, 3,
                  why="5 values do not hold one season of m = 6")  # fmt: skip


def test_prepare_data_fits_the_scaler_on_the_training_split_only(rng):
    series = np.arange(40.0) + rng.standard_normal(40)  # a trend: the test split sits higher
    out = call(mod.prepare_data, series, 0.25, 6, 3)
    assert_true(isinstance(out, tuple) and len(out) == 5,
                "prepare_data: (scaler, X_train, Y_train, X_test, Y_test)")  # fmt: skip
    scaler, X, Y, X_test, Y_test = out
    want = oracle.Scaler(series[:30])
    leak = {"fitted on the whole series, test split included": series.mean()}
    assert_close(np.float64(scaler.mean_), want.mean_, tol="reduction", name="scaler.mean_",
                 mistakes=leak)  # fmt: skip
    want_X, want_Y = oracle.windows(want.transform(series[:30]), 6, 3)
    assert_close(X, want_X, tol="reduction", name="X_train (standardised)")
    assert_close(Y, want_Y, tol="reduction", name="Y_train (standardised)")
    alone = np.shape(Y_test) == (10 - 6 - 3 + 1, 3)
    assert_true(
        not alone,
        f"prepare_data returned Y_test {np.shape(Y_test)}: the windows of the test split "
        "alone, so its first 6 (lookback) values are never forecast. Start the held-out "
        "windows lookback values before the split: series[len(train) - lookback :]",
    )
    want_X, want_Y = oracle.windows(series[24:], 6, 3)
    assert_close(Y_test, want_Y, name="Y_test (every target in the test split)")
    assert_close(X_test, want_X, name="X_test (raw units, reaching back into train)")


def check_forecaster(horizon, hidden, x, seed):
    __tracebackhide__ = True
    torch.manual_seed(seed)
    model = call(mod.Forecaster, horizon, hidden)
    rnn, head = getattr(model, "rnn", None), getattr(model, "head", None)
    assert_true(isinstance(rnn, nn.GRU) and rnn.batch_first and isinstance(head, nn.Linear),
                "Forecaster needs self.rnn = nn.GRU(1, hidden, batch_first=True) "
                "and self.head = nn.Linear(hidden, horizon)")  # fmt: skip
    with torch.no_grad():
        got = call(model, torch.from_numpy(x))
    slips = {
        "the window's levels fed as they are (no x - last, no + last)": lambda: oracle.forecaster(
            model, x, relative=False
        ),
        "the head reads the first step's output, out[:, 0]": lambda: oracle.forecaster(
            model, x, step=0
        ),
    }
    assert_close(got, oracle.forecaster(model, x), tol="matmul", dtype=np.float32,
                 name="the forecasts", mistakes=slips)  # fmt: skip


@pytest.mark.oracle
def test_forecaster_matches_torch(rng):
    check_forecaster(4, 8, (2 + rng.standard_normal((3, 10, 1))).astype(np.float32), seed=0)


@pytest.mark.property
@given(N=st.integers(1, 3), L=st.integers(1, 5), horizon=st.integers(1, 4),
       hidden=st.integers(1, 5), seed=st.integers(0, 2**16))  # fmt: skip
def test_forecaster_matches_torch_for_any_sizes(N, L, horizon, hidden, seed):
    x = np.random.default_rng(seed).standard_normal((N, 1, L)).astype(np.float32)
    check_forecaster(horizon, hidden, x.transpose(0, 2, 1), seed)  # (N, L, 1), non-contiguous


@pytest.mark.oracle
@pytest.mark.parametrize("batch_size", [40, 16], ids=["full-batch", "minibatches"])
def test_fit_forecaster_replays_the_reference_adam_loop(batch_size, rng):
    X, Y = rng.standard_normal((40, 6)), rng.standard_normal((40, 2))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 2))  # any (N, L, 1) -> (N, H) model

    def reference(**slip):  # the reference loop on a copy of the untrained model
        seeded = torch.Generator().manual_seed(1)
        twin, history = oracle.trained(model, X, Y, epochs=3, lr=0.05, batch_size=batch_size,
                                       generator=seeded, **slip)  # fmt: skip
        return torch.cat([p.detach().flatten() for p in twin.parameters()]), history

    want, want_history = reference()
    slips = {"no zero_grad: every step adds up all earlier gradients": reference(zero_grad=False),
             "the L1 loss, not the mean squared error": reference(loss="l1"),
             "the same order every epoch, not torch.randperm(n, generator=generator)":
                 reference(shuffle=False)}  # fmt: skip
    history = call(mod.fit_forecaster, model, X, Y, epochs=3, lr=0.05, batch_size=batch_size,
                   generator=torch.Generator().manual_seed(1))  # fmt: skip
    what = "fit_forecaster must return a list of 3 losses (one per epoch)"
    assert_true(isinstance(history, list) and len(history) == 3, f"{what}; got {history}")
    assert_close(np.asarray(history, dtype=np.float64), want_history, tol="grad",
                 name="history (the mean batch loss of each epoch)",
                 mistakes={k: v[1] for k, v in slips.items()})  # fmt: skip
    params = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert_close(params, want, tol="grad", dtype=np.float32, name="the trained parameters",
                 inplace=True, mistakes={k: v[0] for k, v in slips.items()})  # fmt: skip


@pytest.mark.oracle
def test_forecast_matches_torch_in_the_series_units(rng):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(5, 3))  # any (N, L, 1) -> (N, H) model
    X = 300 + 10 * rng.standard_normal((4, 5))
    scaler = oracle.Scaler(X)
    got = call(mod.forecast, model, scaler, X)
    slips = {
        "left in standardised units (no inverse_transform)": lambda: oracle.forecast(
            model, scaler, X, unscale_outputs=False
        ),
        "the raw windows fed to the model (no transform)": lambda: oracle.forecast(
            model, scaler, X, scale_inputs=False
        ),
    }
    assert_close(got, oracle.forecast(model, scaler, X), tol="matmul", dtype=np.float64,
                 name="the forecasts", mistakes=slips)  # fmt: skip


# Measured with the reference solution (one thread, 1-5 s of training each under load),
# seeds 0-9 (the seed drew both the generated series and the initial weights): held-out
# MAE / seasonal-naive MAE was 0.38-0.49 on the generated series and 0.28-0.42 on CO2 (where
# the seasonal-naive MAE is 1.70 ppm: a year of growth). Models that learned nothing useful
# stay well above the bar: the untrained forecaster scores 2.9-3.4 (generated) and 1.6-1.9
# (CO2) times the baseline; a GRU fed the levels themselves (no last-value offset) scores
# 0.74-1.56 and 1.7-2.0, since the test years lie above every level seen in training.
BAR = 0.6
M, LOOKBACK, HORIZON, TEST_FRACTION = 12, 24, 12, 0.2
TRAIN = {"epochs": 30, "lr": 0.01, "batch_size": 32}


def check_beats_seasonal_naive(series, what, unit, seed=0):
    __tracebackhide__ = True
    scaler, X, Y, _, _ = call(mod.prepare_data, series, TEST_FRACTION, LOOKBACK, HORIZON)
    torch.manual_seed(seed)
    model = call(mod.Forecaster, HORIZON, 32)
    history = call(mod.fit_forecaster, model, X, Y,
                   generator=torch.Generator().manual_seed(seed), **TRAIN)  # fmt: skip
    # The held-out windows and both errors come from the oracle: your pieces are tested above.
    n_train = len(series) - math.ceil(TEST_FRACTION * len(series))
    X_test, Y_test = oracle.windows(series[n_train - LOOKBACK :], LOOKBACK, HORIZON)
    pred = call(mod.forecast, model, scaler, X_test.numpy())
    shape = tuple(Y_test.shape)
    assert_true(isinstance(pred, np.ndarray) and pred.shape == shape,
                f"forecast must return an ndarray {shape}; got {describe(pred)}")  # fmt: skip
    yours = float(F.l1_loss(tensor(pred), Y_test))
    naive = float(F.l1_loss(tensor(oracle.seasonal_naive(X_test.numpy(), M, HORIZON)), Y_test))
    note(f"forecasting, {what}: held-out MAE {yours:.3f}{unit}, seasonal naive {naive:.3f}{unit} "
         f"(ratio {yours / naive:.2f}; the bar is {BAR})")  # fmt: skip
    assert_true(
        yours <= BAR * naive,
        f"on {what}, your forecaster's MAE over {len(Y_test)} held-out windows is {yours:.3f}"
        f"{unit}; the seasonal-naive forecast scores {naive:.3f}{unit}, and a working forecaster "
        f"reaches {BAR} x that ({BAR * naive:.3f}). Your training loss (standardised) went "
        f"from {history[0]:.4f} in epoch 1 to {history[-1]:.4f} in epoch {len(history)}.",
    )


@pytest.mark.training
def test_forecaster_beats_seasonal_naive_on_a_generated_series():
    series = oracle.make_seasonal(360, M, np.random.default_rng(0))
    check_beats_seasonal_naive(series, "a generated seasonal series (360 steps, m = 12)", "")


@pytest.mark.training
def test_forecaster_beats_seasonal_naive_on_mauna_loa_co2():
    dates, weekly = oracle.load_co2()
    months, co2 = oracle.monthly_means(dates, call(mod.fill_gaps, weekly))
    assert_true(not np.isnan(co2).any(), "fill_gaps left NaN in the weekly CO2 series")
    check_beats_seasonal_naive(co2, f"monthly CO2 {months[0]}-{months[-1]}", " ppm")
