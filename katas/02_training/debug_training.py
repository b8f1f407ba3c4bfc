"""A training script with seeded bugs: fix it until it learns.

A complete PyTorch script: it draws two moons (2-D points on two interleaved half
circles, the label says which), trains a small MLP with BatchNorm and dropout using SGD
with momentum and a StepLR schedule, and reports the test accuracy. Once fixed, run()
reaches at least TARGET = 95% test accuracy, in well under a second on a CPU.

As shipped it runs without an error and it has 6 bugs, each a classic mistake of a
training loop. The data (make_moons), the layers (build_model) and the constants are
right; the bugs are in how the script shuffles, steps, trains and evaluates. Fix them
in place: keep the names and signatures, they are what the tests call. The tests run
the whole script and each piece on its own; a failure describes a symptom, as a real
run would show it, and leaves the fix to you.

This kata is written in PyTorch. Run: pytest katas/02_training/test_debug_training.py
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

N_TRAIN, N_TEST = 1000, 1000
EPOCHS, LR, BATCH = 12, 0.1, 32
LR_STEP, LR_GAMMA = 8, 0.1  # StepLR: lr x 0.1 after every 8 EPOCHS
TARGET = 0.95  # test accuracy the script must reach


def make_moons(n: int, rng: np.random.Generator, noise: float = 0.15):
    """n points on two interleaved half circles; the label says which one."""
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, np.pi, n)
    x0 = np.where(y == 0, np.cos(t), 1 - np.cos(t))
    x1 = np.where(y == 0, np.sin(t), 0.5 - np.sin(t))
    X = np.stack([x0, x1], axis=1) + noise * rng.standard_normal((n, 2))  # (n, 2)
    return torch.tensor(X, dtype=torch.float32), torch.from_numpy(y)


def shuffle(X: torch.Tensor, y: torch.Tensor, rng: np.random.Generator):
    """X and y in a new random order, each label still with its input."""
    perm = torch.from_numpy(rng.permutation(len(X)))
    return X[perm], y


def build_model(hidden: int = 64, p_drop: float = 0.2) -> nn.Sequential:
    """Linear -> BatchNorm -> ReLU -> Dropout -> Linear: 2 inputs, 2 logits."""
    return nn.Sequential(
        nn.Linear(2, hidden),
        nn.BatchNorm1d(hidden),
        nn.ReLU(),
        nn.Dropout(p_drop),
        nn.Linear(hidden, 2),
    )


def train_step(model: nn.Module, opt: torch.optim.Optimizer, xb: torch.Tensor, yb: torch.Tensor):
    """One optimisation step on a batch; returns the batch's mean loss as a float."""
    logits = model(xb)  # (B, 2)
    loss = F.cross_entropy(F.softmax(logits, dim=1), yb)
    loss.backward()
    opt.step()
    return loss.item()


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of the model's predictions on (X, y), a float in [0, 1]."""
    with torch.no_grad():
        pred = model(X).argmax(dim=1)  # (N,)
    return (pred == y).float().mean().item()


def train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    rng: np.random.Generator,
    epochs: int = EPOCHS,
    lr: float = LR,
    batch_size: int = BATCH,
    lr_step: int = LR_STEP,
    val=None,
) -> dict:
    """Train with SGD (momentum 0.9) and a StepLR schedule; returns the history.

    The history has, per epoch, "loss" (mean training loss), "lr" (the learning rate
    used in that epoch) and, when val = (X_val, y_val) is given, "val_acc".
    """
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=lr_step, gamma=LR_GAMMA)
    history = {"loss": [], "lr": [], "val_acc": []}
    for _ in range(epochs):
        history["lr"].append(opt.param_groups[0]["lr"])
        Xs, ys = shuffle(X, y, rng)
        losses = []
        for i in range(0, len(Xs), batch_size):
            losses.append(train_step(model, opt, Xs[i : i + batch_size], ys[i : i + batch_size]))
            scheduler.step()
        history["loss"].append(float(np.mean(losses)))
        if val is not None:
            history["val_acc"].append(evaluate(model, *val))
    return history


def run(seed: int = 0):
    """The whole script: data, model, training; returns (test accuracy, history)."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)  # initial weights and dropout masks
    X, y = make_moons(N_TRAIN, rng)
    X_val, y_val = make_moons(N_TEST, rng)
    X_test, y_test = make_moons(N_TEST, rng)
    model = build_model()
    history = train(model, X, y, rng, val=(X_val, y_val))
    return evaluate(model, X_test, y_test), history
