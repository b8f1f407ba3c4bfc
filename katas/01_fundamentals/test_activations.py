"""activations.py: eight activations and their backward passes, checked against torch."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import numpy, tensor

act = kata("01_fundamentals/activations")

# case id -> (function name in the kata, keyword arguments); torch takes the same keywords.
CASES = {
    "sigmoid": ("sigmoid", {}),
    "tanh": ("tanh", {}),
    "relu": ("relu", {}),
    "leaky_relu": ("leaky_relu", {"negative_slope": 0.01}),
    "gelu": ("gelu", {"approximate": "none"}),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
    "softmax": ("softmax", {"axis": -1}),
    "log_softmax": ("log_softmax", {"axis": -1}),
}
TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
    "softmax": lambda t, axis: F.softmax(t, dim=axis),
    "log_softmax": lambda t, axis: F.log_softmax(t, dim=axis),
}
ELEMENTWISE = [c for c in CASES if "softmax" not in c]


def softmax64(x, axis=-1):
    return numpy(F.softmax(tensor(x), dim=axis))


# What a known mistake returns, so the failure message can name it.
def gelu_tanh_without_cubic(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * x))


FORWARD_MISTAKES = {
    "gelu_tanh": {"the tanh form without the 0.044715 x^3 term": gelu_tanh_without_cubic}
}
BACKWARD_MISTAKES = {
    "sigmoid": {"s * (1 - s) with x in place of s = sigmoid(x)": lambda d, x: d * x * (1 - x)},
    "tanh": {"1 - x**2 instead of 1 - tanh(x)**2": lambda d, x: d * (1 - x**2)},
    "relu": {"relu'(0) = 1 (x >= 0 instead of x > 0)": lambda d, x: d * (x >= 0)},
    "leaky_relu": {"gradient 0 for negative inputs (slope forgotten)": lambda d, x: d * (x > 0)},
    "softmax": {"s * dout, without subtracting sum(dout * s)": lambda d, x: softmax64(x) * d},
}


def forward(case, x, **override):
    name, kwargs = CASES[case]
    kwargs = {**kwargs, **override}
    return call(getattr(act, name), x, **kwargs), TORCH[name](tensor(x), **kwargs)


def backward(case, dout, x, **override):
    """Yours, and torch's x.grad after out.backward(dout) in float64."""
    name, kwargs = CASES[case]
    kwargs = {**kwargs, **override}
    t = tensor(x, grad=True)
    TORCH[name](t, **kwargs).backward(tensor(dout))
    return call(getattr(act, f"{name}_backward"), dout, x, **kwargs), t.grad


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_torch(case, dtype, rng):
    x = (rng.standard_normal((4, 7)) * 3).astype(dtype)
    yours, want = forward(case, x)
    mistakes = {k: f(x) for k, f in FORWARD_MISTAKES.get(case, {}).items()}
    assert_close(yours, want, tol="elementwise", name="y", dtype=dtype, mistakes=mistakes)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_backward_matches_autograd(case, dtype, rng):
    x, dout = (rng.standard_normal((2, 4, 7)) * 3).astype(dtype)
    yours, want = backward(case, dout, x)
    mistakes = {k: f(dout, x) for k, f in BACKWARD_MISTAKES.get(case, {}).items()}
    assert_close(yours, want, tol="grad", name="dx", dtype=dtype, mistakes=mistakes)


@pytest.mark.oracle
@pytest.mark.parametrize("case", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_over_a_non_last_axis_matches_torch(case, axis, rng):
    x = rng.standard_normal((3, 4, 5)) * 2
    yours, want = forward(case, x, axis=axis)
    wrong = {"normalised over the last axis, not the axis asked for": TORCH[case](tensor(x), -1)}
    assert_close(yours, want, tol="reduction", name="y", mistakes=wrong)


@st.composite
def inputs(draw):
    """A case, x in any shape/layout/dtype, dout like x, and a drawn axis for the softmaxes."""
    case = draw(st.sampled_from(list(CASES)))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    x = draw(cs.arrays(cs.shapes(), dtype=dtype, min_value=-6, max_value=6))
    dout = draw(cs.arrays(x.shape, dtype=dtype))
    extra = {"axis": draw(st.integers(-x.ndim, x.ndim - 1))} if "softmax" in case else {}
    return case, x, dout, extra


@pytest.mark.property
@given(inputs())
def test_forward_matches_torch_for_any_shape_layout_and_dtype(drawn):
    case, x, _, extra = drawn
    yours, want = forward(case, x, **extra)
    assert_close(yours, want, tol="elementwise", name="y", dtype=x.dtype)


@pytest.mark.property
@given(inputs())
def test_backward_matches_autograd_for_any_shape_layout_and_dtype(drawn):
    case, x, dout, extra = drawn
    yours, want = backward(case, dout, x, **extra)
    assert_close(yours, want, tol="grad", name="dx", dtype=x.dtype)


@pytest.mark.property
@given(x=cs.arrays(cs.shapes(min_dims=2)), c=st.floats(-50, 50))
def test_softmax_sums_to_one_and_ignores_shifts(x, c):
    s = call(act.softmax, x, axis=0)
    assert_close(s.sum(axis=0), np.ones(x.shape[1:]), tol="reduction", name="softmax summed")
    assert_close(call(act.softmax, x + c, axis=0), s, tol="reduction", name="softmax(x + c)")


@pytest.mark.edge
@pytest.mark.parametrize("case", ["softmax", "log_softmax"])
def test_large_float32_logits_stay_finite(case, rng):
    x = (rng.standard_normal((4, 6)) * 1e4).astype(np.float32)
    x[0] = [1e4, -1e4, 0, 5e3, 1e4 - 1, -5e3]
    yours, want = forward(case, x)
    # inf or nan here fails with its own message (an overflow, or log of an underflowed 0)
    assert_close(yours, want, tol="elementwise", name="y", dtype=np.float32)


@pytest.mark.edge
@pytest.mark.parametrize("case", ["softmax", "log_softmax"])
@pytest.mark.parametrize("value", [0.0, 1e4, -1e4])
def test_a_row_of_equal_logits_is_uniform(case, value):
    x = np.full((2, 5), value, dtype=np.float32)
    yours, want = forward(case, x)
    assert_close(yours, want, tol="elementwise", name="y", dtype=np.float32)
    uniform = 0.2 if case == "softmax" else math.log(0.2)
    assert_true(
        np.allclose(yours, uniform),
        f"{case} of {value:g} repeated 5 times must be "
        f"{uniform:.6g} everywhere (five equal chances); got {yours[0].tolist()}",
    )


@pytest.mark.edge
@pytest.mark.parametrize("case", ["relu", "leaky_relu"])
def test_gradient_at_exactly_zero_follows_torch(case):
    x = np.array([-2.0, -0.0, 0.0, 1e-300, 3.0])
    dout = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    yours, want = backward(case, dout, x)
    mistakes = {k: f(dout, x) for k, f in BACKWARD_MISTAKES[case].items()}
    assert_close(yours, want, tol="grad", name="dx", mistakes=mistakes)


LARGE = np.array([-1e4, -100.0, -30.0, -10.0, 0.0, 10.0, 30.0, 100.0, 1e4])


@pytest.mark.edge
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ELEMENTWISE)
def test_forward_saturates_at_large_magnitude(case, dtype):
    yours, want = forward(case, LARGE.astype(dtype))
    assert_close(yours, want, tol="elementwise", name="y", dtype=dtype)


@pytest.mark.edge
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ELEMENTWISE)
def test_backward_saturates_at_large_magnitude(case, dtype):
    yours, want = backward(case, np.ones_like(LARGE, dtype=dtype), LARGE.astype(dtype))
    assert_close(yours, want, tol="grad", name="dx", dtype=dtype)


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError):
        call(act.gelu, np.zeros(3), approximate="sigmoid")
