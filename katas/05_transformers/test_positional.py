"""positional.py: sinusoidal, learned and rotary positions vs torch float64 references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import positional as oracle
from reference.oracles import tensor

pos = kata("05_transformers/positional")
ODD_SLIP = "odd E built as E + 1 columns, the last dropped"


def check_sinusoidal(L, E):
    __tracebackhide__ = True
    pe = call(pos.sinusoidal_encoding, L, E)
    mistakes = oracle.slips(oracle.sinusoidal, oracle.SINUSOIDAL_SLIPS + (ODD_SLIP,), L, E)
    assert_close(pe, oracle.sinusoidal(L, E), tol="elementwise", name="PE", mistakes=mistakes)
    return pe


@pytest.mark.oracle
@pytest.mark.parametrize("L,E", [(10, 16), (64, 32), (7, 6)])
def test_sinusoidal_encoding_matches_torch(L, E):
    check_sinusoidal(L, E)


@pytest.mark.edge
@pytest.mark.parametrize("L,E", [(9, 5), (4, 1), (1, 3)])
def test_odd_E_ends_with_an_unpaired_sin_column(L, E):
    check_sinusoidal(L, E)


@pytest.mark.property
@settings(max_examples=20)
@given(L=st.integers(1, 40), E=st.integers(1, 24))
def test_sinusoidal_encoding_matches_torch_for_any_size(L, E):
    pe = check_sinusoidal(L, E)
    assert_true(np.all(np.abs(pe) <= 1), "every value of PE is a sin or a cos: in [-1, 1]")


@pytest.mark.oracle
@pytest.mark.parametrize("k", [0, 1, 5, -3])
def test_relative_shift_matrix_matches_torch(k):
    M = call(pos.relative_shift_matrix, k, 8)
    mistakes = {
        "M_(-k): the blocks transposed, a rotation the wrong way": oracle.shift_matrix(-k, 8)
    }
    assert_close(M, oracle.shift_matrix(k, 8), tol="elementwise", name="M_k", mistakes=mistakes)


@pytest.mark.property
@settings(max_examples=20)
@given(k=st.integers(-30, 30), half=st.integers(1, 16))
def test_shifting_by_k_is_one_fixed_linear_map_for_every_position(k, half):
    """PE[p + k] = PE[p] @ M_k for every p at once: the rows p + k of the table."""
    E, L = 2 * half, 50
    pe = oracle.sinusoidal(L, E)
    M = call(pos.relative_shift_matrix, k, E)
    p = np.arange(max(0, -k), min(L, L - k))  # every p with p and p + k inside the table
    assert_close(pe[p] @ M, pe[p + k], tol="matmul", name="PE[p] @ M_k (compared with PE[p + k])")


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_add_positions_matches_torch(dtype, rng):
    x, pe = rng.standard_normal((3, 5, 4)).astype(dtype), oracle.sinusoidal(12, 4)
    y = call(pos.add_positions, x, pe)
    want = tensor(x) + tensor(pe)[:5]  # torch broadcasts (5, 4) over (3, 5, 4) the same way
    assert_close(y, want, tol="elementwise", name="y", dtype=dtype, mistakes={
        "the LAST L rows of pe added (pe[-L:])": x + pe[-5:]})  # fmt: skip
    y = call(pos.add_positions, x[0], pe)  # one sequence, no batch axis
    assert_close(y, x[0] + pe[:5], tol="elementwise", name="y for x (L, E)", dtype=dtype)


@pytest.mark.edge
def test_add_positions_refuses_a_table_shorter_than_the_sequence(rng):
    assert_raises(ValueError, pos.add_positions, rng.standard_normal((2, 6, 4)),
                  oracle.sinusoidal(5, 4), why="6 positions, a table of 5")  # fmt: skip


@pytest.mark.oracle
def test_embedding_forward_matches_torch(rng):
    positions, table = rng.integers(0, 10, (3, 7)), rng.standard_normal((10, 4)).astype(np.float32)
    out = call(pos.embedding_forward, positions, table)
    want = oracle.embedding(positions, table)
    assert_close(out, want, tol="elementwise", name="out", dtype=np.float32)


@pytest.mark.oracle
def test_embedding_backward_matches_torch(rng):
    positions, dout = rng.integers(0, 10, (3, 7)), rng.standard_normal((3, 7, 4))
    dtable = call(pos.embedding_backward, dout, positions, 10)
    want = oracle.embedding(positions, rng.standard_normal((10, 4)), dout)
    mistakes = oracle.buffered(dout, positions, 10)
    assert_close(dtable, want, tol="grad", name="dtable", mistakes=mistakes)


@pytest.mark.edge
def test_a_repeated_position_accumulates_every_gradient(rng):
    positions = np.array([[0, 2, 2, 2], [2, 0, 3, 3]])  # 2 three times, position 1 unused
    dout = rng.standard_normal((2, 4, 3)).astype(np.float32)
    dtable = call(pos.embedding_backward, dout, positions, 5)
    want = oracle.embedding(positions, np.zeros((5, 3)), dout)
    mistakes = oracle.buffered(dout, positions, 5)
    assert_close(dtable, want, tol="grad", name="dtable", dtype=np.float32, mistakes=mistakes)


@pytest.mark.edge
@pytest.mark.parametrize("bad", [-1, 6])
def test_embedding_refuses_positions_outside_the_table(bad, rng):
    why = f"position {bad} is not a row of a 6-row table"
    assert_raises(IndexError, pos.embedding_forward, np.array([0, bad, 2]),
                  rng.standard_normal((6, 3)), why=why)  # fmt: skip


@pytest.mark.property
@settings(max_examples=20)
@given(shape=cs.shapes(1, 3, max_side=4), P=st.integers(1, 6), E=st.integers(1, 4),
       layout=cs.layouts(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_embedding_any_shapes_and_layouts_match_torch(shape, P, E, layout, seed):
    rng = np.random.default_rng(seed)
    positions = cs.relayout(rng.integers(0, P, shape), layout)
    table = cs.relayout(rng.standard_normal((P, E)), layout)
    dout = cs.relayout(rng.standard_normal(shape + (E,)), layout)
    out = call(pos.embedding_forward, positions, table)
    assert_close(out, oracle.embedding(positions, table), tol="elementwise", name="out")
    dtable = call(pos.embedding_backward, dout, positions, P)
    assert_close(dtable, oracle.embedding(positions, table, dout), tol="grad", name="dtable")


def check_rotary(x, positions, base=10000.0):
    __tracebackhide__ = True
    out = call(pos.rotary, x, positions, base=base)
    names = oracle.ROTARY_SLIPS + ((oracle.FLOAT32_SLIP,) if x.dtype == np.float32 else ())
    mistakes = oracle.slips(oracle.rotary, names, x, positions, base)
    assert_close(out, oracle.rotary(x, positions, base), tol="elementwise", name="out",
                 dtype=x.dtype, mistakes=mistakes)  # fmt: skip
    return out


@pytest.mark.oracle
@pytest.mark.parametrize("base", [10000.0, 500.0])
def test_rotary_matches_torch(base, rng):
    x = rng.standard_normal((2, 3, 5, 8))  # (N, heads, L, E)
    check_rotary(x, 7 + np.arange(5), base)  # a chunk that starts at position 7
    check_rotary(x[0], rng.permutation(20)[:5], base)  # any positions, in any order


@pytest.mark.property
@settings(max_examples=20)
@given(x=cs.arrays(cs.shapes(2, 4, max_side=4).map(lambda s: s[:-1] + (2 * s[-1],))),
       shift=st.integers(-50, 50), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_rotary_keeps_norms_and_scores_see_only_relative_positions(x, shift, seed):
    positions = np.random.default_rng(seed).integers(0, 100, x.shape[-2])
    out = check_rotary(x, positions)
    assert_close(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1), tol="reduction",
                 name="|rotary(x)| (compared with |x|: rotations keep lengths)")  # fmt: skip
    q, k = x, x[..., ::-1, :]  # two different sequences of vectors
    scores = out @ np.swapaxes(call(pos.rotary, k, positions), -1, -2)
    moved = call(pos.rotary, q, positions + shift) @ np.swapaxes(
        call(pos.rotary, k, positions + shift), -1, -2)  # fmt: skip
    assert_close(moved, scores, tol="matmul", name=f"the scores with every position + {shift}")


@pytest.mark.edge
def test_rotary_float32_at_large_positions(rng):
    """m * theta in float32 is off by ~1e-4 radians at m = 5000: angles need float64."""
    x = rng.standard_normal((4, 16)).astype(np.float32)
    check_rotary(x, np.array([0, 1, 4999, 8191]))


@pytest.mark.edge
def test_odd_E_is_refused_where_features_must_pair(rng):
    assert_raises(ValueError, pos.rotary, rng.standard_normal((3, 5)), np.arange(3),
                  why="E = 5: rotary rotates pairs of features")  # fmt: skip
    assert_raises(ValueError, pos.relative_shift_matrix, 2, 5,
                  why="E = 5: the last sin column has no cos partner to rotate with")  # fmt: skip


@pytest.mark.parametrize("how", ["sinusoidal added to x", "rotary on q and k"])
def test_positions_break_attentions_permutation_equivariance(how, rng):
    """Without positions, permuting the tokens permutes attention's outputs: order is invisible."""
    L, E = 6, 8
    x = rng.standard_normal((L, E))
    Wq, Wk, Wv = (rng.standard_normal((E, E)) / np.sqrt(E) for _ in range(3))
    perm = np.roll(np.arange(L), 2)  # every token moves

    def attention(x, positions=None):
        q, k = x @ Wq, x @ Wk
        if positions is not None:
            q, k = check_rotary(q, positions), check_rotary(k, positions)
        return oracle.attend(q, k, x @ Wv)

    # no positions: attention(x[perm]) == attention(x)[perm], a fact of torch's attention
    assert np.allclose(oracle.attend(*(x[perm] @ W for W in (Wq, Wk, Wv))), attention(x)[perm])
    if how == "sinusoidal added to x":
        pe = oracle.sinusoidal(L, E)
        y, y_perm = call(pos.add_positions, x, pe), call(pos.add_positions, x[perm], pe)
        assert_close(y_perm, x[perm] + pe, tol="elementwise", name="y")
        out, out_perm = attention(y), attention(y_perm)
    else:
        slots = np.arange(L)
        out, out_perm = attention(x, slots), attention(x[perm], slots)
        # positions that travel with their tokens: the same sentence, stored in another order
        together = "attention with the tokens and their positions permuted together"
        assert_close(attention(x[perm], slots[perm]), out[perm], tol="matmul", name=together)
    assert_true(
        not np.allclose(out_perm, out[perm]),
        f"with positions ({how}), moving the tokens must change what attention computes",
    )
