"""GAN losses from the discriminator's logits: the minimax game, the non-saturating generator
loss, their gradients, and the theory of the optimal discriminator.

References: Goodfellow et al. 2014, "Generative Adversarial Nets" (eq. 1, Proposition 1,
Theorem 1, and the non-saturating loss of section 3); Goodfellow 2016, "NIPS 2016 Tutorial:
Generative Adversarial Networks" (section 3.2.3, figure 16); the PyTorch DCGAN tutorial.
"""

import numpy as np


def _softplus(x):
    """log(1 + exp(x)) = -log sigmoid(-x) = -log(1 - sigmoid(x)), never overflowing."""
    # max(x, 0) carries the large part; log1p(exp(-|x|)) is in (0, log 2] for every x.
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    """1 / (1 + exp(-x)) written with exp(-|x|), which never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss: BCE of real logits against 1 plus BCE of fake logits against 0."""
    # -log D(x) = softplus(-l) and -log(1 - D(G(z))) = softplus(l), with D = sigmoid(l).
    real_term = _softplus(-real_logits).mean()  # real samples labelled 1
    fake_term = _softplus(fake_logits).mean()  # fake samples labelled 0
    return real_term + fake_term  # the sum of the two means, as in the DCGAN tutorial


def discriminator_loss_backward(real_logits, fake_logits):
    """Gradients of discriminator_loss with respect to the real and the fake logits."""
    # d softplus(-l) / dl = -sigmoid(-l) = sigmoid(l) - 1; each mean divides by its own count.
    d_real = (_sigmoid(real_logits) - 1) / real_logits.size
    d_fake = _sigmoid(fake_logits) / fake_logits.size  # d softplus(l) / dl = sigmoid(l)
    return d_real, d_fake


def generator_loss_minimax(fake_logits):
    """The minimax generator loss, mean log(1 - D(G(z))), which the generator minimizes."""
    # log(1 - sigmoid(l)) = -softplus(l): the discriminator's fake term with its sign flipped.
    return -_softplus(fake_logits).mean()


def generator_loss_minimax_backward(fake_logits):
    """Gradient of generator_loss_minimax with respect to the fake logits."""
    # -sigmoid(l) / N: vanishes when D rejects the fakes (l very negative), early in training.
    return -_sigmoid(fake_logits) / fake_logits.size


def generator_loss_nonsaturating(fake_logits):
    """The non-saturating generator loss, -mean log D(G(z)): BCE of the fake logits against 1."""
    return _softplus(-fake_logits).mean()  # -log sigmoid(l) = softplus(-l)


def generator_loss_nonsaturating_backward(fake_logits):
    """Gradient of generator_loss_nonsaturating with respect to the fake logits."""
    # (sigmoid(l) - 1) / N = -sigmoid(-l) / N: about -1/N exactly when D rejects the fakes.
    return (_sigmoid(fake_logits) - 1) / fake_logits.size


def optimal_discriminator(p_data, p_g):
    """The best discriminator for a fixed generator: D*(x) = p_data(x) / (p_data(x) + p_g(x))."""
    total = p_data + p_g
    has_mass = total > 0
    # Where neither distribution puts mass, V does not depend on D(x): return 1/2 there,
    # dividing by 1 instead of 0 so that no nan is computed and thrown away.
    return np.where(has_mass, p_data / np.where(has_mass, total, 1), 0.5)


def _kl(p, q):
    """KL(p || q) in nats over the last axis, with 0 * log(0 / q) = 0."""
    # Where p = 0 the term is 0 whatever q is: take log(1 / 1) = 0 there instead of log(0 / q).
    # Elsewhere q > 0 (q is a mixture that contains p).
    p_safe, q_safe = np.where(p > 0, p, 1), np.where(p > 0, q, 1)
    return (p * np.log(p_safe / q_safe)).sum(axis=-1)


def jensen_shannon(p, q):
    """Jensen-Shannon divergence between discrete distributions, in nats (natural log)."""
    m = 0.5 * (p + q)  # (..., K): the mixture, positive wherever p or q is
    return 0.5 * _kl(p, m) + 0.5 * _kl(q, m)  # (...,), between 0 and log 2
