"""Oracle for the transfer kata: the training loop written out, and the mistakes it can make.

The learner's train() is compared with train_loop() on a float64 model; the keyword
switches reproduce common slips so that a failure can name the one it matches.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def train_loop(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    *,
    zero_grad: bool = True,
    shuffle: bool = True,
    train_mode: bool = True,
    weighted: bool = True,
) -> list[float]:
    """SGD over shuffled mini-batches; per epoch the mean loss over its examples.

    zero_grad/shuffle/train_mode/weighted False reproduce: gradients that accumulate,
    batches in the original order, training in eval mode, and the epoch loss as the
    plain mean of the batch means.
    """
    history = []
    for _ in range(epochs):
        model.train(train_mode)
        order = torch.from_numpy(rng.permutation(len(X)))
        if not shuffle:
            order = torch.arange(len(X))
        losses, sizes = [], []
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            if zero_grad:
                optimizer.zero_grad()
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            sizes.append(len(idx))
        if weighted:
            history.append(float(np.dot(losses, sizes) / sum(sizes)))
        else:
            history.append(float(np.mean(losses)))
    return history


def state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of a module's parameters and buffers."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict[str, torch.Tensor], module: nn.Module) -> list[str]:
    """Names of the parameters and buffers that differ from `before`."""
    now = module.state_dict()
    return [k for k, v in before.items() if k not in now or not torch.equal(now[k], v)]
