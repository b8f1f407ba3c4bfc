"""A variational autoencoder in PyTorch: the model, its loss, training, the latent space.

An encoder maps an image x to the mean and log-variance of a Gaussian q(z | x); a code
z = mu + sigma * eps is drawn from it; a decoder maps z to one logit per pixel, the
Bernoulli p(x | z). The loss is the negative ELBO: reconstruction + beta * KL(q || N(0, I)).
References: Kingma & Welling 2014, "Auto-Encoding Variational Bayes" (appendix B, C.2);
Higgins et al. 2017, "beta-VAE"; Chen et al. 2018, "Isolating Sources of Disentanglement"
(the mutual information gap, here with correlations); the PyTorch examples' vae/main.py.
"""

import torch
import torch.nn.functional as F
from torch import nn


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + exp(0.5 * logvar) * eps: a sample of N(mu, sigma^2) with a gradient."""
    std = torch.exp(0.5 * logvar)  # sigma = exp(0.5 log sigma^2), always > 0
    return mu + std * eps  # (N, K)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) per example, (N,)."""
    per_dim = 0.5 * (torch.exp(logvar) + mu**2 - 1 - logvar)  # (N, K)
    return per_dim.sum(dim=-1)  # the dims are independent: their KLs add


def vae_loss(
    x: torch.Tensor,
    logits: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
) -> torch.Tensor:
    """Mean over the batch of (BCE summed over the pixels + beta * KL)."""
    # -log p(x | z) per pixel, from the logits: never log(sigmoid(l)), which is log(0) = -inf
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # (N, D)
    recon = bce.sum(dim=1)  # (N,): the pixels are independent given z, their log p add
    return (recon + beta * gaussian_kl(mu, logvar)).mean()


class VAE(nn.Module):
    """An MLP encoder to (mu, logvar) and an MLP decoder to Bernoulli logits."""

    def __init__(self, in_dim: int = 784, hidden: int = 400, latent: int = 20):
        super().__init__()
        self.latent_dim = latent
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent)
        self.to_logvar = nn.Linear(hidden, latent)  # log sigma^2: any real number is valid
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, in_dim)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)  # (N, hidden)
        return self.to_mu(h), self.to_logvar(h)  # (N, K) each

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (N, D) logits: the loss applies the sigmoid itself

    def forward(self, x: torch.Tensor, eps: torch.Tensor):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, eps)  # the noise comes from outside: reproducible
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        dtype = self.to_mu.weight.dtype
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=dtype)  # z ~ p(z)
        return torch.sigmoid(self.decode(z))  # (n, D) pixel probabilities


def train_vae(
    model: VAE,
    data: torch.Tensor,
    epochs: int,
    batch: int,
    lr: float,
    generator: torch.Generator,
    beta: float = 1.0,
) -> list[float]:
    """Adam on the (beta-)negative ELBO; returns the mean batch loss of each epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(data), generator=generator)  # a new order every epoch
        losses = []
        for start in range(0, len(data), batch):
            x = data[perm[start : start + batch]]  # (B, D)
            eps = torch.randn(len(x), model.latent_dim, generator=generator, dtype=data.dtype)
            logits, mu, logvar = model(x, eps)
            loss = vae_loss(x, logits, mu, logvar, beta)
            opt.zero_grad()  # .grad accumulates: clear the last batch's
            loss.backward()
            opt.step()
            losses.append(loss.item())
        history.append(sum(losses) / len(losses))
    return history


@torch.no_grad()
def evaluate_nelbo(model: VAE, data: torch.Tensor, generator: torch.Generator) -> float:
    """Mean negative ELBO (beta = 1) in nats per image, one eps sample per image."""
    eps = torch.randn(len(data), model.latent_dim, generator=generator, dtype=data.dtype)
    logits, mu, logvar = model(data, eps)
    return vae_loss(data, logits, mu, logvar).item()


@torch.no_grad()
def latent_traversal(model: VAE, z0: torch.Tensor, dim: int, values: torch.Tensor) -> torch.Tensor:
    """Decode z0 with coordinate `dim` set to each value in turn: (V, D) probabilities."""
    z = z0.reshape(1, -1).repeat(len(values), 1)  # (V, K): a new tensor, z0 stays as it was
    z[:, dim] = values
    return torch.sigmoid(model.decode(z))


@torch.no_grad()
def latent_map_2d(model: VAE, grid: int, span: float = 2.0, side: int = 28) -> torch.Tensor:
    """Decode a grid x grid lattice of a 2-D latent space into one tiled image."""
    values = torch.linspace(-span, span, grid, dtype=model.to_mu.weight.dtype)  # (G,)
    z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")  # z2 grows upwards
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)  # (G*G, 2), row by row
    images = torch.sigmoid(model.decode(z)).reshape(grid, grid, side, side)  # (Gr, Gc, H, W)
    return images.permute(0, 2, 1, 3).reshape(grid * side, grid * side)  # (Gr*H, Gc*W)


def disentanglement_gap(codes: torch.Tensor, factors: torch.Tensor) -> float:
    """Per factor, the top |correlation| with one code dim minus the runner-up, averaged."""
    codes, factors = codes.double(), factors.double()
    c = codes - codes.mean(dim=0)  # (N, J)
    f = factors - factors.mean(dim=0)  # (N, K)
    cov = f.T @ c / len(c)  # (K, J)
    scale = f.std(dim=0, unbiased=False)[:, None] * c.std(dim=0, unbiased=False)[None, :]
    corr = torch.where(scale > 0, cov / torch.where(scale > 0, scale, 1.0), 0.0)  # dead dim: 0
    top = corr.abs().sort(dim=1, descending=True).values  # (K, J)
    return (top[:, 0] - top[:, 1]).mean().item()


def plot_image(image: torch.Tensor, path, title: str = ""):
    """Draw a 2-D array of values in [0, 1] in grey and save it as a PNG; return the Figure."""
    from matplotlib.figure import Figure  # no pyplot: no display, no global state

    fig = Figure(figsize=(5, 5 * image.shape[0] / image.shape[1] + 0.4))
    ax = fig.add_subplot()
    ax.imshow(image.detach().cpu().numpy(), cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    ax.set_title(title)
    fig.savefig(path, format="png")
    return fig
