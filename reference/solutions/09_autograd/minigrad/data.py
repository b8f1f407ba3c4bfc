"""data.py: datasets, a DataLoader, and the training loop that ties the library together.

A Dataset answers two questions, how many examples and which is number i; a DataLoader
cuts an epoch into minibatches (a fresh permutation each epoch when shuffling, drawn from
the rng it was given, so a run can be replayed); fit() is the loop every training script
repeats: zero the gradients, forward, loss, backward, step, once per batch; then validate,
step the schedule, keep the best model and stop when validation has not improved for a
while. Checkpoints are plain .npz archives of named arrays: no pickle, so loading a file
never runs code from it.

Reference: torch.utils.data (Dataset, TensorDataset, DataLoader, default_collate);
torch.optim.lr_scheduler.ReduceLROnPlateau (how it counts bad epochs); Keras' EarlyStopping
and ModelCheckpoint(save_best_only=True); numpy.savez / numpy.load(allow_pickle=False).
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from .tensor import Tensor, no_grad

FORMAT_KEY = "minigrad_checkpoint"  # marks a file as ours; its value is the format version


# --- datasets and batches ----------------------------------------------------------------
class Dataset:
    """A map-style dataset: len(ds) examples, ds[i] is example i (a tuple of arrays).

    Math: none; an indexable collection of examples.
    Shapes: ds[i] -> (x_i, y_i, ...), each one example's array (or number).
    Args: subclasses define __len__ and __getitem__.
    Returns: examples, one per index.
    Numerics: none.
    Reference: torch.utils.data.Dataset.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Arrays that share their first axis: example i is (a[i] for a in arrays)."""

    def __init__(self, *arrays):
        self.arrays = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        sizes = {len(a) for a in self.arrays}
        if len(sizes) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(f"TensorDataset: the arrays' first axes differ: {shapes}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        # index may be an int (one example) or an index array (a whole batch, one copy each)
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Minibatches of a dataset, as tuples of Tensors; a new order each epoch if shuffled."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, rng=None):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = np.random.default_rng() if rng is None else rng

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        # drop_last: only full batches; otherwise the last, partial one counts too
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self):
        n = len(self.dataset)
        # a fresh permutation every epoch (each call of iter), from the rng we were given
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for k in range(len(self)):
            idx = order[k * self.batch_size : (k + 1) * self.batch_size]  # (B,)
            yield tuple(Tensor(a) for a in self._fetch(idx))

    def _fetch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """The batch's arrays: one fancy index per array for a TensorDataset, else stack the
        examples field by field (torch's default_collate)."""
        if isinstance(self.dataset, TensorDataset):
            return self.dataset[idx]
        items = [self.dataset[int(i)] for i in idx]
        if not isinstance(items[0], tuple):
            items = [(item,) for item in items]
        return tuple(
            np.stack([np.asarray(item[f]) for item in items]) for f in range(len(items[0]))
        )


# --- measuring ---------------------------------------------------------------------------
def accuracy(logits, target) -> float:
    """The fraction of rows whose largest logit is at the target class."""
    logits = logits.data if isinstance(logits, Tensor) else np.asarray(logits)  # (N, C)
    target = target.data if isinstance(target, Tensor) else np.asarray(target)  # (N,)
    return float(np.mean(np.argmax(logits, axis=-1) == target))


def evaluate(model, loader, loss_fn) -> dict[str, float]:
    """Mean loss and accuracy per example over a loader, in eval mode, recording no graph."""
    was_training = model.training
    model.eval()  # dropout off: evaluation must be deterministic
    total_loss, correct, seen = 0.0, 0.0, 0
    with no_grad():  # no graph: nothing here will be differentiated
        for x, y in loader:
            logits = model(x)
            n = len(y)
            total_loss += loss_fn(logits, y).item() * n  # a batch mean, weighted by its size
            correct += accuracy(logits, y) * n
            seen += n
    model.train(was_training)
    return {"loss": total_loss / seen, "accuracy": correct / seen}


class EarlyStopping:
    """Stop when the monitored value has not improved by min_delta for `patience` epochs."""

    def __init__(self, patience, min_delta=0.0, mode="min"):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', not {mode!r}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best: float | None = None
        self.num_bad_epochs = 0  # epochs since the last improvement (torch's name)

    def is_better(self, value: float, best: float | None) -> bool:
        if best is None:
            return True
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta

    def step(self, value: float) -> bool:
        """Record one epoch's value; True when training should stop."""
        if self.is_better(value, self.best):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        return self.num_bad_epochs >= self.patience


# --- the training loop -------------------------------------------------------------------
def fit(
    model,
    loss_fn,
    optimizer,
    train_loader,
    epochs,
    val_loader=None,
    scheduler=None,
    early_stopping=None,
    checkpoint=None,
) -> dict[str, list[float]]:
    """Train for `epochs` epochs; returns the history, one value per epoch for each metric."""
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "lr": []}
    if val_loader is not None:
        history.update(val_loss=[], val_accuracy=[])
    # What "best" means: the validation loss, or its accuracy when early stopping maximises;
    # without a validation set, the training loss.
    maximise = early_stopping is not None and early_stopping.mode == "max"
    watch = ("val_" if val_loader is not None else "") + ("accuracy" if maximise else "loss")
    best = None
    for epoch in range(epochs):
        model.train()
        history["lr"].append(optimizer.lr)  # the rate used for this epoch's steps
        total_loss, correct, seen = 0.0, 0.0, 0
        for x, y in train_loader:
            optimizer.zero_grad()  # gradients accumulate: clear last step's first
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            n = len(y)
            total_loss += loss.item() * n
            correct += accuracy(logits, y) * n
            seen += n
        history["loss"].append(total_loss / seen)
        history["accuracy"].append(correct / seen)
        if val_loader is not None:
            metrics = evaluate(model, val_loader, loss_fn)
            history["val_loss"].append(metrics["loss"])
            history["val_accuracy"].append(metrics["accuracy"])
        if scheduler is not None:
            scheduler.step()  # once per epoch, after the epoch's updates
        value = history[watch][-1]
        if best is None or (value > best if maximise else value < best):
            best = value
            if checkpoint is not None:  # keep the best model seen, not the last one
                save_checkpoint(checkpoint, model, optimizer, epoch=epoch, **{watch: value})
        if early_stopping is not None and early_stopping.step(value):
            break
    return history


# --- checkpoints -------------------------------------------------------------------------
def save_checkpoint(path, model, optimizer=None, **extra) -> None:
    """Save the model's (and optimizer's) state and extra numbers to one .npz file at path."""
    arrays = {FORMAT_KEY: np.array(1)}
    arrays.update({f"model/{k}": v for k, v in model.state_dict().items()})
    if optimizer is not None:
        for k, v in optimizer.state_dict().items():
            # arrays and Python numbers are kept apart, so each comes back as what it was
            kind = "optimizer" if isinstance(v, np.ndarray) else "optimizer_number"
            arrays[f"{kind}/{k}"] = np.asarray(v)
    arrays.update({f"extra/{k}": np.asarray(v) for k, v in extra.items()})
    for key, value in arrays.items():
        if value.dtype == object:  # would need pickle to save, and to load
            raise TypeError(f"save_checkpoint: {key} is not a number or a numeric array")
    # Write a temporary file, then rename: a crash mid-write never leaves a half checkpoint
    # where a good one was. (A file object also stops savez from appending ".npz" to path.)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def load_checkpoint(path, model, optimizer=None) -> dict:
    """Restore model (and optimizer) from a save_checkpoint file; returns the extras."""
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)  # never unpickle: a file must not run code
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with archive:
            stored = {key: archive[key] for key in archive.files}  # reads (and checks) all
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"{path} is not a readable minigrad checkpoint ({type(exc).__name__}: {exc}): "
            "truncated, corrupt, or not written by save_checkpoint"
        ) from exc
    if FORMAT_KEY not in stored:
        raise ValueError(
            f"{path} is an .npz archive but not a minigrad checkpoint (no {FORMAT_KEY!r} "
            f"entry; it holds {sorted(stored)[:5]})"
        )
    parts: dict[str, dict] = {"model": {}, "optimizer": {}, "optimizer_number": {}, "extra": {}}
    for key, value in stored.items():
        kind, _, name = key.partition("/")
        if kind in parts:
            parts[kind][name] = value
    model.load_state_dict(parts["model"])
    if optimizer is not None:
        if not parts["optimizer"] and not parts["optimizer_number"]:
            raise ValueError(f"{path} holds no optimizer state (saved without an optimizer)")
        numbers = {k: v.item() for k, v in parts["optimizer_number"].items()}
        optimizer.load_state_dict({**parts["optimizer"], **numbers})
    return {k: v.item() if v.ndim == 0 else v for k, v in parts["extra"].items()}
