"""Sentiment classification where word order matters: bag-of-words against a recurrent net.

This kata is written in PyTorch. You turn text into padded batches of word ids, build
two classifiers, and a training loop for both:

    text -> tokenize -> ["the", "film", "was", "not", "good", "."]
         -> build_vocab / encode -> ids (N, T) int64, padded with 0, and lengths (N,)
         -> BagOfWords or SentimentRNN -> logits (N, 2) -> cross-entropy

The training tests use a generated corpus built so that words alone carry no signal:
sentences come in groups of four, "the film was good", "... awful", "... not good",
"... not awful" (labels 1, 0, 0, 1), with the same openers, adverbs and closers, some
of which hold a "not" or a "bad" that negates nothing. Every word is exactly as common
in positive sentences as in negative ones, so an order-free model stays at chance.
The tests train, with your train_epoch (Adam, batches of 64), on 2,000 such sentences
and score 1,000 new ones: your BagOfWords must stay at or below 0.6 (and reach 0.95 on
a control corpus without negation, where words suffice), and your
SentimentRNN(cell="gru", embed_dim=32, hidden_size=32) must reach 0.95 within 20
epochs. To look at the data:

    from reference.oracles.sentiment import make_corpus    # run from the repository root
    texts, labels = make_corpus(8, np.random.default_rng(0))

With the real corpus downloaded (`python -m checker data rt-polarity`: Pang & Lee's
10,662 movie-review sentences, 487 KB), a last test trains on it too. Run:
pytest katas/04_rnn/test_sentiment.py
"""

import torch
from torch import nn

PAD, UNK = "<pad>", "<unk>"  # ids 0 and 1 in every vocabulary


def tokenize(text: str) -> list[str]:
    """Lowercase, then split into words (with their apostrophes) and punctuation marks.

    Math:
        A token is a run of word characters and apostrophes, [\\w']+ ("isn't" is one
        token), or any other single character that is not whitespace (",", "!", "-").
        "Not BAD, isn't it?" -> ["not", "bad", ",", "isn't", "it", "?"]

    Shapes:
        a string -> a list of strings.

    Args:
        text: one sentence or review, any case.

    Returns:
        The tokens in order, lowercased; [] for a text of only spaces.

    Numerics:
        Lowercase first: "Good" and "good" must be one word, or the vocabulary splits
        its counts (and its training signal) in two.

    Reference:
        re.findall; torchtext's get_tokenizer("basic_english") is similar.
    """
    raise NotImplementedError


def build_vocab(token_lists: list[list[str]], min_count: int = 1) -> dict[str, int]:
    """Map each word seen at least min_count times to an id; <pad> is 0 and <unk> is 1.

    Math:
        ids: PAD -> 0, UNK -> 1, then every word whose count over all token lists is
        >= min_count, most frequent first, words with equal counts in alphabetical order,
        numbered 2, 3, ...

    Shapes:
        N lists of tokens -> a dict of V entries (V = 2 + the number of words kept).

    Args:
        token_lists: the TRAINING sentences, tokenized (never the test sentences: their
            words must look unknown, as they will in use).
        min_count: rarer words are left out and will encode as <unk>.

    Returns:
        {token: id} with ids 0 .. V-1.

    Numerics:
        A fixed order (count, then alphabet) makes the ids, and so the model's random
        initial embedding of each word, the same on every run.

    Reference:
        torchtext.vocab.build_vocab_from_iterator(token_lists, min_freq=min_count,
        specials=["<pad>", "<unk>"]).
    """
    raise NotImplementedError


def encode(
    token_lists: list[list[str]], vocab: dict[str, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists -> a right-padded (N, T) id tensor and the (N,) true lengths.

    Math:
        ids[i, t] = vocab[token t of sentence i] (vocab[UNK] when it is not in vocab)
        for t < lengths[i], and 0 (<pad>) after it. A sentence with no tokens becomes
        one <unk> token: lengths are always >= 1.

    Shapes:
        N token lists -> ids (N, T) with T = max(lengths), lengths (N,).

    Args:
        token_lists: tokenized sentences.
        vocab: from build_vocab.

    Returns:
        (ids, lengths), both torch.int64.

    Numerics:
        A recurrent net cannot read a sentence of length 0 (pack_padded_sequence refuses
        it), hence the lone <unk>.

    Reference:
        nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=0).
    """
    raise NotImplementedError


class BagOfWords(nn.Module):
    """The order-free baseline: the mean of the sentence's word vectors, then a linear layer."""

    def __init__(self, vocab_size: int, embed_dim: int = 16, n_classes: int = 2):
        """Build self.embed (nn.EmbeddingBag, mean, padding_idx=0) and self.out (nn.Linear)."""
        raise NotImplementedError

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits from the average of the word vectors of each sentence's real tokens.

        Math:
            bag_i = (1 / lengths[i]) * sum over t < lengths[i] of embed[ids[i, t]]
            logits_i = out(bag_i)
            self.embed = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean",
            padding_idx=0), which leaves <pad> out of the mean; self.out =
            nn.Linear(embed_dim, n_classes). (fastText's model: linear in the word counts.)

        Shapes:
            ids (N, T), lengths (N,) -> logits (N, n_classes).

        Args:
            ids: padded word ids.
            lengths: true lengths (with padding_idx=0 the bag does not need them).

        Returns:
            float32 logits (no softmax).

        Numerics:
            Padding must not count: the same sentence padded to 5 or to 50 must give the
            same logits.

        Reference:
            nn.EmbeddingBag(mode="mean", padding_idx=0); Joulin et al., "Bag of Tricks
            for Efficient Text Classification" (2016).
        """
        raise NotImplementedError


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
        raise NotImplementedError

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits from the recurrent state after each sentence's last real word.

        Math:
            self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
            self.rnn = nn.LSTM or nn.GRU(embed_dim, hidden_size, batch_first=True), one
            layer, by cell ("lstm" or "gru"; anything else raises ValueError)
            self.out = nn.Linear(hidden_size, n_classes)
            h_i = the hidden state after step lengths[i] - 1 of sentence i
            logits_i = out(h_i)

        Shapes:
            ids (N, T), lengths (N,) -> embedded (N, T, E) -> h (N, H) -> (N, n_classes).

        Args:
            ids: padded word ids.
            lengths: true lengths, each >= 1; the batch need not be sorted by length.

        Returns:
            float32 logits (no softmax).

        Numerics:
            Never read the state at step T - 1 of a short sentence: by then it has read
            pads. Pack the batch (pack_padded_sequence with enforce_sorted=False) and
            take h_n[-1] (an LSTM returns (h_n, c_n): the h), or gather the output at
            step lengths - 1. Either way a sentence's logits do not depend on how much
            padding it has or which sentences share its batch.

        Reference:
            nn.utils.rnn.pack_padded_sequence; nn.LSTM / nn.GRU with a PackedSequence.
        """
        raise NotImplementedError


def train_epoch(
    model: nn.Module,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One pass over the data in a random order; returns the mean cross-entropy per example.

    Math:
        model.train(); a random order of the N examples drawn from generator
        (order = torch.randperm(N, generator=generator)); for each batch b of batch_size
        indices in that order (the last may be shorter):
        loss = F.cross_entropy(model(ids[b], lengths[b]), labels[b])  (mean over b);
        zero the gradients, backward, optimizer.step().
        Returns sum over batches of loss * len(b), divided by N.

    Shapes:
        ids (N, T), lengths (N,), labels (N,) int64 class ids.

    Args:
        model: called as model(ids, lengths) -> logits (B, C).
        optimizer: built on model's parameters; one step per batch.
        batch_size: B.
        generator: the only source of randomness here (the order of the examples).

    Returns:
        The epoch's mean loss per example, a Python float.

    Numerics:
        .grad accumulates across backward calls: zero it before each backward. Leave
        ids, lengths and labels unchanged (index them, do not shuffle them in place).

    Reference:
        The loop of every PyTorch tutorial. DataLoader(TensorDataset(ids, lengths,
        labels), batch_size, shuffle=True, generator=generator) batches the same way
        (in another random order, also drawn from generator).
    """
    raise NotImplementedError


def accuracy(
    model: nn.Module,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = 512,
) -> float:
    """The fraction of sentences whose highest logit is their label, in eval mode.

    Math:
        model.eval(); under torch.no_grad(), in batches of batch_size:
        predicted = logits.argmax(dim=1); accuracy = mean(predicted == labels).

    Shapes:
        ids (N, T), lengths (N,), labels (N,).

    Args:
        model: called as model(ids, lengths).
        ids, lengths, labels: the data to score.
        batch_size: sentences per forward pass (only memory depends on it).

    Returns:
        A Python float in [0, 1].

    Numerics:
        eval() turns dropout off: in train mode the same model scores differently on
        every call.

    Reference:
        torchmetrics.classification.MulticlassAccuracy(average="micro").
    """
    raise NotImplementedError
