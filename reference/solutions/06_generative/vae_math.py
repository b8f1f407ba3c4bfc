"""The VAE's reparameterization trick and its loss, the negative ELBO, forward and backward.

References: Kingma & Welling 2014, "Auto-Encoding Variational Bayes" (section 2.4 for the
trick, appendix B for the Gaussian KL); Doersch 2016, "Tutorial on Variational Autoencoders".
"""

import numpy as np


def reparameterize(mu, logvar, eps):
    """Sample z ~ N(mu, exp(logvar)) as a differentiable function of mu and logvar."""
    std = np.exp(0.5 * logvar)  # sigma = sqrt(sigma^2) = exp(0.5 * log sigma^2), always > 0
    return mu + std * eps  # (N, K)


def reparameterize_backward(dz, mu, logvar, eps):
    """Gradients of a loss with respect to mu and logvar, given dz = dL/dz."""
    std = np.exp(0.5 * logvar)
    dmu = dz.copy()  # z moves one for one with mu (a copy: the caller may update either)
    # z = mu + exp(0.5 * logvar) * eps, and d exp(0.5 * logvar) / d logvar = 0.5 * std
    dlogvar = dz * eps * 0.5 * std
    return dmu, dlogvar


def gaussian_kl(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, in closed form."""
    # One latent dim: KL(N(m, s^2) || N(0, 1)) = 0.5 * (s^2 + m^2 - 1 - log s^2).
    per_dim = 0.5 * (np.exp(logvar) + mu**2 - 1 - logvar)  # (N, K)
    return per_dim.sum(axis=-1)  # (N,): the dims are independent, so their KLs add


def _sigmoid(z):
    """1 / (1 + exp(-z)) written with exp(-|z|), which never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def negative_elbo(x, recon_logits, mu, logvar):
    """The VAE's loss per example: Bernoulli reconstruction from logits plus the KL to the prior."""
    l = recon_logits  # noqa: E741 - the l of the formula
    # -log p(x | z) per pixel, in the form that never takes log(sigmoid(l)): no log(0).
    bce = np.maximum(l, 0) - l * x + np.log1p(np.exp(-np.abs(l)))  # (N, ...)
    data_axes = tuple(range(1, x.ndim))
    recon = bce.sum(axis=data_axes)  # (N,): log p(x | z) is a sum over pixels, not a mean
    return recon + gaussian_kl(mu, logvar)  # -ELBO = reconstruction + KL


def negative_elbo_backward(dloss, x, recon_logits, mu, logvar):
    """Gradients of the negative ELBO with respect to recon_logits, mu and logvar."""
    d_data = dloss.reshape((-1,) + (1,) * (x.ndim - 1))  # (N, 1, ..., 1): over every data axis
    drecon_logits = d_data * (_sigmoid(recon_logits) - x)
    d_latent = dloss[:, None]  # (N, 1): over the K latent dims
    dmu = d_latent * mu  # d/dmu of 0.5 * mu^2
    dlogvar = d_latent * 0.5 * (np.exp(logvar) - 1)  # d/dlogvar of 0.5 * (exp(logvar) - logvar)
    return drecon_logits, dmu, dlogvar
