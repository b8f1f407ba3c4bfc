"""Oracles for 05_transformers/t5.

- Relative position buckets: transformers' own T5Attention (_relative_position_bucket and
  compute_bias, with copied weights, float64), plus the known slips as a float64 formula.
- Span corruption: t5.data.preprocessors.noise_span_to_unique_sentinel ported to torch, an
  independent decoder that rebuilds the text from inputs and targets, and T5's counts.
- Sentinel ids: transformers' T5Tokenizer, built offline from a small vocabulary.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from reference.oracles import numpy, tensor


def _transformers():
    """transformers' T5 pieces, imported on first use: the import takes seconds, and a
    learner running the section's fresh stubs should not wait for it."""
    from transformers import T5Config, T5Tokenizer
    from transformers.models.t5.modeling_t5 import T5Attention

    return T5Config, T5Tokenizer, T5Attention


# ----------------------------------------------------------------------------- buckets


def buckets(relative_position, bidirectional, num_buckets, max_distance) -> np.ndarray:
    """transformers' T5Attention._relative_position_bucket, as int64."""
    rp = torch.as_tensor(np.array(relative_position, dtype=np.int64))
    T5Attention = _transformers()[2]
    out = T5Attention._relative_position_bucket(rp, bidirectional, num_buckets, max_distance)
    return out.numpy().astype(np.int64)


def attention(table, bidirectional, max_distance):
    """A float64 T5Attention (an encoder's if bidirectional, else a decoder's) holding table."""
    T5Config, _, T5Attention = _transformers()
    num_buckets, heads = table.shape
    config = T5Config(d_model=8, d_kv=2, num_heads=heads, is_decoder=not bidirectional,
                      relative_attention_num_buckets=num_buckets,
                      relative_attention_max_distance=max_distance)  # fmt: skip
    module = T5Attention(config, has_relative_attention_bias=True, layer_idx=0).double()
    with torch.no_grad():
        module.relative_attention_bias.weight.copy_(tensor(table))
    return module


def bias(table, L, S, bidirectional, max_distance) -> np.ndarray:
    """T5Attention.compute_bias(L, S) without its batch axis: (H, L, S)."""
    return numpy(attention(table, bidirectional, max_distance).compute_bias(L, S)[0])


def bucket_matrix(L, S, bidirectional, num_buckets, max_distance) -> np.ndarray:
    """compute_bias with the table [[0], [1], ...]: it looks up each pair's bucket id itself."""
    ids = np.arange(num_buckets, dtype=np.float64)[:, None]
    return np.rint(bias(ids, L, S, bidirectional, max_distance)[0]).astype(np.int64)


def _parts(rp, bidirectional, num_buckets):
    rp = np.asarray(rp, dtype=np.int64)
    if bidirectional:
        half = num_buckets // 2
        return half, np.where(rp > 0, half, 0), np.abs(rp)
    return num_buckets, np.zeros_like(rp), np.maximum(-rp, 0)


def accept_float_ties(yours, want, rp, bidirectional, num_buckets, max_distance):
    """want, except where a distance lands on a log-bucket boundary and yours is a side of it.

    At such distances log(n / max_exact) / log(max_distance / max_exact) * k is an integer in
    exact arithmetic, and float rounding (float32 in T5, float64 in NumPy; one log routine or
    another) decides whether truncation lands on it or one below. Both answers are right.
    """
    if not isinstance(yours, np.ndarray) or yours.shape != want.shape:
        return want
    half, offset, n = _parts(rp, bidirectional, num_buckets)
    max_exact = half // 2
    inside = (n > max_exact) & (n < max_distance)
    ratio = np.log(np.maximum(n, 1) / max_exact) / math.log(max_distance / max_exact)
    x = ratio * (half - max_exact)
    k = np.round(x)
    tie = inside & (np.abs(x - k) < 1e-4)
    k = np.where(tie, k, 0).astype(np.int64)
    low = offset + np.minimum(max_exact + k - 1, half - 1)
    high = offset + np.minimum(max_exact + k, half - 1)
    return np.where(tie & ((yours == low) | (yours == high)), yours, want)


def _formula(rp, bidirectional, num_buckets, max_distance, halve=True, clamp=True,
             cut=np.trunc, abs_for_decoder=False, log=np.log):  # fmt: skip
    """The bucket rule in float64 with one slip switched on (for naming mistakes only)."""
    rp = np.asarray(rp, dtype=np.int64)
    half, offset, n = _parts(rp, bidirectional, num_buckets)
    if bidirectional and not halve:
        half, offset = num_buckets, np.where(rp > 0, num_buckets, 0)
    if not bidirectional and abs_for_decoder:
        n = np.abs(rp)
    max_exact = half // 2
    with np.errstate(all="ignore"):  # a slip may divide by log(1) = 0
        x = log(np.maximum(n, 1) / max_exact) / np.log(max_distance / max_exact)
        large = max_exact + cut(x * (half - max_exact)).astype(np.int64)
    large = np.minimum(large, half - 1) if clamp else large
    return offset + np.where(n < max_exact, n, large)


def bucket_slips(rp, bidirectional, num_buckets, max_distance) -> dict:
    """Label -> what a known mistake returns for these relative positions (None: n/a)."""
    args = (rp, bidirectional, num_buckets, max_distance)
    return {
        "relative position taken as query - key (sign flipped)": (
            buckets(-np.asarray(rp), *args[1:])),
        "num_buckets not halved for bidirectional attention": (
            _formula(*args, halve=False) if bidirectional else None),
        "no clamp at num_buckets - 1: distances past max_distance get new buckets": (
            _formula(*args, clamp=False)),
        "the log bucket rounded instead of truncated toward zero": _formula(*args, cut=np.round),
        "log bases mixed: log2 of n / max_exact over the natural log of max_distance / max_exact":
            _formula(*args, log=np.log2),
        "the decoder (bidirectional=False) buckets |rp|, so future keys get buckets too": (
            None if bidirectional else _formula(*args, abs_for_decoder=True)),
    }  # fmt: skip


# ----------------------------------------------------------------------------- span corruption


def expected_counts(length, noise_density, mean_noise_span_length) -> tuple[int, int]:
    """(noise tokens, noise spans) as t5.data.preprocessors.random_spans_noise_mask fixes them."""
    length = max(length, 2)
    noise = min(max(int(np.round(length * noise_density)), 1), length - 1)
    return noise, max(int(np.round(noise / mean_noise_span_length)), 1)


def runs(mask) -> list[tuple[bool, int]]:
    """[(value, run length), ...] of a boolean sequence."""
    out: list[tuple[bool, int]] = []
    for v in np.asarray(mask).tolist():
        if out and out[-1][0] == v:
            out[-1] = (v, out[-1][1] + 1)
        else:
            out.append((v, 1))
    return out


def _unique_sentinel(tokens, noise_mask, sentinels):
    """noise_span_to_unique_sentinel (t5.data.preprocessors) in torch; sentinel k = sentinels[k]."""
    tokens, mask = tensor(tokens), torch.as_tensor(np.array(noise_mask, dtype=bool))
    prev = torch.cat([torch.zeros(1, dtype=torch.bool), mask[:-1]])
    first, subsequent = mask & ~prev, mask & prev
    sentinel = tensor(sentinels)[(torch.cumsum(first.long(), 0) - 1).clamp(min=0)]
    return torch.where(first, sentinel, tokens)[~subsequent].numpy()


def span_corrupt(tokens, noise_mask, sentinels) -> tuple[np.ndarray, np.ndarray]:
    """T5's span_corruption: inputs_fn = noise_span_to_unique_sentinel, targets_fn =
    nonnoise_span_to_unique_sentinel (the same with the mask inverted)."""
    mask = np.asarray(noise_mask, dtype=bool)
    return _unique_sentinel(tokens, mask, sentinels), _unique_sentinel(tokens, ~mask, sentinels)


def reconstruct(inputs, targets, sentinels) -> np.ndarray:
    """The original text, rebuilt by putting each target span where its sentinel is."""
    ids = set(np.asarray(sentinels).tolist())
    spans: dict[int, list[int]] = {}
    current = None
    for t in np.asarray(targets).tolist():
        if t in ids:
            current = spans.setdefault(t, [])
        elif current is not None:
            current.append(t)
    out: list[int] = []
    for t in np.asarray(inputs).tolist():
        out.extend(spans.get(t, []) if t in ids else [t])
    return np.array(out, dtype=np.int64)


def slip_no_final_sentinel(tokens, noise_mask, sentinels) -> np.ndarray | None:
    """The targets written as 'sentinel, span' per noise span: no sentinel for a kept tail."""
    _, targets = span_corrupt(tokens, noise_mask, sentinels)
    return None if noise_mask[-1] else targets[:-1]


def slip_sentinel_per_token(tokens, noise_mask, sentinels) -> np.ndarray | None:
    """The inputs with one sentinel per noise TOKEN: adjacent noise tokens not merged."""
    mask = np.asarray(noise_mask, dtype=bool)
    if mask.sum() > len(sentinels):
        return None
    out = np.array(tokens, dtype=np.int64)
    out[mask] = np.asarray(sentinels)[: mask.sum()]
    return out


def tokenizer(words=(), extra_ids=100):
    """A T5Tokenizer built offline: <pad> </s> <unk>, the words, then the sentinels reversed
    (T5's layout: <extra_id_0> is the last id of the vocabulary)."""
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    vocab += [("\u2581" + w if w[0].isalnum() else w, -1.0) for w in words]
    vocab += [(f"<extra_id_{i}>", 0.0) for i in reversed(range(extra_ids))]
    return _transformers()[1](vocab=vocab, extra_ids=extra_ids)


def stsb_target(label) -> str:
    """t5.data.preprocessors.stsb: tf.as_string(tf.round(label * 5) / 5, precision=1)."""
    return f"{np.round(np.float64(label) * 5) / 5:.1f}"
