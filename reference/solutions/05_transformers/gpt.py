"""GPT: a decoder-only transformer language model with a KV cache (reference).

References: Radford et al. 2018 and 2019 (GPT, GPT-2: pre-norm blocks, the init scaled
by 1/sqrt(2 n_layer)); Press & Wolf 2017 (weight tying); karpathy/nanoGPT's model.py
(the layout and the names, which are GPT-2's checkpoint names).
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    bias: bool = True


def get_batch(data, batch_size, block_size, generator=None):
    """Random windows of the corpus and the same windows one token later."""
    # a window needs block_size + 1 tokens: its inputs and, one step on, its targets
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i : i + block_size] for i in starts.tolist()])  # (B, T)
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in starts.tolist()])  # (B, T)
    return x, y


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions 0..t only."""

    def __init__(self, config):
        super().__init__()
        if config.n_embd % config.n_head != 0:
            raise ValueError(f"n_embd={config.n_embd} is not a multiple of n_head={config.n_head}")
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        # queries, keys and values of every head in one matrix product
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)

    def forward(self, x, past=None):
        """Attend over past keys and values and these T positions; return y and (k, v)."""
        B, T, E = x.shape
        hs = E // self.n_head  # head size
        q, k, v = self.c_attn(x).split(E, dim=2)  # 3 x (B, T, E)
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        if past is not None:  # the cached keys and values of the earlier positions
            k = torch.cat([past[0], k], dim=2)  # (B, nh, S, hs), S = T_past + T
            v = torch.cat([past[1], v], dim=2)
        S = k.shape[2]
        # query i stands at position S - T + i: it may see keys 0 .. S - T + i
        allowed = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=S - T)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, S)
        att = att.masked_fill(~allowed, float("-inf"))
        att = F.softmax(att, dim=-1)  # each query's weights over the keys sum to 1
        y = att @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, E)  # heads side by side again
        return self.c_proj(y), (k, v)


class MLP(nn.Module):
    """Position-wise feed-forward net: widen 4x, GELU, project back."""

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    """A pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, past=None):
        # pre-norm: the residual stream x itself is never normalised, so gradients
        # reach the embeddings through a path of plain additions
        a, present = self.attn(self.ln_1(x), past)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, present


class GPT(nn.Module):
    """Token and position embeddings, n_layer blocks, a final LayerNorm, a tied head."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)  # token embeddings
        self.wpe = nn.Embedding(config.block_size, config.n_embd)  # position embeddings
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: one (V, E) matrix reads tokens in and scores them out
        self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)
        # GPT-2: each block adds two residual branches; scale their last projection so
        # that the residual stream's variance does not grow with depth
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        """Logits at every position and, given targets, the mean cross-entropy."""
        logits, _ = self.forward_cached(idx)
        loss = None
        if targets is not None:
            V = logits.shape[-1]
            loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
        return logits, loss

    def forward_cached(self, idx, cache=None):
        """Logits of new tokens that attend to the cached keys and values of earlier ones."""
        B, T = idx.shape
        past_len = 0 if cache is None else cache[0][0].shape[2]
        if past_len + T > self.config.block_size:
            raise ValueError(
                f"{past_len} cached + {T} new tokens exceed block_size="
                f"{self.config.block_size}: there is no position embedding beyond it"
            )
        pos = torch.arange(past_len, past_len + T, device=idx.device)  # absolute positions
        x = self.wte(idx) + self.wpe(pos)  # (B, T, E) + (T, E)
        new_cache = []
        for i, block in enumerate(self.h):
            x, present = block(x, None if cache is None else cache[i])
            new_cache.append(present)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        return logits, new_cache

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Extend idx by max_new_tokens tokens, one at a time, each fed back as input."""
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -self.config.block_size :]  # the model sees block_size at most
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :]  # (B, V): only the last position predicts a new token
            if temperature == 0:  # greedy: the most likely token, no randomness
                next_id = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                logits = logits / temperature  # < 1 sharpens, > 1 flattens
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, [-1]]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = F.softmax(logits, dim=-1)
                next_id = torch.multinomial(probs, 1, generator=generator)  # (B, 1)
            idx = torch.cat([idx, next_id], dim=1)
        return idx
