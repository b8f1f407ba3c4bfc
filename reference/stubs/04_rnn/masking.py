"""Variable-length batches: a padding mask and a tanh RNN that skips padded steps.

Implement with NumPy. Sequences of different lengths share one seq-first array
xs (T, N, D), each padded at the END up to T; lengths[n] says how many of its steps
are real. A padded step (t >= lengths[n]) must not touch sequence n: its hidden state
is carried through unchanged and its output is zero. Then each sequence's final
state is the state at its own last real step, exactly what running it alone gives,
and what torch computes from a PackedSequence.

    mask = length_mask(lengths, T)               # (T, N) bool
    hs, h_last = run_masked(xs, lengths, h0, params)

The cell is the rnn kata's: h = tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh).
Write it here (copy your rnn_cell_forward if you like) so this kata stands alone.

Run: pytest katas/04_rnn/test_masking.py
"""

import numpy as np


def length_mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """The padding mask of a batch: True where step t is a real step of sequence n.

    Math:
        mask[t, n] = t < lengths[n]

    Shapes:
        lengths: (N,); mask: (T, N).

    Args:
        lengths: integers in 1..T (a list or an int array), in any order.
        T: the padded length.

    Returns:
        mask: dtype bool.

    Numerics:
        No loops needed: compare a (T, 1) column of step indices with a (1, N) row.

    Reference:
        pad_packed_sequence(pack_padded_sequence(ones, lengths, enforce_sorted=False),
        total_length=T) is 1 exactly where mask is True.
    """
    raise NotImplementedError


def run_masked(
    xs: np.ndarray, lengths: np.ndarray, h0: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Run a tanh RNN over a padded batch, leaving each sequence alone past its length.

    Math:
        h_new = tanh(xs[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        where mask[t, n]:  h[n] = h_new[n],  hs[t, n] = h_new[n]
        elsewhere:         h[n] unchanged,    hs[t, n] = 0
        h_last = h after the last step = h at step lengths[n] - 1 for sequence n.

    Shapes:
        xs: (T, N, D); lengths: (N,); h0: (N, H); params["W_ih"]: (H, D),
        params["W_hh"]: (H, H), params["b_ih"], params["b_hh"]: (H,);
        hs: (T, N, H); h_last: (N, H).

    Args:
        xs: the padded batch, seq-first; what sits in the padding is arbitrary.
        lengths: each sequence's number of real steps, 1..T, in any order.
        h0: the initial hidden state.
        params: "W_ih", "W_hh", "b_ih", "b_hh", laid out as nn.RNN's weight_ih_l0, ...

    Returns:
        hs: xs's dtype, zero at padded steps.
        h_last: the state each sequence ends in.

    Numerics:
        The padding may hold any numbers (even huge ones): they must not reach h.
        Keep float32 in, float32 out. Do not modify the inputs.

    Reference:
        nn.RNN applied to pack_padded_sequence(xs, lengths, enforce_sorted=False):
        hs = pad_packed_sequence(out, total_length=T)[0], h_last = h_n[0].
    """
    raise NotImplementedError
