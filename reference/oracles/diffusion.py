"""Oracle for the diffusion kata: the swiss roll, the timestep embedding, q_sample, the loss,
a training loop and the DDPM sampler written against diffusion_math's NumPy steps, an MMD in
NumPy float64, the matched GAN the lesson compares with, MNIST at 14x14, and PNG grids.
The `slip` arguments reproduce learners' mistakes for the messages.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def swiss_roll(n, generator, noise=0.5, scale=0.1, slip=None) -> torch.Tensor:
    """The same draws in the same order: u (n,) uniform, then the noise (n, 2); float64."""
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    a = (1 + 2 * u) * (1.5 * math.pi) if slip != "angle" else 2 * math.pi * u
    pts = torch.stack([a * a.cos(), a * a.sin()], 1)
    pts = pts + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return scale * pts


def timestep_embedding(t, dim, max_period=10000.0, slip=None) -> np.ndarray:
    """guided-diffusion's embedding in NumPy float64: [cos(t f), sin(t f)], f_k = P^(-k/half)."""
    half = dim // 2
    k = np.arange(half, dtype=np.float64)
    freqs = max_period ** (-k / (half - 1 if slip == "half-1" else half))
    angles = np.asarray(t, dtype=np.float64)[:, None] * freqs[None]
    if slip == "float32":
        angles = angles.astype(np.float32)
    parts = (
        [np.sin(angles), np.cos(angles)]
        if slip == "sin-first"
        else [np.cos(angles), np.sin(angles)]
    )
    return np.concatenate(parts, axis=1).astype(np.float64)


def mmd(x, y, bandwidths, slip=None) -> float:
    """Biased MMD^2 with k = sum_s exp(-d^2 / (2 s^2)), in NumPy float64; slips for messages."""
    x, y = (np.asarray(v.detach() if torch.is_tensor(v) else v, np.float64) for v in (x, y))

    def kernel(a, b):
        d2 = np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T, 0.0)
        if slip == "distance":
            d2 = np.sqrt(d2)
        two = 1.0 if slip == "no-2" else 2.0
        return sum(np.exp(-d2 / (two * s**2)) for s in bandwidths)

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    if slip == "unbiased":
        n, m = len(x), len(y)
        return float(
            (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean()
        )
    if slip == "no-cross":
        return float(kxx.mean() + kyy.mean())
    return float(kxx.mean() + kyy.mean() - 2 * kxy.mean())


class Tiny(nn.Module):
    """A float64 eps-model for the unit tests: tanh of an affine map of x and a t feature."""

    def __init__(self, shape, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        d = int(np.prod(shape))
        self.shape = tuple(shape)
        self.w = nn.Parameter(0.5 * torch.randn(d, d, generator=g, dtype=torch.float64))
        self.b = nn.Parameter(0.1 * torch.randn(d, generator=g, dtype=torch.float64))
        self.c = nn.Parameter(torch.randn(d, generator=g, dtype=torch.float64))

    def forward(self, x, t):
        h = x.reshape(len(x), -1).double() @ self.w + self.b + self.c * (t[:, None].double() / 10)
        return torch.tanh(h).reshape(x.shape).to(x.dtype)


def diffusion_loss(model, x0, abar, generator, target="noise", t_from=0):
    """The loss with the same draws: t = randint(0, T, (N,)), then the noise like x0."""
    T = len(abar)
    t = torch.randint(t_from, T + t_from, (x0.shape[0],), generator=generator)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    a = abar[t.clamp(max=T - 1)].reshape((-1,) + (1,) * (x0.ndim - 1))
    xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
    return F.mse_loss(model(xt, t), x0 if target == "x0" else noise)


def train_denoiser(model, data_fn, steps, batch, lr, betas, generator, keep_grad=False):
    abar = torch.cumprod(1 - betas, 0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = diffusion_loss(model, data_fn(batch, generator), abar, generator)
        if not keep_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def ddpm_sample(dm, model, shape, betas, generator, variance="small", slip=None) -> np.ndarray:
    """The sampler with diffusion_math's ddpm_step (NumPy float64) and the same draws."""
    T = len(betas)
    b = betas.numpy()
    x = torch.randn(shape, generator=generator, dtype=torch.float64)
    order = range(T) if slip == "forward" else reversed(range(T))
    for t in order:
        tt = np.full(shape[0], t)
        eps = model(x, torch.from_numpy(tt)).numpy()
        if t > 0 or slip == "noise-at-0":
            noise = torch.randn(shape, generator=generator, dtype=torch.float64).numpy()
        else:
            noise = np.zeros(shape)
        if slip == "noise-at-0" and t == 0:
            mean = dm.ddpm_step(x.numpy(), tt, eps, b, np.zeros(shape), variance=variance)
            x = torch.from_numpy(mean + math.sqrt(b[0]) * noise)
            continue
        x = torch.from_numpy(dm.ddpm_step(x.numpy(), tt, eps, b, noise, variance=variance))
    return x.numpy()


# ----------------------------------------------------------------------------- the matched GAN


def mlp(n_in, hidden, n_out):
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.SiLU(),
        nn.Linear(hidden, hidden),
        nn.SiLU(),
        nn.Linear(hidden, hidden),
        nn.SiLU(),
        nn.Linear(hidden, n_out),
    )


def train_gan(data_fn, steps, batch, lr, hidden, generator, latent=2):
    """A non-saturating GAN with players the size of the denoiser's MLP; returns G."""
    G, D = mlp(latent, hidden, 2), mlp(2, hidden, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(steps):
        real = data_fn(batch, generator)
        fake = G(torch.randn(batch, latent, generator=generator)).detach()
        d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(G(torch.randn(batch, latent, generator=generator)))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return G


# ----------------------------------------------------------------------------- images


def mnist14(n, rng, split="train"):
    """n MNIST digits at 14x14 (2x2 average pooling), scaled to [-1, 1]: float32 (n, 1, 14, 14)."""
    from checker.datasets import load_mnist

    data = load_mnist()
    x = data.x_train if split == "train" else data.x_test
    x = x[rng.choice(len(x), n, replace=False)] if n < len(x) else x
    x = torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0)[:, None]  # (n, 1, 28, 28)
    return F.avg_pool2d(x, 2), data.source  # (n, 1, 14, 14)


def grid_png(images, path, nrow=8) -> None:
    """A grid of images in [-1, 1] as a greyscale PNG, 4x enlarged (matplotlib's imsave)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = images.detach().double().clamp(-1, 1).add(1).div(2)[:, 0]  # (n, H, W) in [0, 1]
    n, h, w = x.shape
    rows = -(-n // nrow)
    canvas = torch.ones(rows * (h + 1) + 1, nrow * (w + 1) + 1, dtype=torch.float64)
    for i in range(n):
        r, c = divmod(i, nrow)
        canvas[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = x[i]
    big = canvas.repeat_interleave(4, 0).repeat_interleave(4, 1).numpy()
    plt.imsave(path, big, cmap="gray", vmin=0, vmax=1)
