"""vit.py: patches equal a strided conv, the class token and positions, an encoder block equal
to nn.TransformerEncoderLayer, attention rollout; then a ViT trained on MNIST (slow, last)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from checker import assert_close, assert_png, assert_raises, assert_true, call, kata, note
from checker import strategies as cs
from checker.datasets import load_mnist
from reference.oracles import tensor
from reference.oracles import vit as oracle

mod = kata("05_transformers/vit")
# a 3 x 3 grid of 4 x 4 patches: T = 10 tokens; 2 channels, so the channel order shows
SMALL = dict(
    image_size=12, patch=4, in_channels=2, num_classes=3, dim=8, depth=2, heads=2, mlp_dim=12
)
ORDERS = {
    "each patch flattened channels last (p, p, C), as einops' (p1 p2 c): a Linear "
    "learns either way, but it is not the conv's layout": "channels_last",
    "the patch grid read column by column": "column_major",
    "a reshape without the permute: the pixels of a patch are not a square": "no_permute",
}


def slips_of(x, p, then=lambda patches: patches):
    return {label: then(oracle.patchify(x, p, order)) for label, order in ORDERS.items()}


def check_names(module, names, what):
    __tracebackhide__ = True
    missing = [
        n
        for n in names
        if not hasattr(module, n.split(".")[0])
        or (n == "patch_embed.proj" and not hasattr(module.patch_embed, "proj"))
    ]
    assert_true(
        not missing,
        f"{what} has no attribute {', '.join(missing)}: the tests read the parts by these "
        f"names ({', '.join(names)}), "
        + (
            "nn.TransformerEncoderLayer's, so that yours loads into one"
            if "norm1" in names
            else "timm's VisionTransformer's"
        )
        + "; see the docstrings",
    )


def pair(result, what, names):
    """A learner's (a, b) result, after checking it is a pair of tensors."""
    __tracebackhide__ = True
    ok = isinstance(result, (tuple, list)) and len(result) == 2
    assert_true(
        ok and isinstance(result[0], torch.Tensor),
        f"{what} must return a pair "
        f"{names}; got {type(result).__name__}"
        + (f" of {len(result)}" if isinstance(result, (tuple, list)) else ""),
    )
    return result


def make_vit(seed=0, **changes):
    """The learner's ViT in float64 with every parameter random (zeros would hide slips)."""
    __tracebackhide__ = True
    torch.manual_seed(seed)
    model = call(mod.ViT, **{**SMALL, **changes})
    check_names(model, oracle.VIT_LAYOUT, "your ViT")
    for i, block in enumerate(model.blocks):
        check_names(block, oracle.BLOCK_LAYOUT, f"your ViT's blocks[{i}]")
    return randomise(model.double(), seed)


def randomise(module, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g, dtype=p.dtype))
            if "norm" in name and name.endswith("weight"):
                p.add_(1.0)
    return module


@pytest.mark.oracle
def test_patchify_matches_torch_unfold(rng):
    x = tensor(rng.standard_normal((2, 3, 8, 12)))  # 3 channels, a 2 x 3 grid of 4 x 4
    out = call(mod.patchify, x, 4)
    assert_close(out, oracle.patchify(x, 4), name="the patches", mistakes=slips_of(x, 4))


@pytest.mark.property
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    gh=st.integers(1, 3),
    gw=st.integers(1, 3),
    p=st.integers(1, 4),
    layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)
def test_patchify_matches_unfold_for_any_sizes_and_layouts(n, c, gh, gw, p, layout, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, gh * p, gw * p))
    x = torch.from_numpy(cs.relayout(x, layout))  # keeps the strides: non-contiguous too
    out = call(mod.patchify, x, p)
    assert_close(out, oracle.patchify(x, p), name="the patches", mistakes=slips_of(x, p))


@pytest.mark.edge
@pytest.mark.parametrize("patch", [1, 6], ids=["one-pixel-patches", "one-patch-per-image"])
def test_patchify_handles_one_pixel_and_whole_image_patches(patch, rng):
    x = tensor(rng.standard_normal((2, 2, 6, 6)))
    out = call(mod.patchify, x, patch)
    assert_close(out, oracle.patchify(x, patch), name="the patches", mistakes=slips_of(x, patch))


@pytest.mark.edge
@pytest.mark.parametrize("size", [(10, 8), (8, 10), (3, 3)])
def test_patchify_rejects_sizes_that_are_not_a_multiple_of_the_patch(size):
    why = f"a {size[0]} x {size[1]} image does not cut into 4 x 4 patches"
    assert_raises(ValueError, mod.patchify, torch.zeros((1, 1) + size), 4, why=why)
    assert_raises(
        ValueError, call(mod.PatchEmbedding, 1, 4, 3), torch.zeros((1, 1) + size), why=why
    )


@pytest.mark.oracle
@pytest.mark.parametrize("direction", ["conv into proj", "proj into conv"])
def test_patch_embedding_equals_a_strided_conv(direction, rng):
    C, p, D = 3, 4, 5
    torch.manual_seed(0)
    emb = call(mod.PatchEmbedding, C, p, D)
    proj = getattr(emb, "proj", None)
    assert_true(
        isinstance(proj, nn.Linear) and tuple(proj.weight.shape) == (D, C * p * p),
        f"PatchEmbedding({C}, {p}, {D}).proj must be nn.Linear({C * p * p}, {D}); got {proj!r}",
    )
    emb, conv = randomise(emb.double(), 1), nn.Conv2d(C, D, p, stride=p, dtype=torch.float64)
    with torch.no_grad():  # the same numbers, laid out as each layer wants them
        if direction == "conv into proj":
            randomise(conv, 2)
            emb.proj.weight.copy_(conv.weight.reshape(D, C * p * p))
            emb.proj.bias.copy_(conv.bias)
        else:
            conv.weight.copy_(emb.proj.weight.reshape(D, C, p, p))
            conv.bias.copy_(emb.proj.bias)
    x = tensor(rng.standard_normal((2, C, 8, 12)))
    out = call(emb, x)
    mistakes = slips_of(
        x, p, lambda patches: F.linear(patches, conv.weight.reshape(D, -1), conv.bias).detach()
    )
    assert_close(
        out,
        oracle.conv_embed(x, conv.weight, conv.bias).detach(),
        tol="matmul",
        name="the patch tokens (N, P, D)",
        mistakes=mistakes,
    )


@pytest.mark.oracle
def test_encoder_block_matches_torch_transformer_encoder_layer(rng):
    torch.manual_seed(0)
    block = call(mod.EncoderBlock, 8, 2, 12)
    check_names(block, oracle.BLOCK_LAYOUT, "your EncoderBlock")
    block = randomise(block.double(), 3)
    x = tensor(rng.standard_normal((3, 5, 8)))
    out, weights = pair(call(block, x), "EncoderBlock's forward", "(x, weights)")
    params = {k: v.detach() for k, v in block.named_parameters()}
    want, want_weights = oracle.run_layer(oracle.encoder_layer(block), params, x)
    post = oracle.run_layer(oracle.encoder_layer(block, norm_first=False), params, x)[0].detach()
    assert_close(
        out,
        want.detach(),
        tol="matmul",
        name="the block's output",
        mistakes={"post-norm (x = norm1(x + attention(x))), where ViT normalises first": post},
    )
    assert_true(
        tuple(weights.shape) == (3, 2, 5, 5),
        f"EncoderBlock's weights must be every "
        f"head's, (N, heads, T, T) = (3, 2, 5, 5); got {tuple(weights.shape)} (pass "
        "need_weights=True, average_attn_weights=False to self_attn)",
    )
    assert_close(weights, want_weights.detach(), tol="matmul", name="the attention weights")


def test_vit_has_a_learned_class_token_and_position_embeddings():
    model = make_vit()
    params = {id(p) for p in model.parameters()}
    for name, shape in (("cls_token", (1, 1, 8)), ("pos_embed", (1, 10, 8))):
        value = getattr(model, name)
        assert_true(
            isinstance(value, nn.Parameter) and id(value) in params and tuple(value.shape) == shape,
            f"ViT(image_size=12, patch=4, dim=8).{name} must be an nn.Parameter of "
            f"shape {shape} (learned: the optimiser must see it); got "
            f"{type(value).__name__} {tuple(getattr(value, 'shape', ()))}",
        )
    assert_true(
        isinstance(model.blocks, nn.ModuleList) and len(model.blocks) == 2,
        "ViT(depth=2).blocks must be an nn.ModuleList of 2 EncoderBlocks",
    )


@pytest.mark.oracle
def test_vit_embed_prepends_the_class_token_and_adds_positions(rng):
    model = make_vit()
    x = tensor(rng.standard_normal((2, 2, 12, 12)))
    tokens = call(model.embed, x)
    assert_true(
        tuple(tokens.shape) == (2, 10, 8),
        f"embed must give (N, 1 + P, D) = "
        f"(2, 10, 8) for 9 patches; got {tuple(tokens.shape)}"
        + (": the class token is missing" if tuple(tokens.shape) == (2, 9, 8) else ""),
    )
    params = oracle.vit_params(model)
    slips = {
        "the class token appended after the patches (it must be token 0)": {"cls_at": "end"},
        "the position embeddings never added": {"positions": False},
    }
    mistakes = {k: oracle.vit_embed(params, x, **kw).detach() for k, kw in slips.items()}
    want = oracle.vit_embed(params, x).detach()
    assert_close(tokens, want, tol="matmul", name="the tokens", mistakes=mistakes)


@pytest.mark.oracle
@pytest.mark.parametrize("n", [1, 3])
def test_vit_forward_matches_torch(n, rng):
    model = make_vit()
    x = tensor(rng.standard_normal((n, 2, 12, 12)))
    logits, attentions = pair(
        call(model, x, return_attention=True),
        "ViT(images, return_attention=True)",
        "(logits, attentions)",
    )
    params = oracle.vit_params(model)
    want, want_attentions = oracle.vit_forward(model, params, x)
    slips = {
        "the head reads the mean of the patch tokens, not the class token": {"head": "mean"},
        "the class token appended at the end while the head reads token 0": {"cls_at": "end"},
        "no position embeddings": {"positions": False},
    }
    mistakes = {
        k: (lambda kw=kw: oracle.vit_forward(model, params, x, **kw)[0].detach())
        for k, kw in slips.items()
    }
    assert_close(logits, want.detach(), tol="matmul", name="the logits", mistakes=mistakes)
    assert_true(
        isinstance(attentions, (list, tuple)) and len(attentions) == 2,
        "ViT(depth=2)(x, return_attention=True) must return (logits, [w_0, w_1]), one "
        f"weight tensor per block; got {type(attentions).__name__}",
    )
    for i, (w, want_w) in enumerate(zip(attentions, want_attentions)):
        assert_close(w, want_w.detach(), tol="matmul", name=f"attentions[{i}]")
    assert_close(call(model, x), want.detach(), tol="matmul", name="the logits")


@pytest.mark.oracle
def test_vit_backward_matches_torch(rng):
    model = make_vit()
    x = tensor(rng.standard_normal((3, 2, 12, 12)))
    y = torch.from_numpy(rng.integers(0, 3, 3))
    F.cross_entropy(call(model, x), y).backward()
    params = oracle.vit_params(model)
    F.cross_entropy(oracle.vit_forward(model, params, x)[0], y).backward()
    for name, p in model.named_parameters():
        assert_true(
            p.grad is not None,
            f"after loss.backward() ViT's {name} has no gradient: "
            "it never took part in the logits (or was detached on the way)",
        )
        assert_close(p.grad, params[name].grad, tol="grad", name=f"d loss / d {name}")


ROLLOUT_SLIPS = {
    "no identity added (the residual path left out)": {"identity": False},
    "rows not renormalised after adding the identity": {"renormalise": False},
    "the product in the wrong order, A_0 @ A_1 @ ... (the first layer on the left)": {
        "reverse": True
    },
    "the heads' maximum instead of their mean": {"fuse": "max"},
}


def rollout_slips(attentions):
    return {k: (lambda kw=kw: oracle.rollout(attentions, **kw)) for k, kw in ROLLOUT_SLIPS.items()}


@pytest.mark.oracle
def test_attention_rollout_matches_a_float64_loop(rng):
    attentions = [tensor(oracle.random_attention(rng, (2, 3, 5, 5))) for _ in range(3)]
    got = call(mod.attention_rollout, attentions)
    assert_close(
        got,
        oracle.rollout(attentions),
        tol="matmul",
        name="the rollout (N, T, T)",
        mistakes=rollout_slips(attentions),
    )


@pytest.mark.property
@given(
    layers=st.integers(1, 3),
    n=st.integers(1, 3),
    heads=st.integers(1, 3),
    T=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_rollout_rows_are_distributions_for_any_shapes(layers, n, heads, T, seed):
    rng = np.random.default_rng(seed)
    attentions = [  # transposed copies viewed back: the same weights, non-contiguous
        torch.from_numpy(
            oracle.random_attention(rng, (n, heads, T, T)).swapaxes(-1, -2).copy()
        ).transpose(-1, -2)
        for _ in range(layers)
    ]
    got = call(mod.attention_rollout, attentions)
    assert_true(
        isinstance(got, torch.Tensor) and tuple(got.shape) == (n, T, T),
        f"attention_rollout must return a tensor (N, T, T) = {(n, T, T)}; got "
        f"{type(got).__name__} {tuple(getattr(got, 'shape', ()))}",
    )
    assert_close(got.sum(-1), np.ones((n, T)), tol="reduction", name="the rollout's row sums")
    assert_true(
        bool((got >= 0).all()),
        "the rollout has negative entries; it mixes "
        "attention weights (>= 0) with sums and products only",
    )
    assert_close(
        got,
        oracle.rollout(attentions),
        tol="matmul",
        name="the rollout",
        mistakes=rollout_slips(attentions),
    )


@pytest.mark.edge
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_rollout_of_uniform_attention_has_a_closed_form(layers):
    """U = 1/T everywhere, A = (U + I) / 2, and U @ U = U: A^L = I / 2^L + (1 - 1/2^L) U."""
    T = 5
    uniform = torch.full((1, 2, T, T), 1.0 / T, dtype=torch.float64)
    got = call(mod.attention_rollout, [uniform] * layers)
    want = np.eye(T) / 2**layers + (1 - 0.5**layers) / T
    assert_close(
        got,
        want[None],
        tol="matmul",
        name="the rollout",
        mistakes=rollout_slips([uniform] * layers),
    )
    heat = call(mod.rollout_map, got, (2, 2))
    assert_close(
        heat,
        np.full((1, 2, 2), (1 - 0.5**layers) / T),
        tol="matmul",
        name="the rollout map: every patch the same",
    )


@pytest.mark.oracle
def test_rollout_map_reads_the_class_row_over_the_patch_grid(rng):
    rollout = tensor(rng.random((2, 7, 7)))  # 1 + 2 x 3 tokens, not symmetric
    got = call(mod.rollout_map, rollout, (2, 3))
    assert_close(
        got,
        rollout[:, 0, 1:].reshape(2, 2, 3),
        name="the map",
        mistakes={
            "column 0 (what the patches took from the class token), not row 0": rollout[
                :, 1:, 0
            ].reshape(2, 2, 3)
        },
    )


def test_plot_rollout_writes_a_png_of_the_image_and_the_map(tmp_path, rng):
    image, heat = tensor(rng.random((28, 28))), tensor(rng.random((4, 4)))
    path = tmp_path / "rollout.png"
    fig = call(mod.plot_rollout, image, heat, path)
    assert_png(path, "plot_rollout(image, heatmap, path)", min_bytes=2000)
    shown = [
        np.asarray(im.get_array(), dtype=float)
        for ax in getattr(fig, "axes", [])
        for im in ax.get_images()
    ]
    big = np.kron(heat.numpy(), np.ones((7, 7)))  # each patch's value over its 7 x 7 pixels
    for what, want in (("the image", image.numpy()), ("the map upsampled to 28 x 28", big)):
        assert_true(
            any(s.shape == want.shape and np.allclose(s, want) for s in shown),
            f"the figure must show {what} with imshow; found images of shapes "
            f"{[s.shape for s in shown]}",
        )


# Measured with the reference solution, seeds 0-2, one thread (CPU time; 2 shared cores):
# full MNIST, 20,000 training images x 4 epochs, 12-14 s: accuracy on the 10,000 test
# images 0.959-0.960; the offline sample, 4,000 x 15 epochs, 9-11 s: 0.932-0.935 on its
# 1,000. Share of the class token's rollout on the patches with ink (45% of the patches):
# trained 0.70-0.71 (sample 0.73-0.76), untrained 0.46-0.48 (sample 0.50-0.52).
BARS = {True: 0.90, False: 0.85}  # full MNIST, the offline sample
CONFIG = {True: {"n_train": 20000, "epochs": 4}, False: {"n_train": 4000, "epochs": 15}}
INK_BAR = 0.6


@pytest.mark.training
def test_vit_learns_mnist_and_its_rollout_rests_on_the_strokes(tmp_path):
    data = load_mnist()
    bar, cfg = BARS[data.full], CONFIG[data.full]
    X, Y = oracle.mnist_tensors(data.x_train[: cfg["n_train"]], data.y_train[: cfg["n_train"]])
    X_test, Y_test = oracle.mnist_tensors(data.x_test, data.y_test)
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    model = call(mod.ViT)
    history = oracle.fit(
        model, X, Y, epochs=cfg["epochs"], batch_size=128, lr=6e-3, weight_decay=0.05, rng=rng
    )
    acc = oracle.accuracy(model, X_test, Y_test)
    note(f"vit: trained on {data.source}: test accuracy {acc:.4f} (the bar for this data: {bar})")
    assert_true(
        acc >= bar,
        f"after {cfg['epochs']} epochs on {cfg['n_train']} images the test "
        f"accuracy is {acc:.4f}; a correct ViT reaches {bar}. Loss per epoch: "
        f"{', '.join(f'{h:.3f}' for h in history)}",
    )
    with torch.no_grad():
        _, attentions = call(model, X_test[:500], return_attention=True)
        heat = call(mod.rollout_map, call(mod.attention_rollout, attentions), (4, 4))
    ink = torch.from_numpy(data.x_test[:500] / 255.0).reshape(500, 4, 7, 4, 7).mean((2, 4)) > 0.05
    share = float(((heat * ink).sum((1, 2)) / heat.sum((1, 2))).mean())
    note(
        f"vit: the class token's rollout puts {share:.0%} of its patch share on the patches "
        f"with ink ({ink.float().mean():.0%} of the patches)"
    )
    assert_true(
        share >= INK_BAR,
        f"a trained ViT's class token draws mostly on the strokes "
        f"(a correct one: {INK_BAR:.0%} or more of its rollout on the patches with ink); "
        f"yours puts {share:.0%} there",
    )
    path = tmp_path / "vit_rollout.png"
    call(mod.plot_rollout, X_test[0, 0], heat[0], path)
    assert_png(path, "plot_rollout(image, heatmap, path)", min_bytes=2000)
    note(f"vit: the rollout of test digit {int(Y_test[0])} is drawn in {path}")
