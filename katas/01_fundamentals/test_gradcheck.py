"""gradcheck.py: central differences, relative error and the check, against torch.autograd.

Numerical gradients are held to the central-difference error bound derived in
reference/oracles/gradcheck.py, not to a tolerance class (a forward difference errs ~1e4x more).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import gradcheck as oracle

gc = kata("01_fundamentals/gradcheck")
H = 1e-5


def nudge(fn, *args, **kwargs):
    """call() for code that nudges x (the last argument) in place: x must end as it began."""
    __tracebackhide__ = True
    x, before = args[-1], args[-1].tobytes()
    try:
        return call(fn, *args, mutates=("x",), **kwargs)
    finally:  # also when f raised: the exception goes on unless x was left changed
        changed = np.frombuffer(x.tobytes(), np.uint8) != np.frombuffer(before, np.uint8)
        assert_true(
            not changed.any(),
            f"{fn.__name__} left x different from what it was ({int(changed.sum())} bytes "
            "differ). Save each entry before nudging it and write the saved value back: "
            "x[i] = old, not x[i] += h after x[i] -= 2 * h (the sum need not round to old).",
        )


def assert_within_bound(num, exact, bound, what):
    """The answer has x's shape and dtype and is within the central-difference bound."""
    __tracebackhide__ = True
    assert_true(
        isinstance(num, np.ndarray) and num.shape == exact.shape and num.dtype == exact.dtype,
        f"numerical_gradient returned {describe(num)}; it must be an array of x's shape and "
        f"dtype: {describe(exact)}",
    )
    err = np.abs(num - exact)
    i = np.unravel_index(np.argmax(err / bound), err.shape)
    if np.allclose(num, 2 * exact, rtol=1e-3, atol=0):
        why = "Yours is 2x the slope: divide by 2h, the distance from x - h to x + h."
    elif np.any((num == 0) & (exact != 0)):
        why = "Zero where the slope is not: did the nudge reach the x that f reads?"
    else:
        why = "An error this size is O(h): a one-sided (f(x + h) - f(x)) / h? The central "
        why += "(f(x + h) - f(x - h)) / 2h errs by O(h^2)."
    assert_true(
        bool(np.all(err <= bound)),
        f"numerical_gradient of {what}: {int(np.sum(err > bound))} of {err.size} entries are "
        "further from autograd's gradient than a central difference can be.\nAt index "
        f"{tuple(map(int, i))}: yours {num[i]:.12g}, autograd {exact[i]:.12g}, error "
        f"{err[i]:.3g} > bound {bound[i]:.3g} (h^2/6 |f'''| + rounding, h={H:g}).\n{why}",
    )


@pytest.mark.oracle
@pytest.mark.parametrize("problem", oracle.PROBLEMS)
def test_numerical_gradient_matches_autograd_within_the_central_difference_bound(problem, rng):
    p = oracle.PROBLEMS[problem](rng)
    num = nudge(gc.numerical_gradient, p.f, p.x, h=H)
    assert_within_bound(num, p.grad(p.x), p.bound(p.x, H), p.name)


@pytest.mark.oracle
@pytest.mark.parametrize("h", [1e-2, 1e-3])
def test_central_difference_of_exp_is_exactly_sinh_scaled(h, rng):
    # For f = sum(exp(3x)), (f(x+h) - f(x-h)) / 2h = f'(x) sinh(3h) / 3h exactly: yours must match
    # to rounding (eps |f| / h ~ 1e-12 relative, inside "reduction"); forward is off by 3h/2.
    p = oracle.exp_3x(rng)
    exact = p.grad(p.x)
    num = nudge(gc.numerical_gradient, p.f, p.x, h=h)
    want = exact * np.sinh(3 * h) / (3 * h)
    assert_close(num, want, tol="reduction", name="the numerical gradient", mistakes={
        "a forward difference (f(x + h) - f(x)) / h": exact * np.expm1(3 * h) / (3 * h),
        "dividing by h instead of 2h": 2 * want,
    })  # fmt: skip


def test_numerical_gradient_calls_f_twice_per_entry(rng):
    p, calls = oracle.sum_of_squares(rng), []
    x = p.x[:, :2]  # (3, 2)
    nudge(gc.numerical_gradient, lambda v: calls.append(v) or p.f(v), x, h=H)
    assert_true(
        len(calls) == 2 * x.size,
        f"numerical_gradient called f {len(calls)} times for x with {x.size} entries; a "
        f"central difference needs exactly 2 per entry, f(x + h e_i) and f(x - h e_i). "
        f"{x.size + 1} calls is a forward difference (f(x) once, then f(x + h e_i)).",
    )


# 5 of these 12 values have x + h - 2h + h != x: a restore by arithmetic shows up.
DRIFTING_X = np.linspace(0.1, 3.3, 12).reshape(3, 4) + 1 / 3


@pytest.mark.edge
def test_numerical_gradient_restores_x_bit_for_bit():
    nudge(gc.numerical_gradient, lambda v: float(np.sum(v**2)), DRIFTING_X.copy(), h=H)


@pytest.mark.edge
def test_numerical_gradient_restores_x_even_when_f_raises():
    x, calls = DRIFTING_X.copy(), []

    def f(v):
        calls.append(1)
        if len(calls) == 5:  # f(x + h e_2): the third entry is nudged right now
            raise KeyError("f failed")
        return float(np.sum(v**2))

    with pytest.raises(KeyError):
        nudge(gc.numerical_gradient, f, x, h=H)  # checks x's bytes after f raised


@pytest.mark.edge
@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_numerical_gradient_perturbs_a_non_contiguous_x_in_place(layout, rng):
    base = rng.uniform(-3, 3, (4, 6))
    x = base.T if layout == "transposed" else base[:, ::2]  # views: x.ravel() would be a copy
    p = oracle.weighted_sin(x, seed=1)
    num = nudge(gc.numerical_gradient, p.f, x, h=H)
    assert_within_bound(num, p.grad(x), p.bound(x, H), f"{p.name} with a {layout} x")


@pytest.mark.property
@given(
    x=cs.arrays(shape=cs.shapes(min_dims=0, max_dims=3, max_side=4), min_value=-3, max_value=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_numerical_gradient_matches_autograd_for_any_shape_and_layout(x, seed):
    p = oracle.weighted_sin(x, seed)
    num = nudge(gc.numerical_gradient, p.f, x, h=H)
    assert_within_bound(num, p.grad(x), p.bound(x, H), f"{p.name}, x {describe(x)}")


@pytest.mark.edge
def test_relative_error_of_two_zero_gradients_is_zero():
    a = np.array([[0.0, 1.0], [-2.0, 0.0]])  # ReLU-like gradients: exact zeros agree
    err = call(gc.relative_error, a, a.copy())
    assert_true(
        np.isfinite(err) and err == 0,
        f"relative_error(a, a) returned {err!r} for gradients that agree exactly (with zero "
        "entries). 0 / 0 is nan: divide by max(eps, |a| + |n|).",
    )


@pytest.mark.property
@given(
    a=cs.arrays(shape=(3, 2), min_value=-2, max_value=2),
    n=cs.arrays(shape=(3, 2), min_value=-2, max_value=2),
)
def test_relative_error_matches_torch_and_is_symmetric_in_0_to_1(a, n):
    err = call(gc.relative_error, a, n)
    assert_close(err, oracle.relative_error(a, n), tol="elementwise", name="the relative error")
    assert_true(call(gc.relative_error, n, a) == err, "relative_error(a, n) != (n, a)")
    assert_true(0 <= err <= 1, f"relative error {err} outside [0, 1]")


def run_gradcheck(p, grad_f, x):
    __tracebackhide__ = True
    out = nudge(gc.gradcheck, p.f, grad_f, x, h=H)
    assert_true(isinstance(out, tuple) and len(out) == 2, "gradcheck returns (ok, max_rel_error)")
    return bool(out[0]), out[1], oracle.torch_gradcheck(p.f, grad_f, x, H)


@pytest.mark.oracle
@pytest.mark.parametrize("problem", [*oracle.PROBLEMS, "sum_of_squares_with_a_zero"])
def test_gradcheck_accepts_correct_gradients(problem, rng):
    p = oracle.PROBLEMS[problem.removesuffix("_with_a_zero")](rng)
    x = p.x.copy()
    x[0, 0] = 0.0 if problem.endswith("zero") else x[0, 0]  # a gradient entry of exactly 0
    ok, err, torch_ok = run_gradcheck(p, p.grad, x)
    nan = "\nnan: 0 / 0 where both are exactly 0? (relative_error)" if np.isnan(err) else ""
    assert_true(
        torch_ok and ok and 0 <= err <= 1e-6,
        f"gradcheck rejected the exact gradient of {problem} (autograd's): ok={ok}, "
        f"max_rel_error={err!r}; torch.autograd.gradcheck accepts it ({torch_ok}).{nan}",
    )


@pytest.mark.oracle
@pytest.mark.parametrize("wrong", ["sign_flipped", "times_2", "transposed", "one_entry_off"])
@pytest.mark.parametrize("problem", oracle.PROBLEMS)
def test_gradcheck_rejects_wrong_gradients(problem, wrong, rng):
    p = oracle.PROBLEMS[problem](rng)
    bad = oracle.wrong_gradients(p.grad(p.x))[wrong]
    ok, err, torch_ok = run_gradcheck(p, lambda x: bad, p.x)
    assert_true(
        not torch_ok and not ok,
        f"gradcheck accepted a {wrong} gradient of {problem} (max_rel_error={err!r}); "
        "torch.autograd.gradcheck rejects it.",
    )
    want = oracle.relative_error(bad, p.grad(p.x))
    assert_close(err, want, tol="reduction", name="max_rel_error")
