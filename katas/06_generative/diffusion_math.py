"""Diffusion models' math: noise schedules, the forward and reverse process, the training loss.

Implement with NumPy. A diffusion model destroys data with noise in T small Gaussian steps,
q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I), and learns to undo one step at a time.
Two facts make it trainable. (1) The steps compose: x_t can be sampled from x_0 in one shot,
x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, with abar_t the product of (1 - beta_s) up to t.
(2) Given x_0, the step back q(x_{t-1} | x_t, x_0) is a Gaussian in closed form. So a network
eps_theta(x_t, t) is trained to predict the noise eps (a plain mean squared error), and sampling
runs the reverse process from pure noise: each step predicts x_0 from the noise estimate and
moves to the posterior at the predicted x_0 (DDPM), or jumps straight to an earlier t (DDIM).

Conventions (those of diffusers, which a later kata compares against): timesteps run
t = 0 .. T-1 (the paper's t = 1 .. T shifted by one); t is an int array (N,), one timestep per
example, broadcast over the trailing dims of x (N, ...): reshape abar[t] to (N, 1, ..., 1).
Randomness is an argument: the noise is passed in. Nothing is clipped to [-1, 1] (diffusers
clips the predicted x_0 by default: pass clip_sample=False there to compare).
Run: pytest katas/06_generative/test_diffusion_math.py
"""

import numpy as np


def linear_betas(T: int, start: float = 1e-4, end: float = 0.02) -> np.ndarray:
    """Ho et al.'s linear noise schedule: T betas evenly spaced from start to end.

    Math:
        beta_t = start + (end - start) * t / (T - 1),   t = 0 .. T-1   (both ends included)

    Shapes:
        returns (T,).

    Args:
        T: the number of diffusion steps (1000 in DDPM).
        start, end: beta_0 and beta_{T-1} (1e-4 and 0.02 in DDPM).

    Returns:
        betas: float64 (T,).

    Numerics:
        float64: every later coefficient is built from these numbers.

    Reference:
        torch.linspace(start, end, T); diffusers' beta_schedule="linear"
    """
    raise NotImplementedError


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol & Dhariwal's cosine schedule: betas that make abar follow a squared cosine.

    Math:
        f(u) = cos(((u + s) / (1 + s)) * pi / 2) ** 2          u = t / T in [0, 1]
        beta_t = min(1 - f((t + 1) / T) / f(t / T), max_beta)   t = 0 .. T-1
        (abar_t = f((t + 1) / T) / f(0): the ratio form does not need f(0). The small offset s
        keeps beta_0 from being tiny; f(1) = 0 makes the last beta 1, hence the clip.)

    Shapes:
        returns (T,).

    Args:
        T: the number of diffusion steps.
        s: the offset (0.008 in the paper).
        max_beta: the clip (0.999): beta = 1 would make abar_{T-1} = 0.

    Returns:
        betas: float64 (T,), in (0, max_beta].

    Numerics:
        Without the clip, abar_{T-1} = 0 and predicting x_0 divides by sqrt(0).

    Reference:
        Nichol & Dhariwal 2021, eq. 17; diffusers' betas_for_alpha_bar ("squaredcos_cap_v2")
    """
    raise NotImplementedError


def alphas_cumprod(betas: np.ndarray) -> np.ndarray:
    """abar_t, the share of x_0's signal (squared) that survives steps 0 .. t.

    Math:
        alpha_t = 1 - beta_t;   abar_t = alpha_0 * alpha_1 * ... * alpha_t   (abar_0 = alpha_0)

    Shapes:
        betas: (T,); returns (T,).

    Args:
        betas: a noise schedule.

    Returns:
        abar: float64 (T,), decreasing from 1 - beta_0 towards 0.

    Numerics:
        A cumulative product: np.cumprod, no loop.

    Reference:
        torch.cumprod(1 - betas, dim=0); diffusers' scheduler.alphas_cumprod
    """
    raise NotImplementedError


def q_sample(
    x0: np.ndarray, t: np.ndarray, noise: np.ndarray, alphas_cumprod: np.ndarray
) -> np.ndarray:
    """Sample x_t ~ q(x_t | x_0) in one shot: the forward process, with the noise passed in.

    Math:
        x_t = sqrt(abar_t) * x_0 + sqrt(1 - abar_t) * noise
        (mean sqrt(abar_t) x_0, variance 1 - abar_t: what t + 1 single steps give)

    Shapes:
        x0, noise: (N, ...) (vectors (N, D), images (N, C, H, W)); t: (N,) ints in [0, T);
        alphas_cumprod: (T,); returns (N, ...).

    Args:
        x0: clean data. t: one timestep per example. noise: standard normal, x0's shape.
        alphas_cumprod: abar from alphas_cumprod().

    Returns:
        x_t, in x0's dtype.

    Numerics:
        Float32 x0 gives float32 x_t: compute the coefficients from the float64 schedule, then
        cast (1 - abar in float32 loses digits when abar ~ 1).

    Reference:
        diffusers' DDPMScheduler.add_noise(x0, noise, t)
    """
    raise NotImplementedError


def posterior_mean_variance(
    x0: np.ndarray, xt: np.ndarray, t: np.ndarray, betas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the forward process's step back, q(x_{t-1} | x_t, x_0).

    Math:
        abar_{t-1}, with abar_{-1} = 1 (at t = 0 the step back lands on x_0 itself)
        mean = sqrt(abar_{t-1}) * beta_t / (1 - abar_t) * x_0
             + sqrt(alpha_t) * (1 - abar_{t-1}) / (1 - abar_t) * x_t
        variance = beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) * beta_t    (0 at t = 0)
        (Bayes: q(x_{t-1} | x_t, x_0) is proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0).)

    Shapes:
        x0, xt: (N, ...); t: (N,); betas: (T,); mean: (N, ...); variance: (N,).

    Args:
        x0: clean data. xt: its noisy version at step t. t: one timestep per example.
        betas: the schedule (abar comes from alphas_cumprod(betas)).

    Returns:
        (mean, variance), both in x0's dtype.

    Numerics:
        abar[t - 1] at t = 0 is abar[-1], the LAST entry: NumPy wraps; use 1 there.

    Reference:
        Ho et al. 2020, eqs. 6-7; diffusers' DDPMScheduler.step's coefficients and _get_variance
    """
    raise NotImplementedError


def predict_x0_from_eps(
    xt: np.ndarray, t: np.ndarray, eps: np.ndarray, alphas_cumprod: np.ndarray
) -> np.ndarray:
    """Invert q_sample: the x_0 that the noise eps would have turned into x_t.

    Math:
        x0_pred = (x_t - sqrt(1 - abar_t) * eps) / sqrt(abar_t)

    Shapes:
        xt, eps: (N, ...); t: (N,); alphas_cumprod: (T,); returns (N, ...).

    Args:
        xt: the noisy sample. t: one timestep per example.
        eps: the noise (the network's prediction eps_theta(x_t, t), or the true noise).
        alphas_cumprod: abar.

    Returns:
        x0_pred, in xt's dtype.

    Numerics:
        At large t, sqrt(abar_t) is tiny: errors in eps are magnified (that is why samplers
        often clip x0_pred; this kata does not).

    Reference:
        Ho et al. 2020, eq. 15; diffusers' pred_original_sample (prediction_type="epsilon")
    """
    raise NotImplementedError


def eps_loss(eps_pred: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """The training objective: mean squared error between the predicted and the true noise.

    Math:
        L_simple = mean over the batch and every element of (eps_pred - eps) ** 2
        (Ho et al. write ||eps - eps_theta||^2, summed over pixels; implementations average
        every element, which only rescales the learning rate.)

    Shapes:
        eps_pred, eps: (N, ...); returns a scalar.

    Args:
        eps_pred: the network's output eps_theta(q_sample(x0, t, eps), t).
        eps: the noise that q_sample used.

    Returns:
        The loss, a NumPy scalar (0-d) in eps's dtype.

    Numerics:
        A plain mean: no reduction over one axis only.

    Reference:
        torch.nn.functional.mse_loss(eps_pred, eps) (reduction="mean"); Ho et al. eq. 14
    """
    raise NotImplementedError


def ddpm_step(
    xt: np.ndarray,
    t: np.ndarray,
    eps_pred: np.ndarray,
    betas: np.ndarray,
    noise: np.ndarray,
    variance: str = "small",
) -> np.ndarray:
    """One DDPM reverse step, x_t -> x_{t-1}, from the predicted noise.

    Math:
        mean = (x_t - beta_t / sqrt(1 - abar_t) * eps_pred) / sqrt(alpha_t)
             (= posterior_mean_variance's mean at x_0 = predict_x0_from_eps(x_t, t, eps_pred))
        sigma_t^2 = beta_tilde_t ("small") or beta_t ("large")
        x_{t-1} = mean + sigma_t * noise          for t > 0
        x_{t-1} = mean                            for t = 0: the last step adds no noise

    Shapes:
        xt, eps_pred, noise: (N, ...); t: (N,); betas: (T,); returns (N, ...).

    Args:
        xt: the current sample. t: one timestep per example (they may differ).
        eps_pred: the network's noise prediction. betas: the schedule.
        noise: standard normal, xt's shape. variance: "small" or "large" (else ValueError).

    Returns:
        x_{t-1}, in xt's dtype. noise is not modified.

    Numerics:
        Do not zero the caller's noise in place for t = 0: mask the coefficient instead.

    Reference:
        Ho et al. 2020, Algorithm 2; diffusers' DDPMScheduler.step (variance_type "fixed_small"
        or "fixed_large", clip_sample=False)
    """
    raise NotImplementedError


def ddim_step(
    xt: np.ndarray,
    t: np.ndarray,
    t_prev: np.ndarray,
    eps_pred: np.ndarray,
    alphas_cumprod: np.ndarray,
    eta: float,
    noise: np.ndarray,
) -> np.ndarray:
    """One DDIM step, x_t -> x_{t_prev}, possibly skipping many timesteps.

    Math:
        abar_prev = abar[t_prev], and 1 where t_prev = -1 (past the last step: clean data)
        x0_pred = predict_x0_from_eps(x_t, t, eps_pred)
        sigma = eta * sqrt((1 - abar_prev) / (1 - abar_t)) * sqrt(1 - abar_t / abar_prev)
        x_prev = sqrt(abar_prev) * x0_pred
               + sqrt(1 - abar_prev - sigma^2) * eps_pred      ("direction pointing to x_t")
               + sigma * noise
        eta = 0: deterministic; eta = 1 with t_prev = t - 1: exactly DDPM's "small" step.

    Shapes:
        xt, eps_pred, noise: (N, ...); t, t_prev: (N,) with -1 <= t_prev < t;
        alphas_cumprod: (T,); returns (N, ...).

    Args:
        xt: the current sample. t, t_prev: where each example is and where it goes.
        eps_pred: the network's noise prediction. alphas_cumprod: abar.
        eta: 0 <= eta <= 1, how much fresh noise. noise: standard normal (unused when eta = 0).

    Returns:
        x_{t_prev}, in xt's dtype.

    Numerics:
        1 - abar_prev - sigma^2 >= 0 for eta <= 1, but rounding can dip below 0: clip at 0.
        alphas_cumprod[-1] is the last entry, not 1: handle t_prev = -1 explicitly.

    Reference:
        Song et al. 2021, eqs. 12 and 16; diffusers' DDIMScheduler.step (clip_sample=False,
        set_alpha_to_one=True, variance_noise=noise)
    """
    raise NotImplementedError
