"""loss_landscape.py: a saddle's gradient and Hessian vs autograd; GD stalls there, noise and
momentum get away; every path step by step against torch.optim.SGD."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import loss_landscape as oracle
from reference.oracles import tensor

ll = kata("02_training/loss_landscape")
GRAD = oracle.grad_fn()  # autograd's gradient of the landscape: your optimisers get this one
DTYPES = [np.float64, np.float32]


def sgd(x0, lr, steps, **kw):
    """torch.optim.SGD's path on the landscape (kw: momentum, noise, known slips)."""
    return oracle.descend(oracle.saddle, x0, lr, steps, **kw)


def check_path(path, want, name="the path", mistakes=None):
    __tracebackhide__ = True
    assert_true(isinstance(path, np.ndarray) and path.shape == want.shape, f"{name} must be "
                f"an array of shape (steps + 1, D) = {want.shape}: row 0 is x0, row t the point "
                f"after t steps; got {getattr(path, 'shape', type(path).__name__)}")  # fmt: skip
    assert_close(path, want, tol="grad", name=name, dtype=np.float64, mistakes=mistakes)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_saddle_loss_matches_torch(dtype, rng):
    p = rng.uniform(-2, 2, (6, 2)).astype(dtype)
    assert_close(call(ll.saddle_loss, p), oracle.loss(p), tol="reduction", name="f(p)", dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_saddle_grad_matches_autograd(dtype, rng):
    p = rng.uniform(-2, 2, (6, 2)).astype(dtype)
    want, (x, y) = oracle.grad(p), p.astype(np.float64).T
    no_cross = np.stack([2 * x, -2 * y + y**3], axis=-1)
    assert_close(call(ll.saddle_grad, p), want, tol="grad", name="the gradient", dtype=dtype,
                 mistakes={"the x^2 y^2 / 2 term not differentiated": no_cross})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_saddle_hessian_matches_autograd(dtype, rng):
    p = rng.uniform(-2, 2, (6, 2)).astype(dtype)
    want = oracle.hessian(p)
    cross, one_side = want * np.array([[0, 1], [1, 0]]), want * np.array([[1, 1], [0, 1]])
    assert_close(call(ll.saddle_hessian, p), want, tol="grad", name="the Hessian", dtype=dtype,
                 mistakes={"the cross term d2f/dxdy with the wrong sign": want - 2 * cross,
                           "the cross term left out (a diagonal Hessian)": want - cross,
                           "the cross term on one side only": one_side})  # fmt: skip


@pytest.mark.property
@given(p=cs.arrays(shape=cs.shapes(min_dims=0, max_dims=3, max_side=4).map(lambda s: s + (2,)),
                   min_value=-2.0, max_value=2.0))  # fmt: skip
def test_landscape_matches_autograd_for_any_batch_shape_and_layout(p):
    assert_close(call(ll.saddle_loss, p), oracle.loss(p), tol="reduction", name="f(p)")
    assert_close(call(ll.saddle_grad, p), oracle.grad(p), tol="grad", name="the gradient")
    assert_close(call(ll.saddle_hessian, p), oracle.hessian(p), tol="grad", name="the Hessian")


HESSIANS = {"saddle": [[2, 0], [0, -2]], "minimum": [[2, 0.5], [0.5, 4]],
            "maximum": [[-1, 0.2], [0.2, -3]],
            "positive diagonal, saddle": [[1, 3], [3, 1]],  # eigenvalues 4 and -2
            "zero eigenvalue, otherwise up": [[2, 0], [0, 0]],  # x^2 + y^4 or x^2 + y^3?
            "zero eigenvalue, otherwise down": [[0, 0], [0, -1]],
            "zero eigenvalue, saddle anyway": [[-1, 0, 0], [0, 0, 0], [0, 0, 1]],
            "1 x 1 zero": [[0]], "1 x 1 positive": [[5]]}  # fmt: skip


@pytest.mark.edge
@pytest.mark.oracle
@pytest.mark.parametrize("case", list(HESSIANS))
def test_classify_critical_point_matches_eigvalsh(case):
    H = np.array(HESSIANS[case], dtype=np.float64)
    got, want, eig = call(ll.classify_critical_point, H), oracle.classify(H), oracle.eigvalsh(H)
    assert_true(got == want, f"classify_critical_point(H) returned {got!r} for H = {H.tolist()}; "
                f"its eigenvalues are {eig} (torch.linalg.eigvalsh), so the answer is "
                f"{want!r}")  # fmt: skip


@pytest.mark.property
@given(signs=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=5),
       seed=st.integers(0, 2**32 - 1), transposed=st.booleans())  # fmt: skip
def test_classification_follows_the_eigenvalue_signs_in_any_basis(signs, seed, transposed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((len(signs), len(signs))))  # a random rotation
    H = Q @ np.diag(np.array(signs) * rng.uniform(0.5, 3, len(signs))) @ Q.T
    H = (H + H.T) / 2
    H = np.ascontiguousarray(H.T).T if transposed else H
    s = set(signs)
    want = "saddle" if {-1, 1} <= s else "degenerate" if 0 in s else \
        ("minimum" if s == {1} else "maximum")  # fmt: skip
    got = call(ll.classify_critical_point, H)
    assert_true(want == oracle.classify(H), "oracle and construction disagree")
    assert_true(got == want, f"classify_critical_point(H) returned {got!r}; H is a rotated "
                f"diagonal matrix whose eigenvalues have signs {signs}, so the answer is "
                f"{want!r}")  # fmt: skip


@pytest.mark.oracle
def test_gradient_descent_matches_torch_sgd(rng):
    x0 = rng.uniform(-1.5, 1.5, 2)
    want = sgd(x0, 0.1, 25)
    check_path(call(ll.gradient_descent, GRAD, x0, 0.1, 25), want, mistakes={
        "gradient ascent, x + lr * g": sgd(x0, 0.1, 25, ascend=True),
        "every row the same array (stored, then updated in place)": want[[-1] * 26]})  # fmt: skip


@pytest.mark.oracle
def test_momentum_descent_matches_torch_sgd(rng):
    x0 = rng.uniform(-1.5, 1.5, 2)
    want = sgd(x0, 0.05, 30, momentum=0.9)
    check_path(call(ll.momentum_descent, GRAD, x0, 0.05, 0.9, 30), want, mistakes={
        "the velocity reset every step (that is plain gradient descent)": sgd(x0, 0.05, 30),
        "v = momentum * v + (1 - momentum) * g (torch adds the whole gradient)":
            sgd(x0, 0.05, 30, momentum=0.9, damp=True)})  # fmt: skip


def test_the_noise_comes_from_rng_only(rng):
    x0, seed = rng.uniform(-1, 1, 2), int(rng.integers(2**31))
    a, b, c = (call(ll.noisy_gradient_descent, GRAD, x0, 0.1, 10, 0.5, np.random.default_rng(s))
               for s in (seed, seed, seed + 1))  # fmt: skip
    assert_true(isinstance(a, np.ndarray) and np.array_equal(a, b), "two runs with "
                "rng = np.random.default_rng(seed), same seed, gave different paths: draw the "
                "noise from rng (rng.standard_normal), not from np.random")  # fmt: skip
    assert_true(not np.array_equal(a, c), "two different seeds gave the same path: is the "
                "noise drawn from rng at all?")  # fmt: skip


@pytest.mark.oracle
def test_noisy_gradient_descent_matches_torch_sgd(rng):
    x0, seed = rng.uniform(-1.5, 1.5, 2), int(rng.integers(2**31))
    path = call(ll.noisy_gradient_descent, GRAD, x0, 0.1, 30, 0.5, np.random.default_rng(seed))
    want = sgd(x0, 0.1, 30, noise=oracle.noise(seed, 30, 2, 0.5))
    check_path(path, want, mistakes={
        "the noise not multiplied by noise_std": sgd(x0, 0.1, 30, noise=oracle.noise(seed, 30, 2)),
        "the noise added to x, not to the gradient (so not multiplied by lr)": sgd(x0, 0.1, 30,
            noise=oracle.noise(seed, 30, 2, 0.5), noise_on_position=True),
        "the noise drawn once, before the loop (the same push every step)": sgd(x0, 0.1, 30,
            noise=oracle.noise(seed, 1, 2, 0.5)[[0] * 30])})  # fmt: skip


@pytest.mark.property
@given(D=st.integers(1, 5), steps=st.integers(0, 6), seed=st.integers(0, 2**32 - 1),
       strided=st.booleans())  # fmt: skip
def test_optimisers_match_torch_on_any_quadratic(D, steps, seed, strided):
    rng = np.random.default_rng(seed)
    M, b, x0 = rng.standard_normal((D, D)), tensor(rng.standard_normal(D)), rng.uniform(-2, 2, D)
    A = tensor((M + M.T) / 2)  # indefinite on purpose: saddles in D dimensions
    f = lambda t: 0.5 * t @ A @ t + b @ t  # noqa: E731
    x0 = cs.noncontiguous(x0) if strided else x0
    grad, nz = oracle.grad_fn(f), oracle.noise(seed, steps, D, 0.3)
    check_path(call(ll.gradient_descent, grad, x0, 0.1, steps), oracle.descend(f, x0, 0.1, steps))
    check_path(call(ll.momentum_descent, grad, x0, 0.1, 0.8, steps),
               oracle.descend(f, x0, 0.1, steps, momentum=0.8))  # fmt: skip
    path = call(ll.noisy_gradient_descent, grad, x0, 0.1, steps, 0.3, np.random.default_rng(seed))
    check_path(path, oracle.descend(f, x0, 0.1, steps, noise=nz))


@pytest.mark.edge
def test_zero_steps_and_zero_noise(rng):
    x0, name = rng.uniform(-1, 1, 2), "the path after 0 steps (x0 alone)"
    check_path(call(ll.gradient_descent, GRAD, x0, 0.1, 0), x0[None], name=name)
    check_path(call(ll.momentum_descent, GRAD, x0, 0.1, 0.9, 0), x0[None], name=name)
    check_path(call(ll.noisy_gradient_descent, GRAD, x0, 0.1, 0, 0.5, rng), x0[None], name=name)
    check_path(call(ll.noisy_gradient_descent, GRAD, x0, 0.1, 12, 0.0, rng), sgd(x0, 0.1, 12),
               name="the path with noise_std = 0")  # fmt: skip


# Measured with the reference solution (f, lr 0.1, 200 steps): from (1.5, 0) gradient descent
# ends within 1e-19 of the saddle; from exactly (0, 0) with noise_std 0.01, 500 seeds all
# reached f < -0.9 by step 79 and ended at f <= -0.99996 (a minimum has f = -1).
def test_gradient_descent_on_the_line_y0_stalls_at_the_saddle():
    path = call(ll.gradient_descent, GRAD, np.array([1.5, 0.0]), 0.1, 200)
    check_path(path, sgd(np.array([1.5, 0.0]), 0.1, 200))
    assert_true(np.all(path[:, 1] == 0) and np.abs(path[-1]).max() < 1e-8, "from (1.5, 0) "
                f"the path must stay on y = 0 and stall at the saddle; it ended at "
                f"{path[-1]}")  # fmt: skip
    H = call(ll.saddle_hessian, path[-1])
    kind = call(ll.classify_critical_point, H)
    assert_true(kind == "saddle", f"gradient descent stopped at {path[-1]}, a saddle; "
                f"your Hessian there, {H.tolist()}, was classified as {kind!r}")  # fmt: skip


def test_noise_escapes_the_saddle(rng):
    still = call(ll.gradient_descent, GRAD, np.zeros(2), 0.1, 50)
    assert_true(np.all(still == 0), "at exactly (0, 0) the gradient is 0: plain gradient "
                f"descent must not move; it reached {still[-1]}")  # fmt: skip
    for seed in rng.integers(2**31, size=5):
        path = call(ll.noisy_gradient_descent, GRAD, np.zeros(2), 0.1, 200, 0.01,
                    np.random.default_rng(seed))  # fmt: skip
        end = float(oracle.loss(path[-1]))
        assert_true(end < -0.99, f"with noise_std 0.01 (seed {seed}), 200 steps from the "
                    f"saddle should reach a minimum (f = -1); the path ended at {path[-1]}, "
                    f"f = {end:.4g}")  # fmt: skip
    H = call(ll.saddle_hessian, path[-1])
    kind = call(ll.classify_critical_point, H)
    assert_true(kind == "minimum", f"noisy descent settled at {path[-1]}, next to the minimum "
                f"(0, {np.sign(path[-1, 1]):+.0f}.414); your Hessian there, {H.tolist()}, "
                f"was classified as {kind!r}")  # fmt: skip


# Measured (reference, deterministic): from (1, 1e-6), lr 0.05, f first drops below -0.9 after
# 155 steps of gradient descent and 55 steps with momentum 0.9 (0.35 x); the bar is 0.5 x.
def test_momentum_escapes_the_plateau_in_fewer_steps():
    x0 = np.array([1.0, 1e-6])  # the gradient along y is about 2e-6: a plateau
    plain = oracle.steps_below(call(ll.gradient_descent, GRAD, x0, 0.05, 400), -0.9)
    heavy = oracle.steps_below(call(ll.momentum_descent, GRAD, x0, 0.05, 0.9, 400), -0.9)
    want = [oracle.steps_below(sgd(x0, 0.05, 400, momentum=m), -0.9) for m in (0.0, 0.9)]
    assert_true(plain is not None and heavy is not None and heavy <= 0.5 * plain, "from "
                f"(1, 1e-6), lr 0.05: f < -0.9 after {plain} steps of gradient descent and "
                f"{heavy} with momentum 0.9 (None: never in 400 steps); torch.optim.SGD: "
                f"{want[0]} and {want[1]}. Momentum must need at most half the steps")  # fmt: skip
