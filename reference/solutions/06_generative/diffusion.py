"""A diffusion model that samples: a denoiser trained on the eps loss, the DDPM sampler, and
an MMD to judge samples; on a 2-D swiss roll, then on small MNIST images with a tiny U-Net.

Timesteps run t = 0 .. T-1 (diffusers' convention), one per example. Schedules (betas,
alphas_cumprod) are float64 tensors of shape (T,); samples keep the model's dtype.
References: Ho et al. 2020, "Denoising Diffusion Probabilistic Models" (Algorithms 1 and 2);
Vaswani et al. 2017 and OpenAI's guided-diffusion (the sinusoidal timestep embedding);
Ronneberger et al. 2015 (U-Net); Gretton et al. 2012, "A Kernel Two-Sample Test" (MMD).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def swiss_roll(n: int, generator: torch.Generator, noise: float = 0.5, scale: float = 0.1):
    """n points of sklearn's swiss roll, its (x, z) slice, scaled: float32 (n, 2)."""
    u = torch.rand(n, generator=generator, dtype=torch.float64)  # (n,) uniform in [0, 1)
    angle = 1.5 * math.pi * (1 + 2 * u)  # 1.5 pi .. 4.5 pi: one and a half turns
    points = torch.stack([angle * torch.cos(angle), angle * torch.sin(angle)], dim=1)  # (n, 2)
    points = points + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return (scale * points).float()


def q_sample(x0, t, noise, alphas_cumprod):
    """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise, one timestep per example."""
    abar = alphas_cumprod[t].reshape((-1,) + (1,) * (x0.ndim - 1))  # (N, 1, ..., 1), float64
    # coefficients in float64, then cast: 1 - abar in float32 loses digits when abar ~ 1
    return abar.sqrt().to(x0.dtype) * x0 + (1 - abar).sqrt().to(x0.dtype) * noise


def timestep_embedding(t, dim: int, max_period: float = 10000.0):
    """Sinusoidal features of the timestep: [cos(t f_k), sin(t f_k)], float32 (N, dim)."""
    half = dim // 2
    # f_k = max_period^(-k / half): from 1 down towards 1 / max_period, geometrically
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    angles = t.to(torch.float64)[:, None] * freqs[None, :]  # (N, half); float64: t f is ~1000
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1).float()  # (N, dim)


class Denoiser2D(nn.Module):
    """An MLP that reads a noisy point and its timestep's embedding and predicts the noise."""

    def __init__(self, hidden: int = 128, emb_dim: int = 32):
        super().__init__()
        self.emb_dim = emb_dim
        self.net = nn.Sequential(
            nn.Linear(2 + emb_dim, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x, t):
        emb = timestep_embedding(t, self.emb_dim).to(x.dtype)  # (N, emb_dim)
        return self.net(torch.cat([x, emb], dim=1))  # (N, 2 + emb_dim) -> (N, 2)


class TinyUNet(nn.Module):
    """One level down and up, a skip, the timestep's embedding added at both resolutions."""

    def __init__(self, channels: int = 16, emb_dim: int = 32):
        super().__init__()
        c = channels
        self.emb_dim = emb_dim
        self.time = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU())
        self.inc = nn.Conv2d(1, c, 3, padding=1)
        self.t1 = nn.Linear(emb_dim, c)
        self.block1 = nn.Conv2d(c, c, 3, padding=1)
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.t2 = nn.Linear(emb_dim, 2 * c)
        self.block2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1)
        self.up = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        self.block3 = nn.Conv2d(2 * c, c, 3, padding=1)
        self.out = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x, t):
        e = self.time(timestep_embedding(t, self.emb_dim).to(x.dtype))  # (N, emb_dim)
        h1 = F.silu(self.inc(x))  # (N, c, H, W)
        # the timestep enters as a per-channel bias: every pixel knows how noisy the image is
        h1 = F.silu(self.block1(h1 + self.t1(e)[:, :, None, None]))  # (N, c, H, W)
        h2 = F.silu(self.down(h1))  # (N, 2c, H/2, W/2)
        h2 = F.silu(self.block2(h2 + self.t2(e)[:, :, None, None]))  # (N, 2c, H/2, W/2)
        u = self.up(h2)  # (N, c, H, W)
        h3 = F.silu(self.block3(torch.cat([u, h1], dim=1)))  # skip: (N, 2c, H, W) -> (N, c, H, W)
        return self.out(h3)  # (N, 1, H, W): the predicted noise


def diffusion_loss(model, x0, alphas_cumprod, generator):
    """Ho et al.'s simple loss on one batch: noise x0 at random t, predict the noise, MSE."""
    T = len(alphas_cumprod)
    t = torch.randint(0, T, (x0.shape[0],), generator=generator)  # (N,) uniform in 0 .. T-1
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    xt = q_sample(x0, t, noise, alphas_cumprod)
    return F.mse_loss(model(xt, t), noise)  # the target is the noise, not x0


def train_denoiser(model, data_fn, steps, batch, lr, betas, generator):
    """Adam on diffusion_loss, one fresh batch per step; the loss of every step."""
    abar = torch.cumprod(1 - betas, dim=0)  # (T,) float64
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x0 = data_fn(batch, generator)
        loss = diffusion_loss(model, x0, abar, generator)
        opt.zero_grad()  # .grad accumulates: clear the last step's
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def ddpm_sample(model, shape, betas, generator, variance="small", dtype=torch.float32):
    """Ho et al.'s Algorithm 2: start from pure noise and take T reverse steps down to t = 0."""
    if variance not in ("small", "large"):
        raise ValueError(f"variance must be 'small' or 'large', got {variance!r}")
    T = len(betas)
    abar = torch.cumprod(1 - betas, dim=0)  # (T,) float64
    abar_prev = torch.cat([torch.ones(1, dtype=abar.dtype), abar[:-1]])  # abar_{-1} = 1
    x = torch.randn(shape, generator=generator, dtype=dtype)  # x_{T-1} ~ N(0, I)
    for t in reversed(range(T)):  # T-1, T-2, ..., 0: backwards in time
        b, ab = betas[t].item(), abar[t].item()
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long))
        # mu_theta: remove the predicted noise's share, then undo step t's shrinking
        mean = (x - b / math.sqrt(1 - ab) * eps) / math.sqrt(1 - b)
        if t > 0:
            var = b if variance == "large" else (1 - abar_prev[t].item()) / (1 - ab) * b
            z = torch.randn(shape, generator=generator, dtype=dtype)
            x = mean + math.sqrt(var) * z
        else:
            x = mean  # the last step returns the mean: no noise on x_0
    return x


def mmd(x, y, bandwidths):
    """Biased squared MMD between two samples with a sum of Gaussian kernels."""

    def kernel(a, b):
        d2 = torch.cdist(a, b).pow(2)  # (n, m) squared distances
        return sum(torch.exp(-d2 / (2 * s**2)) for s in bandwidths)

    # E k(x, x') + E k(y, y') - 2 E k(x, y): zero exactly when the two samples coincide
    return kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean()
