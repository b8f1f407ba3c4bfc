"""masking.py: padding masks and a masked tanh RNN vs packed sequences through nn.RNN."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import masking as oracle

mod = kata("04_rnn/masking")


def make_params(rng, D, H, dtype=np.float64):
    return {"W_ih": (rng.standard_normal((H, D)) * 0.6).astype(dtype),
            "W_hh": (rng.standard_normal((H, H)) * 0.6).astype(dtype),
            "b_ih": (rng.standard_normal(H) * 0.3).astype(dtype),
            "b_hh": (rng.standard_normal(H) * 0.3).astype(dtype)}  # fmt: skip


def make_batch(rng, lengths, D, H, T=None, dtype=np.float64):
    """(xs, lengths, h0, params), xs with garbage (|x| in 2..4) in the padding."""
    lengths = np.asarray(lengths)
    T = int(lengths.max()) if T is None else T
    xs = rng.standard_normal((T, len(lengths), D))
    pad = ~(np.arange(T)[:, None] < lengths[None])
    xs[pad] = rng.choice([-1, 1], (pad.sum(), D)) * rng.uniform(2, 4, (pad.sum(), D))  # garbage
    h0 = rng.standard_normal((len(lengths), H)).astype(dtype)
    return xs.astype(dtype), lengths, h0, make_params(rng, D, H, dtype)


def check_mask(lengths, T):
    __tracebackhide__ = True
    mask = call(mod.length_mask, lengths, T)
    got = getattr(mask, "dtype", type(mask).__name__)
    assert_true(isinstance(mask, np.ndarray) and mask.dtype == bool,
                f"length_mask must return a bool ndarray; got {got}")  # fmt: skip
    want = oracle.length_mask(lengths, T)
    shifted = np.arange(T)[:, None] <= np.asarray(lengths)[None]
    assert_close(mask.astype(np.float64), want.astype(np.float64), name="mask (as 0/1)",
                 mistakes={"t <= length counted as real (one step too many)":
                           shifted.astype(np.float64)})  # fmt: skip


def check_masked(xs, lengths, h0, params, dtype=np.float64):
    __tracebackhide__ = True
    result = call(mod.run_masked, xs, lengths, h0, params)
    assert_true(isinstance(result, tuple) and len(result) == 2,
                f"run_masked must return a tuple (hs, h_last); got {type(result).__name__}"
                )  # fmt: skip
    hs, h_last = result
    want_hs, want_last = oracle.packed(xs, lengths, h0, params)
    variants = {"padded steps update h (no mask on the state)": {"update_pad": True},
                "padded steps' outputs not zeroed": {"zero_out": False},
                "mask off by one: step t = length treated as real": {"shift": 1},
                "h_last taken from hs[T-1], not from each sequence's last real step":
                    {"last": "hs[-1]"}}  # fmt: skip
    runs = {label: oracle.slip(xs, lengths, h0, params, **kw) for label, kw in variants.items()}
    assert_close(hs, want_hs, tol="matmul", name="hs", dtype=dtype,
                 mistakes={label: r[0] for label, r in runs.items()})  # fmt: skip
    assert_close(h_last, want_last, tol="matmul", name="h_last", dtype=dtype,
                 mistakes={label: r[1] for label, r in runs.items()})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("lengths,T", [([3, 1, 4, 2], 4), ([2, 5, 5], 6), ([1], 1), ([1, 1], 3)],
                         ids=["unsorted", "longer-T", "one-step", "all-length-1"])  # fmt: skip
def test_length_mask_matches_torch(lengths, T):
    check_mask(lengths, T)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_run_masked_matches_packed_sequence(dtype, rng):
    """Unsorted lengths: torch sorts internally (enforce_sorted=False), you do not have to."""
    check_masked(*make_batch(rng, [3, 6, 1, 4, 6], 3, 4, dtype=dtype), dtype=dtype)


@pytest.mark.oracle
def test_final_state_equals_running_each_sequence_alone(rng):
    xs, lengths, h0, params = make_batch(rng, [5, 2, 7, 1], 3, 4)
    _, h_last = call(mod.run_masked, xs, lengths, h0, params)
    want = oracle.alone(xs, lengths, h0, params)
    bad = oracle.slip(xs, lengths, h0, params, update_pad=True)[1]
    assert_close(h_last, want, tol="matmul", name="h_last",
                 mistakes={"padded steps update h: the padding ran through the cell": bad}
                 )  # fmt: skip


@pytest.mark.property
@given(N=st.integers(1, 4), T=st.integers(1, 6), D=st.integers(1, 3), H=st.integers(1, 4),
       data=st.data(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_run_masked_matches_torch_for_any_shapes_and_layouts(N, T, D, H, data, seed):
    lengths = np.array(data.draw(st.lists(st.integers(1, T), min_size=N, max_size=N)))
    xs = data.draw(cs.arrays((T, N, D), min_value=-3, max_value=3), label="xs")
    rng = np.random.default_rng(seed)
    h0 = cs.noncontiguous(rng.standard_normal((N, H)))
    params = {k: cs.noncontiguous(v) if v.ndim == 2 else v
              for k, v in make_params(rng, D, H).items()}  # fmt: skip
    check_mask(lengths, T)
    check_masked(xs, lengths, h0, params)


@pytest.mark.edge
def test_every_sequence_of_length_one(rng):
    """Only step 0 is real: h_last is one cell step from h0, every later output is zero."""
    check_masked(*make_batch(rng, [1, 1, 1], 2, 3, T=4))


@pytest.mark.edge
def test_equal_lengths_need_no_masking(rng):
    """All lengths = T: the same as a plain nn.RNN over the whole batch."""
    check_masked(*make_batch(rng, [5, 5, 5], 3, 4))


@pytest.mark.edge
def test_one_full_length_sequence_among_shorter_ones(rng):
    """The longest sequence fills T; the others must stop early and keep their state."""
    check_masked(*make_batch(rng, [6, 2, 3], 3, 4))


@pytest.mark.edge
def test_a_batch_of_one_shorter_than_T(rng):
    """N = 1 with padding: no other sequence in the batch to hide a mistake behind."""
    check_masked(*make_batch(rng, [3], 2, 3, T=5))
