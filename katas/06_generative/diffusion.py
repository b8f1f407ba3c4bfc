"""A diffusion model that samples: 2-D data against a GAN, then small images.

This kata is written in PyTorch. A diffusion model learns one thing: given a noisy x_t and
its timestep t, predict the noise that was added. Training is regression (no adversary, no
minimax game), so it does not collapse onto a few modes the way a GAN can; sampling runs
the noising process backwards, T small denoising steps from pure noise. The cost: T network
calls per sample instead of one.

Timesteps run t = 0 .. T-1, one per example (diffusion_math's convention). Schedules
(betas, alphas_cumprod) are float64 tensors (T,), e.g.
    betas = torch.from_numpy(diffusion_math.cosine_betas(50))
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)

The training tests train your Denoiser2D on the swiss roll and compare its samples with a
GAN of the same size trained for the same number of steps, by MMD (a two-sample distance);
then your TinyUNet on MNIST digits at 14x14 for 300 steps, and save a grid of samples.
To try it yourself:

    gen = torch.Generator().manual_seed(0)
    model = Denoiser2D(64, 32)
    train_denoiser(model, swiss_roll, 1500, 128, 3e-3, betas, gen)
    x = ddpm_sample(model, (1000, 2), betas, gen)   # plt.scatter(*x.T)

Run: pytest katas/06_generative/test_diffusion.py
"""

import torch
from torch import nn


def swiss_roll(n: int, generator: torch.Generator, noise: float = 0.5, scale: float = 0.1):
    """n points of the swiss roll (sklearn's formula), its (x, z) slice, scaled.

    Math:
        u ~ U[0, 1); angle = 1.5 pi (1 + 2 u)   (one and a half turns)
        point = scale * ((angle cos(angle), angle sin(angle)) + noise * N(0, I_2))

    Shapes:
        Returns (n, 2).

    Args:
        n: how many points.
        generator: every draw comes from it, in this order: u = torch.rand(n, ...), then
            the noise torch.randn(n, 2, ...), both with dtype=torch.float64.
        noise: the standard deviation of the noise, before scaling.
        scale: 0.1 puts the roll in about [-1.4, 1.5]^2, where the noise of the diffusion
            process (variance 1) is of the same size.

    Returns:
        float32 (n, 2).

    Numerics:
        Compute in float64 and cast at the end.

    Reference:
        sklearn.datasets.make_swiss_roll (its X[:, [0, 2]]).
    """
    raise NotImplementedError


def q_sample(
    x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    """Noise clean data to timestep t in one shot: a sample of q(x_t | x_0).

    Math:
        x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise,  abar = alphas_cumprod

    Shapes:
        x0, noise: (N, ...); t: (N,) int64, one timestep per example; alphas_cumprod: (T,).
        Returns (N, ...): abar[t] reshaped to (N, 1, ..., 1) broadcasts over each example.

    Args:
        x0: clean data.
        t: timesteps in 0 .. T-1.
        noise: standard normal, like x0.
        alphas_cumprod: abar_t = prod_{s <= t} (1 - beta_s), float64.

    Returns:
        x_t, with x0's dtype.

    Numerics:
        Take the square roots in float64, then cast them to x0's dtype.

    Reference:
        diffusion_math.q_sample (the same in NumPy); diffusers' DDPMScheduler.add_noise.
    """
    raise NotImplementedError


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of each timestep, so that a network can read t.

    Math:
        half = dim // 2;  f_k = max_period^(-k / half) for k = 0 .. half-1
        emb = [cos(t f_0), ..., cos(t f_{half-1}), sin(t f_0), ..., sin(t f_{half-1})]

    Shapes:
        t: (N,) int64; returns (N, dim) (dim even).

    Args:
        t: timesteps.
        dim: the embedding's size.
        max_period: the slowest frequency is 1 / max_period.

    Returns:
        float32 (N, dim).

    Numerics:
        Compute t * f_k in float64: t reaches ~1000, and float32 would lose 4 digits of
        the angle. Cast the result to float32.

    Reference:
        OpenAI guided-diffusion's timestep_embedding (cos first); Vaswani et al. 2017's
        positional encoding.
    """
    raise NotImplementedError


class Denoiser2D(nn.Module):
    """An MLP eps-model for 2-D points: (x_t, embedding of t) -> predicted noise."""

    def __init__(self, hidden: int = 128, emb_dim: int = 32):
        """self.emb_dim = emb_dim; self.net = Linear(2 + emb_dim, hidden), SiLU, then twice
        Linear(hidden, hidden), SiLU, then Linear(hidden, 2)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predict the noise in x_t.

        Math:
            eps = net(cat([x, timestep_embedding(t, emb_dim)], dim=1))

        Shapes:
            x: (N, 2); t: (N,) int64; returns (N, 2).

        Args:
            x: noisy points x_t.
            t: their timesteps.

        Returns:
            The predicted noise, x's dtype.

        Numerics:
            Cast the embedding to x's dtype before the concatenation.

        Reference:
            Ho et al. 2020 (an eps-model); the usual "toy diffusion" MLP.
        """
        raise NotImplementedError


class TinyUNet(nn.Module):
    """A one-level U-Net eps-model for 1-channel images, the timestep added at each resolution."""

    def __init__(self, channels: int = 16, emb_dim: int = 32):
        """With c = channels: time = Sequential(Linear(emb_dim, emb_dim), SiLU);
        inc = Conv2d(1, c, 3, padding=1); t1 = Linear(emb_dim, c); block1 = Conv2d(c, c, 3,
        padding=1); down = Conv2d(c, 2c, 3, stride=2, padding=1); t2 = Linear(emb_dim, 2c);
        block2 = Conv2d(2c, 2c, 3, padding=1); up = ConvTranspose2d(2c, c, 2, stride=2);
        block3 = Conv2d(2c, c, 3, padding=1); out = Conv2d(c, 1, 3, padding=1)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predict the noise in a batch of noisy images.

        Math:
            e = time(timestep_embedding(t, emb_dim))
            h1 = silu(inc(x));  h1 = silu(block1(h1 + t1(e)))      (t1(e) as (N, c, 1, 1))
            h2 = silu(down(h1)); h2 = silu(block2(h2 + t2(e)))     (half the resolution)
            h3 = silu(block3(cat([up(h2), h1], dim=1)))            (the skip connection)
            return out(h3)

        Shapes:
            x: (N, 1, H, W), H and W even; t: (N,); returns (N, 1, H, W).

        Args:
            x: noisy images x_t.
            t: their timesteps.

        Returns:
            The predicted noise, x's dtype.

        Numerics:
            Adding the embedding as a per-channel bias tells every pixel how noisy the
            image is; without it one network cannot denoise both t = 0 and t = T-1.

        Reference:
            Ho et al. 2020's U-Net, cut down to one level; Ronneberger et al. 2015.
        """
        raise NotImplementedError


def diffusion_loss(
    model: nn.Module, x0: torch.Tensor, alphas_cumprod: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Ho et al.'s simple loss on one batch: noise x0 to a random t, predict that noise.

    Math:
        t ~ U{0, ..., T-1} per example;  noise ~ N(0, I);  x_t = q_sample(x0, t, noise)
        loss = mean (model(x_t, t) - noise)^2

    Shapes:
        x0: (N, ...); returns a scalar ().

    Args:
        model: an eps-model, model(x_t, t) -> a tensor shaped like x_t.
        x0: a batch of clean data.
        alphas_cumprod: (T,) float64.
        generator: draws, in this order: t = torch.randint(0, T, (N,), generator=...), then
            noise = torch.randn(x0.shape, generator=..., dtype=x0.dtype).

    Returns:
        A 0-d tensor with a gradient to the model's parameters.

    Numerics:
        The target is the noise, not x0: predicting x0 at t near T-1 is nearly hopeless,
        predicting the noise there is nearly trivial, and eps keeps the loss of every t on
        the same scale.

    Reference:
        Ho et al. 2020, Algorithm 1; torch.nn.functional.mse_loss.
    """
    raise NotImplementedError


def train_denoiser(
    model: nn.Module,
    data_fn,
    steps: int,
    batch: int,
    lr: float,
    betas: torch.Tensor,
    generator: torch.Generator,
) -> list[float]:
    """Train an eps-model with Adam on diffusion_loss, one fresh batch per step.

    Math:
        alphas_cumprod = cumprod(1 - betas); opt = Adam(model.parameters(), lr=lr)
        each step: x0 = data_fn(batch, generator); loss = diffusion_loss(model, x0,
        alphas_cumprod, generator); zero the gradients, backward, step.

    Shapes:
        data_fn(batch, generator) -> (batch, ...); betas: (T,).

    Args:
        model: the eps-model, trained in place.
        data_fn: draws a batch of clean data from the generator.
        steps, batch, lr: how long, how big, how fast.
        betas: the noise schedule, float64.
        generator: every random draw comes from it.

    Returns:
        The loss of every step (Python floats).

    Numerics:
        .grad accumulates: zero it before every backward.

    Reference:
        Ho et al. 2020, Algorithm 1; torch.optim.Adam.
    """
    raise NotImplementedError


def ddpm_sample(
    model: nn.Module,
    shape: tuple[int, ...],
    betas: torch.Tensor,
    generator: torch.Generator,
    variance: str = "small",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Draw samples: start from pure noise and take T reverse steps, t = T-1 down to 0.

    Math:
        abar = cumprod(1 - betas); abar_prev[t] = abar[t-1], with abar_prev[0] = 1
        x = randn(shape)
        for t = T-1, ..., 0:
            eps = model(x, (t, t, ..., t))
            mean = (x - beta_t / sqrt(1 - abar_t) eps) / sqrt(1 - beta_t)
            var = (1 - abar_prev_t) / (1 - abar_t) beta_t   ("small")  or  beta_t ("large")
            x = mean + sqrt(var) z, z = randn(shape)   when t > 0;   x = mean   at t = 0

    Shapes:
        shape: (N, ...); the model gets t as a (N,) int64 tensor; returns shape.

    Args:
        model: an eps-model.
        shape: the batch of samples to draw.
        betas: (T,) float64.
        generator: draws x = torch.randn(shape, generator=..., dtype=dtype) first, then one
            z the same way at every step with t > 0 (none at t = 0).
        variance: "small" or "large"; anything else raises ValueError.
        dtype: the samples' dtype (the model's).

    Returns:
        x_0, (N, ...), dtype, with no autograd graph (run under torch.no_grad()).

    Numerics:
        Take the schedule's values as Python floats (betas[t].item()): float64
        coefficients, and x keeps its dtype.

    Reference:
        Ho et al. 2020, Algorithm 2; diffusion_math.ddpm_step is one step of this loop.
    """
    raise NotImplementedError


def mmd(x: torch.Tensor, y: torch.Tensor, bandwidths) -> torch.Tensor:
    """Squared maximum mean discrepancy between two samples (biased estimator).

    Math:
        k(a, b) = sum_s exp(-|a - b|^2 / (2 s^2))   over the bandwidths s
        MMD^2 = mean_{i,j} k(x_i, x_j) + mean_{i,j} k(y_i, y_j) - 2 mean_{i,j} k(x_i, y_j)
        (every pair, the diagonals i = j included: that is the biased estimator)

    Shapes:
        x: (n, D); y: (m, D); returns a scalar ().

    Args:
        x, y: the two samples.
        bandwidths: kernel widths, e.g. (0.05, 0.1, 0.2, 0.5): a mixture catches
            differences at every scale.

    Returns:
        A 0-d tensor of x's dtype: 0 for identical samples, symmetric in x and y.

    Numerics:
        torch.cdist(x, y) ** 2 gives the squared distances.

    Reference:
        Gretton et al. 2012, "A Kernel Two-Sample Test", eq. 5 (the biased MMD_b^2).
    """
    raise NotImplementedError
