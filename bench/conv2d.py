"""Benchmark: the reference NumPy convolution against torch's on CPU, forward + backward.

One training step of a convolution layer on the same float32 batch: the reference
solution's conv2d_forward (im2col + batched matmul) then conv2d_backward (col2im), against
F.conv2d and torch.autograd for dx, dw and db. Both on ONE thread (as the checker runs
katas), measured side by side in one run: the median of --repeats timed steps after a
warm-up. Prints milliseconds per step for each, the ratio numpy/torch, and how far apart
the two results are (same work, same result).

    python bench/conv2d.py [--repeats 10] [--batch 8]
"""

from __future__ import annotations

import argparse

import _common  # first: one thread each, the repository on sys.path
import numpy as np
import torch
import torch.nn.functional as F

# name -> (C_in, C_out, H, W, kernel, stride, padding): two layers of a ResNet-18/34 on
# a 224x224 image (conv2_x's 3x3, and conv3_x's first, strided 3x3 that halves the grid).
LAYERS = {
    "64->64, 56x56, 3x3, pad 1": (64, 64, 56, 56, 3, 1, 1),
    "64->128, 56x56, 3x3, stride 2, pad 1": (64, 128, 56, 56, 3, 2, 1),
}


def bench_layer(conv, layer, batch: int, repeats: int, rng: np.random.Generator):
    C_in, C_out, H, W, k, stride, padding = layer
    x = rng.standard_normal((batch, C_in, H, W)).astype(np.float32)
    w = (rng.standard_normal((C_out, C_in, k, k)) / np.sqrt(C_in * k * k)).astype(np.float32)
    b = rng.standard_normal(C_out).astype(np.float32)
    H_out = (H + 2 * padding - k) // stride + 1
    W_out = (W + 2 * padding - k) // stride + 1
    dout = rng.standard_normal((batch, C_out, H_out, W_out)).astype(np.float32)

    def numpy_step():
        out, cache = conv.conv2d_forward(x, w, b, stride=stride, padding=padding)
        return out, conv.conv2d_backward(dout, cache)

    tx, tw, tb = (torch.from_numpy(a).requires_grad_(True) for a in (x, w, b))
    tdout = torch.from_numpy(dout)

    def torch_step():
        out = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
        return out, torch.autograd.grad(out, (tx, tw, tb), tdout)  # dx, dw, db; no .grad kept

    np_ms, torch_ms = _common.median_ms([numpy_step, torch_step], repeats)
    (np_out, np_grads), (t_out, t_grads) = numpy_step(), torch_step()

    diff = _common.max_diff((np_out, *np_grads), (t_out, *t_grads), relative=True)
    return np_ms, torch_ms, diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    conv = _common.solution("03_cnn/conv2d")
    print(
        f"Conv2d forward + backward (dx, dw, db), float32, batch {args.batch}, one thread "
        f"each; median of {args.repeats} steps ({_common.versions()})"
        f"\n"
    )
    print(f"{'':40}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'max rel diff':>14}")
    rng = np.random.default_rng(args.seed)
    for name, layer in LAYERS.items():
        np_ms, torch_ms, diff = bench_layer(conv, layer, args.batch, args.repeats, rng)
        print(f"{name:40}{np_ms:10.1f}{torch_ms:10.1f}{np_ms / torch_ms:8.2f}{diff:14.2e}")
    print(_common.BUDGET_LINE)


if __name__ == "__main__":
    main()
