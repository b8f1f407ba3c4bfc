"""Oracle for 02_training/gradient_flow: autograd on an nn.Sequential, torch's clipping."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reference.oracles import forward, numpy, tensor


def layer_gradients(X, y, weights, biases, activation, loss):
    """(dWs, dbs) from loss.backward() through forward.build's nn.Sequential, (in, out) layout."""
    model = forward.build(weights, biases, activation)
    out = model(tensor(X))
    if loss == "mse":
        value = F.mse_loss(out, tensor(y))
    else:
        value = F.cross_entropy(out, tensor(y))
    value.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    dWs = [numpy(m.weight.grad).T for m in linears]  # nn.Linear keeps (out, in)
    dbs = [numpy(m.bias.grad) for m in linears]
    return dWs, dbs


def layer_grad_norms(X, y, weights, biases, activation, loss) -> np.ndarray:
    dWs, _ = layer_gradients(X, y, weights, biases, activation, loss)
    return np.array([float(torch.linalg.vector_norm(tensor(g))) for g in dWs])


def clip_grad_norm(grads, max_norm, norm_type) -> tuple[float, list[np.ndarray]]:
    """torch.nn.utils.clip_grad_norm_ on float64 copies: (total norm before, clipped grads)."""
    params = [nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = tensor(g)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return float(total), [numpy(p.grad) for p in params]
