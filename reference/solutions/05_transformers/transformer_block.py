"""Transformer encoder and decoder layers: attention, feed-forward, layer norm, residuals.

A layer is a short stack of sublayers (self-attention, cross-attention in the decoder, a
position-wise feed-forward net), each wrapped the same way: a residual connection around
it and a layer norm, either after the sum (post-norm, the 2017 paper's order) or in front of
the sublayer (pre-norm, GPT-2's order: the residual path stays an identity from input to
output, which lets deep stacks train without a learning-rate warm-up).
References: Vaswani et al. 2017, "Attention Is All You Need", sections 3.1 and 3.3;
Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture";
torch.nn.TransformerEncoderLayer and torch.nn.TransformerDecoderLayer.
"""

import math

import numpy as np

# math.erf works on one Python float; vectorised it takes arrays (and computes in float64).
_erf = np.vectorize(math.erf, otypes=[np.float64])


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalise each position's E features to mean 0 and variance 1, then scale and shift."""
    mean = x.mean(axis=-1, keepdims=True)  # (..., 1): one mean per position
    xc = x - mean
    var = (xc * xc).mean(axis=-1, keepdims=True)  # biased (divide by E), as torch does
    xhat = xc / np.sqrt(var + eps)  # eps inside the sqrt: a constant row gives 0, not NaN
    return gamma * xhat + beta  # (E,) broadcasts over every position


def feed_forward(x, params, activation="relu"):
    """The position-wise feed-forward net: linear2(activation(linear1(x)))."""
    if activation not in ("relu", "gelu"):
        raise ValueError(f"unknown activation {activation!r}: 'relu' or 'gelu'")
    # nn.Linear stores weight as (out, in): y = x @ W.T + b.
    h = x @ params["linear1.weight"].T + params["linear1.bias"]  # (N, L, E) -> (N, L, F)
    if activation == "relu":
        h = np.maximum(h, 0)
    else:
        # Exact GELU, x * Phi(x) with Phi the standard normal CDF (torch's approximate="none").
        h = (0.5 * h * (1 + _erf(h / math.sqrt(2)))).astype(h.dtype)
    return h @ params["linear2.weight"].T + params["linear2.bias"]  # (N, L, F) -> (N, L, E)


def _norm(x, params, i, eps):
    """The layer's i-th norm (norm1, norm2, ...): each has its own gamma and beta."""
    return layer_norm(x, params[f"norm{i}.weight"], params[f"norm{i}.bias"], eps)


def _attend(attention, x, kv, params, prefix, nhead, attn_mask, key_padding_mask):
    """One attention sublayer: queries from x, keys and values from kv, weights under prefix."""
    # "self_attn.in_proj_weight" -> "in_proj_weight": the names nn.MultiheadAttention uses.
    own = {k.removeprefix(prefix): v for k, v in params.items() if k.startswith(prefix)}
    out, _, _ = attention(x, kv, kv, own, nhead, key_padding_mask=key_padding_mask,
                          attn_mask=attn_mask, need_weights=False)  # fmt: skip
    return out  # (N, L, E)


def encoder_layer(src, params, nhead, attention, norm_first=False, activation="relu",
                  src_mask=None, src_key_padding_mask=None, layer_norm_eps=1e-5):  # fmt: skip
    """One encoder layer: self-attention, then feed-forward, each with residual and norm."""
    eps = layer_norm_eps

    def self_attn(x):  # every position looks at every (unmasked, unpadded) position
        return _attend(attention, x, x, params, "self_attn.", nhead, src_mask,
                       src_key_padding_mask)  # fmt: skip

    x = src  # (N, L, E)
    if norm_first:  # pre-norm: x + f(norm(x)); the residual path is never normalised
        x = x + self_attn(_norm(x, params, 1, eps))
        x = x + feed_forward(_norm(x, params, 2, eps), params, activation)
    else:  # post-norm: norm(x + f(x)); every sublayer's sum is normalised
        x = _norm(x + self_attn(x), params, 1, eps)
        x = _norm(x + feed_forward(x, params, activation), params, 2, eps)
    return x


def decoder_layer(tgt, memory, params, nhead, attention, norm_first=False, activation="relu",
                  tgt_is_causal=False, tgt_key_padding_mask=None,
                  memory_key_padding_mask=None, layer_norm_eps=1e-5):  # fmt: skip
    """One decoder layer: causal self-attention, cross-attention to memory, feed-forward."""
    eps = layer_norm_eps
    L = tgt.shape[1]
    # nn.MultiheadAttention's boolean mask: True = may NOT attend. Query i must not see the
    # targets after it (j > i): they are what the decoder is trained to predict.
    causal = np.triu(np.ones((L, L), dtype=bool), k=1) if tgt_is_causal else None

    def self_attn(x):
        return _attend(attention, x, x, params, "self_attn.", nhead, causal,
                       tgt_key_padding_mask)  # fmt: skip

    def cross_attn(x):  # queries from the decoder; keys and values from the encoder's output
        return _attend(attention, x, memory, params, "multihead_attn.", nhead, None,
                       memory_key_padding_mask)  # fmt: skip

    x = tgt  # (N, L, E); memory is (N, S, E)
    if norm_first:
        x = x + self_attn(_norm(x, params, 1, eps))
        x = x + cross_attn(_norm(x, params, 2, eps))  # memory itself is not normalised here
        x = x + feed_forward(_norm(x, params, 3, eps), params, activation)
    else:
        x = _norm(x + self_attn(x), params, 1, eps)
        x = _norm(x + cross_attn(x), params, 2, eps)
        x = _norm(x + feed_forward(x, params, activation), params, 3, eps)
    return x
