"""Oracle for 05_transformers/attention: F.scaled_dot_product_attention and autograd in
float64, the attention weights from an explicit torch softmax, and known slips.

torch 2.13's behaviour that the kata follows (checked on CPU, float32 and float64):
- is_causal=True builds tril(ones(L, S)): aligned top-left, query i sees keys 0..i.
- a row whose keys are all masked (bool False or additive -inf) gives out = 0 and zero
  gradients, not NaN (the math backend's "safe softmax").
- attn_mask together with is_causal=True raises an error.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def _mask(mask):
    return None if mask is None else tensor(mask)


def bias(mask, is_causal, L, S, causal_shift=0, invert=False):
    """The additive bias (0 where a query may attend, -inf elsewhere) torch builds, float64.

    causal_shift and invert produce the slips: tril(k=causal_shift), a boolean mask read
    the wrong way round.
    """
    b = torch.zeros(L, S, dtype=torch.float64)
    if is_causal:
        allowed = torch.ones(L, S, dtype=torch.bool).tril(diagonal=causal_shift)
        b = b.masked_fill(~allowed, -math.inf)
    if mask is not None:
        m = tensor(mask)
        if m.dtype == torch.bool:
            b = b.masked_fill(m if invert else ~m, -math.inf)
        else:
            b = b + m
    return b


def softmax_rows(scores, dim=-1):
    """torch.softmax, with 0 (not NaN) where every score along dim is -inf: torch's SDPA."""
    dead = torch.isneginf(scores).all(dim=dim, keepdim=True)
    return torch.where(dead, 0.0, torch.softmax(scores, dim=dim))


def attend(q, k, v, b, scale=None, dim=-1):
    """(out, weights) by the textbook formula, from float64 tensors and a bias b."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    w = softmax_rows(q @ k.transpose(-1, -2) * scale + b, dim)
    return w @ v, w


def forward(q, k, v, mask=None, is_causal=False):
    """(out, weights): out from F.scaled_dot_product_attention, weights from torch.softmax."""
    tq, tk, tv = tensor(q), tensor(k), tensor(v)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=_mask(mask), is_causal=is_causal)
    L, S = q.shape[-2], k.shape[-2]
    _, w = attend(tq, tk, tv, bias(mask, is_causal, L, S))
    return numpy(out), numpy(w)


def backward(dout, q, k, v, mask=None, is_causal=False):
    """(dq, dk, dv): torch.autograd through F.scaled_dot_product_attention."""
    ts = [tensor(a, grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ts, attn_mask=_mask(mask), is_causal=is_causal)
    return tuple(numpy(g) for g in torch.autograd.grad(out, ts, tensor(dout)))


def forward_slips(q, k, v, mask=None, is_causal=False) -> dict[str, dict]:
    """{"out"|"weights": {slip label: zero-arg function giving that slip's value}}.

    Only the slips that can differ for these inputs are listed.
    """
    tq, tk, tv = tensor(q), tensor(k), tensor(v)
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    b = bias(mask, is_causal, L, S)
    slips = {
        "no 1/sqrt(E) scaling of the scores": lambda: attend(tq, tk, tv, b, scale=1.0),
        "scores scaled by 1/E instead of 1/sqrt(E)": lambda: attend(tq, tk, tv, b, scale=1 / E),
        "softmax over the query axis (axis=-2) instead of the keys (axis=-1)": lambda: attend(
            tq, tk, tv, b, dim=-2
        ),
    }
    boolean = mask is not None and np.asarray(mask).dtype == bool
    if is_causal or boolean:

        def after():  # softmax of the unmasked scores, masked weights zeroed, not renormalised
            _, w = attend(tq, tk, tv, torch.zeros(L, S, dtype=torch.float64))
            w = w * torch.isfinite(b)
            return w @ tv, w

        slips["the mask applied after the softmax: rows no longer sum to 1"] = after
    if boolean:
        slips["the boolean mask inverted (True read as 'masked')"] = lambda: attend(
            tq, tk, tv, bias(mask, False, L, S, invert=True)
        )
    if mask is not None and not boolean:
        slips["the additive mask ignored"] = lambda: attend(tq, tk, tv, bias(None, False, L, S))
    dead = torch.isneginf(b).all(dim=-1)  # queries that may attend to no key at all
    if bool(dead.any()):

        def nan_rows():  # the right answer, with NaN on every fully masked row
            out, w = attend(tq, tk, tv, b)
            hole = dead[..., None]
            return out.masked_fill(hole, math.nan), w.masked_fill(hole, math.nan)

        slips["a fully masked row left as NaN (-inf - (-inf), or 0 / 0)"] = nan_rows
    else:

        def unshifted():  # exp of the raw scores, in the input's dtype: it overflows there
            dtype = torch.float32 if np.asarray(q).dtype == np.float32 else torch.float64
            e = torch.exp((tq @ tk.transpose(-1, -2) / math.sqrt(E) + b).to(dtype)).double()
            w = e / e.sum(-1, keepdim=True)
            return w @ tv, w

        slips["exp of the raw scores, no row max subtracted: inf / inf = NaN"] = unshifted
    if is_causal:
        for label, shift in (
            ("the causal mask shifted by one: each query also sees the next key", 1),
            ("the causal mask shifted by one: a query cannot see its own position", -1),
            ("the causal mask aligned bottom-right (tril(k=S-L)); torch aligns it top-left", S - L),
        ):
            if shift != 0:
                slips[label] = lambda s=shift: attend(tq, tk, tv, bias(None, True, L, S, s))
    return {
        name: {label: (lambda f=f, i=i: numpy(f()[i])) for label, f in slips.items()}
        for i, name in enumerate(("out", "weights"))
    }


def backward_slips(dout, q, k, v, mask=None, is_causal=False) -> dict[str, dict]:
    """{"dq"|"dk"|"dv": {slip label: value}} for backward-only mistakes, float64."""
    tq, tk, tv, td = tensor(q), tensor(k), tensor(v), tensor(dout)
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = 1 / math.sqrt(E)
    dP = td @ tv.transpose(-1, -2)

    def grads(dS, P=None):  # {"dq", "dk"} from a softmax gradient dS (and "dv" given P)
        out = {"dq": dS @ tk * scale, "dk": dS.transpose(-1, -2) @ tq * scale}
        return out if P is None else {**out, "dv": P.transpose(-1, -2) @ td}

    _, P = attend(tq, tk, tv, bias(mask, is_causal, L, S))
    # The softmax Jacobian's diagonal only: the - P (P . dP) term dropped.
    slips = {"the softmax Jacobian without its subtraction term: dS = P * dP": grads(P * dP)}
    if mask is not None or is_causal:
        _, P0 = attend(tq, tk, tv, torch.zeros(L, S, dtype=torch.float64))
        dS0 = P0 * (dP - (P0 * dP).sum(-1, keepdim=True))
        slips["the backward pass recomputed the weights without the mask"] = grads(dS0, P0)
    if L == S:  # otherwise P @ dout is a shape error, which names itself
        slips["dv = P @ dout: the weights not transposed (P^T @ dout)"] = {"dv": P @ td}
    return {
        name: {label: numpy(g[name]) for label, g in slips.items() if name in g}
        for name in ("dq", "dk", "dv")
    }
