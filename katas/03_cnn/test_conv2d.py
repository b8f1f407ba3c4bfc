"""conv2d.py: convolution by loops and by im2col, and its backward, vs F.conv2d + autograd."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import conv2d as oracle

conv = kata("03_cnn/conv2d")
CASES = {  # name -> (x shape, w shape, keyword arguments)
    "3x3": ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    "stride 2, padding 1": ((2, 3, 7, 8), (4, 3, 3, 3), dict(stride=2, padding=1)),
    "dilation 2": ((2, 2, 9, 8), (3, 2, 3, 3), dict(dilation=2)),
    "groups 2": ((2, 4, 6, 7), (6, 2, 3, 2), dict(groups=2, padding=1)),
    "pairs": ((2, 2, 8, 9), (3, 2, 2, 3), dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2))),
}
EDGES = {
    "dilation 2 with padding 2": ((2, 2, 5, 6), (3, 2, 3, 3), dict(dilation=2, padding=2)),
    "depthwise, groups == C_in": ((2, 4, 6, 6), (8, 1, 3, 3), dict(groups=4, padding=1)),
    "kernel larger than the input, fits once padded": ((2, 3, 3, 4), (2, 3, 5, 5), dict(padding=1)),
    "stride 3 leaves rows and columns unread": ((2, 2, 8, 9), (3, 2, 3, 3), dict(stride=3)),
    "1x1 kernel, stride 2": ((2, 3, 5, 5), (4, 3, 1, 1), dict(stride=2)),
}  # fmt: skip
LAYOUTS = cs.layouts()


def inputs(rng, x_shape, w_shape, dtype=np.float64, bias=True):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if bias else None
    return [None if a is None else a.astype(dtype) for a in (x, w, b)]


def check_shape(value, want, slips, what):
    """Name the mistake behind a wrong shape, where a known slip gives exactly that shape."""
    __tracebackhide__ = True
    if isinstance(value, np.ndarray) and value.shape != want.shape:
        for slip, shape in slips.items():
            assert_true(value.shape != shape, f"{what} has shape {value.shape}; torch's is "
                        f"{want.shape}.\nLikely mistake: {slip}.")  # fmt: skip


def check_forward(fn, x, w, b, kw, dtype=np.float64):
    """Run the naive or the vectorised version and compare its out with F.conv2d's."""
    __tracebackhide__ = True
    try:
        out = call(getattr(conv, fn), x, w, b, **kw)
    except (ValueError, IndexError) as err:
        if oracle.pair(kw.get("dilation", 1)) == (1, 1):
            raise
        raise AssertionError(
            f"{fn} raised {type(err).__name__}: {err}\nWith dilation {kw['dilation']}: if your "
            "H_out ignores the dilation, (H + 2p - k) // s + 1, the last windows run past the "
            "padded input. A dilated kernel spans d * (k - 1) + 1 pixels."
        ) from err
    if fn == "conv2d_forward":
        what = type(out).__name__
        assert_true(isinstance(out, tuple) and len(out) == 2,
                    f"conv2d_forward must return (out, cache); got {what}")  # fmt: skip
        out, cache = out
    want = oracle.conv2d(x, w, b, **kw)["out"]
    check_shape(out, want, oracle.shape_slips(x.shape, w.shape, **kw), f"{fn}'s out")
    slips = oracle.forward_slips(x, w, b, **kw)
    assert_close(out, want, tol="matmul", name="out", dtype=dtype, mistakes=slips)
    return cache if fn == "conv2d_forward" else None


def check_backward(x, w, b, kw, dout, dtype=np.float64):
    __tracebackhide__ = True
    cache = check_forward("conv2d_forward", x, w, b, kw, dtype)
    grads = call(conv.conv2d_backward, dout, cache)
    what = type(grads).__name__
    assert_true(isinstance(grads, tuple) and len(grads) == 3,
                f"conv2d_backward must return (dx, dw, db); got {what}")  # fmt: skip
    dx, dw, db = grads
    want = oracle.conv2d(x, w, b, dout=dout, **kw)
    slips = oracle.backward_slips(x, w, b, dout, **kw)
    N, _, H_out, W_out = dout.shape
    check_shape(dx, want["dx"], oracle.dx_shape_slips(x.shape, **kw), "conv2d_backward's dx")
    assert_close(dx, want["dx"], tol="grad", name="dx", dtype=dtype, mistakes=slips["dx"])
    assert_close(dw, want["dw"], tol="grad", name="dw", dtype=dtype, mistakes=slips["dw"],
                 factors={"N": N})  # fmt: skip
    if b is None:
        assert_true(db is None, f"without a bias, db must be None; got {type(db).__name__}")
    else:
        assert_close(db, want["db"], tol="grad", name="db", dtype=dtype,
                     factors={"N * H_out * W_out": N * H_out * W_out, "N": N})  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_naive_matches_torch(case, rng):
    x_shape, w_shape, kw = CASES[case]
    check_forward("conv2d_naive", *inputs(rng, x_shape, w_shape), kw)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_torch(case, rng):
    x_shape, w_shape, kw = CASES[case]
    check_forward("conv2d_forward", *inputs(rng, x_shape, w_shape), kw)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES)
def test_backward_matches_torch(case, rng):
    x_shape, w_shape, kw = CASES[case]
    x, w, b = inputs(rng, x_shape, w_shape)
    dout = rng.standard_normal(oracle.out_shape(x_shape, w_shape, **kw))
    check_backward(x, w, b, kw, dout)


@pytest.mark.parametrize("fn", ["conv2d_naive", "conv2d_forward"])
def test_forward_keeps_float32(fn, rng):
    x, w, b = inputs(rng, (2, 4, 6, 5), (4, 2, 3, 3), np.float32)
    check_forward(fn, x, w, b, dict(stride=2, padding=1, groups=2), np.float32)


def test_backward_keeps_float32(rng):
    kw = dict(stride=2, padding=1, groups=2)
    x, w, b = inputs(rng, (2, 4, 6, 5), (4, 2, 3, 3), np.float32)
    dout = rng.standard_normal(oracle.out_shape(x.shape, w.shape, **kw)).astype(np.float32)
    check_backward(x, w, b, kw, dout, np.float32)


@st.composite
def settings(draw):
    """x and w shapes and keyword arguments; sides as small as the (dilated) kernel."""
    G, kH, kW = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    s, p, d = ([draw(st.integers(1, hi)), draw(st.integers(1, hi))] for hi in (3, 3, 2))
    p = [v - 1 for v in p]  # padding 0..2
    span = [d[0] * (kH - 1) + 1, d[1] * (kW - 1) + 1]
    H, W = (max(1, span[i] - 2 * p[i] + draw(st.integers(0, 3))) for i in (0, 1))
    x_shape = (draw(st.integers(1, 3)), G * draw(st.integers(1, 2)), H, W)
    w_shape = (G * draw(st.integers(1, 2)), x_shape[1] // G, kH, kW)
    return x_shape, w_shape, dict(stride=tuple(s), padding=tuple(p), dilation=tuple(d), groups=G)


@pytest.mark.property
@given(setting=settings(), bias=st.booleans(), x_layout=LAYOUTS, w_layout=LAYOUTS,
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_forward_matches_torch_for_any_settings_and_layouts(setting, bias, x_layout, w_layout,
                                                           seed):  # fmt: skip
    x_shape, w_shape, kw = setting
    x, w, b = inputs(np.random.default_rng(seed), x_shape, w_shape, bias=bias)
    x, w = cs.relayout(x, x_layout), cs.relayout(w, w_layout)
    check_forward("conv2d_naive", x, w, b, kw)
    check_forward("conv2d_forward", x, w, b, kw)


@pytest.mark.property
@given(setting=settings(), bias=st.booleans(), x_layout=LAYOUTS, w_layout=LAYOUTS,
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_backward_matches_torch_for_any_settings_and_layouts(setting, bias, x_layout, w_layout,
                                                            seed):  # fmt: skip
    x_shape, w_shape, kw = setting
    rng = np.random.default_rng(seed)
    x, w, b = inputs(rng, x_shape, w_shape, bias=bias)
    dout = cs.relayout(rng.standard_normal(oracle.out_shape(x_shape, w_shape, **kw)), x_layout)
    check_backward(cs.relayout(x, x_layout), cs.relayout(w, w_layout), b, kw, dout)


@pytest.mark.edge
@pytest.mark.parametrize("case", EDGES)
def test_edge_cases_match_torch_forward_and_backward(case, rng):
    x_shape, w_shape, kw = EDGES[case]
    x, w, b = inputs(rng, x_shape, w_shape)
    check_forward("conv2d_naive", x, w, b, kw)
    check_backward(x, w, b, kw, rng.standard_normal(oracle.out_shape(x_shape, w_shape, **kw)))


@pytest.mark.edge
@pytest.mark.parametrize("fn", ["conv2d_naive", "conv2d_forward"])
def test_a_kernel_that_does_not_fit_is_refused(fn, rng):
    x, w, _ = inputs(rng, (1, 2, 4, 4), (3, 2, 3, 3))
    assert_raises(ValueError, getattr(conv, fn), x, w, dilation=2,
                  why="a 3x3 kernel with dilation 2 spans 5 pixels; the input has 4")  # fmt: skip
