"""Oracle for 04_rnn/sentiment: a generated corpus where negation decides the label, float64
references for both models (written without padding or packing), a reference epoch, and
the slips learners make.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------- the corpus

SUBJECTS = ("the film", "the movie", "the plot", "the acting", "the story", "the cast")
VERBS = ("was", "is", "seemed", "felt")
NEGATIONS = ("not", "never")
ADVERBS = ("very", "really", "truly", "quite", "so")
POSITIVE = ("good", "great", "brilliant", "wonderful", "fun", "moving", "clever", "charming")
NEGATIVE = ("bad", "awful", "boring", "dull", "terrible", "weak", "clumsy", "tedious")
# Clauses around the judgement, independent of the label; some hold a "not" or a "bad"
# that negates nothing: only a model that reads the order can tell.
OPENERS = ("", "honestly,", "to be fair,", "i think", "in the end,", "i did not expect much, but")
CLOSERS = ("", "in my opinion", ", i saw it on sunday", ", whatever the critics say")
CLOSERS += ("from start to finish", "and i was not surprised", ", my friends said it was bad")


def _sentence(opener, subject, verb, negation, adverbs, adjective, closer, end) -> str:
    words = " ".join(w for w in (opener, subject, verb, negation, *adverbs, adjective) if w)
    if closer:
        words += ("" if closer.startswith(",") else " ") + closer
    return words[0].upper() + words[1:] + end


def make_corpus(
    n: int, rng: np.random.Generator, negation: bool = True
) -> tuple[list[str], torch.Tensor]:
    """n review sentences and their labels (1 positive, 0 negative), shuffled.

    Sentences come in groups of four that share every word but the adjective and the
    negation: "<opener> the film was [not] [very] good|awful <closer>." The label is the
    adjective's polarity, flipped by a negation right before it. Each group holds a
    positive adjective p and a negative one q, each with and without the negation, so
    labels 1, 0, 0, 1 for (p), (q), (not p), (not q): every word occurs exactly as often
    in positive sentences as in negative ones, and counts alone carry no signal.
    negation=False drops the negation (the label is the adjective's polarity): a control
    corpus where words alone suffice. n must be a multiple of 4.
    """
    if n % 4:
        raise ValueError(f"n must be a multiple of 4 (groups of four), not {n}")

    def pick(options):
        return options[rng.integers(len(options))]

    texts, labels = [], []
    for _ in range(n // 4):
        opener, subject, verb, closer = pick(OPENERS), pick(SUBJECTS), pick(VERBS), pick(CLOSERS)
        adverbs = [ADVERBS[i] for i in rng.choice(len(ADVERBS), rng.integers(0, 3), False)]
        end = pick((".", ".", "!"))
        not_word = pick(NEGATIONS) if negation else ""
        for adjective, polarity in ((pick(POSITIVE), 1), (pick(NEGATIVE), 0)):
            for negated in (False, True):
                words = (opener, subject, verb, not_word if negated else "", adverbs)
                texts.append(_sentence(*words, adjective, closer, end))
                labels.append(polarity ^ int(negated and negation))
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], torch.tensor(labels, dtype=torch.int64)[order]


# ----------------------------------------------------------------------------- vocabulary


def build_vocab(token_lists, min_count: int = 1) -> dict[str, int]:
    """torchtext's build_vocab_from_iterator order: specials, then by count, ties by name."""
    counts = Counter(token for tokens in token_lists for token in tokens)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return {"<pad>": 0, "<unk>": 1, **{w: i + 2 for i, w in enumerate(words)}}


def encode(token_lists, vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """nn.utils.rnn.pad_sequence over the id lists; an empty sentence is one <unk>."""
    seqs = [torch.tensor([vocab.get(t, 1) for t in tokens] or [1]) for tokens in token_lists]
    ids = nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=0)
    return ids.to(torch.int64), torch.tensor([len(s) for s in seqs], dtype=torch.int64)


# ----------------------------------------------------------------------------- models


def bag_of_words(model, ids: torch.Tensor, lengths: torch.Tensor, slip: str = "") -> torch.Tensor:
    """BagOfWords' logits in float64 from token counts: out(counts @ E / length).

    slip "pads counted" divides by the padded width T and lets <pad>'s vector in;
    slip "sum" adds the word vectors instead of averaging them.
    """
    E = model.embed.weight.detach().double()  # (V, D)
    W, b = model.out.weight.detach().double(), model.out.bias.detach().double()
    counts = F.one_hot(ids, len(E)).double().sum(1)  # (N, V): how often each word occurs
    if slip != "pads counted":
        counts[:, 0] = 0  # <pad> is no word
    if slip == "sum":
        bag = counts @ E
    else:
        size = ids.shape[1] if slip == "pads counted" else lengths.double()[:, None]
        bag = counts @ E / size
    return bag @ W.T + b  # (N, C)


def _copy(module: nn.Module) -> nn.Module:
    """A float64 copy with the same weights (the learner's module is left alone)."""
    clone = type(module)(
        module.input_size, module.hidden_size, batch_first=True, dtype=torch.float64
    )
    clone.load_state_dict({k: v.detach().double() for k, v in module.state_dict().items()})
    return clone


def recurrent(
    model, ids: torch.Tensor, lengths: torch.Tensor, read: str = "last word", grads: bool = False
):
    """SentimentRNN's logits in float64, one sentence at a time at its own length (no pads).

    read: "last word" (right), "last padded step" (the padded batch run to T and read at
    T-1), "first step", or "cell state" (an LSTM's c_n instead of h_n). grads=True
    returns (logits, {parameter name: its float64 copy with requires_grad}) for autograd.
    """
    emb = model.embed.weight.detach().double().requires_grad_(grads)
    rnn = _copy(model.rnn)
    W = model.out.weight.detach().double().requires_grad_(grads)
    b = model.out.bias.detach().double().requires_grad_(grads)
    rows = []
    for i in range(len(ids)):
        n = ids.shape[1] if read == "last padded step" else int(lengths[i])
        out, state = rnn(emb[ids[i, :n]][None])  # (1, n, E) -> out (1, n, H)
        if read == "first step":
            h = out[0, 0]
        elif read == "cell state":
            h = state[1][-1, 0]
        else:
            h = out[0, -1]
        rows.append(h)
    logits = torch.stack(rows) @ W.T + b  # (N, C)
    if not grads:
        return logits.detach()
    params = {"embed.weight": emb, "out.weight": W, "out.bias": b}
    params.update({f"rnn.{k}": v for k, v in rnn.named_parameters()})
    return logits, params


class TinyClassifier(nn.Module):
    """A small float64 model for the training-loop and accuracy tests.

    It records the first word id of every row it is called on (self.seen), so a test can
    tell which examples each batch held: give every example a different first word.
    """

    def __init__(self, vocab_size: int, n_classes: int = 2, seed: int = 0, dropout: float = 0.0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.embed = nn.EmbeddingBag(vocab_size, 8, mode="mean", padding_idx=0).double()
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.out = nn.Linear(8, n_classes).double()
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
        self.seen: list[torch.Tensor] = []

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        self.seen.append(ids[:, 0].clone())
        return self.out(self.drop(self.embed(ids)))


# ----------------------------------------------------------------------------- training


def replay_epoch(model, ids, lengths, labels, optimizer, batches, slip: str = "") -> float:
    """The reference epoch over given batches (index tensors); the mean loss per example.

    slips: "no zero_grad", "summed loss" (cross-entropy summed over the batch), "last
    batch's loss" and "batch means" (returned instead of the mean per example).
    """
    model.train()
    total = 0.0
    for batch in batches:
        loss = F.cross_entropy(
            model(ids[batch], lengths[batch]),
            labels[batch],
            reduction="sum" if slip == "summed loss" else "mean",
        )
        if slip != "no zero_grad":
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * (1 if slip in ("summed loss", "batch means") else len(batch))
    if slip == "batch means":
        return total / len(batches)
    return loss.item() if slip == "last batch's loss" else total / len(ids)


@torch.no_grad()
def accuracy(model, ids, lengths, labels) -> float:
    model.eval()
    return float((model(ids, lengths).argmax(1) == labels).double().mean())


@torch.no_grad()
def accuracy_in_train_mode(model, ids, lengths, labels, batch_size=64, seed=0) -> float:
    """The slip: accuracy with dropout on (batches of batch_size, global seed `seed`)."""
    torch.manual_seed(seed)
    model.train()
    hits = 0
    for start in range(0, len(ids), batch_size):
        part = slice(start, start + batch_size)
        hits += int((model(ids[part], lengths[part]).argmax(1) == labels[part]).sum())
    return hits / len(ids)
