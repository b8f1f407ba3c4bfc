"""The VAE's reparameterization trick and its loss, the negative ELBO, forward and backward.

Implement with NumPy. A VAE's encoder maps x to a Gaussian q(z | x) = N(mu, diag(exp(logvar)));
the decoder maps a sample z to the logits of a Bernoulli per pixel. Training maximizes the
evidence lower bound (ELBO) on log p(x):

    log p(x) >= ELBO = E_q[log p(x | z)] - KL(q(z | x) || p(z)),   p(z) = N(0, I),

so the loss is -ELBO: a reconstruction term plus a KL term. Sampling z ~ q is not
differentiable, but z = mu + sigma * eps with eps ~ N(0, I) drawn outside is: gradients flow to
mu and logvar, and eps is just an input (here an argument, so the tests can pass their own).
Run: pytest katas/06_generative/test_vae_math.py
"""

import numpy as np


def reparameterize(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Sample z ~ N(mu, exp(logvar)) as a differentiable function of mu and logvar.

    Math:
        sigma = exp(0.5 * logvar)        (logvar = log sigma^2, so sigma = sqrt(exp(logvar)))
        z = mu + sigma * eps             eps ~ N(0, I), drawn by the caller

    Shapes:
        mu, logvar, eps: (N, K), K the latent dims; z: (N, K).

    Args:
        mu: the mean of q(z | x), one row per example.
        logvar: the log of its variance, log sigma^2 (any real number: no positivity to enforce).
        eps: standard normal noise, the same shape.

    Returns:
        z: (N, K), in mu's dtype.

    Numerics:
        exp(0.5 * logvar) is positive for any logvar: that is why encoders predict log sigma^2
        rather than sigma.

    Reference:
        torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).rsample(), with eps passed in
    """
    raise NotImplementedError


def reparameterize_backward(
    dz: np.ndarray, mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of a loss with respect to mu and logvar, given its gradient dz with respect to z.

    Math:
        dmu = dz                                          (dz/dmu = 1)
        dlogvar = dz * eps * 0.5 * exp(0.5 * logvar)      (chain rule through sigma)

    Shapes:
        dz, mu, logvar, eps: (N, K); dmu, dlogvar: (N, K).

    Args:
        dz: dL/dz from the decoder.
        mu, logvar, eps: the inputs of reparameterize.

    Returns:
        (dmu, dlogvar), new arrays in mu's dtype.

    Numerics:
        Keep the dtype: float32 in, float32 out.

    Reference:
        torch.autograd.grad through mu + torch.exp(0.5 * logvar) * eps
    """
    raise NotImplementedError


def gaussian_kl(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, in closed form.

    Math:
        per latent dim:  0.5 * (exp(logvar) + mu**2 - 1 - logvar)      (>= 0, 0 iff mu=0, logvar=0)
        kl = the sum of that over the K latent dims

    Shapes:
        mu, logvar: (N, K); kl: (N,).

    Args:
        mu, logvar: the parameters of q(z | x).

    Returns:
        kl: (N,), in mu's dtype.

    Numerics:
        No log of a variance is needed: logvar is already one.

    Reference:
        torch.distributions.kl_divergence(Normal(mu, exp(0.5 * logvar)), Normal(0, 1)).sum(-1)
    """
    raise NotImplementedError


def negative_elbo(
    x: np.ndarray, recon_logits: np.ndarray, mu: np.ndarray, logvar: np.ndarray
) -> np.ndarray:
    """The VAE's loss per example: Bernoulli reconstruction from logits plus the KL to the prior.

    Math:
        -log p(x | z) = sum over pixels of bce(l, x),  l = recon_logits = decoder(z)
        bce(l, x) = -(x * log sigmoid(l) + (1 - x) * log(1 - sigmoid(l)))
                  = max(l, 0) - l * x + log(1 + exp(-|l|))             (the stable form)
        loss = -log p(x | z) + gaussian_kl(mu, logvar)                  (a one-sample -ELBO)

    Shapes:
        x, recon_logits: (N, ...): any number of data axes after the batch axis, e.g. (N, D)
        or (N, C, H, W); mu, logvar: (N, K); loss: (N,).

    Args:
        x: the data, values in [0, 1] (binary pixels, or intensities used as soft targets).
        recon_logits: the decoder's logits for a sample z of q(z | x).
        mu, logvar: q(z | x)'s parameters.

    Returns:
        loss: (N,), in x's dtype. Sum over the data axes (do not average): log p(x | z) is a
        sum over pixels, and averaging would shrink it next to the KL.

    Numerics:
        Never form sigmoid(l) and take its log: for l = 100, 1 - sigmoid(l) rounds to 0 and
        log(0) = -inf (and 0 * log(0) = nan). The stable form is finite for every l.

    Reference:
        F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none") summed over the
        data axes, plus kl_divergence(Normal(mu, exp(0.5 * logvar)), Normal(0, 1)).sum(-1)
    """
    raise NotImplementedError


def negative_elbo_backward(
    dloss: np.ndarray,
    x: np.ndarray,
    recon_logits: np.ndarray,
    mu: np.ndarray,
    logvar: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the negative ELBO with respect to recon_logits, mu and logvar.

    Math:
        d bce(l, x) / dl = sigmoid(l) - x
        d kl / dmu = mu;   d kl / dlogvar = 0.5 * (exp(logvar) - 1)
        each scaled by its example's dloss[n]   (dloss = 1/N for a batch mean)

    Shapes:
        dloss: (N,); x, recon_logits: (N, ...); mu, logvar: (N, K);
        drecon_logits: (N, ...); dmu, dlogvar: (N, K).

    Args:
        dloss: dL/dloss for every example's loss.
        x, recon_logits, mu, logvar: the inputs of negative_elbo.

    Returns:
        (drecon_logits, dmu, dlogvar), in x's dtype.

    Numerics:
        sigmoid(l) = 1 / (1 + exp(-l)) overflows (harmlessly) for l < -709; exp(-|l|) never
        does. dloss has one axis; the data may have several: reshape it to (N, 1, ..., 1).

    Reference:
        torch.autograd.grad through F.binary_cross_entropy_with_logits and kl_divergence
    """
    raise NotImplementedError
