"""Oracle for 01_fundamentals/gradcheck: test functions written in torch, their autograd
gradients, the error a central difference may make on them, and torch.autograd.gradcheck's
verdict on an analytic gradient.

How far may a central difference be from the true derivative? (documented once, here)
Taylor: (f(x + h) - f(x - h)) / 2h = f'(x) + h^2/6 f'''(xi) for some xi in [x - h, x + h],
so the truncation error is at most h^2/6 * M3 with M3 = max |d^3 f / dx_i^3| on that
interval. Rounding adds two more terms:
  - each evaluation of f is off by at most K eps S, where S bounds the magnitudes f
    adds up (pairwise sums grow the error by log2 of the count, each term takes a few
    roundings: K = 16 covers it); the difference of two, divided by 2h: K eps S / h.
  - x + h and x - h are rounded, so the real step is 2h +- eps (|x| + h): a relative
    error of eps (|x| + h) / h on the slope |f'|.
bound = h^2/6 M3 + K eps S / h + eps (|x| + h) |f'| / h, per entry. With h = 1e-5 this is
~1e-10 for the functions below, while a forward difference errs by h/2 |f''| ~ 1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor

EPS = np.finfo(np.float64).eps
K = 16  # roundings per evaluation of f, generously (see the module docstring)
MAX_LSE_3RD = 1 / (6 * np.sqrt(3))  # max over p of |p (1 - p) (1 - 2p)|: lse's 3rd derivative
MAX_TANH_3RD = 2.0  # max |tanh'''|, reached at 0


@dataclass
class Problem:
    """A scalar function of x written in torch, and what bounds its central differences."""

    name: str
    x: np.ndarray
    fn: object  # torch float64 tensor -> 0-d tensor
    m3: np.ndarray  # per entry: max |d^3 f / dx_i^3| over [x_i - h, x_i + h] (h <= 1e-2)
    scale: float  # S: bound on the magnitudes f adds up

    def f(self, x: np.ndarray) -> float:
        """The function as the learner's code sees it: NumPy array in, Python float out."""
        return float(self.fn(tensor(x)))

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The exact gradient, by autograd."""
        t = tensor(x, grad=True)
        with torch.enable_grad():  # also inside torch_gradcheck's backward
            (g,) = torch.autograd.grad(self.fn(t), t)
        return numpy(g)

    def bound(self, x: np.ndarray, h: float) -> np.ndarray:
        """How far a correct central difference may be from grad(x), per entry."""
        slope = np.abs(self.grad(x))
        return h**2 / 6 * self.m3 + K * EPS * self.scale / h + EPS * (np.abs(x) + h) * slope / h


def sum_of_squares(rng) -> Problem:
    x = rng.standard_normal((3, 3))
    return Problem("sum_of_squares", x, lambda t: (t**2).sum(), np.zeros_like(x), np.sum(x**2))


def exp_3x(rng) -> Problem:
    """sum(exp(3 x)): a large second derivative (9 e^3x), so a forward difference shows."""
    x = rng.uniform(-1, 1, (3, 3))
    m3 = 27 * np.exp(3 * (x + 1e-2))
    return Problem("exp_3x", x, lambda t: torch.exp(3 * t).sum(), m3, np.sum(np.exp(3 * x)))


def softmax_ce_linear(rng) -> Problem:
    """Mean cross-entropy of a linear classifier X @ W, as a function of W."""
    N, D, C = 6, 3, 3  # D == C: W is square, so a transposed gradient has the right shape
    X, y, W = rng.standard_normal((N, D)), rng.integers(0, C, N), rng.standard_normal((D, C))
    # W[d, c] moves only logit c of row i, by X[i, d]; d^3 lse / dz_c^3 <= MAX_LSE_3RD.
    m3 = MAX_LSE_3RD * np.mean(np.abs(X) ** 3, axis=0)[:, None] * np.ones((1, C))
    scale = 2 * (np.abs(X) @ np.abs(W)).max() + np.log(C) + 1
    fn = lambda t: F.cross_entropy(tensor(X) @ t, tensor(y))  # noqa: E731
    return Problem("softmax_ce_linear", W, fn, m3, scale)


def tanh_net(rng) -> Problem:
    """sum(tanh(X @ W1) @ w2), as a function of W1."""
    N, D, H = 5, 3, 3
    X, W1, w2 = rng.standard_normal((N, D)), rng.standard_normal((D, H)), rng.standard_normal(H)
    # W1[d, h] moves hidden unit h of row i by X[i, d], weighted by w2[h] in the output.
    m3 = MAX_TANH_3RD * np.sum(np.abs(X) ** 3, axis=0)[:, None] * np.abs(w2)[None, :]
    scale = np.sum(np.abs(w2) * (1 + np.abs(X) @ np.abs(W1)))
    fn = lambda t: (torch.tanh(tensor(X) @ t) @ tensor(w2)).sum()  # noqa: E731
    return Problem("tanh_net", W1, fn, m3, scale)


PROBLEMS = {p.__name__: p for p in (sum_of_squares, exp_3x, softmax_ce_linear, tanh_net)}


def relative_error(a, n, eps=1e-12) -> np.ndarray:
    """max |a - n| / max(eps, |a| + |n|), in torch (0-d)."""
    a, n = tensor(a), tensor(n)
    return numpy(((a - n).abs() / (a.abs() + n.abs()).clamp_min(eps)).max())


def torch_gradcheck(f, grad_f, x: np.ndarray, h: float, atol=1e-5, rtol=1e-3) -> bool:
    """torch.autograd.gradcheck's verdict on grad_f as the gradient of f (NumPy functions)."""

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return torch.tensor(f(numpy(t)), dtype=torch.float64)

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * tensor(grad_f(numpy(t)))

    return torch.autograd.gradcheck(
        Wrapped.apply,
        (tensor(x, grad=True),),
        eps=h,
        atol=atol,
        rtol=rtol,
        raise_exception=False,
        check_undefined_grad=False,
    )


def weighted_sin(x: np.ndarray, seed: int) -> Problem:
    """sum(W * sin(x)) with W in [0.5, 1.5]: any shape, and every entry has its own slope."""
    W = np.random.default_rng(seed).uniform(0.5, 1.5, size=x.shape)
    fn = lambda t: (tensor(W) * torch.sin(t)).sum()  # noqa: E731
    return Problem("sum(W * sin(x))", x, fn, m3=np.abs(W), scale=float(np.sum(W)))


def wrong_gradients(g: np.ndarray) -> dict[str, np.ndarray]:
    """label -> the gradient g as a classic backprop bug gets it (g square)."""
    one = g.copy()
    one[np.unravel_index(np.argmax(np.abs(g)), g.shape)] *= 1.1
    return {"sign_flipped": -g, "times_2": 2 * g, "transposed": g.T.copy(), "one_entry_off": one}
