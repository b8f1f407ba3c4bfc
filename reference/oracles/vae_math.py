"""Oracle for 06_generative/vae_math: torch.distributions, F.binary_cross_entropy_with_logits and
autograd in float64; the known slips (NumPy, float64); and a tiny latent-variable model whose
log p(x) and true posterior are computed on a grid, to make the ELBO concrete.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from reference.oracles import numpy, tensor


def _q(mu: torch.Tensor, logvar: torch.Tensor) -> Normal:
    """q(z | x) = N(mu, exp(logvar)), parameterized by the standard deviation as torch wants."""
    return Normal(mu, torch.exp(0.5 * logvar), validate_args=False)


def reparameterize(mu, logvar, eps, dz=None) -> dict[str, np.ndarray]:
    """z = mu + exp(0.5 * logvar) * eps (torch's rsample with eps passed in); with dz, the
    gradients of sum(z * dz) with respect to mu and logvar, by autograd."""
    tmu, tlv = tensor(mu, grad=True), tensor(logvar, grad=True)
    z = tmu + torch.exp(0.5 * tlv) * tensor(eps)
    out = {"z": numpy(z)}
    if dz is not None:
        dmu, dlogvar = torch.autograd.grad(z, (tmu, tlv), tensor(dz))
        out.update(mu=numpy(dmu), logvar=numpy(dlogvar))
    return out


def gaussian_kl(mu, logvar) -> np.ndarray:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample: kl_divergence summed over K."""
    tmu, tlv = tensor(mu), tensor(logvar)
    prior = Normal(torch.zeros_like(tmu), torch.ones_like(tmu))
    return numpy(kl_divergence(_q(tmu, tlv), prior).sum(dim=-1))


def negative_elbo(x, logits, mu, logvar, dloss=None) -> dict[str, np.ndarray]:
    """Per-sample BCE-with-logits summed over the data axes, plus the KL; with dloss, the
    gradients of sum(loss * dloss) with respect to the logits, mu and logvar, by autograd."""
    tl, tmu, tlv = tensor(logits, grad=True), tensor(mu, grad=True), tensor(logvar, grad=True)
    bce = F.binary_cross_entropy_with_logits(tl, tensor(x), reduction="none")
    prior = Normal(torch.zeros_like(tmu), torch.ones_like(tmu))
    loss = bce.flatten(1).sum(dim=1) + kl_divergence(_q(tmu, tlv), prior).sum(dim=-1)
    out = {"loss": numpy(loss)}
    if dloss is not None:
        g = torch.autograd.grad(loss, (tl, tmu, tlv), tensor(dloss))
        out.update(zip(("recon_logits", "mu", "logvar"), map(numpy, g)))
    return out


# ----------------------------------------------------------------------------- known slips
# label -> what that mistake returns (float64 NumPy), so a failing test can name it.


def _f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def reparameterize_slips(mu, logvar, eps) -> dict[str, np.ndarray]:
    mu, logvar, eps = _f64(mu, logvar, eps)
    variance = mu + np.exp(logvar) * eps
    return {
        "logvar used as the standard deviation: mu + logvar * eps": mu + logvar * eps,
        "exp(logvar) is the variance, not the standard deviation: use exp(0.5 * logvar)": variance,
    }


def reparameterize_backward_slips(dz, mu, logvar, eps) -> dict[str, dict]:
    dz, mu, logvar, eps = _f64(dz, mu, logvar, eps)
    std = np.exp(0.5 * logvar)
    return {
        "mu": {"dmu = dz * std: but z moves one for one with mu": dz * std},
        "logvar": {
            "the chain rule's 0.5 is missing: d exp(0.5 * logvar) / d logvar = "
            "0.5 * exp(0.5 * logvar)": dz * eps * std,
            "dlogvar = dz * eps: the derivative of std = exp(0.5 * logvar) is left out": dz * eps,
        },
    }


def kl_slips(mu, logvar) -> dict[str, np.ndarray]:
    mu, logvar = _f64(mu, logvar)
    terms = 0.5 * (np.exp(logvar) + mu**2 - 1 - logvar)  # (N, K)
    std_for_var = 0.5 * (np.exp(0.5 * logvar) + mu**2 - 1 - logvar).sum(axis=-1)
    return {
        "sign flipped: 0.5 * sum(1 + logvar - mu**2 - exp(logvar)) is -KL (the term the ELBO "
        "adds), not the KL": -terms.sum(axis=-1),
        "the 0.5 in front of the sum is missing": 2 * terms.sum(axis=-1),
        "averaged over the latent dims instead of summed: the dims are independent, so their "
        "KLs add": terms.mean(axis=-1),
        "the standard deviation exp(0.5 * logvar) where the variance exp(logvar) belongs": (
            std_for_var
        ),
    }


def naive_bce(x, logits) -> np.ndarray:
    """BCE from sigmoid probabilities, -(x log p + (1 - x) log(1 - p)): log(0) for large logits."""
    x, logits = _f64(x, logits)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        p = 1 / (1 + np.exp(-logits))
        return -(x * np.log(p) + (1 - x) * np.log(1 - p))


def negative_elbo_slips(x, logits, mu, logvar) -> dict[str, object]:
    x, logits, mu, logvar = _f64(x, logits, mu, logvar)
    axes = tuple(range(1, x.ndim))
    kl = gaussian_kl(mu, logvar)
    bce = numpy(F.binary_cross_entropy_with_logits(tensor(logits), tensor(x), reduction="none"))
    naive = naive_bce(x, logits)
    mean_recon, minus_kl = bce.mean(axis=axes) + kl, bce.sum(axis=axes) - kl
    return {
        "the reconstruction term averaged over the data dims instead of summed "
        "(F.binary_cross_entropy's default reduction='mean' does this)": mean_recon,
        "the KL subtracted instead of added: the loss is -ELBO = reconstruction + KL": minus_kl,
        "the reconstruction from sigmoid probabilities: log(1 - sigmoid(100)) = log(0) = -inf, "
        "and 0 * log(0) = nan": lambda: (
            None if np.all(np.isfinite(naive)) else naive.sum(axes) + kl
        ),
    }


def negative_elbo_backward_slips(dloss, x, logits, mu, logvar) -> dict[str, dict]:
    dloss, x, logits, mu, logvar = _f64(dloss, x, logits, mu, logvar)
    s = 0.5 + 0.5 * np.tanh(0.5 * logits)
    d = dloss.reshape((-1,) + (1,) * (x.ndim - 1))
    dk = dloss[:, None]
    return {
        "recon_logits": {
            "sigmoid(logits) - x without the incoming dloss": s - x,
            "x - sigmoid(logits): the sign flipped": d * (x - s),
        },
        "mu": {"dmu = mu: the incoming dloss left out": mu},
        "logvar": {
            "the 0.5 of the KL is missing: dloss * (exp(logvar) - 1)": dk * (np.exp(logvar) - 1),
            "the -1 from the KL's -logvar term dropped: dloss * 0.5 * exp(logvar)": (
                dk * 0.5 * np.exp(logvar)
            ),
        },
    }


# ----------------------------------------------------------------------------- a tiny model
# z ~ N(0, 1) (one latent dim), x_d ~ Bernoulli(sigmoid(w_d * z + b_d)) for D pixels.
# With one latent dim, log p(x) = log of the integral of p(x | z) p(z) dz is a 1-D integral:
# a fine grid computes it (and the true posterior p(z | x)) to many digits.

GRID = np.linspace(-14.0, 14.0, 28001)  # the integrands are negligible past |z| = 14


def _log_joint(x, w, b, z=GRID) -> np.ndarray:
    """log p(x, z) = log p(x | z) + log N(z; 0, 1) at every grid point z."""
    logits = z[:, None] * w + b  # (G, D)
    bce = F.binary_cross_entropy_with_logits(
        tensor(logits), tensor(np.broadcast_to(x, logits.shape)), reduction="none"
    )
    return -numpy(bce).sum(axis=1) - 0.5 * z**2 - 0.5 * np.log(2 * np.pi)


def _log_integral(log_f: np.ndarray, z=GRID) -> float:
    """log of the integral of exp(log_f) over the grid (trapezoid rule, stably)."""
    weights = np.full(len(z), z[1] - z[0])
    weights[[0, -1]] *= 0.5
    top = log_f.max()
    return float(top + np.log(np.sum(weights * np.exp(log_f - top))))


def log_px(x, w, b) -> float:
    """log p(x): the log of the integral of p(x | z) p(z) over z."""
    return _log_integral(_log_joint(x, w, b))


def posterior_moments(x, w, b) -> tuple[float, float]:
    """Mean and variance of the true posterior p(z | x) = p(x, z) / p(x)."""
    post = np.exp(_log_joint(x, w, b) - log_px(x, w, b))
    dz = GRID[1] - GRID[0]
    mean = float(np.sum(GRID * post) * dz)
    return mean, float(np.sum((GRID - mean) ** 2 * post) * dz)


def kl_to_posterior(x, w, b, mu: float, logvar: float) -> float:
    """KL(q || p(z | x)) for q = N(mu, exp(logvar)): the integral of q (log q - log p(z | x))."""
    log_post = _log_joint(x, w, b) - log_px(x, w, b)
    log_q = numpy(_q(tensor(mu), tensor(logvar)).log_prob(tensor(GRID)))
    q = np.exp(log_q)
    dz = GRID[1] - GRID[0]
    return float(np.sum(q * (log_q - log_post)) * dz)


def log_q_minus_log_p(z, mu, logvar) -> np.ndarray:
    """log q(z) - log p(z), summed over the latent dims, for q = N(mu, exp(logvar)), p = N(0, I)."""
    tz, tmu, tlv = tensor(z), tensor(mu), tensor(logvar)
    log_q = _q(tmu, tlv).log_prob(tz)
    log_p = Normal(torch.zeros_like(tz), torch.ones_like(tz)).log_prob(tz)
    return numpy((log_q - log_p).sum(dim=-1))
