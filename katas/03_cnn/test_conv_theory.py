"""conv_theory.py: sizes, receptive fields, costs and equivariance, measured in torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, dependency, kata
from checker import strategies as cs
from reference.oracles import conv_theory as oracle

theory = kata("03_cnn/conv_theory")
SIZES = [(7, 3), (8, 3, 2), (8, 3, 2, 1), (7, 3, 1, 0, 2), (9, 3, 2, 2, 3), (5, 5, 1, 2),
         (4, 1, 3), (1, 1), (6, 4, 4, 1), (3, 5, 1, 1)]  # fmt: skip
FIELDS = {"one 3x3": [(3, 1, 1)], "two 3x3": [(3, 1, 1)] * 2, "strided then 3x3":
          [(3, 2, 1), (3, 1, 1)], "3x3 then strided": [(3, 1, 1), (3, 2, 1)], "dilated":
          [(3, 1, 1), (3, 1, 2), (3, 1, 4)], "ResNet stem: 7x7/2, 3x3 pool/2, 3x3":
          [(7, 2, 1), (3, 2, 1), (3, 1, 1)], "1x1 strided": [(1, 2, 1), (1, 2, 1)]}  # fmt: skip
COSTS = [((3, 8, 3, 5, 4), {}), ((4, 6, (3, 2), 5, 4), dict(groups=2, bias=False)),
         ((6, 12, 3, 4, 4), dict(groups=3)), ((1, 1, 1, 1, 1), {})]  # fmt: skip


def said(head, got, want, measured, slips):
    """A message for an int result: what came back, what torch measures, the likely slip."""
    named = [f"\nLikely mistake: {label}." for label, v in slips.items() if got == v != want]
    return f"{head} {got!r}; {measured}" + "".join(named[:1])


def check_size(args):
    __tracebackhide__ = True
    if not oracle.fits(*args):
        assert_raises(ValueError, theory.conv_output_size, *args,
                      why="the dilated kernel is longer than the padded input")  # fmt: skip
        return
    got = call(theory.conv_output_size, *args)
    want = oracle.conv_output_size(*args)
    assert_true(isinstance(got, (int, np.integer)) and got == want, said(
        f"conv_output_size{args} returned", got, want, f"F.conv2d's output has {want}",
        oracle.size_slips(*args)))  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("args", SIZES, ids=str)
def test_conv_output_size_matches_torch(args):
    check_size(args)


@pytest.mark.property
@given(args=st.tuples(*(st.integers(a, b) for a, b in ((1, 12), (1, 5), (1, 4), (0, 3), (1, 3)))))
def test_conv_output_size_matches_torch_for_any_settings(args):
    check_size(args)


@pytest.mark.edge
def test_a_kernel_longer_than_the_padded_input_is_refused():
    assert_raises(ValueError, theory.conv_output_size, 4, 3, dilation=2,
                  why="a 3-tap kernel with dilation 2 spans 5 pixels; 4 are there")  # fmt: skip


def check_field(layers):
    __tracebackhide__ = True
    got = call(theory.receptive_field, layers)
    want = oracle.receptive_field(layers)
    measured = (f"torch's autograd experiment measures {want}: d out[0, 0, 0, 0] / d x is "
                f"nonzero on a {want}x{want} square")  # fmt: skip
    slips = oracle.field_slips(layers)
    head = f"receptive_field({layers}) returned"
    assert_true(isinstance(got, (int, np.integer)) and got == want,
                said(head, got, want, measured, slips))  # fmt: skip
    return want


@pytest.mark.oracle
@pytest.mark.parametrize("name", FIELDS)
def test_receptive_field_matches_an_autograd_experiment(name):
    check_field(FIELDS[name])


@pytest.mark.property
@given(layers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)),
                       max_size=4))  # fmt: skip
def test_receptive_field_matches_autograd_for_any_stack(layers):
    check_field(layers)


@pytest.mark.edge
def test_no_layers_see_one_pixel():
    check_field([])


def check_costs(fn, args, **kw):
    __tracebackhide__ = True
    got = call(getattr(theory, fn), *args, **kw)
    want = getattr(oracle, fn)(*args, **kw)
    assert_true(isinstance(got, tuple) and len(got) == 2, f"{fn} must return (params, macs)")
    slips = oracle.cost_slips(fn, args, **kw)
    shown = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kw.items())])
    for i, what in enumerate(("parameters", "MACs")):
        assert_true(got[i] == want[i], said(
            f"{fn}({shown}) counted {what}:", got[i], want[i], f"torch counts {want[i]}",
            {k: v[i] for k, v in slips.items()}))  # fmt: skip
    return want


@pytest.mark.oracle
@pytest.mark.parametrize("args, kw", COSTS, ids=str)
def test_conv_params_and_macs_match_torch(args, kw):
    check_costs("conv_params_and_macs", args, **kw)


@pytest.mark.oracle
@pytest.mark.parametrize("bias", [True, False])
def test_dense_params_and_macs_match_torch(bias):
    check_costs("dense_params_and_macs", (3, 5, 4, 6, 3, 2), bias=bias)


@pytest.mark.edge
def test_depthwise_conv_costs_one_filter_per_channel():
    check_costs("conv_params_and_macs", (32, 32, 3, 14, 14), groups=32)


def test_a_resnet_layer_is_a_million_times_smaller_than_a_dense_one():
    """64 -> 64 channels, 3x3, on 56x56: 36,928 parameters; dense: 40 billion."""
    conv = check_costs("conv_params_and_macs", (64, 64, 3, 56, 56))
    dense = check_costs("dense_params_and_macs", (64, 56, 56, 64, 56, 56))
    assert_true(dense[0] > 1e6 * conv[0], "one 3x3 filter per channel pair, shared everywhere")


def test_two_3x3_layers_see_as_far_as_a_5x5_with_fewer_weights():
    """VGG's argument: the same 5x5 field, 2 * 9 C^2 instead of 25 C^2 weights."""
    assert_true(check_field([(3, 1, 1)] * 2) == check_field([(5, 1, 1)]), "the same field")
    two = 2 * check_costs("conv_params_and_macs", (64, 64, 3, 8, 8), bias=False)[0]
    one = check_costs("conv_params_and_macs", (64, 64, 5, 8, 8), bias=False)[0]
    assert_true(two < one, "18 C^2 < 25 C^2 weights")


@pytest.mark.oracle
@pytest.mark.parametrize("dy, dx", [(1, 2), (-2, 1), (0, -3), (0, 0), (5, 0), (-9, 2)])
def test_shift_matches_torch(dy, dx, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    assert_close(call(theory.shift, x, dy, dx), oracle.shift(x, dy, dx), name="the shifted x",
                 mistakes={"wrap-around (np.roll): content that leaves one side comes back on "
                           "the other": np.roll(x, (dy, dx), axis=(-2, -1)),
                           "shifted the other way (x[i + dy], not x[i - dy])":
                           oracle.shift(x, -dy, -dx)})  # fmt: skip


@pytest.mark.property
@given(x=cs.arrays(shape=cs.shapes(2, 4, max_side=5)), dy=st.integers(-6, 6), dx=st.integers(-6, 6),
       f32=st.booleans())  # fmt: skip
def test_shift_matches_torch_for_any_shape_layout_and_dtype(x, dy, dx, f32):
    x = x.astype(np.float32) if f32 else x
    assert_close(call(theory.shift, x, dy, dx), oracle.shift(x, dy, dx), name="the shifted x",
                 dtype=x.dtype)  # fmt: skip


def maxpool2(a):  # a 2x2, stride-2 max pooling, by torch
    return F.max_pool2d(torch.from_numpy(np.ascontiguousarray(a)), 2).numpy()


@pytest.fixture(scope="module")
def conv3x3():  # a 3x3 'same' convolution: yours where the conv2d kata passes
    conv2d = dependency("03_cnn/conv2d")
    w = np.random.default_rng(0).standard_normal((3, 2, 3, 3))
    return lambda s: lambda a: conv2d.conv2d_forward(a, w, stride=s, padding=1)[0]


def check_error(f, x, dy, dx, stride=1, border=0):
    __tracebackhide__ = True
    got = call(theory.equivariance_error, f, x, dy, dx, stride=stride, border=border)
    want = oracle.equivariance_error(f, x, dy, dx, stride, border)
    assert_close(got, np.float64(want), tol="matmul", name="the error",
                 mistakes=oracle.equivariance_slips(f, x, dy, dx, stride, border))  # fmt: skip
    return want


@pytest.mark.oracle
@pytest.mark.parametrize("f", ["square", "maxpool", "conv stride 2"])
@pytest.mark.parametrize("shift_, border", [((1, 0), 0), ((2, -2), 1), ((-3, 1), 2), ((0, 0), 9)])
def test_equivariance_error_matches_torch(f, shift_, border, conv3x3, rng):
    fn, stride = {"square": (np.square, 1), "maxpool": (maxpool2, 2),
                  "conv stride 2": (conv3x3(2), 2)}[f]  # fmt: skip
    check_error(fn, rng.standard_normal((1, 2, 10, 12)), *shift_, stride, border)


def test_convolution_is_translation_equivariant_away_from_the_borders(conv3x3, rng):
    x = rng.standard_normal((1, 2, 12, 12))
    inside = check_error(conv3x3(1), x, 2, -1, border=3)  # 2-pixel shift + the 1-pixel reach
    at_edges = check_error(conv3x3(1), x, 2, -1, border=0)
    assert_true(inside < 1e-9 < at_edges, "conv: equivariant inside, not at the borders")


def test_a_strided_conv_is_equivariant_to_shifts_by_multiples_of_its_stride(conv3x3, rng):
    x = rng.standard_normal((1, 2, 12, 12))
    assert_true(check_error(conv3x3(2), x, 2, -4, stride=2, border=2) < 1e-9,
                "stride 2 follows a shift of 2")  # fmt: skip
    assert_true(check_error(conv3x3(2), x, 1, 0, stride=2, border=2) > 0.1,
                "but not a shift of 1: the samples fall between its outputs")  # fmt: skip


def test_max_pooling_absorbs_a_shift_only_within_its_windows(rng):
    """A dot moved inside its 2x2 window leaves the max unchanged (local invariance);
    a dot moved across a window boundary moves the output; random texture changes."""
    even, odd = np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 8, 8))
    even[..., ::4, ::2], odd[..., 1::4, 1::2] = 1.0, 1.0
    assert_true(check_error(maxpool2, even, 1, 1, stride=2) == 0, "inside: invariant")
    assert_true(check_error(maxpool2, odd, 1, 1, stride=2) == 1, "across: the max moved")
    x = rng.standard_normal((1, 2, 8, 8))
    assert_true(check_error(maxpool2, x, 2, 2, stride=2, border=1) == 0, "equivariant to 2")
    assert_true(check_error(maxpool2, x, 1, 0, stride=2, border=1) > 0, "not invariant to 1")
