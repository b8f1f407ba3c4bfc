"""Oracle for 01_fundamentals/backprop: the same two-layer net in torch float64, autograd."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor

PARAMS = ("W1", "b1", "W2", "b2")


def two_layer_net(X, y, W1, b1, W2, b2, reg=0.0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """torch's loss (0-d) and gradients, plus "h" and "dh" (the hidden layer's activation
    and d loss / d h) so tests can build what a known mistake would return."""
    p = {k: tensor(v, grad=True) for k, v in zip(PARAMS, (W1, b1, W2, b2))}
    h = torch.relu(tensor(X) @ p["W1"] + p["b1"])  # (N, H)
    scores = h @ p["W2"] + p["b2"]  # (N, C)
    data_loss = F.cross_entropy(scores, tensor(y))
    loss = data_loss + 0.5 * reg * (p["W1"].pow(2).sum() + p["W2"].pow(2).sum())
    grads = torch.autograd.grad(loss, [p[k] for k in PARAMS] + [h])
    out = {k: numpy(g) for k, g in zip(PARAMS + ("dh",), grads)}
    out["h"] = numpy(h)
    return numpy(loss), out
