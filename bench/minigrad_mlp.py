"""Benchmark: one MNIST MLP epoch with the reference minigrad, plain NumPy, and PyTorch CPU.

The same network (784-512-10, the data kata's MLP), the same float32 weights, the same
minibatches in the same order (batch 128) and the same SGD with momentum, each on ONE
thread: minigrad (the reference package: DataLoader, Modules, autograd, optim.SGD), the
same maths written by hand in NumPy (forward, backward and the update, nothing else), and
torch. Prints the median seconds per epoch of each (taking turns, so a busy machine slows
all three alike), the ratios, and how far apart the weights are after the first 20 batches
(the same work must give the same result; over a whole epoch at this learning rate,
float32 rounding differences between NumPy's and torch's kernels grow to a few percent,
while in float64 the three agree to 1e-15). The budget: minigrad within 1.5x of plain NumPy, i.e.
the library's graph, Tensors and loader cost less than half the arithmetic.

    DLKATAS_DATA=../shared/data python bench/minigrad_mlp.py [--repeats 3] [--hidden 512]

Uses full MNIST from $DLKATAS_DATA when it is there, the offline sample otherwise.
"""

from __future__ import annotations

import argparse
import importlib

import _common  # first: one thread each, the repository on sys.path
import numpy as np
import torch
import torch.nn.functional as F

from checker import paths
from checker.datasets import load_mnist

BUDGET = 1.5  # minigrad / numpy


def minigrad():
    """The reference package, imported from reference/solutions (a plain import)."""
    import sys

    sys.path.insert(0, str(paths.SOLUTIONS / "09_autograd"))
    return importlib.import_module("minigrad")


def images(x: np.ndarray) -> np.ndarray:
    return ((x.reshape(len(x), -1).astype(np.float32) / 255 - 0.1307) / 0.3081).astype(np.float32)


class MinigradRun:
    """An epoch through the library: DataLoader, Sequential, cross_entropy, SGD."""

    def __init__(self, mg, init, X, y, batch_size, lr, momentum, seed):
        nn = mg.nn
        self.mg = mg
        self.model = nn.Sequential(nn.Linear(784, init[0].shape[0]), nn.ReLU(),
                                   nn.Linear(init[0].shape[0], 10))  # fmt: skip
        self.model.load_state_dict(dict(zip(("0.weight", "0.bias", "2.weight", "2.bias"), init)))
        self.opt = mg.optim.SGD(list(self.model.parameters()), lr=lr, momentum=momentum)
        self.loader = mg.data.DataLoader(mg.data.TensorDataset(X, y), batch_size=batch_size,
                                         shuffle=True, rng=np.random.default_rng(seed))  # fmt: skip

    def epoch(self):
        for x, y in self.loader:
            self.opt.zero_grad()
            loss = self.mg.functional.cross_entropy(self.model(x), y)
            loss.backward()
            self.opt.step()

    def weights(self):
        return [p.data for p in self.model.parameters()]


class NumpyRun:
    """The same epoch by hand: forward, the gradients of cross-entropy, momentum SGD."""

    def __init__(self, init, X, y, batch_size, lr, momentum, seed):
        self.W1, self.b1, self.W2, self.b2 = (a.copy() for a in init)
        self.v = [np.zeros_like(a) for a in init]
        self.X, self.y, self.B, self.lr, self.mom = X, y, batch_size, lr, momentum
        self.first = [True] * 4  # torch starts each momentum buffer at the first gradient
        self.rng = np.random.default_rng(seed)

    def epoch(self):
        order = self.rng.permutation(len(self.X))
        for s in range(0, len(order), self.B):
            idx = order[s : s + self.B]
            x, y = self.X[idx], self.y[idx]  # (B, 784), (B,)
            z = x @ self.W1.T + self.b1  # (B, H)
            h = np.maximum(z, 0)
            logits = h @ self.W2.T + self.b2  # (B, 10)
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(y)), y] -= 1
            dlogits = p / len(y)  # d mean loss / d logits
            dh = dlogits @ self.W2
            dz = dh * (z > 0)
            grads = (dz.T @ x, dz.sum(axis=0), dlogits.T @ h, dlogits.sum(axis=0))
            for i, (param, g) in enumerate(zip((self.W1, self.b1, self.W2, self.b2), grads)):
                if self.first[i]:
                    self.v[i][...] = g
                    self.first[i] = False
                else:
                    self.v[i] *= self.mom
                    self.v[i] += g
                param -= self.lr * self.v[i]

    def weights(self):
        return [self.W1, self.b1, self.W2, self.b2]


class TorchRun:
    def __init__(self, init, X, y, batch_size, lr, momentum, seed):
        H = init[0].shape[0]
        self.model = torch.nn.Sequential(torch.nn.Linear(784, H), torch.nn.ReLU(),
                                         torch.nn.Linear(H, 10))  # fmt: skip
        with torch.no_grad():
            for p, a in zip(self.model.parameters(), init):
                p.copy_(torch.from_numpy(a))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)
        self.X, self.y, self.B = torch.from_numpy(X), torch.from_numpy(y), batch_size
        self.rng = np.random.default_rng(seed)

    def epoch(self):
        order = torch.from_numpy(self.rng.permutation(len(self.X)))
        for s in range(0, len(order), self.B):
            idx = order[s : s + self.B]
            loss = F.cross_entropy(self.model(self.X[idx]), self.y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()

    def weights(self):
        return [p.detach().numpy() for p in self.model.parameters()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs of each")
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    mg = minigrad()
    data = load_mnist()
    X, y = images(data.x_train), data.y_train
    rng = np.random.default_rng(args.seed)
    init_model = mg.nn.Sequential(mg.nn.Linear(784, args.hidden, rng=rng), mg.nn.ReLU(),
                                  mg.nn.Linear(args.hidden, 10, rng=rng))  # fmt: skip
    init = [p.data.copy() for p in init_model.parameters()]  # float32, (out, in)
    H = args.hidden
    print(
        f"MNIST MLP 784-{H}-10, float32, batch {args.batch_size}, SGD lr {args.lr} momentum "
        f"{args.momentum}; one thread each ({_common.versions()})"
    )
    print(f"data: {data.source}")

    def runs(X, y):
        common = (X, y, args.batch_size, args.lr, args.momentum, args.seed)
        return (MinigradRun(mg, init, *common), NumpyRun(init, *common), TorchRun(init, *common))

    # 1. The same work: 20 batches each from the same start, then compare the weights.
    check = 20 * args.batch_size
    first = runs(X[:check], y[:check])
    for r in first:
        r.epoch()
    ref = first[1].weights()
    same = [_common.max_diff(r.weights(), ref, relative=True) for r in first]

    # 2. Time: epochs taking turns (one warm-up epoch each, then the median of repeats).
    timed = runs(X, y)
    ms = _common.median_ms([r.epoch for r in timed], args.repeats, warmup=1)
    names = ("minigrad (reference)", "plain NumPy", "torch CPU")
    print(f"\n{'':24}{'s/epoch':>9}   weights vs NumPy's after 20 batches (relative)")
    for name, t, d in zip(names, ms, same):
        print(f"{name:24}{t / 1000:9.3f}   {d:.1e}")
    ratio = ms[0] / ms[1]
    print(f"\nratio minigrad/numpy: {ratio:.2f}  (budget {BUDGET}: the library's overhead)")
    print(f"ratio minigrad/torch: {ms[0] / ms[2]:.2f}")
    print(f"ratio numpy/torch:    {ms[1] / ms[2]:.2f}  (below 1: NumPy is faster)")
    print("within budget" if ratio < BUDGET else f"OVER BUDGET: {ratio:.2f} >= {BUDGET}")


if __name__ == "__main__":
    main()
