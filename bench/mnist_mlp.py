"""Benchmark: the reference NumPy MLP against the same training in PyTorch on CPU.

Both train the same network (784-256-10 by default, the mnist_mlp kata's training test)
from the same initial weights, on the same minibatches in the same order, with the same
SGD with momentum and cosine learning rate, in float64, each on ONE thread (as the
checker runs katas). Prints time, time per epoch and test accuracy for each, the ratio
numpy/torch, and how far apart the two final sets of weights are (same work, same result).

Two torch rows: torch as one writes it (autograd skips the gradient of the input batch),
and torch asked for that gradient too. The layers kata's Sequential.backward returns
d loss / d x for the input, so the NumPy reference does one more matrix product per batch
(dout @ W1.T, as large as the first layer's forward); the second row does the same FLOPs.

    DLKATAS_DATA=../shared/data python bench/mnist_mlp.py [--epochs 12] [--float32]

Uses full MNIST from $DLKATAS_DATA when it is there, the offline sample otherwise (and says
which). --float32 adds a torch float32 row for information (the katas work in float64).
"""

from __future__ import annotations

import argparse
import math
import time

import _common  # first: one thread each, the repository on sys.path
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from checker.datasets import load_mnist

MOMENTUM = 0.9


def lr_at(epoch: int, epochs: int, lr: float) -> float:
    """The kata's cosine schedule."""
    return 0.5 * lr * (1 + math.cos(math.pi * epoch / epochs))


def train_numpy(mlp, layers, losses, data, sizes, args):
    X, X_test = mlp.preprocess(data.x_train), mlp.preprocess(data.x_test)
    model = mlp.build_mlp(layers, sizes, np.random.default_rng(args.seed))
    init = [p.copy() for p, _ in model.params_and_grads()]
    velocities = [np.zeros_like(p) for p in init]
    order_rng = np.random.default_rng(args.seed + 1)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        lr = lr_at(epoch, args.epochs, args.lr)
        mlp.train_epoch(
            model, losses, X, data.y_train, args.batch_size, lr, MOMENTUM, velocities, order_rng
        )
    seconds = time.perf_counter() - start
    acc = mlp.accuracy(model, X_test, data.y_test)
    final = [p.copy() for p, _ in model.params_and_grads()]
    return seconds, acc, init, final


def train_torch(data, init, args, dtype, input_grad=False):
    X = torch.from_numpy(data.x_train.reshape(len(data.x_train), -1)).to(dtype) / 255
    X_test = torch.from_numpy(data.x_test.reshape(len(data.x_test), -1)).to(dtype) / 255
    y, y_test = torch.from_numpy(data.y_train), torch.from_numpy(data.y_test)
    modules: list[nn.Module] = []
    for i in range(0, len(init), 2):
        W, b = init[i], init[i + 1]
        linear = nn.Linear(*W.shape).to(dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))  # nn.Linear keeps (out, in)
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, nn.ReLU()]
    model = nn.Sequential(*modules[:-1])  # no ReLU after the last Linear
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=MOMENTUM)
    order_rng = np.random.default_rng(args.seed + 1)  # the same batches as NumPy's train_epoch
    N = len(X)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        opt.param_groups[0]["lr"] = lr_at(epoch, args.epochs, args.lr)
        order = torch.from_numpy(order_rng.permutation(N))
        for s in range(0, N, args.batch_size):
            idx = order[s : s + args.batch_size]
            xb = X[idx].requires_grad_(input_grad)  # input_grad: dx of the batch, as NumPy's
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        acc = (model(X_test).argmax(dim=1) == y_test).double().mean().item()
    final = []
    for m in model:
        if isinstance(m, nn.Linear):
            final += [m.weight.detach().numpy().T, m.bias.detach().numpy()]
    return seconds, acc, final


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--hidden", type=int, nargs="*", default=[256])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--float32", action="store_true", help="add a torch float32 row")
    args = parser.parse_args(argv)

    kata = "01_fundamentals/{}"
    mlp, layers, losses = (
        _common.solution(kata.format(name)) for name in ("mnist_mlp", "layers", "losses")
    )
    data = load_mnist()
    sizes = [784, *args.hidden, 10]
    print(
        f"MNIST MLP {'-'.join(map(str, sizes))}: {args.epochs} epochs, batch {args.batch_size}, "
        f"SGD lr {args.lr} (cosine) momentum {MOMENTUM}; one thread each "
        f"({_common.versions()})"
    )
    print(f"data: {data.source}")

    np_s, np_acc, init, np_final = train_numpy(mlp, layers, losses, data, sizes, args)
    rows = [("numpy reference, float64", np_s, np_acc)]
    t_s, t_acc, t_final = train_torch(data, init, args, torch.float64)
    rows.append(("torch CPU, float64", t_s, t_acc))
    g_s, g_acc, _ = train_torch(data, init, args, torch.float64, input_grad=True)
    rows.append(("torch CPU, float64, + dx", g_s, g_acc))
    if args.float32:
        f_s, f_acc, _ = train_torch(data, init, args, torch.float32)
        rows.append(("torch CPU, float32 (info)", f_s, f_acc))

    print(f"\n{'':28}{'total s':>9}{'s/epoch':>9}{'test acc':>10}")
    for name, seconds, acc in rows:
        print(f"{name:28}{seconds:9.2f}{seconds / args.epochs:9.3f}{acc:10.4f}")
    print(f"\nratio numpy/torch, float64:        {np_s / t_s:.2f}  (below 1: NumPy is faster)")
    print(f"ratio numpy/torch, float64, + dx:  {np_s / g_s:.2f}  (the same matrix products)")
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(np_final, t_final))
    print(f"largest difference between the two trained weight sets: {diff:.2e}")


if __name__ == "__main__":
    main()
