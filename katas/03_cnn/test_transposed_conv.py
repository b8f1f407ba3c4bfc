"""transposed_conv.py: transposed convolution and upsampling, checked against torch."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import transposed_conv as oracle

tc = kata("03_cnn/transposed_conv")
# name: (C_in, C_out, (kH, kW), keyword arguments, with bias)
CONFIGS = {
    "k3 s1": (3, 4, (3, 3), {}, True),
    "k3 s2 p1": (3, 4, (3, 3), dict(stride=2, padding=1), False),
    "k4 s2 p1": (2, 3, (4, 4), dict(stride=2, padding=1), True),
    "k3 s2 p1 op1": (3, 2, (3, 3), dict(stride=2, padding=1, output_padding=1), True),
    "k(2,3) s(2,3) p(1,0) op(1,2) d(2,1)": (2, 3, (2, 3), dict(
        stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(2, 1)), True),
    "groups 2": (4, 6, (3, 3), dict(stride=2, groups=2), True),
}  # fmt: skip
# Scale factors where torch's float32 i * (1 / s) and the exact floor(i / s) agree.
NEAREST_SCALES = [2, 3, 4, 1.5, 2.5, 1.75]


def random_conv(rng, n, c_in, c_out, kernel, hw, groups=1, bias=True, dtype=np.float64):
    x = rng.standard_normal((n, c_in, *hw)).astype(dtype)
    w = rng.standard_normal((c_in, c_out // groups, *kernel)).astype(dtype)
    return x, w, rng.standard_normal(c_out).astype(dtype) if bias else None


def check_conv_transpose(x, w, b, dtype=np.float64, **kw):
    __tracebackhide__ = True
    out = call(tc.conv_transpose2d, x, w, b, **kw)
    want = oracle.conv_transpose2d(x, w, b, **kw)
    assert_close(out, want, tol="matmul", dtype=dtype,
                 mistakes=oracle.conv_transpose2d_slips(x, w, b, **kw))  # fmt: skip


def check_nearest(x, scale, dtype=np.float64):
    __tracebackhide__ = True
    out = call(tc.upsample_nearest, x, scale)
    want = oracle.interpolate(x, scale_factor=scale, mode="nearest")
    assert_close(out, want, tol="elementwise", dtype=dtype, mistakes=oracle.nearest_slips(x, scale))


def check_bilinear(x, size=None, scale=None, align=False, dtype=np.float64):
    __tracebackhide__ = True
    out = call(tc.upsample_bilinear, x, size=size, scale_factor=scale, align_corners=align)
    want = oracle.interpolate(x, size, scale, "bilinear", align)
    assert_close(out, want, tol="reduction", dtype=dtype,
                 mistakes=oracle.bilinear_slips(x, size, scale, align))  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("config", CONFIGS)
def test_conv_transpose2d_matches_torch(config, rng):
    c_in, c_out, kernel, kw, bias = CONFIGS[config]
    x, w, b = random_conv(rng, 2, c_in, c_out, kernel, (4, 5), kw.get("groups", 1), bias)
    check_conv_transpose(x, w, b, **kw)


# (stride, padding, dilation, groups, H): (H + 2p - d(k-1) - 1) % stride != 0 needs output_padding
GRAD_CASES = [(1, 0, 1, 1, 6), (2, 1, 1, 1, 8), (2, 1, 1, 1, 7), (3, 2, 2, 1, 9), (2, 0, 1, 2, 9)]


@pytest.mark.oracle
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups", "H"), GRAD_CASES)
def test_conv_transpose2d_is_the_gradient_of_conv2d(stride, padding, dilation, groups, H, rng):
    """dx of conv2d(x, w) = conv_transpose2d(dout, w): same w, stride, padding, dilation."""
    x = rng.standard_normal((2, 4, H, H + 1))
    w = rng.standard_normal((6, 4 // groups, 3, 3))  # conv2d's (C_out, C_in // groups, k, k)
    conv_out = [(n + 2 * padding - dilation * 2 - 1) // stride + 1 for n in (H, H + 1)]
    dout = rng.standard_normal((2, 6, *conv_out))
    # Stride > 1 forgets the leftover rows conv2d skipped: output_padding gives them back.
    extra = tuple((n + 2 * padding - dilation * 2 - 1) % stride for n in (H, H + 1))
    kw = dict(stride=stride, padding=padding, output_padding=extra, dilation=dilation)
    dx = call(tc.conv_transpose2d, dout, w, groups=groups, **kw)
    want = oracle.conv2d_input_grad(x, w, dout, stride, padding, dilation, groups)
    assert_close(dx, want, tol="grad", name="conv_transpose2d(dout, w) (conv2d's dx)",
                 mistakes=oracle.conv_transpose2d_slips(dout, w, groups=groups, **kw))  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("scale", [2, 3, (2, 3), 1.5, 2.5, (0.5, 1.75), (1.5, 0.75)], ids=str)
def test_upsample_nearest_matches_torch(scale, rng):
    check_nearest(rng.standard_normal((2, 3, 5, 6)), scale)


BILINEAR = {"size (7, 9)": ((7, 9), None), "size (3, 4) down": ((3, 4), None),
            "scale 2": (None, 2), "scale 1.5": (None, 1.5),
            "scale (2.5, 0.75)": (None, (2.5, 0.75))}  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("align", [False, True], ids=["align_corners=False", "align_corners=True"])
@pytest.mark.parametrize("case", BILINEAR)
def test_upsample_bilinear_matches_torch(case, align, rng):
    size, scale = BILINEAR[case]
    check_bilinear(rng.standard_normal((2, 3, 5, 6)), size, scale, align)


def test_everything_keeps_float32(rng):
    x, w, b = random_conv(rng, 2, 3, 4, (3, 3), (4, 5), dtype=np.float32)
    check_conv_transpose(x, w, b, np.float32, stride=2, padding=1, output_padding=1)
    check_nearest(x, 2, np.float32)
    check_bilinear(x, scale=2, dtype=np.float32)
    check_bilinear(x, size=(3, 7), align=True, dtype=np.float32)


@pytest.mark.property
@given(n=st.integers(1, 2), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       groups=st.sampled_from([1, 2]), hw=st.tuples(st.integers(1, 5), st.integers(1, 5)),
       kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)), data=st.data(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_conv_transpose2d_matches_torch_for_any_shapes_and_layouts(
    n, c_in, c_out, groups, hw, kernel, data, seed
):
    pairs = lambda lo, hi: st.tuples(st.integers(lo, hi), st.integers(lo, hi))  # noqa: E731
    stride, dilation, padding = (
        data.draw(pairs(1, 3)),
        data.draw(pairs(1, 2)),
        data.draw(pairs(0, 2)),
    )
    op = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    sizes = [(hw[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + op[i] + 1
             for i in (0, 1)]  # fmt: skip
    assume(min(sizes) >= 1)
    rng = np.random.default_rng(seed)
    x = data.draw(cs.arrays((n, c_in * groups, *hw)), label="x")
    w = rng.standard_normal((c_in * groups, c_out, *kernel))
    b = rng.standard_normal(c_out * groups) if data.draw(st.booleans()) else None
    check_conv_transpose(x, w, b, stride=stride, padding=padding, output_padding=op,
                         dilation=dilation, groups=groups)  # fmt: skip


@pytest.mark.property
@given(x=cs.arrays(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 6),
                             st.integers(1, 6))),
       scale=st.tuples(st.sampled_from(NEAREST_SCALES), st.sampled_from(NEAREST_SCALES)),
       size=st.tuples(st.integers(1, 8), st.integers(1, 8)), by_size=st.booleans(),
       align=st.booleans())  # fmt: skip
def test_upsampling_matches_torch_for_any_shapes_and_layouts(x, scale, size, by_size, align):
    check_nearest(x, scale)
    check_bilinear(x, size, None, align) if by_size else check_bilinear(x, None, scale, align)


@pytest.mark.edge
def test_one_pixel_paints_the_kernel_unflipped(rng):
    """x = 1 at one pixel of one channel, stride 2: the output around it is w itself."""
    x = np.zeros((1, 2, 3, 3))
    x[0, 1, 1, 1] = 1.0
    w = rng.standard_normal((2, 3, 3, 4))
    check_conv_transpose(x, w, None, stride=2)


@pytest.mark.edge
@pytest.mark.parametrize("output_padding", [0, 1])
def test_output_padding_picks_one_of_the_sizes_stride_2_allows(output_padding, rng):
    """conv2d with k3 s2 p1 maps both 7 and 8 rows to 4: its transpose needs to be told which."""
    x, w, b = random_conv(rng, 1, 2, 3, (3, 3), (4, 4))
    kw = dict(stride=2, padding=1, output_padding=output_padding)
    out = call(tc.conv_transpose2d, x, w, b, **kw)
    want = oracle.conv_transpose2d(x, w, b, **kw)
    got = getattr(out, "shape", type(out).__name__)
    assert_true(got == want.shape,
                f"conv_transpose2d gave {got}, torch {want.shape}: H_out = (H - 1)*stride "
                f"- 2*padding + dilation*(k - 1) + output_padding + 1 "
                f"= 3*2 - 2 + 2 + {output_padding} + 1 = {want.shape[2]}")  # fmt: skip
    assert_close(out, want, tol="matmul")


@pytest.mark.edge
@pytest.mark.parametrize("align", [False, True], ids=["align_corners=False", "align_corners=True"])
@pytest.mark.parametrize("size", [(1, 1), (1, 4), (4, 1)], ids=str)
def test_bilinear_to_one_pixel(size, align, rng):
    """One output pixel: align_corners=True takes the first input pixel, False the centre."""
    check_bilinear(rng.standard_normal((2, 2, 4, 5)), size=size, align=align)


@pytest.mark.edge
def test_a_non_integer_scale_uses_the_scale_it_was_given(rng):
    """5 rows x 1.5 = 7 rows, but 7 / 5 = 1.4: source coordinates come from 1 / 1.5."""
    x = rng.standard_normal((1, 2, 5, 3))
    check_bilinear(x, scale=(1.5, 2.5))
    check_nearest(x, (1.5, 2.5))


@pytest.mark.edge
def test_bilinear_clamps_at_the_border(rng):
    """align_corners=False, x2: output pixel 0 sits left of input pixel 0's centre."""
    x = rng.standard_normal((1, 1, 3, 4))
    x[..., -1, :] += 10.0  # a bright last row and column: reading x[-1] by mistake shows
    x[..., :, -1] += 10.0
    check_bilinear(x, scale=2)
