"""Sentiment classification where word order matters: bag-of-words against a recurrent net.

Text becomes tokens, tokens become ids from a vocabulary (<pad> 0, <unk> 1), and a
batch of sentences becomes one padded (N, T) tensor plus each sentence's length. A
bag-of-words model averages word vectors: it cannot tell "not good" from "good, not
bad". A recurrent net reads the words in order and classifies from its state after
each sentence's last real word. References: Pang & Lee, "Seeing stars" (ACL 2005) for
the sentence polarity corpus; Joulin et al., "Bag of Tricks for Efficient Text
Classification" (fastText, 2016) for the averaged-embedding baseline; the PyTorch docs
of nn.EmbeddingBag and nn.utils.rnn.pack_padded_sequence.
"""

import re

import torch
import torch.nn.functional as F
from torch import nn

PAD, UNK = "<pad>", "<unk>"  # ids 0 and 1 in every vocabulary


def tokenize(text: str) -> list[str]:
    """Lowercase, then split into words (with their apostrophes) and punctuation marks."""
    # A word is a run of letters, digits, underscores and apostrophes ("isn't" stays one
    # token); any other character that is not a space is a token of its own.
    return re.findall(r"[\w']+|[^\w\s]", text.lower())


def build_vocab(token_lists: list[list[str]], min_count: int = 1) -> dict[str, int]:
    """Map each word seen at least min_count times to an id; <pad> is 0 and <unk> is 1."""
    counts: dict[str, int] = {}
    for tokens in token_lists:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    kept = [word for word, count in counts.items() if count >= min_count]
    kept.sort(key=lambda word: (-counts[word], word))  # most frequent first, ties by name
    vocab = {PAD: 0, UNK: 1}
    for word in kept:
        vocab[word] = len(vocab)
    return vocab


def encode(
    token_lists: list[list[str]], vocab: dict[str, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists -> a right-padded (N, T) id tensor and the (N,) true lengths."""
    unk = vocab[UNK]
    # An empty sentence becomes one <unk>: a recurrent net cannot read zero steps.
    seqs = [[vocab.get(token, unk) for token in tokens] or [unk] for tokens in token_lists]
    lengths = torch.tensor([len(seq) for seq in seqs], dtype=torch.int64)  # (N,)
    ids = torch.full((len(seqs), int(lengths.max())), vocab[PAD], dtype=torch.int64)  # (N, T)
    for i, seq in enumerate(seqs):
        ids[i, : len(seq)] = torch.tensor(seq, dtype=torch.int64)
    return ids, lengths


class BagOfWords(nn.Module):
    """The order-free baseline: the mean of the sentence's word vectors, then a linear layer."""

    def __init__(self, vocab_size: int, embed_dim: int = 16, n_classes: int = 2):
        """Build self.embed (nn.EmbeddingBag, mean, padding_idx=0) and self.out (nn.Linear)."""
        super().__init__()
        # padding_idx=0 leaves <pad> out of the mean, so padding does not dilute it.
        self.embed = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean", padding_idx=0)
        self.out = nn.Linear(embed_dim, n_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        bag = self.embed(ids)  # (N, T) -> (N, E): one bag per row, pads left out
        return self.out(bag)  # (N, C) logits


class SentimentRNN(nn.Module):
    """Embedding, an LSTM or GRU over the real words, a linear layer on the last state."""

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 32,
        hidden_size: int = 64,
        n_classes: int = 2,
        cell: str = "lstm",
    ):
        """Build self.embed, self.rnn (nn.LSTM or nn.GRU, batch_first) and self.out."""
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', not {cell!r}")
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        rnn_class = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn_class(embed_dim, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, n_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)  # (N, T, E)
        # Packing runs each sentence for exactly its own length: the state never sees a pad.
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, state = self.rnn(packed)
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n); GRU: h_n
        # h_n is (num_layers, N, H), back in the batch's order; the top layer's state is
        # each sentence's state after its last real word.
        return self.out(h_n[-1])  # (N, C) logits


def train_epoch(
    model: nn.Module,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One pass over the data in a random order; returns the mean cross-entropy per example."""
    model.train()
    n = len(ids)
    order = torch.randperm(n, generator=generator)  # a new order every epoch
    total = 0.0
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        logits = model(ids[batch], lengths[batch])  # (B, C)
        loss = F.cross_entropy(logits, labels[batch])  # mean over the batch
        optimizer.zero_grad()  # gradients add up in .grad: clear the last batch's
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)  # a short last batch counts for what it holds
    return total / n


@torch.no_grad()
def accuracy(
    model: nn.Module,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = 512,
) -> float:
    """The fraction of sentences whose highest logit is their label, in eval mode."""
    model.eval()  # dropout off: the prediction must not be random
    correct = 0
    for start in range(0, len(ids), batch_size):
        part = slice(start, start + batch_size)
        predicted = model(ids[part], lengths[part]).argmax(dim=1)  # (B,)
        correct += int((predicted == labels[part]).sum())
    return correct / len(ids)
