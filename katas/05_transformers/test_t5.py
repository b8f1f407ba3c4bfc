"""t5.py: relative position buckets vs transformers' T5Attention, span corruption vs T5's
reference preprocessors and T5Tokenizer, task formats vs t5.data.preprocessors."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import t5 as oracle

t5 = kata("05_transformers/t5")
SIDES = pytest.mark.parametrize("bidirectional", [True, False], ids=["encoder", "decoder"])
FIGURE_2 = "Thank you for inviting me to your party last week."
WORDS = FIGURE_2.replace(".", " .").split()  # the tokens of FIGURE_2, one per word


def check_buckets(rp, bidirectional, num_buckets, max_distance):
    __tracebackhide__ = True
    out = call(t5.relative_position_bucket, rp, bidirectional, num_buckets, max_distance)
    want = oracle.buckets(rp, bidirectional, num_buckets, max_distance)
    want = oracle.accept_float_ties(out, want, rp, bidirectional, num_buckets, max_distance)
    slips = oracle.bucket_slips(rp, bidirectional, num_buckets, max_distance)
    assert_close(out, want, name="buckets", mistakes=slips)


def check_matrix(L, S, bidirectional, num_buckets, max_distance):
    __tracebackhide__ = True
    out = call(t5.bucket_matrix, L, S, bidirectional, num_buckets, max_distance)
    want = oracle.bucket_matrix(L, S, bidirectional, num_buckets, max_distance)
    rp = np.arange(S)[None, :] - np.arange(L)[:, None]  # key - query, as compute_bias
    want = oracle.accept_float_ties(out, want, rp, bidirectional, num_buckets, max_distance)
    slips = {"query - key where T5 takes key - query (sign flipped)":
             oracle.buckets(-rp, bidirectional, num_buckets, max_distance)}  # fmt: skip
    assert_close(out, want, name="the (L, S) bucket matrix", mistakes=slips)


@pytest.mark.oracle
@SIDES
@pytest.mark.parametrize("num_buckets,max_distance", [(32, 128), (16, 64), (10, 40), (34, 27)])
def test_relative_position_bucket_matches_transformers(bidirectional, num_buckets, max_distance):
    rp = np.arange(-3 * max_distance, 3 * max_distance + 1)
    check_buckets(rp, bidirectional, num_buckets, max_distance)


@pytest.mark.oracle
@SIDES
@pytest.mark.parametrize("L,S", [(12, 20), (150, 150), (1, 9), (9, 1)])
def test_bucket_matrix_matches_compute_bias(L, S, bidirectional):
    check_matrix(L, S, bidirectional, 32, 128)


@pytest.mark.oracle
@SIDES
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_position_bias_matches_t5_attention(bidirectional, dtype, rng):
    table = rng.standard_normal((20, 3)).astype(dtype)  # 20 buckets, 3 heads
    out = call(t5.position_bias, table, 6, 140, bidirectional, 50)
    want = oracle.bias(table, 6, 140, bidirectional, 50)
    assert_close(out, want, name="bias (H, L, S)", dtype=dtype)


@st.composite
def configs(draw):
    """(bidirectional, num_buckets, max_distance) in the domain T5's formula is defined on."""
    bidirectional = draw(st.booleans())
    num_buckets = draw(st.integers(4 if bidirectional else 2, 80))
    max_exact = (num_buckets // 2 if bidirectional else num_buckets) // 2
    return bidirectional, num_buckets, max_exact + draw(st.integers(1, 300))


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(config=configs(), shape=cs.shapes(1, 3, 1, 6), layout=cs.layouts(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_buckets_match_transformers_for_any_config_and_layout(config, shape, layout, seed):
    max_distance = config[2]
    rp = np.random.default_rng(seed).integers(-3 * max_distance, 3 * max_distance + 1, shape)
    check_buckets(cs.relayout(rp, layout), *config)


@pytest.mark.property
@settings(deadline=None)
@given(config=configs(), L=st.integers(1, 40), S=st.integers(1, 40))
def test_bucket_matrix_matches_compute_bias_for_any_lengths(config, L, S):
    check_matrix(L, S, *config)


@pytest.mark.edge
@pytest.mark.parametrize("bidirectional,num_buckets,max_distance",
                         [(True, 32, 128), (False, 32, 128), (True, 10, 40), (False, 7, 20),
                          (True, 4, 3), (False, 2, 5)])  # fmt: skip
def test_distances_at_the_exact_log_boundary_and_at_max_distance(
    bidirectional, num_buckets, max_distance
):
    max_exact = (num_buckets // 2 if bidirectional else num_buckets) // 2
    n = [0, 1, max_exact - 1, max_exact, max_exact + 1, max_distance - 1, max_distance,
         max_distance + 1, 10 * max_distance]  # fmt: skip
    n = np.unique(np.clip(n, 0, None))
    check_buckets(np.concatenate([-n[::-1], n]), bidirectional, num_buckets, max_distance)


# ----------------------------------------------------------------------------- span corruption


def check_mask(mask, length, density, mean, counts):
    __tracebackhide__ = True
    what = f"random_spans_noise_mask({length}, {density}, {mean}, rng)"
    assert_true(isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == (length,),
                f"{what} must return a bool array of shape ({length},); got {mask!r}")  # fmt: skip
    runs = oracle.runs(mask)
    noise, spans = int(mask.sum()), sum(v for v, _ in runs)
    assert_true(not mask[0], f"{what} starts with noise: {mask.astype(int)}. T5's masks "
                "alternate kept, noise, kept, ... starting with KEPT tokens.")  # fmt: skip
    assert_true((noise, spans) == counts or length < 2,
                f"{what} gave {noise} noise tokens in {spans} spans; T5 gives {counts[0]} in "
                f"{counts[1]}: round(max(length, 2) * noise_density), clipped to [1, length - 1], "
                "then round(that / mean_noise_span_length), at least 1; round half to even "
                f"(np.round(2.5) = 2).\nMask: {mask.astype(int)}")  # fmt: skip
    assert_true(length < 2 or mask[-1], f"{what} ends with kept tokens: {mask.astype(int)}. As "
                "many kept runs as noise spans, kept first, means noise comes last.")  # fmt: skip


COUNTS = [  # (length, noise_density, mean_noise_span_length), (noise tokens, noise spans)
    ((568, 0.15, 3.0), (85, 28)),  # T5's pre-training: 568 tokens -> 512 inputs
    ((10, 0.25, 2.0), (2, 1)),  # 2.5 rounds to 2 (half to even)
    ((14, 0.25, 1.0), (4, 4)),  # 3.5 rounds to 4
    ((20, 0.5, 4.0), (10, 2)),  # 10 / 4 = 2.5 spans rounds to 2
    ((18, 0.25, 3.0), (4, 1)),  # 4.5 -> 4; 4 / 3 -> 1
    ((3, 0.1, 3.0), (1, 1)),  # 0.3 -> 0, raised to 1: never an empty mask
    ((2, 0.9, 1.0), (1, 1)),  # 1.8 -> 2, cut to 1: always a kept token
]


@pytest.mark.parametrize("args,counts", COUNTS)
def test_noise_mask_counts_follow_t5_rounding(args, counts, rng):
    check_mask(call(t5.random_spans_noise_mask, *args, rng), *args, counts)


@pytest.mark.property
@settings(deadline=None)
@given(length=st.integers(1, 200), density=st.floats(0.05, 0.5), mean=st.floats(1.0, 6.0),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_noise_mask_has_t5s_counts_for_any_length(length, density, mean, seed):
    counts = oracle.expected_counts(length, density, mean)
    assume(counts[1] <= max(length, 2) - counts[0])  # else T5's reference fails too
    mask = call(t5.random_spans_noise_mask, length, density, mean, np.random.default_rng(seed))
    check_mask(mask, length, density, mean, counts)
    again = t5.random_spans_noise_mask(length, density, mean, np.random.default_rng(seed))
    assert_true(np.array_equal(mask, again), "two generators with the same seed gave two masks: "
                "draw every random number from rng, not from np.random.")  # fmt: skip


def test_every_split_into_spans_is_equally_likely(rng):
    """9 tokens, 3 noise spans of 1: the 6 kept tokens split into 3 runs in 10 ways."""
    seen = Counter(tuple(call(t5.random_spans_noise_mask, 9, 1 / 3, 1.0, rng)) for _ in range(500))
    shown = "\n".join(f"{np.array(m, dtype=int)}: {c}" for m, c in seen.most_common())
    assert_true(len(seen) == 10 and min(seen.values()) >= 20 and max(seen.values()) <= 85,
                "500 masks for (9, 1/3, 1.0) should show the 10 possible masks about 50 times "
                f"each (choose cut points without replacement); got:\n{shown}")  # fmt: skip


@pytest.mark.edge
@pytest.mark.parametrize("length,want", [(1, [0]), (2, [0, 1]), (3, [0, 0, 1])])
def test_short_sequences_keep_at_least_one_token(length, want, rng):
    mask = call(t5.random_spans_noise_mask, length, 0.15, 3.0, rng)
    assert_close(mask, np.array(want, dtype=bool), name="the mask")


@pytest.mark.edge
def test_noise_mask_refuses_more_spans_than_kept_tokens(rng):
    assert_raises(ValueError, t5.random_spans_noise_mask, 3, 0.5, 1.0, rng,
                  why="round(1.5) = 2 noise spans cannot be separated by 1 kept token")  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("words,extra_ids", [((), 100), (WORDS, 100), ("ab", 10)])
def test_sentinel_ids_match_t5_tokenizer(words, extra_ids):
    tok = oracle.tokenizer(words, extra_ids)
    out = call(t5.sentinel_ids, tok.vocab_size, extra_ids)
    want = np.array(tok.convert_tokens_to_ids([f"<extra_id_{k}>" for k in range(extra_ids)]))
    slip = {"increasing ids: T5's <extra_id_0> is the LAST id": want[::-1]}
    assert_close(out, want, name="sentinel ids", mistakes=slip)


def check_corrupt(tokens, mask, sentinels):
    __tracebackhide__ = True
    out = call(t5.span_corrupt, tokens, mask, sentinels)
    assert_true(isinstance(out, tuple) and len(out) == 2,
                f"span_corrupt must return (inputs, targets); got {describe(out)}")  # fmt: skip
    want = oracle.span_corrupt(tokens, mask, sentinels)
    slips = [("one sentinel per noise TOKEN: adjacent noise tokens are one span, one sentinel",
              oracle.slip_sentinel_per_token(tokens, mask, sentinels)),
             ("no final sentinel: a text that ends with kept tokens ends its targets with one",
              oracle.slip_no_final_sentinel(tokens, mask, sentinels))]  # fmt: skip
    for name, yours, expected in zip(("inputs", "targets"), out, want):
        for label, alt in slips:
            if alt is None or alt.shape == expected.shape and np.array_equal(alt, expected):
                continue  # the slip makes no difference here
            assert_true(not (isinstance(yours, np.ndarray) and np.array_equal(yours, alt)),
                        f"span_corrupt returned {name} {yours.tolist()}; T5's: "
                        f"{expected.tolist()}.\nLikely mistake: {label}.")  # fmt: skip
        assert_close(yours, expected, name=name)
    rebuilt = oracle.reconstruct(*out, sentinels)
    assert_close(rebuilt, np.asarray(tokens), name="(the text rebuilt from inputs and targets)")
    return out


@pytest.mark.oracle
def test_span_corrupt_reproduces_the_papers_figure_2():
    tok = oracle.tokenizer(WORDS)
    tokens = np.array(tok(FIGURE_2).input_ids[:-1])  # without the </s> the tokenizer appends
    mask = np.isin(WORDS, ["for", "inviting", "last"])
    sentinels = np.array(tok.convert_tokens_to_ids([f"<extra_id_{k}>" for k in range(100)]))
    inputs, targets = check_corrupt(tokens, mask, sentinels)
    for got, text in (
        (inputs, "Thank you <extra_id_0> me to your party <extra_id_1> week."),
        (targets, "<extra_id_0> for inviting <extra_id_1> last <extra_id_2>"),
    ):
        assert_close(got, np.array(tok(text).input_ids[:-1]), name=f"the ids of {text!r}")


@pytest.mark.oracle
@pytest.mark.parametrize("length,density,tail", [(40, 0.15, "noise"), (25, 0.5, "kept"),
                                                 (12, 0.3, "kept")])  # fmt: skip
def test_span_corrupt_matches_t5_reference(length, density, tail, rng):
    tokens = rng.integers(3, 32000, length)
    mask = rng.random(length) < density
    mask[0], mask[-1] = False, tail == "noise"
    check_corrupt(tokens, mask, np.arange(32099, 31999, -1))


@pytest.mark.property
@settings(deadline=None)
@given(length=st.integers(1, 40), density=st.floats(0.0, 1.0), layout=cs.layouts(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_inputs_and_targets_interleave_back_into_the_text(length, density, layout, seed):
    rng = np.random.default_rng(seed)
    tokens, mask = rng.integers(3, 500, length), rng.random(length) < density
    mask[0] = False
    sentinels = rng.permutation(np.arange(500, 600))  # any distinct ids: use sentinels[k]
    check_corrupt(cs.relayout(tokens, layout), cs.relayout(mask, layout), sentinels)


@pytest.mark.edge
def test_adjacent_spans_split_by_one_kept_token_keep_their_own_sentinels():
    mask = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0], dtype=bool)
    check_corrupt(np.arange(10, 19), mask, np.arange(199, 99, -1))


@pytest.mark.edge
def test_span_corrupt_refuses_a_mask_that_starts_with_noise_or_too_few_sentinels():
    tokens, sentinels = np.arange(10, 16), np.arange(99, 89, -1)
    assert_raises(ValueError, t5.span_corrupt, tokens, np.array([1, 1, 0, 0, 1, 0], dtype=bool),
                  sentinels, why="T5's masks start with a kept token")  # fmt: skip
    assert_raises(ValueError, t5.span_corrupt, tokens, np.array([0, 1, 0, 1, 0, 1], dtype=bool),
                  sentinels[:2], why="3 spans need 3 sentinels (4 in the targets)")  # fmt: skip


# ----------------------------------------------------------------------------- task formats

MNLI = {"premise": "I am from Saint Louis.", "hypothesis": "The Cardinals always won."}
EXAMPLES = [  # task, fields, label -> input text, target text (paper Figure 1; T5's docstrings)
    ("translate English to German", {"text": "That is good."}, "Das ist gut.",
     "translate English to German: That is good.", "Das ist gut."),
    ("summarize", {"article": "state authorities dispatched emergency crews tuesday"},
     "six people hospitalized", "summarize: state authorities dispatched emergency crews tuesday",
     "six people hospitalized"),
    ("cola", {"sentence": "John made Bill master of himself."}, 1,
     "cola sentence: John made Bill master of himself.", "acceptable"),
    ("stsb", {"sentence1": "The rhino grazed on the grass.", "sentence2": "A rhino is grazing in "
     "a field."}, 3.8, "stsb sentence1: The rhino grazed on the grass. sentence2: A rhino is "
     "grazing in a field.", "3.8"),
    ("qqp", {"question1": "Why do I get bored?", "question2": "Why am I bored?"}, 1,
     "qqp question1: Why do I get bored? question2: Why am I bored?", "duplicate"),
    ("mnli", MNLI, 2, f"mnli hypothesis: {MNLI['hypothesis']} premise: {MNLI['premise']}",
     "contradiction"),
    ("rte", {"sentence2": "B.", "sentence1": "A."}, -1, "rte sentence1: A. sentence2: B.", "<unk>"),
]  # fmt: skip


@pytest.mark.parametrize("task,fields,label,text,target", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_format_example_matches_t5s_preprocessors(task, fields, label, text, target):
    out = call(t5.format_example, task, fields)
    unsorted = " ".join([task, *(f"{k}: {v}" for k, v in fields.items())])
    hint = "\nLikely mistake: fields in the given order; T5 sorts them by name." * (out == unsorted)
    assert_true(out == text, f"format_example({task!r}, {fields!r}) returned\n  {out!r}\n"
                f"T5 writes\n  {text!r}{hint}")  # fmt: skip


@pytest.mark.parametrize("task,label,target", [(e[0], e[2], e[4]) for e in EXAMPLES]
                         + [("stsb", 2.5, "2.4"), ("stsb", 1.5, "1.6"), ("stsb", 5, "5.0"),
                            ("stsb", 0.0, "0.0"), ("sst2", 0, "negative")])  # fmt: skip
def test_format_target_matches_t5s_preprocessors(task, label, target):
    out = call(t5.format_target, task, label)
    assert_true(out == target, f"format_target({task!r}, {label!r}) returned {out!r}; T5 writes "
                f"{target!r}" + " (round(label * 5) / 5, half to even, one decimal)" * (task ==
                "stsb") + " (label -1 means no label: '<unk>')" * (label == -1))  # fmt: skip


@pytest.mark.property
@given(label=st.floats(0.0, 5.0))
def test_stsb_targets_are_the_nearest_fifth_with_one_decimal(label):
    out = call(t5.format_target, "stsb", label)
    want = oracle.stsb_target(label)
    assert_true(out == want, f"format_target('stsb', {label!r}) returned {out!r}; T5 writes "
                f"{want!r}: round(label * 5) / 5 with one decimal, steps of 0.2.")  # fmt: skip
