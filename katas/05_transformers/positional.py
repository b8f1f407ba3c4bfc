"""Positional encodings: sinusoidal, learned and rotary, and why attention needs them.

Implement with NumPy. Self-attention treats its input as a SET: permute the tokens and
the outputs come out permuted the same way: "dog bites man" and "man bites dog" give
each word the same output. A transformer must be told where each token sits. Three ways:

    pe = sinusoidal_encoding(L, E)           # fixed waves (Vaswani et al. 2017)
    y = add_positions(x, pe)                 # x + pe[:L], before the first layer
    M = relative_shift_matrix(k, E)          # pe[p + k] = pe[p] @ M for every p
    emb = embedding_forward(positions, table)                    # learned: a lookup
    dtable = embedding_backward(dout, positions, len(table))     # ...and its gradient
    q_rot = rotary(q, positions)             # RoPE: rotate queries and keys instead

Run: pytest katas/05_transformers/test_positional.py
"""

import numpy as np


def sinusoidal_encoding(L: int, E: int) -> np.ndarray:
    """The sinusoidal position encoding of "Attention Is All You Need", section 3.5.

    Math:
        w_i = 1 / 10000^(2i / E)                    for i = 0, 1, 2, ...
        PE[p, 2i]     = sin(p * w_i)
        PE[p, 2i + 1] = cos(p * w_i)
        Columns come in (sin, cos) pairs sharing one frequency; the frequencies fall
        geometrically from 1 (a period of 2 pi positions) to about 1/10000. For odd E the
        last column, 2i = E - 1, is a sin with no cos partner (E stays in the exponent).

    Shapes:
        PE: (L, E); row p encodes position p = 0, ..., L - 1.

    Args:
        L: how many positions (the longest sequence), L >= 1.
        E: the embedding size, E >= 1.

    Returns:
        PE, float64, every value in [-1, 1].

    Numerics:
        No loops: an outer product of positions (L,) and frequencies gives every angle.

    Reference:
        No torch built-in; the PyTorch tutorial's PositionalEncoding computes
        div_term = exp(arange(0, E, 2) * (-log(10000) / E)), pe[:, 0::2] = sin(p * div_term),
        pe[:, 1::2] = cos(p * div_term).
    """
    raise NotImplementedError


def add_positions(x: np.ndarray, pe: np.ndarray) -> np.ndarray:
    """Add the encodings of positions 0..L-1 to a sequence of token embeddings.

    Math:
        y[..., p, :] = x[..., p, :] + pe[p, :]      for p = 0, ..., L - 1

    Shapes:
        x: (..., L, E), e.g. (N, L, E) or (L, E); pe: (P, E) with P >= L (a table built
        once for the longest sequence); y: x's shape.

    Args:
        x: token embeddings, one row per position.
        pe: an encoding table (sinusoidal or learned).

    Returns:
        y: a new array of x's dtype.

    Numerics:
        Do not modify x (no x += ...). Raise ValueError when pe has fewer than L rows.

    Reference:
        The PyTorch tutorial's PositionalEncoding.forward: x + pe[:L].
    """
    raise NotImplementedError


def relative_shift_matrix(k: int, E: int) -> np.ndarray:
    """The fixed matrix M_k that shifts a sinusoidal encoding by k: PE[p + k] = PE[p] @ M_k.

    Math:
        With a = p * w_i and b = k * w_i, the pair (sin a, cos a) becomes
            sin(a + b) = sin a cos b + cos a sin b
            cos(a + b) = cos a cos b - sin a sin b
        a rotation that depends on k but not on p. As a row vector times a matrix:
            [sin(a + b), cos(a + b)] = [sin a, cos a] @ [[ cos b, -sin b],
                                                         [ sin b,  cos b]]
        M_k is block-diagonal: that 2 x 2 block, one per pair (2i, 2i + 1), zeros elsewhere.

    Shapes:
        M_k: (E, E).

    Args:
        k: the shift, any integer (negative moves back).
        E: the embedding size; must be even (ValueError otherwise: an unpaired sin column
            cannot be shifted without its cos).

    Returns:
        M_k, float64.

    Numerics:
        M_k is orthogonal, M_0 is the identity and M_j @ M_k = M_(j + k).

    Reference:
        Vaswani et al. 2017, section 3.5: "for any fixed offset k, PE_(pos + k) can be
        represented as a linear function of PE_pos"; torch.block_diag builds such matrices.
    """
    raise NotImplementedError


def embedding_forward(positions: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Learned position embeddings: look each position's row up in a trainable table.

    Math:
        out[..., :] = table[positions[...], :]

    Shapes:
        positions: (...) integers, e.g. (N, L) or (L,); table: (P, E); out: (..., E).

    Args:
        positions: integers in [0, P).
        table: the embedding table, one row per position.

    Returns:
        out, table's dtype.

    Numerics:
        Raise IndexError for a position outside [0, P), as torch does: NumPy would read
        table[-1] silently for position -1.

    Reference:
        torch.nn.functional.embedding(positions, table), or nn.Embedding(P, E).
    """
    raise NotImplementedError


def embedding_backward(dout: np.ndarray, positions: np.ndarray, num_positions: int) -> np.ndarray:
    """The gradient of a loss with respect to the embedding table, given dL/dout.

    Math:
        dtable[j, :] = sum of dout[..., :] over every index where positions[...] == j
        A position used twice gets both gradients added; an unused row gets zero.

    Shapes:
        dout: (..., E); positions: (...) the forward's; dtable: (num_positions, E).

    Args:
        dout: the upstream gradient, one row per looked-up position.
        positions: the positions the forward looked up.
        num_positions: P, the table's number of rows.

    Returns:
        dtable, dout's dtype.

    Numerics:
        dtable[positions] += dout is NOT a sum: with repeated indices NumPy writes each row
        once (the last write wins). Use np.add.at, which accumulates.

    Reference:
        torch.autograd.grad of F.embedding(positions, table) with respect to table.
    """
    raise NotImplementedError


def rotary(x: np.ndarray, positions: np.ndarray, base: float = 10000.0) -> np.ndarray:
    """Rotary position embedding (RoPE): rotate each adjacent pair of features by an angle.

    Math:
        theta_i = base^(-2i / E)                     for i = 0, ..., E/2 - 1
        For the token at position m, features (2i, 2i + 1) form a pair (x0, x1):
            out[2i]     = x0 * cos(m theta_i) - x1 * sin(m theta_i)
            out[2i + 1] = x0 * sin(m theta_i) + x1 * cos(m theta_i)
        Rotations keep norms, and <rotary(q, m), rotary(k, n)> depends on m - n only:
        attention scores see relative positions.

    Shapes:
        x: (..., L, E), E even; positions: (L,), the position of each row of x; out: x's shape.

    Args:
        x: queries or keys (before the scores q @ k.T are taken).
        positions: integer positions (not necessarily 0..L-1: decoding one token at
            position 57 has L = 1 and positions [57]).
        base: the frequency base (10000 in RoFormer; larger in long-context models).

    Returns:
        out, x's dtype. Raise ValueError for odd E.

    Numerics:
        Compute theta and the angles m * theta_i in float64 even for float32 x: at
        m = 5000, a theta_i rounded to float32 puts the angle off by ~1e-4 radians, ten
        times float32's tolerance. Then cast cos and sin to x's dtype.

    Reference:
        The interleaved pairing (2i, 2i + 1) of RoFormer (Su et al. 2021, eq. 34), GPT-J and
        Meta's LLaMA reference code (torch.view_as_complex on pairs). GPT-NeoX and Hugging
        Face's LLaMA pair feature i with i + E/2 ("rotate_half"): not this kata's layout.
    """
    raise NotImplementedError
