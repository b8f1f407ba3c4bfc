"""Oracle for 05_transformers/multihead: nn.MultiheadAttention in float64, and known slips.

The module runs in train mode with dropout=0.0: its result is the plain formula, and the
inference fast path (eval mode, self-attention, an even number of heads) stays out of it.
query, key and value are separate leaf tensors, so autograd gives each its own gradient.
"""

from __future__ import annotations

import numpy as np
import torch

from reference.oracles import numpy, tensor

PARAMS = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")
GRADS = ("query", "key", "value", *PARAMS)


def module(params: dict, num_heads: int, batch_first: bool = True) -> torch.nn.Module:
    """nn.MultiheadAttention(E, H) in float64 with params copied in (names as in state_dict)."""
    E = np.shape(params["out_proj.weight"])[0]
    m = torch.nn.MultiheadAttention(
        E, num_heads, dropout=0.0, batch_first=batch_first, dtype=torch.float64
    )
    m.train()  # dropout is 0.0 anyway; train mode keeps the fast path out
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(tensor(params[name]))
    return m


def _masks(kw: dict) -> dict:
    """The keyword arguments with masks as tensors (bool stays bool, floats become float64)."""
    return {k: tensor(v) if k.endswith("mask") and v is not None else v for k, v in kw.items()}


def mha(query, key, value, params, num_heads, dout=None, **kw) -> dict:
    """nn.MultiheadAttention's out and weights (and, given dout, every gradient).

    kw: key_padding_mask, attn_mask, need_weights, average_attn_weights, batch_first.
    """
    m = module(params, num_heads, kw.pop("batch_first", True))
    tq, tk, tv = (tensor(x, grad=True) for x in (query, key, value))
    out, weights = m(tq, tk, tv, **_masks(kw))
    result = {"out": numpy(out), "weights": None if weights is None else numpy(weights)}
    if dout is not None:
        named = dict(m.named_parameters())
        g = torch.autograd.grad(out, (tq, tk, tv, *(named[n] for n in PARAMS)), tensor(dout))
        result.update(zip(GRADS, map(numpy, g)))
    return result


def split_heads(x, num_heads) -> np.ndarray:
    """The head split exactly as F.multi_head_attention_forward does it, back to (N, H, L, d).

    torch works sequence first: (L, N, E) -> view (L, N*H, d) -> transpose (N*H, L, d).
    """
    N, L, E = x.shape
    t = tensor(x).transpose(0, 1).reshape(L, N * num_heads, E // num_heads).transpose(0, 1)
    return numpy(t.reshape(N, num_heads, L, E // num_heads))


def merge_heads(x) -> np.ndarray:
    """The heads put back side by side as F.multi_head_attention_forward does, as (N, L, E).

    torch has (N*H, L, d) -> transpose (L, N*H, d) -> reshape (L*N, E), sequence first.
    """
    N, H, L, d = x.shape
    t = tensor(x).reshape(N * H, L, d).transpose(0, 1).reshape(L * N, H * d)
    return numpy(t.reshape(L, N, H * d).transpose(0, 1))


# ----------------------------------------------------------------------------- known slips
# A hand-written multi-head attention in torch with one slip each; autograd gives the slip's
# gradients. Backward slips keep the forward values and change only the gradient, by the
# trick y = y0.detach() + (what the slip's derivative would multiply) * (x - x.detach()).

QKV_ORDER = "in_proj_weight's rows read as k, q, v (torch stacks them q, k, v)"
NOT_TRANSPOSED = "projections as x @ W instead of x @ W.T (nn.Linear stores weights as (out, in))"
BATCH_FIRST = "batch_first=False ignored: (L, N, E) read as (N, L, E), attending across the batch"
SCALE_E = "scores scaled by 1/sqrt(E) instead of 1/sqrt(E / H), the head's size"
SPLIT = "heads split as (N, L, d, H): each head took every H-th feature, not a block of d"
KPM_POLARITY = "key_padding_mask read as True = attend (in nn.MultiheadAttention True = padding)"
AM_POLARITY = (
    "boolean attn_mask read as True = may attend (SDPA's convention); "
    "nn.MultiheadAttention's True = blocked"
)
AM_HEAD_MAJOR = "a (N*H, L, S) attn_mask read head-major (row h*N + n); torch's row is n*H + h"
SOFTMAX_AXIS = "softmax over the queries (axis -2) instead of over the keys (axis -1)"
NO_OUT_BIAS = "out_proj.bias left out"
SOFTMAX_JACOBIAN = "softmax backward as dS = P * dP: the - P * sum(dP * P) term is missing"
DK_NO_SCALE = "dk without the 1/sqrt(d) scale that the scores had"
DV_NOT_TRANSPOSED = "dv = P @ dctx instead of P^T @ dctx"
FORWARD_SLIPS = (QKV_ORDER, NOT_TRANSPOSED, BATCH_FIRST, SCALE_E, SPLIT, KPM_POLARITY,
                 AM_POLARITY, AM_HEAD_MAJOR, SOFTMAX_AXIS, NO_OUT_BIAS)  # fmt: skip
BACKWARD_SLIPS = (SOFTMAX_JACOBIAN, DK_NO_SCALE, DV_NOT_TRANSPOSED)


def _additive(mask, polarity_slip: bool):
    if mask is None:
        return 0.0
    if mask.dtype == torch.bool:
        mask = ~mask if polarity_slip else mask
        return torch.zeros(mask.shape, dtype=torch.float64).masked_fill(mask, float("-inf"))
    return mask


def slip_mha(slip, query, key, value, W, b, W_o, b_o, num_heads, key_padding_mask=None,
             attn_mask=None, need_weights=True, average_attn_weights=True,
             batch_first=True):  # fmt: skip
    """(out, weights) of multi-head attention with a named slip; torch tensors in and out.

    Raises ValueError where the slip cannot run on these shapes (the learner's code would
    have crashed instead).
    """
    if not batch_first and slip != BATCH_FIRST:
        query, key, value = (x.transpose(0, 1) for x in (query, key, value))
    N, L, E = query.shape
    S, H, d = key.shape[1], num_heads, E // num_heads
    W_q, W_k, W_v = W.chunk(3)
    b_q, b_k, b_v = b.chunk(3)
    if slip == QKV_ORDER:
        W_q, W_k = W_k, W_q

    def split(x):
        if slip == SPLIT:
            return x.reshape(N, -1, d, H).permute(0, 3, 1, 2)
        return x.reshape(N, -1, H, d).transpose(1, 2)

    if slip == NOT_TRANSPOSED:
        W_q, W_k, W_v = W_q.T, W_k.T, W_v.T
    if N != key.shape[0] or (slip == DV_NOT_TRANSPOSED and S != L):
        raise ValueError(f"slip {slip!r} does not run on these shapes")
    q, k, v = split(query @ W_q.T + b_q), split(key @ W_k.T + b_k), split(value @ W_v.T + b_v)
    scale = (E if slip == SCALE_E else d) ** -0.5
    raw = (q @ k.transpose(-1, -2)) * scale
    if slip == DK_NO_SCALE:  # same values; k's gradient misses the scale
        raw = (q @ k.detach().transpose(-1, -2)) * scale + q.detach() @ (k - k.detach()).mT
    am = _additive(attn_mask, slip == AM_POLARITY)
    if torch.is_tensor(am) and am.dim() == 3:
        am = (
            am.reshape(H, N, L, S).transpose(0, 1)
            if slip == AM_HEAD_MAJOR
            else am.reshape(N, H, L, S)
        )
    kpm = _additive(key_padding_mask, slip == KPM_POLARITY)
    if torch.is_tensor(kpm):
        kpm = kpm[:, None, None, :]
    P = torch.softmax(raw + am + kpm, dim=-2 if slip == SOFTMAX_AXIS else -1)
    if slip == SOFTMAX_JACOBIAN:  # same values; dS = P * dP
        P = P.detach() + P.detach() * (raw - raw.detach())
    heads = P @ v
    if slip == DV_NOT_TRANSPOSED:  # same values; v's gradient is P @ dctx
        heads = P.detach() @ v.detach() + P.detach().mT @ (v - v.detach())
    ctx = heads.transpose(1, 2).reshape(N, L, E)
    out = ctx @ W_o.T + (0.0 if slip == NO_OUT_BIAS else b_o)
    if not batch_first and slip != BATCH_FIRST:
        out = out.transpose(0, 1)
    weights = None
    if need_weights:
        weights = P.mean(dim=1) if average_attn_weights else P
    return out, weights


def slips(query, key, value, params, num_heads, dout=None, **kw) -> dict[str, dict]:
    """{"out" / "weights" / gradient name: {slip label: a function giving that slip's value}}.

    Computed lazily (only when a comparison fails), once per slip.
    """
    done: dict[str, dict] = {}

    def run(slip):
        ts = [tensor(a, grad=True) for a in (query, key, value)]
        ps = [tensor(params[n], grad=True) for n in PARAMS]
        try:
            out, weights = slip_mha(slip, *ts, *ps, num_heads, **_masks(kw))
        except (ValueError, RuntimeError):  # this slip cannot happen with these shapes
            return dict.fromkeys(GRADS + ("out", "weights"))
        result = {"out": numpy(out), "weights": None if weights is None else numpy(weights)}
        if dout is not None:
            g = torch.autograd.grad(out, ts + ps, tensor(dout), allow_unused=True)
            result.update(zip(GRADS, (None if x is None else numpy(x) for x in g)))
        return result

    def value_of(slip, name):
        def get():
            if slip not in done:
                done[slip] = run(slip)
            return done[slip][name]

        return get

    names = ("out", "weights") + (() if dout is None else GRADS)
    labels = FORWARD_SLIPS + (() if dout is None else BACKWARD_SLIPS)
    return {n: {s: value_of(s, n) for s in labels} for n in names}
