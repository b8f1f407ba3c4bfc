"""Diffusion models' math: noise schedules, the forward process, the posterior, the training
loss, and one reverse step of DDPM and of DDIM.

Timesteps run t = 0 .. T-1 (diffusers' convention: the paper's t = 1 .. T, shifted by one), and
every function takes one timestep per example, t of shape (N,), broadcast over the trailing dims
of x (N, ...). Schedules are float64; results keep x's dtype. References: Ho et al. 2020
("Denoising Diffusion Probabilistic Models", eqs. 4, 7, 12, Algorithm 2); Nichol & Dhariwal 2021
("Improved DDPM", eq. 17, the cosine schedule); Song et al. 2021 ("DDIM", eqs. 12 and 16).
"""

import numpy as np


def _col(v, x):
    """A per-example vector v (N,) as (N, 1, ..., 1), to broadcast over x's trailing dims."""
    return v.reshape((-1,) + (1,) * (x.ndim - 1))


def _at(coef, t, x):
    """The schedule's value at each example's timestep, shaped to broadcast against x."""
    return _col(coef[t], x)  # (N, 1, ..., 1)


def _previous(abar):
    """abar_{t-1} for every t, with abar_{-1} = 1: before step 0 nothing has been noised."""
    return np.append(1.0, abar[:-1])  # (T,)


def linear_betas(T, start=1e-4, end=0.02):
    """Ho et al.'s linear schedule: T betas evenly spaced from start to end (both included)."""
    return np.linspace(start, end, T, dtype=np.float64)  # (T,)


def cosine_betas(T, s=0.008, max_beta=0.999):
    """Nichol & Dhariwal's cosine schedule: betas that make abar follow a squared cosine."""
    u = np.arange(T + 1, dtype=np.float64) / T  # t / T for t = 0 .. T
    f = np.cos((u + s) / (1 + s) * np.pi / 2) ** 2  # (T + 1,): abar up to the factor f(0)
    betas = 1 - f[1:] / f[:-1]  # beta_t = 1 - abar_{t+1} / abar_t; f(0) cancels in the ratio
    # f(T) = cos(pi/2)^2 ~ 0 makes the last beta 1: x_T would forget x_0 entirely and
    # abar_{T-1} = 0 would divide by zero when predicting x_0. Clip it.
    return np.minimum(betas, max_beta)


def alphas_cumprod(betas):
    """abar_t = prod_{s <= t} (1 - beta_s): how much of x_0's signal survives t + 1 steps."""
    return np.cumprod(1 - betas)  # (T,); abar_0 = 1 - beta_0


def q_sample(x0, t, noise, alphas_cumprod):
    """Sample x_t ~ q(x_t | x_0) in one shot, with the noise passed in."""
    abar = _at(alphas_cumprod, t, x0)  # (N, 1, ..., 1), float64
    # Coefficients in float64, then cast: 1 - abar in float32 loses digits when abar ~ 1.
    signal, spread = np.sqrt(abar).astype(x0.dtype), np.sqrt(1 - abar).astype(x0.dtype)
    return signal * x0 + spread * noise


def posterior_mean_variance(x0, xt, t, betas):
    """Mean and variance of q(x_{t-1} | x_t, x_0), Ho et al. eq. 7."""
    abar = alphas_cumprod(betas)
    b, a = _at(betas, t, x0), _at(1 - betas, t, x0)
    ab, ab_prev = _at(abar, t, x0), _at(_previous(abar), t, x0)
    coef_x0 = np.sqrt(ab_prev) * b / (1 - ab)
    coef_xt = np.sqrt(a) * (1 - ab_prev) / (1 - ab)
    mean = coef_x0.astype(x0.dtype) * x0 + coef_xt.astype(x0.dtype) * xt
    # beta_tilde_t <= beta_t: knowing x_0 leaves less doubt about x_{t-1}; 0 at t = 0.
    variance = (1 - _previous(abar)[t]) / (1 - abar[t]) * betas[t]  # (N,)
    return mean, variance.astype(x0.dtype)


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    """Invert q_sample: the x_0 that noise eps would have turned into x_t."""
    abar = _at(alphas_cumprod, t, xt)
    x0 = (xt - np.sqrt(1 - abar) * eps) / np.sqrt(abar)
    return x0.astype(xt.dtype)


def eps_loss(eps_pred, eps):
    """Ho et al.'s simple loss: the mean squared error between predicted and true noise."""
    return np.mean((eps_pred - eps) ** 2)  # a scalar, averaged over the batch and every pixel


def ddpm_step(xt, t, eps_pred, betas, noise, variance="small"):
    """One DDPM reverse step x_t -> x_{t-1} (Ho et al. Algorithm 2, line 4)."""
    abar = alphas_cumprod(betas)
    b, a, ab = _at(betas, t, xt), _at(1 - betas, t, xt), _at(abar, t, xt)
    # mu_theta: take out the predicted noise's share of x_t, then undo step t's shrinking.
    mean = (xt - b / np.sqrt(1 - ab) * eps_pred) / np.sqrt(a)
    if variance == "small":  # beta_tilde_t, the posterior's variance (diffusers' fixed_small)
        var = (1 - _previous(abar)[t]) / (1 - abar[t]) * betas[t]  # (N,)
    elif variance == "large":  # beta_t (diffusers' fixed_large)
        var = betas[t]
    else:
        raise ValueError(f"variance must be 'small' or 'large', got {variance!r}")
    # No noise on the last step (t = 0): what comes out is x_0, the model's mean.
    sigma = np.where(t > 0, np.sqrt(var), 0.0)  # (N,)
    return (mean + _col(sigma, xt) * noise).astype(xt.dtype)


def ddim_step(xt, t, t_prev, eps_pred, alphas_cumprod, eta, noise):
    """One DDIM step x_t -> x_{t_prev} (Song et al. eq. 12); eta = 0 is deterministic."""
    ab = _at(alphas_cumprod, t, xt)
    # t_prev = -1 means "past the last step": abar = 1, the clean data.
    ab_prev = _col(np.where(t_prev >= 0, alphas_cumprod[t_prev], 1.0), xt)
    x0_pred = predict_x0_from_eps(xt, t, eps_pred, alphas_cumprod)
    # sigma_t(eta), eq. 16: eta = 1 gives DDPM's posterior std, eta = 0 no noise at all.
    sigma = eta * np.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
    # The rest of x_{t_prev}'s variance, 1 - abar_prev, is spent on the predicted noise
    # ("the direction pointing to x_t"); max(., 0) guards against a rounding below zero.
    direction = np.sqrt(np.maximum(1 - ab_prev - sigma**2, 0.0)) * eps_pred
    return (np.sqrt(ab_prev) * x0_pred + direction + sigma * noise).astype(xt.dtype)
