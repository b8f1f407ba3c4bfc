"""normalization.py: layer norm and group norm by hand, checked against F.layer_norm,
F.group_norm, F.instance_norm and autograd."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import normalization as oracle

norm = kata("02_training/normalization")
LN_CASES = {"(N, E) over (E,)": ((6, 5), 1), "(N, T, E) over (E,)": ((3, 4, 5), 1),
            "(N, T, E) over (T, E)": ((3, 4, 5), 2),
            "(N, C, H, W) over (C, H, W)": ((2, 3, 4, 4), 3)}  # fmt: skip
GN_CASES = {"G=1": ((4, 6, 3, 3), 1), "G=2": ((4, 6, 3, 3), 2), "G=3": ((4, 6, 3, 3), 3),
            "G=C": ((4, 6, 3, 3), 6), "(N, C, L)": ((3, 4, 5), 2),
            "(N, C)": ((5, 4), 2)}  # fmt: skip
LAYOUTS = cs.layouts()


def inputs(rng, shape, affine_shape, dtype=np.float64):
    """x with its own offset and scale; random gamma (never 1) and beta; dout."""
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3) + rng.normal(0, 2)
    gamma, beta = rng.uniform(0.5, 2, affine_shape), rng.standard_normal(affine_shape)
    return [a.astype(dtype) for a in (x, gamma, beta, rng.standard_normal(shape))]


def unpack(result, fn, n):
    __tracebackhide__ = True
    assert_true(isinstance(result, tuple) and len(result) == n,
                f"{fn} must return a tuple of {n}; got {type(result).__name__}")  # fmt: skip
    return result


def check_layernorm(x, k, gamma, beta, dout=None, dtype=np.float64, eps=1e-5):
    """Forward (dout None) or backward of layernorm against F.layer_norm + autograd."""
    __tracebackhide__ = True
    ns = x.shape[x.ndim - k :]
    out, cache = unpack(call(norm.layernorm_forward, x, ns, gamma, beta, eps=eps),
                        "layernorm_forward", 2)  # fmt: skip
    want = oracle.layer_norm(x, ns, gamma, beta, eps, dout)
    slips = oracle.layer_norm_slips(x, k, gamma, beta, eps, dout)
    if dout is None:
        return assert_close(out, want["out"], tol="reduction", name="out", dtype=dtype,
                            mistakes=slips)  # fmt: skip
    dx, dgamma, dbeta = unpack(call(norm.layernorm_backward, dout, cache), "layernorm_backward", 3)
    assert_close(dx, want["dx"], tol="grad", name="dx", dtype=dtype, mistakes=slips)
    lead, mean_slip = x.size // np.prod(ns), "a mean over the leading axes, not a sum"
    assert_close(dgamma, want["dgamma"], tol="grad", name="dgamma", dtype=dtype,
                 mistakes={"dgamma = sum of dout, without xhat": want["dbeta"],
                           mean_slip: want["dgamma"] / lead})  # fmt: skip
    assert_close(dbeta, want["dbeta"], tol="grad", name="dbeta", dtype=dtype,
                 mistakes={mean_slip: want["dbeta"] / lead})  # fmt: skip


def check_groupnorm(x, G, gamma, beta, dout=None, dtype=np.float64, eps=1e-5):
    """Forward (dout None) or backward of groupnorm against F.group_norm + autograd."""
    __tracebackhide__ = True
    out, cache = unpack(call(norm.groupnorm_forward, x, G, gamma, beta, eps=eps),
                        "groupnorm_forward", 2)  # fmt: skip
    want = oracle.group_norm(x, G, gamma, beta, eps, dout)
    slips = oracle.group_norm_slips(x, G, gamma, beta, eps, dout)
    if dout is None:
        return assert_close(out, want["out"], tol="reduction", name="out", dtype=dtype,
                            mistakes=slips)  # fmt: skip
    dx, dgamma, dbeta = unpack(call(norm.groupnorm_backward, dout, cache), "groupnorm_backward", 3)
    assert_close(dx, want["dx"], tol="grad", name="dx", dtype=dtype, mistakes=slips)
    assert_close(dgamma, want["dgamma"], tol="grad", name="dgamma", dtype=dtype,
                 mistakes={"dgamma = sum of dout, without xhat": want["dbeta"]})  # fmt: skip
    assert_close(dbeta, want["dbeta"], tol="grad", name="dbeta", dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("case", LN_CASES)
@pytest.mark.parametrize("part", ["forward", "backward"])
def test_layernorm_matches_torch(part, case, rng):
    shape, k = LN_CASES[case]
    x, gamma, beta, dout = inputs(rng, shape, shape[len(shape) - k :])
    check_layernorm(x, k, gamma, beta, dout if part == "backward" else None)


@pytest.mark.oracle
@pytest.mark.parametrize("case", GN_CASES)
@pytest.mark.parametrize("part", ["forward", "backward"])
def test_groupnorm_matches_torch(part, case, rng):
    shape, G = GN_CASES[case]
    x, gamma, beta, dout = inputs(rng, shape, shape[1])
    check_groupnorm(x, G, gamma, beta, dout if part == "backward" else None)


@pytest.mark.parametrize("part", ["forward", "backward"])
def test_float32_stays_float32(part, rng):
    x, gamma, beta, dout = inputs(rng, (4, 6, 3, 3), (3, 3), np.float32)
    check_layernorm(x, 2, gamma, beta, dout if part == "backward" else None, np.float32)
    x, gamma, beta, dout = inputs(rng, (4, 6, 3, 3), 6, np.float32)
    check_groupnorm(x, 3, gamma, beta, dout if part == "backward" else None, np.float32)


@pytest.mark.parametrize("part", ["forward", "backward"])
def test_eps_is_used(part, rng):
    x, gamma, beta, dout = inputs(rng, (3, 4, 5), 5)
    check_layernorm(x * 0.05, 1, gamma, beta, dout if part == "backward" else None, eps=0.1)
    x, gamma, beta, dout = inputs(rng, (3, 4, 5), 4)
    check_groupnorm(x * 0.05, 2, gamma, beta, dout if part == "backward" else None, eps=0.1)


@pytest.mark.property
@given(lead=st.lists(st.integers(1, 4), max_size=2),
       ns=st.lists(st.integers(1, 4), min_size=1, max_size=2), backward=st.booleans(),
       layout=LAYOUTS, seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_layernorm_matches_torch_for_any_shapes_and_layouts(lead, ns, backward, layout, seed):
    x, gamma, beta, dout = inputs(np.random.default_rng(seed), (*lead, *ns), tuple(ns))
    check_layernorm(cs.relayout(x, layout), len(ns), gamma, beta, dout if backward else None)


@pytest.mark.property
@given(n=st.integers(1, 3), groups=st.integers(1, 3), per_group=st.integers(1, 3),
       spatial=st.lists(st.integers(1, 4), max_size=2), backward=st.booleans(), layout=LAYOUTS,
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_groupnorm_matches_torch_for_any_shapes_and_layouts(
    n, groups, per_group, spatial, backward, layout, seed
):
    shape = (n, groups * per_group, *spatial)
    x, gamma, beta, dout = inputs(np.random.default_rng(seed), shape, shape[1])
    check_groupnorm(cs.relayout(x, layout), groups, gamma, beta,
                    cs.relayout(dout, layout) if backward else None)  # fmt: skip


def test_groupnorm_with_one_group_per_channel_is_instance_norm(rng):
    x, gamma, beta, _ = inputs(rng, (3, 4, 5, 5), 4)
    out, _ = unpack(call(norm.groupnorm_forward, x, 4, gamma, beta), "groupnorm_forward", 2)
    assert_close(out, oracle.instance_norm(x, gamma, beta), tol="reduction", name="out")


def test_groupnorm_with_one_group_is_layer_norm_over_channels_and_pixels(rng):
    """G = 1: layer norm over (C, H, W), then gamma and beta per channel (not per element)."""
    x, gamma, beta, _ = inputs(rng, (3, 4, 5, 5), 4)
    out, _ = unpack(call(norm.groupnorm_forward, x, 1, gamma, beta), "groupnorm_forward", 2)
    want = oracle.layer_norm_then_channel_affine(x, gamma, beta)
    assert_close(out, want, tol="reduction", name="out")


@pytest.mark.edge
@pytest.mark.parametrize("part", ["forward", "backward"])
def test_one_value_per_group_gives_beta_and_zero_dx(part, rng):
    """Layer norm over a size-1 axis, group norm with G = C on 1x1 images: var = 0, xhat = 0."""
    x, gamma, beta, dout = inputs(rng, (4, 1), 1)
    check_layernorm(x, 1, gamma, beta, dout if part == "backward" else None)
    x, gamma, beta, dout = inputs(rng, (1, 3, 1, 1), 3)
    check_groupnorm(x, 3, gamma, beta, dout if part == "backward" else None)


@pytest.mark.edge
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_constant_group_stays_finite(dtype, rng):
    """Example 0's second group holds 1.5 everywhere: only eps keeps 1 / sqrt(var + eps) finite."""
    x, gamma, beta, dout = inputs(rng, (2, 4, 3), 4, dtype)
    x[0, 2:] = 1.5
    check_groupnorm(x, 2, gamma, beta, None, dtype)
    check_groupnorm(x, 2, gamma, beta, dout, dtype)


@pytest.mark.edge
def test_groupnorm_rejects_groups_that_do_not_divide_the_channels(rng):
    """C = 3 with G = 2: reshaping (N, 2, -1) would still work, silently mixing channels."""
    x, gamma, beta, _ = inputs(rng, (2, 3, 2, 2), 3)
    try:
        call(norm.groupnorm_forward, x, 2, gamma, beta)
    except ValueError:
        return
    assert_true(False, "groupnorm_forward(x, 2, gamma, beta) with C = 3 channels returned; "
                "it must raise ValueError: 2 groups cannot split 3 channels evenly")  # fmt: skip
