"""The perceptron learning rule, and the XOR it cannot learn.

Implement with NumPy. A perceptron is one linear unit with a step output: it
predicts sign(w.x + b) and learns by nudging (w, b) towards every example it gets
wrong. On linearly separable data it provably stops making mistakes; on XOR it
never does, and a network with one hidden layer fixes that.
Run: pytest katas/01_fundamentals/test_perceptron.py
"""

import numpy as np


def perceptron_step(
    w: np.ndarray, b: float, x: np.ndarray, y: int, lr: float = 1.0
) -> tuple[np.ndarray, float]:
    """One perceptron update on one example; returns the new (w, b).

    Math:
        score = w . x + b
        if y * score <= 0:   (wrong, or exactly on the boundary)
            w_new = w + lr * y * x
            b_new = b + lr * y
        else:                (right: nothing to learn)
            w_new, b_new = w, b

    Shapes:
        w, x: (D,); b, y: scalars.

    Args:
        w: the weights.
        b: the bias, a scalar (Python float or NumPy scalar).
        x: one example.
        y: its label, -1 or +1.
        lr: the learning rate (the step size; any lr > 0 learns the same boundary
            when training starts from w = 0, b = 0).

    Returns:
        (w_new, b_new): w_new is a NEW array (w itself is never modified, even when
        nothing changes); b_new is a scalar.

    Numerics:
        The test is "<= 0", not "< 0": a score of exactly 0 is a mistake. From
        w = 0, b = 0 every example scores 0, so with "< 0" the perceptron would
        never make its first update. Keep w's dtype.

    Reference:
        Rosenblatt (1958); torch has no perceptron, so the oracle is a short torch
        loop (reference/oracles/perceptron.py).
    """
    raise NotImplementedError


def train_perceptron(
    X: np.ndarray, y: np.ndarray, epochs: int, lr: float = 1.0
) -> tuple[np.ndarray, float, np.ndarray]:
    """Train a perceptron from w = 0, b = 0; count its mistakes in every epoch.

    Math:
        w = 0, b = 0
        for each epoch:
            for i = 0, 1, ..., N-1 (in the given order, no shuffling):
                if y_i * (w . x_i + b) <= 0: a mistake; update as perceptron_step does

    Shapes:
        X: (N, D); y: (N,) of -1/+1; returns w: (D,), b: scalar, mistakes: (epochs,).

    Args:
        X: the examples, one per row.
        y: their labels, -1 or +1 (any integer or float dtype).
        epochs: how many passes over the data (run them all: no early stop).
        lr: the learning rate.

    Returns:
        w: the final weights, X's dtype.
        b: the final bias, a scalar.
        mistakes: np.int64 array; mistakes[e] = how many examples epoch e got wrong
            (and so updated on). An epoch with 0 mistakes means the data is separated.

    Numerics:
        Labels often arrive as int64: mixing an int64 scalar into float32 arrays
        promotes them to float64. Cast once (y = y.astype(X.dtype)) to keep X's dtype.

    Reference:
        Rosenblatt (1958); Novikoff (1962): on data separable with margin gamma
        inside a ball of radius R, at most (R / gamma)^2 mistakes in total.
    """
    raise NotImplementedError


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """The perceptron's labels for a batch: +1 where w.x + b > 0, else -1.

    Math:
        predict(x) = +1 if w . x + b > 0 else -1   (a score of exactly 0 gives -1)

    Shapes:
        X: (N, D); w: (D,); returns (N,).

    Args:
        X: the examples, one per row.
        w, b: the perceptron's weights and bias.

    Returns:
        An np.int64 array of -1 and +1 (never 0).

    Numerics:
        np.sign returns 0 for a score of 0: not a label.

    Reference:
        torch.where(X @ w + b > 0, 1, -1)
    """
    raise NotImplementedError


def xor_mlp_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hand-set weights of a 2-layer ReLU network that computes XOR.

    Math:
        h = relu(x @ W1 + b1);  out = h @ W2 + b2;  label = +1 if out > 0 else -1
        XOR: (0,0) -> -1, (0,1) -> +1, (1,0) -> +1, (1,1) -> -1.
        Each hidden unit draws one line; the output combines the two half-planes.

    Shapes:
        W1: (2, H); b1: (H,); W2: (H, 1); b2: (1,). H = 2 is enough.

    Args:
        None: choose the numbers yourself (no training).

    Returns:
        (W1, b1, W2, b2), float64 arrays.

    Numerics:
        Leave a margin: every point within 0.1 of a corner (in each coordinate)
        must get that corner's label, so out must not sit exactly on 0 at a corner.

    Reference:
        nn.Sequential(nn.Linear(2, H), nn.ReLU(), nn.Linear(H, 1)) with these weights
        (nn.Linear stores weight as (out, in): W1 here is its weight transposed).
    """
    raise NotImplementedError
