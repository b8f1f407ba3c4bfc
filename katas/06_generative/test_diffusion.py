"""diffusion.py: the swiss roll, q_sample and the DDPM sampler against diffusion_math's steps, the
timestep embedding, the eps loss and its training loop, the MMD; then a denoiser against a
matched GAN on the swiss roll, and a tiny U-Net sampling 14x14 digits (slow, last)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from checker import (
    assert_close,
    assert_png,
    assert_raises,
    assert_true,
    call,
    dependency,
    kata,
    note,
)
from checker import strategies as cs
from reference.oracles import diffusion as oracle

mod = kata("06_generative/diffusion")


def dm():
    """diffusion_math's NumPy steps: yours where its tests pass, the reference otherwise."""
    return dependency("06_generative/diffusion_math")


def as_tensor(x, what, dtype):
    __tracebackhide__ = True
    assert_true(
        isinstance(x, torch.Tensor) and x.dtype == dtype,
        f"{what} must be a {dtype} tensor; got {type(x).__name__} {getattr(x, 'dtype', '')}",
    )
    return x.detach()


def schedule(T):
    return torch.from_numpy(dm().linear_betas(T, 0.05, 0.3))  # (T,) float64, big steps


def params(m):
    return torch.cat([p.detach().reshape(-1) for p in m.parameters()])


@pytest.mark.oracle
def test_swiss_roll_matches_sklearns_formula():
    before = torch.random.get_rng_state()
    got = call(mod.swiss_roll, 500, torch.Generator().manual_seed(3), 0.2, 0.1)
    assert_true(
        torch.equal(before, torch.random.get_rng_state()),
        "swiss_roll used the global RNG: pass generator=generator to torch.rand and torch.randn",
    )
    want = oracle.swiss_roll(500, torch.Generator().manual_seed(3), 0.2, 0.1)
    slip = oracle.swiss_roll(500, torch.Generator().manual_seed(3), 0.2, 0.1, slip="angle")
    assert_close(
        as_tensor(got, "swiss_roll's points", torch.float32),
        want,
        dtype=np.float32,
        name="the points",
        mistakes={"angle 2 pi u, not 1.5 pi (1 + 2u)": slip},
    )


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_q_sample_matches_diffusion_math(dtype, rng):
    x0 = torch.from_numpy(rng.standard_normal((6, 2, 3, 3))).to(dtype)
    noise = torch.from_numpy(rng.standard_normal((6, 2, 3, 3))).to(dtype)
    t = torch.tensor([0, 99, 5, 50, 1, 98])
    abar = torch.from_numpy(dm().alphas_cumprod(dm().linear_betas(100)))
    got = call(mod.q_sample, x0, t, noise, abar)
    want = dm().q_sample(x0.double().numpy(), t.numpy(), noise.double().numpy(), abar.numpy())
    a = abar[t].reshape(-1, 1, 1, 1).double()
    assert_close(
        as_tensor(got, "x_t", dtype),
        want,
        dtype=np.float64 if dtype == torch.float64 else np.float32,
        name="x_t",
        mistakes={"abar and 1 - abar without the square roots": a * x0 + (1 - a) * noise},
    )


@pytest.mark.property
@given(shape=cs.shapes(1, 4), layout=cs.layouts(), seed=st.integers(0, 2**32 - 1))
def test_q_sample_matches_diffusion_math_for_any_shape(shape, layout, seed):
    rng = np.random.default_rng(seed)
    x0, noise = (cs.relayout(rng.standard_normal(shape), layout) for _ in range(2))
    t = rng.integers(0, 20, shape[0])
    abar = dm().alphas_cumprod(dm().linear_betas(20, 0.01, 0.2))
    got = call(mod.q_sample, torch.from_numpy(x0), torch.from_numpy(t), torch.from_numpy(noise),
               torch.from_numpy(abar))  # fmt: skip
    assert_close(
        as_tensor(got, "x_t", torch.float64), dm().q_sample(x0, t, noise, abar), name="x_t"
    )


@pytest.mark.oracle
def test_timestep_embedding_matches_the_formula():
    t = torch.tensor([0, 1, 7, 500, 999])
    got = as_tensor(call(mod.timestep_embedding, t, 16), "the embedding", torch.float32)
    slips = {
        "sin before cos": oracle.timestep_embedding(t, 16, slip="sin-first"),
        "frequencies max_period^(-k / (half - 1))": oracle.timestep_embedding(t, 16, slip="half-1"),
        "t * f computed in float32 (t f reaches ~1000)": oracle.timestep_embedding(
            t, 16, slip="float32"
        ),
    }
    want = oracle.timestep_embedding(t, 16)
    assert_close(got, want, dtype=np.float32, name="the embedding (N, dim)", mistakes=slips)


@pytest.mark.edge
def test_timestep_zero_embeds_to_ones_then_zeros():
    got = as_tensor(
        call(mod.timestep_embedding, torch.tensor([0]), 2), "the embedding", torch.float32
    )
    assert_close(got, np.array([[1.0, 0.0]]), dtype=np.float32, name="embedding of t = 0, dim 2")


def check_reads_t(model, x, what):
    __tracebackhide__ = True
    n = x.shape[0]
    with torch.no_grad():
        out = call(model, x, torch.zeros(n, dtype=torch.long))
        later = model(x, torch.full((n,), 30, dtype=torch.long))
    assert_true(
        tuple(out.shape) == tuple(x.shape) and out.dtype == torch.float32,
        f"{what} on x {tuple(x.shape)} must predict noise shaped like x, float32; got "
        f"{out.dtype} {tuple(out.shape)}",
    )
    assert_true(
        bool((out - later).abs().max() > 1e-6),
        f"{what} gave the same output for t = 0 and t = 30: it ignores the timestep. "
        "Without t the model cannot tell how much of its input is noise",
    )


def test_denoiser2d_predicts_noise_from_the_point_and_its_timestep(rng):
    torch.manual_seed(0)
    net = call(mod.Denoiser2D, 16, 8)
    check_reads_t(
        net, torch.from_numpy(rng.standard_normal((5, 2)).astype(np.float32)), "Denoiser2D"
    )


@pytest.mark.property
@given(n=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_tiny_unet_keeps_the_image_shape_and_reads_t(n, h, w, seed):
    torch.manual_seed(seed)
    net = call(mod.TinyUNet, 4, 8)
    x = torch.randn(n, 1, 2 * w, 2 * h).transpose(2, 3)  # (n, 1, 2h, 2w), non-contiguous
    check_reads_t(net, x, "TinyUNet(4, 8)")


def test_tiny_unet_adds_the_timestep_at_both_resolutions(rng):
    torch.manual_seed(0)
    net = call(mod.TinyUNet, 4, 8)
    seen = {}
    for name in ("block1", "block2"):
        part = getattr(net, name, None)
        assert_true(isinstance(part, torch.nn.Conv2d), f"TinyUNet needs self.{name}, a Conv2d")
        part.register_forward_pre_hook(
            lambda m, args, k=name: seen.setdefault(k, []).append(args[0])
        )
    x = torch.from_numpy(rng.standard_normal((2, 1, 6, 6)).astype(np.float32))
    with torch.no_grad():
        for t in (0, 30):
            call(net, x, torch.full((2,), t))
    for name, res in (("block1", "full"), ("block2", "half")):
        a, b = seen[name]
        assert_true(
            bool((a - b).abs().max() > 1e-6),
            f"{name}'s input is the same for t = 0 and t = 30: add the embedding at the "
            f"{res} resolution too ({name}(h + t{name[-1]}(e)[:, :, None, None]))",
        )


def loss_inputs(rng):
    x0 = torch.from_numpy(rng.standard_normal((8, 3)))
    abar = torch.from_numpy(dm().alphas_cumprod(dm().linear_betas(10, 0.05, 0.3)))
    return x0, abar


@pytest.mark.oracle
def test_diffusion_loss_matches_torch(rng):
    x0, abar = loss_inputs(rng)
    model = oracle.Tiny((3,))
    loss = call(mod.diffusion_loss, model, x0, abar, torch.Generator().manual_seed(1))

    def slip(**kw):
        return oracle.diffusion_loss(model, x0, abar, torch.Generator().manual_seed(1), **kw)

    assert_close(
        as_tensor(loss, "the loss", torch.float64),
        slip().detach(),
        tol="reduction",
        name="the loss",
        mistakes={
            "the model's output compared with x0, not with the noise": lambda: slip(target="x0"),
            "t drawn from 1..T (paper's indexing), not 0..T-1": lambda: slip(t_from=1),
        },
    )


@pytest.mark.oracle
def test_diffusion_loss_gradient_matches_torch(rng):
    x0, abar = loss_inputs(rng)
    model, ref = oracle.Tiny((3,)), oracle.Tiny((3,))
    loss = call(mod.diffusion_loss, model, x0, abar, torch.Generator().manual_seed(2))
    assert_true(
        isinstance(loss, torch.Tensor) and loss.requires_grad,
        "diffusion_loss's result has no gradient: build it from torch ops on model(x_t, t)",
    )
    loss.backward()
    oracle.diffusion_loss(ref, x0, abar, torch.Generator().manual_seed(2)).backward()
    got = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    want = torch.cat([p.grad.reshape(-1) for p in ref.parameters()])
    assert_close(got, want, tol="grad", name="d loss / d parameters")


@pytest.mark.oracle
def test_train_denoiser_matches_torch():
    model, ref, keep = oracle.Tiny((2,)), oracle.Tiny((2,)), oracle.Tiny((2,))
    data = lambda n, g: torch.randn(n, 2, generator=g, dtype=torch.float64)  # noqa: E731
    betas = schedule(10)
    got = call(mod.train_denoiser, model, data, 4, 8, 0.05, betas, torch.Generator().manual_seed(0))
    want = oracle.train_denoiser(ref, data, 4, 8, 0.05, betas, torch.Generator().manual_seed(0))
    oracle.train_denoiser(keep, data, 4, 8, 0.05, betas, torch.Generator().manual_seed(0), True)
    assert_close(np.asarray(got, dtype=np.float64), np.asarray(want), tol="grad", name="the losses")
    assert_close(
        params(model),
        params(ref),
        tol="grad",
        inplace=True,
        name="the parameters after 4 steps",
        mistakes={"no opt.zero_grad(): gradients accumulate": params(keep)},
    )


def sample_both(T, variance, n=6):
    """Your sampler and the oracle's (diffusion_math's ddpm_step), same model, same seed."""
    model, betas = oracle.Tiny((2, 2)), schedule(T)
    shape = (n, 2, 2)
    got = call(mod.ddpm_sample, model, shape, betas, torch.Generator().manual_seed(5),
               variance=variance, dtype=torch.float64)  # fmt: skip

    def want(slip=None):
        g = torch.Generator().manual_seed(5)
        return oracle.ddpm_sample(dm(), model, shape, betas, g, variance, slip=slip)

    slips = {
        "the loop runs forward in time (0 .. T-1), not T-1 .. 0": lambda: want("forward"),
        "noise added on the last step (t = 0) too": lambda: want("noise-at-0"),
    }
    return as_tensor(got, "the samples", torch.float64), want(), slips


@pytest.mark.oracle
@pytest.mark.parametrize("variance", ["small", "large"])
def test_ddpm_sample_matches_diffusion_math_steps(variance):
    got, want, slips = sample_both(6, variance)
    assert_close(got, want, tol="grad", name="x_0 after 6 steps", mistakes=slips)


@pytest.mark.edge
def test_ddpm_sample_with_one_step_returns_the_mean():
    got, want, slips = sample_both(1, "large", n=1)
    assert_close(got, want, tol="grad", name="x_0 after 1 step (t = 0 only)", mistakes=slips)
    model = oracle.Tiny((2,))
    assert_raises(ValueError, mod.ddpm_sample, model, (1, 2), schedule(2),
                  torch.Generator().manual_seed(0), variance="medium",
                  why="variance is 'small' or 'large'")  # fmt: skip


def test_ddpm_sample_draws_from_the_generator_only():
    model, betas = oracle.Tiny((2,)), schedule(4)
    before = torch.random.get_rng_state()
    a = call(mod.ddpm_sample, model, (5, 2), betas, torch.Generator().manual_seed(0))
    b = mod.ddpm_sample(model, (5, 2), betas, torch.Generator().manual_seed(0))
    assert_true(
        torch.equal(before, torch.random.get_rng_state()) and torch.equal(a, b),
        "ddpm_sample must draw every noise from `generator` (the same seed, the same "
        "samples) and never from torch's global RNG",
    )
    assert_true(a.dtype == torch.float32 and not a.requires_grad,
                f"ddpm_sample returns float32 by default, without a graph; got {a.dtype}, "
                f"requires_grad={a.requires_grad} (decorate it with @torch.no_grad())")  # fmt: skip


MMD_SLIPS = {
    "without the cross term -2 E k(x, y)": "no-cross",
    "the unbiased estimator (diagonal left out)": "unbiased",
    "exp(-d^2 / s^2), without the 2": "no-2",
    "exp(-d / (2 s^2)) with the distance, not its square": "distance",
}


def check_mmd(x, y, bandwidths):
    __tracebackhide__ = True
    got = as_tensor(call(mod.mmd, x, y, bandwidths), "mmd", x.dtype)
    slips = {
        k: (lambda s=s: np.float64(oracle.mmd(x, y, bandwidths, s))) for k, s in MMD_SLIPS.items()
    }
    want = np.float64(oracle.mmd(x, y, bandwidths))
    assert_close(got, want, tol="matmul", name="MMD^2", dtype=np.float64, mistakes=slips)


@pytest.mark.oracle
def test_mmd_matches_the_formula(rng):
    x = torch.from_numpy(rng.standard_normal((7, 3)))
    check_mmd(x, torch.from_numpy(rng.standard_normal((5, 3)) + 0.5), (0.5, 1.0, 2.0))


@pytest.mark.property
@given(n=st.integers(1, 6), m=st.integers(1, 6), d=st.integers(1, 4), layout=cs.layouts(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_mmd_is_symmetric_and_zero_for_identical_samples(n, m, d, layout, seed):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(cs.relayout(rng.standard_normal((n, d)), layout))
    y = torch.from_numpy(rng.standard_normal((m, d)))
    check_mmd(x, y, (0.5, 2.0))
    xy, yx, xx = (float(call(mod.mmd, a, b, (0.5, 2.0))) for a, b in ((x, y), (y, x), (x, x)))
    assert_true(
        abs(xy - yx) < 1e-12 and abs(xx) < 1e-12,
        f"mmd(x, y) = {xy:.3g}, mmd(y, x) = {yx:.3g}, mmd(x, x) = {xx:.3g}: the biased "
        "MMD^2 is symmetric and exactly 0 for identical samples",
    )


# Measured with the reference solution, one thread, load ~7 on 2 cores: see TWO_D and IMAGES.
# Swiss roll (seeds 0, 1, 2): diffusion MMD^2 to 2000 held-out points 0.059, 0.060, 0.052;
# the matched GAN 0.101, 0.121, 0.195; two data samples 0.008, 0.007, 0.007.
TWO_D = dict(steps=1500, batch=128, lr=3e-3, T=50, hidden=64, seed=0)
BW = (0.05, 0.1, 0.2, 0.5)


@pytest.mark.training
def test_diffusion_beats_a_matched_gan_on_the_swiss_roll(tmp_path):
    c = TWO_D
    gen = torch.Generator().manual_seed(c["seed"])
    betas = torch.from_numpy(dm().cosine_betas(c["T"]))
    roll = mod.swiss_roll
    torch.manual_seed(c["seed"])
    model = mod.Denoiser2D(c["hidden"], 32)
    losses = call(mod.train_denoiser, model, roll, c["steps"], c["batch"], c["lr"], betas, gen)
    samples = call(mod.ddpm_sample, model, (1000, 2), betas, gen)
    torch.manual_seed(c["seed"])
    G = oracle.train_gan(roll, c["steps"], c["batch"], c["lr"], c["hidden"], gen)
    with torch.no_grad():
        fake = G(torch.randn(1000, 2, generator=gen))
    held, again = roll(1000, gen), roll(1000, gen)
    ours, gan, floor = (oracle.mmd(s, held, BW) for s in (samples, fake, again))
    oracle_png = tmp_path / "swiss_roll.png"
    from reference.oracles import gan as gan_oracle

    gan_oracle.scatter_png(held, samples, oracle_png, f"diffusion, MMD^2 {ours:.3f}")
    note(
        f"diffusion: swiss roll MMD^2 to held-out data: your diffusion model {ours:.4f}, a GAN "
        f"of the same size and steps {gan:.4f}, a second data sample {floor:.4f}; {oracle_png}"
    )
    assert_true(
        np.isfinite(ours) and ours < 0.75 * gan and ours < 0.12,
        f"after {c['steps']} steps your diffusion samples are at MMD^2 {ours:.4f} from "
        f"held-out data; a GAN of the same size reached {gan:.4f} and two data samples are "
        f"{floor:.4f} apart. A correct model gets below 0.75 x the GAN's and below 0.12. "
        f"Mean loss over the last 100 steps {np.mean(losses[-100:]):.3f} (about 0.38 when right)",
    )
    assert_png(
        oracle_png, "the reference's scatter_png(held, samples, path, title)", min_bytes=5000
    )


# Measured with the reference solution, one thread, load ~7 on 2 cores, full MNIST at 14x14
# (seeds 0, 1, 2): after 300 steps MMD^2 of 100 samples to 500 test digits 0.075, 0.060, 0.090;
# mean pixel off by 0.065, 0.021, 0.017; the untrained U-Net 1.84 (its samples blow up);
# 11-22 s of training, 2 s of sampling. A per-pixel Gaussian scores ~0.03 on this MMD (blur is
# cheap at these bandwidths), so the bar is against the untrained model, not a quality claim.
IMAGES = dict(steps=300, batch=64, lr=2e-3, T=100, channels=16, seed=0)
IMG_BW = (5.0, 10.0, 20.0)


@pytest.mark.training
def test_tiny_unet_samples_digit_like_images(tmp_path):
    c = IMAGES
    rng = np.random.default_rng(c["seed"])
    X, source = oracle.mnist14(4000, rng)
    X_test, _ = oracle.mnist14(500, rng, "test")
    gen = torch.Generator().manual_seed(c["seed"])
    betas = torch.from_numpy(dm().linear_betas(c["T"], 1e-3, 0.2))
    torch.manual_seed(c["seed"])
    model = mod.TinyUNet(c["channels"], 32)
    shape = (100, 1, 14, 14)
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    before = oracle.mmd(flat(mod.ddpm_sample(model, shape, betas, gen)), flat(X_test), IMG_BW)
    data = lambda n, g: X[torch.randint(0, len(X), (n,), generator=g)]  # noqa: E731
    losses = call(mod.train_denoiser, model, data, c["steps"], c["batch"], c["lr"], betas, gen)
    samples = call(mod.ddpm_sample, model, shape, betas, gen)
    after = oracle.mmd(flat(samples), flat(X_test), IMG_BW)
    mean_gap = abs(float(samples.mean() - X_test.mean()))
    path = tmp_path / "digits.png"
    oracle.grid_png(samples[:64], path)
    note(
        f"diffusion: on {source}, 14x14: MMD^2 of 100 samples to test digits {after:.4f} after "
        f"{c['steps']} steps ({before:.4f} untrained); mean pixel off by {mean_gap:.3f}; {path}"
    )
    assert_true(
        np.isfinite(after) and after < 0.2 and after < 0.25 * before and mean_gap < 0.15,
        f"after {c['steps']} steps your U-Net's samples are at MMD^2 {after:.4f} from test "
        f"digits (untrained: {before:.4f}); a correct model gets below 0.2 and 0.25 x the "
        f"untrained one's, with a mean pixel within 0.15 of the data's (yours off by "
        f"{mean_gap:.3f}). Mean loss over the last 50 steps {np.mean(losses[-50:]):.3f}",
    )
    assert_png(path, "the reference's grid_png(samples, path)", min_bytes=2000)
