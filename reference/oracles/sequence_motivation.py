"""Oracle for the sequence_motivation kata: the window read step by step, both models'
logits from their weights in float64 (the GRU through a PackedSequence), the training
loop, accuracy by length, and the slips learners make in each.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence


def last_window(tokens, lengths, k, pad=0, slip=None) -> torch.Tensor:
    """(N, k): sequence i's steps lengths[i]-k .. lengths[i]-1, pad before step 0.

    Written as a loop over sequences and window positions, independent of any gather.
    slip: "start" (the first k steps), "right-pad" (the real tokens first, then pad),
    "end-of-padding" (the last k steps of the padded array, lengths ignored).
    """
    N, T = tokens.shape
    out = torch.full((N, k), pad, dtype=torch.int64)
    for i in range(N):
        n = int(lengths[i])
        real = [int(tokens[i, t]) for t in range(max(0, n - k), n)]  # at most k
        if slip == "start":
            real = [int(tokens[i, t]) for t in range(min(k, n))]
        if slip == "end-of-padding":
            real = [int(tokens[i, t]) for t in range(max(0, T - k), T)]
        if slip == "right-pad":
            out[i, : len(real)] = torch.tensor(real, dtype=torch.int64)
        elif real:
            out[i, k - len(real) :] = torch.tensor(real, dtype=torch.int64)
    return out


def window_logits(model, tokens, lengths, window_slip=None, order="position") -> torch.Tensor:
    """WindowMLP's logits in float64 from its weights: one-hot window, Linear, ReLU, Linear.

    order="symbol" flattens the one-hot (N, V+1, k) instead of (N, k, V+1).
    """
    V1 = model.n_symbols + 1
    window = last_window(tokens, lengths, model.k, slip=window_slip)
    x = F.one_hot(window, V1).double()  # (N, k, V+1)
    if order == "symbol":
        x = x.transpose(1, 2)
    x = x.reshape(len(x), -1)
    h = F.relu(F.linear(x, model.hidden.weight.double(), model.hidden.bias.double()))
    return F.linear(h, model.out.weight.double(), model.out.bias.double())


def recurrent_logits(model, tokens, lengths, final="packed", keep=False) -> torch.Tensor:
    """RecurrentClassifier's logits in float64: a copy of its GRU over a PackedSequence.

    final="padded-end" reads the state after the last padded step instead (what
    states[:, -1] gives); final="time-major" runs the GRU without batch_first.
    keep=True uses the model's own (float64) GRU, so that gradients reach its weights.
    """
    gru = model.rnn if keep else copy.deepcopy(model.rnn).double()
    x = F.one_hot(tokens, model.n_symbols + 1).double()  # (N, T, V+1)
    if final == "packed":
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h_n = gru(packed)  # (1, N, H), in the batch's original order
        last = h_n[-1]
    elif final == "padded-end":
        last = gru(x)[0][:, -1]
    elif final == "time-major":
        gru.batch_first = False
        states = gru(x)[0]  # x read as (T=N, N=T, V+1): each step mixes the batch
        last = states[torch.arange(len(tokens)), lengths - 1]
    else:
        raise ValueError(final)
    return F.linear(last, model.out.weight.double(), model.out.bias.double())


def fit(model, tokens, lengths, labels, *, epochs, batch_size, lr, generator, slip=None):
    """The training loop the kata asks for.

    slip: "no-zero-grad", "no-shuffle", "global-rng", "batch-mean" (the mean of the batch means) or
    "full-weight" (every batch weighted by batch_size, the short last one too).
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(tokens)
    history = []
    for _ in range(epochs):
        model.train()
        if slip == "no-shuffle":
            order = torch.arange(n)
        else:  # slip "global-rng": the caller seeds torch's global RNG as the learner saw it
            order = torch.randperm(n, generator=None if slip == "global-rng" else generator)
        total, losses = 0.0, []
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(tokens[idx], lengths[idx]), labels[idx])
            if slip != "no-zero-grad":
                opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * (batch_size if slip == "full-weight" else len(idx))
            losses.append(loss.item())
        history.append(sum(losses) / len(losses) if slip == "batch-mean" else total / n)
    return history


def accuracy_by_length(predictions, lengths, labels) -> dict[int, float]:
    """{length: fraction of that length's sequences predicted right}, by counting."""
    counts: dict[int, list[int]] = {}
    for p, n, y in zip(predictions.tolist(), lengths.tolist(), labels.tolist()):
        right_total = counts.setdefault(int(n), [0, 0])
        right_total[0] += int(p == y)
        right_total[1] += 1
    return {n: right / total for n, (right, total) in sorted(counts.items())}
