"""Xavier and He initialization, and an experiment that shows why they matter.

Implement with NumPy. Weight shapes follow torch: a Linear weight is (out, in), a conv
weight (out, in, kh, kw), and the layer computes z = h @ W.T. Every function draws its
numbers from the Generator it is given (never np.random.*), so a seed reproduces them.

The experiment: push a unit-variance batch through 50 layers and watch the spread of the
pre-activations. With a naive scale it collapses to ~1e-48 or blows up to ~1e52; with He
(ReLU) or Xavier (tanh) it stays put. Run: pytest katas/02_training/test_initialization.py
"""

from collections.abc import Callable

import numpy as np


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the variance of a layer's output at that of its input.

    Math:
        linear, conv1d/2d/3d, conv_transpose1d/2d/3d, sigmoid: 1
        tanh: 5/3;  relu: sqrt(2);  selu: 3/4
        leaky_relu: sqrt(2 / (1 + negative_slope^2)), negative_slope = param (0.01 if None)

    Shapes:
        Scalars only.

    Args:
        nonlinearity: the name of the nonlinearity after the layer (torch.nn.functional's).
        param: leaky_relu's negative slope; ignored by the others.

    Returns:
        The gain, a Python float. An unknown name raises ValueError.

    Numerics:
        None.

    Reference:
        torch.nn.init.calculate_gain
    """
    raise NotImplementedError


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """How many inputs feed one output unit (fan_in) and how many outputs one input feeds.

    Math:
        receptive_field = product of shape[2:] (1 for a Linear weight)
        fan_in = shape[1] * receptive_field;  fan_out = shape[0] * receptive_field

    Shapes:
        shape: (out, in) for Linear, (out, in, k) / (out, in, kh, kw) / ... for convs.

    Args:
        shape: the weight's shape, in torch's layout (out first, in second).

    Returns:
        (fan_in, fan_out), two Python ints. Fewer than 2 dimensions raise ValueError.

    Numerics:
        None.

    Reference:
        torch.nn.init._calculate_fan_in_and_fan_out
    """
    raise NotImplementedError


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0, dtype=np.float64
) -> np.ndarray:
    """Glorot/Xavier uniform: U(-a, a) with the variance that suits both passes.

    Math:
        std = gain * sqrt(2 / (fan_in + fan_out));  a = sqrt(3) * std
        (U(-a, a) has variance a^2 / 3, so this uniform has standard deviation std.)

    Shapes:
        Returns an array of `shape`.

    Args:
        shape: the weight's shape, torch layout (see fan_in_and_fan_out).
        rng: the Generator to draw from.
        gain: calculate_gain of the nonlinearity that follows.
        dtype: the dtype of the result.

    Returns:
        A new array of `shape` and `dtype`.

    Numerics:
        Every value lies in [-a, a].

    Reference:
        torch.nn.init.xavier_uniform_
    """
    raise NotImplementedError


def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0, dtype=np.float64
) -> np.ndarray:
    """Glorot/Xavier normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Math:
        std = gain * sqrt(2 / (fan_in + fan_out))

    Shapes:
        Returns an array of `shape`.

    Args:
        shape, rng, gain, dtype: as in xavier_uniform.

    Returns:
        A new array of `shape` and `dtype`, mean 0 and standard deviation std.

    Numerics:
        None.

    Reference:
        torch.nn.init.xavier_normal_
    """
    raise NotImplementedError


def kaiming_uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    dtype=np.float64,
) -> np.ndarray:
    """He/Kaiming uniform: U(-bound, bound) with std = gain / sqrt(fan).

    Math:
        gain = calculate_gain(nonlinearity, a);  fan = fan_in or fan_out (mode)
        std = gain / sqrt(fan);  bound = sqrt(3) * std

    Shapes:
        Returns an array of `shape`.

    Args:
        shape, rng, dtype: as in xavier_uniform.
        a: leaky ReLU's negative slope (used only when nonlinearity is "leaky_relu").
        mode: "fan_in" keeps the forward pass's variance, "fan_out" the backward pass's;
            anything else raises ValueError.
        nonlinearity: the nonlinearity that follows; the default with a = 0 is ReLU's gain.

    Returns:
        A new array of `shape` and `dtype`.

    Numerics:
        Every value lies in [-bound, bound].

    Reference:
        torch.nn.init.kaiming_uniform_ (nn.Linear's own default is a = sqrt(5))
    """
    raise NotImplementedError


def kaiming_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    dtype=np.float64,
) -> np.ndarray:
    """He/Kaiming normal: N(0, std^2) with std = gain / sqrt(fan).

    Math:
        gain = calculate_gain(nonlinearity, a);  fan = fan_in or fan_out (mode)
        std = gain / sqrt(fan)

    Shapes:
        Returns an array of `shape`.

    Args:
        shape, rng, a, mode, nonlinearity, dtype: as in kaiming_uniform.

    Returns:
        A new array of `shape` and `dtype`, mean 0 and standard deviation std.

    Numerics:
        None.

    Reference:
        torch.nn.init.kaiming_normal_
    """
    raise NotImplementedError


def activation_stds(
    init: Callable[[tuple[int, int], np.random.Generator], np.ndarray],
    X: np.ndarray,
    rng: np.random.Generator,
    n_layers: int = 50,
    activation: str = "relu",
) -> np.ndarray:
    """The spread of every layer's pre-activations in a deep, bias-free MLP.

    Math:
        h_0 = X;  for l = 1..n_layers:  W_l = init((D, D), rng);  z_l = h_{l-1} @ W_l.T;
        stds[l-1] = std(z_l) over all N * D entries (population std, ddof=0);
        h_l = activation(z_l)
        He init keeps Var(z_l) = Var(z_{l-1}) through ReLUs (He et al. 2015, eq. 10):
        that is the quantity measured here.

    Shapes:
        X: (N, D); every W_l: (D, D) in nn.Linear's (out, in) layout; returns (n_layers,).

    Args:
        init: draws one weight, called as init(shape, rng) once per layer, in order.
        X: the input batch (not modified).
        rng: passed on to init.
        n_layers: the depth.
        activation: "relu", "tanh", "sigmoid" or "linear" (no nonlinearity).

    Returns:
        float64 array (n_layers,): std(z_1), ..., std(z_{n_layers}).

    Numerics:
        The naive scales drive the values toward 1e-50 or 1e50: that is the point,
        not a bug. Do not normalise anything.

    Reference:
        nn.Sequential(nn.Linear(D, D, bias=False), nn.ReLU(), ...) with forward hooks
        recording each Linear's output.std(correction=0).
    """
    raise NotImplementedError
