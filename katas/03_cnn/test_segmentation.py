"""segmentation.py: U-Net shapes and skips, the FCN head, Dice and IoU, the soft Dice loss;
then a U-Net trained on generated shapes (slow, last)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from checker import assert_close, assert_true, call, kata, note
from checker import strategies as cs
from reference.oracles import segmentation as oracle

mod = kata("03_cnn/segmentation")
NAN = float("nan")


def as_numpy(value, what, dtype=torch.float64):
    """A learner's tensor as NumPy, after checking that it is a tensor of the right dtype."""
    __tracebackhide__ = True
    assert_true(
        isinstance(value, torch.Tensor),
        f"{what} must be a torch.Tensor; got {type(value).__name__}",
    )
    assert_true(value.dtype == dtype, f"{what} must be {dtype}; got {value.dtype}")
    return value.detach().numpy()


def test_conv_block_keeps_the_spatial_size(rng):
    block = call(mod.conv_block, 3, 5)
    kinds = [type(m).__name__ for m in block]
    assert_true(
        kinds == ["Conv2d", "BatchNorm2d", "ReLU"] * 2,
        f"conv_block must be Conv2d, BatchNorm2d, ReLU, twice; got {kinds}",
    )
    out = block(torch.from_numpy(rng.standard_normal((2, 3, 7, 9)).astype(np.float32)))
    assert_true(
        tuple(out.shape) == (2, 5, 7, 9),
        f"conv_block(3, 5) must map (2, 3, 7, 9) to "
        f"(2, 5, 7, 9); got {tuple(out.shape)} (padding=1 keeps the size)",
    )


@pytest.mark.property
@given(
    depth=st.integers(1, 3),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    n=st.integers(1, 2),
    c_in=st.integers(1, 3),
    n_classes=st.integers(1, 4),
    base=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_unet_output_has_the_input_size(depth, kh, kw, n, c_in, n_classes, base, seed):
    torch.manual_seed(seed % 2**16)
    net = call(mod.UNet, c_in, n_classes, base=base, depth=depth).eval()
    H, W = kh * 2**depth, kw * 2**depth
    x = torch.from_numpy(np.random.default_rng(seed).random((n, c_in, W, H), np.float32))
    x = x.transpose(2, 3)  # (n, c_in, H, W), non-contiguous
    with torch.no_grad():
        out = call(net, x)
    assert_true(
        tuple(out.shape) == (n, n_classes, H, W) and out.dtype == torch.float32,
        f"UNet({c_in}, {n_classes}, base={base}, depth={depth}) on {tuple(x.shape)} "
        f"must give float32 {(n, n_classes, H, W)}; got {out.dtype} "
        f"{tuple(out.shape)}",
    )


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_unet_concatenates_each_encoder_output_into_its_decoder(depth, rng):
    torch.manual_seed(0)
    base, net = 2, call(mod.UNet, 2, 3, base=2, depth=depth).eval()
    for name in ("encoders", "ups", "decoders"):
        part = getattr(net, name, None)
        assert_true(
            isinstance(part, nn.ModuleList) and len(part) == depth,
            f"UNet(depth={depth}).{name} must be an nn.ModuleList of {depth}",
        )
    seen = {}

    def keep(key, pre=False):
        if pre:
            return lambda m, args: seen.__setitem__(key, args[0])
        return lambda m, args, out: seen.__setitem__(key, out)

    for i in range(depth):
        net.encoders[i].register_forward_hook(keep(("skip", i)))
        net.ups[i].register_forward_hook(keep(("up", i)))
        net.decoders[i].register_forward_pre_hook(keep(("decoder input", i), pre=True))
    x = torch.from_numpy(rng.random((2, 2, 3 * 2**depth, 2 * 2**depth), np.float32))
    with torch.no_grad():
        call(net, x)
    for j in range(depth):
        i, c = depth - 1 - j, base * 2 ** (depth - 1 - j)
        skip, up, got = seen[("skip", i)], seen[("up", j)], seen[("decoder input", j)]
        h, w = x.shape[2] // 2**i, x.shape[3] // 2**i
        assert_true(
            tuple(skip.shape[1:]) == (c, h, w) and tuple(up.shape[1:]) == (c, h, w),
            f"encoders[{i}] and ups[{j}] must both give (N, {c}, {h}, {w}); got "
            f"{tuple(skip.shape)} and {tuple(up.shape)}",
        )
        want = f"torch.cat([s_{i}, ups[{j}](x)], dim=1), (N, {2 * c}, {h}, {w})"
        assert_true(
            tuple(got.shape[1:]) == (2 * c, h, w),
            f"decoders[{j}] got {tuple(got.shape)}; it must get {want}",
        )
        assert_true(
            torch.equal(got, torch.cat([skip, up], 1))
            or torch.equal(got, torch.cat([up, skip], 1)),
            f"decoders[{j}]'s input does "
            f"not hold the output of encoders[{i}] next to the output of ups[{j}]: it "
            f"must get {want}, the skip connection. Without it the decoder only sees "
            "what survived the pooling, and draws blurred boundaries.",
        )


@pytest.mark.oracle
def test_fcn_head_matches_torch(rng):
    torch.manual_seed(0)
    head = call(mod.FCNHead, 6, 3)
    feats = torch.from_numpy(rng.standard_normal((2, 6, 5, 7)).astype(np.float32))
    out = call(head, feats, (17, 23))
    assert_true(
        isinstance(getattr(head, "classifier", None), nn.Conv2d),
        "FCNHead needs self.classifier, an nn.Conv2d(in_channels, n_classes, 1)",
    )
    assert_true(
        tuple(out.shape) == (2, 3, 17, 23),
        f"FCNHead(6, 3) on features (2, 6, 5, 7) "
        f"with size=(17, 23) must give (2, 3, 17, 23); got {tuple(out.shape)}"
        + (": size is (height, width)" if tuple(out.shape) == (2, 3, 23, 17) else ""),
    )
    scores = F.conv2d(
        feats.double(), head.classifier.weight.double(), head.classifier.bias.double()
    )
    want = F.interpolate(scores, size=(17, 23), mode="bilinear", align_corners=False)
    slips = {
        "align_corners=True (FCN heads use False)": {"mode": "bilinear", "align_corners": True},
        "nearest upsampling, not bilinear": {"mode": "nearest"},
    }
    assert_close(
        as_numpy(out, "FCNHead's output", torch.float32),
        want.detach(),
        tol="matmul",
        dtype=np.float32,
        name="the upsampled scores",
        mistakes={k: F.interpolate(scores, (17, 23), **kw).detach() for k, kw in slips.items()},
    )


def shown(x):
    """NaN as -1 (torchmetrics' marker): the comparison can then name slips that change NaNs."""
    x = x.detach().numpy() if isinstance(x, torch.Tensor) else x
    return np.nan_to_num(np.asarray(x, dtype=np.float64), nan=-1.0)


def check_scores(pred, target, n_classes, want):
    """Compare all four metrics with `want` (oracle.scores), naming the common slips."""
    __tracebackhide__ = True
    other = {a: oracle.scores(pred, target, n_classes, absent=a) for a in (0.0, 1.0)}
    slips = {
        f"a class absent from both counted as {a:g}, not left out (NaN)": s
        for a, s in other.items()
    }
    what = " (a NaN shows as -1: the class is in neither pred nor target)"
    for fn, key, extra in [
        (mod.iou_per_class, "iou", {"IoU computed as Dice": want["dice"]}),
        (mod.dice_per_class, "dice", {"Dice computed as IoU": want["iou"]}),
        (mod.mean_iou, "mean_iou", {"the mean of the Dice": want["mean_dice"]}),
        (mod.mean_dice, "mean_dice", {}),
    ]:
        got = call(fn, pred, target, n_classes)
        if key.startswith("mean"):
            assert_true(
                isinstance(got, float),
                f"{fn.__name__} must return a Python float; got {type(got).__name__}",
            )
            got = np.float64(got)
        else:
            got = as_numpy(got, f"{fn.__name__}'s result")
        mistakes = {**extra, **{k: s[key] for k, s in slips.items()}}
        assert_close(
            shown(got),
            shown(want[key]),
            tol="elementwise",
            dtype=np.float64,
            name=key + what * bool(torch.isnan(want[key]).any()),
            mistakes={k: shown(v) for k, v in mistakes.items()},
        )


@pytest.mark.edge
def test_iou_and_dice_on_a_hand_checked_case():
    target = torch.tensor([[[0, 0, 1], [1, 2, 2]]])  # (1, 2, 3)
    pred = torch.tensor([[[0, 1, 1], [1, 2, 3]]])  # class 3 predicted, never true; 4 absent
    iou = torch.tensor([1 / 2, 2 / 3, 1 / 2, 0, NAN], dtype=torch.float64)
    dice = torch.tensor([2 / 3, 4 / 5, 2 / 3, 0, NAN], dtype=torch.float64)
    check_scores(
        pred,
        target,
        5,
        {"iou": iou, "dice": dice, "mean_iou": iou[:4].mean(), "mean_dice": dice[:4].mean()},
    )


@pytest.mark.edge
def test_a_perfect_prediction_scores_1_whatever_the_absent_classes():
    target = torch.zeros((2, 3, 3), dtype=torch.int64)  # only the background, 2 classes absent
    ones = torch.tensor([1.0, NAN, NAN], dtype=torch.float64)
    check_scores(
        target.clone(),
        target,
        3,
        {"iou": ones, "dice": ones, "mean_iou": ones[0], "mean_dice": ones[0]},
    )


@pytest.mark.oracle
@pytest.mark.property
@given(
    shape=cs.shapes(min_dims=3, max_dims=3),
    n_classes=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    transposed=st.booleans(),
)
def test_iou_and_dice_match_a_confusion_matrix(shape, n_classes, seed, transposed):
    rng = np.random.default_rng(seed)
    used = rng.choice(n_classes, rng.integers(1, n_classes + 1), replace=False)  # some absent
    pred, target = (torch.from_numpy(rng.choice(used, shape)) for _ in range(2))
    if transposed:
        pred, target = pred.transpose(1, 2), target.transpose(1, 2)  # non-contiguous
    check_scores(pred, target, n_classes, oracle.scores(pred, target, n_classes))


def dice_slips(logits, target, eps=1.0):
    return {
        "a sigmoid per channel instead of a softmax over the classes": oracle.soft_dice_loss(
            logits, target, eps, activation="sigmoid"
        ).detach(),
        "a Dice per image, then averaged (sum over the batch too)": oracle.soft_dice_loss(
            logits, target, eps, per_image=True
        ).detach(),
        "the softmax taken over the last axis, not the class axis 1": oracle.soft_dice_loss(
            logits, target, eps, dim=-1
        ).detach(),
    }


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_soft_dice_loss_matches_torch(dtype, rng):
    logits = torch.from_numpy(2 * rng.standard_normal((2, 3, 4, 5)).astype(dtype))
    target = torch.from_numpy(rng.integers(0, 3, (2, 4, 5)))
    loss = call(mod.soft_dice_loss, logits, target, eps=0.5)
    want = oracle.soft_dice_loss(logits.double(), target, eps=0.5)
    assert_close(
        as_numpy(loss, "the loss", logits.dtype),
        want.detach(),
        tol="reduction",
        dtype=dtype,
        name="the loss",
        mistakes=dice_slips(logits.double(), target, 0.5),
    )


@pytest.mark.property
@given(
    shape=cs.shapes(min_dims=4, max_dims=4, max_side=4),
    eps=st.sampled_from([1e-3, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_soft_dice_loss_matches_torch_for_any_shapes(shape, eps, seed):
    rng = np.random.default_rng(seed)
    N, C, H, W = shape
    logits = torch.from_numpy(rng.standard_normal((N, C, W, H))).transpose(2, 3)  # strided
    target = torch.from_numpy(rng.integers(0, C, (N, H, W)))
    loss = call(mod.soft_dice_loss, logits, target, eps=eps)
    assert_close(
        as_numpy(loss, "the loss"),
        oracle.soft_dice_loss(logits, target, eps).detach(),
        tol="reduction",
        name="the loss",
        mistakes=dice_slips(logits, target, eps),
    )


@pytest.mark.oracle
def test_soft_dice_loss_gradient_matches_torch(rng):
    logits = torch.from_numpy(rng.standard_normal((2, 4, 3, 3))).requires_grad_()
    target = torch.from_numpy(rng.integers(0, 4, (2, 3, 3)))
    loss = call(mod.soft_dice_loss, logits, target)
    assert_true(
        isinstance(loss, torch.Tensor) and loss.requires_grad,
        "soft_dice_loss's result "
        "has no gradient: build it from torch ops on logits (no argmax, .numpy(), "
        ".item() or .detach() on the way)",
    )
    loss.backward()
    ref = logits.detach().clone().requires_grad_()
    oracle.soft_dice_loss(ref, target).backward()
    sig = logits.detach().clone().requires_grad_()
    oracle.soft_dice_loss(sig, target, activation="sigmoid").backward()
    assert_close(
        logits.grad.numpy(),
        ref.grad,
        tol="grad",
        name="d loss / d logits",
        mistakes={"a sigmoid per channel instead of a softmax": sig.grad},
    )


@pytest.mark.edge
def test_soft_dice_loss_is_zero_for_confident_correct_logits():
    target = torch.tensor([[[0, 1], [1, 0]]])  # class 2 absent: eps makes its Dice 1
    logits = 1000.0 * F.one_hot(target, 3).permute(0, 3, 1, 2).double()  # exp(1000) overflows
    loss = call(mod.soft_dice_loss, logits, target)
    value = float(as_numpy(loss, "the loss"))
    assert_true(
        np.isfinite(value) and abs(value) < 1e-9,
        f"with logits 1000 on the true class "
        f"the loss must be 0 (and finite: softmax subtracts the max); got {value}",
    )


# Measured with the reference solution, seeds 0-19 (one thread, 8-11 s of CPU each): 512
# training images of 32x32, UNet(base=16, depth=2), 10 epochs of batch 16, Adam with a
# one-cycle schedule up to lr 0.01, cross-entropy + soft Dice: mean IoU on 200 new images
# 0.972-0.995. Narrower nets are cheaper but fragile: with base=8 (depth 2 or 3) about one
# seed in ten never learned to predict triangles at all (mean IoU 0.64-0.67, triangles
# labelled circles).
BAR = 0.9
CONFIG = {"epochs": 10, "batch_size": 16, "lr": 0.01}


@pytest.mark.training
def test_unet_learns_to_segment_shapes():
    rng = np.random.default_rng(0)
    X, Y = oracle.make_shapes(512, 32, rng)
    X_test, Y_test = oracle.make_shapes(200, 32, rng)
    torch.manual_seed(0)
    net = call(mod.UNet, 1, 4, base=16, depth=2)
    history = oracle.fit(net, mod.soft_dice_loss, X, Y, rng=rng, **CONFIG)
    pred = oracle.predict(net, X_test)
    want = oracle.scores(pred, Y_test, 4)
    per_class = ", ".join(f"{c} {v:.3f}" for c, v in zip(oracle.CLASSES, want["iou"].tolist()))
    note(
        f"segmentation: your U-Net on 200 new 32x32 shape images (generated, no download): "
        f"mean IoU {want['mean_iou']:.4f} ({per_class}); the bar is {BAR}"
    )
    assert_true(
        want["mean_iou"] >= BAR,
        f"after {CONFIG['epochs']} epochs the mean IoU on new images is "
        f"{want['mean_iou']:.4f} ({per_class}); a correct U-Net reaches {BAR}. Loss per "
        f"epoch (cross-entropy + your soft Dice): {', '.join(f'{h:.3f}' for h in history)}",
    )
    got = call(mod.mean_iou, pred, Y_test, 4)
    assert_close(np.float64(got), want["mean_iou"], tol="elementwise", name="mean IoU")
