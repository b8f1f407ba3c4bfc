"""A GAN on a ring of eight Gaussians: the two players, the alternating updates, mode
coverage, a collapsed run, and a conditional GAN.

The generator G maps noise z to points; the discriminator D maps a point to one logit
(D = sigmoid(logit) is its belief that the point is real). They take turns: D learns to
tell real from fake, then G learns to fool D. On the ring of eight Gaussians a healthy
run puts samples on every mode; a collapsed run piles them onto one or two. A conditional
GAN feeds a one-hot label to both players, so that G learns to draw the mode it is asked.
References: Goodfellow et al. 2014, "Generative Adversarial Nets"; Metz et al. 2017,
"Unrolled GANs" (the eight-Gaussians benchmark and its metrics); Mirza and Osindero 2014,
"Conditional Generative Adversarial Nets"; the PyTorch DCGAN tutorial (the training loop).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

N_MODES = 8


def mode_centers(radius: float = 2.0) -> torch.Tensor:
    """The eight centers, evenly spaced on a circle: angle 2 pi k / 8, k = 0 .. 7."""
    angles = torch.arange(N_MODES, dtype=torch.float64) * (2 * math.pi / N_MODES)
    return torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], dim=1)  # (8, 2)


def eight_gaussians(
    n: int, generator: torch.Generator, radius: float = 2.0, std: float = 0.02
) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of the mixture (float32 (n, 2)) and the mode each came from (int64 (n,))."""
    modes = torch.randint(0, N_MODES, (n,), generator=generator)  # a uniform pick per point
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    points = mode_centers(radius)[modes] + std * noise  # (n, 2)
    return points.float(), modes


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, n_out),
    )


def _with_label(x: torch.Tensor, labels, n_classes: int) -> torch.Tensor:
    """x with the one-hot label appended as extra features (unconditional: x itself)."""
    if n_classes == 0:
        return x
    onehot = F.one_hot(labels, n_classes).to(x.dtype)  # (N, n_classes)
    return torch.cat([x, onehot], dim=1)  # (N, features + n_classes)


class Generator(nn.Module):
    """G: noise z (and optionally a one-hot label) to a point in the plane."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, n_classes: int = 0):
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.net = _mlp(latent_dim + n_classes, hidden, 2)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(_with_label(z, labels, self.n_classes))  # (N, 2)


class Discriminator(nn.Module):
    """D: a point (and optionally a one-hot label) to one logit, "real" when positive."""

    def __init__(self, hidden: int = 128, n_classes: int = 0):
        super().__init__()
        self.n_classes = n_classes
        self.net = _mlp(2 + n_classes, hidden, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(_with_label(x, labels, self.n_classes)).squeeze(1)  # (N,) logits


def d_step(G, D, opt_d, real, z, labels=None) -> float:
    """One discriminator update on real points and G's (detached) fakes; returns its loss."""
    fake = G(z, labels).detach()  # D's loss must not reach G: cut the graph here
    real_logits, fake_logits = D(real, labels), D(fake, labels)
    # BCE against 1 for real and 0 for fake: softplus(-l) = -log D, softplus(l) = -log(1 - D).
    loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    opt_d.zero_grad()  # gradients accumulate in .grad: clear what the last step left
    loss.backward()
    opt_d.step()
    return loss.item()


def g_step(G, D, opt_g, z, labels=None, loss: str = "non_saturating") -> float:
    """One generator update through D's judgement of fresh fakes; returns its loss."""
    fake_logits = D(G(z, labels), labels)
    if loss == "non_saturating":
        g_loss = F.softplus(-fake_logits).mean()  # -log D(G(z)): label the fakes "real"
    elif loss == "minimax":
        g_loss = -F.softplus(fake_logits).mean()  # log(1 - D(G(z))): flat where D wins
    else:
        raise ValueError(f"loss must be 'non_saturating' or 'minimax', not {loss!r}")
    opt_g.zero_grad()
    g_loss.backward()  # D's parameters get gradients too, but only opt_g steps
    opt_g.step()
    return g_loss.item()


def train_gan(
    G,
    D,
    data_fn,
    steps: int,
    batch: int,
    lr: float,
    generator: torch.Generator,
    g_loss: str = "non_saturating",
    betas: tuple[float, float] = (0.5, 0.999),
    conditional: bool = False,
    lr_d: float | None = None,
) -> dict[str, list[float]]:
    """Alternate one D step and one G step, `steps` times, each player with its own Adam."""
    opt_d = torch.optim.Adam(D.parameters(), lr=lr if lr_d is None else lr_d, betas=betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    history = {"d_loss": [], "g_loss": []}
    for _ in range(steps):
        real, modes = data_fn(batch, generator)  # (batch, 2), (batch,)
        labels = modes if conditional else None  # fakes are asked for the real batch's modes
        z = torch.randn(batch, G.latent_dim, generator=generator, dtype=real.dtype)
        history["d_loss"].append(d_step(G, D, opt_d, real, z, labels))
        z = torch.randn(batch, G.latent_dim, generator=generator, dtype=real.dtype)  # fresh
        history["g_loss"].append(g_step(G, D, opt_g, z, labels, loss=g_loss))
    return history


def mode_counts(samples: torch.Tensor, centers: torch.Tensor, radius_tol: float) -> torch.Tensor:
    """How many samples lie within radius_tol of each center (int64 (K,))."""
    dist = torch.cdist(samples.double(), centers.double())  # (N, K)
    nearest_dist, nearest = dist.min(dim=1)  # (N,), (N,)
    good = nearest_dist <= radius_tol  # a "high-quality" sample
    return torch.bincount(nearest[good], minlength=len(centers))


def mode_coverage(
    samples: torch.Tensor, centers: torch.Tensor, radius_tol: float, min_share: float = 0.01
) -> tuple[int, float]:
    """(modes holding at least min_share of the samples, share of high-quality samples)."""
    counts = mode_counts(samples, centers, radius_tol)  # (K,)
    n = len(samples)
    covered = int((counts >= min_share * n).sum())  # count modes, not samples
    quality = float(counts.sum()) / n
    return covered, quality
