"""A character-level language model: vocabulary, batching, an LSTM, truncated BPTT, sampling.

The model reads a text one character at a time and predicts the next one. The
corpus is cut into N long columns that are read in parallel, bptt rows at a time;
the LSTM's state is carried from one window to the next (the model keeps reading
the same column) but detached, so backpropagation stops at the window's start.
Sampling divides the logits by a temperature and may keep only the top k.
References: PyTorch's examples/word_language_model (batchify, get_batch,
repackage_hidden); Karpathy, "The Unreasonable Effectiveness of Recurrent Neural
Networks" (2015) and char-rnn; Holtzman et al., "The Curious Case of Neural Text
Degeneration" (2020) on temperature and top-k sampling.
"""

import torch
import torch.nn.functional as F
from torch import nn


def build_vocab(text: str) -> list[str]:
    """The sorted list of the distinct characters in text: vocab[i] is id i's character."""
    return sorted(set(text))


def encode(text: str, vocab: list[str]) -> torch.Tensor:
    """Character ids of text, int64 (len(text),); ValueError naming an unknown character."""
    stoi = {ch: i for i, ch in enumerate(vocab)}
    ids = []
    for pos, ch in enumerate(text):
        if ch not in stoi:
            raise ValueError(f"character {ch!r} at position {pos} is not in the vocabulary")
        ids.append(stoi[ch])
    return torch.tensor(ids, dtype=torch.int64)


def decode(ids: torch.Tensor, vocab: list[str]) -> str:
    """The text whose character ids are ids."""
    return "".join(vocab[i] for i in ids.tolist())


def batchify(ids: torch.Tensor, n: int) -> torch.Tensor:
    """Cut ids into n equal columns, one per batch row, dropping the remainder: (T, n)."""
    if len(ids) < n:
        raise ValueError(f"cannot cut {len(ids)} ids into {n} columns of at least 1")
    T = len(ids) // n
    # Column j is the j-th contiguous chunk of the text: (n, T) row-major, then transposed.
    return ids[: T * n].reshape(n, T).t().contiguous()  # (T, n)


def get_batch(source: torch.Tensor, i: int, bptt: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows i .. i+bptt-1 of source, and the same rows one step later (the targets)."""
    seq_len = min(bptt, len(source) - 1 - i)  # the last window may be shorter
    inputs = source[i : i + seq_len]  # (T, N)
    targets = source[i + 1 : i + 1 + seq_len]  # (T, N): each input's next character
    return inputs, targets


class CharLM(nn.Module):
    """Embedding, LSTM (time first) and a linear head: next-character logits."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128,
                 num_layers: int = 1):  # fmt: skip
        """Build self.embedding, self.lstm and self.head, then initialise them."""
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers)  # batch_first=False: (T, N, .)
        self.head = nn.Linear(hidden_size, vocab_size)
        # word_language_model's init: small embeddings and head, zero head bias, so the
        # first logits are near 0 and the first loss near log(V). The LSTM keeps torch's.
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.uniform_(self.head.weight, -0.1, 0.1)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, hidden=None):
        """Logits (T, N, V) for ids x (T, N), and the LSTM's final (h, c)."""
        emb = self.embedding(x)  # (T, N, E)
        out, hidden = self.lstm(emb, hidden)  # (T, N, H); h, c: (num_layers, N, H)
        return self.head(out), hidden  # (T, N, V)


def detach_hidden(hidden: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The same (h, c) values, cut from the graph that computed them."""
    return tuple(h.detach() for h in hidden)


def train_epoch(
    model: nn.Module,
    data: torch.Tensor,
    bptt: int,
    optimizer: torch.optim.Optimizer,
    clip: float | None = 0.25,
) -> float:
    """One pass over data's windows with truncated BPTT; the mean loss per character."""
    model.train()
    hidden = None  # zeros: the start of every column
    total, count = 0.0, 0
    for i in range(0, len(data) - 1, bptt):
        inputs, targets = get_batch(data, i, bptt)
        if hidden is not None:
            hidden = detach_hidden(hidden)  # keep the state, drop the history
        logits, hidden = model(inputs, hidden)  # (T, N, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += loss.item() * targets.numel()  # windows differ in length: weight by size
        count += targets.numel()
    return total / count


@torch.no_grad()
def evaluate(model: nn.Module, data: torch.Tensor, bptt: int) -> float:
    """The mean loss per character (nats) over all of data, reading it as train_epoch does."""
    model.eval()
    hidden = None
    total, count = 0.0, 0
    for i in range(0, len(data) - 1, bptt):
        inputs, targets = get_batch(data, i, bptt)
        logits, hidden = model(inputs, hidden)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        total += loss.item() * targets.numel()
        count += targets.numel()
    return total / count


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One id per row of logits (N, V), drawn from softmax(logits / temperature) over the top k."""
    if temperature == 0:
        return logits.argmax(dim=-1)  # the limit of temperature -> 0: greedy
    logits = logits / temperature  # a new tensor: the caller's logits stay as they were
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # (N, 1): the k-th largest
        logits = logits.masked_fill(logits < kth, float("-inf"))  # exp(-inf) = 0
    probs = torch.softmax(logits, dim=-1)  # (N, V)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (N,)


@torch.no_grad()
def generate(
    model: nn.Module,
    vocab: list[str],
    prompt: str,
    n: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> str:
    """The prompt followed by n characters sampled one at a time from the model."""
    model.eval()
    x = encode(prompt, vocab).view(-1, 1)  # (T, 1): the prompt as one column
    logits, hidden = model(x)  # read the whole prompt; its last logits predict what follows
    new = []
    for _ in range(n):
        nxt = sample_next(logits[-1], temperature, top_k, generator)  # (1,)
        new.append(int(nxt))
        logits, hidden = model(nxt.view(1, 1), hidden)  # one step on, state carried
    return prompt + decode(torch.tensor(new, dtype=torch.int64), vocab)
