"""Benchmark: the reference NumPy max pool against torch's on CPU, forward + backward.

One training step of max pooling on the same float32 batch: the reference solution's
maxpool2d_forward then maxpool2d_backward, against F.max_pool2d and torch.autograd for
dx. Two windows: 2x2 stride 2 (the VGG / LeNet pool, windows side by side) and 3x3
stride 2 padding 1 (the ResNet stem's pool, windows overlapping). Both on ONE thread (as
the checker runs katas), measured side by side in one run, taking turns step by step so
both see the same machine load: the median of --repeats timed steps after a warm-up.
Prints milliseconds per step for each, the ratio numpy/torch, and how far apart the two
results are (same work, same result).

    python bench/pooling.py [--repeats 20]
"""

from __future__ import annotations

import argparse

import _common  # first: one thread each, the repository on sys.path
import numpy as np
import torch
import torch.nn.functional as F

SHAPE = (16, 64, 56, 56)  # (N, C, H, W): a ResNet-sized feature map after the stem's conv
POOLS = {"2x2 stride 2": (2, 2, 0), "3x3 stride 2 pad 1 (overlapping)": (3, 2, 1)}


def bench_pool(mod, kernel, stride, padding, repeats: int, rng: np.random.Generator):
    x = rng.standard_normal(SHAPE).astype(np.float32)
    H_out, W_out = ((n + 2 * padding - kernel) // stride + 1 for n in SHAPE[2:])
    dout = rng.standard_normal((*SHAPE[:2], H_out, W_out)).astype(np.float32)

    def numpy_step():
        out, cache = mod.maxpool2d_forward(x, kernel, stride, padding)
        return out, mod.maxpool2d_backward(dout, cache)

    tx = torch.from_numpy(x).requires_grad_(True)
    tdout = torch.from_numpy(dout)

    def torch_step():
        out = F.max_pool2d(tx, kernel, stride, padding)
        return out, torch.autograd.grad(out, tx, tdout)[0]  # dx; no .grad kept

    np_ms, torch_ms = _common.median_ms([numpy_step, torch_step], repeats)
    (np_out, np_dx), (t_out, t_dx) = numpy_step(), torch_step()
    diff = _common.max_diff((np_out, np_dx), (t_out, t_dx))
    return np_ms, torch_ms, diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    mod = _common.solution("03_cnn/pooling")
    print(
        f"Max pool forward + backward, float32 {SHAPE} (N, C, H, W), one thread each; median "
        f"of {args.repeats} steps ({_common.versions()})\n"
    )
    print(f"{'':36}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'max |diff|':>12}")
    rng = np.random.default_rng(args.seed)
    for name, (kernel, stride, padding) in POOLS.items():
        np_ms, torch_ms, diff = bench_pool(mod, kernel, stride, padding, args.repeats, rng)
        print(f"{name:36}{np_ms:10.2f}{torch_ms:10.2f}{np_ms / torch_ms:8.2f}{diff:12.2e}")
    print(_common.BUDGET_LINE)


if __name__ == "__main__":
    main()
