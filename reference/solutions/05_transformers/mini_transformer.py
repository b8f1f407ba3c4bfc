"""A mini encoder-decoder transformer, trained to sort digit strings (reference).

The encoder reads the source once: every source token attends to every other real one
(padding is masked out). The decoder writes the output one token at a time: its
self-attention is causal (step t sees steps 0..t only), and its cross-attention reads the
encoder's output. Training uses teacher forcing (the decoder reads the true output,
shifted right by one BOS token); generation feeds back the model's own predictions.
References: Vaswani et al., "Attention Is All You Need" (2017); torch/nn/modules/
transformer.py and activation.py (the layouts and names, so torch's modules can load
these weights); the PyTorch tutorial "Language Translation with nn.Transformer".
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(L: int) -> torch.Tensor:
    """(L, L) bool, True where query i may NOT look at key j: the future, j > i."""
    return torch.ones(L, L, dtype=torch.bool).triu(diagonal=1)


def padding_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """(N, S) bool, True at padding: those keys are blocked."""
    return tokens == pad_id


class MultiHeadAttention(nn.Module):
    """Multi-head attention with nn.MultiheadAttention's packed weights (batch first)."""

    def __init__(self, d_model: int, nhead: int):
        super().__init__()
        if d_model % nhead != 0:
            raise ValueError(f"d_model={d_model} is not a multiple of nhead={nhead}")
        self.nhead = nhead
        # W_q, W_k, W_v stacked as rows: one (3E, E) matrix, as torch stores it
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None):
        N, L, E = query.shape
        S, H = key.shape[1], self.nhead
        d = E // H  # each head works in a d-dimensional slice
        W_q, W_k, W_v = self.in_proj_weight.chunk(3)  # 3 x (E, E)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = F.linear(query, W_q, b_q).view(N, L, H, d).transpose(1, 2)  # (N, H, L, d)
        k = F.linear(key, W_k, b_k).view(N, S, H, d).transpose(1, 2)  # (N, H, S, d)
        v = F.linear(value, W_v, b_v).view(N, S, H, d).transpose(1, 2)  # (N, H, S, d)
        # divide by sqrt(d): dot products of d-dim vectors grow like sqrt(d), and large
        # scores saturate the softmax (its gradient vanishes)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (N, H, L, S)
        if attn_mask is not None:  # (L, S), the same for every sequence and head
            scores = scores.masked_fill(attn_mask, float("-inf"))
        if key_padding_mask is not None:  # (N, S) -> (N, 1, 1, S): per sequence
            scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        weights = scores.softmax(dim=-1)  # each query's weights over the keys sum to 1
        out = (weights @ v).transpose(1, 2).reshape(N, L, E)  # heads side by side again
        return self.out_proj(out), weights


class EncoderLayer(nn.Module):
    """Self-attention and a feed-forward net, each with a residual and a LayerNorm."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, norm_first: bool = False):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def _sa(self, x, pad):
        return self.self_attn(x, x, x, key_padding_mask=pad)[0]

    def _ff(self, x):
        return self.linear2(F.relu(self.linear1(x)))

    def forward(self, src, src_key_padding_mask=None):
        x = src  # (N, S, E)
        if self.norm_first:  # pre-norm: the residual stream itself is never normalised
            x = x + self._sa(self.norm1(x), src_key_padding_mask)
            x = x + self._ff(self.norm2(x))
        else:  # post-norm, the paper's order: normalise the sum
            x = self.norm1(x + self._sa(x, src_key_padding_mask))
            x = self.norm2(x + self._ff(x))
        return x


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention to the memory, a feed-forward net."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, norm_first: bool = False):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead)
        self.multihead_attn = MultiHeadAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def _sa(self, x):
        causal = causal_mask(x.shape[1]).to(x.device)  # (L, L): step t sees steps <= t
        return self.self_attn(x, x, x, attn_mask=causal)[0]

    def _ca(self, x, memory, pad):
        # queries from the decoder, keys and values from the encoder's output
        return self.multihead_attn(x, memory, memory, key_padding_mask=pad)

    def _ff(self, x):
        return self.linear2(F.relu(self.linear1(x)))

    def forward(self, tgt, memory, memory_key_padding_mask=None):
        x = tgt  # (N, L, E)
        if self.norm_first:
            x = x + self._sa(self.norm1(x))
            ca, weights = self._ca(self.norm2(x), memory, memory_key_padding_mask)
            x = x + ca
            x = x + self._ff(self.norm3(x))
        else:
            x = self.norm1(x + self._sa(x))
            ca, weights = self._ca(x, memory, memory_key_padding_mask)
            x = self.norm2(x + ca)
            x = self.norm3(x + self._ff(x))
        return x, weights  # (N, L, E), (N, H, L, S)


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed table PE[p, 2i] = sin(p w_i), PE[p, 2i+1] = cos(p w_i)."""

    def __init__(self, d_model: int, max_len: int = 64):
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float64)[:, None]  # (max_len, 1)
        freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
        pe = torch.zeros(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(position * freq)  # (max_len, ceil(E/2))
        pe[:, 1::2] = torch.cos(position * freq[: d_model // 2])  # (max_len, floor(E/2))
        # a buffer: saved and moved with the model, but not a parameter (it never trains)
        self.register_buffer("pe", pe.to(torch.get_default_dtype()))

    def forward(self, x):
        return x + self.pe[: x.shape[1]]  # (N, T, E) + (T, E)


class TokenEmbedding(nn.Module):
    """A lookup table of token vectors, multiplied by sqrt(d_model)."""

    def __init__(self, vocab_size: int, d_model: int):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model)
        # rows of size ~1/sqrt(E); times sqrt(E), entries of size ~1, like the sines
        nn.init.normal_(self.embedding.weight, std=d_model**-0.5)

    def forward(self, tokens):
        return self.embedding(tokens) * math.sqrt(self.d_model)  # (N, T, E)


class Seq2SeqTransformer(nn.Module):
    """Embeddings and positions, an encoder stack, a decoder stack, a linear generator."""

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        nhead: int = 4,
        num_encoder_layers: int = 2,
        num_decoder_layers: int = 2,
        dim_feedforward: int = 128,
        max_len: int = 64,
        pad_id: int = 0,
        norm_first: bool = False,
    ):
        super().__init__()
        self.pad_id = pad_id
        self.src_embed = TokenEmbedding(vocab_size, d_model)
        self.tgt_embed = TokenEmbedding(vocab_size, d_model)
        self.pos = SinusoidalPositionalEncoding(d_model, max_len)
        self.encoder_layers = nn.ModuleList(
            EncoderLayer(d_model, nhead, dim_feedforward, norm_first)
            for _ in range(num_encoder_layers)
        )
        self.decoder_layers = nn.ModuleList(
            DecoderLayer(d_model, nhead, dim_feedforward, norm_first)
            for _ in range(num_decoder_layers)
        )
        self.encoder_norm = nn.LayerNorm(d_model)
        self.decoder_norm = nn.LayerNorm(d_model)
        self.generator = nn.Linear(d_model, vocab_size)

    def encode(self, src):
        pad = padding_mask(src, self.pad_id)  # (N, S)
        x = self.pos(self.src_embed(src))  # (N, S, E)
        for layer in self.encoder_layers:
            x = layer(x, pad)
        return self.encoder_norm(x)  # the memory, (N, S, E)

    def decode(self, tgt_in, memory, memory_key_padding_mask=None):
        x = self.pos(self.tgt_embed(tgt_in))  # (N, L, E)
        weights = None
        for layer in self.decoder_layers:
            x, weights = layer(x, memory, memory_key_padding_mask)
        return self.generator(self.decoder_norm(x)), weights  # (N, L, V), (N, H, L, S)

    def forward(self, src, tgt_in):
        memory = self.encode(src)
        return self.decode(tgt_in, memory, padding_mask(src, self.pad_id))


def shift_right(tgt: torch.Tensor, bos_id: int) -> torch.Tensor:
    """The decoder's input under teacher forcing: BOS, then tgt without its last token."""
    bos = torch.full_like(tgt[:, :1], bos_id)  # (N, 1)
    return torch.cat([bos, tgt[:, :-1]], dim=1)  # (N, L): step t reads tgt[t - 1]


def sequence_loss(model, src, tgt, bos_id):
    """Mean cross-entropy of the teacher-forced predictions over the real target tokens."""
    logits, _ = model(src, shift_right(tgt, bos_id))  # (N, L, V)
    return F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=model.pad_id)


@torch.no_grad()
def greedy_decode(model, src, max_len, bos_id):
    """Generate max_len tokens, each the argmax given the source and the tokens before it."""
    memory = model.encode(src)  # encode once; only the decoder runs at every step
    pad = padding_mask(src, model.pad_id)
    ys = torch.full((src.shape[0], 1), bos_id, dtype=torch.int64)  # (N, 1): BOS
    weights = None
    for _ in range(max_len):
        logits, weights = model.decode(ys, memory, pad)  # (N, t, V)
        next_token = logits[:, -1].argmax(dim=-1)  # (N,): only the last step is new
        ys = torch.cat([ys, next_token[:, None]], dim=1)  # feed the prediction back
    return ys[:, 1:], weights  # (N, max_len) without BOS, (N, H, max_len, S)


def train(model, src, tgt, *, steps, batch_size, lr, warmup, bos_id, generator) -> list[float]:
    """Adam with linear warmup then linear decay, on random batches; every step's loss."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))

    def factor(step):  # 0 -> 1 over `warmup` steps, then 1 -> 0 at the last step
        return min((step + 1) / warmup, (steps - step) / (steps - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    model.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(src), (batch_size,), generator=generator)  # (batch_size,)
        loss = sequence_loss(model, src[idx], tgt[idx], bos_id)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses
