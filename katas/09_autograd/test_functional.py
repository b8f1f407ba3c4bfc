"""functional.py: every layer's maths as a differentiable function, vs torch.nn.functional.

Each case (reference/oracles/functional.py) draws inputs, runs yours and torch's in float64,
then compares the output (forward tests) and every input's .grad after out.backward(grad)
(backward tests) with torch.autograd's.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, context, describe, kata
from checker import strategies as cs
from reference.oracles import functional as oracle
from reference.oracles import numpy as to_numpy
from reference.oracles import tensor

F = kata("09_autograd/functional")
CASES = [pytest.param(c, id=c.id) for c in oracle.CASES]


def inputs(case, rng, sizes=None, dtype=np.float64, layout="contiguous"):
    """The case's args (float arrays in dtype and the given memory layout) and kwargs."""
    args, kwargs = case.make(rng, *(sizes or case.sizes))
    for k, v in args.items():
        if isinstance(v, np.ndarray):
            args[k] = cs.relayout(v.astype(dtype) if v.dtype.kind == "f" else v, layout)
    return args, kwargs


def forward(case, args, kwargs):
    """functional.<fn>(*args, **kwargs) through call(), with case.grads passed as Tensors."""
    __tracebackhide__ = True
    Tensor = F.package.Tensor
    ts = {k: Tensor(v, requires_grad=True) if k in case.grads else v for k, v in args.items()}
    out = call(getattr(F, case.fn), *ts.values(), **kwargs)
    context.current.inputs = ", ".join(  # call() lists ndarrays only: name the Tensors too
        f"{k}: {'Tensor ' if k in case.grads else ''}{describe(v)}"
        for k, v in args.items()
        if isinstance(v, np.ndarray)
    )
    assert_true(
        isinstance(out, Tensor),
        f"{context.current.call} must return a minigrad Tensor (so that backward can reach "
        f"its inputs); it returned {type(out).__name__}",
    )
    return out, ts  # call() has checked that no input changed in place


def unchanged(args, before, when):
    __tracebackhide__ = True
    for k, was in before.items():
        assert_true(
            np.array_equal(args[k], was, equal_nan=True),
            f"{context.current.call} modified its input {k} in place{when}: compute into new "
            "arrays (x = x - m, not x -= m).",
        )


def check_forward(case, args, kwargs, dtype=np.float64):
    __tracebackhide__ = True
    out, ts = forward(case, args, kwargs)
    want = oracle.run(case, args, kwargs)["out"]
    slips = oracle.forward_slips(case, args, kwargs)
    first = next(v for v in args.values() if isinstance(v, np.ndarray))
    factors = {"N": first.shape[0], "C": first.shape[-1]} if first.ndim > 1 else {}
    assert_close(out.data, want, tol=case.tol, dtype=dtype, mistakes=slips, factors=factors)
    return out, ts


def check_backward(case, args, kwargs, rng, dtype=np.float64):
    """Forward, then out.backward(grad) with a random grad; every input's .grad vs torch's."""
    __tracebackhide__ = True
    before = {k: v.copy() for k, v in args.items() if isinstance(v, np.ndarray)}
    out, ts = forward(case, args, kwargs)
    g = np.asarray(rng.standard_normal(out.shape), dtype=dtype)
    context.current.call = f"{context.current.call}.backward(grad)"
    out.backward(g)
    unchanged(args, before, " during backward")
    want = oracle.run(case, args, kwargs, g)
    slips = oracle.backward_slips(case, args, kwargs, g)
    first = next(v for v in args.values() if isinstance(v, np.ndarray))
    for name in case.grads:
        t = ts[name]
        assert_true(
            t.grad is not None,
            f"after {context.current.call}, {name}.grad is None: no gradient reached {name}. "
            "Return one gradient per input from backward (or build the function from ops).",
        )
        assert_close(t.grad, want[name], tol="grad", name=f"{name}.grad", dtype=dtype,
                     mistakes=slips.get(name), factors={"N": first.shape[0]},
                     inplace=True)  # fmt: skip


# --- im2col and col2im: the gather and its adjoint, vs unfold and fold -------------------------
GEOMETRIES = [(3, 2, 1, 0), (3, 3, 2, 1), (2, 2, 2, 0), (1, 1, 1, 0)]  # kh, kw, stride, padding


@pytest.mark.oracle
@pytest.mark.parametrize("kh,kw,stride,padding", GEOMETRIES)
def test_im2col_matches_torch_unfold(kh, kw, stride, padding, rng):
    x = rng.standard_normal((2, 3, 6, 5))
    cols = call(F.im2col, x, kh, kw, stride=stride, padding=padding)
    want = tF.unfold(tensor(x), (kh, kw), padding=padding, stride=stride)
    assert_close(cols, want, tol="elementwise", name="cols")


@pytest.mark.oracle
@pytest.mark.parametrize("kh,kw,stride,padding", GEOMETRIES)
def test_col2im_matches_torch_fold(kh, kw, stride, padding, rng):
    N, C, H, W = 2, 3, 6, 5
    L = ((H + 2 * padding - kh) // stride + 1) * ((W + 2 * padding - kw) // stride + 1)
    cols = rng.standard_normal((N, C * kh * kw, L))
    x = call(F.col2im, cols, (N, C, H, W), kh, kw, stride=stride, padding=padding)
    want = tF.fold(tensor(cols), (H, W), (kh, kw), padding=padding, stride=stride)
    assert_close(x, want, tol="reduction", name="x",
                 mistakes={"overlapping windows assigned (=) instead of added (+=)":
                           lambda: oracle.col2im_assigned(cols, (N, C, H, W), kh, kw, stride,
                                                          padding)})  # fmt: skip


def test_im2col_refuses_a_window_larger_than_the_padded_input(rng):
    assert_raises(ValueError, F.im2col, rng.standard_normal((1, 1, 2, 2)), 3, 3,
                  why="a 3 x 3 window does not fit a 2 x 2 image without padding")  # fmt: skip


# --- every function, forward then backward -----------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_torch(case, rng):
    check_forward(case, *inputs(case, rng))


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES)
def test_backward_matches_torch(case, rng):
    check_backward(case, *inputs(case, rng), rng)


@pytest.mark.parametrize("case", CASES)
def test_float32_in_float32_out_and_float32_gradients(case, rng):
    check_forward(case, *inputs(case, rng, dtype=np.float32), dtype=np.float32)
    check_backward(case, *inputs(case, rng, dtype=np.float32), rng, dtype=np.float32)


@pytest.mark.property
@settings(max_examples=30, deadline=None)
@given(
    case=st.sampled_from(oracle.CASES),
    sizes=st.tuples(*[st.integers(1, 4)] * 4),
    layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_sizes_and_layouts_match_torch(case, sizes, layout, seed):
    rng = np.random.default_rng(seed)
    context.current.seed = seed
    check_forward(case, *inputs(case, rng, sizes, layout=layout))
    check_backward(case, *inputs(case, rng, sizes, layout=layout), rng)


# --- pinned edge cases ----------------------------------------------------------------------


@pytest.mark.edge
@pytest.mark.parametrize("fn", ["log_softmax-last", "softmax-dim1", "cross_entropy-mean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logits_of_1e4_give_finite_values_and_gradients(fn, dtype, rng):
    case = oracle.BY_ID[fn]
    args, kwargs = inputs(case, rng, dtype=dtype)
    first = next(iter(args))
    args[first] = (args[first] * 3e3).astype(dtype)  # logits up to ~3e4: exp overflows
    check_forward(case, args, kwargs, dtype)
    check_backward(case, args, kwargs, rng, dtype)


@pytest.mark.edge
@pytest.mark.parametrize("k,stride", [(3, 1), (3, 2)])
def test_a_max_shared_by_overlapping_windows_collects_every_windows_gradient(k, stride, rng):
    x = rng.standard_normal((2, 2, 5, 5))
    x[:, :, 2, 2] = 10.0  # the centre wins every window that covers it
    case = oracle.Case("pool", "max_pool2d", None, tF.max_pool2d, ("x",), "elementwise")
    args, kwargs = {"x": x}, {"kernel_size": k, "stride": stride}
    check_forward(case, args, kwargs)
    check_backward(case, args, kwargs, rng)


@pytest.mark.edge
def test_conv2d_stride_2_padding_1_on_an_even_image(rng):
    # (6 + 2 - 3) // 2 + 1 = 3 windows a side: the last padded row and column are never read
    case = oracle.BY_ID["conv2d-stride2-pad1"]
    args, kwargs = inputs(case, rng, sizes=(2, 3, 4, 4))
    args["bias"] = rng.standard_normal(3)
    case = oracle.Case(case.id, "conv2d", None, tF.conv2d, ("x", "weight", "bias"), "matmul")
    check_forward(case, args, kwargs)
    check_backward(case, args, kwargs, rng)


@pytest.mark.edge
def test_a_token_used_five_times_gets_the_sum_of_five_gradients(rng):
    case = oracle.BY_ID["embedding"]
    args = {"indices": np.array([[2, 2, 2], [2, 0, 2]]), "weight": rng.standard_normal((4, 3))}
    check_backward(case, args, {}, rng)


@pytest.mark.edge
def test_layer_norm_scales_and_shifts_with_gamma_and_beta(rng):
    case = oracle.BY_ID["layer_norm"]
    x = rng.standard_normal((4, 3, 6)) * np.array([0.1, 1, 10, 100, 1, 0.5])  # uneven features
    gamma, beta = 1 + rng.standard_normal(6), rng.standard_normal(6)
    args = {"x": x, "normalized_shape": (6,), "weight": gamma, "bias": beta}
    check_forward(case, args, {"eps": 1e-5})
    check_backward(case, args, {"eps": 1e-5}, rng)


@pytest.mark.edge
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_reductions_with_more_classes_than_examples(reduction, rng):
    case = oracle.BY_ID[f"cross_entropy-{reduction}"]
    args = {"logits": rng.standard_normal((2, 10)) * 2, "target": np.array([7, 0])}
    check_forward(case, args, {"reduction": reduction})
    check_backward(case, args, {"reduction": reduction}, rng)


@pytest.mark.edge
@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_dropout_scales_the_kept_units_as_torch_does(p, rng):
    x = rng.uniform(0.5, 2.0, (8, 16)) * rng.choice([-1, 1], (8, 16))  # never 0
    with torch.random.fork_rng():
        torch.manual_seed(int(rng.integers(2**31)))
        theirs = to_numpy(tF.dropout(tensor(x), p=p, training=True))
    mask = theirs != 0  # the units torch kept (a bool mask works as 0/1)
    out = call(F.dropout, F.package.Tensor(x), mask, p)
    assert_close(out.data, theirs, tol="elementwise", name="the output",
                 mistakes={"kept units not scaled by 1/(1-p)": x * mask})  # fmt: skip


@pytest.mark.edge
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_with_p_0_keeps_everything_and_with_p_1_nothing(p, rng):
    x = rng.standard_normal((3, 4))
    mask = np.full((3, 4), 1.0 - p)
    out = call(F.dropout, F.package.Tensor(x), mask, p)
    assert_close(out.data, x * (1 - p), tol="elementwise", name="the output",
                 mistakes={"nan from 0 * 1/(1-p) with p = 1": np.full((3, 4), np.nan)})  # fmt: skip
