"""augmentation.py: crop, flip, noise, cutout and mixup; draws checked by statistics, applies
against the same operations in torch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import augmentation as oracle

aug = kata("02_training/augmentation")
DTYPES = [np.float64, np.float32, np.uint8]
SEED = st.integers(0, 2**32 - 1)


def images(rng, shape, dtype=np.float64):
    """A batch with values that tell pixels apart (uint8: 1..255, never 0)."""
    if np.dtype(dtype) == np.uint8:
        return rng.integers(1, 256, shape).astype(np.uint8)
    return (rng.standard_normal(shape) + 3.0).astype(dtype)  # non-zero: a cut pixel shows


@st.composite
def batches(draw, min_side=1, max_side=6):
    """(N, C, H, W) float64 images in a drawn layout, plus a seed."""
    side = st.integers(min_side, max_side)
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(side), draw(side))
    return draw(cs.arrays(shape, min_value=0.5, max_value=5.0)), draw(SEED)


def check_int_draws(name, draws, shape, low, high):
    """Integer draws of `shape` in [low, high], each value seen, counts within 5 sigma."""
    __tracebackhide__ = True
    assert_true(isinstance(draws, np.ndarray) and draws.shape == shape
                and np.issubdtype(draws.dtype, np.integer),
                f"{name} must return an integer array of shape {shape}; got "
                f"{getattr(draws, 'dtype', type(draws))} "
                f"{getattr(draws, 'shape', '')}")  # fmt: skip
    for axis in range(shape[1]):
        col = draws[:, axis]
        values = np.arange(low[axis], high[axis] + 1)
        counts = np.array([np.sum(col == v) for v in values])
        n, k = len(col), len(values)
        sigma = np.sqrt(n * (1 / k) * (1 - 1 / k))
        assert_true(col.min() >= low[axis] and col.max() <= high[axis] and counts.min() > 0,
                    f"{name}: column {axis} must take every value from {low[axis]} to "
                    f"{high[axis]}; over {n} draws it took {np.unique(col).tolist()}"
                    + (" (one value for the whole batch? draw one per image)"
                       if np.ptp(col) == 0 else ""))  # fmt: skip
        assert_true(np.all(np.abs(counts - n / k) <= 5 * sigma),
                    f"{name}: column {axis} is not uniform: counts {counts.tolist()} for values "
                    f"{values.tolist()} (expected about {n / k:.0f} each)")  # fmt: skip
    if shape[1] == 2 and high[0] == high[1] > 0:
        same = np.mean(draws[:, 0] == draws[:, 1])
        assert_true(same < 2 / (high[0] + 1),
                    f"{name}: both columns agree in {same:.0%} of the draws: draw them "
                    "independently, not one value for both")  # fmt: skip


def check_reproducible(fn, *args):
    __tracebackhide__ = True
    a = call(fn, *args, np.random.default_rng(11))
    b = call(fn, *args, np.random.default_rng(11))
    c = call(fn, *args, np.random.default_rng(12))
    flat = [np.ravel(np.asarray(v, dtype=float)) for v in (a, b, c)] if not isinstance(
        a, tuple) else [np.concatenate([np.ravel(v) for v in r]) for r in (a, b, c)]  # fmt: skip
    assert_true(np.array_equal(flat[0], flat[1]) and not np.array_equal(flat[0], flat[2]),
                f"{fn.__name__} must draw from the rng it is given: the same seed must give the "
                "same result, another seed another (np.random.* ignores the seed)")  # fmt: skip


# ----------------------------------------------------------------------------- random crop


def check_crop(x, offsets, pad, dtype=None):
    __tracebackhide__ = True
    out = call(aug.crop, x, offsets, pad)
    swapped = {"(top, left) swapped": oracle.crop(x, offsets[:, ::-1], pad)}
    assert_close(out, oracle.crop(x, offsets, pad), name="the crop", dtype=dtype,
                 mistakes=swapped if x.shape[2] != x.shape[3] else None)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_crop_matches_torch(dtype, rng):
    x = images(rng, (5, 3, 6, 5), dtype)
    offsets = np.array([[0, 0], [4, 4], [0, 4], [3, 1], [2, 2]])  # corners of the padded image
    check_crop(x, offsets, 2, dtype)


@pytest.mark.property
@given(batch=batches(), pad=st.integers(0, 3))
def test_crop_matches_torch_for_any_shapes_and_layouts(batch, pad):
    x, seed = batch
    check_crop(x, np.random.default_rng(seed).integers(0, 2 * pad + 1, (x.shape[0], 2)), pad)


@pytest.mark.edge
def test_crop_without_padding_is_the_identity(rng):
    x = images(rng, (3, 2, 4, 5))
    check_crop(x, np.zeros((3, 2), dtype=np.int64), 0)


def test_crop_offsets_reach_every_position_uniformly(rng):
    pad = 3
    offsets = call(aug.crop_offsets, 3000, pad, rng)
    check_int_draws("crop_offsets", offsets, (3000, 2), (0, 0), (2 * pad, 2 * pad))


def test_crop_offsets_are_reproducible_from_the_seed():
    check_reproducible(aug.crop_offsets, 50, 4)


# ----------------------------------------------------------------------------- horizontal flip


def check_flip(x, flip, dtype=None):
    __tracebackhide__ = True
    out = call(aug.hflip, x, flip)
    slips = {"flipped upside down (along H, not W)": oracle.hflip(x, flip, dim=2),
             "every image flipped": oracle.hflip(x, np.ones(len(x), dtype=bool))}  # fmt: skip
    assert_close(out, oracle.hflip(x, flip), name="the flipped batch", dtype=dtype,
                 mistakes=slips)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_hflip_matches_torch(dtype, rng):
    check_flip(images(rng, (4, 3, 5, 6), dtype), np.array([True, False, True, False]), dtype)


@pytest.mark.property
@given(batch=batches())
def test_hflip_matches_torch_for_any_shapes_and_layouts(batch):
    x, seed = batch
    check_flip(x, np.random.default_rng(seed).random(x.shape[0]) < 0.5)


@pytest.mark.property
@given(batch=batches())
def test_hflip_twice_is_the_identity(batch):
    x, seed = batch
    flip = np.random.default_rng(seed).random(x.shape[0]) < 0.5
    twice = call(aug.hflip, call(aug.hflip, x, flip), flip)
    assert_close(twice, x, name="hflip(hflip(x, flip), flip)")


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_flip_mask_flips_with_probability_p(p, rng):
    n = 20000
    flip = call(aug.flip_mask, n, p, rng)
    assert_true(isinstance(flip, np.ndarray) and flip.dtype == bool and flip.shape == (n,),
                f"flip_mask must return a bool array of shape ({n},); got "
                f"{getattr(flip, 'dtype', type(flip))} {getattr(flip, 'shape', '')}")  # fmt: skip
    rate, bound = flip.mean(), 5 * np.sqrt(p * (1 - p) / n)
    assert_true(abs(rate - p) <= bound,
                f"flip_mask(p={p}) flipped {rate:.4f} of the images; expected p = {p} "
                f"(allowed {bound:.4f}). p is the probability to flip.")  # fmt: skip


def test_flip_mask_is_reproducible_from_the_seed():
    check_reproducible(aug.flip_mask, 100, 0.5)


# ----------------------------------------------------------------------------- Gaussian noise


def check_noise(x, std, seed, dtype=None):
    __tracebackhide__ = True
    out = call(aug.add_noise, x, std, np.random.default_rng(seed))
    eps = np.random.default_rng(seed).standard_normal(x.shape)  # the documented single draw
    slips = {"std squared: a variance where a standard deviation belongs":
             oracle.add_noise(x, std**2, eps)}  # fmt: skip
    assert_close(out, oracle.add_noise(x, std, eps), name="the noisy batch", dtype=dtype,
                 mistakes=slips)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_add_noise_matches_torch(dtype, rng):
    check_noise(images(rng, (3, 2, 4, 5), dtype), 0.5, 2024, dtype)


@pytest.mark.property
@given(x=cs.arrays(cs.shapes(min_dims=1, max_dims=4)), std=st.sampled_from([0.0, 0.1, 2.0]),
       seed=SEED)  # fmt: skip
def test_add_noise_matches_torch_for_any_shapes_and_layouts(x, std, seed):
    check_noise(x, std, seed)


def test_add_noise_has_mean_zero_and_the_requested_std(rng):
    x, std = np.zeros((50, 1, 20, 20)), 0.7
    noise = call(aug.add_noise, x, std, rng) - x
    n, sd = noise.size, noise.std()
    se_sd = std / np.sqrt(2 * n)  # the standard error of a Gaussian sample's std
    assert_true(abs(noise.mean()) <= 5 * std / np.sqrt(n) and abs(sd - std) <= 5 * se_sd,
                f"add_noise(x, std={std}): the noise has mean {noise.mean():.4f} and std "
                f"{sd:.4f}; expected 0 and {std}")  # fmt: skip


def test_add_noise_is_reproducible_from_the_seed():
    check_reproducible(aug.add_noise, np.zeros((2, 1, 3, 3)), 0.5)


# ----------------------------------------------------------------------------- cutout


def check_cutout(x, centers, size, dtype=None):
    __tracebackhide__ = True
    out = call(aug.cutout, x, centers, size)
    slips = {
        "the square shifted to stay inside the image (clip it instead)":
            oracle.cutout(x, centers, size, "shift"),
        "rows or columns wrapped around: negative indices count from the far side":
            oracle.cutout(x, centers, size, "wrap"),
        "a slice with a negative start (x[-2:3] is not rows 0 to 2)":
            oracle.cutout(x, centers, size, "negative-slice"),
        "the center used as the top-left corner":
            oracle.cutout(x, centers + size // 2, size),
    }  # fmt: skip
    assert_close(out, oracle.cutout(x, centers, size), name="the batch after cutout",
                 dtype=dtype, mistakes=slips)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("size", [3, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cutout_matches_torch(size, dtype, rng):
    x = images(rng, (4, 3, 7, 8), dtype)
    check_cutout(x, np.array([[3, 4], [1, 6], [5, 2], [2, 3]]), size, dtype)


@pytest.mark.property
@given(batch=batches(), size=st.integers(0, 8))
def test_cutout_matches_torch_for_any_shapes_layouts_and_sizes(batch, size):
    x, seed = batch
    N, _, H, W = x.shape
    rng = np.random.default_rng(seed)
    check_cutout(x, np.stack([rng.integers(0, H, N), rng.integers(0, W, N)], axis=1), size)


@pytest.mark.edge
@pytest.mark.parametrize("size", [3, 4, 20])
def test_cutout_at_the_corners_is_clipped(size, rng):
    """Centers in all four corners: only the part of the square inside the image is cut."""
    x = images(rng, (4, 2, 6, 7))
    check_cutout(x, np.array([[0, 0], [0, 6], [5, 0], [5, 6]]), size)


def test_cutout_centers_reach_every_pixel_uniformly(rng):
    centers = call(aug.cutout_centers, 3000, 5, 7, rng)
    check_int_draws("cutout_centers(n, height=5, width=7)", centers, (3000, 2), (0, 0), (4, 6))


def test_cutout_centers_are_reproducible_from_the_seed():
    check_reproducible(aug.cutout_centers, 50, 8, 9)


# ----------------------------------------------------------------------------- mixup


def check_mixup(x, y, K, lam, perm, dtype=None):
    __tracebackhide__ = True
    x_mix, y_mix = call(aug.mixup, x, y, K, lam, perm)
    want_x, want_y = oracle.mixup(x, y, K, lam, perm)
    x_slips = {"the images not permuted (each mixed with itself)": x}
    y_slips = {
        "labels mixed with lam and 1 - lam swapped": oracle.mixup(x, y, K, lam, perm, 1 - lam)[1],
        "labels not permuted": oracle.mixup(x, y, K, lam, perm, label_perm=False)[1],
    }
    assert_close(x_mix, want_x, name="x_mix", dtype=dtype, mistakes=x_slips)
    assert_close(y_mix, want_y, name="y_mix", dtype=dtype, mistakes=y_slips)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mixup_matches_torch(dtype, rng):
    x, y = images(rng, (6, 2, 3, 3), dtype), np.array([0, 1, 2, 3, 1, 0])
    check_mixup(x, y, 4, 0.3, np.array([2, 0, 1, 5, 3, 4]), dtype)


@pytest.mark.property
@given(batch=batches(), k=st.integers(1, 5), lam=st.floats(0, 1))
def test_mixup_matches_torch_for_any_shapes_and_layouts(batch, k, lam):
    x, seed = batch
    rng = np.random.default_rng(seed)
    y, perm = rng.integers(0, k, len(x)), rng.permutation(len(x))
    check_mixup(x, y, k, lam, perm)
    _, y_mix = call(aug.mixup, x, y, k, lam, perm)
    assert_true(
        np.allclose(y_mix.sum(axis=1), 1.0) and np.all(y_mix >= 0),
        "every row of y_mix must be a distribution: non-negative, summing to 1",
    )


@pytest.mark.edge
def test_mixup_labels_span_all_classes_even_when_the_batch_lacks_some(rng):
    """Classes 0-2 only, num_classes = 5: y_mix has 5 columns, not y.max() + 1 = 3."""
    check_mixup(images(rng, (4, 1, 2, 2)), np.array([0, 2, 1, 0]), 5, 0.7, np.array([3, 2, 0, 1]))


def test_mixup_lambda_follows_beta_alpha_alpha(rng):
    alpha, n = 0.4, 3000
    draws = [call(aug.mixup_params, 8, alpha, rng) for _ in range(n)]
    lam = np.array([d[0] for d in draws])
    perms_ok = all(np.array_equal(np.sort(d[1]), np.arange(8)) for d in draws)
    assert_true(perms_ok, "mixup_params' perm must be a permutation of 0 .. n - 1")
    want_mean, want_var = 0.5, 1 / (4 * (2 * alpha + 1))  # Beta(a, a): mean 1/2
    m4 = np.mean((lam - lam.mean()) ** 4)
    se_mean, se_var = np.sqrt(lam.var() / n), np.sqrt((m4 - lam.var() ** 2) / n)
    assert_true(np.all((lam >= 0) & (lam <= 1)) and abs(lam.mean() - want_mean) <= 5 * se_mean
                and abs(lam.var() - want_var) <= 5 * se_var,
                f"mixup_params(alpha={alpha}): lam has mean {lam.mean():.3f} and variance "
                f"{lam.var():.3f} over {n} draws; Beta({alpha}, {alpha}) has {want_mean} and "
                f"{want_var:.3f} (allowed {5 * se_var:.3f}). "
                "Draw lam = rng.beta(alpha, alpha).")  # fmt: skip


@pytest.mark.edge
def test_mixup_with_alpha_0_does_not_mix(rng):
    lam, perm = call(aug.mixup_params, 6, 0.0, rng)
    assert_close(lam, np.float64(1.0), name="lam for alpha = 0")


def test_mixup_params_are_reproducible_from_the_seed():
    check_reproducible(aug.mixup_params, 20, 0.4)
