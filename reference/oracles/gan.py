"""Oracle for the gan kata: the ring's centers, tiny float64 players, one D step, one G step
and the alternating loop written with F.binary_cross_entropy_with_logits, the mode counts,
and a scatter plot. The `slip` arguments reproduce learners' mistakes for the messages.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def mode_centers(radius: float = 2.0, endpoint: bool = False) -> torch.Tensor:
    """(8, 2) float64; endpoint=True is the linspace(0, 2 pi, 8) slip (0 and 2 pi coincide)."""
    angles = torch.linspace(0, 2 * math.pi, 8 if endpoint else 9, dtype=torch.float64)[:8]
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


class Tiny(nn.Module):
    """A float64 two-layer player taking (x, labels=None); out=2 is a G, out=1 a D (logits (N,))."""

    def __init__(self, n_in: int, n_out: int, n_classes: int = 0, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.latent_dim, self.n_classes = n_in, n_classes
        self.net = nn.Sequential(
            nn.Linear(n_in + n_classes, 5), nn.Tanh(), nn.Linear(5, n_out)
        ).double()

    def forward(self, x, labels=None):
        if self.n_classes:
            x = torch.cat([x, F.one_hot(labels, self.n_classes).to(x.dtype)], dim=1)
        out = self.net(x)
        return out.squeeze(1) if out.shape[1] == 1 else out


def bce(logits, target: float):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def d_step(G, D, opt_d, real, z, labels=None, swapped=False, keep_grad=False) -> float:
    """One D step: BCE(D(real), 1) + BCE(D(G(z).detach()), 0); swapped / keep_grad: slips."""
    fake = G(z, labels).detach()
    r, f = (0.0, 1.0) if swapped else (1.0, 0.0)
    loss = bce(D(real, labels), r) + bce(D(fake, labels), f)
    if not keep_grad:
        opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def g_step(G, D, opt_g, z, labels=None, loss="non_saturating", sign=1.0) -> float:
    """One G step: BCE(D(G(z)), 1), or -BCE(D(G(z)), 0) for minimax; sign=-1: ascent slip."""
    logits = D(G(z, labels), labels)
    value = bce(logits, 1.0) if loss == "non_saturating" else -bce(logits, 0.0)
    opt_g.zero_grad()
    (sign * value).backward()
    opt_g.step()
    return value.item()


def train_gan(G, D, data_fn, steps, batch, lr, generator, g_loss="non_saturating",
              betas=(0.5, 0.999), conditional=False, lr_d=None):  # fmt: skip
    """The loop the stub spells out, in the same order of random draws."""
    opt_d = torch.optim.Adam(D.parameters(), lr=lr if lr_d is None else lr_d, betas=betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    history = {"d_loss": [], "g_loss": []}
    for _ in range(steps):
        real, modes = data_fn(batch, generator)
        labels = modes if conditional else None
        z = torch.randn(batch, G.latent_dim, generator=generator, dtype=real.dtype)
        history["d_loss"].append(d_step(G, D, opt_d, real, z, labels))
        z = torch.randn(batch, G.latent_dim, generator=generator, dtype=real.dtype)
        history["g_loss"].append(g_step(G, D, opt_g, z, labels, loss=g_loss))
    return history


def mode_counts(samples, centers, radius_tol) -> torch.Tensor:
    """Samples within radius_tol of each center, each counted at its nearest center."""
    d = ((samples.double()[:, None, :] - centers.double()[None]) ** 2).sum(-1).sqrt()  # (N, K)
    nearest = d.argmin(1)
    ok = d.gather(1, nearest[:, None]).squeeze(1) <= radius_tol
    return torch.stack([(ok & (nearest == k)).sum() for k in range(len(centers))])


def scatter_png(real, fake, path, title: str) -> None:
    """Real points in grey, generated in red, on equal axes; written with the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    ax.scatter(*real.T.numpy(), s=2, c="0.6", label="real")
    ax.scatter(*fake.detach().T.numpy(), s=2, c="tab:red", label="generated")
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.savefig(path)
    plt.close(fig)
