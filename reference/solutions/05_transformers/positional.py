"""Positional encodings: sinusoidal, learned and rotary (reference solution).

References: Vaswani et al. 2017, "Attention Is All You Need", section 3.5 (sinusoidal);
the PyTorch tutorial's PositionalEncoding; Su et al. 2021, "RoFormer", section 3.4 (rotary,
interleaved pairs as in GPT-J and Meta's LLaMA code).
"""

import numpy as np

BASE = 10000.0  # the paper's base: wavelengths from 2 pi to 10000 * 2 pi positions


def _frequencies(E, base):
    """w_i = base^(-2i / E) for i = 0, ..., ceil(E/2) - 1: one frequency per (sin, cos) pair."""
    i = np.arange((E + 1) // 2)
    return base ** (-2.0 * i / E)


def sinusoidal_encoding(L, E):
    """The sinusoidal position encoding of "Attention Is All You Need", section 3.5."""
    angles = np.outer(np.arange(L), _frequencies(E, BASE))  # (L, ceil(E/2))
    pe = np.empty((L, E))
    pe[:, 0::2] = np.sin(angles)  # even columns 0, 2, ...: ceil(E/2) of them
    pe[:, 1::2] = np.cos(angles[:, : E // 2])  # odd columns: one fewer when E is odd
    return pe


def add_positions(x, pe):
    """Add the encodings of positions 0..L-1 to a sequence of token embeddings."""
    L = x.shape[-2]
    if pe.shape[0] < L:
        raise ValueError(f"the table has {pe.shape[0]} positions; the sequence needs {L}")
    # pe[:L] (L, E) broadcasts over any leading batch axes of x (..., L, E)
    return x + pe[:L].astype(x.dtype)


def relative_shift_matrix(k, E):
    """The fixed matrix M_k that shifts a sinusoidal encoding by k: PE[p + k] = PE[p] @ M_k."""
    if E % 2:
        raise ValueError(f"E = {E} is odd: the last sin column has no cos partner")
    b = k * _frequencies(E, BASE)  # (E/2,) the angle each pair turns by
    cos, sin = np.cos(b), np.sin(b)
    M = np.zeros((E, E))
    even, odd = np.arange(0, E, 2), np.arange(1, E, 2)
    # block i acts on [sin a, cos a] (columns 2i, 2i + 1) as [[cos b, -sin b], [sin b, cos b]]
    M[even, even] = cos
    M[even, odd] = -sin
    M[odd, even] = sin
    M[odd, odd] = cos
    return M


def embedding_forward(positions, table):
    """Learned position embeddings: look each position's row up in a trainable table."""
    positions = np.asarray(positions)
    P = table.shape[0]
    if positions.size and (positions.min() < 0 or positions.max() >= P):
        raise IndexError(
            f"positions must lie in [0, {P}); got {positions.min()}..{positions.max()}"
        )
    return table[positions]  # (..., E): fancy indexing copies the rows


def embedding_backward(dout, positions, num_positions):
    """The gradient of a loss with respect to the embedding table, given dL/dout."""
    E = dout.shape[-1]
    dtable = np.zeros((num_positions, E), dtype=dout.dtype)
    # A position looked up twice received two rows of dout: both count. np.add.at is
    # unbuffered, so repeated indices accumulate (dtable[positions] += dout would not).
    np.add.at(dtable, positions, dout)
    return dtable


def rotary(x, positions, base=10000.0):
    """Rotary position embedding (RoPE): rotate each adjacent pair of features by an angle."""
    E = x.shape[-1]
    if E % 2:
        raise ValueError(f"E = {E} is odd: rotary needs pairs of features")
    # angles in float64 whatever x's dtype: m * theta for large m needs the precision
    angles = np.outer(np.asarray(positions, dtype=np.float64), _frequencies(E, base))  # (L, E/2)
    cos, sin = np.cos(angles).astype(x.dtype), np.sin(angles).astype(x.dtype)
    x0, x1 = x[..., 0::2], x[..., 1::2]  # (..., L, E/2) each: the pairs (2i, 2i + 1)
    out = np.empty(x.shape, dtype=x.dtype)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out
