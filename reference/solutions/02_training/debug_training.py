"""A small PyTorch training script: an MLP with BatchNorm and dropout on two moons.

The fixed version of the kata's script. Every line that differs from the shipped
stub is one of the classic bugs of a training loop: gradients that accumulate,
probabilities fed to a loss that wants logits, labels shuffled apart from their
inputs, a model evaluated in train mode or trained in eval mode, and a learning-rate
schedule stepped per batch. References: PyTorch's "Optimizing Model Parameters"
tutorial; Karpathy, "A Recipe for Training Neural Networks" (2019).
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
    return X[perm], y[perm]


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
    opt.zero_grad()
    logits = model(xb)  # (B, 2)
    loss = F.cross_entropy(logits, yb)
    loss.backward()
    opt.step()
    return loss.item()


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of the model's predictions on (X, y), a float in [0, 1]."""
    model.eval()
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
        model.train()
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
