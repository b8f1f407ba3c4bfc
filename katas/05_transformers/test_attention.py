"""attention.py: scaled dot-product attention, forward and backward, vs torch's SDPA."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import attention as oracle

att = kata("05_transformers/attention")
MASKS = ("none", "bool", "padding", "additive", "causal")


def inputs(rng, batch, L, S, E, Ev, dtype=np.float64):
    shapes = ((*batch, L, E), (*batch, S, E), (*batch, S, Ev), (*batch, L, Ev))
    return [rng.standard_normal(s).astype(dtype) for s in shapes]  # q, k, v, dout


def make_mask(kind, rng, batch, L, S, dtype=np.float64):
    """(mask, is_causal) for a kind of mask; every query keeps at least one key."""
    if kind == "bool":  # (L, S), shared by every batch
        mask = rng.random((L, S)) < 0.5
        mask[np.arange(L), rng.integers(0, S, L)] = True
        return mask, False
    if kind == "padding":  # (*batch, 1, S): sequence n has lengths[n] real keys, then padding
        lengths = np.asarray(rng.integers(1, S + 1, batch))
        return np.arange(S) < lengths[..., None, None], False
    if kind == "additive":  # (L, S): a learned-looking bias, some keys removed with -inf
        mask = rng.standard_normal((L, S)).astype(dtype)
        mask[(rng.random((L, S)) < 0.4) & (np.arange(S) > 0)] = -np.inf
        return mask, False
    return None, kind == "causal"


def options(mask, is_causal):
    """Keyword arguments as a learner would pass them: only what is not the default."""
    return {"mask": mask} if mask is not None else {"is_causal": True} if is_causal else {}


def returns(result, fn, names):
    __tracebackhide__ = True
    n = len(names.split(","))
    what = describe(result)
    assert_true(isinstance(result, tuple) and len(result) == n,
                f"{fn} must return a tuple ({names}); got {what}")  # fmt: skip


def check_forward(q, k, v, mask=None, is_causal=False):
    __tracebackhide__ = True
    result = call(att.scaled_dot_product_attention, q, k, v, **options(mask, is_causal))
    returns(result, "scaled_dot_product_attention", "out, weights")
    want_out, want_weights = oracle.forward(q, k, v, mask, is_causal)
    slips = oracle.forward_slips(q, k, v, mask, is_causal)
    assert_close(result[1], want_weights, tol="reduction", name="weights", dtype=q.dtype,
                 mistakes=slips["weights"])  # fmt: skip
    assert_close(result[0], want_out, tol="matmul", name="out", dtype=q.dtype,
                 mistakes=slips["out"])  # fmt: skip
    return result


def check_backward(dout, q, k, v, mask=None, is_causal=False):
    __tracebackhide__ = True
    fn = att.scaled_dot_product_attention_backward
    result = call(fn, dout, q, k, v, **options(mask, is_causal))
    returns(result, "scaled_dot_product_attention_backward", "dq, dk, dv")
    want = oracle.backward(dout, q, k, v, mask, is_causal)
    slips = oracle.backward_slips(dout, q, k, v, mask, is_causal)
    for name, yours, torch_grad in zip(("dq", "dk", "dv"), result, want):
        assert_close(yours, torch_grad, tol="grad", name=name, dtype=q.dtype,
                     factors={"E": q.shape[-1]}, mistakes=slips[name])  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("kind", MASKS)
def test_forward_matches_torch(kind, rng):
    q, k, v, _ = inputs(rng, (2,), L=4, S=6, E=3, Ev=5)
    check_forward(q, k, v, *make_mask(kind, rng, (2,), 4, 6))


@pytest.mark.oracle
@pytest.mark.parametrize("kind", MASKS)
def test_backward_matches_torch(kind, rng):
    q, k, v, dout = inputs(rng, (2,), L=4, S=6, E=3, Ev=5)
    check_backward(dout, q, k, v, *make_mask(kind, rng, (2,), 4, 6))


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_float32_in_float32_out(direction, rng):
    q, k, v, dout = inputs(rng, (3,), L=5, S=4, E=8, Ev=2, dtype=np.float32)
    mask, _ = make_mask("additive", rng, (3,), 5, 4, dtype=np.float32)
    if direction == "forward":
        check_forward(q, k, v, mask)
    else:
        check_backward(dout, q, k, v, mask)


def case(seed, batch, L, S, E, Ev, kind, layout):
    """Inputs for a property test, all in the drawn memory layout."""
    rng = np.random.default_rng(seed)
    q, k, v, dout = (cs.relayout(a, layout) for a in inputs(rng, batch, L, S, E, Ev))
    mask, is_causal = make_mask(kind, rng, batch, L, S)
    return q, k, v, dout, (None if mask is None else cs.relayout(mask, layout)), is_causal


SIZES = dict(batch=cs.shapes(min_dims=0, max_dims=2, max_side=3), L=st.integers(1, 4),
             S=st.integers(1, 4), E=st.integers(1, 4), Ev=st.integers(1, 4),
             kind=st.sampled_from(MASKS), layout=cs.layouts(),
             seed=st.integers(0, 2**32 - 1))  # fmt: skip


@pytest.mark.property
@settings(max_examples=30, deadline=None)
@given(**SIZES)
def test_forward_matches_torch_for_any_sizes_masks_and_layouts(batch, L, S, E, Ev, kind, layout,
                                                               seed):  # fmt: skip
    q, k, v, _, mask, is_causal = case(seed, batch, L, S, E, Ev, kind, layout)
    check_forward(q, k, v, mask, is_causal)


@pytest.mark.property
@settings(max_examples=30, deadline=None)
@given(**SIZES)
def test_backward_matches_torch_for_any_sizes_masks_and_layouts(batch, L, S, E, Ev, kind, layout,
                                                                seed):  # fmt: skip
    q, k, v, dout, mask, is_causal = case(seed, batch, L, S, E, Ev, kind, layout)
    check_backward(dout, q, k, v, mask, is_causal)


def test_permuting_keys_and_values_together_leaves_the_output_unchanged(rng):
    """Attention looks keys up by content, not by position: shuffle the (key, value) pairs
    and every query finds the same values, with its weights shuffled the same way."""
    q, k, v, _ = inputs(rng, (2,), L=3, S=5, E=4, Ev=3)
    perm = rng.permutation(5)
    out, weights = call(att.scaled_dot_product_attention, q, k[:, perm], v[:, perm])
    want_out, want_weights = oracle.forward(q, k, v)
    assert_close(weights, want_weights[..., perm], tol="reduction", name="weights")
    assert_close(out, want_out, tol="matmul", name="out")


def test_every_output_row_is_a_convex_combination_of_the_value_rows(rng):
    """Weights are a probability distribution over the keys (>= 0, each row sums to 1), so
    each output row is a weighted average of the value rows."""
    q, k, v, _ = inputs(rng, (2,), L=4, S=3, E=2, Ev=5)
    out, weights = call(att.scaled_dot_product_attention, q, k, v)
    assert_true(np.all(weights >= 0), "weights must be >= 0: they come out of a softmax")
    axis_slip = {"softmax over the query axis: columns, not rows, sum to 1": np.ones((2, 3))}
    assert_close(weights.sum(axis=-1), np.ones((2, 4)), tol="reduction",
                 name="weights.sum(axis=-1)", mistakes=axis_slip)  # fmt: skip
    assert_close(out, weights @ v, tol="matmul", name="out (compared with your weights @ v)")


def test_a_query_that_matches_one_key_retrieves_its_value(rng):
    """Keys in orthogonal directions; query i points along key i, strongly: softmax is
    nearly one-hot and out[i] is nearly v[i]. A soft, differentiable dictionary lookup."""
    E = 4
    k = 6.0 * np.eye(E)  # (S, E), S = E
    q = 6.0 * np.eye(E)[[2, 0, 3]]  # (L, E): queries for keys 2, 0 and 3
    v = rng.standard_normal((E, 3))
    out, _ = check_forward(q, k, v)  # scores: 36 / sqrt(4) = 18 for the match, 0 else
    gap = float(np.abs(out - v[[2, 0, 3]]).max())
    assert_true(gap < 1e-6, f"out should be within 1e-6 of v[[2, 0, 3]]; it is {gap:.3g} away")


@pytest.mark.edge
@pytest.mark.parametrize("L,S", [(3, 5), (5, 3)])
def test_the_causal_mask_is_aligned_top_left_when_L_differs_from_S(L, S, rng):
    q, k, v, _ = inputs(rng, (2,), L, S, E=4, Ev=3)
    check_forward(q, k, v, is_causal=True)


@pytest.mark.edge
@pytest.mark.parametrize("causal", [False, True], ids=["mask", "is_causal"])
def test_a_query_with_a_single_key_copies_that_value(causal, rng):
    """Row 0 of a causal mask, or a mask row with one True: all the weight on one key."""
    q, k, v, _ = inputs(rng, (2,), L=4, S=5, E=3, Ev=2)
    mask = np.ones((4, 5), dtype=bool)
    mask[1] = [False, False, True, False, False]
    check_forward(q, k, v, *((None, True) if causal else (mask, False)))


@pytest.mark.edge
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_scores_do_not_overflow(dtype, rng):
    """Scores near 1600: exp(1600) is inf in float64 and float32 alike; exp(score - max) is
    fine. Integer inputs keep the scores exact in float32 too."""
    q = np.concatenate([np.full((2, 3, 2), 40.0), rng.integers(-3, 4, (2, 3, 2))], axis=-1)
    k = np.concatenate([np.full((2, 5, 2), 40.0), rng.integers(-3, 4, (2, 5, 2))], axis=-1)
    v = rng.standard_normal((2, 5, 3))
    with np.errstate(over="ignore", invalid="ignore"):
        check_forward(q.astype(dtype), k.astype(dtype), v.astype(dtype))


@pytest.mark.edge
@pytest.mark.parametrize("kind", ["bool", "additive"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_a_fully_masked_row_gives_zeros_not_nan(kind, direction, rng):
    """Query 1 may look at no key: torch 2.13 returns out = 0 and zero gradients there."""
    q, k, v, dout = inputs(rng, (2,), L=3, S=4, E=2, Ev=3)
    mask = np.arange(3)[:, None] != 1  # (3, 1) -> broadcast over the keys: row 1 all False
    mask = np.where(mask, 0.0, -np.inf) if kind == "additive" else mask
    with np.errstate(invalid="ignore", divide="ignore"):
        if direction == "forward":
            check_forward(q, k, v, mask)
        else:
            check_backward(dout, q, k, v, mask)


@pytest.mark.edge
@pytest.mark.parametrize("batch", [(), (2, 1, 3)], ids=["no batch dims", "three batch dims"])
def test_any_number_of_batch_dims(batch, rng):
    q, k, v, _ = inputs(rng, batch, L=3, S=1, E=2, Ev=4)
    check_forward(q, k, v, is_causal=True)


@pytest.mark.edge
def test_a_mask_together_with_is_causal_is_refused(rng):
    q, k, v, _ = inputs(rng, (), L=3, S=3, E=2, Ev=2)
    assert_raises(ValueError, att.scaled_dot_product_attention, q, k, v,
                  mask=np.ones((3, 3), dtype=bool), is_causal=True,
                  why="pass a mask or is_causal=True, not both: torch raises an error")  # fmt: skip
