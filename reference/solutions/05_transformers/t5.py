"""T5's text-to-text framing: relative position buckets, span corruption, task prefixes.

References: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified
Text-to-Text Transformer" (section 3.1.4 for span corruption, appendix D for the task
formats); transformers' T5Attention._relative_position_bucket and compute_bias (after Mesh
TensorFlow); t5.data.preprocessors (random_spans_noise_mask, noise_span_to_unique_sentinel,
glue, stsb) in google-research/text-to-text-transfer-transformer.
"""

import math

import numpy as np

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

# ----------------------------------------------------------------------------- positions


def relative_position_bucket(
    relative_position, bidirectional=True, num_buckets=32, max_distance=128
):
    """Map each relative position (key minus query) to one of num_buckets buckets."""
    rp = np.asarray(relative_position, dtype=np.int64)
    if bidirectional:
        # Half the buckets for keys after the query (rp > 0), half for keys at or before it.
        num_buckets //= 2
        offset = np.where(rp > 0, num_buckets, 0)
        n = np.abs(rp)
    else:
        # A decoder never attends ahead: every future key shares bucket 0 with the query itself.
        offset = np.zeros_like(rp)
        n = np.maximum(-rp, 0)
    # 1. Distances below max_exact get a bucket each.
    max_exact = num_buckets // 2
    is_small = n < max_exact
    # 2. From max_exact to max_distance the buckets widen geometrically (log-spaced).
    #    np.maximum(n, 1) keeps log away from 0; those entries take the exact branch anyway.
    log_ratio = np.log(np.maximum(n, 1) / max_exact) / math.log(max_distance / max_exact)
    if_large = max_exact + (log_ratio * (num_buckets - max_exact)).astype(np.int64)  # truncate
    # 3. max_distance and beyond share the last bucket.
    if_large = np.minimum(if_large, num_buckets - 1)
    return offset + np.where(is_small, n, if_large)


def bucket_matrix(query_length, key_length, bidirectional=True, num_buckets=32, max_distance=128):
    """The (L, S) bucket of every (query, key) pair, as T5Attention.compute_bias builds it."""
    context = np.arange(query_length)[:, None]  # (L, 1): query positions
    memory = np.arange(key_length)[None, :]  # (1, S): key positions
    relative_position = memory - context  # (L, S): how far right of the query each key is
    return relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance)


def position_bias(table, query_length, key_length, bidirectional=True, max_distance=128):
    """T5's additive attention bias: one learned scalar per (bucket, head), looked up."""
    buckets = bucket_matrix(query_length, key_length, bidirectional, len(table), max_distance)
    return np.transpose(table[buckets], (2, 0, 1))  # (L, S, H) -> (H, L, S)


# ----------------------------------------------------------------------------- span corruption


def _random_segmentation(num_items, num_segments, rng):
    """Split num_items into num_segments non-empty runs; every split equally likely."""
    # Pick num_segments - 1 distinct cut points among the num_items - 1 gaps between items.
    cuts = np.sort(rng.choice(num_items - 1, size=num_segments - 1, replace=False)) + 1
    return np.diff(np.concatenate(([0], cuts, [num_items])))  # (num_segments,) run lengths


def random_spans_noise_mask(length, noise_density, mean_noise_span_length, rng):
    """A boolean mask of random noise spans, counts fixed by T5's rounding."""
    orig_length = length
    length = max(length, 2)  # a 1-token text still gets a kept and a noise token, then is cut
    # np.round rounds half to even, as tf.round does: round(2.5) = 2.
    num_noise_tokens = int(np.round(length * noise_density))
    # At least one noise token and at least one kept token.
    num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
    num_noise_spans = max(int(np.round(num_noise_tokens / mean_noise_span_length)), 1)
    num_nonnoise_tokens = length - num_noise_tokens
    if num_noise_spans > min(num_noise_tokens, num_nonnoise_tokens):
        raise ValueError(
            f"cannot split {num_noise_tokens} noise and {num_nonnoise_tokens} kept tokens into "
            f"{num_noise_spans} non-empty spans each"
        )
    noise_lengths = _random_segmentation(num_noise_tokens, num_noise_spans, rng)
    kept_lengths = _random_segmentation(num_nonnoise_tokens, num_noise_spans, rng)
    # kept, noise, kept, noise, ...: the text starts with kept tokens and ends with noise.
    lengths = np.stack([kept_lengths, noise_lengths], axis=1).reshape(-1)  # (2 * spans,)
    is_noise = np.tile([False, True], num_noise_spans)
    return np.repeat(is_noise, lengths)[:orig_length]


def sentinel_ids(vocab_size, count=100):
    """Ids of <extra_id_0>, <extra_id_1>, ...: the last ids of the vocabulary, counting down."""
    return np.arange(vocab_size - 1, vocab_size - 1 - count, -1, dtype=np.int64)


def _replace_spans(tokens, mask, sentinels):
    """Replace each run of True in mask by one sentinel, the k-th run by sentinels[k]."""
    starts = mask & ~np.concatenate(([False], mask[:-1]))  # first token of each run
    inside = mask & ~starts  # the rest of each run: dropped
    span = np.cumsum(starts) - 1  # index of the run a token belongs to (-1 before the first)
    if starts.sum() > len(sentinels):
        raise ValueError(f"{starts.sum()} spans but only {len(sentinels)} sentinels")
    out = np.where(starts, sentinels[np.maximum(span, 0)], tokens)
    return out[~inside]


def span_corrupt(tokens, noise_mask, sentinels):
    """T5's span corruption: noise spans become sentinels in the inputs, spans in the targets."""
    tokens = np.asarray(tokens, dtype=np.int64)
    mask = np.asarray(noise_mask, dtype=bool)
    sentinels = np.asarray(sentinels, dtype=np.int64)
    if mask[0]:
        raise ValueError("noise_mask[0] is True: T5's masks start with a kept token")
    inputs = _replace_spans(tokens, mask, sentinels)  # each noise span -> its sentinel
    # The targets are the complement: each kept span -> a sentinel, the noise stays. Kept span k
    # comes just before noise span k, so sentinel k announces the k-th dropped span; a text that
    # ends with kept tokens ends the targets with one more sentinel.
    targets = _replace_spans(tokens, ~mask, sentinels)
    return inputs, targets


# ----------------------------------------------------------------------------- task formats


def format_example(task, fields):
    """One example as T5's input text: the task prefix, then the input."""
    if task == "summarize" or task.startswith("translate "):
        (text,) = fields.values()
        return f"{task}: {text}"
    # GLUE-style: the benchmark name, then every field as "name: value", names sorted.
    parts = [f"{name}: {fields[name]}" for name in sorted(fields)]
    return " ".join([task, *parts])


def format_target(task, label):
    """The target text T5 learns to write for a label."""
    if task == "stsb":
        # Round to the nearest 0.2 (half to even, like tf.round) and print one decimal.
        return f"{round(label * 5) / 5:.1f}"
    if task in LABEL_NAMES:
        return "<unk>" if label == -1 else LABEL_NAMES[task][label]
    return label  # translation, summaries: the target is already text
