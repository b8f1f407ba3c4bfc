"""A mini encoder-decoder transformer, built from your own blocks and trained to sort digits.

This kata is written in PyTorch: nn.Linear, nn.LayerNorm, nn.Embedding, autograd and
torch.optim are yours to use; nn.MultiheadAttention and nn.Transformer* are what the tests
compare against, so build those parts yourself. Build it bottom-up: the masks,
multi-head attention, the encoder and decoder layers, the positional encoding and the
embedding, the whole model, then teacher forcing, greedy decoding and the training loop.
The tests load your weights into torch's modules (so attribute names matter: they are
given in each docstring) and compare in float64. The last test trains
Seq2SeqTransformer(13, 64, 4, 2, 2, 128, norm_first=True) with your train() to sort strings
of 1 to 8 digits (600 steps), and expects at least 99% of 1,000 new strings sorted exactly
by your greedy_decode(); it also expects the last decoder layer's cross-attention, while
writing a digit, to look hardest at a copy of that digit in the source (80% of steps),
and draws it for one string in a PNG. To look at the task, or to train on it yourself:

    from reference.oracles.mini_transformer import make_sorting  # from the repository root
    src, tgt = make_sorting(4, torch.Generator().manual_seed(0))
    # tokens: PAD 0, BOS 1, EOS 2, digit d is 3 + d (13 in all)
    # src (4, 8): digit tokens, then PAD; tgt (4, 9): the same digits sorted, EOS, PAD

Sorting needs attention over the whole input: the next digit can sit anywhere in it.
Dims: N batch, S source length, L target length, E d_model, H heads, d = E / H,
F dim_feedforward, V vocabulary. Masks are boolean with True = BLOCKED, as in
nn.MultiheadAttention (the opposite of F.scaled_dot_product_attention's convention).
Make every new float tensor with the input's dtype and device (the tests run in float64).

Run: pytest katas/05_transformers/test_mini_transformer.py
"""

import torch
from torch import nn


def causal_mask(L: int) -> torch.Tensor:
    """The decoder's self-attention mask: step t may look at steps 0..t only.

    Math:
        mask[i, j] = True (blocked) where j > i; False on and below the diagonal.

    Shapes:
        Returns (L, L), torch.bool.

    Args:
        L: the target length.

    Returns:
        The boolean mask (True above the diagonal).

    Numerics:
        Blocking the diagonal too would leave step 0 with no key at all: a row of -inf,
        whose softmax is NaN.

    Reference:
        nn.Transformer.generate_square_subsequent_mask(L) (the same mask as floats: -inf
        where this one is True, 0 elsewhere).
    """
    raise NotImplementedError


def padding_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """The key padding mask of a batch of token ids: True where the token is padding.

    Math:
        mask[n, s] = (tokens[n, s] == pad_id)

    Shapes:
        tokens: (N, S) int64; returns (N, S) torch.bool.

    Args:
        tokens: right-padded token ids.
        pad_id: the padding token.

    Returns:
        The boolean mask.

    Numerics:
        Exact (comparisons).

    Reference:
        key_padding_mask / src_key_padding_mask of nn.MultiheadAttention and nn.Transformer.
    """
    raise NotImplementedError


class MultiHeadAttention(nn.Module):
    """Multi-head attention laid out as nn.MultiheadAttention(E, H, batch_first=True)."""

    def __init__(self, d_model: int, nhead: int):
        """Raise ValueError unless nhead divides d_model; then create:

        self.in_proj_weight: nn.Parameter (3E, E), rows W_q, W_k, W_v (xavier_uniform_);
        self.in_proj_bias: nn.Parameter (3E,) of zeros;
        self.out_proj: nn.Linear(E, E) (its bias zeroed).
        """
        super().__init__()
        raise NotImplementedError

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """H attentions side by side, each in its own d = E / H slice, then mixed.

        Math:
            q = query W_q^T + b_q, k = key W_k^T + b_k, v = value W_v^T + b_v;
            split the E features into H heads of d; per head:
            scores = q k^T / sqrt(d), -inf where attn_mask or key_padding_mask is True,
            weights = softmax(scores) over the keys; out_h = weights v.
            out = out_proj(the heads side by side).

        Shapes:
            query (N, L, E); key, value (N, S, E); key_padding_mask (N, S) bool;
            attn_mask (L, S) bool. Returns out (N, L, E) and weights (N, H, L, S).

        Args:
            query, key, value: batch first; key is value in every use here.
            key_padding_mask: True where a key is padding (per sequence).
            attn_mask: True where query i may not look at key j (the same for all).

        Returns:
            (out, weights): the output and every head's attention weights.

        Numerics:
            Without the 1/sqrt(d), scores grow like sqrt(d) and the softmax saturates.
            Every query must keep at least one key, or its row is NaN (as in torch).

        Reference:
            nn.MultiheadAttention(E, H, batch_first=True) with need_weights=True,
            average_attn_weights=False; Vaswani et al. (2017) section 3.2.
        """
        raise NotImplementedError


class EncoderLayer(nn.Module):
    """Self-attention then a feed-forward net, each with a residual and a LayerNorm."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, norm_first: bool = False):
        """Create self_attn (MultiHeadAttention), linear1 (E -> F), linear2 (F -> E),
        norm1 and norm2 (nn.LayerNorm(E)); keep norm_first."""
        super().__init__()
        raise NotImplementedError

    def forward(
        self, src: torch.Tensor, src_key_padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One encoder layer: every position attends to every real position.

        Math:
            sa(x) = self_attn(x, x, x, key_padding_mask)[0];
            ff(x) = linear2(relu(linear1(x))).
            post-norm (norm_first=False): x = norm1(x + sa(x)); x = norm2(x + ff(x))
            pre-norm (norm_first=True):   x = x + sa(norm1(x)); x = x + ff(norm2(x))

        Shapes:
            src (N, S, E); src_key_padding_mask (N, S) bool; returns (N, S, E).

        Args:
            src: the layer's input.
            src_key_padding_mask: True at padding.

        Returns:
            The layer's output.

        Numerics:
            Pre-norm leaves the residual path untouched: deep stacks train without warmup.

        Reference:
            nn.TransformerEncoderLayer(E, H, F, dropout=0.0, batch_first=True,
            norm_first=...) (its dropouts have no weights: the state_dicts match).
        """
        raise NotImplementedError


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention to the encoder's output, a feed-forward net."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, norm_first: bool = False):
        """Create self_attn and multihead_attn (MultiHeadAttention), linear1, linear2,
        norm1, norm2, norm3; keep norm_first."""
        super().__init__()
        raise NotImplementedError

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoder layer; its self-attention always uses causal_mask(L).

        Math:
            sa(x) = self_attn(x, x, x, attn_mask=causal_mask(L))[0];
            ca(x) = multihead_attn(x, memory, memory, key_padding_mask=memory_key_padding_mask);
            post-norm: x = norm1(x + sa(x)); x = norm2(x + ca(x)); x = norm3(x + ff(x))
            pre-norm:  x = x + sa(norm1(x)); x = x + ca(norm2(x)); x = x + ff(norm3(x))

        Shapes:
            tgt (N, L, E); memory (N, S, E); memory_key_padding_mask (N, S) bool.
            Returns (N, L, E) and the cross-attention weights (N, H, L, S).

        Args:
            tgt: the decoder's input so far.
            memory: the encoder's output (queries come from tgt, keys and values from it).
            memory_key_padding_mask: True at the source's padding.

        Returns:
            (out, cross_weights).

        Numerics:
            Right-padded targets need no padding mask: the causal mask already hides every
            later position (PAD included) from every real one; the loss ignores the rest.

        Reference:
            nn.TransformerDecoderLayer(E, H, F, dropout=0.0, batch_first=True, norm_first=...)
            called with tgt_mask=causal_mask(L).
        """
        raise NotImplementedError


class SinusoidalPositionalEncoding(nn.Module):
    """Adds a fixed table of sines and cosines: each position gets its own vector."""

    def __init__(self, d_model: int, max_len: int = 64):
        """Build the table pe and keep it with self.register_buffer("pe", pe)."""
        super().__init__()
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x plus the table's first T rows.

        Math:
            w_i = 10000^(-2i / E); pe[p, 2i] = sin(p w_i), pe[p, 2i + 1] = cos(p w_i).
            forward(x) = x + pe[:T].

        Shapes:
            pe (max_len, E), odd E allowed (the last column is a sin); x (N, T, E),
            T <= max_len; returns (N, T, E).

        Args:
            x: embedded tokens.

        Returns:
            The same tokens, now carrying their positions.

        Numerics:
            A buffer, not a parameter: it is saved and follows .double(), but never trains.
            Build it in float64, then store it in torch.get_default_dtype().

        Reference:
            Vaswani et al. (2017) section 3.5; PositionalEncoding of the PyTorch tutorial
            "Language Translation with nn.Transformer".
        """
        raise NotImplementedError


class TokenEmbedding(nn.Module):
    """Token vectors from a lookup table, scaled by sqrt(d_model)."""

    def __init__(self, vocab_size: int, d_model: int):
        """Create self.embedding = nn.Embedding(V, E), init normal with std E^-0.5."""
        super().__init__()
        raise NotImplementedError

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Look up each token's vector and multiply it by sqrt(E).

        Math:
            embedding.weight[tokens] * sqrt(E)

        Shapes:
            tokens (N, T) int64; returns (N, T, E).

        Args:
            tokens: token ids.

        Returns:
            The scaled embeddings.

        Numerics:
            Rows start with entries of size E^-0.5; times sqrt(E) they are of size ~1,
            like the positional encoding they are added to (neither drowns the other).

        Reference:
            Vaswani et al. (2017) section 3.4: "we multiply those weights by sqrt(d_model)".
        """
        raise NotImplementedError


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
        """Keep pad_id; create src_embed and tgt_embed (TokenEmbedding), pos
        (SinusoidalPositionalEncoding(E, max_len)), encoder_layers and decoder_layers
        (nn.ModuleList), encoder_norm and decoder_norm (nn.LayerNorm(E), as nn.Transformer
        has), generator (nn.Linear(E, V))."""
        super().__init__()
        raise NotImplementedError

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """Run the encoder stack once over the source: its output is the decoder's memory.

        Math:
            x = pos(src_embed(src)); x = layer(x, padding_mask(src, pad_id)) for each of
            encoder_layers; memory = encoder_norm(x).

        Shapes:
            src (N, S) int64; returns (N, S, E).

        Args:
            src: right-padded source tokens.

        Returns:
            The memory.

        Numerics:
            The final LayerNorm matters with pre-norm, whose residual stream is never
            normalised otherwise (nn.Transformer has it either way).

        Reference:
            nn.TransformerEncoder(layer, n_enc, norm=nn.LayerNorm(E)).
        """
        raise NotImplementedError

    def decode(
        self,
        tgt_in: torch.Tensor,
        memory: torch.Tensor,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits for every target step, and the last decoder layer's cross-attention.

        Math:
            x = pos(tgt_embed(tgt_in)); x, w = layer(x, memory, memory_key_padding_mask)
            for each of decoder_layers; logits = generator(decoder_norm(x)).

        Shapes:
            tgt_in (N, L) int64; memory (N, S, E); memory_key_padding_mask (N, S) bool.
            Returns (N, L, V) and (N, H, L, S).

        Args:
            tgt_in: the decoder's input (BOS first).
            memory: encode(src).
            memory_key_padding_mask: padding_mask(src, pad_id).

        Returns:
            (logits, cross_weights of the last decoder layer).

        Numerics:
            Logits, not probabilities: F.cross_entropy and argmax both take logits.

        Reference:
            nn.TransformerDecoder(layer, n_dec, norm=nn.LayerNorm(E)), then nn.Linear(E, V).
        """
        raise NotImplementedError

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole model: encode the source, decode the target input.

        Math:
            memory = encode(src); logits = generator(decoder_norm(decoder layers applied to
            pos(tgt_embed(tgt_in)), each with memory and padding_mask(src, pad_id))).

        Shapes:
            src (N, S) int64; tgt_in (N, L) int64. Returns (N, L, V), (N, H, L, S).

        Args:
            src: right-padded source tokens.
            tgt_in: the decoder's input (BOS, then the target shifted right).

        Returns:
            (logits, cross_weights): scores for the next token at each step; the last
            decoder layer's cross-attention weights.

        Numerics:
            logits[:, t] may depend on tgt_in[:, :t + 1] only (the causal mask).

        Reference:
            nn.Transformer(E, H, n_enc, n_dec, F, dropout=0.0, batch_first=True) fed
            embeddings, with tgt_mask and both padding masks, then a nn.Linear.
        """
        raise NotImplementedError


def shift_right(tgt: torch.Tensor, bos_id: int) -> torch.Tensor:
    """The decoder's input under teacher forcing: BOS, then the target minus its last token.

    Math:
        tgt_in[:, 0] = bos_id; tgt_in[:, t] = tgt[:, t - 1] for t >= 1.

    Shapes:
        tgt (N, L) int64; returns (N, L) int64.

    Args:
        tgt: the tokens the model must predict.
        bos_id: the begin-of-sequence token.

    Returns:
        The shifted copy (tgt is left unchanged).

    Numerics:
        Unshifted, step t would read the very token it must predict: training loss near
        0, and greedy decoding, which never has that token, fails.

    Reference:
        Vaswani et al. (2017) section 3.1 ("output embeddings are offset by one position").
    """
    raise NotImplementedError


def sequence_loss(
    model: Seq2SeqTransformer, src: torch.Tensor, tgt: torch.Tensor, bos_id: int
) -> torch.Tensor:
    """Mean cross-entropy of the teacher-forced predictions, padding ignored.

    Math:
        logits, _ = model(src, shift_right(tgt, bos_id));
        loss = mean over positions with tgt != pad_id of -log softmax(logits)[tgt].

    Shapes:
        src (N, S); tgt (N, L); returns a 0-d tensor.

    Args:
        model: the transformer (model.pad_id is the padding token).
        src, tgt: a batch of sources and the outputs wanted.
        bos_id: the begin-of-sequence token.

    Returns:
        The loss, with a gradient to the model's parameters.

    Numerics:
        F.cross_entropy works on logits (log-softmax inside): no softmax of your own.

    Reference:
        F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=pad_id).
    """
    raise NotImplementedError


def greedy_decode(
    model: Seq2SeqTransformer, src: torch.Tensor, max_len: int, bos_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate max_len tokens one at a time, each the most likely given those before it.

    Math:
        memory = encode(src) (once); ys = [BOS]; max_len times:
        logits = decode(ys, memory, padding mask); y = argmax(logits[:, -1]); ys += [y].

    Shapes:
        src (N, S); returns tokens (N, max_len) int64 (BOS not included) and the last
        step's cross-attention weights (N, H, max_len, S).

    Args:
        model, src: as above. max_len: the number of tokens to generate (no early stop:
            what comes after EOS is left as generated; the tests ignore it).
        bos_id: the begin-of-sequence token.

    Returns:
        (tokens, cross_weights).

    Numerics:
        Under torch.no_grad(). The result equals the argmax of the full forward on BOS +
        tokens[:, :-1] at every step: the tests check exactly that.

    Reference:
        greedy_decode of the PyTorch tutorial "Language Translation with nn.Transformer".
    """
    raise NotImplementedError


def train(
    model: Seq2SeqTransformer,
    src: torch.Tensor,
    tgt: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    warmup: int,
    bos_id: int,
    generator: torch.Generator,
) -> list[float]:
    """Train with Adam on random batches, the learning rate warmed up then decayed.

    Math:
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98));
        sched = LambdaLR(opt, lambda s: min((s + 1) / warmup, (steps - s) / (steps - warmup)));
        model.train(); each step: idx = torch.randint(len(src), (batch_size,),
        generator=generator); loss = sequence_loss(model, src[idx], tgt[idx], bos_id);
        opt.zero_grad(); loss.backward(); opt.step(); sched.step().

    Shapes:
        src (M, S), tgt (M, L): the whole training set.

    Args:
        model: trained in place.
        steps, batch_size, lr, warmup: the recipe (warmup < steps).
        bos_id: the begin-of-sequence token.
        generator: the only source of randomness (which rows make each batch).

    Returns:
        Every step's loss, as Python floats.

    Numerics:
        Warmup: Adam's early steps are large and noisy; the linear decay ends near 0.

    Reference:
        Vaswani et al. (2017) section 5.3 (Adam with betas (0.9, 0.98) and warmup).
    """
    raise NotImplementedError
