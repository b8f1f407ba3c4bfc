"""Overfitting a wide network, and three ways to close the gap.

Implement with NumPy. A one-hidden-layer tanh network with far more weights than data
points, trained long enough on a few noisy samples of a curve, bends itself through
every sample: its training loss falls towards 0 while its loss on fresh samples of the
same curve (the validation loss) rises. The difference is the generalisation gap. Three
remedies, each a few lines: an L2 penalty on the weights (smaller weights, a smoother
function), dropout (random hidden units switched off in training, so no unit can
memorise a point on its own), and early stopping (keep the weights of the epoch with
the best validation loss).

The network: out = dropout(tanh(X @ W1 + b1)) @ W2 + b2, with params a dict of the
arrays "W1" (D, H), "b1" (H,), "W2" (H, C), "b2" (C,).
Run: pytest katas/02_training/test_overfitting.py
"""

import numpy as np


def forward(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    keep: np.ndarray | None = None,
    dropout: float = 0.0,
) -> np.ndarray:
    """The network's output, with inverted dropout on the hidden layer when keep is given.

    Math:
        h = tanh(X @ W1 + b1)
        training (keep given):  h = h * keep / (1 - dropout)   kept units scaled up, so the
                                                              expected activation is unchanged
        evaluation (keep None): h unchanged                   no dropout, no scaling
        out = h @ W2 + b2

    Shapes:
        X: (N, D); keep: (N, H) or None; returns (N, C).

    Args:
        params: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.
        X: a batch of N inputs, one per row.
        keep: True where a hidden unit is kept (for that example), False where dropped.
        dropout: p, the probability that a unit was dropped; keep was drawn with it.

    Returns:
        out (N, C), X's dtype.

    Numerics:
        Keep the dtype (float32 in, float32 out). keep is boolean: multiplying by it is fine.

    Reference:
        torch.nn.functional.dropout(torch.tanh(X @ W1 + b1), p, training) @ W2 + b2.
    """
    raise NotImplementedError


def loss_and_grads(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    l2: float = 0.0,
    dropout: float = 0.0,
    keep: np.ndarray | None = None,
) -> tuple[np.floating, dict[str, np.ndarray]]:
    """Mean squared error plus an L2 penalty on the weights, and its gradients.

    Math:
        loss = mean over all N * C entries of (out - y)^2 + l2 * (sum(W1^2) + sum(W2^2))
        d loss / d out = 2 (out - y) / (N * C);  the penalty adds 2 * l2 * W to dW1 and dW2
        The biases are not penalised. Backward through dropout: the same keep / (1 - p).
        Backward through tanh: dz = dh * (1 - tanh(z)^2).

    Shapes:
        X: (N, D); y: (N, C); keep: (N, H) or None; grads: one array per param, its shape.

    Args:
        params: {"W1", "b1", "W2", "b2"} as in forward.
        X, y: inputs and targets.
        l2: the penalty's strength (0: none).
        dropout, keep: as in forward (keep None: no dropout).

    Returns:
        loss: a NumPy float of X's dtype.
        grads: {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, each of X's dtype.

    Numerics:
        Mean over every entry of out, not a sum, and not a mean over the rows only.

    Reference:
        ((out - y) ** 2).mean() + l2 * (W1.pow(2).sum() + W2.pow(2).sum()), then .backward().
    """
    raise NotImplementedError


def train(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    epochs: int,
    lr: float,
    momentum: float = 0.9,
    l2: float = 0.0,
    dropout: float = 0.0,
    early_stopping_patience: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict:
    """Full-batch gradient descent with momentum, recording the train and validation losses.

    Math:
        Start from params (left unmodified) and velocities v = 0. For each epoch e:
        1. keep = rng.random((N, H)) >= dropout    one draw per epoch, only when dropout > 0
        2. loss, g = loss_and_grads(params, X, y, l2=l2, dropout=dropout, keep=keep)
        3. for every param: v = momentum * v + g;  param = param - lr * v
        4. train_loss[e] = mean((forward(params, X) - y)^2)           evaluation mode:
           val_loss[e] = mean((forward(params, X_val) - y_val)^2)     no dropout, no penalty
        5. with early_stopping_patience = P: when val_loss[e] is below the best so far,
           remember these params and e; otherwise, after P epochs in a row without a new
           best, stop.

    Shapes:
        X: (N, D); y: (N, C); X_val: (M, D); y_val: (M, C).

    Args:
        params: the initial {"W1", "b1", "W2", "b2"}; H = W1.shape[1].
        X, y: the training set; X_val, y_val: the validation set (never trained on).
        epochs: the most epochs to run.
        lr, momentum: the optimiser's settings (torch.optim.SGD's, dampening 0).
        l2, dropout: the regularisers (0: off).
        early_stopping_patience: None trains all epochs; P stops as step 5 says.
        rng: where the dropout masks come from (needed only when dropout > 0).

    Returns:
        {"train_loss": (E,) array, "val_loss": (E,) array, one entry per epoch run,
         "params": the final params, or with early stopping the params of the best epoch,
         "best_epoch": the epoch whose params are returned (E - 1 without early stopping)}.

    Numerics:
        Store copies: params updated in place later would change the best ones you kept.

    Reference:
        torch.optim.SGD(params, lr=lr, momentum=momentum), a loop over epochs, and
        torch.no_grad() for the evaluation.
    """
    raise NotImplementedError
