"""Why feedforward fails on sequences: a fixed window against a recurrent net.

This kata is written in PyTorch. The task is the simplest long-range dependency there
is, the latch: the label of a sequence is its FIRST token, everything after it is noise,
and sequences have different lengths. A batch is padded to one width:

    tokens  (N, T) int64: symbols 1 .. n_symbols, then PAD = 0 after each sequence's end
    lengths (N,)   int64: how many steps of each row are real (1 <= lengths[i] <= T)
    labels  (N,)   int64: tokens[:, 0] - 1, a class in 0 .. n_symbols - 1

A feedforward net takes an input of one fixed size. To read sequences of any length it
must cut a fixed window out of them, here the last k tokens: once a sequence is longer
than k its first token is outside the window, and the net is guessing. A recurrent net
reads one token per step with the SAME weights at every step: time is a dimension it
walks along, not a size fixed in its weights. It takes any length, and it can carry the
first token in its state to the end.

The training test (last) runs your whole pipeline: latch_task with 8 symbols, your
WindowMLP (k = 10) and your RecurrentClassifier trained with your train on lengths 1..10,
then accuracy_by_length on lengths 1..40, plotted. The window net must get lengths 1..10
right (90%) and stay near chance (1/8) on lengths 20..40; the GRU must average at least
90% on lengths 20..40, two to four times longer than anything it was trained on.

Run: pytest katas/04_rnn/test_sequence_motivation.py
"""

import torch
from matplotlib.figure import Figure
from torch import nn

PAD = 0  # the padding token; symbols are 1 .. n_symbols


def latch_task(
    n: int, min_len: int, max_len: int, n_symbols: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of the latch task: padded random tokens; the label is the first token.

    Math:
        lengths[i] uniform in min_len .. max_len (both included);
        tokens[i, t] uniform in 1 .. n_symbols for t < lengths[i], PAD for t >= lengths[i];
        labels[i] = tokens[i, 0] - 1.

    Shapes:
        tokens (N, T) with T = max_len; lengths (N,); labels (N,); all int64.

    Args:
        n: N, the number of sequences.
        min_len, max_len: the shortest and longest length (1 <= min_len <= max_len).
        n_symbols: V, the number of symbols (and of classes).
        generator: the only source of randomness (torch.randint(..., generator=generator)).

    Returns:
        (tokens, lengths, labels).

    Numerics:
        torch.randint(low, high, ...) draws from low .. high - 1: high is exclusive.

    Reference:
        The "latch" or "information latching" task of Bengio, Simard & Frasconi (1994).
    """
    raise NotImplementedError


def last_window(
    tokens: torch.Tensor, lengths: torch.Tensor, k: int, pad: int = PAD
) -> torch.Tensor:
    """The last k real tokens of every sequence, left-padded: all a window model sees.

    Math:
        window[i, j] = tokens[i, lengths[i] - k + j]   where lengths[i] - k + j >= 0
                     = pad                             otherwise (before the first step)

    Shapes:
        tokens (N, T), lengths (N,) -> window (N, k); k may be larger than T.

    Args:
        tokens: padded token ids (any layout: a transposed view works too).
        lengths: real steps per row, 0 <= lengths[i] <= T.
        k: the window size.
        pad: the value placed before a sequence's first step.

    Returns:
        int64 (N, k); the last real token is always in column k - 1.

    Numerics:
        Integers only. Steps at or after lengths[i] (padding) never enter the window.

    Reference:
        torch.gather along dim 1 with indices clamped at 0, then torch.where/masked_fill;
        the fixed context of Bengio et al. (2003)'s neural probabilistic language model.
    """
    raise NotImplementedError


class WindowMLP(nn.Module):
    """A feedforward classifier over the one-hot last k tokens of each sequence."""

    def __init__(self, n_symbols: int, k: int, hidden: int, n_classes: int):
        """Set self.n_symbols, self.k, self.hidden and self.out (see forward)."""
        raise NotImplementedError

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class logits from the last k tokens of each sequence.

        Math:
            w = last_window(tokens, lengths, k);  x = one_hot(w, V + 1) flattened
            logits = out(relu(hidden(x))),  hidden = nn.Linear(k * (V + 1), hidden),
            out = nn.Linear(hidden, n_classes).

        Shapes:
            tokens (N, T), lengths (N,) -> w (N, k) -> x (N, k, V+1) -> (N, k * (V+1))
            -> (N, hidden) -> logits (N, n_classes). x is flattened position by position:
            x[:, j * (V+1) + s] = 1 where w[:, j] == s.

        Args:
            tokens: padded token ids, PAD = 0.
            lengths: real steps per row.

        Returns:
            Logits (no softmax), in the weights' dtype.

        Numerics:
            F.one_hot gives int64: convert it with .to(self.hidden.weight.dtype), so the
            model also runs after .double().

        Reference:
            F.one_hot, nn.Linear, torch.relu.
        """
        raise NotImplementedError


class RecurrentClassifier(nn.Module):
    """A GRU over the one-hot tokens; a linear classifier on each sequence's last state."""

    def __init__(self, n_symbols: int, hidden: int, n_classes: int):
        """Set self.n_symbols, self.rnn and self.out (see forward)."""
        raise NotImplementedError

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class logits from each sequence's state after its own last real step.

        Math:
            x_t = one_hot(tokens[:, t], V + 1);  h_t = GRU(x_t, h_{t-1}), h_{-1} = 0;
            logits[i] = out(h_{lengths[i] - 1}[i]).
            rnn = nn.GRU(V + 1, hidden, batch_first=True); out = nn.Linear(hidden, n_classes).

        Shapes:
            tokens (N, T), lengths (N,) -> x (N, T, V+1) -> states (N, T, hidden)
            -> last (N, hidden) -> logits (N, n_classes). T can be anything.

        Args:
            tokens: padded token ids, PAD = 0.
            lengths: real steps per row, 1 <= lengths[i] <= T, in any order.

        Returns:
            Logits (no softmax), in the weights' dtype.

        Numerics:
            states[:, -1] is the state after the padding too: pick row i's state at step
            lengths[i] - 1 (index with torch.arange(N) and lengths - 1), or pack the batch.

        Reference:
            nn.GRU(batch_first=True); torch.nn.utils.rnn.pack_padded_sequence
            (enforce_sorted=False), whose h_n is the state at each sequence's last step.
        """
        raise NotImplementedError


def train(
    model: nn.Module,
    tokens: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
) -> list[float]:
    """Adam on cross-entropy over shuffled minibatches; the mean loss of every epoch.

    Math:
        optimizer = Adam(model.parameters(), lr). Every epoch: model.train();
        order = torch.randperm(N, generator=generator); for each slice of batch_size
        indices idx of order: loss = cross_entropy(model(tokens[idx], lengths[idx]),
        labels[idx]); zero the gradients, backward, step.

    Shapes:
        tokens (N, T), lengths (N,), labels (N,).

    Args:
        model: any module called as model(tokens, lengths) -> (N, C) logits.
        tokens, lengths, labels: the training set (see latch_task).
        epochs, batch_size, lr: the schedule; the last batch may be smaller.
        generator: the only source of randomness (the shuffles).

    Returns:
        One float per epoch: the mean loss per example (each batch weighted by its size).

    Numerics:
        .backward() adds into .grad: zero it before every backward.

    Reference:
        torch.optim.Adam, F.cross_entropy, torch.randperm.
    """
    raise NotImplementedError


def accuracy_by_length(
    model: nn.Module, tokens: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor
) -> dict[int, float]:
    """{length: accuracy} over the sequences of each length, in eval mode.

    Math:
        pred = argmax over classes of model(tokens, lengths);
        acc[n] = mean of (pred == labels) over the rows with lengths == n.

    Shapes:
        tokens (N, T), lengths (N,), labels (N,) -> one entry per distinct length.

    Args:
        model: called as model(tokens, lengths) -> (N, C) logits.
        tokens, lengths, labels: a test set.

    Returns:
        A dict with Python int keys in ascending order and Python float values.

    Numerics:
        Call model.eval() and work under torch.no_grad(): no graph is needed.

    Reference:
        torch.unique (sorted), Tensor.argmax(dim=1).
    """
    raise NotImplementedError


def plot_accuracy_by_length(
    results: dict[str, dict[int, float]], path, chance: float, train_max: int
) -> Figure:
    """Accuracy against length, one line per model, chance and the training lengths marked.

    Math:
        For each name: a line through (n, acc[n]) for its lengths n in ascending order,
        label=name; a horizontal line at y = chance; a vertical line at x = train_max.

    Shapes:
        results: {model name: {length: accuracy}}.

    Args:
        results: what accuracy_by_length gave for each model.
        path: where to save the PNG.
        chance: 1 / n_classes, a guess's accuracy.
        train_max: the longest sequence seen in training.

    Returns:
        The matplotlib Figure (built with matplotlib.figure.Figure, no pyplot).

    Numerics:
        Fix the y-axis to 0 .. 1.05 so that models are compared on the same scale.

    Reference:
        matplotlib: fig = Figure(); ax = fig.add_subplot(); ax.plot, ax.axhline,
        ax.axvline, ax.legend, fig.savefig(path, format="png").
    """
    raise NotImplementedError
