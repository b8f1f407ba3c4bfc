"""diffusion_math.py: noise schedules, q(x_t | x_0), the posterior, the eps loss, one DDPM and one
DDIM step, against the same formulas in torch float64 (diffusers' conventions); then what they
mean: the closed form matches the chain run step by step, the posterior is the product of two
Gaussians, DDIM with the true noise walks back along q, and the eps loss is a reweighted x_0 loss.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import diffusion_math as oracle

dm = kata("06_generative/diffusion_math")
T = 1000
SCHEDULES = {"linear": oracle.linear_betas(T), "cosine": oracle.cosine_betas(T)}
SHAPES = {"(N, D) vectors": (5, 3), "(N, C, H, W) images": (4, 2, 3, 3), "(N,) scalars": (6,),
          "one example, one value": (1, 1)}  # fmt: skip
STEP = "reduction"  # a reverse step chains several ops, and x0_pred can be 1e4 x x_t near t = T


def timesteps(rng, n, T=T):
    """One timestep per example; the first two are the ends, 0 and T - 1."""
    t = rng.integers(0, T, n)
    t[: min(n, 2)] = [0, T - 1][: min(n, 2)]
    return t


def check_q_sample(x0, t, noise, abar, dtype=np.float64):
    __tracebackhide__ = True
    xt = call(dm.q_sample, x0, t, noise, abar)
    assert_close(xt, oracle.q_sample(x0, t, noise, abar), name="x_t", dtype=dtype,
                 mistakes=oracle.q_sample_slips(x0, t, noise, abar))  # fmt: skip


def check_posterior(x0, xt, t, betas, dtype=np.float64):
    __tracebackhide__ = True
    out = call(dm.posterior_mean_variance, x0, xt, t, betas)
    what = describe(out)
    assert_true(isinstance(out, tuple) and len(out) == 2,
                f"posterior_mean_variance must return (mean, variance); got {what}")  # fmt: skip
    want = oracle.posterior_mean_variance(x0, xt, t, betas)
    slips = oracle.posterior_slips(x0, xt, t, betas)
    for name, got, exp in zip(("mean", "variance"), out, want):
        assert_close(got, exp, name=name, dtype=dtype, mistakes=slips[name])


def check_predict_x0(xt, t, eps, abar, dtype=np.float64):
    __tracebackhide__ = True
    x0 = call(dm.predict_x0_from_eps, xt, t, eps, abar)
    assert_close(x0, oracle.predict_x0(xt, t, eps, abar), name="x0_pred", dtype=dtype,
                 mistakes=oracle.predict_x0_slips(xt, t, eps, abar))  # fmt: skip


def check_eps_loss(eps_pred, eps, dtype=np.float64):
    __tracebackhide__ = True
    loss = call(dm.eps_loss, eps_pred, eps)
    assert_close(loss, oracle.eps_loss(eps_pred, eps), tol="reduction", name="the loss",
                 dtype=dtype, mistakes=oracle.eps_loss_slips(eps_pred, eps))  # fmt: skip


def check_ddpm(xt, t, eps_pred, betas, noise, variance="small", dtype=np.float64):
    __tracebackhide__ = True
    out = call(dm.ddpm_step, xt, t, eps_pred, betas, noise, variance=variance)
    assert_close(out, oracle.ddpm_step(xt, t, eps_pred, betas, noise, variance), tol=STEP,
                 name="x_{t-1}", dtype=dtype,
                 mistakes=oracle.ddpm_slips(xt, t, eps_pred, betas, noise, variance))  # fmt: skip


def check_ddim(xt, t, t_prev, eps_pred, abar, eta, noise, dtype=np.float64):
    __tracebackhide__ = True
    out = call(dm.ddim_step, xt, t, t_prev, eps_pred, abar, eta, noise)
    assert_close(out, oracle.ddim_step(xt, t, t_prev, eps_pred, abar, eta, noise), tol=STEP,
                 name="x_{t_prev}", dtype=dtype,
                 mistakes=oracle.ddim_slips(xt, t, t_prev, eps_pred, abar, eta, noise))  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("args", [(1000, 1e-4, 0.02), (10, 1e-3, 0.5), (1, 1e-4, 0.02)])
def test_linear_betas_match_torch_linspace(args):
    T_, start, end = args
    betas = call(dm.linear_betas, T_, start, end)
    no_end = np.linspace(start, end, T_, endpoint=False)
    slip = {"the end left out (np.arange, or np.linspace with endpoint=False)": no_end}
    assert_close(betas, oracle.linear_betas(T_, start, end), name="betas", mistakes=slip)


@pytest.mark.oracle
@pytest.mark.parametrize("T_", [1000, 10, 1])
def test_cosine_betas_match_improved_ddpm(T_):
    betas = call(dm.cosine_betas, T_)
    assert_close(betas, oracle.cosine_betas(T_), name="betas",
                 mistakes=oracle.cosine_slips(T_, 0.008, 0.999))  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_alphas_cumprod_matches_torch_cumprod(schedule):
    betas = SCHEDULES[schedule]
    abar = call(dm.alphas_cumprod, betas)
    assert_close(abar, oracle.alphas_cumprod(betas), tol="reduction", name="alphas_cumprod",
                 mistakes=oracle.alphas_cumprod_slips(betas))  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("shape", SHAPES)
def test_q_sample_matches_torch(schedule, shape, rng):
    x0, noise = rng.standard_normal((2, *SHAPES[shape]))
    t = timesteps(rng, len(x0))
    check_q_sample(x0, t, noise, oracle.alphas_cumprod(SCHEDULES[schedule]))


@pytest.mark.oracle
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("shape", SHAPES)
def test_posterior_mean_variance_matches_torch(schedule, shape, rng):
    x0, xt = rng.standard_normal((2, *SHAPES[shape]))
    check_posterior(x0, xt, timesteps(rng, len(x0)), SCHEDULES[schedule])


@pytest.mark.oracle
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_predict_x0_from_eps_matches_torch(schedule, rng):
    xt, eps = rng.standard_normal((2, 5, 2, 3))
    check_predict_x0(xt, timesteps(rng, 5), eps, oracle.alphas_cumprod(SCHEDULES[schedule]))


@pytest.mark.oracle
@pytest.mark.parametrize("shape", SHAPES)
def test_eps_loss_matches_torch_mse_loss(shape, rng):
    check_eps_loss(*rng.standard_normal((2, *SHAPES[shape])))


@pytest.mark.oracle
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("variance", ["small", "large"])
def test_ddpm_step_matches_torch(schedule, variance, rng):
    xt, eps, noise = rng.standard_normal((3, 6, 2, 3))
    check_ddpm(xt, timesteps(rng, 6), eps, SCHEDULES[schedule], noise, variance)


@pytest.mark.oracle
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_ddim_step_matches_torch(schedule, eta, rng):
    xt, eps, noise = rng.standard_normal((3, 6, 2, 3))
    t = timesteps(rng, 6)
    t_prev = np.where(np.arange(6) % 2 == 0, -1, rng.integers(-1, t))  # -1 <= t_prev < t
    check_ddim(xt, t, t_prev, eps, oracle.alphas_cumprod(SCHEDULES[schedule]), eta, noise)


@pytest.mark.parametrize("part", ["forward", "reverse"])
def test_float32_stays_float32(part, rng):
    f32, betas = np.float32, SCHEDULES["linear"]
    abar = oracle.alphas_cumprod(betas)
    x0, xt, eps, noise = rng.standard_normal((4, 3, 2, 2)).astype(f32)
    t = np.array([0, 400, 999])
    if part == "forward":
        check_q_sample(x0, t, noise, abar, f32)
        check_posterior(x0, xt, t, betas, f32)
        check_predict_x0(xt, t, eps, abar, f32)
        check_eps_loss(eps, noise, f32)
    else:
        check_ddpm(xt, t, eps, betas, noise, "large", f32)
        check_ddim(xt, t, np.array([-1, 100, 998]), eps, abar, 0.5, noise, f32)


PROPERTY = dict(n=st.integers(1, 4), rest=cs.shapes(0, 2, max_side=3), T_=st.integers(1, 30),
                kind=st.sampled_from(["linear", "cosine"]), seed=st.integers(0, 2**32 - 1),
                layout=cs.layouts())  # fmt: skip


def random_batch(n, rest, T_, kind, seed, layout):
    rng = np.random.default_rng(seed)
    betas = oracle.linear_betas(T_, 1e-4, 0.2) if kind == "linear" else oracle.cosine_betas(T_)
    x0, xt, eps, noise = (cs.relayout(a, layout) for a in rng.standard_normal((4, n, *rest)))
    t = rng.integers(0, T_, n)
    return rng, betas, oracle.alphas_cumprod(betas), x0, xt, eps, noise, t


@pytest.mark.property
@given(**PROPERTY)
def test_forward_process_matches_torch_for_any_shapes_and_layouts(n, rest, T_, kind, seed, layout):
    _, betas, abar, x0, xt, eps, noise, t = random_batch(n, rest, T_, kind, seed, layout)
    check_q_sample(x0, cs.relayout(t, layout), noise, abar)
    check_posterior(x0, xt, t, betas)
    check_predict_x0(xt, t, eps, abar)
    check_eps_loss(eps, noise)


@pytest.mark.property
@given(
    **PROPERTY, eta=st.sampled_from([0.0, 0.3, 1.0]), variance=st.sampled_from(["small", "large"])
)
def test_reverse_steps_match_torch_for_any_shapes_and_layouts(n, rest, T_, kind, seed, layout, eta,
                                                              variance):  # fmt: skip
    rng, betas, abar, _, xt, eps, noise, t = random_batch(n, rest, T_, kind, seed, layout)
    check_ddpm(xt, cs.relayout(t, layout), eps, betas, noise, variance)
    check_ddim(xt, t, rng.integers(-1, t), eps, abar, eta, noise)


@pytest.mark.edge
def test_at_t_0_the_step_back_is_x0_itself_with_zero_variance(rng):
    x0, xt = rng.standard_normal((2, 3, 4))
    check_posterior(x0, xt, np.zeros(3, dtype=int), SCHEDULES["linear"])


@pytest.mark.edge
@pytest.mark.parametrize("variance", ["small", "large"])
def test_the_last_ddpm_step_adds_no_noise(variance, rng):
    xt, eps, noise = rng.standard_normal((3, 4, 2))
    check_ddpm(xt, np.array([0, 0, 1, 0]), eps, SCHEDULES["linear"], noise, variance)
    assert_raises(ValueError, dm.ddpm_step, xt, np.zeros(4, dtype=int), eps, SCHEDULES["linear"],
                  noise, variance="fixed", why="variance must be 'small' or 'large'")  # fmt: skip


@pytest.mark.edge
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_past_the_last_step_lands_on_the_predicted_x0(eta, rng):
    xt, eps, noise = rng.standard_normal((3, 3, 5))
    check_ddim(xt, np.array([0, 40, 999]), np.full(3, -1), eps,
               oracle.alphas_cumprod(SCHEDULES["cosine"]), eta, noise)  # fmt: skip


@pytest.mark.edge
def test_cosine_betas_are_clipped_at_max_beta():
    betas = call(dm.cosine_betas, 8, 0.008, 0.3)  # the last four would be 0.38 .. 1
    assert_close(betas, oracle.cosine_betas(8, 0.008, 0.3), name="betas",
                 mistakes=oracle.cosine_slips(8, 0.008, 0.3))  # fmt: skip


@pytest.mark.edge
def test_the_last_cosine_timestep_keeps_a_trace_of_x0(rng):
    """abar_{T-1} ~ 2e-9: x_t is almost pure noise, yet x_0 comes back from the true noise."""
    abar = oracle.alphas_cumprod(SCHEDULES["cosine"])
    x0, eps = rng.standard_normal((2, 2, 3))
    t = np.full(2, T - 1)
    check_q_sample(x0, t, eps, abar)
    check_predict_x0(oracle.q_sample(x0, t, eps, abar), t, eps, abar)


@pytest.mark.edge
def test_a_square_batch_broadcasts_t_over_the_trailing_axis(rng):
    """N = D = 4: abar[t] of shape (N,) broadcasts against (N, D) without an error, wrongly."""
    x0, noise = rng.standard_normal((2, 4, 4))
    check_q_sample(
        x0, np.array([0, 10, 500, 999]), noise, oracle.alphas_cumprod(SCHEDULES["linear"])
    )


@pytest.mark.parametrize("t", [0, 10, 49])
def test_q_sample_matches_the_forward_chain_run_step_by_step(t, rng):
    """The closed form samples what t + 1 single Gaussian steps give: same mean, same variance."""
    S, betas = 20_000, oracle.cosine_betas(50)
    x0 = np.tile([-1.5, 0.3, 2.0], (S, 1))
    mine = call(dm.q_sample, x0, np.full(S, t), rng.standard_normal(x0.shape),
                oracle.alphas_cumprod(betas))  # fmt: skip
    assert_true(isinstance(mine, np.ndarray) and mine.shape == x0.shape,
                f"q_sample must return x0's shape {x0.shape}; got {describe(mine)}")  # fmt: skip
    chain = oracle.forward_chain(x0, t, betas, rng)
    for stat, f, se in (("mean", np.mean, lambda v: np.sqrt(v / S)),
                        ("variance", np.var, lambda v: v * np.sqrt(2 / (S - 1)))):  # fmt: skip
        a, b = f(mine, axis=0), f(chain, axis=0)
        bar = 5 * np.hypot(se(mine.var(axis=0)), se(chain.var(axis=0)))
        assert_true(np.all(np.abs(a - b) <= bar),
                    f"At t = {t}, the {stat} of your q_sample draws is {np.round(a, 5)}, but "
                    f"{t + 1} single steps sqrt(1 - beta) x + sqrt(beta) z give {np.round(b, 5)} "
                    f"(5 standard errors: {np.round(bar, 5)}). The one-shot form must reproduce "
                    "the chain: mean sqrt(abar_t) x0, variance 1 - abar_t.")  # fmt: skip


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_posterior_is_the_normalized_product_of_the_two_forward_gaussians(schedule, rng):
    """q(x_{t-1} | x_t, x_0) is proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0): on a grid."""
    betas = SCHEDULES[schedule]
    t, x0 = np.array([1, 2, 10, 300, 998, 999]), rng.standard_normal(6)
    xt = oracle.q_sample(x0, t, rng.standard_normal(6), oracle.alphas_cumprod(betas))
    out = call(dm.posterior_mean_variance, x0, xt, t, betas)
    grid = oracle.posterior_on_grid(x0, xt, t, betas)
    slips = oracle.posterior_slips(x0, xt, t, betas)
    for name, got, want in zip(("mean", "variance"), out, grid):
        assert_close(got, want, tol="reduction", name=f"{name} (vs. the grid integral)",
                     mistakes=slips[name])  # fmt: skip


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_ddim_with_eta_0_and_the_true_noise_walks_back_along_q_sample(schedule, rng):
    abar = oracle.alphas_cumprod(SCHEDULES[schedule])
    x0, eps, noise = rng.standard_normal((3, 6, 3))
    t, t_prev = np.array([1, 5, 100, 500, 999, 999]), np.array([0, -1, 50, 499, 0, -1])
    xt = oracle.q_sample(x0, t, eps, abar)
    out = call(dm.ddim_step, xt, t, t_prev, eps, abar, 0.0, noise)
    want = np.where(t_prev[:, None] >= 0, oracle.q_sample(x0, np.maximum(t_prev, 0), eps, abar), x0)
    assert_close(out, want, tol=STEP, name="x_{t_prev} (vs. q_sample(x0, t_prev, eps))")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_ddim_with_eta_1_one_step_back_is_the_ddpm_step(schedule, rng):
    betas = SCHEDULES[schedule]
    xt, eps, noise = rng.standard_normal((3, 5, 4))
    t = timesteps(rng, 5)
    out = call(dm.ddim_step, xt, t, t - 1, eps, oracle.alphas_cumprod(betas), 1.0, noise)
    assert_close(out, oracle.ddpm_step(xt, t, eps, betas, noise, "small"), tol=STEP,
                 name="x_{t-1} (vs. DDPM's step with variance beta_tilde)")  # fmt: skip


@pytest.mark.parametrize("t", [0, 500, 999])
def test_the_eps_loss_is_a_reweighted_x0_loss(t, rng):
    """Predicting the noise is denoising: x0 errors are sqrt((1 - abar) / abar) x eps errors."""
    abar = oracle.alphas_cumprod(SCHEDULES["linear"])
    x0, eps, eps_pred = rng.standard_normal((3, 8, 5))
    ts = np.full(8, t)
    x0_pred = call(dm.predict_x0_from_eps, oracle.q_sample(x0, ts, eps, abar), ts, eps_pred, abar)
    loss = call(dm.eps_loss, x0_pred, x0)
    assert_close(loss, (1 - abar[t]) / abar[t] * oracle.eps_loss(eps_pred, eps), tol="reduction",
                 name="eps_loss(x0_pred, x0), the x_0 loss")  # fmt: skip
