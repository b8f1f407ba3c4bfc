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

import argparse

import _common  # first: one thread each, the repository on sys.path
import numpy as np
import torch

NAMES = (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
         ("b_hh", "bias_hh_l0"))  # fmt: skip


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

    np_ms, torch_ms = _common.median_ms([numpy_step, torch_step], repeats)
    (np_hs, np_grads), (t_hs, t_grads) = numpy_step(), torch_step()

    diff = _common.max_diff((np_hs, *np_grads), (t_hs, *t_grads), relative=True)
    return np_ms, torch_ms, diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128, help="D = H")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    lstm = _common.solution("04_rnn/lstm")
    T, N, H = args.steps, args.batch, args.hidden
    print(
        f"LSTM forward + BPTT (xs, h0, c0, W_ih, W_hh, b_ih, b_hh), float32, one thread "
        f"each; median of {args.repeats} steps ({_common.versions()})"
        f"\n"
    )
    print(f"{'':32}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'max rel diff':>14}")
    rng = np.random.default_rng(args.seed)
    np_ms, torch_ms, diff = bench(lstm, T, N, H, H, args.repeats, rng)
    name = f"T={T}, N={N}, D=H={H}"
    print(f"{name:32}{np_ms:10.1f}{torch_ms:10.1f}{np_ms / torch_ms:8.2f}{diff:14.2e}")
    print(_common.BUDGET_LINE)


if __name__ == "__main__":
    main()
