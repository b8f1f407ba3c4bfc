"""What a transformer costs: parameters, multiply-adds and attention memory.

Implement with plain Python (NumPy only for a dtype's size). No arrays to compute: every
answer is a count, and the tests take the same counts from torch's own modules.

Two rules give almost everything:
    nn.Linear(in, out) holds in * out weights (+ out biases), and costs in * out
    multiply-adds (MACs) for every token that goes through it.
    A matrix product (a, b) @ (b, c) costs a * b * c MACs.

Where the cost of a layer goes, for L tokens of E features (S keys; S = L in self-attention):
    weight matrices (W_q, W_k, W_v, W_o; the feed-forward's two):  ~ L * E^2   (linear in L)
    the attention matrix (scores Q K^T, then weights @ V):         ~ L * S * E (quadratic)
Short sequences spend their time in the weights, long ones in attention: crossover_length
says where they meet. The attention matrix (N, nhead, L, S) must also fit in memory.

How torch counts (torch.utils.flop_counter.FlopCounterMode): matrix products only (mm, addmm,
bmm, baddbmm), 2 FLOPs per multiply-add; softmax, the 1 / sqrt(d) scaling, bias adds, layer
norms, activations and residual adds count 0. So here MACs = FLOPs / 2 of the matmuls.
(On CPU it also counts 0 for F.scaled_dot_product_attention's fused kernel: a counter is
only as good as its table.)

Names: N batch, L target (query) length, S source (key/value) length, E = d_model,
nhead heads of d = E / nhead features, F = dim_feedforward.

Run: pytest katas/05_transformers/test_theory.py
"""

import numpy as np


def head_dim(E: int, nhead: int) -> int:
    """Features per head, E // nhead; refuses a head count that does not divide E.

    Math:
        d = E / nhead. The heads are nhead equal slices of the E features (the projections
        are E x E; each head reads its own d columns), so nhead must divide E.

    Shapes:
        Plain ints.

    Args:
        E: d_model, the features per token. nhead: number of heads (>= 1).

    Returns:
        d, an int.

    Numerics:
        Raise ValueError when nhead < 1 or E % nhead != 0. (torch refuses too, with an
        assert; an assert is the wrong tool for checking arguments: python -O removes it.)
        Every function below that takes E and nhead refuses the same way: call this one.

    Reference:
        nn.MultiheadAttention: "embed_dim must be divisible by num_heads".
    """
    raise NotImplementedError


def attention_params(
    E: int, nhead: int, bias: bool = True, kdim: int | None = None, vdim: int | None = None
) -> int:
    """Parameters of nn.MultiheadAttention(E, nhead, bias=bias, kdim=kdim, vdim=vdim).

    Math:
        Three input projections into E features: W_q (E, E), W_k (E, kdim), W_v (E, vdim);
        one output projection W_o (E, E); with bias, b_q, b_k, b_v, b_o: E each.
        The heads split E among themselves: nhead changes nothing here.

    Shapes:
        Plain ints; kdim / vdim: the features of the keys / values (None means E:
        self-attention, or cross-attention to a memory of width E).

    Args:
        E, nhead: as in head_dim (refuse a bad nhead). bias: the projections' biases.

    Returns:
        The number of parameters, an int.

    Numerics:
        Exact integer arithmetic (no / anywhere: counts are whole numbers).

    Reference:
        sum(p.numel() for p in nn.MultiheadAttention(...).parameters()): in_proj_weight
        (3E, E) or q/k/v_proj_weight, in_proj_bias (3E,), out_proj.weight, out_proj.bias.
    """
    raise NotImplementedError


def encoder_layer_params(E: int, nhead: int, dim_feedforward: int, bias: bool = True) -> int:
    """Parameters of nn.TransformerEncoderLayer(E, nhead, dim_feedforward, bias=bias).

    Math:
        self-attention (attention_params)
        + feed-forward: linear1 E -> F and linear2 F -> E, weights and (with bias) biases
        + 2 LayerNorms: gamma (E,) each, and beta (E,) each with bias
        (bias=False removes every additive bias: Linear's and LayerNorm's beta; gamma stays)

    Shapes:
        Plain ints; F = dim_feedforward (4 E in the 2017 paper).

    Args:
        E, nhead: as in head_dim. dim_feedforward: F. bias: as in torch.

    Returns:
        The number of parameters, an int.

    Numerics:
        Exact integer arithmetic.

    Reference:
        sum(p.numel() for p in nn.TransformerEncoderLayer(...).parameters()).
    """
    raise NotImplementedError


def decoder_layer_params(E: int, nhead: int, dim_feedforward: int, bias: bool = True) -> int:
    """Parameters of nn.TransformerDecoderLayer(E, nhead, dim_feedforward, bias=bias).

    Math:
        self-attention + cross-attention (to the encoder's memory, E features: another
        attention_params) + the same feed-forward + 3 LayerNorms.

    Shapes:
        Plain ints.

    Args:
        As in encoder_layer_params.

    Returns:
        The number of parameters, an int.

    Numerics:
        Exact integer arithmetic.

    Reference:
        sum(p.numel() for p in nn.TransformerDecoderLayer(...).parameters()).
    """
    raise NotImplementedError


def attention_macs(
    N: int, L: int, S: int, E: int, nhead: int, kdim: int | None = None, vdim: int | None = None
) -> dict[str, int]:
    """Multiply-adds of one nn.MultiheadAttention forward, matrix product by matrix product.

    Math:
        in_projection:  N L tokens through W_q (E -> E), N S tokens through W_k (kdim -> E)
                        and W_v (vdim -> E)
        scores:         per sequence and head, (L, d) @ (d, S): Q K^T
        weighted_sum:   per sequence and head, (L, S) @ (S, d): weights @ V
        out_projection: N L tokens through W_o (E -> E)
        nhead heads of d = E / nhead features: the head count cancels out.

    Shapes:
        query (N, L, E), key (N, S, kdim), value (N, S, vdim); kdim / vdim None means E.

    Args:
        N, L, S, E, nhead, kdim, vdim: as above (refuse a bad nhead as head_dim does).

    Returns:
        {"in_projection": int, "scores": int, "weighted_sum": int, "out_projection": int}

    Numerics:
        Exact integers. Only matrix products count (as in torch's FlopCounterMode, whose
        FLOPs are 2 x these): not the softmax, the scaling or the bias adds.

    Reference:
        FlopCounterMode around nn.MultiheadAttention(...)(query, key, value): mm / addmm
        for the projections, two bmm calls for the attention matrix.
    """
    raise NotImplementedError


def encoder_layer_macs(N: int, L: int, E: int, nhead: int, dim_feedforward: int) -> dict[str, int]:
    """Multiply-adds of one nn.TransformerEncoderLayer forward on (N, L, E).

    Math:
        self_attention: all of attention_macs with S = L
        feed_forward:   N L tokens through linear1 (E -> F) and linear2 (F -> E)
        (layer norms, the activation and the residual adds: no matrix product, 0 here)
        Attention grows as L^2 E, the feed-forward as L E F: for short sequences the
        feed-forward dominates, for long ones attention.

    Shapes:
        src (N, L, E); F = dim_feedforward.

    Args:
        N, L, E, nhead, dim_feedforward: as above (refuse a bad nhead).

    Returns:
        {"self_attention": int, "feed_forward": int}

    Numerics:
        Exact integers.

    Reference:
        FlopCounterMode around nn.TransformerEncoderLayer(...)(src) (math attention backend).
    """
    raise NotImplementedError


def attention_matrix_bytes(N: int, nhead: int, L: int, S: int, dtype: np.dtype | str | type) -> int:
    """Bytes of the attention weights: one (L, S) matrix per sequence and head.

    Math:
        N * nhead * L * S elements of dtype's size (float16: 2 bytes, float32: 4, ...).
        Quadratic in the length: doubling L and S takes 4x the memory, whatever E is.

    Shapes:
        The weights are (N, nhead, L, S).

    Args:
        N, nhead, L, S: as above. dtype: anything np.dtype accepts ("float16", np.float32).

    Returns:
        The number of bytes, an int.

    Numerics:
        np.dtype(dtype).itemsize is the bytes of one element.

    Reference:
        weights.nbytes for (out, weights) = nn.MultiheadAttention(...)(query, key, value,
        average_attn_weights=False).
    """
    raise NotImplementedError


def crossover_length(E: int, dim_feedforward: int = 0) -> int:
    """The sequence length at which a layer's L x L products cost as much as its weights.

    Math:
        Self-attention (S = L), per token: the weight matrices cost (W_q, W_k, W_v, W_o)
        plus the feed-forward's two; the scores and the weighted sum cost 2 L E together.
        Write both per-token costs, set them equal and solve for L.
        dim_feedforward=0: the attention block alone (no feed-forward).

    Shapes:
        Plain ints.

    Args:
        E: d_model. dim_feedforward: F (0 for attention alone).

    Returns:
        L*, an int: below it the weights cost more, above it attention does.

    Numerics:
        The answer is a whole number: no / needed.

    Reference:
        Measured by the tests from torch's counts: the bmm FLOPs grow as L^2, the mm / addmm
        FLOPs as L; their ratio at L = 1 is L*.
    """
    raise NotImplementedError
