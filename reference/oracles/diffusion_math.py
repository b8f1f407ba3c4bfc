"""Oracle for 06_generative/diffusion_math: the same formulas written independently in torch
float64, following diffusers' DDPMScheduler / DDIMScheduler (clip_sample=False,
set_alpha_to_one=True, prediction_type="epsilon"); the known slips (NumPy, float64); and two
independent checks of the math: the forward chain run one step at a time, and the posterior
q(x_{t-1} | x_t, x_0) computed on a grid as the normalized product of two Gaussians.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor

# ----------------------------------------------------------------------------- schedules


def linear_betas(T: int, start: float = 1e-4, end: float = 0.02) -> np.ndarray:
    """diffusers' beta_schedule="linear", in float64 (diffusers builds it in float32)."""
    return numpy(torch.linspace(start, end, T, dtype=torch.float64))


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999, clip=True) -> np.ndarray:
    """diffusers' betas_for_alpha_bar ("squaredcos_cap_v2"), step by step as diffusers writes it."""

    def alpha_bar(u):
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    betas = [1 - alpha_bar((i + 1) / T) / alpha_bar(i / T) for i in range(T)]
    out = torch.tensor(betas, dtype=torch.float64)
    return numpy(out.clamp(max=max_beta) if clip else out)


def alphas_cumprod(betas) -> np.ndarray:
    return numpy(torch.cumprod(1.0 - tensor(betas), dim=0))


# ----------------------------------------------------------------------------- one step


def _extract(values: torch.Tensor, t, ndim: int) -> torch.Tensor:
    """values[t] viewed as (N, 1, ..., 1) (guided-diffusion's _extract_into_tensor)."""
    return values[tensor(t)].view(-1, *([1] * (ndim - 1)))


def _abar_prev(abar: torch.Tensor, t) -> torch.Tensor:
    """alpha_prod_t_prev: abar[t - 1], and 1 where t - 1 < 0 (diffusers' final_alpha_cumprod)."""
    t = tensor(t)
    return torch.where(t > 0, abar[(t - 1).clamp(min=0)], torch.ones((), dtype=abar.dtype))


def q_sample(x0, t, noise, abar) -> np.ndarray:
    """DDPMScheduler.add_noise."""
    ab = _extract(tensor(abar), t, np.ndim(x0))
    return numpy(ab**0.5 * tensor(x0) + (1 - ab) ** 0.5 * tensor(noise))


def posterior_mean_variance(x0, xt, t, betas) -> tuple[np.ndarray, np.ndarray]:
    """Ho et al. eq. 7, with diffusers' coefficient names."""
    b = tensor(betas)
    abar = torch.cumprod(1 - b, dim=0)
    ab_t, ab_prev = abar[tensor(t)], _abar_prev(abar, t)
    view = (-1, *([1] * (np.ndim(x0) - 1)))
    pred_original_sample_coeff = (ab_prev**0.5 * b[tensor(t)] / (1 - ab_t)).view(view)
    current_sample_coeff = ((1 - b[tensor(t)]) ** 0.5 * (1 - ab_prev) / (1 - ab_t)).view(view)
    mean = pred_original_sample_coeff * tensor(x0) + current_sample_coeff * tensor(xt)
    variance = (1 - ab_prev) / (1 - ab_t) * b[tensor(t)]
    return numpy(mean), numpy(variance)


def predict_x0(xt, t, eps, abar) -> np.ndarray:
    ab = _extract(tensor(abar), t, np.ndim(xt))
    return numpy((tensor(xt) - (1 - ab) ** 0.5 * tensor(eps)) / ab**0.5)


def eps_loss(eps_pred, eps) -> np.ndarray:
    return numpy(F.mse_loss(tensor(eps_pred), tensor(eps)))


def ddpm_step(xt, t, eps_pred, betas, noise, variance="small") -> np.ndarray:
    """DDPMScheduler.step: predict x_0, take the posterior mean there, add sigma noise if t > 0."""
    abar = alphas_cumprod(betas)
    x0_pred = predict_x0(xt, t, eps_pred, abar)
    mean, var = posterior_mean_variance(x0_pred, xt, t, betas)
    var = tensor(var) if variance == "small" else tensor(betas)[tensor(t)]
    std = torch.where(tensor(t) > 0, var**0.5, torch.zeros_like(var))
    return numpy(tensor(mean) + std.view(-1, *([1] * (np.ndim(xt) - 1))) * tensor(noise))


def ddim_step(xt, t, t_prev, eps_pred, abar, eta, noise) -> np.ndarray:
    """DDIMScheduler.step with variance_noise passed in; t_prev = -1 uses abar_prev = 1."""
    view = (-1, *([1] * (np.ndim(xt) - 1)))
    ab = tensor(abar)
    alpha_prod_t = ab[tensor(t)].view(view)
    alpha_prod_t_prev = _abar_prev(ab, np.asarray(t_prev) + 1).view(view)
    beta_prod_t, beta_prod_t_prev = 1 - alpha_prod_t, 1 - alpha_prod_t_prev
    e = tensor(eps_pred)
    pred_original_sample = (tensor(xt) - beta_prod_t**0.5 * e) / alpha_prod_t**0.5
    variance = (beta_prod_t_prev / beta_prod_t) * (1 - alpha_prod_t / alpha_prod_t_prev)
    std_dev_t = eta * variance**0.5
    pred_sample_direction = (1 - alpha_prod_t_prev - std_dev_t**2).clamp(min=0) ** 0.5 * e
    prev = alpha_prod_t_prev**0.5 * pred_original_sample + pred_sample_direction
    return numpy(prev + std_dev_t * tensor(noise))


# ----------------------------------------------------------------------------- known slips
# label -> what that mistake returns (NumPy float64), so a failing test can name it.


def _f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def _col(v, x):
    return np.reshape(v, (-1,) + (1,) * (np.ndim(x) - 1))


def cosine_slips(T, s, max_beta) -> dict:
    return {"the betas not clipped at max_beta": cosine_betas(T, s, max_beta, clip=False)}


def alphas_cumprod_slips(betas) -> dict:
    (b,) = _f64(betas)
    return {
        "the product starts one step late: abar_0 = 1, so abar_t is the paper's abar_{t-1}": (
            np.cumprod(np.append(1.0, 1 - b[:-1]))
        ),
        "the cumulative product of the betas, not of alpha = 1 - beta": np.cumprod(b),
    }


def q_sample_slips(x0, t, noise, abar) -> dict:
    x0, noise, abar = _f64(x0, noise, abar)
    ab = _col(abar[t], x0)
    slips = {
        "abar * x0: the sqrt on the signal's coefficient is missing": (
            ab * x0 + np.sqrt(1 - ab) * noise
        ),
        "(1 - abar) * noise: the noise scaled by its variance, not its std": (
            np.sqrt(ab) * x0 + (1 - ab) * noise
        ),
    }
    if x0.ndim >= 2 and x0.shape[0] == x0.shape[-1]:
        wrong = abar[t]  # (N,) against (N, ..., N): lines up with the last axis, not the first
        slips["abar[t] (N,) broadcast along the last axis: reshape it to (N, 1, ..., 1)"] = (
            np.sqrt(wrong) * x0 + np.sqrt(1 - wrong) * noise
        )
    return slips


def posterior_slips(x0, xt, t, betas) -> dict:
    """{"mean": {...}, "variance": {...}}."""
    x0, xt, b = _f64(x0, xt, betas)
    abar = np.cumprod(1 - b)
    wrapped = np.roll(abar, 1)[t]  # abar[t - 1] read at t = 0 as abar[-1]
    ab, prev = abar[t], np.append(1.0, abar[:-1])[t]

    def mean(ab_prev, alpha_coef):
        c0 = np.sqrt(ab_prev) * b[t] / (1 - ab)
        c1 = np.sqrt(alpha_coef) * (1 - ab_prev) / (1 - ab)
        return _col(c0, x0) * x0 + _col(c1, x0) * xt

    return {
        "mean": {
            "sqrt(abar_t) where sqrt(alpha_t) = sqrt(1 - beta_t) belongs": mean(prev, ab),
            "abar_{t-1} at t = 0 read as alphas_cumprod[-1] (it wraps); abar_{-1} is 1": (
                mean(wrapped, 1 - b[t])
            ),
        },
        "variance": {
            "beta_t, not the posterior's beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t": (
                b[t]
            ),
            "abar_{t-1} at t = 0 read as alphas_cumprod[-1] (it wraps); abar_{-1} is 1": (
                (1 - wrapped) / (1 - ab) * b[t]
            ),
        },
    }


def predict_x0_slips(xt, t, eps, abar) -> dict:
    xt, eps, abar = _f64(xt, eps, abar)
    ab = _col(abar[t], xt)
    return {
        "multiplied by sqrt(abar) where q_sample's sqrt(abar) must be divided out": (
            (xt - np.sqrt(1 - ab) * eps) * np.sqrt(ab)
        ),
        "x_t - sqrt(1 - abar) eps without dividing by sqrt(abar)": xt - np.sqrt(1 - ab) * eps,
    }


def eps_loss_slips(eps_pred, eps) -> dict:
    sq = (np.subtract(*_f64(eps_pred, eps))) ** 2
    return {
        "summed instead of averaged": sq.sum(),
        "summed over each example's pixels, then averaged over the batch (the paper's "
        "||eps - eps_theta||^2; implementations average every element)": (
            sq.reshape(len(sq), -1).sum(axis=1).mean()
        ),
    }


def ddpm_slips(xt, t, eps_pred, betas, noise, variance) -> dict:
    xt, eps_pred, b, noise = _f64(xt, eps_pred, betas, noise)
    abar = np.cumprod(1 - b)
    ab, a = _col(abar[t], xt), _col(1 - b[t], xt)
    mean = (xt - _col(b[t], xt) / np.sqrt(1 - ab) * eps_pred) / np.sqrt(a)
    var = (1 - np.append(1.0, abar[:-1])[t]) / (1 - abar[t]) * b[t] if variance == "small" else b[t]
    return {
        "noise added at t = 0 too: the last step returns the mean, no noise": (
            mean + _col(np.sqrt(var), xt) * noise if np.any(t == 0) else None
        ),
        "eps_pred scaled by sqrt(1 - abar_t) (q_sample's coefficient), not beta_t / "
        "sqrt(1 - abar_t)": (
            (xt - np.sqrt(1 - ab) * eps_pred) / np.sqrt(a)
            + _col(np.where(t > 0, np.sqrt(var), 0), xt) * noise
        ),
    }


def ddim_slips(xt, t, t_prev, eps_pred, abar, eta, noise) -> dict:
    xt, eps_pred, abar, noise = _f64(xt, eps_pred, abar, noise)
    ab = _col(abar[t], xt)
    ab_prev = _col(np.where(t_prev >= 0, abar[t_prev], 1.0), xt)
    x0 = (xt - np.sqrt(1 - ab) * eps_pred) / np.sqrt(ab)
    var = (1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)

    def step(sigma, ab_prev=ab_prev, keep_sigma=True):
        rest = 1 - ab_prev - (sigma**2 if keep_sigma else 0)
        return np.sqrt(ab_prev) * x0 + np.sqrt(np.maximum(rest, 0)) * eps_pred + sigma * noise

    wrapped = _col(abar[t_prev], xt)
    with np.errstate(invalid="ignore"):  # a wrapped abar_prev < abar_t: sqrt of a negative
        wrapped_step = step(eta * np.sqrt((1 - wrapped) / (1 - ab) * (1 - ab / wrapped)), wrapped)
    return {
        "sigma without its sqrt: eta * (1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)": (
            step(eta * var)
        ),
        "the direction term's sqrt(1 - abar_prev) without subtracting sigma^2": (
            step(eta * np.sqrt(var), keep_sigma=False)
        ),
        "t_prev = -1 read as alphas_cumprod[-1] (it wraps); abar_{-1} is 1": (
            wrapped_step if np.any(t_prev < 0) else None
        ),
    }


# ----------------------------------------------------------------------------- independent checks


def forward_chain(x0, t: int, betas, rng: np.random.Generator) -> np.ndarray:
    """x_t by t + 1 single steps x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) z_s, from x_{-1} = x0
    (Ho et al. eq. 2, one Gaussian step at a time: no closed form used)."""
    x = np.asarray(x0, dtype=np.float64)
    for s in range(t + 1):
        x = np.sqrt(1 - betas[s]) * x + np.sqrt(betas[s]) * rng.standard_normal(x.shape)
    return x


def posterior_on_grid(x0, xt, t, betas, points: int = 20001) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of p(x_{t-1}) proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0), by
    integrating the product of the two Gaussians on a grid; scalars per example, t >= 1.

    x0, xt: (N,); t: (N,). The posterior lies between its two factors' peaks: the grid spans
    both, each +- 12 standard deviations.
    """
    x0, xt, b = _f64(x0, xt, betas)
    abar = np.cumprod(1 - b)
    prior_mean, prior_var = np.sqrt(abar[t - 1]) * x0, 1 - abar[t - 1]  # q(x_{t-1} | x_0)
    step_peak, step_sd = xt / np.sqrt(1 - b[t]), np.sqrt(b[t] / (1 - b[t]))
    lo = np.minimum(prior_mean - 12 * np.sqrt(prior_var), step_peak - 12 * step_sd)
    hi = np.maximum(prior_mean + 12 * np.sqrt(prior_var), step_peak + 12 * step_sd)
    x = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, points)  # (N, G) grid of x_{t-1}
    log_prior = -0.5 * (x - prior_mean[:, None]) ** 2 / prior_var[:, None]
    # q(x_t | x_{t-1}) = N(x_t; sqrt(1 - beta_t) x_{t-1}, beta_t), as a function of x_{t-1}
    log_step = -0.5 * (xt[:, None] - np.sqrt(1 - b[t])[:, None] * x) ** 2 / b[t][:, None]
    log_p = log_prior + log_step
    w = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)  # the ends weigh ~exp(-72): a plain sum is the trapezoid
    mean = (w * x).sum(axis=1)
    return mean, (w * (x - mean[:, None]) ** 2).sum(axis=1)
