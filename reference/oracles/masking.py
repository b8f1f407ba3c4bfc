"""Oracles for the masking kata: a packed sequence through nn.RNN, per-sequence runs, and
the same loop with the common slips switched on (for naming mistakes)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from reference.oracles import numpy, tensor

TORCH_NAMES = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0",
               "b_hh": "bias_hh_l0"}  # fmt: skip


def _rnn(params):
    H, D = params["W_ih"].shape
    m = nn.RNN(D, H, nonlinearity="tanh").double()
    with torch.no_grad():
        for k, name in TORCH_NAMES.items():
            getattr(m, name).copy_(tensor(params[k]))
    return m


def length_mask(lengths, T):
    """pad_packed_sequence of a packed batch of ones: True at real steps."""
    ones = torch.ones(T, len(lengths), 1, dtype=torch.float64)
    packed = pack_padded_sequence(ones, torch.as_tensor(np.asarray(lengths)), enforce_sorted=False)
    padded, _ = pad_packed_sequence(packed, total_length=T)
    return numpy(padded[:, :, 0]).astype(bool)


@torch.no_grad()
def packed(xs, lengths, h0, params):
    """(hs, h_last): nn.RNN over pack_padded_sequence(enforce_sorted=False), padded back."""
    T = xs.shape[0]
    lens = torch.as_tensor(np.asarray(lengths, dtype=np.int64))
    seq = pack_padded_sequence(tensor(xs), lens, enforce_sorted=False)
    out, hn = _rnn(params)(seq, tensor(h0)[None])
    hs, _ = pad_packed_sequence(out, total_length=T)
    return numpy(hs), numpy(hn[0])


@torch.no_grad()
def alone(xs, lengths, h0, params):
    """(N, H): each sequence run by itself, unpadded, through nn.RNN."""
    m = _rnn(params)
    return np.stack([numpy(m(tensor(xs[: int(L), n : n + 1]), tensor(h0[n : n + 1])[None])[1][0, 0])
                     for n, L in enumerate(lengths)])  # fmt: skip


@torch.no_grad()
def slip(xs, lengths, h0, params, *, update_pad=False, zero_out=True, shift=0, last="h"):
    """The masked loop with a slip: padded steps update h, outputs not zeroed, the mask
    extended by `shift` steps, or h_last taken from hs[T-1] (last="hs[-1]")."""
    m = _rnn(params)
    T = xs.shape[0]
    mask = (torch.arange(T)[:, None] < torch.as_tensor(np.asarray(lengths))[None] + shift)[
        ..., None
    ]
    x, h, outs = tensor(xs), tensor(h0), []
    for t in range(T):
        h_new, _ = m(x[t : t + 1], h[None])
        h_new = h_new[0]
        outs.append(h_new if not zero_out else torch.where(mask[t], h_new, 0.0))
        h = h_new if update_pad else torch.where(mask[t], h_new, h)
    hs = torch.stack(outs)
    return numpy(hs), numpy(hs[-1] if last == "hs[-1]" else h)
