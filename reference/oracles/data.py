"""Oracles for minigrad's data kata: torch's DataLoader fed a given order, the bad-epoch
count of torch's ReduceLROnPlateau, and the torch training loop that fit() must equal."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from reference.oracles import numpy as to_numpy
from reference.oracles import tensor


def batches(arrays, batch_size: int, order, drop_last: bool = False, dataset=None):
    """(torch's batches as tuples of ndarrays, len(loader)) for the examples in `order`.

    A list of indices is a valid sampler: torch then batches exactly that order, so a
    shuffled minigrad epoch can be compared once the test knows its permutation.
    arrays keep their dtypes (torch.from_numpy); dataset: any map-style dataset instead.
    """
    if dataset is None:
        dataset = TensorDataset(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays))
    loader = DataLoader(dataset, batch_size=batch_size, sampler=list(order), drop_last=drop_last)
    out = [tuple(t.numpy() for t in batch) for batch in loader]
    return out, len(loader)


def plateau(values, patience: int, min_delta: float, mode: str):
    """After each value: (num_bad_epochs, best) as torch's ReduceLROnPlateau counts them,
    with an absolute threshold of min_delta (stops at the first num_bad_epochs == patience,
    before torch would reduce the rate and reset its count)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, patience=patience, threshold=min_delta, threshold_mode="abs"
    )
    out = []
    for v in values:
        sched.step(v)
        out.append((sched.num_bad_epochs, float(sched.best)))
        if sched.num_bad_epochs >= patience:
            break
    return out


def fit(
    params: dict,
    data: tuple,
    orders: list,
    batch_size: int,
    lr: float,
    momentum: float,
    step_size: int,
    gamma: float,
    zero_grad: bool = True,
    sched_per_batch: bool = False,
):
    """torch's loop: Linear(D, H) - ReLU - Linear(H, C) with params (torch's names), SGD with
    momentum and StepLR, the batches of each epoch in orders[epoch]; evaluation on the
    validation set after each epoch. Returns (history like fit's, final params).
    zero_grad=False, sched_per_batch=True: two common mistakes (for the messages)."""
    X, y, X_val, y_val = (tensor(a) for a in data)
    W1 = params["0.weight"]
    model = torch.nn.Sequential(
        torch.nn.Linear(W1.shape[1], W1.shape[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(W1.shape[0], params["2.weight"].shape[0]),
    ).double()
    with torch.no_grad():
        for name, value in params.items():
            model.get_parameter(name).copy_(tensor(value))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    history = {k: [] for k in ("loss", "accuracy", "lr", "val_loss", "val_accuracy")}
    for order in orders:
        history["lr"].append(opt.param_groups[0]["lr"])
        total, correct = 0.0, 0.0
        for s in range(0, len(order), batch_size):
            idx = torch.from_numpy(np.asarray(order[s : s + batch_size]))
            logits = model(X[idx])
            loss = F.cross_entropy(logits, y[idx])
            if zero_grad:
                opt.zero_grad()
            loss.backward()
            opt.step()
            if sched_per_batch:
                sched.step()
            total += loss.item() * len(idx)
            correct += (logits.argmax(dim=1) == y[idx]).sum().item()
        history["loss"].append(total / len(order))
        history["accuracy"].append(correct / len(order))
        with torch.no_grad():
            logits = model(X_val)
            history["val_loss"].append(F.cross_entropy(logits, y_val).item())
            history["val_accuracy"].append((logits.argmax(dim=1) == y_val).double().mean().item())
        if not sched_per_batch:
            sched.step()
    return history, {name: to_numpy(p) for name, p in model.named_parameters()}
