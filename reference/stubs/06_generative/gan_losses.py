"""GAN losses: the minimax game, the non-saturating generator loss, and their gradients.

Implement with NumPy. A generator G turns noise z into samples G(z); a discriminator D(x) gives
the probability that x is real data rather than a fake. They play a minimax game on the value

    V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p_z}[log(1 - D(G(z)))]:

D maximizes V (tell real from fake), G minimizes it (fool D). In code D outputs a logit l and
D = sigmoid(l), so every term is a binary cross-entropy of logits:

    -log D = -log sigmoid(l) = softplus(-l),    -log(1 - D) = softplus(l),
    softplus(x) = log(1 + exp(x)).

For a fixed G the best discriminator is known in closed form, and against it V measures the
Jensen-Shannon divergence between p_data and the generator's distribution p_g: the game's
minimum is reached exactly when p_g = p_data. In practice G does not minimize log(1 - D(G(z))):
early in training D rejects the fakes easily and that loss is flat. It minimizes -log D(G(z))
instead (the non-saturating loss): the same fixed point, a strong gradient when G is losing.
The tests show both. Run: pytest katas/06_generative/test_gan_losses.py
"""

import numpy as np


def discriminator_loss(real_logits: np.ndarray, fake_logits: np.ndarray) -> np.ndarray:
    """The discriminator's loss: BCE of real logits against 1 plus BCE of fake logits against 0.

    Math:
        loss = mean over real samples of -log D(x) + mean over fakes of -log(1 - D(G(z)))
             = mean(softplus(-real_logits)) + mean(softplus(fake_logits))
        This is -V(D, G) with the expectations replaced by batch means: minimizing it is D's
        half of the game. It is the SUM of the two means (as in PyTorch's DCGAN tutorial,
        errD = errD_real + errD_fake), not their average.

    Shapes:
        real_logits: any shape, N elements; fake_logits: any shape, M elements (M may differ
        from N). Every element is one sample's logit; the loss is a scalar.

    Args:
        real_logits: D's logits on real data.
        fake_logits: D's logits on the generator's samples.

    Returns:
        The loss, a 0-d array (or NumPy scalar) in the logits' dtype.

    Numerics:
        Never form sigmoid(l) and take its log: at l = 100, 1 - sigmoid(l) rounds to 0 and
        log(0) = -inf; at l = -1000, exp(1000) overflows. Use
        softplus(x) = max(x, 0) + log(1 + exp(-|x|)) (np.log1p), finite for every x.

    Reference:
        F.binary_cross_entropy_with_logits(real_logits, ones) +
        F.binary_cross_entropy_with_logits(fake_logits, zeros)      (reduction="mean")
    """
    raise NotImplementedError


def discriminator_loss_backward(
    real_logits: np.ndarray, fake_logits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of discriminator_loss with respect to the real and the fake logits.

    Math:
        d softplus(x) / dx = sigmoid(x), so
        d_real = (sigmoid(real_logits) - 1) / N        (= -sigmoid(-real_logits) / N)
        d_fake = sigmoid(fake_logits) / M

    Shapes:
        d_real: real_logits' shape; d_fake: fake_logits' shape.

    Args:
        real_logits, fake_logits: the inputs of discriminator_loss.

    Returns:
        (d_real, d_fake), new arrays in the logits' dtype.

    Numerics:
        Each mean divides by its own count: N for the real term, M for the fake term.
        Compute sigmoid with exp(-|x|) so that nothing overflows.

    Reference:
        torch.autograd.grad of the loss above with respect to both logits
    """
    raise NotImplementedError


def generator_loss_minimax(fake_logits: np.ndarray) -> np.ndarray:
    """The minimax generator loss, mean log(1 - D(G(z))), which the generator minimizes.

    Math:
        loss = mean(log(1 - sigmoid(fake_logits))) = -mean(softplus(fake_logits))
        G's half of the game: the fake term of V itself. It is minus the discriminator's fake
        term, so it is always negative, and G drives it down by raising the fake logits.

    Shapes:
        fake_logits: any shape, M elements; the loss is a scalar.

    Args:
        fake_logits: D's logits on the generator's samples.

    Returns:
        The loss, a 0-d array (or NumPy scalar) in fake_logits' dtype.

    Numerics:
        As for discriminator_loss: softplus, never log(1 - sigmoid(l)).

    Reference:
        -F.binary_cross_entropy_with_logits(fake_logits, zeros)
    """
    raise NotImplementedError


def generator_loss_minimax_backward(fake_logits: np.ndarray) -> np.ndarray:
    """Gradient of generator_loss_minimax with respect to the fake logits.

    Math:
        d_fake = -sigmoid(fake_logits) / M
        When D confidently rejects the fakes (fake_logits << 0), sigmoid(l) ~ exp(l) ~ 0:
        the gradient vanishes exactly when G most needs it. That is the saturation.

    Shapes:
        d_fake: fake_logits' shape.

    Args:
        fake_logits: the input of generator_loss_minimax.

    Returns:
        d_fake, a new array in fake_logits' dtype.

    Numerics:
        sigmoid via exp(-|x|).

    Reference:
        torch.autograd.grad of -F.binary_cross_entropy_with_logits(fake_logits, zeros)
    """
    raise NotImplementedError


def generator_loss_nonsaturating(fake_logits: np.ndarray) -> np.ndarray:
    """The non-saturating generator loss, -mean log D(G(z)): BCE of the fake logits against 1.

    Math:
        loss = -mean(log sigmoid(fake_logits)) = mean(softplus(-fake_logits))
        Not -minimax: G now maximizes log D(G(z)) instead of minimizing log(1 - D(G(z))).
        Both push the fake logits up; in code, the fakes are labelled "real" (1).

    Shapes:
        fake_logits: any shape, M elements; the loss is a scalar.

    Args:
        fake_logits: D's logits on the generator's samples.

    Returns:
        The loss, a 0-d array (or NumPy scalar) in fake_logits' dtype.

    Numerics:
        softplus(-l), never log(sigmoid(l)) (at l = -1000 that is log(0)).

    Reference:
        F.binary_cross_entropy_with_logits(fake_logits, ones)
    """
    raise NotImplementedError


def generator_loss_nonsaturating_backward(fake_logits: np.ndarray) -> np.ndarray:
    """Gradient of generator_loss_nonsaturating with respect to the fake logits.

    Math:
        d_fake = (sigmoid(fake_logits) - 1) / M = -sigmoid(-fake_logits) / M
        When D rejects the fakes (fake_logits << 0) this is about -1/M: the strongest signal
        exactly where the minimax gradient vanishes. Their ratio is exp(fake_logits).

    Shapes:
        d_fake: fake_logits' shape.

    Args:
        fake_logits: the input of generator_loss_nonsaturating.

    Returns:
        d_fake, a new array in fake_logits' dtype.

    Numerics:
        sigmoid via exp(-|x|).

    Reference:
        torch.autograd.grad of F.binary_cross_entropy_with_logits(fake_logits, ones)
    """
    raise NotImplementedError


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """The best discriminator for a fixed generator: D*(x) = p_data(x) / (p_data(x) + p_g(x)).

    Math:
        V = sum over x of p_data(x) log D(x) + p_g(x) log(1 - D(x)); each x is a separate
        problem a log y + b log(1 - y), maximized at y = a / (a + b)
        (Goodfellow et al. 2014, Proposition 1). D* = 1/2 wherever p_g = p_data.

    Shapes:
        p_data, p_g: the same shape, probabilities (or densities) at the same points;
        returns that shape.

    Args:
        p_data: the data distribution's probability at each point.
        p_g: the generator's probability at the same points.

    Returns:
        D*, values in [0, 1], in p_data's dtype.

    Numerics:
        Where p_data = p_g = 0, no sample ever lands and V does not depend on D(x): return 1/2
        there (never 0 / 0 = nan).

    Reference:
        torch.where(p_data + p_g > 0, p_data / (p_data + p_g), 0.5)
    """
    raise NotImplementedError


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence between discrete distributions, in nats (natural log).

    Math:
        m = (p + q) / 2
        JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2,   KL(p || m) = sum_k p_k log(p_k / m_k)
        Between 0 (p = q) and log 2 (disjoint supports). At D*, V(D*, G) = -log 4 + 2 JS:
        the GAN's game minimizes the JS divergence (Goodfellow et al. 2014, Theorem 1).

    Shapes:
        p, q: (..., K), distributions over the last axis (each sums to 1); returns (...,).

    Args:
        p, q: probabilities, nonnegative.

    Returns:
        JS over the last axis, in p's dtype.

    Numerics:
        0 * log(0 / m) = 0: points where p_k = 0 add nothing (never nan). Natural log, not
        log2: in bits JS lies in [0, 1], and the identity with V above holds only in nats.

    Reference:
        0.5 * kl_divergence(Categorical(p), Categorical(m)) + 0.5 * the same for q, with
        torch.distributions; scipy.spatial.distance.jensenshannon(p, q) ** 2 (scipy returns
        the square root, a metric)
    """
    raise NotImplementedError
