"""Encoder-decoder with attention: Bahdanau (additive) and Luong (dot, general) scores.

An encoder reads the source into one vector per position; at every output step the
decoder scores each of them against its own state, turns the scores into weights with
a softmax (padding gets none), and reads the weighted average: the context. Looking
back at the source replaces squeezing it into one final state, and the weights show
where the model looked. References: Bahdanau, Cho, Bengio, "Neural Machine Translation
by Jointly Learning to Align and Translate" (2015); Luong, Pham, Manning, "Effective
Approaches to Attention-based Neural Machine Translation" (2015).
"""

import math

import torch
from torch import nn

PAD, BOS, EOS = 0, 1, 2  # token ids every sequence uses; the digits 0-9 are 3..12


def dot_score(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Luong's dot score: one dot product between the query and every key."""
    return (keys @ query.unsqueeze(-1)).squeeze(-1)  # (N, S, H) @ (N, H, 1) -> (N, S)


def general_score(query: torch.Tensor, keys: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Luong's general score: a bilinear form q^T W k for every key."""
    projected = query @ W  # (N, Hq) @ (Hq, Hk) -> (N, Hk): the query in the keys' space
    return dot_score(projected, keys)


def additive_score(
    query: torch.Tensor,
    keys: torch.Tensor,
    W_q: torch.Tensor,
    W_k: torch.Tensor,
    v: torch.Tensor,
) -> torch.Tensor:
    """Bahdanau's additive score: a one-hidden-layer net on the query and each key."""
    hidden = torch.tanh((query @ W_q).unsqueeze(1) + keys @ W_k)  # (N, 1, A) + (N, S, A)
    return hidden @ v  # (N, S, A) @ (A,) -> (N, S)


def attend(
    scores: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked softmax over the source positions, then the weighted sum of the values."""
    if mask is not None:
        # exp(-inf) = 0: padded positions get exactly zero weight, and the real ones
        # still sum to one (masking before the softmax renormalises over them).
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (N, S); softmax subtracts the max
    if mask is not None:
        # A row of nothing but padding is softmax(all -inf) = NaN: give it no weight.
        weights = weights.masked_fill(~mask, 0.0)
    context = (weights.unsqueeze(1) @ values).squeeze(1)  # (N, 1, S) @ (N, S, Hv) -> (N, Hv)
    return context, weights


class Attention(nn.Module):
    """A score function with its parameters, followed by attend."""

    def __init__(self, method: str, query_size: int, key_size: int, attn_size: int = 0):
        """Create the parameters the method needs (see forward)."""
        super().__init__()
        self.method = method
        if method == "dot":
            if query_size != key_size:
                raise ValueError(f"dot attention needs query_size == key_size, got "
                                 f"{query_size} and {key_size}")  # fmt: skip
        elif method == "general":
            self.W = nn.Parameter(torch.randn(query_size, key_size) / math.sqrt(query_size))
        elif method == "additive":
            attn_size = attn_size or key_size
            self.W_q = nn.Parameter(torch.randn(query_size, attn_size) / math.sqrt(query_size))
            self.W_k = nn.Parameter(torch.randn(key_size, attn_size) / math.sqrt(key_size))
            self.v = nn.Parameter(torch.randn(attn_size) / math.sqrt(attn_size))
        else:
            raise ValueError(f"unknown attention method {method!r}")

    def forward(self, query, keys, values, mask=None):
        if self.method == "dot":
            scores = dot_score(query, keys)
        elif self.method == "general":
            scores = general_score(query, keys, self.W)
        else:
            scores = additive_score(query, keys, self.W_q, self.W_k, self.v)
        return attend(scores, values, mask)  # scores come from keys, the context from values


class Seq2Seq(nn.Module):
    """A bidirectional GRU encoder and a GRU decoder that attends to it at every step."""

    def __init__(self, vocab_size: int, embed_size: int = 32, hidden_size: int = 64,
                 method: str = "general"):  # fmt: skip
        """Build the modules the tests read (see the stub for the list)."""
        super().__init__()
        self.src_embed = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        # hidden_size // 2 per direction: both directions together are hidden_size wide
        self.encoder = nn.GRU(embed_size, hidden_size // 2, batch_first=True, bidirectional=True)
        self.tgt_embed = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        self.decoder = nn.GRUCell(embed_size, hidden_size)
        self.attention = Attention(method, hidden_size, hidden_size)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def encode(self, src, src_mask):
        S = src.shape[1]
        lengths = src_mask.sum(dim=1).cpu()  # (N,): real tokens per sequence
        # Packing makes each direction start and stop at each sequence's real tokens:
        # the backward GRU must start at the last real token, not in the padding.
        packed = nn.utils.rnn.pack_padded_sequence(
            self.src_embed(src), lengths, batch_first=True, enforce_sorted=False
        )
        out, h_n = self.encoder(packed)  # h_n: (2, N, H / 2), forward then backward
        enc_out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=S)
        h = torch.cat([h_n[0], h_n[1]], dim=-1)  # (N, H): the decoder's first state
        return enc_out, h  # (N, S, H) with zeros at the padding, (N, H)

    def decode_step(self, y_prev, h, enc_out, src_mask):
        h = self.decoder(self.tgt_embed(y_prev), h)  # (N, E), (N, H) -> (N, H)
        # Luong: the new state is the query; the encoder outputs are keys and values.
        context, weights = self.attention(h, enc_out, enc_out, src_mask)  # (N, H), (N, S)
        attentional = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))  # (N, H)
        return self.out(attentional), h, weights  # logits (N, V)

    def forward(self, src, src_mask, tgt):
        enc_out, h = self.encode(src, src_mask)
        # Teacher forcing: step t is fed the true token t-1 (BOS at t = 0), not its own guess.
        bos = torch.full_like(tgt[:, :1], BOS)
        inputs = torch.cat([bos, tgt[:, :-1]], dim=1)  # (N, L)
        all_logits, all_weights = [], []
        for t in range(tgt.shape[1]):
            logits, h, weights = self.decode_step(inputs[:, t], h, enc_out, src_mask)
            all_logits.append(logits)
            all_weights.append(weights)
        return torch.stack(all_logits, dim=1), torch.stack(all_weights, dim=1)  # (N, L, .)


@torch.no_grad()
def greedy_decode(model, src, src_mask, max_len):
    """Decode by feeding back the most likely token; PAD after each sequence's EOS."""
    enc_out, h = model.encode(src, src_mask)
    y = torch.full_like(src[:, 0], BOS)  # (N,)
    done = torch.zeros_like(y, dtype=torch.bool)  # sequences that already emitted EOS
    tokens, all_weights = [], []
    for _ in range(max_len):
        logits, h, weights = model.decode_step(y, h, enc_out, src_mask)
        y = logits.argmax(dim=-1)
        tokens.append(y.masked_fill(done, PAD))  # nothing after EOS
        all_weights.append(weights)
        done = done | (y == EOS)
    return torch.stack(tokens, dim=1), torch.stack(all_weights, dim=1)  # (N, L), (N, L, S)


def sequence_accuracy(pred, target):
    """The fraction of sequences whose every real target token (EOS included) was predicted."""
    real = target != PAD  # (N, L)
    correct = (pred == target) | ~real  # padding positions do not count
    return correct.all(dim=1).double().mean().item()


def plot_attention(weights, src_labels, out_labels, path):
    """The (L, S) attention weights as an image: rows output steps, columns source tokens."""
    from matplotlib.figure import Figure  # no pyplot: no display, no global state

    fig = Figure(figsize=(0.5 * len(src_labels) + 2, 0.5 * len(out_labels) + 1.5))
    ax = fig.add_subplot()
    image = ax.imshow(weights.detach().cpu().numpy(), cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(src_labels)), src_labels)
    ax.set_yticks(range(len(out_labels)), out_labels)
    ax.set_xlabel("source token")
    ax.set_ylabel("output step")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return fig
