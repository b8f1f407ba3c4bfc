"""gan_losses.py: the discriminator's loss, the minimax and non-saturating generator losses and
their gradients against F.binary_cross_entropy_with_logits and autograd; the optimal
discriminator and the Jensen-Shannon divergence against torch.distributions; then the theory
(at D*, the discriminator's loss is log 4 - 2 JS) and why nobody trains the minimax generator.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import gan_losses as oracle

gan = kata("06_generative/gan_losses")
SIZES = {"N=6 real, M=4 fake": ((6,), (4,)), "(N, 1) columns, N=3, M=5": ((3, 1), (5, 1)),
         "N=M=1": ((1,), (1,))}  # fmt: skip
LOSSES = ("discriminator", "minimax", "nonsaturating")


def huge():
    """Logits where sigmoid rounds to exactly 0 or 1 in float64, and exp(1000) overflows."""
    return np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0])


def logits(rng, shape, dtype=np.float64):
    return (3 * rng.standard_normal(shape)).astype(dtype)


def distributions(rng, shape):
    """Probabilities over the last axis: positive, random, each row summing to 1."""
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


def check_loss(loss, real, fake, dtype=np.float64):
    """loss: "discriminator" (discriminator_loss(real, fake)), "minimax" or "nonsaturating"
    (generator_loss_<loss>(fake)); compare it with torch's, naming known slips."""
    __tracebackhide__ = True
    if loss == "discriminator":
        want, slips = oracle.discriminator(real, fake), oracle.discriminator_slips(real, fake)
        out = call(gan.discriminator_loss, real, fake)
    else:
        want, slips = oracle.generator(loss, fake), oracle.generator_slips(loss, fake)
        out = call(getattr(gan, f"generator_loss_{loss}"), fake)
    assert_close(out, want["loss"], tol="reduction", name="the loss", dtype=dtype,
                 mistakes=slips["loss"])  # fmt: skip
    return out


def check_grad(loss, real, fake, dtype=np.float64):
    """The same for the loss's _backward: d_real and d_fake, or d_fake alone."""
    __tracebackhide__ = True
    if loss == "discriminator":
        want, slips = oracle.discriminator(real, fake), oracle.discriminator_slips(real, fake)
        out, names = call(gan.discriminator_loss_backward, real, fake), ("real", "fake")
        what = f"discriminator_loss_backward must return (d_real, d_fake); got {describe(out)}"
        assert_true(isinstance(out, tuple) and len(out) == 2, what)
    else:
        want, slips = oracle.generator(loss, fake), oracle.generator_slips(loss, fake)
        out, names = (call(getattr(gan, f"generator_loss_{loss}_backward"), fake),), ("fake",)
    for name, g in zip(names, out):
        n = {"N": real.size} if name == "real" else {"M": fake.size}
        assert_close(g, want[name], tol="grad", name=f"d_{name}", dtype=dtype, factors=n,
                     mistakes=slips[name])  # fmt: skip
    return out[-1]


def check(fn, args, want, tol, name, slips, dtype=np.float64):
    __tracebackhide__ = True
    out = call(getattr(gan, fn), *args)
    assert_close(out, want, tol=tol, name=name, dtype=dtype, mistakes=slips)
    return out


def check_optimal(p, q, dtype=np.float64):
    __tracebackhide__ = True
    return check("optimal_discriminator", (p, q), oracle.optimal_discriminator(p, q),
                 "elementwise", "D*", oracle.optimal_discriminator_slips(p, q), dtype)  # fmt: skip


def check_js(p, q, dtype=np.float64):
    __tracebackhide__ = True
    return check("jensen_shannon", (p, q), oracle.jensen_shannon(p, q), "reduction", "JS",
                 oracle.jensen_shannon_slips(p, q), dtype)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("loss", LOSSES)
def test_loss_matches_torch(loss, size, rng):
    check_loss(loss, *(logits(rng, s) for s in SIZES[size]))


@pytest.mark.oracle
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("loss", LOSSES)
def test_gradients_match_torch_autograd(loss, size, rng):
    check_grad(loss, *(logits(rng, s) for s in SIZES[size]))


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(5,), (3, 4)])
def test_optimal_discriminator_and_jensen_shannon_match_torch(shape, rng):
    p, q = distributions(rng, shape), distributions(rng, shape)
    check_optimal(p, q)
    check_js(p, q)


@pytest.mark.parametrize("part", ["forward", "backward"])
def test_float32_stays_float32(part, rng):
    f32 = np.float32
    real, fake = logits(rng, (5,), f32), logits(rng, (3, 1), f32)
    for loss in LOSSES:
        (check_loss if part == "forward" else check_grad)(loss, real, fake, f32)
    if part == "forward":
        p, q = distributions(rng, (2, 4)).astype(f32), distributions(rng, (2, 4)).astype(f32)
        check_optimal(p, q, f32)
        check_js(p, q, f32)


PROPERTY = dict(real=cs.shapes(1, 3, max_side=4), fake=cs.shapes(1, 3, max_side=4),
                seed=st.integers(0, 2**32 - 1), lay_r=cs.layouts(), lay_f=cs.layouts())  # fmt: skip


def random_logits(real, fake, seed, lay_r, lay_f):
    rng = np.random.default_rng(seed)
    r, f = 4 * rng.standard_normal(real), 4 * rng.standard_normal(fake)
    return cs.relayout(r, lay_r), cs.relayout(f, lay_f)


@pytest.mark.property
@given(**PROPERTY)
def test_losses_match_torch_for_any_sizes_and_layouts(real, fake, seed, lay_r, lay_f):
    r, f = random_logits(real, fake, seed, lay_r, lay_f)
    for loss in LOSSES:
        check_loss(loss, r, f)


@pytest.mark.property
@given(**PROPERTY)
def test_gradients_match_torch_for_any_sizes_and_layouts(real, fake, seed, lay_r, lay_f):
    r, f = random_logits(real, fake, seed, lay_r, lay_f)
    for loss in LOSSES:
        check_grad(loss, r, f)


@pytest.mark.edge
def test_logits_of_plus_minus_100_and_1000_give_finite_losses():
    for loss in LOSSES:
        check_loss(loss, huge(), huge()[::-1].copy())


@pytest.mark.edge
def test_logits_of_plus_minus_100_and_1000_give_gradients_without_nan():
    for loss in LOSSES:
        check_grad(loss, huge(), huge()[::-1].copy())


@pytest.mark.edge
def test_disjoint_supports_give_js_log_2_however_far_apart():
    """JS saturates at log 2 as soon as the supports stop overlapping: it cannot tell a near
    miss from a far one. The last point has no mass at all: D* = 1/2 there, not 0 / 0."""
    p = np.array([[0.5, 0.5, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0, 0.0]])
    q = np.array([[0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0]])  # near, then far
    check_optimal(p, q)
    check_js(p, q)


@pytest.mark.edge
def test_at_the_equilibrium_d_star_is_one_half_js_is_zero_and_the_loss_is_log_4(rng):
    p = distributions(rng, (6,))
    d = check_optimal(p, p.copy())
    check_js(p, p.copy())
    zero = np.log(d) - np.log1p(-d)  # logit(1/2) = 0
    check_loss("discriminator", zero, zero.copy())


@pytest.mark.property
@given(K=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), layout=cs.layouts())
def test_the_discriminator_loss_at_d_star_is_log_4_minus_twice_js(K, seed, layout):
    """Goodfellow et al. 2014, Theorem 1, on a batch that IS the distributions: point x appears
    n_data(x) times among the real samples and n_g(x) times among the fakes, so batch means
    are expectations and the loss at D* is exactly -V(D*, G) = log 4 - 2 JS(p_data || p_g)."""
    rng = np.random.default_rng(seed)
    n_data, n_g = rng.integers(1, 5, K), rng.integers(1, 5, K)
    p, q = (cs.relayout(n / n.sum(), layout) for n in (n_data, n_g))
    d, js = check_optimal(p, q), check_js(p, q)
    logit = np.log(d) - np.log1p(-d)  # D*'s logit at every point
    real, fake = cs.relayout(np.repeat(logit, n_data), layout), np.repeat(logit, n_g)
    loss = call(gan.discriminator_loss, real, fake)
    assert_close(loss, np.log(4) - 2 * oracle.jensen_shannon(p, q), tol="reduction",
                 name=f"the loss at D* (your JS: {float(js):.6g})",
                 mistakes=oracle.discriminator_slips(real, fake)["loss"])  # fmt: skip
    other = logit + rng.standard_normal(K)  # any other discriminator
    worse = call(gan.discriminator_loss, np.repeat(other, n_data), np.repeat(other, n_g))
    assert_true(worse >= loss - 1e-12,
                f"A discriminator other than D* got a lower loss ({float(worse):.6g} < "
                f"{float(loss):.6g}): none beats D* = p_data / (p_data + p_g).")  # fmt: skip


def test_the_minimax_generator_gradient_vanishes_when_the_discriminator_wins(rng):
    """Early in training D rejects the fakes: logits near -10, D(G(z)) ~ 5e-5. The minimax
    loss's gradient is then exp(logit) ~ 5e-5 times the non-saturating one's (their ratio is
    exactly exp(logit)): G learns nothing from it. That is why GANs train the non-saturating
    loss (Goodfellow et al. 2014, section 3)."""
    fake = -10 + 0.5 * rng.standard_normal(8)
    g_minimax = check_grad("minimax", None, fake)  # ~ -exp(logit) / M
    g_nonsat = check_grad("nonsaturating", None, fake)  # ~ -1 / M
    want = [oracle.generator(kind, fake)["fake"] for kind in LOSSES[1:]]
    assert_close(g_minimax / g_nonsat, want[0] / want[1], tol="grad",
                 name="the ratio of the minimax generator's gradient to the non-saturating one's "
                 "(exp(logit) ~ 5e-5 here: the minimax gradient vanishes while the "
                 "non-saturating one stays ~ -1/M)")  # fmt: skip
