"""Oracle for 01_fundamentals/layers: torch.nn modules with copied weights, and autograd."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from reference.oracles import numpy, tensor

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def build(spec) -> nn.Sequential:
    """spec: a list of ("linear", W (in, out), b (out,)) or ("relu",) / ("sigmoid",) / ("tanh",)."""
    modules: list[nn.Module] = []
    for kind, *arrays in spec:
        if kind == "linear":
            W, b = arrays
            linear = nn.Linear(W.shape[0], W.shape[1]).double()
            with torch.no_grad():
                linear.weight.copy_(tensor(W).T)  # nn.Linear keeps (out, in)
                linear.bias.copy_(tensor(b))
            modules.append(linear)
        else:
            modules.append(ACTIVATIONS[kind]())
    return nn.Sequential(*modules)


def forward(spec, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return numpy(build(spec)(tensor(x)))


def backward(spec, x: np.ndarray, dout: np.ndarray):
    """dx and [(dW (in, out), db (out,)) per linear, in order] after out.backward(dout)."""
    model = build(spec)
    t = tensor(x, grad=True)
    model(t).backward(tensor(dout))
    grads = [
        (numpy(m.weight.grad).T, numpy(m.bias.grad)) for m in model if isinstance(m, nn.Linear)
    ]
    return numpy(t.grad), grads
