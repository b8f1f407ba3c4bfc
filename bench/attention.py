"""Benchmark: the reference NumPy attention against torch's on CPU, forward + backward.

One step of causal self-attention on the same float32 q, k, v of shape (N, heads, L, E):
the reference solution's scaled_dot_product_attention then its backward, against
F.scaled_dot_product_attention and torch.autograd for dq, dk, dv (torch also returns no
weights, so it does less work). Both on ONE thread (as the checker runs katas), measured
side by side in one run: the median of --repeats timed steps after a warm-up. Prints
milliseconds per step for each shape, the ratio numpy/torch, and how far apart the two
results are (same work, same result).

    python bench/attention.py [--repeats 10]
"""

from __future__ import annotations

import argparse

import _common  # first: one thread each, the repository on sys.path
import numpy as np
import torch
import torch.nn.functional as F

SHAPES = ((8, 4, 64, 32), (4, 4, 256, 64), (1, 8, 512, 64))  # (N, heads, L, E)


def bench(attention, shape, repeats: int, rng: np.random.Generator):
    q, k, v, dout = (rng.standard_normal(shape).astype(np.float32) for _ in range(4))

    def numpy_step():
        out, _ = attention.scaled_dot_product_attention(q, k, v, is_causal=True)
        grads = attention.scaled_dot_product_attention_backward(dout, q, k, v, is_causal=True)
        return out, *grads

    tq, tk, tv = (torch.from_numpy(a).requires_grad_(True) for a in (q, k, v))
    tdout = torch.from_numpy(dout)

    def torch_step():
        out = F.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
        return out, *torch.autograd.grad(out, (tq, tk, tv), tdout)

    np_ms, torch_ms = _common.median_ms([numpy_step, torch_step], repeats)
    diff = _common.max_diff(numpy_step(), torch_step(), relative=True)
    return np_ms, torch_ms, diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    attention = _common.solution("05_transformers/attention")
    print(
        "Causal self-attention forward + backward (dq, dk, dv), float32, one thread each; "
        f"median of {args.repeats} steps ({_common.versions()})\n"
    )
    print(f"{'':32}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'max rel diff':>14}")
    rng = np.random.default_rng(args.seed)
    for shape in SHAPES:
        np_ms, torch_ms, diff = bench(attention, shape, args.repeats, rng)
        name = "N={}, heads={}, L={}, E={}".format(*shape)
        print(f"{name:32}{np_ms:10.1f}{torch_ms:10.1f}{np_ms / torch_ms:8.2f}{diff:14.2e}")
    print(_common.BUDGET_LINE)


if __name__ == "__main__":
    main()
