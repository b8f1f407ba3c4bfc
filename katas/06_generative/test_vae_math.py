"""vae_math.py: the reparameterization trick, the Gaussian KL and the negative ELBO, with their
gradients, against torch.distributions, F.binary_cross_entropy_with_logits and autograd; then
what the ELBO means: the KL is an average over samples of q, and the ELBO never exceeds log p(x).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import vae_math as oracle

vae = kata("06_generative/vae_math")
SIZES = {"N=5, K=3": (5, 3), "N=1, K=1": (1, 1)}
DATA = {"(N, D) vectors": ((4, 6), 3), "(N, C, H, W) images": ((3, 1, 4, 5), 2),
        "one example, one pixel": ((1, 1), 1)}  # fmt: skip


def latents(rng, N, K, dtype=np.float64):
    """mu, logvar, eps: (N, K) each; logvar spread on both sides of 0 (sigma above and below 1)."""
    mu, logvar, eps = rng.standard_normal((3, N, K)) * np.array([1.0, 1.5, 1.0])[:, None, None]
    return [a.astype(dtype) for a in (mu, logvar, eps)]


def pixels(rng, shape, dtype=np.float64):
    """x in [0, 1] (hard 0/1 pixels mixed with soft intensities) and the decoder's logits."""
    x = rng.uniform(size=shape)
    x = np.where(rng.uniform(size=shape) < 0.5, np.round(x), x)
    return x.astype(dtype), (3 * rng.standard_normal(shape)).astype(dtype)


def parts(out, fn, names):
    __tracebackhide__ = True
    n = names.count(",") + 1
    assert_true(isinstance(out, tuple) and len(out) == n,
                f"{fn} must return a tuple {names}; got {describe(out)}")  # fmt: skip
    return out


def check_reparameterize(mu, logvar, eps, dtype=np.float64):
    __tracebackhide__ = True
    z = call(vae.reparameterize, mu, logvar, eps)
    assert_close(z, oracle.reparameterize(mu, logvar, eps)["z"], tol="elementwise", name="z",
                 dtype=dtype, mistakes=oracle.reparameterize_slips(mu, logvar, eps))  # fmt: skip
    return z


def check_reparameterize_backward(dz, mu, logvar, eps, dtype=np.float64):
    __tracebackhide__ = True
    out = call(vae.reparameterize_backward, dz, mu, logvar, eps)
    grads = parts(out, "reparameterize_backward", "(dmu, dlogvar)")
    want = oracle.reparameterize(mu, logvar, eps, dz=dz)
    slips = oracle.reparameterize_backward_slips(dz, mu, logvar, eps)
    for name, g in zip(("mu", "logvar"), grads):
        assert_close(g, want[name], tol="grad", name=f"d{name}", dtype=dtype, mistakes=slips[name])


def check_kl(mu, logvar, dtype=np.float64):
    __tracebackhide__ = True
    kl = call(vae.gaussian_kl, mu, logvar)
    assert_close(kl, oracle.gaussian_kl(mu, logvar), tol="reduction", name="kl", dtype=dtype,
                 factors={"K": mu.shape[-1]}, mistakes=oracle.kl_slips(mu, logvar))  # fmt: skip


def check_negative_elbo(x, logits, mu, logvar, dtype=np.float64):
    __tracebackhide__ = True
    loss = call(vae.negative_elbo, x, logits, mu, logvar)
    assert_close(loss, oracle.negative_elbo(x, logits, mu, logvar)["loss"], tol="reduction",
                 name="the loss", dtype=dtype,
                 mistakes=oracle.negative_elbo_slips(x, logits, mu, logvar))  # fmt: skip


def check_negative_elbo_backward(dloss, x, logits, mu, logvar, dtype=np.float64):
    __tracebackhide__ = True
    out = call(vae.negative_elbo_backward, dloss, x, logits, mu, logvar)
    grads = parts(out, "negative_elbo_backward", "(drecon_logits, dmu, dlogvar)")
    want = oracle.negative_elbo(x, logits, mu, logvar, dloss=dloss)
    slips = oracle.negative_elbo_backward_slips(dloss, x, logits, mu, logvar)
    for name, g in zip(("recon_logits", "mu", "logvar"), grads):
        assert_close(g, want[name], tol="grad", name=f"d{name}", dtype=dtype, mistakes=slips[name])


@pytest.mark.oracle
@pytest.mark.parametrize("size", SIZES)
def test_reparameterize_matches_torch(size, rng):
    check_reparameterize(*latents(rng, *SIZES[size]))


@pytest.mark.oracle
@pytest.mark.parametrize("size", SIZES)
def test_reparameterize_backward_matches_torch_autograd(size, rng):
    mu, logvar, eps = latents(rng, *SIZES[size])
    check_reparameterize_backward(rng.standard_normal(mu.shape), mu, logvar, eps)


@pytest.mark.oracle
@pytest.mark.parametrize("size", SIZES)
def test_gaussian_kl_matches_torch_kl_divergence(size, rng):
    check_kl(*latents(rng, *SIZES[size])[:2])


@pytest.mark.oracle
@pytest.mark.parametrize("case", DATA)
def test_negative_elbo_matches_torch(case, rng):
    shape, K = DATA[case]
    check_negative_elbo(*pixels(rng, shape), *latents(rng, shape[0], K)[:2])


@pytest.mark.oracle
@pytest.mark.parametrize("case", DATA)
def test_negative_elbo_backward_matches_torch_autograd(case, rng):
    shape, K = DATA[case]
    dloss = rng.uniform(0.1, 2.0, shape[0])  # a different weight per example
    check_negative_elbo_backward(dloss, *pixels(rng, shape), *latents(rng, shape[0], K)[:2])


@pytest.mark.parametrize("part", ["forward", "backward"])
def test_float32_stays_float32(part, rng):
    f32 = np.float32
    (x, logits), (mu, logvar, eps) = pixels(rng, (3, 2, 4), f32), latents(rng, 3, 2, f32)
    if part == "forward":
        check_reparameterize(mu, logvar, eps, f32)
        check_kl(mu, logvar, f32)
        check_negative_elbo(x, logits, mu, logvar, f32)
    else:
        check_reparameterize_backward(rng.standard_normal((3, 2)).astype(f32), mu, logvar, eps, f32)
        check_negative_elbo_backward(np.full(3, 1 / 3, f32), x, logits, mu, logvar, f32)


PROPERTY = dict(n=st.integers(1, 4), k=st.integers(1, 4), data=cs.shapes(1, 3, max_side=4),
                seed=st.integers(0, 2**32 - 1), lay_z=cs.layouts(), lay_x=cs.layouts())  # fmt: skip


def random_inputs(n, k, data, seed, lay_z, lay_x):
    rng = np.random.default_rng(seed)
    x, logits = (cs.relayout(a, lay_x) for a in pixels(rng, (n, *data)))
    mu, logvar, eps = (cs.relayout(a, lay_z) for a in latents(rng, n, k))
    return rng, x, logits, mu, logvar, eps


@pytest.mark.property
@given(**PROPERTY)
def test_forward_matches_torch_for_any_sizes_and_layouts(n, k, data, seed, lay_z, lay_x):
    _, x, logits, mu, logvar, eps = random_inputs(n, k, data, seed, lay_z, lay_x)
    check_reparameterize(mu, logvar, eps)
    check_kl(mu, logvar)
    check_negative_elbo(x, logits, mu, logvar)


@pytest.mark.property
@given(**PROPERTY)
def test_backward_matches_torch_for_any_sizes_and_layouts(n, k, data, seed, lay_z, lay_x):
    rng, x, logits, mu, logvar, eps = random_inputs(n, k, data, seed, lay_z, lay_x)
    check_reparameterize_backward(cs.relayout(rng.standard_normal((n, k)), lay_z), mu, logvar, eps)
    check_negative_elbo_backward(rng.uniform(0.1, 2.0, n), x, logits, mu, logvar)


def saturated(rng):
    """Logits up to +-1000, each against a target of exactly 0 and exactly 1."""
    big = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0])
    return np.stack([np.zeros(7), np.ones(7)]), np.stack([big, big]), *latents(rng, 2, 2)[:2]


@pytest.mark.edge
def test_large_logits_and_hard_targets_give_a_finite_loss(rng):
    check_negative_elbo(*saturated(rng))


@pytest.mark.edge
def test_large_logits_give_gradients_without_nan(rng):
    check_negative_elbo_backward(np.array([0.5, 2.0]), *saturated(rng))


@pytest.mark.edge
def test_kl_is_zero_when_q_is_the_prior_and_positive_otherwise():
    mu = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    logvar = np.array([[0.0, 0.0], [0.0, 0.0], [-2.0, 3.0]])  # rows: the prior, shifted, reshaped
    check_kl(mu, logvar)


@pytest.mark.edge
def test_zero_noise_puts_z_at_the_mean(rng):
    mu, logvar, _ = latents(rng, 3, 2)
    check_reparameterize(mu, logvar, np.zeros((3, 2)))


@pytest.mark.parametrize("K", [1, 4])
def test_kl_is_the_average_of_log_q_minus_log_p_over_samples_of_q(K, rng):
    """KL(q || p) = E_q[log q(z) - log p(z)], averaged over z = reparameterize(mu, logvar, eps)."""
    S = 20_000
    mu = rng.choice([-1.0, 1.0], K) * rng.uniform(0.5, 1.5, K)
    logvar = rng.uniform(-2.0, 1.0, K)
    MU, LV, eps = np.tile(mu, (S, 1)), np.tile(logvar, (S, 1)), rng.standard_normal((S, K))
    z = check_reparameterize(MU, LV, eps)
    samples = oracle.log_q_minus_log_p(z, MU, LV)  # (S,)
    mc, se = samples.mean(), samples.std(ddof=1) / np.sqrt(S)
    kl = call(vae.gaussian_kl, mu[None], logvar[None])
    assert_true(isinstance(kl, np.ndarray) and kl.shape == (1,),
                f"gaussian_kl of one example must return shape (1,); got {kl!r}")  # fmt: skip
    assert_true(abs(kl[0] - mc) <= 5 * se,
                f"Your KL is {kl[0]:.5f}, but the average of log q(z) - log p(z) over {S} samples "
                f"of q is {mc:.5f} +- {se:.5f} (one standard error). The KL is that average: the "
                "closed form must match it within 5 standard errors.")  # fmt: skip


Q_CASES = ("q = the prior N(0, 1)", "q fitted to the posterior's mean and variance",
           "q a poor guess (shifted by 2, too narrow)")  # fmt: skip


@pytest.mark.parametrize("q", Q_CASES)
def test_negative_elbo_averages_to_minus_log_px_plus_kl_to_the_true_posterior(q, rng):
    """ELBO = log p(x) - KL(q || p(z|x)) <= log p(x), in a model small enough to integrate:
    one latent dim, logits = z * w + b. For q fitted to the posterior the bound is nearly tight."""
    D, S = 5, 20_000
    w, b = 2 * rng.standard_normal(D), 0.5 * rng.standard_normal(D)
    x = rng.integers(0, 2, D).astype(np.float64)  # one binary image of D pixels
    m, v = oracle.posterior_moments(x, w, b)
    mu, logvar = {Q_CASES[0]: (0.0, 0.0), Q_CASES[1]: (m, np.log(v)),
                  Q_CASES[2]: (m + 2, np.log(v) - 3)}[q]  # fmt: skip
    MU, LV = np.full((S, 1), mu), np.full((S, 1), logvar)
    z = check_reparameterize(MU, LV, rng.standard_normal((S, 1)))
    X = np.tile(x, (S, 1))
    losses = call(vae.negative_elbo, X, z * w + b, MU, LV)  # one sample of -ELBO per row
    assert_true(isinstance(losses, np.ndarray) and losses.shape == (S,),
                f"negative_elbo must return one loss per example, shape ({S},)")  # fmt: skip
    mean, se = losses.mean(), losses.std(ddof=1) / np.sqrt(S)
    nlp, gap = -oracle.log_px(x, w, b), oracle.kl_to_posterior(x, w, b, mu, logvar)
    assert_true(mean >= nlp - 5 * se,
                f"Your -ELBO averages {mean:.4f} +- {se:.4f}, below -log p(x) = {nlp:.4f}: the "
                "ELBO would exceed log p(x), which a lower bound never does. Is the "
                "reconstruction summed over pixels, and the KL added?")  # fmt: skip
    assert_true(abs(mean - (nlp + gap)) <= 5 * se,
                f"Your -ELBO averages {mean:.4f} +- {se:.4f}; it must be -log p(x) + "
                f"KL(q || p(z|x)) = {nlp:.4f} + {gap:.4f} = {nlp + gap:.4f} "
                "(within 5 standard errors).")  # fmt: skip
