"""pooling.py: max, average, adaptive and pyramid pooling, checked against torch + autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import pooling as oracle
from reference.oracles import tensor

pool = kata("03_cnn/pooling")
# (kernel_size, stride, padding): square, overlapping (stride < kernel), rectangular
CONFIGS = {"2x2 s2": (2, None, 0), "3x3 s2 p1 overlapping": (3, 2, 1),
           "3x3 s1 p1 overlapping": (3, 1, 1),
           "(2,3) s(1,2) p(1,1)": ((2, 3), (1, 2), (1, 1))}  # fmt: skip


def unpack(result, fn):
    __tracebackhide__ = True
    assert_true(isinstance(result, tuple) and len(result) == 2,
                f"{fn} must return a tuple (out, cache); got {type(result).__name__}"
                f"{' of ' + str(len(result)) if isinstance(result, tuple) else ''}")  # fmt: skip
    return result


def out_shape(x, k, s, p):
    k, s, p = oracle.pair(k), oracle.pair(k if s is None else s), oracle.pair(p)
    return x.shape[:2] + tuple((x.shape[2 + i] + 2 * p[i] - k[i]) // s[i] + 1 for i in (0, 1))


def check_maxpool(x, k, s, p, dout=None, dtype=np.float64):
    __tracebackhide__ = True
    out, cache = unpack(
        call(pool.maxpool2d_forward, x, k, stride=s, padding=p), "maxpool2d_forward"
    )
    want, want_dx = oracle.maxpool(x, k, s, p, dout)
    zero_out, zero_dx = oracle.maxpool_zero_pad(x, k, s, p, dout)
    zero_pad = {"padding with 0 instead of -inf (the pad beat negative pixels)": zero_out}
    assert_close(out, want, tol="elementwise", name="out", dtype=dtype, mistakes=zero_pad)
    if dout is not None:
        dx = call(pool.maxpool2d_backward, dout, cache)
        slips = oracle.maxpool_backward_slips(x, k, s, p, dout)
        slips["padding with 0 instead of -inf: the pad took the gradient"] = zero_dx
        assert_close(dx, want_dx, tol="grad", name="dx", dtype=dtype, mistakes=slips)


def check_avgpool(x, k, s, p, include, dout=None, dtype=np.float64):
    __tracebackhide__ = True
    result = call(pool.avgpool2d_forward, x, k, stride=s, padding=p, count_include_pad=include)
    out, cache = unpack(result, "avgpool2d_forward")
    want, want_dx = oracle.avgpool(x, k, s, p, include, dout)
    other_out, other_dx = oracle.avgpool(x, k, s, p, not include, dout)
    slip = f"count_include_pad={not include} used where it is {include}"
    assert_close(out, want, tol="reduction", name="out", dtype=dtype, mistakes={slip: other_out})
    if dout is not None:
        dx = call(pool.avgpool2d_backward, dout, cache)
        assert_close(dx, want_dx, tol="grad", name="dx", dtype=dtype, mistakes={slip: other_dx},
                     factors={"kH*kW": np.prod(oracle.pair(k))})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("config", CONFIGS)
def test_maxpool_forward_matches_torch(config, rng):
    check_maxpool(rng.standard_normal((2, 3, 7, 8)), *CONFIGS[config])


@pytest.mark.oracle
@pytest.mark.parametrize("config", CONFIGS)
def test_maxpool_backward_matches_torch(config, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    check_maxpool(x, *CONFIGS[config], dout=rng.standard_normal(out_shape(x, *CONFIGS[config])))


@pytest.mark.oracle
@pytest.mark.parametrize("include", [True, False], ids=["count_include_pad", "real_pixels_only"])
@pytest.mark.parametrize("config", CONFIGS)
def test_avgpool_forward_and_backward_match_torch(config, include, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    dout = rng.standard_normal(out_shape(x, *CONFIGS[config]))
    check_avgpool(x, *CONFIGS[config], include, dout)


def test_pools_keep_float32(rng):
    x = rng.standard_normal((2, 3, 6, 7)).astype(np.float32)
    dout = rng.standard_normal(out_shape(x, 3, 2, 1)).astype(np.float32)
    check_maxpool(x, 3, 2, 1, dout, dtype=np.float32)
    check_avgpool(x, 3, 2, 1, False, dout, dtype=np.float32)
    for fn, args in ((pool.global_avgpool, ()), (pool.adaptive_avgpool2d, (3,)),
                     (pool.adaptive_maxpool2d, (3,)), (pool.spatial_pyramid_pool, ())):  # fmt: skip
        out = call(fn, x, *args)
        got = getattr(out, "dtype", type(out).__name__)
        assert_true(got == np.float32, f"{fn.__name__} must keep float32: got {got}")


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_global_avgpool_matches_torch(dtype, rng):
    x = rng.standard_normal((3, 4, 5, 6)).astype(dtype)
    want = F.adaptive_avg_pool2d(tensor(x), 1).flatten(1)
    assert_close(call(pool.global_avgpool, x), want, tol="reduction", dtype=dtype,
                 factors={"H*W": 30})  # fmt: skip


ADAPTIVE = {"avg": (F.adaptive_avg_pool2d, np.mean, "reduction"),
            "max": (F.adaptive_max_pool2d, np.max, "elementwise")}  # fmt: skip


def check_adaptive(kind, x, size):
    __tracebackhide__ = True
    torch_fn, reduce, tol = ADAPTIVE[kind]
    out = call(getattr(pool, f"adaptive_{kind}pool2d"), x, size)
    want = torch_fn(tensor(x), size)
    floor_end = oracle.floor_end_bins(x, size, reduce)
    slips = {} if floor_end is None else {"bins ending at floor((i+1)*H/out), not ceil": floor_end}
    assert_close(out, want, tol=tol, mistakes=slips)


@pytest.mark.oracle
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (4, 4), (7, 8)], ids=str)
@pytest.mark.parametrize("kind", ADAPTIVE)
def test_adaptive_pools_match_torch(kind, size, rng):
    check_adaptive(kind, rng.standard_normal((2, 3, 7, 8)), size)


@pytest.mark.oracle
@pytest.mark.parametrize("levels", [(1, 2, 4), (3, 1)], ids=str)
def test_spatial_pyramid_pool_matches_torch(levels, rng):
    x = rng.standard_normal((2, 3, 9, 6))
    want = oracle.spp(x, levels)
    slips = {"the levels concatenated in reverse order": oracle.spp(x, levels[::-1]),
             "each level flattened (bin_y, bin_x, C) instead of (C, bin_y, bin_x)": torch.cat(
                 [F.adaptive_max_pool2d(tensor(x), lv).permute(0, 2, 3, 1).flatten(1)
                  for lv in levels], dim=1)}  # fmt: skip
    assert_close(call(pool.spatial_pyramid_pool, x, levels), want, tol="elementwise",
                 mistakes=slips)  # fmt: skip


@pytest.mark.property
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       data=st.data(), include=st.booleans(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_pools_match_torch_for_any_shapes_and_layouts(n, c, h, w, k, s, data, include, seed):
    p = (data.draw(st.integers(0, k[0] // 2)), data.draw(st.integers(0, k[1] // 2)))
    assume(h + 2 * p[0] >= k[0] and w + 2 * p[1] >= k[1])
    x = data.draw(cs.arrays((n, c, h, w)), label="x")  # values repeat often: ties get tested
    dout = cs.noncontiguous(np.random.default_rng(seed).standard_normal(out_shape(x, k, s, p)))
    check_maxpool(x, k, s, p, dout)
    check_avgpool(x, k, s, p, include, dout)
    size = (data.draw(st.integers(1, 8)), data.draw(st.integers(1, 8)))
    check_adaptive(data.draw(st.sampled_from(sorted(ADAPTIVE))), x, size)


@pytest.mark.edge
@pytest.mark.parametrize("config", ["2x2 s2", "3x3 s1 p1 overlapping"])
def test_a_tie_sends_the_gradient_to_the_first_maximum(config):
    """Whole windows of equal values: torch picks the first maximum in row-major order."""
    x = np.array([[1, 2, 2, 0, 5], [2, 1, 0, 2, 5], [3, 3, 3, 3, 5], [3, 3, 3, 3, 5.0]])
    x = np.stack([x, np.full((4, 5), -1.0)])[None]  # (1, 2, 4, 5): channel 1 all tied
    k, s, p = CONFIGS[config]
    shape = out_shape(x, k, s, p)
    check_maxpool(x, k, s, p, dout=np.arange(1.0, 1 + np.prod(shape)).reshape(shape))


@pytest.mark.edge
def test_overlapping_windows_add_their_gradients(rng):
    """A 3x3 stride-1 pool: the large pixel is the maximum of all 9 windows around it."""
    x = rng.uniform(-1, 0, (1, 1, 5, 5))
    x[0, 0, 2, 2] = 10.0
    dout = rng.uniform(0.5, 1.5, (1, 1, 3, 3))
    check_maxpool(x, 3, 1, 0, dout)


@pytest.mark.edge
def test_negative_inputs_never_pick_the_padding(rng):
    """All pixels below 0 with padding 1: a zero pad would win every border window."""
    x = -rng.uniform(1, 2, (2, 2, 5, 6))
    dout = rng.standard_normal(out_shape(x, 3, 2, 1))
    check_maxpool(x, 3, 2, 1, dout)


@pytest.mark.edge
def test_corner_windows_divide_by_their_real_pixels(rng):
    """count_include_pad=False: a 3x3 corner window with padding 1 holds 4 real pixels."""
    x = rng.uniform(1, 2, (1, 2, 5, 5))
    dout = rng.standard_normal(out_shape(x, 3, 2, 1))
    check_avgpool(x, 3, 2, 1, False, dout)
    check_avgpool(x, 3, 2, 1, True, dout)


@pytest.mark.edge
@pytest.mark.parametrize("kind", ADAPTIVE)
def test_adaptive_bins_overlap_when_sizes_do_not_divide(kind, rng):
    """7 rows into 3 bins: rows [0, 3), [2, 5), [4, 7); 5 rows into 7 bins repeat rows."""
    x = rng.standard_normal((2, 2, 7, 5))
    check_adaptive(kind, x, (3, 4))
    check_adaptive(kind, x, (7, 7))


@pytest.mark.edge
def test_spatial_pyramid_pool_has_one_length_for_any_image_size(rng):
    outs = [call(pool.spatial_pyramid_pool, rng.standard_normal((2, 3, h, w)))
            for h, w in ((4, 4), (9, 6), (13, 5))]  # fmt: skip
    got = [getattr(o, "shape", type(o).__name__) for o in outs]
    assert_true(all(shape == (2, 3 * 21) for shape in got),
                "spatial_pyramid_pool must return (N, C * (1 + 4 + 16)) = (2, 63) for every "
                f"image size; got {got}")  # fmt: skip
