"""Transformer encoder and decoder layers: attention, feed-forward, layer norm, residuals.

Implement with NumPy. A transformer layer is a short stack of sublayers, each wrapped the
same way: a residual connection around it (x + f(x)) and a layer norm. Where the norm goes
is the one design choice (norm_first):

    post-norm (the 2017 paper):  x = norm(x + f(x))      for f in the layer's sublayers
    pre-norm (GPT-2 and after):  x = x + f(norm(x))      the residual path is never normalised

Encoder layer: f = self-attention, then the feed-forward net (norm1, norm2).
Decoder layer: f = causal self-attention, cross-attention to the encoder's output (memory),
then the feed-forward net (norm1, norm2, norm3).

The weights use torch's state_dict names and shapes, so a layer's state_dict loads straight in:

    params["self_attn.in_proj_weight"] (3E, E)  and self_attn.in_proj_bias, .out_proj.weight,
                                                 .out_proj.bias (nn.MultiheadAttention's)
    params["multihead_attn.*"]         the decoder's cross-attention, the same four names
    params["linear1.weight"] (F, E), ["linear1.bias"] (F,)    (nn.Linear: (out, in), x @ W.T)
    params["linear2.weight"] (E, F), ["linear2.bias"] (E,)
    params["norm1.weight"] (E,) gamma, ["norm1.bias"] (E,) beta; norm2 and norm3 likewise

You do not write attention again here: `attention` is your multihead_attention_forward from
the multihead kata (the tests pass in yours once that kata passes, the reference until then):

    out, weights, cache = attention(query, key, value, attn_params, num_heads,
                                    key_padding_mask=None, attn_mask=None, need_weights=True)

attn_params are the four names without their prefix. One line makes them:
    {k.removeprefix("self_attn."): v for k, v in params.items() if k.startswith("self_attn.")}
Its boolean masks follow nn.MultiheadAttention: True means BLOCKED (do not look there).

Run: pytest katas/05_transformers/test_transformer_block.py
"""

from collections.abc import Callable

import numpy as np


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Normalise each position's features to mean 0 and variance 1, then scale and shift.

    Math:
        mu = mean(x, last axis);  var = mean((x - mu)^2, last axis)   (divide by E, not E - 1)
        out = gamma * (x - mu) / sqrt(var + eps) + beta

    Shapes:
        x: (..., E), any number of leading axes; gamma, beta: (E,); out: x's shape.

    Args:
        x: the activations; every position (every vector along the last axis) on its own.
        gamma, beta: the learned scale and shift (torch's norm.weight and norm.bias).
        eps: added to the variance (torch's layer_norm_eps, default 1e-5).

    Returns:
        The normalised array, x's dtype (x is not modified).

    Numerics:
        eps goes inside the sqrt: a constant row has var = 0 and must give beta, not NaN.

    Reference:
        torch.nn.functional.layer_norm(x, (E,), gamma, beta, eps); nn.LayerNorm(E)
    """
    raise NotImplementedError


def feed_forward(
    x: np.ndarray, params: dict[str, np.ndarray], activation: str = "relu"
) -> np.ndarray:
    """The position-wise feed-forward net: linear2(activation(linear1(x))).

    Math:
        h = activation(x @ W1.T + b1);  out = h @ W2.T + b2
        relu(h) = max(h, 0);  gelu(h) = h * Phi(h) = 0.5 * h * (1 + erf(h / sqrt(2)))

    Shapes:
        x: (N, L, E); W1: (F, E), b1: (F,); W2: (E, F), b2: (E,); out: (N, L, E).
        Usually F = 4E: each position is widened, passed through the nonlinearity, narrowed.

    Args:
        x: the sequence; every position goes through the same net on its own.
        params: the layer's params; this uses linear1.weight, linear1.bias, linear2.weight,
            linear2.bias.
        activation: "relu" or "gelu"; anything else raises ValueError.

    Returns:
        out, x's dtype.

    Numerics:
        GELU is the exact erf form (torch's default, approximate="none"), not the tanh
        approximation. NumPy has no erf: np.vectorize(math.erf) applies the scalar one; cast
        its float64 result back to x's dtype.

    Reference:
        nn.TransformerEncoderLayer._ff_block: linear2(dropout(activation(linear1(x)))),
        with dropout 0.
    """
    raise NotImplementedError


def encoder_layer(
    src: np.ndarray,
    params: dict[str, np.ndarray],
    nhead: int,
    attention: Callable[..., tuple],
    norm_first: bool = False,
    activation: str = "relu",
    src_mask: np.ndarray | None = None,
    src_key_padding_mask: np.ndarray | None = None,
    layer_norm_eps: float = 1e-5,
) -> np.ndarray:
    """One encoder layer: self-attention, then the feed-forward net, each with residual and norm.

    Math:
        sa(h) = attention(h, h, h, self_attn params, nhead, src_key_padding_mask, src_mask)
        ff(h) = feed_forward(h, params, activation)
        post-norm: x = norm1(x + sa(x));   x = norm2(x + ff(x))
        pre-norm:  x = x + sa(norm1(x));   x = x + ff(norm2(x))
        normK(h) = layer_norm(h, params["normK.weight"], params["normK.bias"], layer_norm_eps)

    Shapes:
        src: (N, L, E), batch first; src_mask: (L, L); src_key_padding_mask: (N, L);
        returns (N, L, E).

    Args:
        src: the input sequence (token embeddings plus positions, or the layer below's output).
        params: the layer's weights by state_dict name (see the module docstring).
        nhead: the number of attention heads; divides E.
        attention: your multihead_attention_forward (see the module docstring).
        norm_first: pre-norm (True) or post-norm (False, torch's default).
        activation: the feed-forward net's nonlinearity, "relu" or "gelu".
        src_mask: passed to attention as attn_mask (bool True = blocked, or additive floats).
        src_key_padding_mask: (N, L) bool, True at padding positions: no one attends to them.
        layer_norm_eps: eps of both norms.

    Returns:
        The layer's output, src's shape and dtype.

    Numerics:
        Keep the dtype: float32 in, float32 out.

    Reference:
        nn.TransformerEncoderLayer(E, nhead, F, dropout=0.0, activation=activation,
        layer_norm_eps=eps, batch_first=True, norm_first=norm_first)(src, src_mask,
        src_key_padding_mask)
    """
    raise NotImplementedError


def decoder_layer(
    tgt: np.ndarray,
    memory: np.ndarray,
    params: dict[str, np.ndarray],
    nhead: int,
    attention: Callable[..., tuple],
    norm_first: bool = False,
    activation: str = "relu",
    tgt_is_causal: bool = False,
    tgt_key_padding_mask: np.ndarray | None = None,
    memory_key_padding_mask: np.ndarray | None = None,
    layer_norm_eps: float = 1e-5,
) -> np.ndarray:
    """One decoder layer: causal self-attention, cross-attention to memory, feed-forward.

    Math:
        sa(h) = attention(h, h, h, self_attn params, causal mask, tgt_key_padding_mask)
        ca(h) = attention(h, memory, memory, multihead_attn params, memory_key_padding_mask)
        causal mask (L, L) bool: True above the diagonal (key j > query i is the future)
        post-norm: x = norm1(x + sa(x));  x = norm2(x + ca(x));  x = norm3(x + ff(x))
        pre-norm:  x = x + sa(norm1(x));  x = x + ca(norm2(x));  x = x + ff(norm3(x))

    Shapes:
        tgt: (N, L, E); memory: (N, S, E), the encoder's output; tgt_key_padding_mask: (N, L);
        memory_key_padding_mask: (N, S); returns (N, L, E).

    Args:
        tgt: the target sequence so far (shifted right while training).
        memory: the encoder's output: keys and values of the cross-attention (not normalised
            by this layer, in either order).
        params: the layer's weights by state_dict name (see the module docstring).
        nhead, attention, norm_first, activation, layer_norm_eps: as in encoder_layer.
        tgt_is_causal: build the causal mask for the self-attention (position i sees 0..i).
        tgt_key_padding_mask: (N, L) bool, True at padded target positions.
        memory_key_padding_mask: (N, S) bool, True at padded source positions.

    Returns:
        The layer's output, tgt's shape and dtype.

    Numerics:
        Keep the dtype: float32 in, float32 out.

    Reference:
        nn.TransformerDecoderLayer(E, nhead, F, dropout=0.0, ..., batch_first=True,
        norm_first=norm_first)(tgt, memory, tgt_mask=causal mask, tgt_key_padding_mask=...,
        memory_key_padding_mask=...). torch's tgt_is_causal is only a hint and needs
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(L); here it builds the mask.
    """
    raise NotImplementedError
