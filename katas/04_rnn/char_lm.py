"""A character-level language model: vocabulary, batching, an LSTM, truncated BPTT, sampling.

This kata is written in PyTorch. A language model reads a text one character at a
time and gives, at every position, a distribution over the next character. Train it
by minimising the cross-entropy of the true next character (nats per character:
log(V) for a model that knows nothing, about 3.3 for one that only knows how
frequent each character is); generate text by sampling one character, feeding it
back, and sampling the next.

The pieces, in the order the tests check them:

    vocab = build_vocab(text)                 # sorted distinct characters
    ids = encode(text, vocab)                 # (L,) int64
    data = batchify(ids, 32)                  # (T_total, 32): 32 long columns of the text
    x, y = get_batch(data, 0, 64)             # (64, 32) inputs, and targets one step later
    model = CharLM(len(vocab), 32, 128)
    logits, hidden = model(x)                 # (64, 32, V); hidden carried to the next window
    train_epoch(model, data, 64, torch.optim.Adam(model.parameters(), 0.01), clip=1.0)
    evaluate(model, val_data, 64)             # mean nats per character
    generate(model, vocab, "ROMEO:", 200, temperature=0.8, top_k=10)

The training test (last, ~10 s) trains your CharLM(V, 32, 128) with your
train_epoch for 250 windows of 64 x 32 characters on the first 90% of Tiny
Shakespeare (when cached in $DLKATAS_DATA; otherwise on the pydoc topics that ship
with Python, and it says so), then asks the validation loss on the last 10% to be
below 2.3 nats/char (2.2 on the pydoc text): well below the 3.3 of the frequency
("unigram") model. It prints a sample of your model's text.

Run: pytest katas/04_rnn/test_char_lm.py
"""

import torch
from torch import nn


def build_vocab(text: str) -> list[str]:
    """The sorted list of the distinct characters in text: vocab[i] is id i's character.

    Math:
        vocab = sorted(set(text)); id(ch) = vocab.index(ch).

    Shapes:
        Returns a list of V one-character strings, V = number of distinct characters.

    Args:
        text: the whole corpus.

    Returns:
        The vocabulary, sorted (so the same text always gives the same ids).

    Numerics:
        None: no floats here.

    Reference:
        char-rnn and nanoGPT's shakespeare_char/prepare.py: chars = sorted(list(set(data))).
    """
    raise NotImplementedError


def encode(text: str, vocab: list[str]) -> torch.Tensor:
    """The character ids of text, as an int64 tensor.

    Math:
        ids[i] = vocab.index(text[i]) (build a dict char -> id once: index() is O(V)).

    Shapes:
        text of length L -> (L,) int64.

    Args:
        text: any string.
        vocab: from build_vocab.

    Returns:
        ids, int64 (nn.Embedding and F.cross_entropy want int64).

    Numerics:
        A character not in vocab raises ValueError whose message names it (repr) and
        its position: silently skipping or mapping it to 0 shifts or corrupts the text.

    Reference:
        nanoGPT's shakespeare_char/prepare.py (stoi, encode).
    """
    raise NotImplementedError


def decode(ids: torch.Tensor, vocab: list[str]) -> str:
    """The text whose character ids are ids: decode(encode(text, vocab), vocab) == text.

    Math:
        text = "".join(vocab[i] for i in ids).

    Shapes:
        ids: (L,) int64 -> a string of length L.

    Args:
        ids: character ids.
        vocab: from build_vocab.

    Returns:
        The text.

    Numerics:
        None.

    Reference:
        nanoGPT's shakespeare_char/prepare.py (itos, decode).
    """
    raise NotImplementedError


def batchify(ids: torch.Tensor, n: int) -> torch.Tensor:
    """Cut ids into n equal contiguous columns, one per batch row, dropping the remainder.

    Math:
        T = len(ids) // n; out[t, j] = ids[j * T + t]: column j is the j-th chunk of
        the text, read downwards. (Not ids[t * n + j]: then a column would hold every
        n-th character, and no column would be text.)

    Shapes:
        ids: (L,) -> (T, n), T = L // n; the last L - T * n ids are dropped.

    Args:
        ids: the encoded corpus (any layout: maybe a strided view).
        n: the batch size N, the number of columns read in parallel.

    Returns:
        A new (T, n) tensor, time first (rows are steps, columns are sequences).

    Numerics:
        Raise ValueError when len(ids) < n (a column would be empty).

    Reference:
        batchify in PyTorch's examples/word_language_model/main.py:
        data.narrow(0, 0, T * n).view(n, -1).t().contiguous().
    """
    raise NotImplementedError


def get_batch(source: torch.Tensor, i: int, bptt: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The window of rows starting at i, and its targets: the same rows one step later.

    Math:
        T = min(bptt, len(source) - 1 - i); inputs = source[i : i + T],
        targets = source[i + 1 : i + 1 + T]: targets[t, j] is the character that
        follows inputs[t, j] in column j. The last window may be shorter than bptt.

    Shapes:
        source: (T_total, N) -> inputs (T, N), targets (T, N).

    Args:
        source: from batchify.
        i: the first row, 0 <= i < len(source) - 1 (windows start at 0, bptt, 2 bptt...).
        bptt: the window length (how far back truncated BPTT reaches).

    Returns:
        (inputs, targets), both int64 (T, N).

    Numerics:
        Targets must not run past the last row: that is why T stops at len - 1 - i.

    Reference:
        get_batch in PyTorch's examples/word_language_model/main.py (which also flattens
        the targets; here they stay (T, N)).
    """
    raise NotImplementedError


class CharLM(nn.Module):
    """Embedding, LSTM (time first) and a linear head: next-character logits."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128,
                 num_layers: int = 1):  # fmt: skip
        """Build self.embedding, self.lstm and self.head (the tests read these names).

        self.embedding = nn.Embedding(vocab_size, embed_dim); self.lstm =
        nn.LSTM(embed_dim, hidden_size, num_layers) (batch_first=False); self.head =
        nn.Linear(hidden_size, vocab_size). Then initialise as word_language_model does:
        embedding and head weights uniform(-0.1, 0.1), head bias zeros (the LSTM keeps
        torch's uniform(-1/sqrt(H), 1/sqrt(H))), so the first loss is close to log(V).
        """
        raise NotImplementedError

    def forward(self, x: torch.Tensor, hidden=None):
        """Next-character logits for every position, and the LSTM's final state.

        Math:
            e = embedding(x); out, (h, c) = lstm(e, hidden); logits = head(out).

        Shapes:
            x: (T, N) int64; hidden: None (zeros) or (h, c), each (num_layers, N, H).
            Returns logits (T, N, V) and (h, c), each (num_layers, N, H).

        Args:
            x: character ids, time first.
            hidden: the state the previous window ended in, or None.

        Returns:
            (logits, (h, c)): logits are unnormalised (no softmax).

        Numerics:
            Works in the parameters' dtype (the tests also run it after model.double()).

        Reference:
            RNNModel in PyTorch's examples/word_language_model/model.py.
        """
        raise NotImplementedError


def detach_hidden(hidden: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The same (h, c) values, cut from the graph that computed them.

    Math:
        (h.detach(), c.detach()): the next window starts from these values, but its
        backward pass stops here (truncated BPTT). Without it, the second backward
        raises "Trying to backward through the graph a second time", or (with
        retain_graph=True) every step backpropagates through the whole text so far.

    Shapes:
        (h, c), each (num_layers, N, H), in and out.

    Args:
        hidden: the state returned by the model's forward.

    Returns:
        A tuple (h, c) of tensors that do not require grad.

    Numerics:
        Values unchanged; the input tensors are left as they were.

    Reference:
        repackage_hidden in PyTorch's examples/word_language_model/main.py; Tensor.detach.
    """
    raise NotImplementedError


def train_epoch(
    model: nn.Module,
    data: torch.Tensor,
    bptt: int,
    optimizer: torch.optim.Optimizer,
    clip: float | None = 0.25,
) -> float:
    """One pass over data's windows with truncated BPTT; returns the mean loss per character.

    Math:
        model.train(); hidden = None; for i in 0, bptt, 2 bptt, ... < len(data) - 1:
          x, y = get_batch(data, i, bptt); hidden = detach_hidden(hidden) (after the
          first window); logits, hidden = model(x, hidden);
          loss = cross_entropy(logits (T*N, V), y (T*N,)) (the mean over the window);
          zero the gradients, backward, clip the global gradient norm to clip (unless
          None), optimizer.step().
        Return sum(loss_w * T_w * N) / sum(T_w * N): the last window may be shorter.

    Shapes:
        data: (T_total, N) int64 with T_total >= 2.

    Args:
        model: a CharLM. data: from batchify. bptt: the window length.
        optimizer: over model's parameters. clip: max gradient norm, or None.

    Returns:
        The training loss, nats per character, as a Python float.

    Numerics:
        Carry hidden from window to window (each column continues where it stopped),
        detached; clipping (torch.nn.utils.clip_grad_norm_) tames exploding gradients.

    Reference:
        train() in PyTorch's examples/word_language_model/main.py.
    """
    raise NotImplementedError


def evaluate(model: nn.Module, data: torch.Tensor, bptt: int) -> float:
    """The mean loss per character (nats) over all of data, reading it as train_epoch does.

    Math:
        model.eval(), no gradients; windows as in train_epoch with hidden carried; return
        sum(loss_w * T_w * N) / sum(T_w * N), the cross-entropy of every target character.

    Shapes:
        data: (T_total, N) int64 with T_total >= 2.

    Args:
        model: a CharLM. data: from batchify. bptt: the window length.

    Returns:
        A Python float; exp of it is the perplexity.

    Numerics:
        Weight each window by its size: a plain mean of the window means overweights the
        short last window. torch.no_grad(): no graph is kept, and nothing is trained.

    Reference:
        evaluate() in PyTorch's examples/word_language_model/main.py.
    """
    raise NotImplementedError


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One id per row of logits, drawn from softmax(logits / temperature) over the top k.

    Math:
        temperature == 0: argmax (the limit of T -> 0: greedy decoding).
        Else z = logits / temperature; if top_k (and top_k < V): z = -inf wherever z is
        below the row's k-th largest value; p = softmax(z); draw one index per row with
        torch.multinomial(p, 1, generator=generator). T < 1 sharpens p, T > 1 flattens
        it; top-k never picks a token outside the k most likely.

    Shapes:
        logits: (N, V) -> (N,) int64.

    Args:
        logits: scores, any float dtype and layout. Not modified.
        temperature: >= 0. top_k: None or 1 .. V. generator: the source of randomness.

    Returns:
        The drawn ids.

    Numerics:
        Mask to -inf over all V and draw from the full (N, V) p (exp(-inf) = 0), as
        above, rather than drawing among the k kept and mapping back: the same
        distribution, but only this gives the same draws as the tests' torch reference
        for the same generator. Compute into new tensors (logits / t, not logits /= t).

    Reference:
        nanoGPT's model.generate (temperature, top_k); torch.topk, torch.multinomial.
    """
    raise NotImplementedError


def generate(
    model: nn.Module,
    vocab: list[str],
    prompt: str,
    n: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> str:
    """The prompt followed by n characters sampled one at a time from the model.

    Math:
        model.eval(), no gradients. logits, hidden = model(encode(prompt) as (L, 1));
        repeat n times: c = sample_next(logits[-1], ...) (logits[-1]: (1, V), the
        prediction after the prompt's LAST character); logits, hidden = model(c as
        (1, 1), hidden) (the state carried: the model has read everything so far).

    Shapes:
        prompt of length L >= 1 -> a string of length L + n.

    Args:
        model: a CharLM. vocab: its vocabulary. prompt: the start of the text.
        n: how many characters to add. temperature, top_k, generator: as in sample_next.

    Returns:
        prompt + the n new characters.

    Numerics:
        Read the prompt once, then feed one character per step: re-reading everything
        every step gives the same text but costs O(n^2).

    Reference:
        generate.py in PyTorch's examples/word_language_model; char-rnn's sample.lua.
    """
    raise NotImplementedError
