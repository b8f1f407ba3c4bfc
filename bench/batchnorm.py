"""Benchmark: the reference NumPy batch norm against torch's on CPU, forward + backward.

One training step of batch normalization on the same float32 batch: the reference
solution's batchnorm_forward (training mode, running statistics updated) then
batchnorm_backward, against nn.BatchNorm2d / nn.BatchNorm1d in training mode and
torch.autograd for dx, dgamma and dbeta. Both on ONE thread (as the checker runs katas),
measured side by side in one run: the median of --repeats timed steps after a warm-up.
Prints milliseconds per step for each, the ratio numpy/torch, and how far apart the two
results are (same work, same result).

    python bench/batchnorm.py [--repeats 30]
"""

from __future__ import annotations

import argparse

import _common  # first: one thread each, the repository on sys.path
import numpy as np
import torch
from torch import nn

SHAPES = {"(N, C, H, W) = (64, 64, 32, 32)": (64, 64, 32, 32), "(N, C) = (512, 1024)": (512, 1024)}


def bench_shape(bn, shape, repeats: int, rng: np.random.Generator):
    C = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    gamma = rng.uniform(0.5, 2, C).astype(np.float32)
    beta = rng.standard_normal(C).astype(np.float32)
    running_mean, running_var = np.zeros(C, np.float32), np.ones(C, np.float32)

    def numpy_step():
        out, cache, _, _ = bn.batchnorm_forward(
            x, gamma, beta, running_mean, running_var, training=True
        )
        return out, bn.batchnorm_backward(dout, cache)

    module = (nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)(C)  # float32, training
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma))
        module.bias.copy_(torch.from_numpy(beta))
    tx = torch.from_numpy(x).requires_grad_(True)
    tdout = torch.from_numpy(dout)
    params = (tx, module.weight, module.bias)

    def torch_step():
        out = module(tx)
        return out, torch.autograd.grad(out, params, tdout)  # dx, dgamma, dbeta; no .grad kept

    np_ms, torch_ms = _common.median_ms([numpy_step, torch_step], repeats)
    (np_out, np_grads), (t_out, t_grads) = numpy_step(), torch_step()
    diff = _common.max_diff((np_out, *np_grads), (t_out, *t_grads))
    return np_ms, torch_ms, diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    bn = _common.solution("02_training/batchnorm")
    print(
        "BatchNorm forward + backward (training mode), float32, one thread each; median of "
        f"{args.repeats} steps ({_common.versions()})\n"
    )
    print(f"{'':34}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'max |diff|':>12}")
    rng = np.random.default_rng(args.seed)
    for name, shape in SHAPES.items():
        np_ms, torch_ms, diff = bench_shape(bn, shape, args.repeats, rng)
        print(f"{name:34}{np_ms:10.2f}{torch_ms:10.2f}{np_ms / torch_ms:8.2f}{diff:12.2e}")
    print(_common.BUDGET_LINE)


if __name__ == "__main__":
    main()
