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

import math  # noqa: F401 - math.ceil, for len(loader)
import os  # noqa: F401 - os.replace, for an atomic save
import zipfile  # noqa: F401 - zipfile.BadZipFile: what np.load raises on a truncated file
from pathlib import Path  # noqa: F401

import numpy as np

from .tensor import Tensor, no_grad  # noqa: F401 - batches are Tensors; evaluate under no_grad

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
    """Arrays that share their first axis: example i is (a[i] for a in arrays).

    Math: ds[i] = (a_1[i], a_2[i], ...).
    Shapes: each array (N, ...), the same N; ds[idx] with an index array idx (B,) gives the
        whole batch at once: (a_1[idx] (B, ...), a_2[idx] (B, ...), ...).
    Args:
        *arrays: ndarrays (or Tensors: keep their .data) with the same first dimension;
            different lengths are a ValueError that shows the shapes.
    Returns: len(ds) = N; ds[index] = a tuple with each array indexed by index.
    Numerics: keep the arrays' dtypes (float32 images stay float32, int64 labels int64).
    Reference: torch.utils.data.TensorDataset.
    """

    def __init__(self, *arrays):
        """Keep the arrays (as ndarrays) in self.arrays; check they have the same length."""
        raise NotImplementedError

    def __len__(self) -> int:
        """N, the number of examples."""
        raise NotImplementedError

    def __getitem__(self, index):
        """A tuple: every array indexed by index (an int, or an index array for a batch)."""
        raise NotImplementedError


class DataLoader:
    """Minibatches of a dataset, as tuples of Tensors; a new order each epoch if shuffled.

    Math: an epoch visits order = rng.permutation(N) (shuffle) or 0, 1, ..., N-1, cut into
        consecutive chunks of batch_size; every example exactly once (drop_last=False) or
        only the full chunks (drop_last=True: the last N % batch_size examples are skipped).
    Shapes: each batch is (x (B, ...), y (B,), ...) with B = batch_size, and the last batch
        B = N % batch_size when it is partial and kept.
    Args:
        dataset: a TensorDataset (index it with the batch's index array: one copy per
            array) or any Dataset (stack its examples field by field, like torch's
            default_collate).
        batch_size, shuffle, drop_last: as torch's DataLoader.
        rng: np.random.Generator; call rng.permutation(N) once at the start of every epoch
            (every iter(loader)), never store one order for all epochs.
    Returns: iter(loader) yields tuples of Tensors; len(loader) = N // batch_size with
        drop_last, ceil(N / batch_size) without.
    Numerics: batches keep the dataset's dtypes; the dataset's arrays are never modified.
    Reference: torch.utils.data.DataLoader (a RandomSampler or SequentialSampler feeding a
        BatchSampler).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, rng=None):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = np.random.default_rng() if rng is None else rng

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        raise NotImplementedError

    def __iter__(self):
        """One epoch: draw this epoch's order, then yield one tuple of Tensors per batch."""
        raise NotImplementedError

    def _fetch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """The batch's arrays for the example indices idx (B,)."""
        raise NotImplementedError


# --- measuring ---------------------------------------------------------------------------
def accuracy(logits, target) -> float:
    """The fraction of rows whose largest logit is at the target class.

    Math: mean_n [argmax_c logits[n, c] == target[n]].
    Shapes: logits (N, C), target (N,) class ids.
    Args:
        logits: a Tensor or ndarray of scores.
        target: a Tensor or ndarray of integer class ids.
    Returns: a Python float in [0, 1].
    Numerics: on a tie the first largest logit wins (np.argmax, like torch.argmax).
    Reference: (logits.argmax(dim=1) == target).float().mean() in torch.
    """
    raise NotImplementedError


def evaluate(model, loader, loss_fn) -> dict[str, float]:
    """Mean loss and accuracy per example over a loader, in eval mode, recording no graph.

    Math: loss = sum over batches of (batch mean loss x B) / N; the same for accuracy (a
        plain mean of batch means is wrong when the last batch is smaller).
    Shapes: the loader yields (x, y); model(x) -> logits (B, C); loss_fn(logits, y) -> a
        one-element Tensor, the batch's mean loss.
    Args:
        model: a Module; put it in eval mode (dropout off) and afterwards back in the mode
            it was in.
        loader: a DataLoader.
        loss_fn: e.g. functional.cross_entropy.
    Returns: {"loss": float, "accuracy": float}.
    Numerics: run under no_grad(): evaluation builds no graph (no memory, no grad_fn).
    Reference: the evaluation loop of torch's MNIST example (model.eval(), torch.no_grad()).
    """
    raise NotImplementedError


class EarlyStopping:
    """Stop when the monitored value has not improved by min_delta for `patience` epochs.

    Math: with mode="min", value improves when value < best - min_delta (with "max", when
        value > best + min_delta); the first value always improves. An improvement sets
        best = value and num_bad_epochs = 0; anything else adds one to num_bad_epochs.
        Stop when num_bad_epochs >= patience.
    Shapes: one number per epoch.
    Args:
        patience: how many epochs without improvement to tolerate.
        min_delta: how much better a value must be to count as an improvement.
        mode: "min" for a loss, "max" for an accuracy.
    Returns: step(value) -> True when training should stop; .best and .num_bad_epochs
        hold the state (torch's names).
    Numerics: compare with the margin min_delta, never with ==.
    Reference: torch.optim.lr_scheduler.ReduceLROnPlateau(threshold_mode="abs") counts bad
        epochs the same way; keras.callbacks.EarlyStopping.
    """

    def __init__(self, patience, min_delta=0.0, mode="min"):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', not {mode!r}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best: float | None = None
        self.num_bad_epochs = 0  # epochs since the last improvement (torch's name)

    def is_better(self, value: float, best: float | None) -> bool:
        """Whether value improves on best (always, when there is no best yet)."""
        raise NotImplementedError

    def step(self, value: float) -> bool:
        """Record one epoch's value; True when training should stop."""
        raise NotImplementedError


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
    """Train for `epochs` epochs; returns the history, one value per epoch for each metric.

    Math: each batch: optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward();
        optimizer.step(). After each epoch: evaluate on val_loader, scheduler.step(), then
        the watched value (val_loss; val_accuracy when early_stopping.mode == "max"; the
        training loss without a val_loader) decides the checkpoint and early stopping.
    Shapes: the loaders yield (x, y); model(x) -> logits (B, C).
    Args:
        model, loss_fn, optimizer: a Module, e.g. functional.cross_entropy, an Optimizer.
        train_loader, epochs: the batches of one epoch, and how many epochs at most.
        val_loader: optional; measured with evaluate() after every epoch.
        scheduler: optional; stepped once per epoch, after the epoch.
        early_stopping: optional EarlyStopping; stop after the epoch where step() says so.
        checkpoint: optional path; whenever the watched value is the best so far, call
            save_checkpoint(checkpoint, model, optimizer, epoch=epoch, <watched>=value).
    Returns: history: {"loss", "accuracy", "lr"} (+ "val_loss", "val_accuracy" with a
        val_loader), each a list with one float per epoch run: loss and accuracy per
        example over the epoch's batches, lr the rate the epoch's steps used.
    Numerics: model.train() at the start of every epoch (evaluate switched it off).
    Reference: the training loop of torch's MNIST example; keras' Model.fit history.
    """
    raise NotImplementedError


# --- checkpoints -------------------------------------------------------------------------
def save_checkpoint(path, model, optimizer=None, **extra) -> None:
    """Save the model's (and optimizer's) state and extra numbers to one .npz file at path.

    Math: none; one archive of named arrays: FORMAT_KEY -> np.array(1) (marks the file as
        a minigrad checkpoint), "model/<name>" for each state_dict entry,
        "optimizer/<key>" for the optimizer's arrays and "optimizer_number/<key>" for its
        Python numbers (so load can turn them back into numbers), "extra/<key>" for extra.
    Shapes: each array as it is.
    Args:
        path: where to write, exactly (np.savez appends ".npz" to a name without it, unless
            you hand it an open file).
        model: a Module (state_dict()); optimizer: an Optimizer (state_dict()) or None.
        **extra: numbers, strings or arrays to keep alongside (epoch=3, val_loss=0.1).
    Returns: None.
    Numerics: never pickle: refuse a value whose array has dtype object. Write to a
        temporary file and os.replace it onto path, so a crash never leaves half a file.
    Reference: torch.save(state_dict) and numpy.savez.
    """
    raise NotImplementedError


def load_checkpoint(path, model, optimizer=None) -> dict:
    """Restore model (and optimizer) from a save_checkpoint file; returns the extras.

    Math: the inverse of save_checkpoint.
    Shapes: each array as saved; model.load_state_dict checks them against the model.
    Args:
        path: a file written by save_checkpoint.
        model: loaded in place (strict: missing or unexpected names are an error).
        optimizer: loaded in place when given (a ValueError if the file holds none).
    Returns: the extras as a dict: 0-d arrays back to Python numbers (.item()).
    Numerics: np.load(path, allow_pickle=False), and read every entry before changing the
        model; a truncated, corrupt or foreign file (or a .npy, or an .npz without
        FORMAT_KEY) is a ValueError naming the path and what is wrong. A missing file
        stays a FileNotFoundError.
    Reference: torch.load(weights_only=True) and model.load_state_dict.
    """
    raise NotImplementedError
