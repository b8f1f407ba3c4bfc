"""dcgan.py: transposed-convolution sizes, DCGAN's layer tables, its players against torch,
one layer against your NumPy transposed convolution, the paper's init and Adam, one training
iteration and the loop; StyleGAN2's modulated convolution and AdaIN; then a DCGAN trained on
MNIST whose samples must move towards real digits (slow, last)."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_png, assert_true, call, dependency, kata, note
from checker import strategies as cs
from checker.datasets import load_mnist
from reference.oracles import dcgan as oracle

mod = kata("06_generative/dcgan")

G_TABLE = [  # (kernel, stride, padding, output side) of each ConvTranspose2d, from 1x1
    (4, 1, 0, 4),
    (4, 2, 1, 8),
    (4, 2, 1, 16),
    (4, 2, 1, 32),
]
D_TABLE = [(4, 2, 1, 16), (4, 2, 1, 8), (4, 2, 1, 4), (4, 1, 0, 1)]  # Conv2d, from 32x32
G_KINDS = ["ConvTranspose2d", "BatchNorm2d", "ReLU"] * 3 + ["ConvTranspose2d", "Tanh"]
D_KINDS = ["Conv2d", "LeakyReLU"] + ["Conv2d", "BatchNorm2d", "LeakyReLU"] * 2 + ["Conv2d"]


def t64(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


def params(m):
    return torch.cat([p.detach().reshape(-1) for p in m.parameters()])


def torch_size(size, kernel, stride, padding, output_padding=0):
    x = torch.zeros(1, 1, size, size)
    w = torch.zeros(1, 1, kernel, kernel)
    return F.conv_transpose2d(x, w, stride=stride, padding=padding, output_padding=output_padding)


@pytest.mark.oracle
@pytest.mark.parametrize(
    "size, kernel, stride, padding", [(1, 4, 1, 0), (4, 4, 2, 1), (7, 3, 2, 1)]
)
def test_conv_transpose_output_size_matches_torch(size, kernel, stride, padding):
    got = call(mod.conv_transpose_output_size, size, kernel, stride, padding)
    want = torch_size(size, kernel, stride, padding).shape[-1]
    conv_formula = (size + 2 * padding - kernel) // stride + 1
    assert_true(
        got == want,
        f"conv_transpose_output_size({size}, {kernel}, {stride}, {padding}) returned {got}; "
        f"ConvTranspose2d gives {want}"
        + (
            " (that is conv2d's formula: transposed goes the other way)"
            if got == conv_formula
            else ""
        ),
    )


@pytest.mark.property
@given(
    size=st.integers(1, 6),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    data=st.data(),
)
def test_conv_transpose_output_size_for_any_layer(size, kernel, stride, data):
    padding = data.draw(st.integers(0, (kernel - 1) // 2))
    output_padding = data.draw(st.integers(0, stride - 1))
    got = call(mod.conv_transpose_output_size, size, kernel, stride, padding, output_padding)
    want = torch_size(size, kernel, stride, padding, output_padding).shape[-1]
    assert_true(
        got == want,
        f"conv_transpose_output_size(size={size}, kernel={kernel}, stride={stride}, padding="
        f"{padding}, output_padding={output_padding}) returned {got}; torch gives {want}",
    )


def check_table(net, kind, table, kinds, x, first_side):
    """The leaf layers' order, each conv's kernel/stride/padding/bias and output side."""
    __tracebackhide__ = True
    name = type(net).__name__
    leaves = [type(m).__name__ for m in net.modules() if not list(m.children())]
    assert_true(leaves == kinds, f"{name}'s layers, in order, must be\n  {kinds}\ngot\n  {leaves}")
    convs = [m for m in net.modules() if type(m).__name__ == kind]
    sides = []
    hooks = [c.register_forward_hook(lambda m, i, o: sides.append(tuple(o.shape))) for c in convs]
    out = net(x)
    for h in hooks:
        h.remove()
    side = first_side
    for i, (c, (k, s, p, want)) in enumerate(zip(convs, table)):
        got = (c.kernel_size, c.stride, c.padding, c.bias is None)
        assert_true(
            got == ((k, k), (s, s), (p, p), True),
            f"{name}'s {kind} #{i}: want kernel {k}, stride {s}, padding {p}, bias=False; got "
            f"kernel {c.kernel_size}, stride {c.stride}, padding {c.padding}, bias="
            f"{c.bias is not None}",
        )
        assert_true(
            sides[i][-2:] == (want, want),
            f"{name}'s {kind} #{i} must map {side}x{side} to {want}x{want}; its output is "
            f"{sides[i]}",
        )
        side = want
    slopes = [m.negative_slope for m in net.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert_true(all(s == 0.2 for s in slopes), f"LeakyReLU slopes must be 0.2; got {slopes}")
    return out


def test_generator_follows_the_dcgan_table(rng):
    torch.manual_seed(0)
    G = call(mod.Generator, 6, 3, 2)
    z = torch.from_numpy(rng.standard_normal((5, 6)).astype(np.float32))
    out = check_table(G, "ConvTranspose2d", G_TABLE, G_KINDS, z, 1)
    assert_true(
        tuple(out.shape) == (5, 2, 32, 32) and G.nz == 6 and out.abs().max() <= 1,
        f"Generator(nz=6, ngf=3, nc=2) on z (5, 6) must give (5, 2, 32, 32) in [-1, 1] and keep "
        f"self.nz; got {tuple(out.shape)}, max |x| {out.abs().max().item():.3f}",
    )


def test_discriminator_follows_the_dcgan_table(rng):
    torch.manual_seed(0)
    D = call(mod.Discriminator, 3, 2)
    x = torch.from_numpy(rng.standard_normal((5, 2, 32, 32)).astype(np.float32))
    out = check_table(D, "Conv2d", D_TABLE, D_KINDS, x, 32)
    assert_true(
        tuple(out.shape) == (5,),
        f"Discriminator on (5, 2, 32, 32) must give one logit per image, (5,); got "
        f"{tuple(out.shape)}",
    )


@pytest.mark.oracle
def test_generator_matches_torch(rng):
    torch.manual_seed(1)
    G = call(mod.Generator, 5, 3, 2).double()
    want_g = oracle.generator(5, 3, 2)
    problem = oracle.copy_weights(G, want_g)
    assert_true(problem is None, f"Generator(5, 3, 2): {problem}")
    z = t64(rng, 4, 5)
    assert_close(call(G, z), want_g(z), tol="grad", name="the images (float64, train mode)")


@pytest.mark.oracle
def test_discriminator_matches_torch(rng):
    torch.manual_seed(2)
    D = call(mod.Discriminator, 3, 2).double()
    want_d, slip = oracle.discriminator(3, 2), oracle.discriminator(3, 2, sigmoid=True)
    problem = oracle.copy_weights(D, want_d)
    assert_true(problem is None, f"Discriminator(3, 2): {problem}")
    oracle.copy_weights(D, slip)
    x = t64(rng, 4, 2, 32, 32)
    assert_close(
        call(D, x),
        want_d(x),
        tol="grad",
        name="the logits",
        mistakes={"a sigmoid on the output (return logits)": lambda: slip(x)},
    )


def test_a_generator_layer_is_your_numpy_transposed_conv(rng):
    """The 4x4 -> 8x8 layer computes what 03_cnn/transposed_conv computes with DCGAN's settings."""
    ct = dependency("03_cnn/transposed_conv")
    torch.manual_seed(3)
    G = call(mod.Generator, 4, 2, 1).double()
    layer = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)][1]
    x = rng.standard_normal((2, 8, 4, 4))
    want = ct.conv_transpose2d(x, layer.weight.detach().numpy(), stride=2, padding=1)
    assert_close(call(layer, torch.from_numpy(x)), want, tol="matmul", name="layer 2's output")
    side = call(mod.conv_transpose_output_size, 4, 4, 2, 1)
    assert_true(
        side == want.shape[-1],
        f"conv_transpose_output_size(4, 4, 2, 1) returned {side}; "
        f"conv_transpose2d gives {want.shape[-1]}",
    )


def test_weights_init_draws_the_papers_statistics():
    torch.manual_seed(0)
    nets = [mod.Generator(32, 16, 1), mod.Discriminator(16, 1)]
    state = torch.random.get_rng_state()
    for net in nets:
        call(mod.weights_init, net, torch.Generator().manual_seed(0))
    assert_true(
        torch.equal(state, torch.random.get_rng_state()),
        "weights_init used the global RNG: pass generator=generator to normal_",
    )
    for net in nets:
        for i, m in enumerate(net.modules()):
            kind = type(m).__name__
            if kind not in ("Conv2d", "ConvTranspose2d", "BatchNorm2d"):
                continue
            w = m.weight.detach().double()
            mean, n = (0.0, w.numel()) if kind != "BatchNorm2d" else (1.0, w.numel())
            se_mean, se_std = 0.02 / math.sqrt(n), 0.02 / math.sqrt(2 * n)  # standard errors
            what = f"{type(net).__name__}'s layer {i} ({kind}, {n} weights)"
            assert_true(
                abs(w.mean().item() - mean) < 5 * se_mean
                and abs(w.std().item() - 0.02) < 5 * se_std,
                f"{what}: want weights ~ N({mean}, 0.02^2): mean {mean} +- {5 * se_mean:.4f}, "
                f"std 0.02 +- {5 * se_std:.4f}; got mean {w.mean().item():.4f}, std "
                f"{w.std().item():.4f}",
            )
            if kind == "BatchNorm2d":
                assert_true(bool((m.bias == 0).all()), f"{what}: BatchNorm's bias must be 0")
    torch.manual_seed(1)
    again = mod.Generator(32, 16, 1)
    call(mod.weights_init, again, torch.Generator().manual_seed(0))
    assert_true(
        torch.equal(params(again), params(nets[0])),
        "the same generator seed must give the same weights, whatever the global seed",
    )


def test_make_optimizers_uses_the_papers_adam():
    G, D = oracle.generator(3, 2, 1), oracle.discriminator(2, 1)
    opt_d, opt_g = call(mod.make_optimizers, G, D)
    for opt, net, name in ((opt_d, D, "opt_d"), (opt_g, G, "opt_g")):
        group = opt.param_groups[0] if isinstance(opt, torch.optim.Adam) else {}
        mine = {id(p) for g in getattr(opt, "param_groups", []) for p in g["params"]}
        assert_true(
            isinstance(opt, torch.optim.Adam) and mine == {id(p) for p in net.parameters()},
            f"{name} must be an Adam over exactly {name[-1].upper()}'s parameters; got "
            f"{type(opt).__name__} over {len(mine)} tensors",
        )
        assert_true(
            group["lr"] == 2e-4 and tuple(group["betas"]) == (0.5, 0.999),
            f"{name}: the paper uses lr 2e-4 and betas (0.5, 0.999); got lr {group['lr']}, "
            f"betas {tuple(group['betas'])} (Adam's default beta1 = 0.9 oscillates)",
        )


def tiny_players(seed=0):
    torch.manual_seed(seed)
    return oracle.generator(3, 2, 1), oracle.discriminator(2, 1)


@pytest.mark.oracle
def test_train_step_matches_torch(rng):
    G, D = tiny_players()
    real, z = t64(rng, 4, 1, 32, 32), t64(rng, 5, 3)
    copies = {k: copy.deepcopy((G, D)) for k in ("ok", "one_batch", "saturating")}
    want = {}
    for k, (g, d) in copies.items():
        opts = torch.optim.Adam(d.parameters(), lr=0.01), torch.optim.Adam(g.parameters(), lr=0.01)
        want[k] = oracle.train_step(g, d, *opts, real, z, **({k: True} if k != "ok" else {}))
    opts = torch.optim.Adam(D.parameters(), lr=0.01), torch.optim.Adam(G.parameters(), lr=0.01)
    got = call(mod.train_step, G, D, *opts, real, z)
    assert_true(
        isinstance(got, tuple) and len(got) == 2,
        f"train_step returns (d_loss, g_loss); got {got!r}",
    )
    one = "real and fake concatenated into one batch through D (BatchNorm mixes them)"
    assert_close(
        np.float64(got[0]),
        want["ok"][0],
        tol="grad",
        name="d_loss",
        mistakes={one: want["one_batch"][0]},
    )
    assert_close(
        np.float64(got[1]),
        want["ok"][1],
        tol="grad",
        name="g_loss",
        mistakes={"the saturating minimax loss mean log(1 - D(G(z)))": want["saturating"][1]},
    )
    for net, i, name in ((D, 1, "D"), (G, 0, "G")):
        assert_close(
            params(net),
            params(copies["ok"][i]),
            tol="grad",
            name=f"{name}'s parameters",
            inplace=True,
            mistakes={one: params(copies["one_batch"][i])},
        )


@pytest.mark.oracle
def test_train_dcgan_matches_torch(rng):
    G, D = tiny_players(1)
    g, d = copy.deepcopy((G, D))
    images = torch.from_numpy(np.tanh(rng.standard_normal((10, 1, 32, 32))))
    kw = dict(lr=0.01, betas=(0.3, 0.9))
    want = oracle.train_dcgan(g, d, images, 3, 4, torch.Generator().manual_seed(5), **kw)
    got = call(mod.train_dcgan, G, D, images, 3, 4, torch.Generator().manual_seed(5), **kw)
    for key in ("d_loss", "g_loss"):
        assert_close(np.asarray(got[key]), np.asarray(want[key]), tol="grad", name=f"[{key!r}]")
    assert_close(params(D), params(d), tol="grad", name="D's parameters", inplace=True)
    assert_close(params(G), params(g), tol="grad", name="G's parameters", inplace=True)


def modulation_slips(x, w, s, demodulate=True):
    """Known mistakes -> what they return; only those that differ from the right answer here."""
    slips = {
        "demodulation summed over the output channels (dim 1 of w')": dict(slip="out-axes"),
        "the batch folded into channels as (C_in, N): reshape x (N, C_in, H, W), no transpose": (
            dict(slip="channel-major")
        ),
        "eps left out: w' / sqrt(sum w'^2) (eps belongs inside the sqrt)": dict(eps=0.0),
    }
    if w.shape[0] == w.shape[1]:
        slips["the style scaling the OUTPUT channels of the kernel"] = dict(slip="modulate-out")
    want = oracle.modulated_conv2d(x, w, s, demodulate=demodulate)

    def result(kw):
        out = oracle.modulated_conv2d(x, w, s, demodulate=demodulate, **kw)
        return None if torch.allclose(out, want, rtol=1e-12, atol=1e-14) else out

    return {k: (lambda kw=kw: result(kw)) for k, kw in slips.items()}


@pytest.mark.oracle
def test_modulated_conv2d_matches_a_loop_over_samples(rng):
    x, w, s = t64(rng, 3, 4, 6, 7), t64(rng, 4, 4, 3, 3), t64(rng, 3, 4)
    got = call(mod.modulated_conv2d, x, w, s)
    want = oracle.modulated_conv2d(x, w, s)
    assert_close(got, want, tol="matmul", mistakes=modulation_slips(x, w, s))


@pytest.mark.oracle
@pytest.mark.property
@given(
    n=st.integers(1, 3),
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 3),
    k=st.sampled_from([1, 3]),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    demodulate=st.booleans(),
    layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)
def test_modulated_conv2d_for_any_shapes_and_layouts(
    n, c_in, c_out, k, h, w, demodulate, layout, seed
):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(cs.relayout(rng.standard_normal((n, c_in, h, w)), layout))
    weight, style = t64(rng, c_out, c_in, k, k), t64(rng, n, c_in)
    got = call(mod.modulated_conv2d, x, weight, style, demodulate=demodulate)
    want = oracle.modulated_conv2d(x, weight, style, demodulate=demodulate)
    assert_close(got, want, tol="matmul", mistakes=modulation_slips(x, weight, style, demodulate))


@pytest.mark.oracle
def test_modulated_conv2d_gradients_match_torch(rng):
    inputs = [t64(rng, 2, 3, 5, 5), t64(rng, 4, 3, 3, 3), t64(rng, 2, 3)]
    mine = [t.clone().requires_grad_() for t in inputs]
    theirs = [t.clone().requires_grad_() for t in inputs]
    g = t64(rng, 2, 4, 5, 5)
    (call(mod.modulated_conv2d, *mine) * g).sum().backward()
    (oracle.modulated_conv2d(*theirs) * g).sum().backward()
    for a, b, name in zip(mine, theirs, ("x", "weight", "style")):
        assert_true(a.grad is not None, f"no gradient reached {name}: keep the graph (no .data)")
        assert_close(a.grad, b.grad, tol="grad", name=f"d loss / d {name}")


@pytest.mark.edge
def test_modulation_without_demodulation_scales_the_input_channels(rng):
    x, w, s = t64(rng, 2, 3, 4, 4), t64(rng, 3, 3, 3, 3), t64(rng, 2, 3)
    got = call(mod.modulated_conv2d, x, w, s, demodulate=False)
    want = F.conv2d(x * s[:, :, None, None], w, padding=1)  # s_i w_oi * x_i = w_oi * (s_i x_i)
    out_scaled = F.conv2d(x, w, padding=1) * s[:, :, None, None]
    assert_close(got, want, tol="matmul", mistakes={"the style on the output channels": out_scaled})


@pytest.mark.edge
def test_demodulated_outputs_have_unit_variance(rng):
    """y = sum w'' x over one window of iid N(0, 1) inputs has variance sum w''^2 = 1."""
    n, c_in, c_out, k = 4000, 8, 4, 3
    x = torch.from_numpy(rng.standard_normal((n, c_in, k, k)))  # one window: a 1x1 output
    w, s = t64(rng, c_out, c_in, k, k), torch.from_numpy(rng.uniform(0.2, 3.0, (n, c_in)))
    out = call(mod.modulated_conv2d, x, w, s)
    y = out[:, :, k // 2, k // 2]  # the centre pixel sees the whole window, no padding
    var = (y**2).mean(0)  # (C_out,): mean square per output channel
    bar = 5 * math.sqrt(2 / n)  # the standard error of a mean of n chi-square(1) values
    assert_true(
        tuple(out.shape) == (n, c_out, k, k) and bool(((var - 1).abs() < bar).all()),
        f"with iid unit-variance inputs, each demodulated output channel must have variance "
        f"1 +- {bar:.3f}; got {var.numpy().round(3).tolist()} (output shape {tuple(out.shape)})",
    )


@pytest.mark.property
@given(c=st.floats(0.01, 100.0), seed=st.integers(0, 2**32 - 1))
def test_demodulation_ignores_the_styles_scale(c, seed):
    rng = np.random.default_rng(seed)
    x, w, s = t64(rng, 2, 3, 4, 4), t64(rng, 2, 3, 3, 3), t64(rng, 2, 3)
    got = call(mod.modulated_conv2d, x, w, c * s, eps=0.0)
    assert_close(got, oracle.modulated_conv2d(x, w, s, eps=0.0), tol="matmul")


@pytest.mark.edge
def test_a_zero_kernel_gives_zeros_not_nan(rng):
    x, s = t64(rng, 2, 3, 4, 4), t64(rng, 2, 3)
    got = call(mod.modulated_conv2d, x, torch.zeros(2, 3, 3, 3, dtype=torch.float64), s)
    assert_close(got, torch.zeros(2, 2, 4, 4, dtype=torch.float64), tol="elementwise")


def adain_slips(x, scale, bias):
    return {
        "the unbiased variance (divide by H*W - 1)": lambda: oracle.adain(
            x, scale, bias, slip="unbiased"
        ),
        "statistics over (C, H, W), a layer norm": lambda: oracle.adain(
            x, scale, bias, slip="layer"
        ),
    }


@pytest.mark.oracle
def test_adain_matches_torch(rng):
    x, scale, bias = t64(rng, 2, 3, 4, 5) * 3 + 1, t64(rng, 2, 3), t64(rng, 2, 3)
    got = call(mod.adain, x, scale, bias)
    assert_close(
        got, oracle.adain(x, scale, bias), tol="reduction", mistakes=adain_slips(x, scale, bias)
    )


@pytest.mark.oracle
@pytest.mark.property
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 4),
    w=st.integers(2, 4),
    layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)
def test_adain_for_any_shapes_and_layouts(n, c, h, w, layout, seed):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(cs.relayout(rng.standard_normal((n, c, h, w)), layout))
    scale, bias = t64(rng, n, c), t64(rng, n, c)
    got = call(mod.adain, x, scale, bias)
    assert_close(
        got, oracle.adain(x, scale, bias), tol="reduction", mistakes=adain_slips(x, scale, bias)
    )


@pytest.mark.oracle
def test_adain_gradients_match_torch(rng):
    inputs = [t64(rng, 2, 3, 4, 4), t64(rng, 2, 3), t64(rng, 2, 3)]
    mine = [t.clone().requires_grad_() for t in inputs]
    theirs = [t.clone().requires_grad_() for t in inputs]
    g = t64(rng, 2, 3, 4, 4)
    (call(mod.adain, *mine) * g).sum().backward()
    (oracle.adain(*theirs) * g).sum().backward()
    for a, b, name in zip(mine, theirs, ("x", "scale", "bias")):
        assert_true(a.grad is not None, f"no gradient reached {name}")
        assert_close(a.grad, b.grad, tol="grad", name=f"d loss / d {name}")


@pytest.mark.edge
def test_adain_of_a_constant_channel_is_its_bias(rng):
    x = torch.full((2, 3, 1, 1), 7.0, dtype=torch.float64)  # one pixel: variance 0
    scale, bias = t64(rng, 2, 3), t64(rng, 2, 3)
    got = call(mod.adain, x, scale, bias)
    assert_close(
        got, bias[:, :, None, None], tol="elementwise", name="the output (eps keeps it finite)"
    )


# Measured with the reference solution, one thread, 2 cores at load 6: 4,000 full-MNIST
# training digits padded to 32x32, Generator(32, 16) and Discriminator(16), 400 steps of batch
# 32 at lr 5e-4 (2.5x the paper's: a short run), about 12 s of CPU for the whole test. The
# FID-like distance (20 pixel PCA components, 1,000 samples against 1,000 test digits) fell
# from 219 at initialisation to 39.9, 57.5, 33.7, 35.5, 26.9 (seeds 0-4); the average digit
# drawn 1,000 times scores 127.5, real digits against real 14.3. Bars: <= 0.4 x the start
# and <= 0.6 x the average digit's score (76.5 here).
CONFIG = dict(steps=400, batch_size=32, lr=5e-4)


@pytest.mark.training
def test_dcgan_samples_move_towards_real_digits(tmp_path):
    data = load_mnist()
    real, test = oracle.mnist32(data.x_train[:4000]), oracle.mnist32(data.x_test[:1000])
    pca = oracle.PixelPCA(real)
    torch.manual_seed(0)
    G, D = mod.Generator(32, 16, 1), mod.Discriminator(16, 1)
    gen = torch.Generator().manual_seed(0)
    mod.weights_init(G, gen)
    mod.weights_init(D, gen)
    z = torch.randn(1000, 32, generator=torch.Generator().manual_seed(99))
    fid = lambda x: oracle.frechet(pca.features(x), pca.features(test))  # noqa: E731
    with torch.no_grad():
        before = fid(G.eval()(z))
    history = call(mod.train_dcgan, G.train(), D, real, generator=gen, **CONFIG)
    with torch.no_grad():
        samples = G.eval()(z)
    after, average = fid(samples), fid(real.mean(0, keepdim=True).expand(1000, -1, -1, -1))
    oracle.grid_png(samples, tmp_path / "dcgan.png")
    note(
        f"dcgan: FID-like distance on pixel PCA features {before:.1f} -> {after:.1f} (the average "
        f"digit scores {average:.1f}); data: {data.source}; samples {tmp_path / 'dcgan.png'}"
    )
    last = f"last losses D {history['d_loss'][-1]:.3f}, G {history['g_loss'][-1]:.3f}"
    assert_true(
        after <= 0.4 * before and after <= 0.6 * average,
        f"after {CONFIG['steps']} steps the FID-like distance of your samples to real digits is "
        f"{after:.1f}; it started at {before:.1f} (want <= {0.4 * before:.1f}) and the average "
        f"digit repeated scores {average:.1f} (want <= {0.6 * average:.1f}); {last}",
    )
    assert_png(tmp_path / "dcgan.png", "the reference's grid_png(samples, path)", min_bytes=5000)
