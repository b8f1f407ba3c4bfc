"""A variational autoencoder on MNIST: the model, its loss, training, the latent space.

This kata is written in PyTorch (vae_math did the same formulas in NumPy). An encoder
maps an image x to the mean and log-variance of a Gaussian q(z | x); a code
z = mu + sigma * eps is drawn from it; a decoder maps z to one logit per pixel, a
Bernoulli p(x | z). The loss is the negative ELBO: reconstruction + beta * KL(q || N(0, I)).

The training tests use MNIST binarised at a fixed threshold (pixel > 127 is 1), so that
the negative ELBO is a bound on -log p(x) in nats per image: an untrained VAE scores
about 784 log 2 = 543, a trained one about 100. They then train a VAE with a 2-D latent
space and draw its map of digits, and train a beta-VAE on 16 x 16 images of a blob whose
x and y positions are two independent factors, to see one code dim per factor. To look
at that data:

    from reference.oracles.vae import blobs    # run from the repository root
    images, factors = blobs(8, torch.Generator().manual_seed(0))   # (8, 256), (8, 2)

Randomness is an argument everywhere: eps is passed in, or drawn from the
torch.Generator you are given, never from the global RNG.

Run: pytest katas/06_generative/test_vae.py
"""

import torch
from torch import nn


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Sample z ~ N(mu, sigma^2) as a differentiable function of mu and logvar.

    Math:
        sigma = exp(0.5 * logvar);  z = mu + sigma * eps,  eps ~ N(0, I) given.

    Shapes:
        mu, logvar, eps: (N, K); returns (N, K).

    Args:
        mu, logvar: the encoder's outputs (logvar = log sigma^2).
        eps: standard normal noise, drawn by the caller.

    Returns:
        z, with a gradient to mu and logvar.

    Numerics:
        logvar is a log-variance, not a standard deviation: sigma = exp(0.5 * logvar).

    Reference:
        torch.distributions.Normal(mu, sigma).rsample() (which draws eps itself).
    """
    raise NotImplementedError


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) per example.

    Math:
        KL = 0.5 * sum_k (exp(logvar_k) + mu_k^2 - 1 - logvar_k)  (>= 0; 0 iff q = prior)

    Shapes:
        mu, logvar: (N, K); returns (N,).

    Args:
        mu, logvar: the parameters of q(z | x).

    Returns:
        The KL of each example, summed (not averaged) over the K latent dims.

    Numerics:
        Closed form: no sampling, exact.

    Reference:
        torch.distributions.kl_divergence(Normal(mu, sigma), Normal(0, 1)).sum(-1).
    """
    raise NotImplementedError


def vae_loss(
    x: torch.Tensor,
    logits: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
) -> torch.Tensor:
    """The (beta-)negative ELBO, averaged over the batch.

    Math:
        recon_n = sum_d BCE(logits_nd, x_nd) = -log p(x_n | z_n)  (Bernoulli pixels)
        loss = mean_n (recon_n + beta * KL_n)

    Shapes:
        x, logits: (N, D); mu, logvar: (N, K); returns a scalar ().

    Args:
        x: targets in [0, 1]; logits: the decoder's output for z = reparameterize(...).
        mu, logvar: the encoder's output; beta: the KL's weight (1: the ELBO).

    Returns:
        A 0-d tensor with a gradient to logits, mu and logvar.

    Numerics:
        Take the BCE from the logits (F.binary_cross_entropy_with_logits); log(sigmoid(l))
        is log(0) = -inf for l = -200 in float32. Sum over pixels, mean over the batch.

    Reference:
        F.binary_cross_entropy_with_logits(reduction="none"); Kingma & Welling 2014.
    """
    raise NotImplementedError


class VAE(nn.Module):
    """An MLP encoder to (mu, logvar) and an MLP decoder to Bernoulli logits."""

    def __init__(self, in_dim: int = 784, hidden: int = 400, latent: int = 20):
        """Build the layers below (the tests read them by name).

        self.latent_dim = latent
        self.encoder = Sequential(Linear(in_dim, hidden), ReLU())
        self.to_mu = Linear(hidden, latent); self.to_logvar = Linear(hidden, latent)
        self.decoder = Sequential(Linear(latent, hidden), ReLU(), Linear(hidden, in_dim))
        """
        super().__init__()
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The parameters of q(z | x): a mean and a log-variance per latent dim.

        Math:
            h = encoder(x) = relu(x W1^T + b1);  mu = to_mu(h);  logvar = to_logvar(h)

        Shapes:
            x: (N, D); returns mu (N, K), logvar (N, K).

        Args:
            x: flattened images.

        Returns:
            (mu, logvar).

        Numerics:
            logvar is unconstrained (any real number); exp(0.5 * logvar) is always > 0.

        Reference:
            Kingma & Welling 2014, appendix C.2 (a Gaussian MLP as encoder).
        """
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The logits of p(x | z): one Bernoulli per pixel.

        Math:
            logits = decoder(z) = relu(z W2^T + b2) W3^T + b3;  p(pixel = 1) = sigmoid(logits)

        Shapes:
            z: (N, K); returns (N, D).

        Args:
            z: latent codes.

        Returns:
            Logits (no sigmoid).

        Numerics:
            Leave the sigmoid to the loss (BCE with logits) and to the pictures.

        Reference:
            Kingma & Welling 2014, appendix C.1 (a Bernoulli MLP as decoder).
        """
        raise NotImplementedError

    def forward(self, x: torch.Tensor, eps: torch.Tensor):
        """Encode, sample z with the given noise, decode.

        Math:
            mu, logvar = encode(x);  z = reparameterize(mu, logvar, eps);  decode(z)

        Shapes:
            x: (N, D); eps: (N, K); returns logits (N, D), mu (N, K), logvar (N, K).

        Args:
            x: flattened images; eps: standard normal noise (never drawn in here).

        Returns:
            (logits, mu, logvar).

        Numerics:
            The decoder gets z, not mu: decoding mu is a plain autoencoder plus a penalty.

        Reference:
            The PyTorch examples' vae/main.py (which draws eps with torch.randn_like).
        """
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw n new images from the model: a code from the prior, then decode.

        Math:
            z = torch.randn(n, K, generator=generator, dtype=<the parameters' dtype>);
            return sigmoid(decode(z)).

        Shapes:
            returns (n, D).

        Args:
            n: how many images; generator: the only source of randomness.

        Returns:
            Pixel probabilities in [0, 1], no gradient (torch.no_grad()).

        Numerics:
            Never the global RNG: the same generator seed gives the same images.

        Reference:
            Kingma & Welling 2014, figure 5 (samples from the prior).
        """
        raise NotImplementedError


def train_vae(
    model: VAE,
    data: torch.Tensor,
    epochs: int,
    batch: int,
    lr: float,
    generator: torch.Generator,
    beta: float = 1.0,
) -> list[float]:
    """Train with Adam on vae_loss; return each epoch's mean batch loss.

    Math:
        each epoch: perm = torch.randperm(N, generator=generator); for each slice of
        `batch` indices of perm in order: eps = torch.randn(B, K, generator=generator,
        dtype=data.dtype); loss = vae_loss(x, *model(x, eps), beta); zero_grad,
        backward, step.

    Shapes:
        data: (N, D), values in [0, 1]; the last batch may be smaller.

    Args:
        model: anything with latent_dim and forward(x, eps) -> (logits, mu, logvar).
        epochs, batch, lr: the schedule (torch.optim.Adam(model.parameters(), lr=lr)).
        generator: the only source of randomness. beta: the KL's weight.

    Returns:
        A list of `epochs` floats.

    Numerics:
        Draw from the generator in exactly this order: the tests replay it.

    Reference:
        torch.optim.Adam; the PyTorch examples' vae/main.py.
    """
    raise NotImplementedError


def evaluate_nelbo(model: VAE, data: torch.Tensor, generator: torch.Generator) -> float:
    """The average negative ELBO (beta = 1) in nats per image, one eps sample per image.

    Math:
        eps = torch.randn(N, K, generator=generator, dtype=data.dtype) in one draw;
        vae_loss(data, *model(data, eps)).

    Shapes:
        data: (N, D).

    Args:
        model, data, generator: as in train_vae.

    Returns:
        A Python float. -ELBO >= -log p(x): lower is better.

    Numerics:
        No gradient needed (torch.no_grad()). One sample per image is unbiased; over
        10,000 images its noise is far below a nat.

    Reference:
        Kingma & Welling 2014, section 5 (they report the bound in nats).
    """
    raise NotImplementedError


def latent_traversal(model: VAE, z0: torch.Tensor, dim: int, values: torch.Tensor) -> torch.Tensor:
    """Decode z0 with one coordinate swept through values: what that latent dim controls.

    Math:
        row v: z = z0 with z[dim] = values[v];  sigmoid(decode(z)).

    Shapes:
        z0: (K,); values: (V,); returns (V, D) pixel probabilities.

    Args:
        model: a trained VAE; z0: a starting code (e.g. an image's mu); dim: which
        coordinate to sweep; values: what to set it to.

    Returns:
        Probabilities in [0, 1], no gradient.

    Numerics:
        Leave z0 as it was: build a new tensor (repeat or clone), then set the column.

    Reference:
        Higgins et al. 2017, "beta-VAE", figure 1 (latent traversals).
    """
    raise NotImplementedError


def latent_map_2d(model: VAE, grid: int, span: float = 2.0, side: int = 28) -> torch.Tensor:
    """Decode a grid x grid lattice of a 2-D latent space into one tiled image.

    Math:
        v = linspace(-span, span, grid); tile (i, j), row i from the top and column j
        from the left, shows sigmoid(decode(z)) for z = (v[j], v[grid - 1 - i]):
        z_1 grows to the right, z_2 upwards, as on a plot.

    Shapes:
        the model's latent_dim is 2 and D = side * side; returns (grid * side, grid * side).

    Args:
        model: a VAE with a 2-D latent space; grid: tiles per side; span: the largest
        |z| drawn (2: most of the prior's mass); side: the image's height and width.

    Returns:
        Probabilities in [0, 1], no gradient.

    Numerics:
        Decode all grid^2 codes in one batch; a reshape and a permute tile them.

    Reference:
        Kingma & Welling 2014, figure 4 (they spaced v by the inverse Gaussian CDF).
    """
    raise NotImplementedError


def disentanglement_gap(codes: torch.Tensor, factors: torch.Tensor) -> float:
    """How much each known factor lives in one code dim alone: a correlation gap.

    Math:
        C[k, j] = |corr(factor_k, code_j)| (Pearson, over the N examples; 0 for a
        constant column); per factor, sort C[k] descending: gap_k = C[k, 0] - C[k, 1];
        return mean_k gap_k. 1: every factor is one dim; 0: shared by two dims equally.

    Shapes:
        codes: (N, J) with J >= 2; factors: (N, K).

    Args:
        codes: latent codes of N examples; factors: their true generative factors.

    Returns:
        A Python float in [0, 1].

    Numerics:
        Work in float64; a dim the model switched off can be constant: give it 0,
        not 0 / 0 = NaN.

    Reference:
        Chen et al. 2018, the mutual information gap (MIG), with |correlation| in place
        of mutual information; np.corrcoef.
    """
    raise NotImplementedError


def plot_image(image: torch.Tensor, path, title: str = ""):
    """Draw a 2-D array of values in [0, 1] in grey, save it as a PNG, return the Figure.

    Math:
        imshow(image, cmap="gray", vmin=0, vmax=1): black 0, white 1, no rescaling.

    Shapes:
        image: (H, W).

    Args:
        image: e.g. latent_map_2d's output, or a traversal laid side by side.
        path: where to write the PNG; title: above the picture.

    Returns:
        The matplotlib Figure.

    Numerics:
        Use matplotlib.figure.Figure (no pyplot: no display, no global state).

    Reference:
        matplotlib.figure.Figure.savefig; torchvision.utils.save_image does the tiling too.
    """
    raise NotImplementedError
