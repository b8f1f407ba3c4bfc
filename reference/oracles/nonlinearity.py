"""Oracle for 01_fundamentals/nonlinearity and approximation: linear stacks, and a
two-layer network's MSE, gradients (torch.autograd) and SGD step, in float64.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reference.oracles import forward, numpy, tensor

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "identity": lambda z: z,
    # Known mistakes, for messages: the same values, wrong derivatives.
    "relu_ge0": lambda z: torch.where(z >= 0, z, torch.zeros_like(z)),  # relu'(0) = 1
    "tanh_no_derivative": lambda z: z + (torch.tanh(z) - z).detach(),  # tanh' taken as 1
}
PARAMS = ("W1", "b1", "W2", "b2")


def stack_forward(X, weights, biases) -> np.ndarray:
    """torch's nn.Sequential of nn.Linear layers (no activations) applied to X."""
    linears = [m for m in forward.build(weights, biases, "relu") if isinstance(m, nn.Linear)]
    with torch.no_grad():
        return numpy(nn.Sequential(*linears)(tensor(X)))


def _out(p, X, activation) -> torch.Tensor:
    return ACTIVATIONS[activation](tensor(X) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def net_forward(params, X, activation) -> np.ndarray:
    """out = act(X @ W1 + b1) @ W2 + b2, (N, 1)."""
    return numpy(_out({k: tensor(params[k]) for k in PARAMS}, X, activation))


def loss_and_grads(params, X, t, activation) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """F.mse_loss of the 2-H-1 network and every parameter's .grad after backward()."""
    p = {k: tensor(params[k], grad=True) for k in PARAMS}
    loss = F.mse_loss(_out(p, X, activation), tensor(t))
    loss.backward()
    return numpy(loss), {k: numpy(p[k].grad) for k in PARAMS}


def sgd_step(params, X, t, activation, lr) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One plain SGD step: the loss before it and the parameters after it.

    This is torch.optim.SGD(lr=lr).step() without momentum, written out: constructing the
    first torch.optim optimizer in a process imports torch._dynamo (about 1 s).
    """
    p = {k: tensor(params[k], grad=True) for k in PARAMS}
    loss = F.mse_loss(_out(p, X, activation), tensor(t))
    loss.backward()
    with torch.no_grad():
        return numpy(loss), {k: numpy(v - lr * v.grad) for k, v in p.items()}
