"""Oracle for 02_training/diagnose: real short training runs, each with a known failure.

Each run trains a small MLP in torch on a synthetic classification task (inputs
x ~ N(0, I_D), labels from a fixed random teacher network) with full-batch steps, and
logs what a practitioner logs:

    train_losses (T,)    the training loss at every step, before that step's update
    val_losses   (E,)    the validation loss every EVAL_EVERY steps (step 0 included)
    grad_norms   (T, L)  per layer, the L2 norm of that nn.Linear's gradient (weight and
                         bias together), layer 0 nearest the input, layer L-1 the output

The configurations are chosen so that the failure is what one expects from the recipe
(too-high lr, too-low lr, a wide net on a few noisy samples, a deep sigmoid net, a deep
tanh net initialised far too large, a sensible setup); the seed (torch.manual_seed and a
NumPy Generator) makes each run deterministic on CPU. Runs are cached per process.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

D, C = 8, 3  # input features, classes
N_VAL = 256
STEPS = 200
EVAL_EVERY = 10

# run name -> (the label it must get, its recipe). depth counts nn.Linear layers; gain, when
# given, replaces nn.Linear's default init with N(0, gain^2 / fan_in) weights and zero
# biases; noise is the fraction of training labels flipped to another class.
RUNS: dict[str, tuple[str, dict]] = {
    # SGD at lr 20: the loss spikes to ~1e9, the ReLUs die, it settles far above its start
    "lr_too_high": ("lr_too_high", dict(depth=2, width=32, act="relu", lr=20.0, n_train=256)),
    # SGD at lr 100 with GELU (no dying): the weights overflow float32 within ~15 steps
    "lr_too_high_nan": ("lr_too_high", dict(depth=2, width=32, act="gelu", lr=100.0, n_train=256)),
    # SGD at lr 1e-3: the loss falls by a few percent in 200 steps
    "lr_too_low": ("lr_too_low", dict(depth=2, width=32, act="relu", lr=1e-3, n_train=256)),
    # a 128-wide 3-layer net, Adam, 64 samples with a quarter of the labels flipped: the
    # validation loss falls for 20-40 steps, then climbs while the training loss goes to 0
    "overfitting": (
        "overfitting",
        dict(depth=3, width=128, act="relu", opt="adam", lr=1e-3, n_train=64, noise=0.25),
    ),
    # 10 layers of sigmoid (slope <= 1/4): the first layer's gradient is ~1e-5 of the last's
    "vanishing_gradients": (
        "vanishing_gradients",
        dict(depth=10, width=32, act="sigmoid", lr=0.5, n_train=256),
    ),
    # 16 layers of tanh with weights 6x too large (the chaotic regime): the first layer's
    # gradient is ~1e3 times the last's, while tanh keeps the forward pass bounded
    "exploding_gradients": (
        "exploding_gradients",
        dict(depth=16, width=32, act="tanh", lr=1e-3, n_train=256, gain=6.0),
    ),
    # the sensible recipe: 2 layers, SGD at lr 0.5, plenty of data
    "healthy": ("healthy", dict(depth=2, width=32, act="relu", lr=0.5, n_train=2048)),
}
ACTS = {"relu": nn.ReLU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def teacher_data(rng: np.random.Generator, n: int, teacher) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, D))
    W1, W2 = teacher
    y = np.argmax(np.tanh(X @ W1) @ W2, axis=1)
    return X, y


def build(depth: int, width: int, act: str, gain: float | None) -> nn.Sequential:
    sizes = [D] + [width] * (depth - 1) + [C]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        if gain is not None:  # N(0, gain^2 / fan_in): far beyond what keeps signals stable
            nn.init.normal_(lin.weight, std=gain / math.sqrt(a))
            nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < depth - 1:
            layers.append(ACTS[act]())
    return nn.Sequential(*layers)


@functools.cache
def run(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train_losses (T,), val_losses (E,), grad_norms (T, L)) of one seeded run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: extra threads only add overhead (and vary)
    try:
        return _run(name, seed)
    finally:
        torch.set_num_threads(threads)


def curves(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fresh copies of run(name, seed): a test may change them, the cache stays intact."""
    return tuple(a.copy() for a in run(name, seed))


def _run(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cfg = RUNS[name][1]
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    teacher = (rng.standard_normal((D, 16)), rng.standard_normal((16, C)))
    X, y = teacher_data(rng, cfg["n_train"], teacher)
    Xv, yv = teacher_data(rng, N_VAL, teacher)
    if cfg.get("noise"):
        flip = rng.random(len(y)) < cfg["noise"]
        y[flip] = (y[flip] + rng.integers(1, C, flip.sum())) % C
    X, Xv = (torch.from_numpy(a).float() for a in (X, Xv))  # float32, as real runs are
    y, yv = torch.from_numpy(y), torch.from_numpy(yv)
    model = build(cfg["depth"], cfg["width"], cfg["act"], cfg.get("gain"))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    if cfg.get("opt") == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    train, val, norms = [], [], []
    for step in range(STEPS):
        if step % EVAL_EVERY == 0:
            with torch.no_grad():
                val.append(F.cross_entropy(model(Xv), yv).item())
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        train.append(loss.item())
        norms.append(
            [torch.cat([m.weight.grad.ravel(), m.bias.grad.ravel()]).norm().item() for m in linears]
        )
        opt.step()
    return np.array(train), np.array(val), np.array(norms)
