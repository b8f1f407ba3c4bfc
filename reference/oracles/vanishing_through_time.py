"""Oracle for 04_rnn/vanishing_through_time: nn.RNN / nn.LSTM and autograd in float64."""

from __future__ import annotations

import numpy as np
import torch

from reference.oracles import numpy, tensor


def init(cell: str, D: int, H: int, seed: int, forget_bias: float | None = 1.0) -> dict:
    """torch's default init (uniform(-1/sqrt(H), 1/sqrt(H)), seeded); for an LSTM the
    forget gate's total bias b_ih + b_hh set to forget_bias (None: leave torch's)."""
    torch.manual_seed(seed)
    m = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(D, H, dtype=torch.float64)
    p = {k: numpy(getattr(m, w + "_l0")).copy()
         for k, w in (("W_ih", "weight_ih"), ("W_hh", "weight_hh"), ("b_ih", "bias_ih"),
                      ("b_hh", "bias_hh"))}  # fmt: skip
    if cell == "lstm" and forget_bias is not None:
        p["b_ih"][H : 2 * H], p["b_hh"][H : 2 * H] = forget_bias, 0.0
    return p


def grads(cell: str, params: dict, xs, loss_step: int | None = -1) -> np.ndarray:
    """d(sum of h at step loss_step)/d xs, (T, N, D), from nn.RNN(tanh) / nn.LSTM.
    loss_step None: the loss sums h over every step."""
    T, N, D = xs.shape
    H = params["W_hh"].shape[1]
    m = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(D, H, dtype=torch.float64)
    with torch.no_grad():
        for k, w in (("W_ih", "weight_ih"), ("W_hh", "weight_hh"), ("b_ih", "bias_ih"),
                     ("b_hh", "bias_hh")):  # fmt: skip
            getattr(m, w + "_l0").copy_(tensor(params[k]))
    txs = tensor(xs, grad=True)
    hs, _ = m(txs)
    loss = hs.sum() if loss_step is None else hs[loss_step].sum()
    (g,) = torch.autograd.grad(loss, txs)
    return numpy(g)


def norms(cell: str, params: dict, xs, loss_step: int | None = -1) -> np.ndarray:
    """||dL/dx_t|| over the batch and the features, one per step t."""
    g = grads(cell, params, xs, loss_step)
    return np.sqrt((g**2).sum(axis=(1, 2)))


def slips(cell: str, params: dict, xs) -> dict:
    """What known slips return (functions: computed only when the learner's answer is wrong)."""
    g = lambda: grads(cell, params, xs)  # noqa: E731
    return {
        "the loss at the first step, not the last": lambda: norms(cell, params, xs, 0),
        "the loss sums h over every step, not only the last":
            lambda: norms(cell, params, xs, None),
        "the steps in reverse order (norms[T - 1 - t] for step t)":
            lambda: norms(cell, params, xs)[::-1],
        "the norm over the features only, then summed over the batch":
            lambda: np.sqrt((g() ** 2).sum(axis=2)).sum(axis=1),
        "the sum of the gradient, not its norm": lambda: g().sum(axis=(1, 2)),
        "the squared norm (no square root)": lambda: (g() ** 2).sum(axis=(1, 2)),
        "the largest absolute entry, not the 2-norm": lambda: np.abs(g()).max(axis=(1, 2)),
    }  # fmt: skip
