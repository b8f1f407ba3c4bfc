"""Oracles for the character-level language model kata, in PyTorch (float64 where it matters).

Each function is written independently of the solution (index arithmetic for the
batching, nn modules with copied weights for the model) and takes switches that
reproduce the common slips, so a test can name the mistake it sees.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from checker.datasets import DataError, load_text


def batchify(ids: torch.Tensor, n: int) -> torch.Tensor:
    """out[t, j] = ids[j * T + t] with T = len(ids) // n: column j is the j-th chunk."""
    T = len(ids) // n
    index = torch.arange(n)[None, :] * T + torch.arange(T)[:, None]  # (T, n)
    return ids[index]


def get_batch(source: torch.Tensor, i: int, bptt: int, shift: int = 1):
    """Rows i .. i+T-1 and the rows `shift` later, T = min(bptt, len(source) - 1 - i)."""
    T = min(bptt, len(source) - 1 - i)
    return source[i : i + T], source[i + shift : i + shift + T]


class Reference(nn.Module):
    """nn.Embedding -> nn.LSTM (time first) -> nn.Linear, to be loaded with a model's weights."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, hidden=None):
        out, hidden = self.lstm(self.embedding(x), hidden)
        return self.head(out), hidden


def sizes(model: nn.Module) -> tuple[int, int, int, int] | None:
    """(V, E, H, layers) read from a model's embedding and lstm, or None if it has neither."""
    emb, lstm = getattr(model, "embedding", None), getattr(model, "lstm", None)
    if not isinstance(emb, nn.Embedding) or not isinstance(lstm, nn.LSTM):
        return None
    return emb.num_embeddings, emb.embedding_dim, lstm.hidden_size, lstm.num_layers


def copy_of(model: nn.Module) -> Reference:
    """A float64 Reference holding the same weights as model (its state_dict keys must match)."""
    ref = Reference(*sizes(model)).double()
    ref.load_state_dict({k: v.detach().double() for k, v in model.state_dict().items()})
    return ref


def _loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def train_epoch(model, data, bptt, optimizer, clip, carry=True, weighted=True, zero_grad=True):
    """Truncated BPTT over data's windows; the mean loss per character. The switches reproduce
    slips: carry=False restarts every window from zeros, weighted=False averages the windows'
    means, zero_grad=False lets the gradients pile up."""
    hidden, total, count = None, 0.0, 0
    for i in range(0, len(data) - 1, bptt):
        x, y = get_batch(data, i, bptt)
        if hidden is not None:
            hidden = tuple(h.detach() for h in hidden) if carry else None
        logits, hidden = model(x, hidden)
        loss = _loss(logits, y)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += loss.item() * (y.numel() if weighted else 1)
        count += y.numel() if weighted else 1
    return total / count


@torch.no_grad()
def evaluate(model, data, bptt, weighted=True) -> float:
    """Mean cross-entropy per character (nats) over all of data; hidden state carried."""
    model.eval()
    hidden, total, count = None, 0.0, 0
    for i in range(0, len(data) - 1, bptt):
        x, y = get_batch(data, i, bptt)
        logits, hidden = model(x, hidden)
        total += _loss(logits, y).item() * (y.numel() if weighted else 1)
        count += y.numel() if weighted else 1
    return total / count


def probabilities(logits, temperature, top_k=None) -> torch.Tensor:
    """softmax(logits / temperature), with every logit below the k-th largest given 0."""
    z = logits / temperature  # in logits' dtype: draws then match a float32 sampler's too
    if top_k is not None and top_k < z.shape[-1]:
        kth = torch.sort(z, dim=-1, descending=True).values[..., top_k - 1 : top_k]
        z = torch.where(z >= kth, z, torch.full_like(z, -math.inf))
    return torch.softmax(z, dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, generator=None, among_k=False):
    """torch.multinomial over probabilities(...); among_k: draw among the k kept only, then
    map back (the same distribution, other draws: a slip against the docstring)."""
    if temperature == 0:
        return logits.argmax(-1)
    if among_k and top_k is not None:
        values, index = torch.topk(logits / temperature, top_k, dim=-1)
        pick = torch.multinomial(torch.softmax(values, -1), 1, generator=generator)
        return index.gather(-1, pick).squeeze(-1)
    probs = probabilities(logits, temperature, top_k)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


@torch.no_grad()
def generate(model, vocab, prompt, n, temperature=1.0, top_k=None, generator=None,
             carry=True, last=True) -> str:  # fmt: skip
    """The prompt read at once, then n sampled characters fed back one at a time.

    carry=False forgets the state at every step; last=False samples the first character
    after the prompt from the prompt's first position (an off-by-one)."""
    stoi = {ch: i for i, ch in enumerate(vocab)}
    x = torch.tensor([stoi[ch] for ch in prompt]).view(-1, 1)  # (T, 1)
    logits, hidden = model(x)
    out = []
    for _ in range(n):
        nxt = sample_next(logits[-1 if last else 0], temperature, top_k, generator)  # (1,)
        out.append(vocab[int(nxt)])
        logits, hidden = model(nxt.view(1, 1), hidden if carry else None)
    return prompt + "".join(out)


# ----------------------------------------------------------------------------- corpus

CORPORA = {
    "tinyshakespeare": "Tiny Shakespeare (cached at $DLKATAS_DATA)",
    "pydoc": "the pydoc topics that ship with Python (offline: Tiny Shakespeare is not cached; "
    "`python -m checker data tinyshakespeare` fetches it)",
}


def corpus() -> tuple[str, str]:
    """(key of CORPORA, text): Tiny Shakespeare when cached, else Python's pydoc topics."""
    try:
        return "tinyshakespeare", load_text("tinyshakespeare")
    except DataError:
        from pydoc_data.topics import topics  # ~465 KB of English, in every CPython

        return "pydoc", "\n\n".join(topics[key] for key in sorted(topics))


def unigram_loss(train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int) -> float:
    """Cross-entropy (nats/char) on val of the character frequencies of train (add-one)."""
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + 1
    logp = torch.log(counts / counts.sum())
    return float(-logp[val_ids].mean())
