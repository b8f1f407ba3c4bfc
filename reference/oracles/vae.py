"""Oracle for 06_generative/vae: the VAE's forward pass recomputed in float64 from a model's
weights, the loss from F.binary_cross_entropy_with_logits and torch.distributions, a
reference training loop and evaluation, the latent-space pictures, the correlation gap
(with NumPy's corrcoef), and the data: binarised MNIST and images of a blob whose
position has two known, independent factors.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence


def binarize(images: np.ndarray) -> torch.Tensor:
    """uint8 MNIST (N, 28, 28) to float32 (N, 784) of 0s and 1s (pixel > 127: a fixed
    threshold, so that every image is one Bernoulli outcome and the NELBO is in nats)."""
    return torch.from_numpy((images.reshape(len(images), -1) > 127).astype(np.float32))


def blobs(n: int, generator: torch.Generator, side: int = 16, width: float = 0.12):
    """n side x side images of a Gaussian blob and their two factors, uniform in [0, 1).

    Factor 0 moves the blob across 80% of the width, factor 1 across 40% of the height:
    the factors are independent, and unequal in how many pixels they change.
    Returns (images float32 (n, side * side), factors float32 (n, 2)).
    """
    f = torch.rand(n, 2, generator=generator)
    centers = (torch.arange(side) + 0.5) / side  # pixel centres in [0, 1]
    dx = centers[None, :] - (0.1 + 0.8 * f[:, :1])  # (n, side)
    dy = centers[None, :] - (0.3 + 0.4 * f[:, 1:2])  # (n, side)
    img = torch.exp(-(dy[:, :, None] ** 2 + dx[:, None, :] ** 2) / (2 * width**2))
    return img.reshape(n, -1), f


def _w(layer: nn.Linear):
    return layer.weight.detach().double(), layer.bias.detach().double()


def forward(model, x, eps, feed="z") -> dict[str, torch.Tensor]:
    """logits, mu, logvar of the prescribed architecture, in float64 from model's weights.

    feed="mu": the decoder gets mu instead of z (a learner's slip)."""
    x, eps = x.double(), eps.double()
    h = F.relu(F.linear(x, *_w(model.encoder[0])))
    mu, logvar = F.linear(h, *_w(model.to_mu)), F.linear(h, *_w(model.to_logvar))
    z = mu + torch.exp(0.5 * logvar) * eps if feed == "z" else mu
    logits = decode(model, z)
    return {"logits": logits, "mu": mu, "logvar": logvar}


def decode(model, z) -> torch.Tensor:
    h = F.relu(F.linear(z.double(), *_w(model.decoder[0])))
    return F.linear(h, *_w(model.decoder[2]))


def kl(mu, logvar) -> torch.Tensor:
    """KL(q || N(0, I)) per example, from torch.distributions, summed over the latent dims."""
    q = Normal(mu, torch.exp(0.5 * logvar))
    return kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)


def loss(x, logits, mu, logvar, beta=1.0, slip="") -> torch.Tensor:
    """The mean over the batch of BCE summed over pixels + beta * KL, or a known slip."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    if slip == "mse":
        bce = (torch.sigmoid(logits) - x) ** 2
    recon = bce.mean(1) if slip == "pixel-mean" else bce.sum(1)
    k = kl(mu, logvar) / (mu.shape[1] if slip == "kl-mean" else 1)
    per = beta * recon + k if slip == "beta-recon" else recon + beta * k
    return per.sum() if slip == "batch-sum" else per.mean()


def loss_slips(x, logits, mu, logvar, beta=1.0) -> dict[str, torch.Tensor]:
    labels = {
        "mse": "squared error on sigmoid(logits) instead of the Bernoulli BCE",
        "pixel-mean": "BCE averaged over the pixels instead of summed",
        "kl-mean": "KL averaged over the latent dims instead of summed",
        "beta-recon": "beta multiplying the reconstruction instead of the KL",
        "batch-sum": "summed over the batch instead of averaged",
    }
    return {v: loss(x, logits, mu, logvar, beta, slip=k).detach() for k, v in labels.items()}


class TinyVAE(nn.Module):
    """A float64 VAE with the same interface (for testing train_vae and evaluate_nelbo)."""

    def __init__(self, in_dim: int = 6, hidden: int = 5, latent: int = 2, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.latent_dim = latent
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU()).double()
        self.to_mu, self.to_logvar = (
            nn.Linear(hidden, latent).double(),
            nn.Linear(hidden, latent).double(),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, in_dim)
        ).double()

    def encode(self, x):
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        return self.decode(mu + torch.exp(0.5 * logvar) * eps), mu, logvar


def train(model, data, epochs, batch, lr, generator, beta=1.0, zero_grad=True) -> list[float]:
    """The reference loop: Adam; per epoch randperm(generator), then per batch randn(generator)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(data), generator=generator)
        losses = []
        for start in range(0, len(data), batch):
            x = data[perm[start : start + batch]]
            eps = torch.randn(len(x), model.latent_dim, generator=generator, dtype=data.dtype)
            value = loss(x, *model(x, eps), beta)
            if zero_grad:
                opt.zero_grad()
            value.backward()
            opt.step()
            losses.append(value.item())
        history.append(sum(losses) / len(losses))
    return history


@torch.no_grad()
def evaluate(model, data, generator, use_mu=False) -> float:
    eps = torch.randn(len(data), model.latent_dim, generator=generator, dtype=data.dtype)
    out = forward(model, data, 0 * eps if use_mu else eps)
    return loss(data.double(), out["logits"], out["mu"], out["logvar"]).item()


def traversal(model, z0, dim, values) -> torch.Tensor:
    z = z0.double().reshape(1, -1).repeat(len(values), 1)
    z[:, dim] = values.double()
    return torch.sigmoid(decode(model, z))


def latent_map(model, grid, span=2.0, side=28, flip=True) -> torch.Tensor:
    """Tile (i, j) decodes z = (v[j], v[G-1-i]) (flip=False: v[i]), v = linspace(-span, span)."""
    v = torch.linspace(-span, span, grid, dtype=torch.float64)
    rows = v.flip(0) if flip else v
    tiles = [
        [torch.sigmoid(decode(model, torch.stack([c, r])[None])).reshape(side, side) for c in v]
        for r in rows
    ]
    return torch.cat([torch.cat(row, dim=1) for row in tiles], dim=0)


def gap(codes, factors, absolute=True, runner_up=True) -> float:
    """Mean over factors of top |corr| - second |corr| over the code dims (NumPy corrcoef);
    a constant code dim has correlation 0. Slips: no abs; the top value alone."""
    c, f = np.asarray(codes, dtype=np.float64), np.asarray(factors, dtype=np.float64)
    K = f.shape[1]
    corr = np.zeros((K, c.shape[1]))
    for k in range(K):
        for j in range(c.shape[1]):
            if c[:, j].std() > 0 and f[:, k].std() > 0:
                corr[k, j] = np.corrcoef(f[:, k], c[:, j])[0, 1]
    corr = np.abs(corr) if absolute else corr
    top = -np.sort(-corr, axis=1)
    return float(np.mean(top[:, 0] - (top[:, 1] if runner_up else 0)))


def knn_accuracy(points: torch.Tensor, labels: torch.Tensor, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy: how well the points group by label."""
    d = torch.cdist(points.double(), points.double())
    d.fill_diagonal_(float("inf"))
    votes = labels[d.topk(k, largest=False).indices]  # (N, k)
    return (torch.mode(votes, dim=1).values == labels).double().mean().item()
