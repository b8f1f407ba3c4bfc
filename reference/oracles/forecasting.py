"""Oracle for 04_rnn/forecasting: the data (Mauna Loa CO2 as statsmodels ships it, and
generated seasonal series), windows by torch's unfold, the seasonal-naive forecast written
out as a loop, the forecaster recomputed in float64, and the reference training loop.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from checker.datasets import DataError
from reference.oracles import numpy, tensor

CO2_SOURCE = (
    "Mauna Loa CO2, weekly 1958-2001 (statsmodels' co2 dataset, Keeling & Whorf, SIO), "
    "gaps filled by your fill_gaps, averaged per calendar month"
)


def co2_csv() -> Path:
    """statsmodels' co2.csv, found without importing statsmodels (and pandas)."""
    spec = importlib.util.find_spec("statsmodels")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the CO2 series ships with the statsmodels package, which is not installed; "
            "run: pip install -e ."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "co2" / "co2.csv"


def load_co2() -> tuple[np.ndarray, np.ndarray]:
    """Weekly Mauna Loa CO2: dates (int64 YYYYMMDD, every 7 days) and ppm (NaN where missing).

    2284 weeks from 1958-03-29 to 2001-12-29; 59 are missing (runs of 1 to 18 weeks).
    """
    table = np.genfromtxt(co2_csv(), delimiter=",", skip_header=1, dtype=np.float64)
    return table[:, 0].astype(np.int64), table[:, 1]


def monthly_means(dates: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the values in each calendar month: months (int64 YYYYMM) and means.

    values must have no gaps (fill them first): a month whose weeks are all missing
    would have no mean.
    """
    month = (dates // 10000) * 12 + (dates // 100) % 100 - 1  # months since year 0
    index = month - month[0]  # 0 for the first month; the weeks are consecutive
    means = np.bincount(index, weights=values) / np.bincount(index)
    months = np.arange(month[0], month[-1] + 1)
    return (months // 12) * 100 + months % 12 + 1, means


def make_seasonal(
    n: int,
    m: int,
    rng: np.random.Generator,
    trend: float = 0.05,
    amplitude: float = 2.0,
    noise: float = 0.3,
) -> np.ndarray:
    """A trend, a season of m steps (two harmonics at a random phase) and Gaussian noise."""
    t = np.arange(n)
    phase = rng.uniform(0, 2 * np.pi)
    season = np.sin(2 * np.pi * t / m + phase) + 0.5 * np.sin(4 * np.pi * t / m + 2 * phase)
    return 10.0 + trend * t + amplitude * season + noise * rng.standard_normal(n)


def windows(series: np.ndarray, lookback: int, horizon: int) -> tuple[torch.Tensor, ...]:
    """Every (lookback + horizon)-long stretch by Tensor.unfold, split into input and target."""
    w = tensor(series).unfold(0, lookback + horizon, 1)  # (n, L + H)
    return w[:, :lookback], w[:, lookback:]


def shifted_windows(series, lookback, horizon, shift):
    """The targets a learner gets when they start `shift` steps off (-1: on the input's last
    value); None where the last window would run past the series."""
    s = tensor(series)
    n = len(s) - lookback - horizon + 1
    if lookback + shift < 0 or n - 1 + lookback + shift + horizon > len(s):
        return None
    return torch.stack([s[i + lookback + shift : i + lookback + shift + horizon] for i in range(n)])


def seasonal_naive(history: np.ndarray, m: int, horizon: int) -> np.ndarray:
    """For each forecast step k (0-based): the value k % m steps into the last season."""
    history = np.asarray(history, dtype=np.float64)
    T = history.shape[-1]
    out = np.empty(history.shape[:-1] + (horizon,))
    for k in range(horizon):
        back = m - k % m  # steps back from the end of the history
        out[..., k] = history[..., T - back]
    return out


class Scaler:
    """Mean and population standard deviation by torch (correction=0), as sklearn's scaler."""

    def __init__(self, series, correction: int = 0):
        s = tensor(series)
        self.mean_ = float(s.mean())
        std = float(s.std(correction=correction)) if len(s) > correction else 0.0
        self.scale_ = std if std > 0 else 1.0

    def transform(self, x):
        return (np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_

    def inverse_transform(self, z):
        return np.asarray(z, dtype=np.float64) * self.scale_ + self.mean_


def forecaster(model: nn.Module, x: np.ndarray, relative: bool = True, step: int = -1):
    """Forecaster's output recomputed in float64 with the model's weights copied into a
    fresh nn.GRU and nn.Linear. relative=False (no subtraction of the last value) and
    step=0 (the head reads the first step's state) reproduce two slips.
    """
    hidden = model.rnn.hidden_size
    gru = nn.GRU(1, hidden, batch_first=True, dtype=torch.float64)
    head = nn.Linear(hidden, model.head.out_features, dtype=torch.float64)
    gru.load_state_dict({k: v.double() for k, v in model.rnn.state_dict().items()})
    head.load_state_dict({k: v.double() for k, v in model.head.state_dict().items()})
    tx = tensor(x)  # (N, L, 1)
    last = tx[:, -1:, :] if relative else torch.zeros_like(tx[:, -1:, :])
    with torch.no_grad():
        out, _ = gru(tx - last)
        return numpy(last[:, :, 0] + head(out[:, step]))


def fit(
    model: nn.Module,
    X,
    Y,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
    loss: str = "mse",
    zero_grad: bool = True,
    shuffle: bool = True,
) -> list[float]:
    """The reference loop: Adam, a torch.randperm order per epoch, the mean batch loss.

    loss="l1", zero_grad=False and shuffle=False reproduce three slips.
    """
    x = torch.as_tensor(np.asarray(X), dtype=torch.float32).unsqueeze(-1)
    y = torch.as_tensor(np.asarray(Y), dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    criterion = F.mse_loss if loss == "mse" else F.l1_loss
    history = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator) if shuffle else torch.arange(len(x))
        losses = []
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            value = criterion(model(x[idx]), y[idx])
            if zero_grad:
                opt.zero_grad()
            value.backward()
            opt.step()
            losses.append(value.item())
        history.append(sum(losses) / len(losses))
    return history


def trained(model, X, Y, **kwargs) -> tuple[nn.Module, list[float]]:
    """A copy of model after the reference loop, and its loss history."""
    twin = copy.deepcopy(model)
    return twin, fit(twin, X, Y, **kwargs)


def forecast(model: nn.Module, scaler, X, scale_inputs=True, unscale_outputs=True):
    """inverse_transform(model(transform(X))): the scaling in float64 around the float32
    model, run as the docstring prescribes (float32 inputs of shape (N, L, 1)).

    scale_inputs=False and unscale_outputs=False reproduce two slips.
    """
    z = scaler.transform(X) if scale_inputs else np.asarray(X, dtype=np.float64)
    model.eval()
    with torch.no_grad():
        pred = numpy(model(tensor(z).float().unsqueeze(-1)))
    return scaler.inverse_transform(pred) if unscale_outputs else pred
