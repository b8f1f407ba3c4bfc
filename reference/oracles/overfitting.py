"""Oracle for 02_training/overfitting: the network, its loss and gradients, and training, in torch.

Gradients come from autograd on the penalised loss; training is torch.optim.SGD with
momentum, evaluation under torch.no_grad(). Dropout masks: F.dropout's own for the
forward test; for training, the masks train() must draw, rng.random((N, H)) >= p each
epoch, applied as torch's dropout applies its own (kept units times 1 / (1 - p)).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor

KEYS = ("W1", "b1", "W2", "b2")


def _params(params, grad=False) -> dict[str, torch.Tensor]:
    return {k: tensor(params[k], grad=grad) for k in KEYS}


def _net(P, X, keep=None, dropout=0.0):
    h = torch.tanh(X @ P["W1"] + P["b1"])
    if keep is not None:
        h = h * keep / (1 - dropout)  # what F.dropout does with its own mask
    return h @ P["W2"] + P["b2"]


def _loss(P, X, y, l2, keep=None, dropout=0.0):
    out = _net(P, X, keep, dropout)
    return F.mse_loss(out, y) + l2 * (P["W1"].pow(2).sum() + P["W2"].pow(2).sum())


def forward(params, X, keep=None, dropout=0.0) -> np.ndarray:
    keep = None if keep is None else tensor(keep)
    with torch.no_grad():
        return numpy(_net(_params(params), tensor(X), keep, dropout))


def forward_torch_dropout(params, X, dropout, seed) -> tuple[np.ndarray, np.ndarray]:
    """torch's output with F.dropout (training) on the hidden layer, and the keep mask it used."""
    P, X = _params(params), tensor(X)
    with torch.no_grad():
        h = torch.tanh(X @ P["W1"] + P["b1"])
        torch.manual_seed(seed)
        kept = F.dropout(torch.ones_like(h), dropout, training=True) != 0
        torch.manual_seed(seed)  # the same seed and shape: the same mask again
        out = F.dropout(h, dropout, training=True) @ P["W2"] + P["b2"]
    return numpy(out), numpy(kept).astype(bool)


def loss_and_grads(params, X, y, l2=0.0, dropout=0.0, keep=None):
    P = _params(params, grad=True)
    keep = None if keep is None else tensor(keep)
    loss = _loss(P, tensor(X), tensor(y), l2, keep, dropout)
    loss.backward()
    return numpy(loss), {k: numpy(P[k].grad) for k in KEYS}


def train(params, X, y, X_val, y_val, *, epochs, lr, momentum=0.9, l2=0.0, dropout=0.0,
          early_stopping_patience=None, seed=None, slip=None):  # fmt: skip
    """What train() must return, computed with torch.optim.SGD; also "final_params".

    seed: the seed of the rng the dropout masks come from. slip reproduces a learner's
    mistake, for messages: "step-loss" (train_loss recorded from the training step: before
    the update, with dropout and penalty), "eval-dropout" (train_loss evaluated with the
    epoch's dropout mask), "mask-once" (one dropout mask drawn before the loop).
    """
    P = _params(params, grad=True)
    X, y, X_val, y_val = map(tensor, (X, y, X_val, y_val))
    opt = torch.optim.SGD(P.values(), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    N, H = X.shape[0], P["W1"].shape[1]
    train_loss, val_loss, best, best_epoch, best_val, waited = [], [], None, 0, np.inf, 0
    keep = tensor(rng.random((N, H)) >= dropout) if dropout > 0 and slip == "mask-once" else None
    for epoch in range(epochs):
        if dropout > 0 and slip != "mask-once":
            keep = tensor(rng.random((N, H)) >= dropout)
        opt.zero_grad()
        loss = _loss(P, X, y, l2, keep, dropout)
        loss.backward()
        opt.step()
        with torch.no_grad():
            tr = F.mse_loss(_net(P, X, keep if slip == "eval-dropout" else None, dropout), y)
            train_loss.append(loss.item() if slip == "step-loss" else tr.item())
            val_loss.append(F.mse_loss(_net(P, X_val), y_val).item())
        if early_stopping_patience is None:
            continue
        if val_loss[-1] < best_val:
            best_val, best, best_epoch, waited = (
                val_loss[-1],
                {k: numpy(P[k]) for k in KEYS},
                epoch,
                0,
            )
        else:
            waited += 1
            if waited >= early_stopping_patience:
                break
    final = {k: numpy(P[k]) for k in KEYS}
    if early_stopping_patience is None:
        best, best_epoch = final, len(val_loss) - 1
    return {"train_loss": np.array(train_loss), "val_loss": np.array(val_loss), "params": best,
            "best_epoch": best_epoch, "final_params": final}  # fmt: skip
