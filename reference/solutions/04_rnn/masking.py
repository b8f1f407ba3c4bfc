"""Variable-length batches in NumPy: a padding mask and a tanh RNN that skips padded steps.

Sequences of different lengths share one (T, N, D) array, padded at the end. At a padded
step (t >= length) the hidden state is carried through unchanged and the output is zero,
so each sequence's final state is the one it reaches at its own last step, exactly what
running it alone gives, and what torch computes from a PackedSequence.
The cell is written here (a copy of the rnn kata's forward) so this kata stands alone.
References: torch.nn.utils.rnn.pack_padded_sequence / pad_packed_sequence docs.
"""

import numpy as np


def length_mask(lengths, T):
    """(T, N) bool: True where step t is a real step of sequence n."""
    lengths = np.asarray(lengths)
    return np.arange(T)[:, None] < lengths[None, :]


def _cell(x, h, p):
    return np.tanh(x @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])


def run_masked(xs, lengths, h0, params):
    """A tanh RNN over a padded batch; returns (hs, h_last)."""
    T, N, _ = xs.shape
    mask = length_mask(lengths, T)[:, :, None]  # (T, N, 1): broadcasts over H
    h = h0
    hs = np.zeros((T, N, h0.shape[1]), dtype=xs.dtype)
    for t in range(T):
        h_new = _cell(xs[t], h, params)
        hs[t] = np.where(mask[t], h_new, 0)  # padded steps output zero
        h = np.where(mask[t], h_new, h)  # padded steps carry h through
    return hs, h
