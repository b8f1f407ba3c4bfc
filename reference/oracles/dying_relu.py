"""Oracle for 01_fundamentals/dying_relu: dead units, gradients and an SGD step in torch.

Dead-ness comes from torch's own ReLU gradient: a unit is dead when autograd gives its
pre-activation a zero gradient for every example (torch's relu'(0) = 0 included).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def activation(z: torch.Tensor, negative_slope: float) -> torch.Tensor:
    return F.relu(z) if negative_slope == 0 else F.leaky_relu(z, negative_slope)


def dead_units(X, W, b) -> np.ndarray:
    """(H,) bool: d relu(z_nj) / d z_nj == 0 for every example n."""
    Z = (tensor(X) @ tensor(W) + tensor(b)).requires_grad_(True)  # (N, H)
    F.relu(Z).sum().backward()  # Z.grad = relu'(Z), elementwise
    return numpy((Z.grad == 0).all(dim=0))


def grads(X, W, b, dout, negative_slope=0.0) -> tuple[np.ndarray, np.ndarray]:
    """W.grad and b.grad after activation(X @ W + b).backward(dout), in float64."""
    Wt, bt = tensor(W, grad=True), tensor(b, grad=True)
    activation(tensor(X) @ Wt + bt, negative_slope).backward(tensor(dout))
    return numpy(Wt.grad), numpy(bt.grad)


def sgd_step(X, W, b, dout, lr, negative_slope=0.0) -> tuple[np.ndarray, np.ndarray]:
    """W and b after one torch.optim.SGD step on the gradients above."""
    Wt, bt = tensor(W, grad=True), tensor(b, grad=True)
    opt = torch.optim.SGD([Wt, bt], lr=lr)
    activation(tensor(X) @ Wt + bt, negative_slope).backward(tensor(dout))
    opt.step()
    return numpy(Wt), numpy(bt)
