"""Oracle for 01_fundamentals/forward: an nn.Sequential with copied weights."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from reference.oracles import numpy, tensor

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def build(weights, biases, activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (W, b) in enumerate(zip(weights, biases)):
        linear = nn.Linear(W.shape[0], W.shape[1]).double()
        with torch.no_grad():
            linear.weight.copy_(tensor(W).T)  # nn.Linear keeps (out, in)
            linear.bias.copy_(tensor(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def mlp_forward(X, weights, biases, activation="relu") -> tuple[np.ndarray, dict]:
    """torch's output and the inputs / pre-activations of every nn.Linear, in float64."""
    model = build(weights, biases, activation)
    cache = {"h": [], "z": []}

    def record(module, inputs, output):
        cache["h"].append(numpy(inputs[0]))
        cache["z"].append(numpy(output))

    for m in model:
        if isinstance(m, nn.Linear):
            m.register_forward_hook(record)
    with torch.no_grad():
        out = model(tensor(X))
    return numpy(out), cache
