"""Time series forecasting: windows, a time split, a scaler fitted on the past, and a GRU
that must beat the seasonal-naive baseline on held-out data.

The NumPy pieces come first (fill_gaps to prepare_data), then the PyTorch model
(Forecaster), its training loop (fit_forecaster) and forecast. The training tests run
the whole pipeline twice, with lookback 24, horizon 12 and season m = 12, holding out the
last 20% of each series:

- a generated series (trend + a 12-step season + noise) of 360 steps;
- Mauna Loa CO2: 2284 weekly readings 1958-2001 that statsmodels ships (59 missing),
  gaps filled by your fill_gaps, then averaged per calendar month (526 months).

Your forecaster's mean absolute error on the held-out windows must be at most 0.6 of
the seasonal-naive forecast's ("next year repeats this year"). To look at the data:

    from reference.oracles import forecasting as data    # run from the repository root
    dates, weekly = data.load_co2()                      # int64 YYYYMMDD, ppm with NaN
    months, co2 = data.monthly_means(dates, fill_gaps(weekly))
    series = data.make_seasonal(360, 12, np.random.default_rng(0))

Run: pytest katas/04_rnn/test_forecasting.py
"""

import numpy as np
import torch
from torch import nn


def fill_gaps(series: np.ndarray) -> np.ndarray:
    """Fill missing values (NaN) by linear interpolation between the nearest observations.

    Math:
        For a gap between observations y[a] and y[b] (a < t < b):
            y[t] = y[a] + (y[b] - y[a]) * (t - a) / (b - a)
        Before the first observation and after the last one, hold that value flat.

    Shapes:
        series: (T,); returns (T,).

    Args:
        series: values at equally spaced times, NaN where missing.

    Returns:
        A new array, series' dtype, without NaN; observed values unchanged.

    Numerics:
        An all-NaN series has nothing to interpolate: raise ValueError.

    Reference:
        np.interp; pandas.Series.interpolate(method="linear", limit_direction="both")
    """
    raise NotImplementedError


def make_windows(series: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into (input window, target window) pairs, one per start position.

    Math:
        X[i] = series[i : i + L],  Y[i] = series[i + L : i + L + H],  i = 0 .. n-1,
        n = T - L - H + 1: the target starts right after the input's last value.

    Shapes:
        series: (T,); X: (n, L); Y: (n, H), with L = lookback, H = horizon.

    Args:
        series: the values, oldest first (any strides).
        lookback: L >= 1 values the model sees; horizon: H >= 1 values it forecasts.

    Returns:
        (X, Y), series' dtype.

    Numerics:
        T = L + H gives one window; T < L + H gives none: raise ValueError.

    Reference:
        torch.Tensor.unfold(0, L + H, 1), split at L; numpy's sliding_window_view
    """
    raise NotImplementedError


def train_test_split_time(series: np.ndarray, test_fraction: float) -> tuple[np.ndarray, ...]:
    """Split a series in time: the first part to train on, the last part to test on.

    Math:
        n_test = ceil(test_fraction * T);  train = series[:T - n_test], test = the rest.

    Shapes:
        series: (T,); returns (T - n_test,) and (n_test,).

    Args:
        series: the values, oldest first.
        test_fraction: the share held out, 0 < test_fraction < 1.

    Returns:
        (train, test), in time order: never shuffle a time series.

    Numerics:
        Raise ValueError when either part would be empty.

    Reference:
        sklearn.model_selection.train_test_split(series, test_size=f, shuffle=False)
    """
    raise NotImplementedError


class StandardScaler:
    """Standardise with the mean and standard deviation of the data it was fitted on."""

    def fit(self, series: np.ndarray) -> "StandardScaler":
        """Learn mean_ and scale_ from series.

        Math:
            mean_ = mean(series);  scale_ = sqrt(mean((series - mean_)^2)) (ddof = 0)

        Shapes:
            series: any shape; mean_ and scale_ are Python floats.

        Args:
            series: the TRAINING split only: the test split is the future.

        Returns:
            self, so that StandardScaler().fit(train) is the fitted scaler.

        Numerics:
            A constant series has scale_ 0: use 1.0 instead (shift only, no 0 / 0).

        Reference:
            sklearn.preprocessing.StandardScaler; torch.std(correction=0), not torch.std's
            default (correction=1)
        """
        raise NotImplementedError

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Standardise x with the fitted mean_ and scale_.

        Math:
            z = (x - mean_) / scale_

        Shapes:
            x: any shape (a series, or windows (N, L)); z: the same.

        Args:
            x: values in the series' units.

        Returns:
            A new array (x is not modified).

        Numerics:
            mean_ and scale_ are scalars: they broadcast over any shape. Values beyond
            the training range (a trend) come out beyond [-3, 3]; that is expected.

        Reference:
            sklearn.preprocessing.StandardScaler.transform
        """
        raise NotImplementedError

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        """Undo transform: back to the series' units.

        Math:
            x = z * scale_ + mean_

        Shapes:
            z: any shape; returns the same.

        Args:
            z: standardised values (a model's forecasts).

        Returns:
            A new array in the series' units.

        Numerics:
            Exactly undoes transform (up to rounding): inverse_transform(transform(x)) == x.

        Reference:
            sklearn.preprocessing.StandardScaler.inverse_transform
        """
        raise NotImplementedError


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error over every element.

    Math:
        MAE = mean(|y_true - y_pred|)

    Shapes:
        y_true, y_pred: the same shape, e.g. (N, H); different shapes raise ValueError
        ((N,) against (N, 1) would broadcast to (N, N) and mean nothing).

    Args:
        y_true: what happened; y_pred: what was forecast.

    Returns:
        A Python float, in the series' units.

    Numerics:
        Return float(...), not a 0-d array. MAE weighs every error by its size, unlike the
        squared error, which a few large misses dominate.

    Reference:
        torch.nn.functional.l1_loss (reduction="mean")
    """
    raise NotImplementedError


def seasonal_naive(history: np.ndarray, m: int, horizon: int) -> np.ndarray:
    """Forecast each step with the value one season earlier, repeating the last season.

    Math:
        y_hat[T + k] = y[T - m + (k mod m)],  k = 0 .. horizon-1
        (horizon > m repeats the last observed season again).

    Shapes:
        history: (..., T), time on the last axis (one series, or windows (N, L));
        returns (..., horizon).

    Args:
        history: the values observed so far, oldest first.
        m: the season's length in steps (12 for monthly data with a yearly cycle).
        horizon: how many steps to forecast.

    Returns:
        The forecasts, history's dtype.

    Numerics:
        m < 1 or T < m (not one whole season observed) raise ValueError.

    Reference:
        Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 5.2 (snaive)
    """
    raise NotImplementedError


def prepare_data(
    series: np.ndarray, test_fraction: float, lookback: int, horizon: int
) -> tuple[StandardScaler, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split in time, fit the scaler on the training split, and cut both splits into windows.

    Math:
        train, test = train_test_split_time(series, test_fraction)
        scaler = StandardScaler().fit(train)
        X_train, Y_train = make_windows(scaler.transform(train), L, H)
        X_test, Y_test = make_windows(series[len(train) - L:], L, H)   (raw units)

    Shapes:
        series: (T,); X_train (n, L), Y_train (n, H); X_test (n_test - H + 1, L),
        Y_test (n_test - H + 1, H).

    Args:
        series: the values, oldest first, no NaN.
        test_fraction, lookback, horizon: as in train_test_split_time and make_windows.

    Returns:
        (scaler, X_train, Y_train, X_test, Y_test): training windows standardised, held-out
        windows in the series' units. Every held-out target lies in the test split; the
        inputs may reach back into the training split (that past is known at forecast time).

    Numerics:
        Either split too short for one window raises ValueError (from make_windows).

    Reference:
        Hyndman & Athanasopoulos, 5.8 and 5.10 (evaluation on a rolling forecast origin)
    """
    raise NotImplementedError


class Forecaster(nn.Module):
    """A GRU reads the window; a linear head forecasts the change from its last value."""

    def __init__(self, horizon: int, hidden: int = 32):
        """Build self.rnn, an nn.GRU(1, hidden, batch_first=True), and self.head."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forecast the next horizon values of every window.

        Math:
            last = x[:, -1]                             the latest value, (N, 1)
            out, _ = rnn(x - last)                      the window relative to it
            y_hat = last + head(out[:, -1])             head = nn.Linear(hidden, horizon)

        Shapes:
            x: (N, L, 1), batch first; out: (N, L, hidden); returns (N, horizon).

        Args:
            x: standardised windows, float32.

        Returns:
            The forecasts, standardised, float32.

        Numerics:
            A trend carries the test split past every level seen in training. A GRU that
            reads levels (tanh saturates) cannot follow it there; one that reads the window
            relative to its last value sees shapes it has seen before.

        Reference:
            nn.GRU(1, hidden, batch_first=True), nn.Linear; the last-value offset is the
            residual idea of N-BEATS and DeepAR's per-window scaling in its simplest form
        """
        raise NotImplementedError


def fit_forecaster(
    model: nn.Module,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
) -> list[float]:
    """Train with Adam on the mean squared error; return the mean batch loss of each epoch.

    Math:
        opt = torch.optim.Adam(model.parameters(), lr=lr); model.train(); every epoch:
        order = torch.randperm(n, generator=generator), then for each batch
        idx = order[start : start + batch_size] (the last one may be shorter):
        loss = F.mse_loss(model(x[idx]), y[idx]); zero_grad, backward, step.

    Shapes:
        X: (n, L) and Y: (n, H), NumPy; the model gets x = X as float32, (n, L, 1).

    Args:
        model: maps (N, L, 1) to (N, H); trained in place.
        X, Y: standardised training windows (prepare_data's X_train, Y_train).
        epochs, lr, batch_size: the usual; generator: draws every epoch's order.

    Returns:
        history: epochs floats, each the mean of that epoch's batch losses.

    Numerics:
        Call randperm once per epoch, with the generator: the tests replay your run.

    Reference:
        torch.optim.Adam, torch.nn.functional.mse_loss, torch.randperm
    """
    raise NotImplementedError


def forecast(model: nn.Module, scaler: StandardScaler, X: np.ndarray) -> np.ndarray:
    """Forecast raw windows: scale them, run the model, and scale the forecasts back.

    Math:
        y_hat = scaler.inverse_transform(model(scaler.transform(X)))

    Shapes:
        X: (N, L) in the series' units; the model gets (N, L, 1) float32; returns (N, H).

    Args:
        model: a trained model, (N, L, 1) -> (N, H).
        scaler: the scaler fitted on the training split (anything with transform and
            inverse_transform).
        X: windows in the series' units (prepare_data's X_test).

    Returns:
        float64 NumPy forecasts in the series' units: an MAE in standardised units is not
        comparable with the baseline's.

    Numerics:
        Evaluate in eval mode under torch.no_grad().

    Reference:
        sklearn's fit/transform/inverse_transform pattern around any regressor
    """
    raise NotImplementedError
