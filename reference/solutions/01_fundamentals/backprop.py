"""Backpropagation by hand: the loss and every gradient of a two-layer network.

The forward pass keeps z, h and the softmax probabilities; the backward pass walks
the same steps in reverse, one chain-rule product per step. References: CS231n
"Backprop, Intuitions" and assignment 1's two_layer_net; Karpathy, "Yes you should
understand backprop".
"""

import numpy as np


def two_layer_net(X, y, W1, b1, W2, b2, reg=0.0):
    """Softmax cross-entropy loss of a ReLU two-layer net and its gradients."""
    N = X.shape[0]
    rows = np.arange(N)

    # Forward pass, keeping what the backward pass needs.
    z = X @ W1 + b1  # (N, H)
    h = np.maximum(z, 0)  # (N, H)
    scores = h @ W2 + b2  # (N, C)
    # Softmax is unchanged by a per-row shift; subtracting the max keeps exp <= 1.
    shifted = scores - scores.max(axis=1, keepdims=True)  # (N, C)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    data_loss = -log_probs[rows, y].mean()
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = data_loss + reg_loss

    # Backward pass: d loss / d scores = (softmax - onehot(y)) / N, averaged over the batch.
    dscores = np.exp(log_probs)  # (N, C), the probabilities
    dscores[rows, y] -= 1
    dscores /= N
    dW2 = h.T @ dscores + reg * W2  # (H, N) @ (N, C) -> (H, C)
    db2 = dscores.sum(axis=0)  # (C,): b2 was added to every row
    dh = dscores @ W2.T  # (N, C) @ (C, H) -> (N, H)
    dz = dh * (z > 0)  # ReLU passes gradient only where it was active; relu'(0) = 0
    dW1 = X.T @ dz + reg * W1  # (D, N) @ (N, H) -> (D, H)
    db1 = dz.sum(axis=0)  # (H,)

    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
