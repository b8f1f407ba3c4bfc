"""Oracle for the dcgan kata: DCGAN's players as plain nn.Sequential in float64 (weights
copied from yours), one training iteration and the loop as the PyTorch DCGAN tutorial writes
them, StyleGAN2's modulated convolution as a loop of F.conv2d (one sample, its own weights),
AdaIN through F.instance_norm, MNIST padded to 32x32, a FID-like distance on pixel PCA
features, and a PNG grid of samples. `slip` arguments reproduce learners' mistakes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def generator(nz: int, ngf: int, nc: int) -> nn.Sequential:
    """DCGAN's G (Radford et al. 2015; the PyTorch tutorial), sized for 32x32 images."""
    g = nn.Sequential(
        nn.Unflatten(1, (nz, 1, 1)),
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
        nn.ReLU(),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
    ).double()  # fmt: skip
    g.nz = nz
    return g


def discriminator(ndf: int, nc: int, sigmoid: bool = False) -> nn.Sequential:
    """DCGAN's D for 32x32 images, returning (N,) logits; sigmoid=True is a slip."""
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False), nn.Flatten(0),
        *([nn.Sigmoid()] if sigmoid else []),
    ).double()  # fmt: skip


def copy_weights(src: nn.Module, dst: nn.Module) -> str | None:
    """Copy src's parameters into dst in order; a message when the two do not line up."""
    a, b = list(src.parameters()), list(dst.parameters())
    shapes_a, shapes_b = [tuple(p.shape) for p in a], [tuple(p.shape) for p in b]
    if shapes_a != shapes_b:
        return f"your parameter shapes, in order: {shapes_a}; DCGAN's: {shapes_b}"
    with torch.no_grad():
        for p, q in zip(a, b):
            q.copy_(p.double())
    return None


def train_step(G, D, opt_d, opt_g, real, z, one_batch=False, saturating=False):
    """The tutorial's iteration, (d_loss, g_loss). Slips: one_batch (real and fake
    concatenated through D, so BatchNorm mixes them); saturating (G minimises the minimax
    mean log(1 - D(G(z))))."""
    fake = G(z)
    opt_d.zero_grad()
    ones, zeros = torch.ones(len(real), dtype=real.dtype), torch.zeros(len(z), dtype=real.dtype)
    if one_batch:
        logits = D(torch.cat([real, fake.detach()]))
        d_loss = F.binary_cross_entropy_with_logits(
            logits[: len(real)], ones
        ) + F.binary_cross_entropy_with_logits(logits[len(real) :], zeros)
    else:
        d_loss = F.binary_cross_entropy_with_logits(
            D(real), ones
        ) + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    if saturating:
        g_loss = -F.binary_cross_entropy_with_logits(D(fake), zeros)
    else:
        g_loss = F.binary_cross_entropy_with_logits(D(fake), torch.ones_like(zeros))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def train_dcgan(G, D, images, steps, batch_size, generator, lr=2e-4, betas=(0.5, 0.999)):
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    history = {"d_loss": [], "g_loss": []}
    for _ in range(steps):
        idx = torch.randint(0, images.shape[0], (batch_size,), generator=generator)
        z = torch.randn(batch_size, G.nz, generator=generator, dtype=images.dtype)
        d, g = train_step(G, D, opt_d, opt_g, images[idx], z)
        history["d_loss"].append(d)
        history["g_loss"].append(g)
    return history


def modulated_conv2d(x, weight, style, demodulate=True, eps=1e-8, slip=None):
    """A loop over the batch: sample n is convolved with its own modulated weights.

    slip: "out-axes" (demodulation summed over the output channels), "modulate-out"
    (style scales the output channels), "channel-major" (the batch folded into the channels
    as (C_in, N) instead of (N, C_in), so each group mixes samples).
    """
    x, weight, style = (t.double() for t in (x, weight, style))
    k = weight.shape[-1]
    if slip == "channel-major":
        N, C_in, H, W = x.shape
        x = x.transpose(0, 1).reshape(N, C_in, H, W)  # what group n then reads
    outs = []
    for n in range(x.shape[0]):
        if slip == "modulate-out":
            w = weight * style[n][:, None, None, None]  # (C_out, C_in, k, k): a slip
        else:
            w = weight * style[n][None, :, None, None]  # scale input channel i by s_i
        if demodulate:
            if slip == "out-axes":
                w = w / torch.sqrt((w**2).sum(dim=(0, 2, 3), keepdim=True) + eps)
            else:
                w = w / torch.sqrt((w**2).sum(dim=(1, 2, 3), keepdim=True) + eps)
        outs.append(F.conv2d(x[n : n + 1], w, padding=k // 2))
    return torch.cat(outs)


def adain(x, scale, bias, eps=1e-5, slip=None):
    """F.instance_norm, then the style; slip: "unbiased" std or "layer" (over C, H, W)."""
    x = x.double()
    if slip == "unbiased":
        normed = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), keepdim=True) + eps)
    elif slip == "layer":
        normed = F.layer_norm(x, x.shape[1:], eps=eps)
    else:
        normed = F.instance_norm(x, eps=eps)
    return scale.double()[:, :, None, None] * normed + bias.double()[:, :, None, None]


# ----------------------------------------------------------------------------- data, metric


def mnist32(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 32, 32) in [-1, 1], padded with the background -1."""
    x = torch.from_numpy(images).float() / 127.5 - 1
    return F.pad(x, (2, 2, 2, 2), value=-1.0)[:, None]


class PixelPCA:
    """Pixel features for a FID-like distance: the top k principal components of real images."""

    def __init__(self, real: torch.Tensor, k: int = 20):
        flat = real.reshape(len(real), -1).double()
        self.mean = flat.mean(0)
        _, _, vt = torch.linalg.svd(flat - self.mean, full_matrices=False)
        self.P = vt[:k].T  # (pixels, k)

    def features(self, x: torch.Tensor) -> np.ndarray:
        return ((x.detach().reshape(len(x), -1).double() - self.mean) @ self.P).numpy()


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)): FID's formula on any features."""
    from scipy.linalg import sqrtm

    ca, cb = np.cov(a.T), np.cov(b.T)
    cross = sqrtm(ca @ cb).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * cross))


def grid_png(images: torch.Tensor, path, rows: int = 8) -> None:
    """A rows x rows grid of images in [-1, 1], written with matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = images[: rows * rows, 0].detach().double().clamp(-1, 1).numpy()  # (n, H, W)
    H, W = x.shape[1:]
    canvas = np.ones((rows * (H + 2), rows * (W + 2)))
    for i, img in enumerate(x):
        r, c = divmod(i, rows)
        canvas[r * (H + 2) + 1 : r * (H + 2) + 1 + H, c * (W + 2) + 1 : c * (W + 2) + 1 + W] = (
            img + 1
        ) / 2
    plt.imsave(path, canvas, cmap="gray", vmin=0, vmax=1)
