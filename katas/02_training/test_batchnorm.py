"""batchnorm.py: batch normalization by hand, checked against nn.BatchNorm1d/2d/3d + autograd."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import batchnorm as oracle

bn = kata("02_training/batchnorm")
SHAPES = {"(N, C)": (8, 5), "(N, C, L)": (4, 3, 6), "(N, C, H, W)": (4, 3, 5, 6),
          "(N, C, D, H, W)": (2, 3, 2, 3, 4)}  # fmt: skip


def random_bn(rng, shape, dtype=np.float64):
    """x with its own per-channel mean and scale; random gamma (never 1), beta and buffers."""
    C, ch = shape[1], lambda v: oracle.channel(v, len(shape))  # noqa: E731
    x = rng.standard_normal(shape) * ch(rng.uniform(0.5, 3, C)) + ch(rng.normal(0, 2, C))
    gamma, beta = rng.uniform(0.5, 2, C), rng.standard_normal(C)
    running_mean, running_var = rng.standard_normal(C), rng.uniform(0.5, 2, C)
    return [a.astype(dtype) for a in (x, gamma, beta, running_mean, running_var)]


def unpack(result, fn, n):
    __tracebackhide__ = True
    assert_true(isinstance(result, tuple) and len(result) == n,
                f"{fn} must return a tuple of {n}; got {type(result).__name__}"
                f"{' of ' + str(len(result)) if isinstance(result, tuple) else ''}")  # fmt: skip
    return result


def check_forward(args, training, dtype=np.float64, momentum=0.1, eps=1e-5):
    __tracebackhide__ = True
    result = call(bn.batchnorm_forward, *args, training=training, momentum=momentum, eps=eps)
    out, _, new_mean, new_var = unpack(result, "batchnorm_forward", 4)
    want = oracle.batchnorm(*args, training=training, momentum=momentum, eps=eps)
    slips = oracle.forward_slips(args, training, momentum, eps)
    for key, mine, name in (("out", out, "out"), ("mean", new_mean, "new_running_mean"),
                            ("var", new_var, "new_running_var")):  # fmt: skip
        assert_close(mine, want[key], tol="reduction", name=name, dtype=dtype, mistakes=slips[key])


def check_backward(args, dout, dtype=np.float64, eps=1e-5):
    __tracebackhide__ = True
    _, cache, _, _ = unpack(call(bn.batchnorm_forward, *args, training=True, eps=eps),
                            "batchnorm_forward", 4)  # fmt: skip
    dx, dgamma, dbeta = unpack(call(bn.batchnorm_backward, dout, cache), "batchnorm_backward", 3)
    want = oracle.batchnorm(*args, training=True, eps=eps, dout=dout)
    dx_slips = oracle.dx_slips(args[0], args[1], dout, eps)
    assert_close(dx, want["dx"], tol="grad", name="dx", dtype=dtype, mistakes=dx_slips)
    assert_close(dgamma, want["dgamma"], tol="grad", name="dgamma", dtype=dtype,
                 mistakes={"dgamma = sum of dout, without xhat": want["dbeta"]})  # fmt: skip
    assert_close(dbeta, want["dbeta"], tol="grad", name="dbeta", dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_torch(shape, training, rng):
    check_forward(random_bn(rng, SHAPES[shape]), training)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_torch(shape, rng):
    args = random_bn(rng, SHAPES[shape])
    check_backward(args, rng.standard_normal(SHAPES[shape]))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_forward_keeps_float32(training, rng):
    check_forward(random_bn(rng, (6, 4, 3, 3), np.float32), training, np.float32)


def test_backward_keeps_float32(rng):
    args = random_bn(rng, (6, 4, 3, 3), np.float32)
    check_backward(args, rng.standard_normal((6, 4, 3, 3)).astype(np.float32), np.float32)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_momentum_and_eps_are_used(training, rng):
    """Small channels (var ~ eps) make eps matter; momentum 0.3 is not the default 0.1."""
    args = random_bn(rng, (5, 3, 4))
    check_forward([args[0] * 0.05, *args[1:]], training, momentum=0.3, eps=1e-2)


def test_backward_uses_eps(rng):
    args = random_bn(rng, (5, 3, 4))
    check_backward([args[0] * 0.05, *args[1:]], rng.standard_normal((5, 3, 4)), eps=1e-2)


drawn = dict(
    n=st.integers(1, 4), c=st.integers(1, 4), spatial=st.lists(st.integers(1, 4), max_size=3),
    layout=cs.layouts(), seed=st.integers(0, 2**32 - 1),
)  # fmt: skip


@pytest.mark.property
@given(training=st.booleans(), **drawn)
def test_forward_matches_torch_for_any_shapes_and_layouts(n, c, spatial, layout, seed, training):
    assume(not training or n * np.prod(spatial) > 1)  # torch needs two values per channel
    args = random_bn(np.random.default_rng(seed), (n, c, *spatial))
    args[0] = cs.relayout(args[0], layout)
    check_forward(args, training)


@pytest.mark.property
@given(**drawn)
def test_backward_matches_torch_for_any_shapes_and_layouts(n, c, spatial, layout, seed):
    assume(n * np.prod(spatial) > 1)
    rng = np.random.default_rng(seed)
    args = random_bn(rng, (n, c, *spatial))
    args[0], dout = cs.relayout(args[0], layout), rng.standard_normal(args[0].shape)
    check_backward(args, cs.relayout(dout, layout))


@pytest.mark.edge
def test_one_example_with_pixels_is_a_batch(rng):
    """N = 1 still has H * W values per channel: training works, statistics over the pixels."""
    args = random_bn(rng, (1, 3, 4, 5))
    check_forward(args, training=True)
    check_backward(args, rng.standard_normal((1, 3, 4, 5)))


@pytest.mark.edge
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_constant_channel_gives_beta_and_finite_gradients(dtype, rng):
    """Channel 1 holds 1.5 everywhere: var = 0, and only eps keeps 1 / sqrt(var + eps) finite."""
    args = random_bn(rng, (4, 3, 2, 2), dtype)
    args[0][:, 1] = 1.5
    check_forward(args, True, dtype)
    check_backward(args, rng.standard_normal((4, 3, 2, 2)).astype(dtype), dtype)


@pytest.mark.edge
def test_a_large_mean_does_not_cost_precision(rng):
    """x around 1e6 with spread 1: mean(x^2) - mean(x)^2 loses the variance to rounding."""
    args = random_bn(rng, (16, 3))
    args[0] = args[0] + 1e6
    check_forward(args, training=True)


@pytest.mark.edge
def test_training_with_one_value_per_channel_raises(rng):
    """(1, C): each channel has one value, no variance to estimate; torch raises ValueError."""
    try:
        call(bn.batchnorm_forward, *random_bn(rng, (1, 4)), training=True)
    except ValueError:
        return
    assert_true(False, "batchnorm_forward on x of shape (1, 4) with training=True returned; it "
                "must raise ValueError: one value per channel has no batch variance")  # fmt: skip


@pytest.mark.edge
def test_eval_returns_the_running_statistics_unchanged(rng):
    args = random_bn(rng, (6, 3, 2, 2))
    result = unpack(call(bn.batchnorm_forward, *args, training=False), "batchnorm_forward", 4)
    assert_close(result[2], args[3], tol="elementwise", name="new_running_mean")
    assert_close(result[3], args[4], tol="elementwise", name="new_running_var")
