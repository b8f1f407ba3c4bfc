"""Oracle for 02_training/initialization: torch.nn.init's scales, read off torch's own samples.

torch.nn.init has no function that returns a bound or a std; it only fills tensors. So
torch_scale fills one tensor with the init under test and another, from the same
generator state, with the unit distribution (U(-1, 1) or N(0, 1)): torch draws the same
numbers for both and multiplies, so their ratio is the init's bound (uniform) or std
(normal), to rounding. No formula is written out here.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from reference.oracles import numpy, tensor


def torch_scale(name: str, shape: tuple[int, ...], **kwargs) -> float:
    """The bound (uniform inits) or std (normal inits) torch.nn.init.<name>_ uses for shape."""
    fill = getattr(nn.init, f"{name}_")
    gen = torch.Generator().manual_seed(1234)
    weight = torch.empty(shape, dtype=torch.float64)
    fill(weight, generator=gen, **kwargs)
    gen.manual_seed(1234)
    unit = torch.empty(shape, dtype=torch.float64)
    if name.endswith("uniform"):
        unit.uniform_(-1.0, 1.0, generator=gen)
    else:
        unit.normal_(0.0, 1.0, generator=gen)
    i = int(unit.abs().argmax())  # the largest unit sample: the ratio has least rounding there
    return float(weight.flatten()[i] / unit.flatten()[i])


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """torch's (fan_in, fan_out) for a weight of this shape."""
    return nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}


def activation_stds(weights: list[np.ndarray], X: np.ndarray, activation: str) -> np.ndarray:
    """std(correction=0) of every bias-free nn.Linear's output, weights (out, in) copied in."""
    layers: list[nn.Module] = []
    for W in weights:
        linear = nn.Linear(W.shape[1], W.shape[0], bias=False).double()
        with torch.no_grad():
            linear.weight.copy_(tensor(W))
        layers += [linear, ACTIVATIONS[activation]()]
    model = nn.Sequential(*layers)
    stds: list[float] = []
    for m in model:
        if isinstance(m, nn.Linear):
            m.register_forward_hook(lambda mod, inp, out: stds.append(float(out.std(correction=0))))
    with torch.no_grad():
        model(tensor(X))
    return numpy(torch.tensor(stds, dtype=torch.float64))
