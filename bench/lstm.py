"""Benchmark: the reference NumPy LSTM against torch's on CPU, forward + BPTT over a sequence.

One training step of a one-layer LSTM on the same float32 sequence: the reference
solution's lstm_forward then lstm_backward (a Python loop over time steps, one cell at a
time), against nn.LSTM and torch.autograd for the gradients of the inputs, the initial
states and the four weights. Both on ONE thread (as the checker runs katas), measured side
by side in one run: the median of --repeats timed steps after a warm-up. Prints
milliseconds per step for each, the ratio numpy/torch, and how far apart the two results
are (same work, same result).

    python bench/lstm.py [--repeats 10] [--steps 50] [--batch 32] [--hidden 128]
"""

from __future__ import annotations

import os

# One BLAS thread, set before NumPy (and torch) load their BLAS libraries.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from checker import paths  # noqa: E402
from checker.impl import load_module  # noqa: E402

NAMES = (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
         ("b_hh", "bias_hh_l0"))  # fmt: skip


def median_ms(step, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def bench(lstm, T: int, N: int, D: int, H: int, repeats: int, rng: np.random.Generator):
    k = 1 / np.sqrt(H)  # torch's default init
    params = {
        "W_ih": rng.uniform(-k, k, (4 * H, D)),
        "W_hh": rng.uniform(-k, k, (4 * H, H)),
        "b_ih": rng.uniform(-k, k, 4 * H),
        "b_hh": rng.uniform(-k, k, 4 * H),
    }
    params = {n: v.astype(np.float32) for n, v in params.items()}
    xs = rng.standard_normal((T, N, D)).astype(np.float32)
    h0, c0 = (rng.standard_normal((N, H)).astype(np.float32) for _ in range(2))
    dhs = rng.standard_normal((T, N, H)).astype(np.float32)

    def numpy_step():
        hs, _, cache = lstm.lstm_forward(xs, h0, c0, params)
        g = lstm.lstm_backward(dhs, cache)
        return hs, [g[n] for n in ("xs", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")]

    m = torch.nn.LSTM(D, H)  # float32
    with torch.no_grad():
        for n, attr in NAMES:
            getattr(m, attr).copy_(torch.from_numpy(params[n]))
    txs, th, tc = (torch.from_numpy(a).requires_grad_(True) for a in (xs, h0, c0))
    tdhs = torch.from_numpy(dhs)
    inputs = (txs, th, tc, *(getattr(m, attr) for _, attr in NAMES))

    def torch_step():
        hs, _ = m(txs, (th[None], tc[None]))
        return hs, torch.autograd.grad(hs, inputs, tdhs)  # no .grad kept

    np_ms = median_ms(numpy_step, repeats)
    torch_ms = median_ms(torch_step, repeats)
    (np_hs, np_grads), (t_hs, t_grads) = numpy_step(), torch_step()
    # Relative to each result's scale: the weight gradients sum over T * N, so they are large.
    diff = max(
        float(np.max(np.abs(a - t.detach().numpy())) / np.max(np.abs(t.detach().numpy())))
        for a, t in zip((np_hs, *np_grads), (t_hs, *t_grads))
    )
    return np_ms, torch_ms, diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128, help="D = H")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    lstm = load_module("04_rnn/lstm", impl_root=paths.SOLUTIONS)
    T, N, H = args.steps, args.batch, args.hidden
    print(
        f"LSTM forward + BPTT (xs, h0, c0, W_ih, W_hh, b_ih, b_hh), float32, one thread "
        f"each; median of {args.repeats} steps (torch {torch.__version__}, NumPy "
        f"{np.__version__})\n"
    )
    print(f"{'':32}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'max rel diff':>14}")
    rng = np.random.default_rng(args.seed)
    np_ms, torch_ms, diff = bench(lstm, T, N, H, H, args.repeats, rng)
    name = f"T={T}, N={N}, D=H={H}"
    print(f"{name:32}{np_ms:10.1f}{torch_ms:10.1f}{np_ms / torch_ms:8.2f}{diff:14.2e}")
    print("\nratio = numpy / torch (below 1: NumPy is faster; the budget here is 3)")


if __name__ == "__main__":
    main()
