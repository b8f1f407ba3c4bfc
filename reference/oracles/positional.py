"""Oracles for 05_transformers/positional, in torch float64 and in other forms than the
solution's: the PyTorch tutorial's exp/log frequencies, torch.block_diag rotations,
F.embedding with autograd, and Meta's LLaMA rotary code (complex multiplication). Each
takes a `slip` naming a known mistake, so tests can say which one a wrong answer made.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor

F64 = torch.float64


def _div_term(E, base=10000.0, exponent=2.0):
    """base^(-2i / E) for 2i = 0, 2, ... < E, as the tutorial writes it: exp(2i * -log(base) / E).

    exponent=1 gives the slip base^(-i / E).
    """
    two_i = torch.arange(0, E, 2, dtype=F64)
    return torch.exp(two_i * (exponent / 2) * (-math.log(base) / E))


SINUSOIDAL_SLIPS = (
    "sin and cos swapped (cos in the even columns)",
    "exponent i / E instead of 2i / E",
    "base 1000 instead of 10000",
)


def sinusoidal(L, E, slip=None):
    """The tutorial's PositionalEncoding table, extended to odd E (the last column a sin)."""
    if slip == "odd E built as E + 1 columns, the last dropped":
        return sinusoidal(L, E + 1)[:, :E]
    base = 1000.0 if slip == SINUSOIDAL_SLIPS[2] else 10000.0
    exponent = 1.0 if slip == SINUSOIDAL_SLIPS[1] else 2.0
    position = torch.arange(L, dtype=F64)[:, None]  # (L, 1)
    div = _div_term(E, base, exponent)  # (ceil(E/2),)
    first, second = (
        (torch.cos, torch.sin) if slip == SINUSOIDAL_SLIPS[0] else (torch.sin, torch.cos)
    )
    pe = torch.zeros(L, E, dtype=F64)
    pe[:, 0::2] = first(position * div)
    pe[:, 1::2] = second(position * div[: E // 2])
    return numpy(pe)


def shift_matrix(k, E):
    """block_diag of [[cos b, -sin b], [sin b, cos b]], b = k * base^(-2i / E), one per pair."""
    b = k * _div_term(E)
    blocks = [
        torch.stack([torch.stack([c, -s]), torch.stack([s, c])]) for c, s in zip(b.cos(), b.sin())
    ]
    return numpy(torch.block_diag(*blocks))


def embedding(positions, table, dout=None):
    """F.embedding's lookup, or (given dout) the table's gradient by autograd."""
    t = tensor(table, grad=dout is not None)
    out = F.embedding(torch.as_tensor(np.asarray(positions, dtype=np.int64)), t)
    if dout is None:
        return numpy(out)
    (grad,) = torch.autograd.grad(out, t, tensor(dout))
    return numpy(grad)


def buffered(dout, positions, P):
    """{mistake: what dtable[positions] += dout gives}: a repeated row written once, not summed."""

    def value():
        dtable = np.zeros((P, dout.shape[-1]))
        dtable[np.asarray(positions)] += dout
        return dtable

    return {"dtable[positions] += dout: a repeated position's gradients not summed": value}


ROTARY_SLIPS = (
    "pairs (i, i + E/2) as in GPT-NeoX's rotate_half, not adjacent pairs (2i, 2i + 1)",
    "positions ignored: rows rotated as if at 0, 1, ..., L - 1",
    "rotation by -angle (sin with the wrong sign)",
)
FLOAT32_SLIP = "theta computed in float32: m * theta is off by ~1e-4 radians at large m"


def rotary(x, positions, base=10000.0, slip=None):
    """RoPE as Meta's LLaMA code writes it: pairs as complex numbers, times e^(i m theta)."""
    xt = tensor(x).contiguous()
    E = xt.shape[-1]
    if slip == ROTARY_SLIPS[1]:
        positions = np.arange(xt.shape[-2])
    theta = 1.0 / base ** (torch.arange(0, E, 2, dtype=F64) / E)  # (E/2,)
    if slip == FLOAT32_SLIP:
        theta = theta.float().double()
    angles = torch.outer(tensor(np.asarray(positions, dtype=np.float64)), theta)  # (L, E/2)
    if slip == ROTARY_SLIPS[2]:
        angles = -angles
    if slip == ROTARY_SLIPS[0]:  # Hugging Face's apply_rotary_pos_emb
        cos, sin = torch.cat([angles.cos()] * 2, -1), torch.cat([angles.sin()] * 2, -1)
        x1, x2 = xt[..., : E // 2], xt[..., E // 2 :]
        return numpy(xt * cos + torch.cat([-x2, x1], -1) * sin)
    cis = torch.polar(torch.ones_like(angles), angles)  # e^(i m theta), (L, E/2)
    pairs = torch.view_as_complex(xt.reshape(*xt.shape[:-1], E // 2, 2))  # (..., L, E/2)
    return numpy(torch.view_as_real(pairs * cis).flatten(-2))


def slips(fn, names, *args, **kwargs):
    """{slip: a function computing fn(*args, slip=slip)} for assert_close's mistakes=."""
    return {s: (lambda s=s: fn(*args, **kwargs, slip=s)) for s in names}


def attend(q, k, v):
    """One head of self-attention, softmax(q k^T / sqrt(E)) v, by torch (no mask)."""
    return numpy(F.scaled_dot_product_attention(tensor(q), tensor(k), tensor(v)))
