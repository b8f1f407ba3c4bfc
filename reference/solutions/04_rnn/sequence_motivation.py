"""Why feedforward fails on sequences: a fixed window against a recurrent net.

The latch task: the label of a sequence is its FIRST token; everything after it is
noise, and sequences come in different lengths. A feedforward net needs an input of
fixed size, so it reads a fixed window: the last k tokens. Once a sequence is longer
than k, the first token has left the window and no amount of training brings it back.
A recurrent net reads one token per step with the same weights at every step (time is
a dimension it walks along, not a fixed input size), so it takes any length and can
carry the first token in its state for as long as the sequence lasts.
References: Elman (1990), "Finding Structure in Time"; Bengio, Simard & Frasconi (1994);
Goodfellow, Bengio & Courville, "Deep Learning", chapter 10 (introduction);
torch.nn.GRU, torch.nn.utils.rnn.pack_padded_sequence.
"""

import torch
import torch.nn.functional as F
from torch import nn

PAD = 0  # the padding token; symbols are 1 .. n_symbols


def latch_task(n, min_len, max_len, n_symbols, generator):
    """A batch of the latch task: padded random tokens; the label is the first token."""
    # torch.randint's high is exclusive: + 1 so that max_len itself is drawn
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=generator)  # (N,)
    tokens = torch.randint(1, n_symbols + 1, (n, max_len), generator=generator)  # (N, T)
    padding = torch.arange(max_len)[None, :] >= lengths[:, None]  # (N, T): past the end
    tokens = tokens.masked_fill(padding, PAD)
    labels = tokens[:, 0] - 1  # symbols 1..V are classes 0..V-1
    return tokens, lengths, labels


def last_window(tokens, lengths, k, pad=PAD):
    """The last k real tokens of every sequence, left-padded: all a window model sees."""
    # Sequence i's window covers steps lengths[i] - k .. lengths[i] - 1.
    steps = lengths[:, None] - k + torch.arange(k)[None, :]  # (N, k)
    before_start = steps < 0  # a sequence shorter than k: pad on the left
    window = tokens.gather(1, steps.clamp(min=0))  # (N, k); clamped steps are overwritten
    return window.masked_fill(before_start, pad)


class WindowMLP(nn.Module):
    """A feedforward classifier over the one-hot last k tokens of each sequence."""

    def __init__(self, n_symbols, k, hidden, n_classes):
        super().__init__()
        self.n_symbols, self.k = n_symbols, k
        # k positions x (n_symbols + 1) one-hot values (the pad included): a fixed input size
        self.hidden = nn.Linear(k * (n_symbols + 1), hidden)
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, tokens, lengths):
        window = last_window(tokens, lengths, self.k)  # (N, k): steps before are gone
        x = F.one_hot(window, self.n_symbols + 1).to(self.hidden.weight.dtype)  # (N, k, V+1)
        x = x.reshape(len(x), -1)  # (N, k * (V+1)), position by position
        return self.out(torch.relu(self.hidden(x)))  # (N, n_classes) logits


class RecurrentClassifier(nn.Module):
    """A GRU over the one-hot tokens; a linear classifier on each sequence's last state."""

    def __init__(self, n_symbols, hidden, n_classes):
        super().__init__()
        self.n_symbols = n_symbols
        # the same weights at every step: nothing here depends on the length
        self.rnn = nn.GRU(n_symbols + 1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, tokens, lengths):
        x = F.one_hot(tokens, self.n_symbols + 1).to(self.out.weight.dtype)  # (N, T, V+1)
        states, _ = self.rnn(x)  # (N, T, H): the state after every step, padding included
        # Each sequence's state after ITS last real step; later steps read padding.
        last = states[torch.arange(len(tokens)), lengths - 1]  # (N, H)
        return self.out(last)  # (N, n_classes) logits


def train(model, tokens, lengths, labels, *, epochs, batch_size, lr, generator):
    """Adam on cross-entropy over shuffled minibatches; the mean loss of every epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(tokens)
    history = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=generator)  # a new shuffle every epoch
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(tokens[idx], lengths[idx]), labels[idx])
            optimizer.zero_grad()  # .backward() adds to .grad: clear the last step's
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)  # the last batch may be smaller: weigh by size
        history.append(total / n)
    return history


@torch.no_grad()
def accuracy_by_length(model, tokens, lengths, labels):
    """{length: accuracy} over the sequences of each length, in eval mode."""
    model.eval()
    correct = model(tokens, lengths).argmax(dim=1) == labels  # (N,) bool
    return {
        int(length): correct[lengths == length].double().mean().item()
        for length in torch.unique(lengths)  # sorted ascending
    }


def plot_accuracy_by_length(results, path, chance, train_max):
    """Accuracy against length, one line per model, chance and the training lengths marked."""
    from matplotlib.figure import Figure  # no pyplot: no display, no global state

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    for name, by_length in results.items():
        steps = sorted(by_length)
        ax.plot(steps, [by_length[s] for s in steps], marker="o", label=name)
    ax.axhline(chance, color="gray", linestyle="--", label="chance")
    ax.axvline(train_max, color="gray", linestyle=":", label="longest training sequence")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("sequence length")
    ax.set_ylabel("accuracy (label = first token)")
    ax.set_title("The latch task beyond the training lengths")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    return fig
