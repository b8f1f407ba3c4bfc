"""Oracles for 03_cnn/simple_cnn: the same network in torch (nn.Conv2d, F.max_pool2d, nn.Linear).

The weights are copied from a params dict laid out as the kata's ({"conv1.W": (C_out, C_in,
k, k), ..., "fc.W": (D, K), "fc.b": (K,)}); everything runs in float64. Keyword switches
reproduce learners' known mistakes, so a failure can name the one it matches.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reference.oracles import numpy, tensor


def build(params) -> tuple[list[nn.Conv2d], nn.Linear]:
    """torch layers (float64) holding copies of params; the dense weight transposed to (K, D)."""
    convs = []
    for i in range(1, sum(k.startswith("conv") and k.endswith(".W") for k in params) + 1):
        w = tensor(params[f"conv{i}.W"])
        layer = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:])).double()
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.copy_(tensor(params[f"conv{i}.b"]))
        convs.append(layer)
    D, K = params["fc.W"].shape
    fc = nn.Linear(D, K).double()
    with torch.no_grad():
        fc.weight.copy_(tensor(params["fc.W"]).T)  # nn.Linear stores (out, in)
        fc.bias.copy_(tensor(params["fc.b"]))
    return convs, fc


def _relu(z, grad: str):
    if grad == "mask":
        return F.relu(z)
    if grad == "none":  # ReLU forward, but the gradient passed through unmasked
        return z + (F.relu(z) - z).detach()
    return torch.where(z >= 0, z, torch.zeros_like(z))  # "ge": gradient 1 at z == 0 too


def logits_of(convs, fc, x, flatten: str = "chw", relu_grad: str = "mask", relu_logits=False):
    h = x
    for layer in convs:
        h = F.max_pool2d(_relu(layer(h), relu_grad), 2)
    if flatten == "hwc":  # channels last: (N, H, W, C) flattened
        h = h.permute(0, 2, 3, 1)
    out = fc(h.reshape(h.shape[0], -1))
    return F.relu(out) if relu_logits else out


def forward(params, x, no_conv_bias=False, **mistake) -> torch.Tensor:
    """The logits (N, K) of the network on x (N, C, H, W)."""
    if no_conv_bias:  # the convolutions called without their biases
        params = {k: 0 * v if k.startswith("conv") and k.endswith(".b") else v
                  for k, v in params.items()}  # fmt: skip
    convs, fc = build(params)
    with torch.no_grad():
        return logits_of(convs, fc, tensor(x), **mistake)


def loss_and_grads(params, x, y, **mistake):
    """F.cross_entropy's mean loss, its gradient wrt the logits, and every parameter's gradient.

    The gradients come back in the kata's layout and keys (fc.W as (D, K)).
    """
    convs, fc = build(params)
    logits = logits_of(convs, fc, tensor(x), **mistake)
    logits.retain_grad()
    loss = F.cross_entropy(logits, tensor(y))
    loss.backward()
    grads = {}
    for i, layer in enumerate(convs, start=1):
        grads[f"conv{i}.W"], grads[f"conv{i}.b"] = numpy(layer.weight.grad), numpy(layer.bias.grad)
    grads["fc.W"], grads["fc.b"] = numpy(fc.weight.grad).T, numpy(fc.bias.grad)
    return numpy(loss), numpy(logits.grad), grads


def train_epoch(params, x, y, order, batch_size, lr, momentum, shuffle_labels=True):
    """Parameters (kata layout) and mean loss per example after one torch.optim.SGD epoch."""
    convs, fc = build(params)
    layers = [*convs, fc]
    opt = torch.optim.SGD([p for m in layers for p in m.parameters()], lr=lr, momentum=momentum)
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        labels = idx if shuffle_labels else list(range(start, start + len(idx)))
        loss = F.cross_entropy(logits_of(convs, fc, tensor(x[idx])), tensor(y[labels]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    out = {}
    for i, layer in enumerate(convs, start=1):
        out[f"conv{i}.W"], out[f"conv{i}.b"] = numpy(layer.weight), numpy(layer.bias)
    out["fc.W"], out["fc.b"] = numpy(fc.weight).T, numpy(fc.bias)
    return out, total / len(order)
