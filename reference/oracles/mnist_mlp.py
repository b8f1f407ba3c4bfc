"""Oracles for 01_fundamentals/mnist_mlp: torch.optim.SGD, a torch training epoch, the grid."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reference.oracles import layers as layers_oracle
from reference.oracles import numpy, tensor


def sgd_steps(params, grads_per_step, lrs, momentum, weight_decay=0.0):
    """Parameters and momentum buffers after len(lrs) torch.optim.SGD steps with given grads."""
    ps = [tensor(p, grad=True) for p in params]
    opt = torch.optim.SGD(ps, lr=lrs[0], momentum=momentum, weight_decay=weight_decay)
    for grads, lr in zip(grads_per_step, lrs):
        for p, g in zip(ps, grads):
            p.grad = tensor(g)
        opt.param_groups[0]["lr"] = lr
        opt.step()
    buffers = [opt.state[p].get("momentum_buffer") for p in ps]  # none when momentum is 0
    return [numpy(p) for p in ps], [None if b is None else numpy(b) for b in buffers]


def train_epoch(spec, X, y, order, batch_size, lr, momentum, weight_decay=0.0):
    """torch's parameters [W (in, out), b, ...] and mean loss after one epoch in `order`."""
    model = layers_oracle.build(spec)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        loss = F.cross_entropy(model(tensor(X[idx])), tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    params = []
    for m in model:
        if isinstance(m, nn.Linear):
            params += [numpy(m.weight).T, numpy(m.bias)]
    return params, total / len(order)


def feature_grid(W1, cols=None, transpose=False, per_tile=True):
    """The tiled image visualize_features must return (transpose/per_tile: known mistakes)."""
    D, H = W1.shape
    side = math.isqrt(D)
    cols = cols or math.ceil(math.sqrt(H))
    rows = math.ceil(H / cols)
    tiles = tensor(W1).T.reshape(H, side, side)
    if transpose:
        tiles = tiles.transpose(1, 2)
    dims = (1, 2) if per_tile else (0, 1, 2)
    lo, hi = tiles.amin(dim=dims, keepdim=True), tiles.amax(dim=dims, keepdim=True)
    span = hi - lo
    tiles = torch.where(span > 0, (tiles - lo) / torch.where(span > 0, span, 1.0), 0.0)
    grid = torch.full((rows * (side + 1) + 1, cols * (side + 1) + 1), 0.5, dtype=torch.float64)
    for k in range(H):
        top, left = 1 + (k // cols) * (side + 1), 1 + (k % cols) * (side + 1)
        grid[top : top + side, left : left + side] = tiles[k]
    return numpy(grid)
