"""T5's text-to-text framing: relative position buckets, span corruption, task prefixes.

Implement with NumPy (and plain Python for the strings). T5 treats every task as "text in,
text out": a translation, a grammaticality label, a similarity score and its pre-training
objective are all an input string and a target string. Three pieces make that work:

1. Positions: no position vectors. Each attention layer adds a learned scalar per head to
   the score of a (query, key) pair, chosen by the bucket of their distance: one bucket per
   distance up close, log-spaced buckets further out, one shared bucket past max_distance.
2. Pre-training: span corruption. Drop ~15% of the tokens in short spans; the input keeps
   the text with each span replaced by a sentinel <extra_id_k>; the target lists the
   sentinels, each followed by the span it hides.
3. Fine-tuning: a task prefix ("summarize:", "cola sentence:") and labels as words.

Run: pytest katas/05_transformers/test_t5.py
"""

import numpy as np

# The label words T5 writes for the GLUE classification tasks (tfds' label names), by class id.
LABEL_NAMES = {
    "cola": ("unacceptable", "acceptable"),
    "sst2": ("negative", "positive"),
    "mrpc": ("not_equivalent", "equivalent"),
    "qqp": ("not_duplicate", "duplicate"),
    "mnli": ("entailment", "neutral", "contradiction"),
    "qnli": ("entailment", "not_entailment"),
    "rte": ("entailment", "not_entailment"),
    "wnli": ("not_entailment", "entailment"),
}


def relative_position_bucket(
    relative_position: np.ndarray,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> np.ndarray:
    """Map each relative position (key minus query) to one of num_buckets buckets.

    Math:
        rp = key position - query position (rp > 0: the key is to the right, in the future).
        bidirectional (encoder): num_buckets //= 2; keys with rp > 0 use buckets
            num_buckets..2*num_buckets-1 (add num_buckets), the others 0..num_buckets-1;
            n = |rp|.
        not bidirectional (decoder): n = max(-rp, 0): every future key counts as distance 0.
        max_exact = num_buckets // 2
        n < max_exact:   bucket n                      (one bucket per distance)
        n >= max_exact:  bucket min(max_exact + trunc(log(n / max_exact)
                                     / log(max_distance / max_exact)
                                     * (num_buckets - max_exact)),
                                    num_buckets - 1)    (log-spaced, last one shared)
        With the defaults, an encoder's keys at or left of the query (rp <= 0): distances
        0..7 get buckets 0..7, 8..11 share 8, 12..15 share 9, 16..22 share 10, ..., 64..90
        share 14, and 91 onwards share 15. Keys to the right: 16 + the same (rp = 1 -> 17).

    Shapes:
        relative_position: any shape, integers; returns the same shape.

    Args:
        relative_position: key position minus query position, per pair.
        bidirectional: True for the encoder's self-attention, False for the decoder's
            causal self-attention (T5's cross-attention has no position bias).
        num_buckets: buckets in all (both directions together when bidirectional); at least
            4 when bidirectional, 2 otherwise.
        max_distance: from this distance on the formula passes the last bucket and is
            clamped to it (the last bucket may start earlier: 91 with the defaults); greater
            than max_exact.

    Returns:
        int64 bucket ids in [0, num_buckets).

    Numerics:
        Truncate toward zero (astype(np.int64)), do not round. log(0) is -inf: keep n >= 1
        inside the log (the n < max_exact branch covers 0 anyway). T5 computes the log part
        in float32, NumPy in float64; where a distance lands exactly on a boundary between
        two log buckets (the value before truncation an integer in exact arithmetic), float
        rounding decides the side and the tests accept either bucket there. Nowhere else.

    Reference:
        transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket
    """
    raise NotImplementedError


def bucket_matrix(
    query_length: int,
    key_length: int,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> np.ndarray:
    """The (L, S) bucket of every (query, key) pair, as T5Attention.compute_bias builds it.

    Math:
        out[i, j] = relative_position_bucket(j - i, ...)    (key position minus query position)

    Shapes:
        returns (L, S) with L = query_length, S = key_length.

    Args:
        query_length, key_length: L and S (1 is allowed).
        bidirectional, num_buckets, max_distance: as relative_position_bucket.

    Returns:
        int64 (L, S).

    Numerics:
        Integers only (the log lives in relative_position_bucket).

    Reference:
        transformers.models.t5.modeling_t5.T5Attention.compute_bias
    """
    raise NotImplementedError


def position_bias(
    table: np.ndarray,
    query_length: int,
    key_length: int,
    bidirectional: bool = True,
    max_distance: int = 128,
) -> np.ndarray:
    """T5's additive attention bias: one learned scalar per (bucket, head), looked up.

    Math:
        bias[h, i, j] = table[bucket(j - i), h];  scores = q k^T + bias  (T5 does not
        divide by sqrt(d_k) either, and has no other position signal).

    Shapes:
        table: (num_buckets, H); returns (H, L, S).

    Args:
        table: the relative_attention_bias embedding's weight; num_buckets = len(table).
        query_length, key_length, bidirectional, max_distance: as bucket_matrix.

    Returns:
        (H, L, S), table's dtype.

    Numerics:
        A lookup: exact.

    Reference:
        T5Attention.compute_bias(L, S), which returns it as (1, H, L, S).
    """
    raise NotImplementedError


def random_spans_noise_mask(
    length: int,
    noise_density: float,
    mean_noise_span_length: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A boolean mask of random noise spans, counts fixed by T5's rounding.

    Math:
        length' = max(length, 2)
        num_noise_tokens = clip(round(length' * noise_density), 1, length' - 1)
        num_noise_spans  = max(round(num_noise_tokens / mean_noise_span_length), 1)
        round is half to even (np.round, Python's round): round(2.5) = 2, round(3.5) = 4.
        Split the noise tokens into num_noise_spans non-empty runs, and the kept tokens
        into as many, every split equally likely (choose the cut points: num_spans - 1
        distinct gaps out of num_tokens - 1). Lay them out kept, noise, kept, noise, ...:
        the mask starts with a kept token and ends with noise. Return the first `length`.

    Shapes:
        returns (length,).

    Args:
        length: number of tokens (>= 1).
        noise_density: fraction of tokens to drop (T5: 0.15).
        mean_noise_span_length: average span length (T5: 3).
        rng: all randomness comes from here (e.g. rng.choice(..., replace=False)).

    Returns:
        bool (length,): True = noise.

    Numerics:
        Counts are exact integers. Raise ValueError if num_noise_spans exceeds the noise
        or the kept tokens (runs must be non-empty; T5's reference fails there too).

    Reference:
        t5.data.preprocessors.random_spans_noise_mask (no torch equivalent).
    """
    raise NotImplementedError


def sentinel_ids(vocab_size: int, count: int = 100) -> np.ndarray:
    """Ids of <extra_id_0>, <extra_id_1>, ...: the last ids of the vocabulary, counting down.

    Math:
        id(<extra_id_k>) = vocab_size - 1 - k

    Shapes:
        returns (count,).

    Args:
        vocab_size: size of the vocabulary, sentinels included (t5-base: 32100).
        count: how many sentinels (T5: 100).

    Returns:
        int64 (count,): [vocab_size - 1, vocab_size - 2, ...].

    Numerics:
        Integers.

    Reference:
        transformers.T5Tokenizer: convert_tokens_to_ids("<extra_id_0>") == vocab_size - 1.
    """
    raise NotImplementedError


def span_corrupt(
    tokens: np.ndarray, noise_mask: np.ndarray, sentinels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """T5's span corruption: noise spans become sentinels in the inputs, spans in the targets.

    Math:
        inputs:  the tokens, each run of noise replaced by ONE sentinel, the k-th run by
                 sentinels[k].
        targets: the complement: each run of KEPT tokens replaced by one sentinel, the
                 k-th by sentinels[k]; noise tokens stay. As the mask starts with a kept
                 run, targets = <s0> span0 <s1> span1 ..., plus a final sentinel when the
                 text ends with kept tokens. Paper, Figure 2:
                   text     Thank you for inviting me to your party last week .
                   inputs   Thank you <X> me to your party <Y> week .
                   targets  <X> for inviting <Y> last <Z>
        T5 then appends EOS (</s>, id 1) to both; that is not part of this function.

    Shapes:
        tokens, noise_mask: (T,); inputs: (T - noise tokens + spans,); targets: (noise
        tokens + kept runs,).

    Args:
        tokens: token ids (int), none of them a sentinel.
        noise_mask: bool (T,), as random_spans_noise_mask returns it.
        sentinels: ids to use, sentinels[k] for the k-th span (sentinel_ids(...)).

    Returns:
        (inputs, targets), int64 arrays. Inputs are left unmodified.

    Numerics:
        Raise ValueError if noise_mask[0] is True (T5's masks never start with noise, and
        the sentinels of inputs and targets would no longer line up), or if there are more
        runs than sentinels.

    Reference:
        t5.data.preprocessors.noise_span_to_unique_sentinel (inputs) and
        nonnoise_span_to_unique_sentinel (targets).
    """
    raise NotImplementedError


def format_example(task: str, fields: dict[str, str]) -> str:
    """One example as T5's input text: the task prefix, then the input.

    Math:
        "summarize" or "translate X to Y": f"{task}: {text}" (fields holds one text).
        any other task (a GLUE benchmark): the task name, then "name: value" for every
        field, names in SORTED order, all joined by single spaces:
            format_example("mnli", {"premise": p, "hypothesis": h})
            == f"mnli hypothesis: {h} premise: {p}"

    Shapes:
        strings in, a string out.

    Args:
        task: "summarize", "translate English to German", "cola", "stsb", "mnli", ...
        fields: the example's input texts by name.

    Returns:
        The input text.

    Numerics:
        None: strings.

    Reference:
        t5.data.preprocessors.summarize, translate and glue; the paper's appendix D.
    """
    raise NotImplementedError


def format_target(task: str, label) -> str:
    """The target text T5 learns to write for a label.

    Math:
        "stsb": a similarity in [0, 5], rounded to the nearest 0.2 (half to even) and
            written with one decimal: 1.8 -> "1.8", 3.0 -> "3.0", 2.5 -> "2.4".
        a task in LABEL_NAMES: LABEL_NAMES[task][label]; label -1 (a test example without
            a label) -> "<unk>".
        anything else (translation, summaries): the label is already the target text.

    Shapes:
        a number or a string in, a string out.

    Args:
        task: as format_example.
        label: class id (int), similarity (float) or text.

    Returns:
        The target text.

    Numerics:
        round(label * 5) / 5, not round(label, 1): steps of 0.2.

    Reference:
        t5.data.preprocessors.stsb (tf.as_string(tf.round(label * 5) / 5, precision=1))
        and glue (tf.gather(label_names, label), "<unk>" for -1).
    """
    raise NotImplementedError
