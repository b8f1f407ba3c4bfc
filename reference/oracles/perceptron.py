"""Oracle for 01_fundamentals/perceptron: the perceptron rule as a short torch loop.

torch has no perceptron, so this is the same rule written once more in torch
(float64). The tests pair it with properties that do not depend on it: the
Novikoff mistake bound on separable data, and no convergence on XOR.
"""

from __future__ import annotations

import numpy as np
import torch

from reference.oracles import numpy, tensor


def perceptron_step(w, b, x, y, lr=1.0) -> tuple[np.ndarray, np.ndarray]:
    w, x, b = tensor(w), tensor(x), torch.tensor(float(b), dtype=torch.float64)
    if y * (torch.dot(w, x) + b) <= 0:
        w, b = w + lr * y * x, b + lr * y
    return numpy(w), numpy(b)


def train_perceptron(X, y, epochs, lr=1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Final w, b (float64) and mistakes per epoch (int64), examples in the given order."""
    X, y = tensor(X), tensor(y).to(torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    b = torch.zeros((), dtype=torch.float64)
    mistakes = torch.zeros(epochs, dtype=torch.int64)
    for epoch in range(epochs):
        for x_i, y_i in zip(X, y):
            if y_i * (torch.dot(w, x_i) + b) <= 0:
                w, b = w + lr * y_i * x_i, b + lr * y_i
                mistakes[epoch] += 1
    return numpy(w), numpy(b), numpy(mistakes)


def predict(X, w, b) -> np.ndarray:
    return numpy(torch.where(tensor(X) @ tensor(w) + float(b) > 0, 1, -1))
