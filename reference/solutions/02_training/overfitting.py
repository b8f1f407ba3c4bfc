"""Overfitting a wide network, and three ways to close the gap.

out = dropout(tanh(X @ W1 + b1)) @ W2 + b2, trained by full-batch gradient descent with
momentum; L2, (inverted) dropout and early stopping as the remedies. References:
Goodfellow, Bengio, Courville, Deep Learning, chapter 7 (7.1 parameter norm penalties,
7.8 early stopping, 7.12 dropout); Srivastava et al. 2014, "Dropout: a simple way to
prevent neural networks from overfitting"; CS231n notes, "Neural Networks Part 2".
"""

import numpy as np


def _hidden(params, X, keep, dropout):
    """tanh activations (N, H), and what the output layer sees after dropout."""
    h = np.tanh(X @ params["W1"] + params["b1"])  # (N, D) @ (D, H) -> (N, H)
    if keep is None:
        return h, h  # evaluation: every unit, unscaled
    # Inverted dropout: scale the kept units by 1 / (1 - p) in training, so that the
    # expected activation matches evaluation, where nothing is dropped or scaled.
    return h, h * keep / (1 - dropout)


def forward(params, X, keep=None, dropout=0.0):
    """The network's output, with inverted dropout on the hidden layer when keep is given."""
    _, h_drop = _hidden(params, X, keep, dropout)
    return h_drop @ params["W2"] + params["b2"]  # (N, H) @ (H, C) -> (N, C)


def loss_and_grads(params, X, y, *, l2=0.0, dropout=0.0, keep=None):
    """Mean squared error plus an L2 penalty on the weights, and its gradients."""
    W1, W2 = params["W1"], params["W2"]
    h, h_drop = _hidden(params, X, keep, dropout)
    out = h_drop @ W2 + params["b2"]  # (N, C)
    diff = out - y
    loss = np.mean(diff**2) + l2 * (np.sum(W1**2) + np.sum(W2**2))

    dout = 2 * diff / diff.size  # the mean runs over all N * C entries
    dW2 = h_drop.T @ dout + 2 * l2 * W2  # d/dW of l2 * W^2 is 2 * l2 * W
    db2 = dout.sum(axis=0)
    dh = dout @ W2.T  # (N, H)
    if keep is not None:
        dh = dh * keep / (1 - dropout)  # a dropped unit passes no gradient back
    dz = dh * (1 - h**2)  # tanh'(z) = 1 - tanh(z)^2
    dW1 = X.T @ dz + 2 * l2 * W1
    db1 = dz.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def train(
    params,
    X,
    y,
    X_val,
    y_val,
    *,
    epochs,
    lr,
    momentum=0.9,
    l2=0.0,
    dropout=0.0,
    early_stopping_patience=None,
    rng=None,
):
    """Full-batch gradient descent with momentum, recording the train and validation losses."""
    params = {k: v.copy() for k, v in params.items()}  # the caller's arrays stay as they were
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    N, H = X.shape[0], params["W1"].shape[1]
    train_loss, val_loss = [], []
    best_val, best_params, best_epoch, waited = np.inf, params, 0, 0
    for epoch in range(epochs):
        keep = rng.random((N, H)) >= dropout if dropout > 0 else None  # a fresh mask each epoch
        _, grads = loss_and_grads(params, X, y, l2=l2, dropout=dropout, keep=keep)
        for k in params:
            velocity[k] = momentum * velocity[k] + grads[k]
            params[k] = params[k] - lr * velocity[k]  # a new array: a kept best stays intact
        # Evaluation mode: no dropout and no penalty, only how well the network fits.
        train_loss.append(np.mean((forward(params, X) - y) ** 2))
        val_loss.append(np.mean((forward(params, X_val) - y_val) ** 2))
        if early_stopping_patience is None:
            continue
        if val_loss[-1] < best_val:
            best_val, best_params, best_epoch, waited = val_loss[-1], dict(params), epoch, 0
        else:
            waited += 1
            if waited >= early_stopping_patience:
                break  # no new best for `patience` epochs in a row: it has started to overfit
    if early_stopping_patience is None:  # no early stopping: keep the final params
        best_params, best_epoch = params, len(val_loss) - 1
    return {
        "train_loss": np.array(train_loss),
        "val_loss": np.array(val_loss),
        "params": best_params,
        "best_epoch": best_epoch,
    }
