"""Oracle for 06_generative/gan_losses: F.binary_cross_entropy_with_logits and autograd in
float64, torch.distributions' Categorical KL for the Jensen-Shannon divergence, and the known
slips (NumPy, float64) so that a failing test can name the mistake.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, kl_divergence

from reference.oracles import numpy, tensor


def _bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    """Mean BCE of the logits against a constant label (1 = real, 0 = fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def discriminator(real, fake) -> dict[str, np.ndarray]:
    """BCE(real, 1) + BCE(fake, 0), each a mean, and its gradients w.r.t. both logits."""
    tr, tf = tensor(real, grad=True), tensor(fake, grad=True)
    loss = _bce(tr, 1.0) + _bce(tf, 0.0)
    d_real, d_fake = torch.autograd.grad(loss, (tr, tf))
    return {"loss": numpy(loss), "real": numpy(d_real), "fake": numpy(d_fake)}


def generator(kind: str, fake) -> dict[str, np.ndarray]:
    """The generator's loss and its gradient: "minimax" = -BCE(fake, 0) = mean log(1 - D),
    "nonsaturating" = BCE(fake, 1) = -mean log D."""
    tf = tensor(fake, grad=True)
    loss = -_bce(tf, 0.0) if kind == "minimax" else _bce(tf, 1.0)
    (d_fake,) = torch.autograd.grad(loss, tf)
    return {"loss": numpy(loss), "fake": numpy(d_fake)}


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D* = p_data / (p_data + p_g), and 1/2 where neither puts mass."""
    tp, tq = tensor(p_data), tensor(p_g)
    total = tp + tq
    return numpy(torch.where(total > 0, tp / total.clamp_min(1e-300), 0.5))


def jensen_shannon(p, q) -> np.ndarray:
    """JS(p || q) in nats over the last axis, from torch.distributions' Categorical KL."""
    tp, tq = tensor(p), tensor(q)
    m = Categorical(probs=0.5 * (tp + tq), validate_args=False)
    kl_p = kl_divergence(Categorical(probs=tp, validate_args=False), m)
    kl_q = kl_divergence(Categorical(probs=tq, validate_args=False), m)
    return numpy(0.5 * kl_p + 0.5 * kl_q)


# ----------------------------------------------------------------------------- known slips
# label -> what that mistake returns (float64 NumPy); None where it does not apply.


def _f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def _quiet(fn):
    """fn() with NumPy's overflow, divide and invalid warnings silenced (slips make inf, nan)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return fn()


def _naive(fn):
    """What a formula through log(sigmoid(l)) returns, or None if it happens to stay finite."""
    value = _quiet(fn)
    return None if np.all(np.isfinite(value)) else value


def _log_d(x):  # log sigmoid(x), the naive way
    return np.log(1 / (1 + np.exp(-x)))


def _log_1_minus_d(x):  # log(1 - sigmoid(x)), the naive way
    return np.log(1 - 1 / (1 + np.exp(-x)))


NAIVE = (
    "log(sigmoid(l)) or log(1 - sigmoid(l)) taken literally: 1 - sigmoid(100) rounds to 0 and "
    "exp(1000) overflows; use softplus(x) = max(x, 0) + log1p(exp(-|x|))"
)


def discriminator_slips(real, fake) -> dict[str, dict]:
    r, f = _f64(real, fake)
    N, M = r.size, f.size
    good = _softplus(-r).mean() + _softplus(f).mean()
    return {
        "loss": {
            "labels swapped: real logits scored against 0 and fakes against 1": _softplus(r).mean()
            + _softplus(-f).mean(),
            "the average of the two means, not their sum": 0.5 * good,
            "sums instead of means over the samples": _softplus(-r).sum() + _softplus(f).sum(),
            "one mean over all N + M samples together, not a mean per batch": (
                _softplus(-r).sum() + _softplus(f).sum()
            )
            / (N + M),
            NAIVE: lambda: _naive(lambda: -_log_d(r).mean() - _log_1_minus_d(f).mean()),
        },
        "real": {
            "the 1/N of the mean is missing": _sigmoid(r) - 1,
            "divided by the fake batch's size M instead of N": (_sigmoid(r) - 1) / M,
            "labels swapped: sigmoid(l) / N, the gradient of BCE against 0": _sigmoid(r) / N,
        },
        "fake": {
            "the 1/M of the mean is missing": _sigmoid(f),
            "divided by the real batch's size N instead of M": _sigmoid(f) / N,
            "labels swapped: (sigmoid(l) - 1) / M, the gradient of BCE against 1": (_sigmoid(f) - 1)
            / M,
        },
    }


def generator_slips(kind: str, fake) -> dict[str, dict]:
    (f,) = _f64(fake)
    M = f.size
    minimax, nonsat = -_softplus(f).mean(), _softplus(-f).mean()
    if kind == "minimax":
        return {
            "loss": {
                "mean BCE(fake, 0) = -mean log(1 - D): the discriminator's fake term, whose "
                "sign the generator's minimax loss flips": -minimax,
                "the non-saturating loss -mean log D, not the minimax mean log(1 - D)": nonsat,
                "a sum over the fakes instead of a mean": -_softplus(f).sum(),
                NAIVE: lambda: _naive(lambda: _log_1_minus_d(f).mean()),
            },
            "fake": {
                "the 1/M of the mean is missing": -_sigmoid(f),
                "the non-saturating gradient (sigmoid(l) - 1) / M": (_sigmoid(f) - 1) / M,
            },
        }
    return {
        "loss": {
            "-mean log(1 - D) = mean BCE(fake, 0): the sign of the minimax loss flipped, which "
            "makes G push its logits DOWN; the non-saturating loss flips the label instead "
            "(BCE against 1)": -minimax,
            "the minimax loss mean log(1 - D)": minimax,
            "a sum over the fakes instead of a mean": _softplus(-f).sum(),
            NAIVE: lambda: _naive(lambda: -_log_d(f).mean()),
        },
        "fake": {
            "the 1/M of the mean is missing": _sigmoid(f) - 1,
            "the minimax gradient -sigmoid(l) / M": -_sigmoid(f) / M,
            "the gradient of -log(1 - D): sigmoid(l) / M": _sigmoid(f) / M,
        },
    }


def optimal_discriminator_slips(p_data, p_g) -> dict[str, object]:
    p, q = _f64(p_data, p_g)
    return {
        "p_g / (p_data + p_g): the probability of FAKE, not of real": lambda: _quiet(
            lambda: np.where(p + q > 0, q / (p + q), 0.5)
        ),
        "p_data / p_g, a density ratio, not a probability": lambda: _quiet(lambda: p / q),
        "0 / 0 = nan where neither distribution puts mass (return 1/2 there)": lambda: _quiet(
            lambda: p / (p + q)
        ),
    }


def jensen_shannon_slips(p, q) -> dict[str, object]:
    p, q = _f64(p, q)
    js = jensen_shannon(p, q)

    def kl(a, b):  # sum a log(a / b), 0 where a = 0 (inf where b = 0 < a)
        return _quiet(lambda: np.where(a > 0, a * np.log(a / b), 0.0).sum(axis=-1))

    def nan_terms():  # every p log(p / m) term taken literally, 0 * log 0 included
        m = 0.5 * (p + q)
        return _naive(lambda: 0.5 * (p * np.log(p / m)).sum(-1) + 0.5 * (q * np.log(q / m)).sum(-1))

    return {
        "log2 (bits) instead of the natural log (nats)": js / np.log(2),
        "the 1/2 in front of each KL is missing": 2 * js,
        "KL(p || q) + KL(q || p), the symmetrized KL, against each other instead of against the "
        "mixture m = (p + q) / 2": lambda: kl(p, q) + kl(q, p),
        "0 * log(0) = nan where p or q is 0 (those terms are 0)": nan_terms,
    }
