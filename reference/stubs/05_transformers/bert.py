"""BERT: WordPiece tokenisation, masked-LM masking, the encoder, a checkpoint, fine-tuning.

This kata is written in PyTorch (the tokeniser in plain Python). Four parts, in order:

1. Text to ids, exactly as Hugging Face's `tokenizers` does for BERT: load_vocab,
   basic_tokenize (clean, split CJK, strip accents, lowercase, split punctuation),
   wordpiece (greedy longest match, "##" inside a word), tokenize, encode.
2. Pretraining's corruption: mask_tokens (15% of the tokens, 80/10/10).
3. The encoder: BertEmbeddings, BertLayer, BertModel; load_weights copies a
   checkpoint into it. The tests compare it with transformers' BertModel: a tiny random
   BERT in float64 (always), and the real all-MiniLM-L6-v2 in float32 (to 1e-4), when
   it is cached: `python -m checker data all-MiniLM-L6-v2` (91 MB).
4. BertClassifier: a linear head on the pooled [CLS] vector. The last test fine-tunes it,
   from all-MiniLM-L6-v2, on sentences about four topics, and tests it on topic words it
   never saw in training (hockey, hail, wifi...).

Read a checkpoint with safetensors (never torch.load on downloaded files):
    from safetensors.torch import load_file
    from checker.datasets import cache_dir              # run from the repository root
    folder = cache_dir() / "all-MiniLM-L6-v2"
    state_dict = load_file(folder / "model.safetensors")   # {name: tensor}
    config = json.loads((folder / "config.json").read_text())  # the config dict below

Run: pytest katas/05_transformers/test_bert.py
"""

from pathlib import Path

import torch
from torch import nn

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Code points of CJK ideographs (Unicode's CJK blocks, as in Google's BERT). tokenizers
# 0.23 starts the sixth range at 0x2B920 (a typo: 256 ideographs are not split); the tests
# leave those 256 out.
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def load_vocab(path: str | Path) -> dict[str, int]:
    """Read a vocab.txt: token -> id.

    Math:
        Line i (counting from 0) holds the token whose id is i.

    Shapes:
        A file of V lines -> a dict of V entries.

    Args:
        path: the vocab.txt (UTF-8, one token a line, "\\n" after each).

    Returns:
        {token: id}.

    Numerics:
        Strip only the line end: a token may be any character, "##" pieces included.

    Reference:
        transformers.models.bert.tokenization_bert.load_vocab.
    """
    raise NotImplementedError


def basic_tokenize(text: str) -> list[str]:
    """Split raw text into words and punctuation, normalised as BERT's uncased models do.

    Math:
        In this order, character by character:
        1. clean: drop "\\x00", "\\ufffd" and every character whose unicodedata.category
           is Cc, Cf, Co or Cs (control, format, private use, surrogate), except
           "\\t", "\\n", "\\r"; those three and every ch.isspace() become " ".
        2. put spaces around every CJK ideograph (CJK_RANGES): each is a word.
        3. strip accents: unicodedata.normalize("NFD", text), then drop every character
           of category Mn ("café" -> "cafe" + U+0301 -> "cafe").
        4. lowercase each character: ch.lower().
        5. split on whitespace; inside a word every punctuation character is a token
           of its own: category P*, or ASCII 33-47, 58-64, 91-96, 123-126 ($ + < = > ^ ` | ~).

    Shapes:
        A string -> a list of non-empty strings.

    Args:
        text: any text; it never contains the special tokens themselves.

    Returns:
        The words, e.g. "Héllo, World!" -> ["hello", ",", "world", "!"].

    Numerics:
        Lowercase character by character: str.lower() on a whole word applies Greek's
        final-sigma rule ("ΟΔΟΣ" -> "οδος" with a final ς); tokenizers does not ("οδοσ").
        Unassigned code points (category Cn) stay. tokenizers' Unicode tables are older
        than Python's: for characters added in recent Unicode versions the two can
        differ, and the tests avoid them.

    Reference:
        tokenizers.normalizers.BertNormalizer(lowercase=True) then
        tokenizers.pre_tokenizers.BertPreTokenizer; google-research/bert, tokenization.py.
    """
    raise NotImplementedError


def wordpiece(word: str, vocab: dict[str, int], max_chars: int = 100) -> list[str]:
    """Split one word into vocabulary pieces: greedy longest match first.

    Math:
        start = 0; while start < len(word): take the LONGEST word[start:end] in the
        vocabulary, written "##" + word[start:end] when start > 0 (a piece inside a
        word); append it and continue from end. If no piece matches at some start, the
        WHOLE word is ["[UNK]"].

    Shapes:
        A word -> a list of pieces; "".join(p.removeprefix("##") for p in out) == word
        unless the word is unknown.

    Args:
        word: one word of basic_tokenize's output.
        vocab: token -> id.
        max_chars: a word longer than this (in characters) is ["[UNK]"] at once.

    Returns:
        e.g. "unaffable" -> ["un", "##aff", "##able"] with BERT's vocabulary.

    Numerics:
        At most len(word)^2 / 2 dictionary lookups: fine for words of <= 100 characters.

    Reference:
        tokenizers.models.WordPiece (unk_token="[UNK]", max_input_chars_per_word=100).
    """
    raise NotImplementedError


def tokenize(text: str, vocab: dict[str, int]) -> list[str]:
    """Text to WordPiece tokens: basic_tokenize, then wordpiece on every word.

    Math:
        [piece for word in basic_tokenize(text) for piece in wordpiece(word, vocab)]

    Shapes:
        A string -> a list of vocabulary tokens.

    Args:
        text: any text.
        vocab: token -> id.

    Returns:
        The tokens, "[UNK]" for unknown words; no special tokens added.

    Numerics:
        Pure Python; nothing to watch.

    Reference:
        tokenizers.Tokenizer.encode(text, add_special_tokens=False).tokens.
    """
    raise NotImplementedError


def encode(
    text_a: str, vocab: dict[str, int], text_b: str | None = None, max_len: int | None = None
) -> dict[str, list[int]]:
    """One example for BERT: [CLS] A [SEP] (B [SEP]), truncated and padded to max_len.

    Math:
        ids = [CLS] + ids(A) + [SEP] (+ ids(B) + [SEP]); token_type_ids 0 up to and
        including the first [SEP], 1 for B and its [SEP]; attention_mask 1 for all.
        With max_len: room = max_len - (number of special tokens, 2 or 3).
          Truncate: one segment keeps its first `room` tokens. Two segments that do not
          fit: the shorter (A on a tie) keeps min(its length, room // 2) tokens, the
          longer keeps the rest of the room ("longest first").
          Pad: append [PAD] ids, token type 0 and attention 0 up to max_len.

    Shapes:
        Three lists of the same length: len(ids) without max_len, else max_len.

    Args:
        text_a: the first segment; text_b: the optional second one (a question's
            answer, the next sentence).
        vocab: token -> id; the special tokens' ids come from it.
        max_len: the fixed length, or None for neither truncation nor padding.

    Returns:
        {"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]}.

    Numerics:
        Raise ValueError when max_len leaves no room for the special tokens (max_len < 2,
        or < 3 with text_b).

    Reference:
        tokenizers.Tokenizer.encode(text_a, text_b) with enable_truncation(max_len,
        strategy="longest_first") and enable_padding(length=max_len).
    """
    raise NotImplementedError


def mask_tokens(
    input_ids: torch.Tensor,
    special_mask: torch.Tensor,
    vocab_size: int,
    mask_id: int,
    generator: torch.Generator,
    mlm_probability: float = 0.15,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked-LM corruption: choose tokens to predict, then hide 80%, randomise 10%.

    Math:
        selected ~ Bernoulli(mlm_probability) for each token, never where special_mask;
        labels = input_ids where selected, -100 elsewhere (cross_entropy ignores -100);
        of the selected: 80% become mask_id, 10% a token drawn uniformly from
        0 .. vocab_size-1, 10% stay as they are (draw "replace" with p 0.8, then
        "random" with p 0.5 among the rest: 0.5 of the remaining 20% is 10%).

    Shapes:
        input_ids, special_mask: (N, T); returns inputs (N, T) and labels (N, T).

    Args:
        input_ids: int64 token ids; not modified.
        special_mask: bool, True at [CLS], [SEP], [PAD]: never selected.
        vocab_size: V, for the random tokens.
        mask_id: the id of [MASK].
        generator: every random draw takes generator=generator (the same seed gives
            the same result).
        mlm_probability: the chance that an ordinary token is selected.

    Returns:
        (inputs, labels), both int64.

    Numerics:
        torch.bernoulli(probs, generator=g) and torch.randint(V, shape, generator=g);
        never the global RNG.

    Reference:
        transformers.DataCollatorForLanguageModeling.torch_mask_tokens; Devlin et al.
        2019, section 3.1 "Task #1: Masked LM".
    """
    raise NotImplementedError


class BertEmbeddings(nn.Module):
    """Word + position + segment embeddings, LayerNorm, dropout."""

    def __init__(self, config: dict):
        """Tables (vocab_size, E), (max_position_embeddings, E), (type_vocab_size, E);
        nn.LayerNorm(E, eps=config["layer_norm_eps"]); nn.Dropout(hidden_dropout_prob)."""
        raise NotImplementedError

    def forward(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The input vectors of the first encoder layer.

        Math:
            x = word[input_ids] + position[0, 1, ..., T-1] + token_type[token_type_ids];
            return dropout(LayerNorm(x)).

        Shapes:
            input_ids, token_type_ids: (N, T) int64; returns (N, T, E).

        Args:
            input_ids: token ids.
            token_type_ids: segment ids (0 for A, 1 for B); None means all 0.

        Returns:
            The embeddings, in the parameters' dtype.

        Numerics:
            Positions count from 0 in every row, padding included (BERT learned one
            vector per position 0..511).

        Reference:
            transformers.models.bert.modeling_bert.BertEmbeddings.
        """
        raise NotImplementedError


class BertLayer(nn.Module):
    """One post-LN encoder layer (the tests reach it only through BertModel)."""

    def __init__(self, config: dict):
        """query, key, value and attention-output Linears (E, E), two LayerNorms, the
        feed-forward Linears (E, intermediate_size) and back, dropouts."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        """Self-attention and the feed-forward network, each added back and normalised.

        Math:
            heads: q, k, v = query(x), key(x), value(x), split into H heads of d = E / H;
            a = softmax(q k^T / sqrt(d) + additive_mask) v, heads side by side again;
            x = LayerNorm(x + dropout(attn_out(a)))                 (post-LN)
            x = LayerNorm(x + dropout(ffn_out(gelu(ffn_in(x)))))    (exact erf GELU)

        Shapes:
            x: (N, T, E); additive_mask: (N, 1, 1, T), broadcast over heads and queries.

        Args:
            x: the previous layer's output.
            additive_mask: 0 for keys to attend to, a huge negative number for padding.

        Returns:
            (N, T, E).

        Numerics:
            Padding gets torch.finfo(x.dtype).min (transformers' choice) or -inf: after
            the softmax its weight is exactly 0. A 0/1 mask added as is hides nothing.

        Reference:
            transformers' BertLayer (BertAttention, BertIntermediate, BertOutput).
        """
        raise NotImplementedError


class BertModel(nn.Module):
    """BERT's encoder: embeddings, num_hidden_layers BertLayers, the pooler."""

    def __init__(self, config: dict):
        """self.embeddings = BertEmbeddings(config) (the tests call it), the layers, and
        the pooler, a Linear (E, E)."""
        raise NotImplementedError

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Contextual vectors for every token, and the pooled vector of each sequence.

        Math:
            x = embeddings(input_ids, token_type_ids);
            additive = 0 where attention_mask == 1, finfo.min where 0, shaped (N, 1, 1, T);
            x = layer(x, additive) for every layer;  pooled = tanh(pooler(x[:, 0])).

        Shapes:
            input_ids, token_type_ids, attention_mask: (N, T); returns (N, T, E), (N, E).

        Args:
            input_ids: token ids; token_type_ids: None means all 0;
            attention_mask: 1 = a real token, 0 = padding; None means all 1.

        Returns:
            (last_hidden_state, pooled): as transformers' BertModel's last_hidden_state
            and pooler_output.

        Numerics:
            Padded positions still get vectors (they attend to the real tokens); nothing
            attends to them. Works in float32 and, after .double(), in float64.

        Reference:
            transformers.BertModel; config keys as in its config.json: vocab_size,
            hidden_size (E), num_hidden_layers, num_attention_heads (H),
            intermediate_size, max_position_embeddings, type_vocab_size, layer_norm_eps,
            hidden_dropout_prob, attention_probs_dropout_prob.
        """
        raise NotImplementedError


def load_weights(model: BertModel, state_dict: dict[str, torch.Tensor]) -> BertModel:
    """Copy a BERT checkpoint into your model, renaming its tensors to your parameters.

    Math:
        The checkpoint's names (transformers' BertModel), for layer i = 0 .. L-1:
          embeddings.{word,position,token_type}_embeddings.weight
          embeddings.LayerNorm.{weight,bias}
          encoder.layer.i.attention.self.{query,key,value}.{weight,bias}
          encoder.layer.i.attention.output.dense.{weight,bias}      (attention output)
          encoder.layer.i.attention.output.LayerNorm.{weight,bias}
          encoder.layer.i.intermediate.dense.{weight,bias}          (E -> intermediate)
          encoder.layer.i.output.dense.{weight,bias}                (intermediate -> E)
          encoder.layer.i.output.LayerNorm.{weight,bias}
          pooler.dense.{weight,bias}
        Linear weights are stored (out, in), as nn.Linear's.

    Shapes:
        Each tensor has the shape of the parameter it fills.

    Args:
        model: your BertModel, in the dtype you want (values are converted).
        state_dict: {name: tensor}; names may start with "bert." (checkpoints of
            BertForPreTraining, BertForSequenceClassification...); skip
            embeddings.position_ids (a buffer 0..511, not a weight) and names that are
            not the encoder's (task heads: "cls.", "classifier.").

    Returns:
        model, every parameter overwritten.

    Numerics:
        Raise (KeyError, ValueError or RuntimeError) when a parameter of the model finds
        no tensor: a silently random weight is the worst bug. model.load_state_dict(...,
        strict=True) after renaming does all of this.

    Reference:
        transformers' PreTrainedModel.from_pretrained; safetensors.torch.load_file.
    """
    raise NotImplementedError


class BertClassifier(nn.Module):
    """BERT with a classification head: dropout and a Linear on the pooled [CLS] vector."""

    def __init__(self, config: dict, n_classes: int):
        """self.bert = BertModel(config); self.dropout (hidden_dropout_prob);
        self.classifier = nn.Linear(E, n_classes)."""
        raise NotImplementedError

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Class scores for each sequence.

        Math:
            _, pooled = bert(input_ids, token_type_ids, attention_mask);
            logits = classifier(dropout(pooled)).

        Shapes:
            (N, T) inputs -> (N, n_classes).

        Args:
            As BertModel.forward.

        Returns:
            Logits (no softmax: cross_entropy takes logits).

        Numerics:
            In eval mode dropout does nothing, so logits = pooled @ W^T + b exactly.

        Reference:
            transformers.BertForSequenceClassification.
        """
        raise NotImplementedError
