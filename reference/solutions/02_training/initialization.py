"""Xavier and He initialization, and an experiment that shows why they matter.

Weight shapes follow torch: Linear (out, in), conv (out, in, kh, kw); z = h @ W.T.
References: Glorot & Bengio 2010 ("Understanding the difficulty of training deep
feedforward neural networks"); He et al. 2015 ("Delving deep into rectifiers"), sec. 2.2;
torch/nn/init.py.
"""

import math
from collections.abc import Callable

import numpy as np

LINEAR_NAMES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the variance of a layer's output at that of its input."""
    if nonlinearity in LINEAR_NAMES or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        # ReLU zeroes half of a symmetric input, halving its second moment: gain^2 = 2.
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        # The negative half keeps slope^2 of its second moment: (1 + slope^2) / 2 in all.
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """How many inputs feed one output unit (fan_in) and how many outputs one input feeds."""
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need at least 2 dimensions, got shape {shape}")
    # A conv output unit sees in_channels * kh * kw inputs: the kernel is the receptive field.
    receptive_field = int(np.prod(shape[2:]))  # empty product = 1 for a Linear weight
    fan_in = int(shape[1]) * receptive_field
    fan_out = int(shape[0]) * receptive_field
    return fan_in, fan_out


def _uniform(shape, std: float, rng: np.random.Generator, dtype) -> np.ndarray:
    """U(-a, a) with standard deviation std: its variance is a^2 / 3, so a = sqrt(3) * std."""
    bound = math.sqrt(3.0) * std
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _normal(shape, std: float, rng: np.random.Generator, dtype) -> np.ndarray:
    return (std * rng.standard_normal(shape)).astype(dtype)


def _xavier_std(shape, gain: float) -> float:
    # Glorot: a compromise between Var(W) = 1/fan_in (forward) and 1/fan_out (backward).
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def _kaiming_std(shape, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def xavier_uniform(shape, rng, gain=1.0, dtype=np.float64):
    """Glorot/Xavier uniform: U(-a, a) with the variance that suits both passes."""
    return _uniform(shape, _xavier_std(shape, gain), rng, dtype)


def xavier_normal(shape, rng, gain=1.0, dtype=np.float64):
    """Glorot/Xavier normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    return _normal(shape, _xavier_std(shape, gain), rng, dtype)


def kaiming_uniform(shape, rng, a=0.0, mode="fan_in", nonlinearity="leaky_relu", dtype=np.float64):
    """He/Kaiming uniform: U(-bound, bound) with std = gain / sqrt(fan)."""
    return _uniform(shape, _kaiming_std(shape, a, mode, nonlinearity), rng, dtype)


def kaiming_normal(shape, rng, a=0.0, mode="fan_in", nonlinearity="leaky_relu", dtype=np.float64):
    """He/Kaiming normal: N(0, std^2) with std = gain / sqrt(fan)."""
    return _normal(shape, _kaiming_std(shape, a, mode, nonlinearity), rng, dtype)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "linear": lambda z: z,
}


def activation_stds(init, X, rng, n_layers=50, activation="relu"):
    """The spread of every layer's pre-activations in a deep, bias-free MLP."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    act = ACTIVATIONS[activation]
    D = X.shape[1]
    h = X  # (N, D)
    stds = np.empty(n_layers)
    for layer in range(n_layers):
        W = init((D, D), rng)  # (out, in), as nn.Linear stores it
        z = h @ W.T  # (N, D) @ (D, D) -> (N, D)
        stds[layer] = z.std()  # over the whole batch and all units, ddof=0
        h = act(z)
    return stds
