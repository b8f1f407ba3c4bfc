"""visualize.py: filter and activation grids vs a torch construction; PNGs read back."""

import math

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_png, assert_true, call, kata
from reference.oracles import numpy, tensor
from reference.oracles import visualize as oracle

vis = kata("03_cnn/visualize")
SLIPS = {"one scale for all filters, not each filter on its own": {"scale": "global"},
         "each tile transposed (kH and kW swapped)": {"transpose": True},
         "tiles placed column by column; filter k goes to row k // cols, column k % cols":
         {"column_major": True},
         "off by one: tiles start at pixel 0, with no border above and left of the grid":
         {"lead_border": False}}  # fmt: skip


def filters(rng, shape, dtype=np.float64):
    """Filters on very different scales and offsets, as trained filters are."""
    n = shape[0]
    w = rng.standard_normal(shape) * rng.uniform(0.05, 3, (n, 1, 1, 1)) + rng.normal(
        0, 1, (n, 1, 1, 1)
    )
    return w.astype(dtype)


def check_grid(image, w, pad_value=0.5, dtype=np.float64):
    __tracebackhide__ = True
    n, C, kH, kW = w.shape
    rows, cols = oracle.grid_shape(n)
    shape = (rows * (kH + 1) + 1, cols * (kW + 1) + 1) + ((3,) if C == 3 else ())
    got = np.shape(image)
    assert_true(got == shape, f"{n} filters of {kH}x{kW} in a grid of {rows} x {cols} with "
                f"1-pixel borders make an image of {shape} for C = {C}; got {got}"
                + (" (channels first: matplotlib wants channels last, (H, W, 3))"
                   if got == (3,) + shape[:2] else "")
                + (" (grey must be 2-D (H, W), without a channel axis)"
                   if got == shape + (1,) else ""))  # fmt: skip
    slips = {k: oracle.tile_filters(w, pad_value, **kw) for k, kw in SLIPS.items()}
    if C == 3:
        slips["each colour channel on its own scale (the colours change)"] = oracle.tile_filters(
            w, pad_value, scale="channel")  # fmt: skip
    assert_close(image, oracle.tile_filters(w, pad_value), name="image", dtype=dtype,
                 mistakes=slips)  # fmt: skip


@pytest.mark.oracle
def test_tile_filters_matches_torch_for_grey_filters(rng):
    w = filters(rng, (10, 1, 5, 5))  # 3 rows of 4: two empty cells at the end
    check_grid(call(vis.tile_filters, w), w)


@pytest.mark.oracle
def test_tile_filters_keeps_colour_filters_in_colour(rng):
    w = filters(rng, (6, 3, 3, 3))
    w[:, 0] *= 4  # a red-heavy filter bank: scaling each colour on its own would hide it
    check_grid(call(vis.tile_filters, w), w)


@pytest.mark.oracle
def test_tile_filters_keeps_float32_and_uses_pad_value(rng):
    w = filters(rng, (5, 3, 4, 2), np.float32)
    check_grid(call(vis.tile_filters, w, pad_value=1.0), w, pad_value=1.0, dtype=np.float32)


@pytest.mark.property
@given(n=st.integers(1, 12), C=st.sampled_from([1, 3]), kH=st.integers(1, 5),
       kW=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_every_filter_spans_0_to_1_at_its_place_in_the_grid(n, C, kH, kW, seed):
    w = filters(np.random.default_rng(seed), (n, C, kH, kW))
    w[0] = 2.0  # a constant filter must come out as zeros, without NaN
    image = call(vis.tile_filters, w, pad_value=0.25)
    check_grid(image, w, pad_value=0.25)
    _, cols = oracle.grid_shape(n)
    for k in range(n):
        top, left = 1 + (k // cols) * (kH + 1), 1 + (k % cols) * (kW + 1)
        tile, hi = image[top : top + kH, left : left + kW], float(k > 0 and C * kH * kW > 1)
        where = f"grid row {k // cols}, column {k % cols}, top-left pixel ({top}, {left})"
        assert_true(tile.min() == 0 and abs(tile.max() - hi) <= 1e-12,
                    f"filter {k} ({where}) must span [0, {hi}] (a constant one: 0); got "
                    f"[{tile.min():.4g}, {tile.max():.4g}]")  # fmt: skip


@pytest.mark.edge
def test_constant_and_zero_filters_become_zero_not_nan(rng):
    w = filters(rng, (4, 1, 3, 3), np.float32)
    w[1], w[2] = 0.0, -7.5  # a dead filter and a constant one
    with np.errstate(all="ignore"):  # the check is the result, not the warnings
        image = call(vis.tile_filters, w)
    check_grid(image, w, dtype=np.float32)


@pytest.mark.edge
def test_a_single_filter_gets_a_border_all_around(rng):
    w = filters(rng, (1, 1, 2, 3))
    image = call(vis.tile_filters, w, pad_value=0.5)
    check_grid(image, w)


@pytest.mark.edge
@pytest.mark.parametrize("C", [2, 8])
def test_tile_filters_refuses_channel_counts_that_are_not_an_image(C, rng):
    with pytest.raises(ValueError):
        call(vis.tile_filters, filters(rng, (4, C, 3, 3)))


def conv_relu(w):
    """A layer as a function of batches: torch's conv2d then ReLU (float64)."""
    seen = []

    def layer_fn(batch):
        seen.append(np.shape(batch))
        return numpy(F.relu(F.conv2d(tensor(batch), tensor(w))))

    return layer_fn, seen


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(3, 9, 7), (9, 7)])
def test_activation_maps_runs_one_image_as_a_batch_of_one(shape, rng):
    x, w = rng.standard_normal(shape), rng.standard_normal((5, 3 if len(shape) == 3 else 1, 3, 3))
    layer_fn, seen = conv_relu(w)
    maps = call(vis.activation_maps, x, layer_fn)
    want = (1, *x.shape) if x.ndim == 3 else (1, 1, *x.shape)
    assert_true(seen == [want], f"activation_maps(x of {x.shape}, layer_fn) must call layer_fn "
                f"once with a batch of one image, {want}; it was called with {seen}")  # fmt: skip
    assert_close(maps, F.relu(F.conv2d(tensor(x).reshape(want), tensor(w)))[0], name="maps")


@pytest.mark.oracle
def test_tile_activations_matches_torch(rng):
    a = np.maximum(rng.standard_normal((7, 6, 5)) * rng.uniform(0.1, 5, (7, 1, 1)), 0)
    a[3] = 0.0  # a dead channel
    image = call(vis.tile_activations, a)
    check_grid(image, a[:, None])


def read_back(path):
    import matplotlib.image  # here: importing matplotlib takes a while

    assert_png(path, "save_png(image, path)")
    return matplotlib.image.imread(path)


@pytest.mark.parametrize("colour", [False, True])
def test_save_png_writes_the_image_pixel_for_pixel(colour, rng, tmp_path):
    shape = (11, 17, 3) if colour else (11, 17)
    image = rng.uniform(0.2, 0.7, shape)  # not spanning [0, 1]: no contrast stretch allowed
    call(vis.save_png, image, tmp_path / "grid.png")
    back = read_back(tmp_path / "grid.png")
    assert_true(back.shape[:2] == shape[:2],
                f"the PNG must have {shape[0]} rows and {shape[1]} columns of pixels (no axes, "
                f"no margins); it reads back as {back.shape[:2]}")  # fmt: skip
    rgb = back[..., :3] if colour else back[..., :3] if back.ndim == 3 else back[..., None]
    want = image if colour else np.repeat(image[..., None], rgb.shape[-1], axis=-1)
    err = float(np.abs(rgb - want).max())
    how = ("a colour image is written as is" if colour
           else "grey needs cmap='gray' with vmin=0, vmax=1 (no contrast stretch)")  # fmt: skip
    assert_true(err <= 2 / 255, f"the PNG's pixels differ from the image by up to {err:.3f} (a "
                f"256-level colour map and 8-bit pixels allow 2/255): {how}")  # fmt: skip


@pytest.mark.edge
def test_a_grid_of_real_filters_saves_and_reads_back(rng, tmp_path):
    w = filters(rng, (16, 3, 5, 5))
    image = call(vis.tile_filters, w)
    call(vis.save_png, image, tmp_path / "filters.png")
    back = read_back(tmp_path / "filters.png")
    assert_true(back.shape[:2] == (25, 25) and math.isclose(back[0, 0, 0], 0.5, abs_tol=1 / 255),
                f"16 colour 5x5 filters must save as a 25 x 25 PNG with grey (0.5) borders; got "
                f"{back.shape} with corner {back[0, 0]}")  # fmt: skip
