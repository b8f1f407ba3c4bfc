"""The perceptron learning rule, and the XOR it cannot learn.

References: Rosenblatt (1958), "The perceptron"; Novikoff (1962), the convergence
proof; Minsky & Papert (1969), "Perceptrons" (XOR is not linearly separable).
"""

import numpy as np


def perceptron_step(w, b, x, y, lr=1.0):
    """One perceptron update on one example; returns the new (w, b)."""
    # "<= 0": a score of exactly 0 is a mistake. From w = 0, b = 0 every example scores 0,
    # and with "< 0" the very first update would never happen.
    if y * (x @ w + b) <= 0:
        # Move the boundary towards classifying x as y: afterwards y * score grows by
        # lr * (|x|^2 + 1).
        return w + lr * y * x, b + lr * y
    return w.copy(), b  # a new array even when nothing changes


def train_perceptron(X, y, epochs, lr=1.0):
    """Train a perceptron from w = 0, b = 0; count its mistakes in every epoch."""
    N, D = X.shape
    y = y.astype(X.dtype)  # int64 labels would promote float32 weights to float64
    w = np.zeros(D, dtype=X.dtype)
    b = X.dtype.type(0)
    mistakes = np.zeros(epochs, dtype=np.int64)
    for epoch in range(epochs):
        # The rule is online: one example at a time, in order, each update seen by the next.
        for i in range(N):
            if y[i] * (X[i] @ w + b) <= 0:
                mistakes[epoch] += 1
                w, b = perceptron_step(w, b, X[i], y[i], lr)
    return w, b, mistakes


def predict(X, w, b):
    """The perceptron's labels for a batch: +1 where w.x + b > 0, else -1."""
    scores = X @ w + b  # (N, D) @ (D,) -> (N,)
    return np.where(scores > 0, 1, -1).astype(np.int64)


def xor_mlp_weights():
    """Hand-set weights of a 2-layer ReLU network that computes XOR."""
    # Both hidden units look at s = x1 + x2, which is 0, 1, 1, 2 on the four corners.
    # Unit 1 is s itself; unit 2 switches on only past s = 1, i.e. when both inputs are on.
    W1 = np.array([[1.0, 1.0], [1.0, 1.0]])  # (2, H=2)
    b1 = np.array([0.0, -1.0])
    # out = s - 2 * relu(s - 1) - 0.5: -0.5, +0.5, +0.5, -0.5. The -0.5 keeps a margin.
    W2 = np.array([[1.0], [-2.0]])  # (H, 1)
    b2 = np.array([-0.5])
    return W1, b1, W2, b2
