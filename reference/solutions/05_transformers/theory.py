"""What a transformer costs: parameters, multiply-adds and attention memory, counted by hand.

Every count here is a sum over the weight matrices and the matrix products of
nn.MultiheadAttention and nn.TransformerEncoderLayer / DecoderLayer. A Linear layer
(in -> out) holds in * out weights plus out biases, and costs in * out multiply-adds per
token. References: Vaswani et al. 2017, "Attention Is All You Need" (section 3.5 and
table 1: per-layer complexity O(n^2 d) for self-attention); Kaplan et al. 2020, "Scaling
Laws for Neural Language Models" (section 2.1: parameters and compute per token);
torch.utils.flop_counter (what torch counts: matmuls only, FLOPs = 2 x MACs).
"""

import numpy as np


def head_dim(E, nhead):
    """Features per head, E // nhead; refuses a head count that does not divide E."""
    if nhead < 1 or E % nhead != 0:
        # torch refuses too (an assert in nn.MultiheadAttention): the heads are equal
        # slices of the E features, so nhead must divide E.
        raise ValueError(f"nhead={nhead} does not divide E={E}")
    return E // nhead


def attention_params(E, nhead, bias=True, kdim=None, vdim=None):
    """Parameters of nn.MultiheadAttention(E, nhead, bias=bias, kdim=kdim, vdim=vdim)."""
    head_dim(E, nhead)  # the heads split E; they add no weights of their own
    kdim = E if kdim is None else kdim
    vdim = E if vdim is None else vdim
    # W_q (E, E), W_k (E, kdim), W_v (E, vdim): each projection maps into E features.
    in_proj = E * E + E * kdim + E * vdim
    out_proj = E * E  # W_o (E, E) mixes the heads' outputs
    biases = 3 * E + E if bias else 0  # b_q, b_k, b_v (in_proj_bias, 3E) and b_o (E)
    return in_proj + out_proj + biases


def _feed_forward_and_norms(E, dim_feedforward, bias, n_norms):
    # linear1 (F, E) + F biases; linear2 (E, F) + E biases
    ff = 2 * E * dim_feedforward + (dim_feedforward + E if bias else 0)
    # each LayerNorm: gamma (E,), and beta (E,) unless bias=False
    norm = E * (2 if bias else 1)
    return ff + n_norms * norm


def encoder_layer_params(E, nhead, dim_feedforward, bias=True):
    """Parameters of nn.TransformerEncoderLayer: self-attention, feed-forward, 2 norms."""
    attn = attention_params(E, nhead, bias)
    return attn + _feed_forward_and_norms(E, dim_feedforward, bias, n_norms=2)


def decoder_layer_params(E, nhead, dim_feedforward, bias=True):
    """Parameters of nn.TransformerDecoderLayer: self- and cross-attention, FF, 3 norms."""
    self_attn = attention_params(E, nhead, bias)
    cross_attn = attention_params(E, nhead, bias)  # memory has E features too
    return self_attn + cross_attn + _feed_forward_and_norms(E, dim_feedforward, bias, n_norms=3)


def attention_macs(N, L, S, E, nhead, kdim=None, vdim=None):
    """Multiply-adds of one nn.MultiheadAttention forward, by matrix product."""
    d = head_dim(E, nhead)
    kdim = E if kdim is None else kdim
    vdim = E if vdim is None else vdim
    # Every query token goes through W_q, every key and value token through W_k, W_v.
    in_projection = N * (L * E * E + S * kdim * E + S * vdim * E)
    # Per head: (L, d) @ (d, S) scores, then (L, S) @ (S, d) weighted sum; nhead heads
    # of d = E / nhead features each: nhead * L * S * d = L * S * E, whatever nhead is.
    scores = N * nhead * L * S * d
    weighted_sum = N * nhead * L * S * d
    out_projection = N * L * E * E
    return {
        "in_projection": in_projection,
        "scores": scores,
        "weighted_sum": weighted_sum,
        "out_projection": out_projection,
    }


def encoder_layer_macs(N, L, E, nhead, dim_feedforward):
    """Multiply-adds of one nn.TransformerEncoderLayer forward: attention and feed-forward."""
    self_attention = sum(attention_macs(N, L, L, E, nhead).values())
    # linear1: E -> F and linear2: F -> E, for each of the N * L tokens
    feed_forward = N * L * (E * dim_feedforward + dim_feedforward * E)
    return {"self_attention": self_attention, "feed_forward": feed_forward}


def attention_matrix_bytes(N, nhead, L, S, dtype):
    """Bytes of the attention weights, one (L, S) matrix per head and sequence."""
    return N * nhead * L * S * np.dtype(dtype).itemsize  # (N, nhead, L, S) elements


def crossover_length(E, dim_feedforward=0):
    """The sequence length at which the L^2 part of a layer costs as much as the rest."""
    # Per token: the weight matrices cost 4 E^2 (W_q, W_k, W_v, W_o) + 2 E F (the
    # feed-forward); the two L x L products cost 2 L E (scores and weighted sum).
    # 2 L E = 4 E^2 + 2 E F  =>  L = 2 E + F.
    return 2 * E + dim_feedforward
