"""A GAN on a ring of eight Gaussians: the two players, the alternating updates, mode
coverage, a collapsed run, and a conditional GAN.

This kata is written in PyTorch. The generator G turns noise z into points in the plane;
the discriminator D turns a point into one logit l (D = sigmoid(l): "how real is it").
They take turns: D learns to tell real points from G's fakes, then G learns to fool D.
The data is a ring of eight small Gaussians, so you can see what goes wrong: a healthy
run puts samples on (nearly) every mode; a collapsed run piles them onto one or two,
because G found one answer D currently accepts and D never forces it elsewhere.

The training tests (slow, last) train your players with your train_gan three times:
a healthy run that must cover >= 7 modes (a PNG of it is written to pytest's tmp_path);
a run whose G learns 10x faster than D, which must be diagnosed as collapsed (>= 90% of
the samples nearest to <= 2 modes); a conditional GAN that must draw the mode it is asked.

Run: pytest katas/06_generative/test_gan.py
"""

import torch
from torch import nn

N_MODES = 8


def mode_centers(radius: float = 2.0) -> torch.Tensor:
    """The eight centers of the ring, evenly spaced on a circle.

    Math:
        c_k = radius * (cos(2 pi k / 8), sin(2 pi k / 8)),  k = 0 .. 7.

    Shapes:
        Returns (8, 2).

    Args:
        radius: the circle's radius.

    Returns:
        float64 tensor, row k = c_k.

    Numerics:
        torch.linspace(0, 2 pi, 8) is a trap: it includes 2 pi, which is angle 0 again.

    Reference:
        Metz et al. 2017, "Unrolled GANs", the mixture of eight Gaussians.
    """
    raise NotImplementedError


def eight_gaussians(
    n: int, generator: torch.Generator, radius: float = 2.0, std: float = 0.02
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample n points from the ring: pick a mode uniformly, add Gaussian noise.

    Math:
        k ~ Uniform{0 .. 7};  x = c_k + std * eps,  eps ~ N(0, I_2).

    Shapes:
        Returns points (n, 2) and modes (n,).

    Args:
        n: number of points.
        generator: the only source of randomness (torch.randint / torch.randn with
            generator=generator); the global RNG must not be used.
        radius, std: the ring's radius and each mode's standard deviation.

    Returns:
        (points float32, modes int64).

    Numerics:
        std is a standard deviation: multiply the noise by std, not std**2.

    Reference:
        The "8 Gaussians" toy data of Metz et al. 2017 and of the WGAN-GP code.
    """
    raise NotImplementedError


class Generator(nn.Module):
    """G: noise z (and, when conditional, a one-hot label) to a point in the plane."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, n_classes: int = 0):
        """Keep self.latent_dim and self.n_classes; build the MLP (see forward)."""
        raise NotImplementedError

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Map noise to points.

        Math:
            input = z, or cat([z, one_hot(labels, n_classes)], dim=1) when n_classes > 0;
            Linear(latent_dim + n_classes, hidden) -> ReLU -> Linear(hidden, hidden)
            -> ReLU -> Linear(hidden, 2).

        Shapes:
            z: (N, latent_dim); labels: (N,) int64 or None. Returns (N, 2).

        Args:
            z: noise; labels: the requested modes (ignored when n_classes == 0).

        Returns:
            The points, in z's dtype.

        Numerics:
            No activation on the output: points may be anywhere in the plane.

        Reference:
            Goodfellow et al. 2014; Mirza and Osindero 2014 (the conditional input).
        """
        raise NotImplementedError


class Discriminator(nn.Module):
    """D: a point (and, when conditional, a one-hot label) to one logit."""

    def __init__(self, hidden: int = 128, n_classes: int = 0):
        """Keep self.n_classes; build the MLP (see forward)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Score points: a positive logit says "real".

        Math:
            input = x, or cat([x, one_hot(labels, n_classes)], dim=1) when n_classes > 0;
            Linear(2 + n_classes, hidden) -> ReLU -> Linear(hidden, hidden) -> ReLU
            -> Linear(hidden, 1), then drop the last axis.

        Shapes:
            x: (N, 2); labels: (N,) or None. Returns (N,).

        Args:
            x: points; labels: the modes they claim to come from.

        Returns:
            Logits (no sigmoid: the losses take logits).

        Numerics:
            Return logits and use softplus / BCE-with-logits: log(sigmoid(l)) is -inf for
            l below about -100 in float32.

        Reference:
            Goodfellow et al. 2014; Mirza and Osindero 2014.
        """
        raise NotImplementedError


def d_step(G, D, opt_d, real, z, labels=None) -> float:
    """One discriminator update: real points labelled 1, G's fakes labelled 0.

    Math:
        fake = G(z, labels), detached (D's loss must not reach G);
        loss = BCE(D(real), 1) + BCE(D(fake), 0)
             = mean softplus(-D(real)) + mean softplus(D(fake));
        opt_d.zero_grad(); loss.backward(); opt_d.step().

    Shapes:
        real: (N, 2); z: (M, latent_dim); labels: (N,) or None (then M = N).

    Args:
        G, D: the players (call them as G(z, labels) and D(x, labels)).
        opt_d: an optimizer over D's parameters only.
        real, z, labels: this step's batch; leave them unchanged.

    Returns:
        The loss as a Python float.

    Numerics:
        Zero D's gradients before backward: .grad accumulates, and the last G step left
        gradients in D. G's parameters must end with no gradient from this step.

    Reference:
        PyTorch DCGAN tutorial, "Update D network"; F.binary_cross_entropy_with_logits.
    """
    raise NotImplementedError


def g_step(G, D, opt_g, z, labels=None, loss: str = "non_saturating") -> float:
    """One generator update: make D call fresh fakes real.

    Math:
        l = D(G(z, labels), labels);
        "non_saturating": loss = BCE(l, 1) = mean softplus(-l) = -mean log D(G(z));
        "minimax":        loss = -BCE(l, 0) = -mean softplus(l) = mean log(1 - D(G(z)));
        opt_g.zero_grad(); loss.backward(); opt_g.step().

    Shapes:
        z: (M, latent_dim); labels: (M,) or None.

    Args:
        G, D: the players; opt_g: an optimizer over G's parameters only.
        z, labels: this step's noise and requested modes.
        loss: "non_saturating" or "minimax" (anything else: ValueError).

    Returns:
        The loss as a Python float.

    Numerics:
        Both losses fall as D(G(z)) rises. The minimax loss is flat where D confidently
        rejects the fakes (its gradient is sigmoid(l)); the non-saturating one is steep.

    Reference:
        Goodfellow et al. 2014, section 3 (the non-saturating trick); gan_losses kata.
    """
    raise NotImplementedError


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
    """Train G and D in turns, each with its own Adam; return the losses of every step.

    Math:
        opt_d = Adam(D.parameters(), lr_d or lr, betas); opt_g = Adam(G.parameters(), lr,
        betas). Then `steps` times, drawing random numbers in exactly this order:
          real, modes = data_fn(batch, generator); labels = modes if conditional else None
          z = torch.randn(batch, G.latent_dim, generator=generator, dtype=real.dtype)
          d_step(G, D, opt_d, real, z, labels)
          z = torch.randn(...) again (fresh noise); g_step(G, D, opt_g, z, labels, g_loss)

    Shapes:
        data_fn(n, generator) -> (points (n, 2), modes (n,)), like eight_gaussians.

    Args:
        G, D: the players; data_fn: the real data; steps, batch, lr, betas: the schedule.
        generator: every random draw goes through it.
        g_loss: the generator loss g_step uses; conditional: feed the modes as labels.
        lr_d: D's learning rate when it differs from G's (None: lr).

    Returns:
        {"d_loss": [steps floats], "g_loss": [steps floats]}.

    Numerics:
        Two optimizers: one Adam over both players would step D with G's loss.

    Reference:
        PyTorch DCGAN tutorial, "Training Loop".
    """
    raise NotImplementedError


def mode_counts(samples: torch.Tensor, centers: torch.Tensor, radius_tol: float) -> torch.Tensor:
    """A histogram over modes: the samples within radius_tol of each center.

    Math:
        each sample goes to its nearest center k (Euclidean); it counts for k when
        ||x - c_k|| <= radius_tol (a "high-quality" sample). radius_tol = inf gives the
        plain nearest-mode histogram.

    Shapes:
        samples: (N, 2); centers: (K, 2). Returns (K,).

    Args:
        samples, centers: points; radius_tol: how close counts as "on" a mode.

    Returns:
        int64 counts.

    Numerics:
        torch.cdist gives all the distances at once; torch.bincount(..., minlength=K).

    Reference:
        Metz et al. 2017 and Srivastava et al. 2017 ("VEEGAN"), the high-quality samples.
    """
    raise NotImplementedError


def mode_coverage(
    samples: torch.Tensor, centers: torch.Tensor, radius_tol: float, min_share: float = 0.01
) -> tuple[int, float]:
    """How many modes a generator covers, and how many of its samples are on a mode.

    Math:
        counts = mode_counts(samples, centers, radius_tol);
        covered = number of modes k with counts[k] >= min_share * N;
        quality = sum(counts) / N.

    Shapes:
        samples: (N, 2); centers: (K, 2).

    Args:
        samples, centers, radius_tol: as in mode_counts.
        min_share: the share of all N samples a mode needs to count as covered.

    Returns:
        (covered: int, quality: float in [0, 1]).

    Numerics:
        Count modes, not samples: 1000 samples on one mode cover 1 mode.

    Reference:
        Metz et al. 2017, "modes captured" and "high-quality samples".
    """
    raise NotImplementedError
