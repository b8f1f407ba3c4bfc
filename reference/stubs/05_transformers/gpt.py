"""GPT: a decoder-only transformer language model, with a KV cache and sampling.

This kata is written in PyTorch (nn.Linear, nn.LayerNorm, nn.Embedding, F.softmax are
yours to use). GPT reads tokens 0..t and predicts token t+1, at every position at once:
a causal mask keeps each position from seeing the future. The layout and the names are
GPT-2's, as in karpathy/nanoGPT's model.py (which keeps the top-level modules in a
ModuleDict called `transformer`; here they sit on the model itself):

    GPT: wte (token embedding), wpe (position embedding), h (a ModuleList of Blocks),
         ln_f (final LayerNorm), lm_head (tied to wte)
    Block: ln_1, attn (CausalSelfAttention: c_attn, c_proj), ln_2, mlp (MLP: c_fc, c_proj)

Named dims: B batch, T positions (tokens), E = n_embd, V = vocab_size, nh = n_head,
hs = E // nh (head size), S = keys an attention sees (cached + new).

The training test (slow, last) trains GPT(block_size=32, n_layer=2, n_head=4, n_embd=64)
with your get_batch on characters: Tiny Shakespeare when it is cached (python -m checker
data tinyshakespeare), else the pydoc topics every Python ships; it expects a validation
loss of at most 2.2 nats per character (predicting character frequencies alone gives ~3.3)
and prints a sample of your model's writing.

Run: pytest katas/05_transformers/test_gpt.py
"""

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class GPTConfig:
    vocab_size: int = 65  # distinct tokens (Tiny Shakespeare has 65 characters)
    block_size: int = 64  # the longest context: positions 0 .. block_size - 1
    n_layer: int = 2  # transformer blocks
    n_head: int = 4  # attention heads; must divide n_embd
    n_embd: int = 64  # E, the width of the residual stream
    bias: bool = True  # biases in every Linear and LayerNorm (the head never has one)


def get_batch(
    data: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows of the corpus (inputs) and the same windows one token later (targets).

    Math:
        starts i_b ~ uniform over 0 .. len(data) - block_size - 1 (torch.randint);
        x[b] = data[i_b : i_b + block_size];  y[b] = data[i_b + 1 : i_b + 1 + block_size]
        so y[b, t] is the token that follows x[b, :t + 1].

    Shapes:
        data: (L,) int64 token ids; x, y: (B, T) with B = batch_size, T = block_size.

    Args:
        data: the encoded corpus.
        batch_size, block_size: B and T.
        generator: the only source of randomness (pass it to torch.randint).

    Returns:
        (x, y), both int64.

    Numerics:
        The last window starts at len(data) - block_size - 1: its targets end at the last
        token. A corpus of block_size + 1 tokens has exactly one window.

    Reference:
        nanoGPT's train.py, get_batch.
    """
    raise NotImplementedError


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t sees positions 0..t only."""

    def __init__(self, config: GPTConfig):
        """Build self.c_attn = nn.Linear(E, 3E) (q, k, v packed) and self.c_proj = nn.Linear(E, E).

        Both use bias=config.bias; keep config.n_head (raise ValueError unless it divides E).
        """
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Causal attention over cached keys and values and these T positions.

        Math:
            q, k, v = c_attn(x).split(E, dim=2), each cut into nh heads of hs features;
            with past = (k_past, v_past): k = cat([k_past, k]), v = cat([v_past, v]) (dim 2).
            Query i is at position S - T + i and may see keys 0 .. S - T + i:
            allowed = tril(ones(T, S), diagonal=S - T)  (without a cache S = T: plain tril)
            att = softmax(masked_fill(q k^T / sqrt(hs), ~allowed, -inf), over the keys)
            y = c_proj(heads of att @ v side by side again)

        Shapes:
            x: (B, T, E); past: None or two (B, nh, S - T, hs);
            q: (B, nh, T, hs); k, v: (B, nh, S, hs); att: (B, nh, T, S); y: (B, T, E).

        Args:
            x: the (layer-normed) residual stream.
            past: the keys and values of earlier positions, or None.

        Returns:
            (y, (k, v)): k and v hold every position seen so far, cached ones first: the
            next call's past.

        Numerics:
            Divide by sqrt(hs), the head size, not sqrt(E). Row 0 of a mask always allows
            key 0, so no softmax row is all -inf. Build new tensors (torch.cat): never
            change past in place. x may be non-contiguous: view after .contiguous().

        Reference:
            F.scaled_dot_product_attention(q, k, v, is_causal=True) when S = T (its
            is_causal mask is aligned top-left, wrong once S > T); nanoGPT's
            CausalSelfAttention; Vaswani et al. 2017, section 3.2.
        """
        raise NotImplementedError


class MLP(nn.Module):
    """The position-wise feed-forward net: widen 4x, GELU, project back."""

    def __init__(self, config: GPTConfig):
        """Build self.c_fc = nn.Linear(E, 4E), self.c_proj = nn.Linear(4E, E) (bias=config.bias)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same two-layer net applied at every position.

        Math:
            c_proj(gelu(c_fc(x))), with the exact GELU x * Phi(x) (nn.GELU()).

        Shapes:
            x: (B, T, E) -> (B, T, E); the hidden layer is (B, T, 4E).

        Args:
            x: the (layer-normed) residual stream.

        Returns:
            The MLP's output, x's dtype.

        Numerics:
            Nothing special: no softmax, no division.

        Reference:
            nanoGPT's MLP; GPT-2 uses the tanh approximation of GELU, nanoGPT the exact one.
        """
        raise NotImplementedError


class Block(nn.Module):
    """A pre-norm transformer block: attention, then the MLP, each added to the residual."""

    def __init__(self, config: GPTConfig):
        """Build self.ln_1, self.attn, self.ln_2, self.mlp; nn.LayerNorm(E, bias=config.bias)."""
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """x + attention of ln_1(x), then + mlp of ln_2 of that.

        Math:
            a, present = attn(ln_1(x), past);  x = x + a;  x = x + mlp(ln_2(x))

        Shapes:
            x: (B, T, E) -> (B, T, E); past and present as in CausalSelfAttention.

        Args:
            x: the residual stream.
            past: this layer's cached (k, v), or None.

        Returns:
            (x, present): the new residual stream and this layer's (k, v).

        Numerics:
            Pre-norm (GPT-2): the residual stream itself is never normalised, so the
            gradient reaches the embeddings through plain additions.

        Reference:
            nanoGPT's Block; Radford et al. 2019 (GPT-2), section 2.3.
        """
        raise NotImplementedError


class GPT(nn.Module):
    """Token and position embeddings, n_layer blocks, ln_f, and a head tied to wte."""

    def __init__(self, config: GPTConfig):
        """Build the model (keep self.config) and initialise it as GPT-2 does.

        self.wte = nn.Embedding(V, E); self.wpe = nn.Embedding(block_size, E);
        self.h = nn.ModuleList of n_layer Blocks; self.ln_f = nn.LayerNorm(E, bias=...);
        self.lm_head = nn.Linear(E, V, bias=False), tied: self.lm_head.weight = self.wte.weight
        (the same Parameter: 1 matrix, not 2). Init: every nn.Linear and nn.Embedding weight
        ~ N(0, 0.02^2), Linear biases 0 (LayerNorm keeps 1 and 0); then every
        "c_proj.weight" (the two projections that write into the residual stream, per block)
        ~ N(0, (0.02 / sqrt(2 n_layer))^2). self.apply(fn) visits every submodule.
        """
        raise NotImplementedError

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits at every position and, given targets, the mean cross-entropy.

        Math:
            x = wte(idx) + wpe(arange(T)); x, _ = block(x) for each block in h;
            logits = lm_head(ln_f(x));  loss = cross_entropy(logits, targets) averaged over
            all B*T positions (or None without targets).

        Shapes:
            idx, targets: (B, T) int64 with T <= block_size; logits: (B, T, V); loss: ().

        Args:
            idx: token ids.
            targets: the next token at each position (get_batch's y), or None.

        Returns:
            (logits, loss).

        Numerics:
            T > block_size raises ValueError (wpe has no row for it). Use F.cross_entropy on
            logits.reshape(-1, V) and targets.reshape(-1) (idx may be non-contiguous).

        Reference:
            nanoGPT's GPT.forward; the head is tied as in Press & Wolf 2017.
        """
        raise NotImplementedError

    def forward_cached(
        self, idx: torch.Tensor, cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Logits of new tokens, reusing the keys and values cached for the earlier ones.

        Math:
            P = cache[0][0].shape[2] tokens already seen (0 without a cache); the new tokens
            sit at positions P .. P + T - 1: x = wte(idx) + wpe(arange(P, P + T)); each
            block i gets past = cache[i]. The logits equal forward(all P + T tokens)'s last
            T rows, but each step costs O(T * (P + T)) attention instead of O((P + T)^2).

        Shapes:
            idx: (B, T); cache: None or n_layer pairs (k, v) of (B, nh, P, hs);
            returns logits (B, T, V) and n_layer pairs of (B, nh, P + T, hs).

        Args:
            idx: the tokens that follow the cached ones.
            cache: what the previous call returned, or None to start.

        Returns:
            (logits, new_cache): a new list; the old cache is left as it was.

        Numerics:
            Raise ValueError naming block_size when P + T > block_size: a learned position
            embedding has no row beyond it, so this cache cannot slide.

        Reference:
            Hugging Face transformers' GPT2Attention with use_cache=True (past_key_values);
            Pope et al. 2022, "Efficiently Scaling Transformer Inference".
        """
        raise NotImplementedError

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Append max_new_tokens tokens to idx, each predicted from the tokens before it.

        Math:
            repeat: logits = forward(idx[:, -block_size:])[0][:, -1] (the last position);
            temperature 0: next = argmax(logits) (greedy);
            else: logits = logits / temperature; with top_k, every logit below the k-th
            largest becomes -inf; next ~ softmax(logits) (torch.multinomial);
            idx = cat([idx, next], dim=1).

        Shapes:
            idx: (B, T0) int64 -> (B, T0 + max_new_tokens), idx's tokens first.

        Args:
            idx: the prompts, one per row; may be longer than block_size.
            max_new_tokens: how many tokens to add.
            temperature: 0 for greedy; < 1 sharpens the distribution, > 1 flattens it.
            top_k: keep only the k most likely tokens (None: all of them).
            generator: the only source of randomness: multinomial(probs, 1, generator=...).

        Returns:
            The extended token ids (a new tensor; idx is not modified).

        Numerics:
            Divide by the temperature, never multiply. top_k larger than V keeps every
            token (min(top_k, V)). The context is cropped to the last block_size tokens.

        Reference:
            nanoGPT's GPT.generate; Holtzman et al. 2020 discusses top-k and its limits.
        """
        raise NotImplementedError
