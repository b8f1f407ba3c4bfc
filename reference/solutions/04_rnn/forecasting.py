"""Forecasting a seasonal series: windows, a time split, a scaler, and a GRU that beats
the seasonal-naive baseline.

A forecaster is only worth its keep if it beats the simplest honest guess: for a
series with a season of m steps, "next year looks like this year" (seasonal naive).
Everything here guards that comparison against leaks from the future: the split keeps
time order, the scaler learns its mean and spread from the training split alone, and the
held-out windows forecast values the model never saw. References: Hyndman &
Athanasopoulos, "Forecasting: Principles and Practice" (3rd ed.), sections 5.2 (simple
methods), 5.8 (evaluating point forecast accuracy) and 10.4 (time series cross-validation).
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def fill_gaps(series: np.ndarray) -> np.ndarray:
    """Fill missing values (NaN) by linear interpolation between the nearest observations."""
    observed = ~np.isnan(series)
    if not observed.any():
        raise ValueError("fill_gaps needs at least one observed (non-NaN) value")
    t = np.arange(len(series))
    # np.interp joins the observed points with straight lines, and holds the first and
    # last observed values flat before and after them.
    return np.interp(t, t[observed], series[observed]).astype(series.dtype)


def make_windows(series: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into (input window, target window) pairs, one per start position."""
    n = len(series) - lookback - horizon + 1  # number of start positions
    if lookback < 1 or horizon < 1 or n < 1:
        raise ValueError(
            f"a series of length {len(series)} has no window of lookback {lookback} + "
            f"horizon {horizon}: it needs at least lookback + horizon values"
        )
    idx = np.arange(n)[:, None] + np.arange(lookback + horizon)  # (n, L + H) positions
    windows = series[idx]  # (n, L + H): fancy indexing copies
    return windows[:, :lookback], windows[:, lookback:]  # (n, L), (n, H)


def train_test_split_time(series: np.ndarray, test_fraction: float) -> tuple[np.ndarray, ...]:
    """Split a series in time: the first part to train on, the last part to test on."""
    n_test = int(np.ceil(test_fraction * len(series)))
    n_train = len(series) - n_test
    if n_test < 1 or n_train < 1:
        raise ValueError(
            f"test_fraction {test_fraction} of {len(series)} values leaves {n_train} to "
            f"train on and {n_test} to test on; both need at least one"
        )
    # No shuffling: the test split must lie after everything the model learns from.
    return series[:n_train], series[n_train:]


class StandardScaler:
    """Standardise with the mean and standard deviation of the data it was fitted on."""

    def fit(self, series: np.ndarray) -> "StandardScaler":
        """Learn mean_ and scale_ from series."""
        self.mean_ = float(np.mean(series))
        std = float(np.std(series))  # population std (ddof=0), as sklearn
        self.scale_ = std if std > 0 else 1.0  # a constant series: shift only
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Standardise x with the fitted mean_ and scale_."""
        return (x - self.mean_) / self.scale_

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        """Undo transform: back to the series' units."""
        return z * self.scale_ + self.mean_


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error over every element."""
    if np.shape(y_true) != np.shape(y_pred):
        raise ValueError(f"shapes differ: {np.shape(y_true)} and {np.shape(y_pred)}")
    return float(np.mean(np.abs(y_true - y_pred)))


def seasonal_naive(history: np.ndarray, m: int, horizon: int) -> np.ndarray:
    """Forecast each step with the value one season earlier: y_hat[T + k] = y[T - m + k % m]."""
    T = history.shape[-1]
    if m < 1 or T < m:
        raise ValueError(f"a season of m={m} needs a history of at least m values; got {T}")
    # Step k of the forecast repeats the last observed season, wrapping every m steps.
    lags = T - m + np.arange(horizon) % m  # (horizon,) positions in the history
    return history[..., lags]  # (..., horizon)


def prepare_data(
    series: np.ndarray, test_fraction: float, lookback: int, horizon: int
) -> tuple[StandardScaler, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split in time, fit the scaler on the training split, and cut both splits into windows."""
    train, test = train_test_split_time(series, test_fraction)
    scaler = StandardScaler().fit(train)  # the training split only: the test is the future
    X_train, Y_train = make_windows(scaler.transform(train), lookback, horizon)
    # Held-out windows forecast the test split; their inputs may reach back into the
    # training split (the past is known at forecast time), their targets never do.
    X_test, Y_test = make_windows(series[len(train) - lookback :], lookback, horizon)
    return scaler, X_train, Y_train, X_test, Y_test


class Forecaster(nn.Module):
    """A GRU reads the window; a linear head forecasts the change from its last value."""

    def __init__(self, horizon: int, hidden: int = 32):
        """Build self.rnn, an nn.GRU(1, hidden, batch_first=True), and self.head."""
        super().__init__()
        self.rnn = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = x[:, -1:, :]  # (N, 1, 1): the latest observation
        # The model sees the window relative to its last value, so a level it never saw in
        # training (a trend carries the test split past it) looks like one it did.
        out, _ = self.rnn(x - last)  # (N, L, hidden)
        return last[:, :, 0] + self.head(out[:, -1])  # (N, 1) + (N, horizon)


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
    """Train with Adam on the mean squared error; return the mean batch loss of each epoch."""
    x = torch.as_tensor(X, dtype=torch.float32).unsqueeze(-1)  # (N, L, 1)
    y = torch.as_tensor(Y, dtype=torch.float32)  # (N, H)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)  # a new order every epoch
        losses = []
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss = F.mse_loss(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        history.append(sum(losses) / len(losses))
    return history


def forecast(model: nn.Module, scaler: StandardScaler, X: np.ndarray) -> np.ndarray:
    """Forecast raw windows: scale them, run the model, and scale the forecasts back."""
    model.eval()
    with torch.no_grad():
        z = torch.as_tensor(scaler.transform(X), dtype=torch.float32).unsqueeze(-1)  # (N, L, 1)
        pred = model(z).double().numpy()  # (N, H), in scaled units
    return scaler.inverse_transform(pred)  # the series' units: what the MAE must measure
