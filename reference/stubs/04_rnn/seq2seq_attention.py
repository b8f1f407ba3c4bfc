"""Encoder-decoder with attention: Bahdanau (additive) and Luong (dot, general) scores.

This kata is written in PyTorch. A plain encoder-decoder squeezes the whole source
into the encoder's last state. With attention the decoder looks back at every source
position at every output step: it scores each encoder output against its own state,
turns the scores into weights with a softmax (padding gets none), and reads their
weighted average, the context. The weights are also an explanation: they show which
source token each output was read from.

The training test trains your Seq2Seq, once per score function, to reverse strings
of 1 to 8 digits ("3 1 4" -> "4 1 3 </s>"), expects at least 95% of 500 new strings
to come out exactly right, and checks that each output step looks at the mirrored
source position. To look at that data, or to train on it yourself:

    from reference.oracles.seq2seq_attention import make_reversal, as_text
    src, src_mask, tgt = make_reversal(4, np.random.default_rng(0))  # from the repo root
    # src (4, 8) int64 digit tokens, PAD-padded; src_mask (4, 8) bool, True = real token;
    # tgt (4, 9) int64: the digits reversed, then EOS, then PAD. as_text(tgt[0]) reads it.

Tokens: PAD = 0, BOS = 1 (fed to the decoder before its first output), EOS = 2 (the
decoder's "I am done"), digit d = 3 + d. Run: pytest katas/04_rnn/test_seq2seq_attention.py
"""

import torch
from torch import nn

PAD, BOS, EOS = 0, 1, 2  # token ids every sequence uses; the digits 0-9 are 3..12


def dot_score(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Luong's dot score: one dot product between the query and every key.

    Math:
        score[n, s] = sum_h query[n, h] * keys[n, s, h]   (no 1/sqrt(H): Luong's dot)

    Shapes:
        query: (N, H); keys: (N, S, H); returns (N, S).

    Args:
        query: what the decoder is looking for (its state).
        keys: one vector per source position (the encoder's outputs).

    Returns:
        The scores, query's dtype.

    Numerics:
        One batched matrix product (keys @ query[..., None]), no Python loop.

    Reference:
        Luong et al. (2015), eq. 8 "dot"; the logits inside
        F.scaled_dot_product_attention(q, k, v, scale=1.0).
    """
    raise NotImplementedError


def general_score(query: torch.Tensor, keys: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Luong's general score: a bilinear form q^T W k for every key.

    Math:
        score[n, s] = query[n] @ W @ keys[n, s]   (= dot_score(query @ W, keys))

    Shapes:
        query: (N, Hq); keys: (N, S, Hk); W: (Hq, Hk); returns (N, S).

    Args:
        query, keys: as in dot_score; their sizes may differ.
        W: the learned matrix that relates the two spaces.

    Returns:
        The scores.

    Numerics:
        Project the query once (N x Hq x Hk), not every key (N x S x Hq x Hk).

    Reference:
        Luong et al. (2015), eq. 8 "general".
    """
    raise NotImplementedError


def additive_score(
    query: torch.Tensor,
    keys: torch.Tensor,
    W_q: torch.Tensor,
    W_k: torch.Tensor,
    v: torch.Tensor,
) -> torch.Tensor:
    """Bahdanau's additive score: a one-hidden-layer net on the query and each key.

    Math:
        score[n, s] = v . tanh(query[n] @ W_q + keys[n, s] @ W_k)

    Shapes:
        query: (N, Hq); keys: (N, S, Hk); W_q: (Hq, A); W_k: (Hk, A); v: (A,);
        returns (N, S).

    Args:
        query, keys: as in general_score.
        W_q, W_k, v: the scoring net's weights (A: its hidden size).

    Returns:
        The scores.

    Numerics:
        The query's projection is (N, A): unsqueeze it to (N, 1, A) so that it
        broadcasts over the S keys.

    Reference:
        Bahdanau et al. (2015), appendix A.1.2: e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j).
    """
    raise NotImplementedError


def attend(
    scores: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked softmax over the source positions, then the weighted sum of the values.

    Math:
        weights[n] = softmax over s of scores[n, s], over the real positions only
                     (mask[n, s] False -> weight exactly 0; the others sum to 1)
        context[n] = sum_s weights[n, s] * values[n, s]

    Shapes:
        scores: (N, S); values: (N, S, Hv); mask: (N, S) bool or None (all real).
        Returns context (N, Hv) and weights (N, S).

    Args:
        scores: from one of the score functions.
        values: what is read at each position (here, the encoder's outputs).
        mask: True where the source has a real token, False on padding.

    Returns:
        (context, weights).

    Numerics:
        Set padded scores to -inf BEFORE the softmax (exp(-inf) = 0), so the real
        weights still sum to 1. Scores of 1e4 must not overflow (torch.softmax
        subtracts the max). A row that is all padding would be softmax(all -inf) =
        NaN: give it zero weights and a zero context, as
        F.scaled_dot_product_attention does.

    Reference:
        torch.softmax, Tensor.masked_fill; the context equals
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None], scale=1.0)
        for dot scores.
    """
    raise NotImplementedError


class Attention(nn.Module):
    """A score function with its parameters, followed by attend."""

    def __init__(self, method: str, query_size: int, key_size: int, attn_size: int = 0):
        """Create the parameters the method needs (see forward)."""
        raise NotImplementedError

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score every key against the query, then read the values with those weights.

        Math:
            method "dot": dot_score (no parameters; query_size must equal key_size,
              else ValueError); "general": general_score with self.W, an nn.Parameter
              (query_size, key_size); "additive": additive_score with nn.Parameters
              self.W_q (query_size, A), self.W_k (key_size, A), self.v (A,), where
              A = attn_size or key_size. Any other method: ValueError.
            Then attend(scores, values, mask). Initialise with, e.g.,
            torch.randn(a, b) / sqrt(a) (the tests set the values they check).

        Shapes:
            query: (N, query_size); keys: (N, S, key_size); values: (N, S, Hv);
            mask: (N, S) bool. Returns (N, Hv) and (N, S).

        Args:
            query, keys, values, mask: as in the functions above. Keys decide WHERE
            to look, values WHAT is read there; in the model both are the encoder's
            outputs, but they need not be the same tensor.

        Returns:
            (context, weights), as attend.

        Numerics:
            As attend.

        Reference:
            Luong et al. (2015), section 3.1; Bahdanau et al. (2015), section 3.1.
        """
        raise NotImplementedError


class Seq2Seq(nn.Module):
    """A bidirectional GRU encoder and a GRU decoder that attends to it at every step."""

    def __init__(
        self, vocab_size: int, embed_size: int = 32, hidden_size: int = 64, method: str = "general"
    ):
        """Build the modules the tests read (see encode and decode_step).

        self.src_embed = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        self.encoder = nn.GRU(embed_size, hidden_size // 2, batch_first=True,
                              bidirectional=True)     # both directions: hidden_size wide
        self.tgt_embed = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        self.decoder = nn.GRUCell(embed_size, hidden_size)
        self.attention = Attention(method, hidden_size, hidden_size)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)
        """
        raise NotImplementedError

    def encode(
        self, src: torch.Tensor, src_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Read the source: one output per position, and the decoder's first state.

        Math:
            enc_out = the bidirectional GRU over src_embed(src), each sequence over its
            own real tokens only; h = cat(h_n[0], h_n[1]): the forward direction's state
            after the last real token, then the backward one's after the first token.

        Shapes:
            src: (N, S) int64; src_mask: (N, S) bool, every row with >= 1 real token,
            real tokens first. Returns enc_out (N, S, H) and h (N, H), H = hidden_size.

        Args:
            src: token ids, PAD-padded on the right.
            src_mask: src != PAD.

        Returns:
            (enc_out, h); enc_out is 0 at padded positions.

        Numerics:
            Run on the padded batch, the backward GRU would start in the padding. Pack:
            nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
            enforce_sorted=False) with lengths = src_mask.sum(1) on the CPU, then
            nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=S).

        Reference:
            Bahdanau et al. (2015), section 3.2 (the bidirectional encoder); the tests
            compare with nn.GRU run on each sequence alone.
        """
        raise NotImplementedError

    def decode_step(
        self,
        y_prev: torch.Tensor,
        h: torch.Tensor,
        enc_out: torch.Tensor,
        src_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One output step: update the state, attend with it, predict the next token.

        Math:
            h' = decoder(tgt_embed(y_prev), h)
            context, weights = attention(h', enc_out, enc_out, src_mask)
            logits = out(tanh(combine(cat([context, h'], -1))))   (context first)

        Shapes:
            y_prev: (N,) int64; h: (N, H); enc_out: (N, S, H); src_mask: (N, S).
            Returns logits (N, V), h' (N, H), weights (N, S).

        Args:
            y_prev: the previous token (BOS at the first step).
            h: the decoder's state; enc_out, src_mask: from encode.

        Returns:
            (logits, h', weights).

        Numerics:
            Attend with the NEW state h' (Luong), not with h (that is Bahdanau's order).

        Reference:
            Luong et al. (2015), eqs. 5-6 (without input feeding).
        """
        raise NotImplementedError

    def forward(
        self, src: torch.Tensor, src_mask: torch.Tensor, tgt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: logits for every target position, fed the true previous tokens.

        Math:
            enc_out, h = encode(src, src_mask); inputs = [BOS, tgt[:, 0], ...,
            tgt[:, L-2]] (tgt shifted right by one); for t in 0..L-1:
            logits_t, h, weights_t = decode_step(inputs[:, t], h, enc_out, src_mask).

        Shapes:
            src, src_mask: (N, S); tgt: (N, L) int64. Returns logits (N, L, V) and
            weights (N, L, S).

        Args:
            src, src_mask: the source.
            tgt: the target tokens (ending with EOS, then PAD).

        Returns:
            (logits, weights), stacked over the steps on axis 1.

        Numerics:
            Step t predicts tgt[:, t], so it must not be fed tgt[:, t]: that would teach
            the decoder to copy its input.

        Reference:
            Williams and Zipser (1989), teacher forcing; the loss is
            F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=PAD).
        """
        raise NotImplementedError


def greedy_decode(
    model: Seq2Seq, src: torch.Tensor, src_mask: torch.Tensor, max_len: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode by feeding back the most likely token; PAD after each sequence's EOS.

    Math:
        y = BOS; for max_len steps: logits, h, w = decode_step(y, h, ...);
        y = argmax(logits). A sequence keeps its first EOS; every later position is PAD.

    Shapes:
        src, src_mask: (N, S). Returns tokens (N, max_len) int64, weights (N, max_len, S).

    Args:
        model: a Seq2Seq.
        src, src_mask: the source.
        max_len: the number of steps (all sequences run them all).

    Returns:
        (tokens, weights).

    Numerics:
        No gradients are needed: run under torch.no_grad().

    Reference:
        The greedy special case (beam 1) of beam search; Sutskever et al. (2014).
    """
    raise NotImplementedError


def sequence_accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """The fraction of sequences whose every real target token (EOS included) was predicted.

    Math:
        row n is right when pred[n, t] == target[n, t] for every t with target[n, t] != PAD.

    Shapes:
        pred, target: (N, L) int64.

    Args:
        pred: e.g. greedy_decode's tokens.
        target: the true tokens, ending with EOS, then PAD.

    Returns:
        A Python float in [0, 1].

    Numerics:
        One wrong token makes the whole sequence wrong: stricter than token accuracy.

    Reference:
        "Exact match"; Tensor.all(dim=1).
    """
    raise NotImplementedError


def plot_attention(
    weights: torch.Tensor, src_labels: list[str], out_labels: list[str], path
) -> object:
    """Draw the (L, S) attention weights as an image and save it as a PNG.

    Math:
        Row t (one output step) is the softmax over the source tokens: cell (t, s) is
        how much output t read from source token s. Reversal draws an anti-diagonal.

    Shapes:
        weights: (L, S) tensor; src_labels: S strings; out_labels: L strings.

    Args:
        weights: one example's attention, e.g. greedy_decode's weights[n].
        src_labels, out_labels: tick labels for the columns and the rows.
        path: where to write the PNG.

    Returns:
        The matplotlib Figure; its first Axes shows the weights with imshow.

    Numerics:
        vmin=0, vmax=1: the colours mean the same in every plot.

    Reference:
        Bahdanau et al. (2015), figure 3. Use matplotlib.figure.Figure (not pyplot):
        fig = Figure(); ax = fig.add_subplot(); ax.imshow(...); fig.savefig(path).
    """
    raise NotImplementedError
