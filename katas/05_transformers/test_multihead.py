"""multihead.py: multi-head attention in nn.MultiheadAttention's layout vs the module itself."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import multihead as oracle

mha = kata("05_transformers/multihead")


def make_params(rng, E, dtype=np.float64, scale=1.0):
    """Weights ~ N(0, 1/E) times scale; random biases (torch starts them at 0, which hides them)."""
    shapes = {"in_proj_weight": (3 * E, E), "in_proj_bias": (3 * E,),
              "out_proj.weight": (E, E), "out_proj.bias": (E,)}  # fmt: skip
    std = {"in_proj_weight": scale / np.sqrt(E), "out_proj.weight": 1 / np.sqrt(E)}
    return {n: (rng.standard_normal(s) * std.get(n, 0.5)).astype(dtype) for n, s in shapes.items()}


def inputs(rng, N, L, S, E, dtype=np.float64, cross=True):
    """query (N, L, E), key and value (N, S, E); self-attention passes one array three times."""
    query = rng.standard_normal((N, L, E)).astype(dtype)
    if not cross:
        return query, query, query
    return query, *(rng.standard_normal((N, S, E)).astype(dtype) for _ in range(2))


def check_forward(query, key, value, params, H, dtype=np.float64, **kw):
    __tracebackhide__ = True
    result = call(mha.multihead_attention_forward, query, key, value, params, H, **kw)
    assert_true(isinstance(result, tuple) and len(result) == 3,
                "multihead_attention_forward must return (out, weights, cache)")  # fmt: skip
    out, weights, cache = result
    want = oracle.mha(query, key, value, params, H, **kw)
    slips = oracle.slips(query, key, value, params, H, **kw)
    assert_close(out, want["out"], tol="matmul", name="out", dtype=dtype, mistakes=slips["out"])
    if want["weights"] is None:
        assert_true(weights is None, f"need_weights=False: weights must be None; "
                                     f"got {describe(weights)}")  # fmt: skip
    else:
        assert_close(weights, want["weights"], tol="matmul", name="weights", dtype=dtype,
                     factors={"H": H}, mistakes=slips["weights"])  # fmt: skip
    return cache


def check_backward(query, key, value, params, H, dout, dtype=np.float64, **kw):
    __tracebackhide__ = True
    cache = check_forward(query, key, value, params, H, dtype, **kw)
    grads = call(mha.multihead_attention_backward, dout, cache)
    what = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
    assert_true(isinstance(grads, dict) and set(oracle.GRADS) <= set(grads),
                f"multihead_attention_backward must return a dict with keys {oracle.GRADS}; "
                f"got {what}")  # fmt: skip
    want = oracle.mha(query, key, value, params, H, dout=dout, **kw)
    slips = oracle.slips(query, key, value, params, H, dout=dout, **kw)
    d = query.shape[-1] // H
    for name in oracle.GRADS:
        assert_close(grads[name], want[name], tol="grad", name=f'grads["{name}"]', dtype=dtype,
                     factors={"d": d}, mistakes=slips[name])  # fmt: skip


def masks(rng, kind, N, L, S, H):
    """(key_padding_mask, attn_mask) of a kind; every query keeps at least key 0."""
    kpm = np.arange(S) >= S - np.arange(N)[:, None]  # (N, S): sequence n has n padding keys
    causal = np.triu(np.ones((L, S), dtype=bool), k=1)  # True above the diagonal: the future
    per_head = rng.random((N * H, L, S)) < 0.5
    per_head[..., 0] = False
    floats = rng.standard_normal((L, S))
    floats[1:, -1] = -np.inf
    return {
        "padding, bool": (kpm, None),
        "padding, float": (np.where(kpm, -np.inf, rng.standard_normal((N, S))), None),
        "causal, bool": (None, causal),
        "float (L, S)": (None, floats),
        "per head, bool (N*H, L, S)": (None, per_head),
        "causal and padding": (kpm, causal),
    }[kind]


@pytest.mark.oracle
def test_split_and_merge_heads_match_torch_layout(rng):
    x = rng.standard_normal((2, 3, 8))
    heads = call(mha.split_heads, x, 4)
    slip = {"split as (N, L, d, H)": x.reshape(2, 3, 2, 4).transpose(0, 3, 1, 2)}
    assert_close(heads, oracle.split_heads(x, 4), tol="elementwise", name="heads", mistakes=slip)
    h = rng.standard_normal((2, 4, 3, 2))
    merged = call(mha.merge_heads, h)
    slip = {"reshaped to (N, L, E) without moving the head axis back": h.reshape(2, 3, 8)}
    assert_close(merged, oracle.merge_heads(h), tol="elementwise", name="merged", mistakes=slip)


@pytest.mark.oracle
@pytest.mark.parametrize("average", [True, False], ids=["averaged weights", "per-head weights"])
def test_self_attention_matches_torch(average, rng):
    query, key, value = inputs(rng, 2, 4, 4, 6, cross=False)
    check_forward(query, key, value, make_params(rng, 6), 3, average_attn_weights=average)


@pytest.mark.oracle
def test_cross_attention_matches_torch(rng):
    check_forward(*inputs(rng, 2, 3, 5, 8), make_params(rng, 8), 2)


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["padding, bool", "padding, float", "causal, bool",
                                  "float (L, S)", "per head, bool (N*H, L, S)",
                                  "causal and padding"])  # fmt: skip
def test_masks_match_torch(kind, rng):
    kpm, am = masks(rng, kind, 3, 4, 4, 2)
    query, key, value = inputs(rng, 3, 4, 4, 6)
    check_forward(query, key, value, make_params(rng, 6), 2, key_padding_mask=kpm, attn_mask=am,
                  average_attn_weights=False)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("need_weights", [True, False])
def test_sequence_first_layout_matches_torch(need_weights, rng):
    query, key, value = (x.transpose(1, 0, 2) for x in inputs(rng, 2, 3, 3, 4))  # (L, N, E)
    check_forward(query, key, value, make_params(rng, 4), 2, batch_first=False,
                  need_weights=need_weights)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("case", ["self-attention", "cross-attention", "causal and padding",
                                  "sequence first"])  # fmt: skip
def test_backward_matches_torch(case, rng):
    N, L, S, E, H = 3, 4, 4 if case != "cross-attention" else 6, 6, 2
    query, key, value = inputs(rng, N, L, S, E, cross=case != "self-attention")
    kw = {"batch_first": False} if case == "sequence first" else {}
    if case == "causal and padding":
        kw["key_padding_mask"], kw["attn_mask"] = masks(rng, case, N, L, S, H)
    if case == "sequence first":
        query, key, value = (x.transpose(1, 0, 2) for x in (query, key, value))
    dout = rng.standard_normal(query.shape)
    check_backward(query, key, value, make_params(rng, E), H, dout, **kw)


def test_float32_stays_float32(rng):
    query, key, value = inputs(rng, 2, 3, 4, 4, np.float32)
    dout = rng.standard_normal((2, 3, 4)).astype(np.float32)
    check_backward(query, key, value, make_params(rng, 4, np.float32), 2, dout, np.float32)


@pytest.mark.property
@settings(max_examples=15, deadline=None)
@given(N=st.integers(1, 3), L=st.integers(1, 4), S=st.integers(1, 4), H=st.integers(1, 3),
       d=st.integers(1, 3), batch_first=st.booleans(), padded=st.booleans(),
       blocked=st.booleans(), layout=cs.layouts(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_any_sizes_layouts_and_masks_match_torch(N, L, S, H, d, batch_first, padded, blocked,
                                                 layout, seed):  # fmt: skip
    rng = np.random.default_rng(seed)
    query, key, value = inputs(rng, N, L, S, H * d)
    keep = rng.integers(S)  # a key every query may see, so no row is fully masked
    kw = {"batch_first": batch_first}
    if padded:
        kw["key_padding_mask"] = (rng.random((N, S)) < 0.5) & (np.arange(S) != keep)
    if blocked:
        kw["attn_mask"] = (rng.random((L, S)) < 0.5) & (np.arange(S) != keep)
    if not batch_first:
        query, key, value = (x.transpose(1, 0, 2) for x in (query, key, value))
    query, key, value = (cs.relayout(x, layout) for x in (query, key, value))
    params = {n: cs.relayout(p, layout) for n, p in make_params(rng, H * d).items()}
    dout = cs.relayout(rng.standard_normal(query.shape), layout)
    check_backward(query, key, value, params, H, dout, **kw)


@pytest.mark.edge
@pytest.mark.parametrize(
    "L,S,H",
    [(1, 1, 2), (3, 5, 1), (3, 5, 6)],
    ids=["length-one sequences", "one head", "one feature per head"],
)
def test_size_one_sides(L, S, H, rng):
    query, key, value = inputs(rng, 2, L, S, 6)
    check_backward(query, key, value, make_params(rng, 6), H, rng.standard_normal((2, L, 6)),
                   average_attn_weights=False)  # fmt: skip


@pytest.mark.edge
def test_large_scores_give_a_finite_softmax(rng):
    """in_proj weights 40x larger give scores in the thousands: exp overflows unless shifted."""
    query, key, value = inputs(rng, 2, 3, 4, 4)
    params = make_params(rng, 4, scale=40.0)
    check_backward(query, key, value, params, 2, rng.standard_normal((2, 3, 4)))


@pytest.mark.edge
def test_a_fully_padded_sequence_leaves_the_others_alone(rng):
    """Sequence 1 is all padding: NaN there (or zeros, torch's fused path); the rest as usual."""
    query, key, value = inputs(rng, 3, 2, 4, 4)
    params, kpm = make_params(rng, 4), np.zeros((3, 4), dtype=bool)
    kpm[0, 2:], kpm[1] = True, True
    with np.errstate(invalid="ignore", divide="ignore"):
        out, weights, _ = call(mha.multihead_attention_forward, query, key, value, params, 2,
                               key_padding_mask=kpm)  # fmt: skip
    want = oracle.mha(query, key, value, params, 2, key_padding_mask=kpm)
    if isinstance(out, np.ndarray) and out.shape == want["out"].shape and np.isfinite(out[1]).all():
        want["out"][1], want["weights"][1] = params["out_proj.bias"], 0.0  # the fused path's
    kpm[1] = False  # what a finite stand-in for -inf (-1e9) gives: row 1 attends evenly to all
    even = oracle.mha(query, key, value, params, 2, key_padding_mask=kpm)
    slip = "-inf replaced by a large finite number: an all-padding row attends to the padding"
    assert_close(out, want["out"], tol="matmul", name="out", mistakes={slip: even["out"]})
    assert_close(weights, want["weights"], tol="matmul", name="weights")


@pytest.mark.edge
def test_heads_must_divide_the_embedding(rng):
    query, key, value = inputs(rng, 1, 2, 2, 6)
    assert_raises(ValueError, mha.multihead_attention_forward, query, key, value,
                  make_params(rng, 6), 4, why="E = 6 cannot be split into 4 heads")  # fmt: skip
