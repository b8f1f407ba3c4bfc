"""image_augmentation.py: resized crop, flip, colour jitter, normalisation and the pipeline.

Applies are compared with torchvision's formulas written in torch (F.interpolate, _blend and
clamp); draws are replayed from the documented rng calls and checked by their statistics.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import image_augmentation as oracle

aug = kata("03_cnn/image_augmentation")
SEED = st.integers(0, 2**32 - 1)
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def images(rng, shape, dtype=np.float64):
    return rng.random(shape).astype(dtype)  # in [0, 1): images after ToTensor


@st.composite
def pictures(draw, channels=(1, 3), max_side=7):
    """A float image (C, H, W) or batch (N, C, H, W) in [0, 1], in a drawn layout."""
    c, h, w = (
        draw(st.sampled_from(channels)),
        draw(st.integers(1, max_side)),
        draw(st.integers(1, max_side)),
    )
    shape = ((draw(st.integers(1, 3)),) if draw(st.booleans()) else ()) + (c, h, w)
    return draw(cs.arrays(shape, min_value=0.0, max_value=1.0))


# ----------------------------------------------------------------------------- crop parameters

CROP_CASES = [
    (32, 32, (0.08, 1.0), (3 / 4, 4 / 3)),
    (20, 45, (0.08, 1.0), (3 / 4, 4 / 3)),
    (40, 30, (0.3, 0.6), (0.5, 2.0)),
    (9, 9, (0.5, 1.0), (1.5, 2.0)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("height, width, scale, ratio", CROP_CASES)
def test_resized_crop_params_replay_the_documented_draws(height, width, scale, ratio):
    for seed in range(20):
        rng = np.random.default_rng(seed)
        got = call(aug.resized_crop_params, height, width, rng, scale, ratio)
        want, *slips = [
            oracle.resized_crop_params(height, width, np.random.default_rng(seed), scale, ratio, v)
            for v in ("torchvision", "uniform-ratio", "h-over-w")
        ]
        labels = ["the aspect ratio drawn uniformly, not log-uniformly", "w and h swapped"]
        known = [label for label, slip in zip(labels, slips) if tuple(got) == slip]
        assert_true(
            tuple(got) == want,
            f"resized_crop_params({height}, {width}, rng(seed={seed}), {scale}, {ratio}) "
            f"returned {got}; replaying the documented draws gives {want} (top, left, h, w).\n"
            + (
                f"Likely mistake: {known[0]}."
                if known
                else "Draw per attempt: rng.uniform(*scale), rng.uniform(log ratio range); "
                "then, on a hit, rng.integers for top, then left."
            ),
        )


def crop_stats(rng, n, height, width, scale, ratio):
    """n boxes from one rng: the first through call() (messages), the rest directly (speed)."""
    first = call(aug.resized_crop_params, height, width, rng, scale, ratio)
    draw = aug.resized_crop_params
    boxes = np.array([first] + [draw(height, width, rng, scale, ratio) for _ in range(n - 1)])
    return boxes, np.log(boxes[:, 3] / boxes[:, 2]), boxes[:, 2] * boxes[:, 3] / (height * width)


def test_resized_crop_aspect_ratio_is_log_uniform(rng):
    """Small areas never miss, so log(w / h) is exactly Uniform(log 1/2, log 2) (up to rounding)."""
    n = 2000
    _, log_r, area = crop_stats(rng, n, 1000, 1000, (0.1, 0.2), (0.5, 2.0))
    wide, bound = np.mean(log_r > 0), 5 * math.sqrt(0.25 / n)
    assert_true(
        abs(wide - 0.5) <= bound,
        f"{wide:.1%} of the crops came out wider than tall with ratio=(0.5, 2.0); a "
        "log-uniform ratio makes that 50% (a uniform one 67%): draw log(ratio) uniformly, "
        "then exponentiate.",
    )
    q1, q3 = np.quantile(log_r, [0.25, 0.75])
    assert_true(
        abs(q1 + math.log(2) / 2) < 0.07 and abs(q3 - math.log(2) / 2) < 0.07,
        f"log(w / h) has quartiles {q1:.3f}, {q3:.3f}; a log-uniform ratio on (0.5, 2) "
        f"gives {-math.log(2) / 2:.3f}, {math.log(2) / 2:.3f}",
    )
    assert_true(
        abs(area.mean() - 0.15) < 5 * 0.1 / math.sqrt(12 * n) + 0.002
        and area.min() > 0.099
        and area.max() < 0.201,
        f"crop areas as fractions of the image: mean {area.mean():.4f}, range "
        f"[{area.min():.4f}, {area.max():.4f}]; with scale=(0.1, 0.2) expected mean 0.15 "
        "within [0.1, 0.2]: the area fraction is uniform in scale",
    )


def test_resized_crop_ratio_is_width_over_height(rng):
    _, log_r, _ = crop_stats(rng, 300, 500, 500, (0.1, 0.3), (1.5, 2.0))
    lo, hi = np.exp(log_r.min()), np.exp(log_r.max())
    assert_true(
        lo > 1.45 and hi < 2.05,
        f"with ratio=(1.5, 2.0) the crops' w / h ranged over [{lo:.3f}, {hi:.3f}]; the "
        "ratio is width over height: w = sqrt(area * r), h = sqrt(area / r)",
    )


@pytest.mark.property
@given(height=st.integers(1, 40), width=st.integers(1, 40), seed=SEED)
def test_resized_crop_params_stay_inside_and_repeat_per_seed(height, width, seed):
    top, left, h, w = box = call(
        aug.resized_crop_params, height, width, np.random.default_rng(seed)
    )
    again = call(aug.resized_crop_params, height, width, np.random.default_rng(seed))
    assert_true(
        all(isinstance(v, (int, np.integer)) for v in box) and tuple(again) == tuple(box),
        f"resized_crop_params({height}, {width}, rng) returned {box}, then {again} for the "
        "same seed: four ints, drawn only from the rng passed in",
    )
    assert_true(
        0 <= top and top + h <= height and 0 <= left and left + w <= width and h > 0 < w,
        f"resized_crop_params({height}, {width}, rng) returned (top, left, h, w) = {box}: "
        "not a non-empty box inside the image",
    )


@pytest.mark.edge
@pytest.mark.parametrize(
    "height, width, scale, want",
    [
        (1, 50, (0.9, 1.0), (0, 24, 1, 1)),  # far too wide: h = H, w = round(H * 4/3), centred
        (50, 1, (0.9, 1.0), (24, 0, 1, 1)),  # far too tall
        (10, 12, (1.5, 2.0), (0, 0, 10, 12)),  # areas larger than the image: the whole image
    ],
)
def test_resized_crop_params_fall_back_to_a_centre_crop(height, width, scale, want):
    got = call(aug.resized_crop_params, height, width, np.random.default_rng(0), scale)
    assert_true(
        tuple(got) == want,
        f"resized_crop_params({height}, {width}, rng, scale={scale}) returned {got}; all "
        f"10 attempts miss here, and the fallback gives {want} (top, left, h, w)",
    )


# ----------------------------------------------------------------------------- resized crop


def check_resized_crop(x, box, size, dtype=None):
    __tracebackhide__ = True
    out = call(aug.resized_crop, x, *box, size)
    top, left, h, w = box
    slips = {"align_corners=True": oracle.resized_crop(x, *box, size, align_corners=True)}
    if top + w <= x.shape[-2] and left + h <= x.shape[-1] and h != w:
        slips["height and width swapped"] = oracle.resized_crop(x, top, left, w, h, size)
    assert_close(
        out,
        oracle.resized_crop(x, *box, size),
        name="the resized crop",
        dtype=dtype,
        mistakes=slips,
    )


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape, box, size",
    [
        ((3, 12, 10), (2, 1, 7, 5), (4, 6)),
        ((2, 3, 9, 11), (0, 3, 9, 6), 13),
        ((3, 16, 16), (4, 2, 5, 11), (16, 16)),
    ],
)
def test_resized_crop_matches_torch(shape, box, size, dtype, rng):
    check_resized_crop(images(rng, shape, dtype), box, size, dtype)


@pytest.mark.property
@given(x=pictures(channels=(1, 2, 3)), data=st.data())
def test_resized_crop_matches_torch_for_any_shapes_and_layouts(x, data):
    H, W = x.shape[-2:]
    top, left = data.draw(st.integers(0, H - 1)), data.draw(st.integers(0, W - 1))
    h, w = data.draw(st.integers(1, H - top)), data.draw(st.integers(1, W - left))
    size = (data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9)))
    check_resized_crop(x, (top, left, h, w), size)


@pytest.mark.edge
def test_resized_crop_to_the_same_size_is_a_plain_crop(rng):
    x = images(rng, (3, 8, 9))
    out = call(aug.resized_crop, x, 1, 2, 5, 4, (5, 4))
    assert_close(out, x[:, 1:6, 2:6], name="the crop (no resizing needed)")


# ----------------------------------------------------------------------------- flip


@pytest.mark.oracle
@pytest.mark.parametrize("flip", [True, False])
def test_hflip_matches_torch(flip, rng):
    x = images(rng, (2, 3, 4, 5))
    assert_close(
        call(aug.hflip, x, flip),
        oracle.hflip(x, flip),
        name="the flipped batch",
        mistakes={"flipped upside down (along H)": oracle.hflip(x, flip, dim=-2)},
    )


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_hflip_param_flips_with_probability_p(p, rng):
    n = 4000
    first, draw = call(aug.hflip_param, rng, p), aug.hflip_param
    flips = [first] + [draw(rng, p) for _ in range(n - 1)]
    rate, bound = np.mean(flips), 5 * math.sqrt(p * (1 - p) / n)
    assert_true(
        all(isinstance(f, (bool, np.bool_)) for f in flips) and abs(rate - p) <= bound,
        f"hflip_param(rng, p={p}) returned True for {rate:.3f} of {n} draws; expected "
        f"{p} (a bool: rng.random() < p)",
    )


# ----------------------------------------------------------------------------- colour


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rgb_to_grayscale_matches_torch(dtype, rng):
    x = images(rng, (2, 3, 4, 5), dtype)
    t = oracle.tensor(x)
    assert_close(
        call(aug.rgb_to_grayscale, x),
        oracle.numpy(oracle.grayscale(t)),
        dtype=dtype,
        name="the grey image",
        mistakes={
            "BGR weights (0.114 R + 0.587 G + 0.299 B)": oracle.numpy(
                oracle.grayscale(t, oracle.LUMA[::-1])
            ),
            "the plain mean of R, G, B": x.mean(axis=1, keepdims=True),
            "torchvision's 0.2989 for R (PIL and this kata use 0.299)": oracle.numpy(
                oracle.grayscale(t, (0.2989, 0.587, 0.114))
            ),
        },
    )


ADJUST = ["adjust_brightness", "adjust_contrast", "adjust_saturation"]


def check_adjust(name, x, factor, dtype=None):
    __tracebackhide__ = True
    out = call(getattr(aug, name), x, factor)
    ref = getattr(oracle, name)
    slips = {"no clamp to [0, 1]": ref(x, factor, clamp=False)}
    if name == "adjust_contrast" and x.shape[-3] == 3:
        slips["a mean per channel instead of one grey mean"] = ref(x, factor, per_channel=True)
        if x.ndim == 4:
            grey = oracle.LUMA[0] * x[:, 0] + oracle.LUMA[1] * x[:, 1] + oracle.LUMA[2] * x[:, 2]
            slips["one mean for the whole batch"] = np.clip(
                factor * x + (1 - factor) * grey.mean(), 0, 1
            )
    if name != "adjust_brightness" and x.shape[-3] == 3:
        slips["BGR luma weights"] = ref(x, factor, luma=oracle.LUMA[::-1])
    assert_close(
        out, ref(x, factor), tol="reduction", name=f"{name}'s image", dtype=dtype, mistakes=slips
    )


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("factor", [0.0, 0.6, 1.7])
@pytest.mark.parametrize("name", ADJUST)
def test_adjust_matches_torch(name, factor, dtype, rng):
    check_adjust(name, images(rng, (2, 3, 5, 4), dtype), factor, dtype)
    check_adjust(name, images(rng, (3, 4, 6), dtype), factor, dtype)


@pytest.mark.property
@given(x=pictures(), name=st.sampled_from(ADJUST), factor=st.floats(0, 2))
def test_adjust_matches_torch_for_any_shapes_and_layouts(x, name, factor):
    check_adjust(name, x, factor)


@pytest.mark.property
@given(x=pictures(), name=st.sampled_from(ADJUST))
def test_a_factor_of_one_is_the_identity(x, name):
    assert_close(call(getattr(aug, name), x, 1.0), x, name=f"{name}(x, 1.0)")


def test_jitter_params_replay_the_documented_draws():
    for seed in range(10):
        got = call(aug.jitter_params, np.random.default_rng(seed), 0.4, 0.2, 0.0)
        want = oracle.jitter_params(np.random.default_rng(seed), 0.4, 0.2, 0.0)
        same = (
            isinstance(got, dict)
            and np.array_equal(got.get("order"), want["order"])
            and all(
                np.isclose(got.get(k, np.nan), want[k], rtol=1e-12) for k in want if k != "order"
            )
        )
        assert_true(
            same,
            f"jitter_params(rng(seed={seed}), 0.4, 0.2, 0.0) returned {got}; the "
            f"documented draws give {want}: rng.permutation(3), then one "
            "rng.uniform per factor (brightness, contrast, saturation)",
        )


def test_jitter_params_cover_every_order_and_the_factor_ranges():
    draws = [call(aug.jitter_params, np.random.default_rng(s), 0.4, 0.2, 0.6) for s in range(600)]
    orders = {tuple(int(i) for i in d["order"]) for d in draws}
    assert_true(
        len(orders) == 6,
        f"jitter_params drew only the orders {sorted(orders)} in 600 "
        "draws; all 6 permutations of (0, 1, 2) should appear",
    )
    for name, s in (("brightness", 0.4), ("contrast", 0.2), ("saturation", 0.6)):
        f = np.array([d[name] for d in draws])
        assert_true(
            f.min() >= 1 - s and f.max() <= 1 + s and f.max() - f.min() > 1.8 * s,
            f"jitter_params' {name} factors spanned [{f.min():.3f}, {f.max():.3f}]; with "
            f"strength {s} they are uniform on [{1 - s}, {1 + s}]",
        )


@pytest.mark.oracle
@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_color_jitter_matches_torch(order, rng):
    x = images(rng, (2, 3, 5, 6))
    params = {"order": np.array(order), "brightness": 1.3, "contrast": 0.5, "saturation": 1.6}
    fixed = oracle.color_jitter(x, {**params, "order": np.array([0, 1, 2])})
    assert_close(
        call(aug.color_jitter, x, params),
        oracle.color_jitter(x, params),
        tol="reduction",
        name="the jittered batch",
        mistakes={"always brightness, contrast, saturation, ignoring params['order']": fixed}
        if order != (0, 1, 2)
        else None,
    )


# ----------------------------------------------------------------------------- normalise


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_normalize_matches_torch(shape, dtype, rng):
    x = images(rng, shape, dtype)
    mean, std = IMAGENET
    assert_close(
        call(aug.normalize, x, mean, std),
        oracle.normalize(x, mean, std),
        dtype=dtype,
        name="the normalised image",
        mistakes={
            "mean and std swapped: (x - std) / mean": oracle.normalize(x, std, mean),
            "multiplied by std instead of divided": (x - np.array(mean)[:, None, None])
            * np.array(std)[:, None, None],
        },
    )


@pytest.mark.property
@given(x=pictures(), seed=SEED)
def test_denormalize_undoes_normalize(x, seed):
    r = np.random.default_rng(seed)
    c = x.shape[-3]
    mean, std = list(r.uniform(0.2, 0.8, c)), list(r.uniform(0.1, 0.5, c))
    assert_close(
        call(aug.denormalize, call(aug.normalize, x, mean, std), mean, std),
        x,
        tol="reduction",
        name="denormalize(normalize(x))",
    )


# ----------------------------------------------------------------------------- pipeline


def test_compose_applies_in_order_shares_the_rng_and_keeps_the_label(rng):
    seen = []

    def step(tag):
        def t(x, r):
            seen.append((tag, r))
            return x * 2 + tag

        return t

    steps = [step(1), step(2)]
    pipeline = call(aug.compose, steps)
    steps.append(step(3))  # too late: compose copied the list
    label, x = {"class": 7}, np.ones((1, 2, 2))
    out, out_label = call(pipeline, x, label, rng)
    assert_true(
        [tag for tag, _ in seen] == [1, 2] and all(r is rng for _, r in seen),
        f"compose([t1, t2]) then pipeline(x, label, rng) ran the steps "
        f"{[t for t, _ in seen]}, given the rng passed in: {[r is rng for _, r in seen]}; "
        "expected [1, 2], each given the same rng",
    )
    assert_close(out, (x * 2 + 1) * 2 + 2, name="pipeline's image (t2(t1(x)))")
    assert_true(
        out_label is label,
        f"pipeline returned the label {out_label!r}; expected the "
        f"label it was given, untouched: {label!r}",
    )


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, size", [((3, 20, 24), 8), ((2, 3, 16, 12), (5, 7))])
def test_train_transform_matches_a_torchvision_replay(shape, size, dtype, rng):
    x = images(rng, shape, dtype)
    mean, std = IMAGENET
    pipeline = call(aug.train_transform, size, mean, std)
    for seed in range(6):
        out, label = call(pipeline, x, 3, np.random.default_rng(seed))
        want = oracle.train_transform(x, np.random.default_rng(seed), size, mean, std)
        assert_close(
            out, want, tol="reduction", dtype=dtype, name=f"the augmented image (seed {seed})"
        )
        assert_true(label == 3, f"train_transform's pipeline turned the label 3 into {label!r}")


@pytest.mark.property
@given(seed=SEED, n=st.sampled_from([0, 1, 3]))
def test_train_transform_is_deterministic_per_seed(seed, n):
    x = images(np.random.default_rng(seed), ((n,) if n else ()) + (3, 9, 7), np.float32)
    pipeline = call(aug.train_transform, (4, 5), *IMAGENET)
    a, _ = call(pipeline, x, None, np.random.default_rng(seed))
    b, _ = call(pipeline, x, None, np.random.default_rng(seed))
    assert_true(
        a.shape == x.shape[:-2] + (4, 5) and a.dtype == np.float32,
        f"train_transform((4, 5), ...) turned {x.dtype} {x.shape} into {a.dtype} {a.shape}",
    )
    assert_close(b, a, name="the same pipeline, same seed, second run")
