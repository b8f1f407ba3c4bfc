"""BERT: WordPiece tokenisation, masked-LM masking, the encoder, loading a checkpoint (reference).

References: Devlin et al. 2019, "BERT" (sections 3.1 and A.1); google-research/bert's
tokenization.py; Hugging Face tokenizers' BertNormalizer, BertPreTokenizer and WordPiece;
transformers' modeling_bert.py and DataCollatorForLanguageModeling.
"""

import math
import re
import unicodedata

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------- tokenisation

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Unicode's CJK ideograph blocks, as in Google's BERT (tokenizers 0.23 starts the sixth
# at 0x2B920, a typo).
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


def load_vocab(path):
    """Read vocab.txt: one token a line, its id is its line number (from 0)."""
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}


def _is_punctuation(ch):
    # Every ASCII non-letter non-digit printable counts ($, +, ^ too), as in BERT.
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokenize(text):
    """Clean, split CJK, strip accents, lowercase, split on whitespace and punctuation."""
    # 1. Clean: drop NUL, U+FFFD and control characters; every kind of space becomes " ".
    chars = []
    for ch in text:
        if ch in "\t\n\r":  # control characters by category, but they separate words
            chars.append(" ")
        elif ch in "\x00\ufffd" or unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs"):
            continue  # unassigned code points (Cn) stay: tokenizers keeps them
        elif ch.isspace():
            chars.append(" ")
        else:
            chars.append(ch)
    # 2. Each CJK ideograph is a word of its own (Chinese has no spaces between words).
    text = "".join(
        f" {ch} " if any(lo <= ord(ch) <= hi for lo, hi in CJK_RANGES) else ch for ch in chars
    )
    # 3. Strip accents (decompose, drop the combining marks), then lowercase.
    text = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )
    text = "".join(ch.lower() for ch in text)  # char by char: no Greek final-sigma rule
    # 4. Split on whitespace; every punctuation character is a token of its own.
    return [t for word in text.split() for t in _split_punctuation(word)]


def _split_punctuation(word):
    out, current = [], ""
    for ch in word:
        if _is_punctuation(ch):
            if current:
                out.append(current)
            out.append(ch)
            current = ""
        else:
            current += ch
    return out + ([current] if current else [])


def wordpiece(word, vocab, max_chars=100):
    """Greedy longest-match-first split of one word into vocabulary pieces."""
    if len(word) > max_chars:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        # The longest piece in the vocabulary that starts here; inside a word it has "##".
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
        else:
            return ["[UNK]"]  # some position matches nothing: the whole word is unknown
        pieces.append(piece)
        start = end
    return pieces


def tokenize(text, vocab):
    """basic_tokenize, then wordpiece on every word."""
    return [piece for word in basic_tokenize(text) for piece in wordpiece(word, vocab)]


def encode(text_a, vocab, text_b=None, max_len=None):
    """[CLS] A [SEP] (B [SEP]) as ids, with segment ids and the attention mask."""
    a = [vocab[t] for t in tokenize(text_a, vocab)]
    b = [vocab[t] for t in tokenize(text_b, vocab)] if text_b is not None else None
    if max_len is not None:
        room = max_len - (3 if b is not None else 2)  # what the special tokens leave
        if room < 0:
            raise ValueError(f"max_len={max_len} leaves no room for the special tokens")
        if b is None:
            a = a[:room]
        elif len(a) + len(b) > room:
            # Longest first: the shorter segment (A on a tie) keeps up to half the room.
            if len(a) <= len(b):
                keep_a = min(len(a), room // 2)
                keep_b = room - keep_a
            else:
                keep_b = min(len(b), room // 2)
                keep_a = room - keep_b
            a, b = a[:keep_a], b[:keep_b]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    ids = [cls] + a + [sep]
    types = [0] * len(ids)
    if b is not None:
        ids += b + [sep]
        types += [1] * (len(b) + 1)
    mask = [1] * len(ids)
    if max_len is not None:
        pad = max_len - len(ids)
        ids += [vocab["[PAD]"]] * pad
        types += [0] * pad
        mask += [0] * pad
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


# ----------------------------------------------------------------------------- masked LM


def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, mlm_probability=0.15):
    """BERT's masked-LM corruption: pick 15% of the ordinary tokens, then 80/10/10."""
    # 1. Select each ordinary token with probability p; special tokens never.
    prob = torch.full(input_ids.shape, mlm_probability)
    prob = prob.masked_fill(special_mask, 0.0)
    selected = torch.bernoulli(prob, generator=generator).bool()  # (N, T)
    labels = torch.where(selected, input_ids, -100)  # the loss only looks at selected tokens
    # 2. 80% of the selected become [MASK].
    replaced = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool()
    replaced &= selected
    # 3. Half of the remaining 20% (10% of the selected) become a random token.
    randomised = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool()
    randomised &= selected & ~replaced
    random_ids = torch.randint(vocab_size, input_ids.shape, generator=generator)
    # 4. The last 10% stay as they are (the model must not learn "unmasked = correct").
    inputs = torch.where(replaced, mask_id, input_ids)
    inputs = torch.where(randomised, random_ids, inputs)
    return inputs, labels


# ----------------------------------------------------------------------------- the encoder


class BertEmbeddings(nn.Module):
    """word + position + segment embeddings, then LayerNorm and dropout."""

    def __init__(self, config):
        super().__init__()
        E = config["hidden_size"]
        self.word = nn.Embedding(config["vocab_size"], E)
        self.position = nn.Embedding(config["max_position_embeddings"], E)
        self.token_type = nn.Embedding(config["type_vocab_size"], E)
        self.norm = nn.LayerNorm(E, eps=config["layer_norm_eps"])
        self.dropout = nn.Dropout(config.get("hidden_dropout_prob", 0.0))

    def forward(self, input_ids, token_type_ids=None):
        """(N, T) ids -> (N, T, E) vectors."""
        T = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        positions = torch.arange(T, device=input_ids.device)  # 0 .. T-1, the same for every row
        x = self.word(input_ids) + self.position(positions) + self.token_type(token_type_ids)
        return self.dropout(self.norm(x))


class BertLayer(nn.Module):
    """Post-LN encoder layer: x = LN(x + attention(x)); x = LN(x + FFN(x))."""

    def __init__(self, config):
        super().__init__()
        E, H = config["hidden_size"], config["num_attention_heads"]
        eps, p = config["layer_norm_eps"], config.get("hidden_dropout_prob", 0.0)
        self.num_heads = H
        self.query, self.key, self.value = nn.Linear(E, E), nn.Linear(E, E), nn.Linear(E, E)
        self.attn_out = nn.Linear(E, E)
        self.attn_norm = nn.LayerNorm(E, eps=eps)
        self.ffn_in = nn.Linear(E, config["intermediate_size"])
        self.ffn_out = nn.Linear(config["intermediate_size"], E)
        self.ffn_norm = nn.LayerNorm(E, eps=eps)
        self.attn_dropout = nn.Dropout(config.get("attention_probs_dropout_prob", 0.0))
        self.dropout = nn.Dropout(p)

    def split(self, x):
        N, T, E = x.shape
        return x.view(N, T, self.num_heads, E // self.num_heads).transpose(1, 2)  # (N, H, T, d)

    def forward(self, x, additive_mask):
        N, T, E = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(E // self.num_heads)  # (N, H, T, T)
        scores = scores + additive_mask  # (N, 1, 1, T): padding keys get a huge negative
        probs = self.attn_dropout(scores.softmax(dim=-1))
        context = (probs @ v).transpose(1, 2).reshape(N, T, E)  # heads side by side again
        x = self.attn_norm(x + self.dropout(self.attn_out(context)))
        h = F.gelu(self.ffn_in(x))  # the exact, erf-based GELU
        return self.ffn_norm(x + self.dropout(self.ffn_out(h)))


class BertModel(nn.Module):
    """Embeddings, a stack of post-LN encoder layers, and the pooler on [CLS]."""

    def __init__(self, config):
        super().__init__()
        E = config["hidden_size"]
        self.embeddings = BertEmbeddings(config)
        self.layers = nn.ModuleList(BertLayer(config) for _ in range(config["num_hidden_layers"]))
        self.pooler = nn.Linear(E, E)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        """(N, T) ids -> (last hidden states (N, T, E), pooled [CLS] (N, E))."""
        x = self.embeddings(input_ids, token_type_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        # 1 = attend, 0 = padding -> 0 or the most negative float, added to the scores.
        blocked = attention_mask[:, None, None, :] == 0  # (N, 1, 1, T)
        additive = torch.zeros(blocked.shape, dtype=x.dtype).masked_fill(
            blocked, torch.finfo(x.dtype).min
        )
        for layer in self.layers:
            x = layer(x, additive)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


# Checkpoint names (transformers' BertModel) -> this module's names, for one layer and the rest.
LAYER_NAMES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attn_out",
    "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "ffn_in",
    "output.dense": "ffn_out",
    "output.LayerNorm": "ffn_norm",
}
OTHER_NAMES = {
    "embeddings.word_embeddings": "embeddings.word",
    "embeddings.position_embeddings": "embeddings.position",
    "embeddings.token_type_embeddings": "embeddings.token_type",
    "embeddings.LayerNorm": "embeddings.norm",
    "pooler.dense": "pooler",
}


def our_name(name):
    """'encoder.layer.3.attention.self.query.weight' -> 'layers.3.query.weight'."""
    module, param = name.rsplit(".", 1)  # param: weight or bias
    if match := re.fullmatch(r"encoder\.layer\.(\d+)\.(.+)", module):
        return f"layers.{match[1]}.{LAYER_NAMES[match[2]]}.{param}"
    return f"{OTHER_NAMES[module]}.{param}"


def load_weights(model, state_dict):
    """Copy a BertModel checkpoint into model, renaming; fails on anything missing."""
    ours = {}
    for name, tensor in state_dict.items():
        name = name.removeprefix("bert.")  # checkpoints of BertFor... wrap the encoder
        if name == "embeddings.position_ids" or not name.startswith(
            ("embeddings.", "encoder.", "pooler.")
        ):
            continue  # a buffer (0, 1, 2, ...) and task heads: not weights of this model
        ours[our_name(name)] = tensor
    model.load_state_dict(ours, strict=True)  # raises on a missing or unexpected name
    return model


class BertClassifier(nn.Module):
    """BERT with a linear classifier on the pooled [CLS] vector."""

    def __init__(self, config, n_classes):
        super().__init__()
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(config.get("hidden_dropout_prob", 0.0))
        self.classifier = nn.Linear(config["hidden_size"], n_classes)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        """(N, T) ids -> (N, n_classes) logits."""
        _, pooled = self.bert(input_ids, token_type_ids, attention_mask)
        return self.classifier(self.dropout(pooled))
