"""Oracles for the bert kata: Hugging Face tokenizers and transformers, live, in float64.

Tokenisation is compared with the `tokenizers` library (the Rust code behind every
"fast" BERT tokenizer) on the same vocabulary; the encoder with transformers' BertModel
holding the same weights. Written independently of the solution: a float64 functional
BERT here reproduces the slips learners make, so a test can name the mistake it sees.
transformers is imported only when a model is built (the import takes seconds).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from checker.datasets import DATASETS, DataError, cache_dir, check_file

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ENCODING_KEYS = ("input_ids", "token_type_ids", "attention_mask")
CHECKPOINT = "all-MiniLM-L6-v2"

# ----------------------------------------------------------------------------- checkpoint


@functools.cache
def checkpoint_dir() -> Path | None:
    """The folder of all-MiniLM-L6-v2 when every file is cached and intact, else None."""
    states = {f.path: check_file(f) for f in DATASETS[CHECKPOINT][1]}
    bad = {p: s for p, s in states.items() if s not in ("ok", "missing")}
    if bad:
        raise DataError(
            f"the cached {CHECKPOINT} is unusable ({'; '.join(f'{p}: {s}' for p, s in bad.items())}"
            f"). Run: python -m checker data {CHECKPOINT}"
        )
    return cache_dir() / CHECKPOINT if all(s == "ok" for s in states.values()) else None


# ----------------------------------------------------------------------------- tokenisation

# A handwritten vocabulary: specials, punctuation, single letters with and without "##",
# and longer pieces that make longest-match, "##" and accent mistakes visible.
TINY_VOCAB = (
    list(SPECIALS)
    + list(".,!?'-();:\"$%") + ["1", "2", "3", "北", "京"]
    + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    + ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    + "the un una unaff ##aff ##able ##ble ##ab run ##ning ##ing ##ed ##s cafe naive resume "
    "token ##izer ##izers hello world play want ##want wa state of art zurich sao paulo "
    "straße ##ße ο ##δ ##ος ##ο ##σ м ##о ##ск ##ва".split()
)  # fmt: skip


def tiny_vocab() -> dict[str, int]:
    return {tok: i for i, tok in enumerate(TINY_VOCAB)}


@functools.cache
def vocabularies() -> dict[str, dict[str, int]]:
    """{"tiny": the handwritten one, "MiniLM": vocab.txt when the checkpoint is cached}."""
    out = {"tiny": tiny_vocab()}
    folder = checkpoint_dir()
    if folder is not None:
        lines = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
        out["MiniLM"] = {tok: i for i, tok in enumerate(lines)}
    return out


@functools.cache
def _tokenizer(which: str, **flags):
    """A tokenizers.Tokenizer for a vocabulary: MiniLM's own tokenizer.json, or BERT's
    pipeline (BertNormalizer, BertPreTokenizer, WordPiece) on the tiny vocabulary; flags
    switch parts of the normalizer off, to reproduce a learner's slip."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    if which == "MiniLM" and not flags:
        tok = Tokenizer.from_file(str(checkpoint_dir() / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()  # the file pads to 128 and truncates: the tests ask for each
        return tok
    vocab = vocabularies()[which]
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    opts = {"clean_text": True, "handle_chinese_chars": True, "lowercase": True}
    tok.normalizer = normalizers.BertNormalizer(**{**opts, **flags})
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(
        ("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"])
    )
    return tok


def words(text: str, **flags) -> list[str]:
    """What BertNormalizer + BertPreTokenizer make of text (basic_tokenize's oracle)."""
    tok = _tokenizer("tiny", **flags)
    return [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text))]


def words_slips(text: str) -> dict[str, list[str]]:
    return {
        "accents kept (NFD, then drop the combining marks, category Mn)": words(
            text, strip_accents=False
        ),
        "not lowercased": words(text, lowercase=False, strip_accents=True),
        "control characters kept / whitespace not normalised": words(text, clean_text=False),
        "CJK ideographs not split into single-character words": words(
            text, handle_chinese_chars=False
        ),
        "punctuation not split off (whitespace split only)": (
            _tokenizer("tiny").normalizer.normalize_str(text).split()
        ),
    }


def wordpiece(word: str, which: str) -> list[str]:
    """tokenizers' WordPiece model on one (already basic-tokenized) word."""
    return [t.value for t in _tokenizer(which).model.tokenize(word)]


def wordpiece_slips(word: str, vocab: dict[str, int]) -> dict[str, list[str]]:
    """What the common WordPiece mistakes give for one word."""

    def greedy(order, prefix="##", unk_whole=True):
        out, start = [], 0
        while start < len(word):
            for end in order(start):
                piece = word[start:end] if start == 0 else prefix + word[start:end]
                if piece in vocab:
                    break
            else:
                if unk_whole:
                    return ["[UNK]"]
                out.append("[UNK]")
                start += 1
                continue
            out.append(piece)
            start = end
        return out

    longest = lambda s: range(len(word), s, -1)  # noqa: E731
    return {
        "shortest match first (grow the piece from one character)": greedy(
            lambda s: range(s + 1, len(word) + 1)
        ),
        'continuation pieces looked up without their "##" prefix': greedy(longest, prefix=""),
        "[UNK] for the unmatched character only, not for the whole word": greedy(
            longest, unk_whole=False
        ),
    }


def tokenize(text: str, which: str) -> list[str]:
    return _tokenizer(which).encode(text, add_special_tokens=False).tokens


def encode_slips(which: str, want: dict, text_b: str | None) -> dict[str, dict]:
    """{key: {label: what that slip gives}} for two-segment encodings."""
    if text_b is None:
        return {}
    sep = vocabularies()[which]["[SEP]"]
    ids = list(want["input_ids"])
    ids.remove(sep)  # the first [SEP], between the segments
    return {
        "input_ids": {"no [SEP] between the two segments": ids},
        "token_type_ids": {
            "segment B's token type 0 (B and its [SEP] take 1)": [0] * len(want["input_ids"])
        },
    }


def encode(which: str, text_a: str, text_b: str | None = None, max_len: int | None = None):
    """tokenizers' encoding as the kata's dict: ids, segment ids, attention mask."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(_tokenizer(which).to_str())  # a copy: settings change below
    if max_len is not None:
        tok.enable_truncation(max_len, strategy="longest_first")
        tok.enable_padding(length=max_len, pad_id=0, pad_type_id=0, pad_token="[PAD]")
    e = tok.encode(text_a, text_b) if text_b is not None else tok.encode(text_a)
    return {"input_ids": e.ids, "token_type_ids": e.type_ids, "attention_mask": e.attention_mask}


# ----------------------------------------------------------------------------- masked LM


def mlm_expectations(vocab_size: int) -> dict[str, float]:
    """P(what a selected token becomes): a random draw can hit [MASK] or the token itself."""
    r = 0.1 / vocab_size
    return {"[MASK]": 0.8 + r, "itself": 0.1 + r, "another token": 0.1 - 2 * r}


# ----------------------------------------------------------------------------- the encoder

TINY_CONFIG = {
    "vocab_size": 50,
    "hidden_size": 24,
    "num_hidden_layers": 2,
    "num_attention_heads": 3,
    "intermediate_size": 40,
    "max_position_embeddings": 20,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-3,  # not BERT's 1e-12 nor nn.LayerNorm's 1e-5: read the config
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "pad_token_id": 0,
}


def hf_model(config: dict, seed: int | None = None, dtype=torch.float64):
    """transformers.BertModel in eval mode: random weights of order 1 (seed), or, with
    seed None, the cached checkpoint's."""
    import transformers

    transformers.logging.set_verbosity_error()
    if seed is None:
        model = transformers.BertModel.from_pretrained(checkpoint_dir(), dtype=dtype)
        return model.eval()
    model = transformers.BertModel(transformers.BertConfig(**config)).to(dtype).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=dtype)
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.2 * noise)  # LayerNorm's gain, random: 1 would hide slips
            elif p.dim() == 1:
                p.copy_(0.2 * noise)
            else:
                p.copy_(noise / math.sqrt(p.shape[-1] if "embeddings" not in name else 1))
    return model


def hf_forward(model, ids, types=None, mask=None):
    """(last hidden states, pooled, embeddings) from transformers, without gradients."""
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
        emb = model.embeddings(input_ids=ids, token_type_ids=types)
    return out.last_hidden_state, out.pooler_output, emb


def functional(state, config, ids, types=None, mask=None, **slip):
    """BERT written out in float64 from a checkpoint's state_dict, with switchable slips:
    first_position=1, eps=..., no_types, gelu_tanh, no_scale, mask01, pre_ln, no_tanh.
    Returns (last hidden states, pooled, embeddings)."""
    W = {k: v.double() for k, v in state.items()}
    E, H = config["hidden_size"], config["num_attention_heads"]
    eps = slip.get("eps", config["layer_norm_eps"])
    N, T = ids.shape
    types = torch.zeros_like(ids) if types is None or slip.get("no_types") else types
    mask = torch.ones_like(ids) if mask is None else mask

    def ln(x, name):
        return F.layer_norm(x, (E,), W[name + ".weight"], W[name + ".bias"], eps)

    def lin(x, name):
        return x @ W[name + ".weight"].T + W[name + ".bias"]

    pos = torch.arange(T) + slip.get("first_position", 0)
    x = (
        W["embeddings.word_embeddings.weight"][ids]
        + W["embeddings.position_embeddings.weight"][pos]
    )
    x = ln(x + W["embeddings.token_type_embeddings.weight"][types], "embeddings.LayerNorm")
    emb = x
    if slip.get("mask01"):
        additive = mask[:, None, None, :].double()  # 1 added to the keys to keep
    else:
        additive = torch.where(mask[:, None, None, :] == 0, -torch.inf, 0.0).double()
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        pre = slip.get("pre_ln")
        h = ln(x, p + "attention.output.LayerNorm") if pre else x
        if slip.get("view_heads"):  # (N, T, E) read as (N, H, T, d): tokens mixed up
            split = lambda y: y.reshape(N, H, T, E // H)  # noqa: E731
        else:
            split = lambda y: y.view(N, T, H, E // H).transpose(1, 2)  # noqa: E731
        q, k, v = (split(lin(h, p + "attention.self." + n)) for n in ("query", "key", "value"))
        scale = 1.0 if slip.get("no_scale") else math.sqrt(E // H)
        a = ((q @ k.transpose(-1, -2)) / scale + additive).softmax(-1) @ v  # (N, H, T, d)
        a = lin(a.transpose(1, 2).reshape(N, T, E), p + "attention.output.dense")
        x = x + a if pre else ln(x + a, p + "attention.output.LayerNorm")
        h = ln(x, p + "output.LayerNorm") if pre else x
        h = F.gelu(
            lin(h, p + "intermediate.dense"),
            approximate="tanh" if slip.get("gelu_tanh") else "none",
        )
        h = lin(h, p + "output.dense")
        x = x + h if pre else ln(x + h, p + "output.LayerNorm")
    pooled = lin(x[:, 0], "pooler.dense")
    return x, (pooled if slip.get("no_tanh") else torch.tanh(pooled)), emb


SLIPS = {
    "position ids starting at 1, not 0": {"first_position": 1},
    "LayerNorm eps hard-coded to 1e-12 (read config['layer_norm_eps'])": {"eps": 1e-12},
    "LayerNorm eps 1e-5, nn.LayerNorm's default (read config['layer_norm_eps'])": {"eps": 1e-5},
    "token_type_ids ignored (segment embeddings never added)": {"no_types": True},
    "GELU's tanh approximation; BERT's checkpoints use the exact erf GELU": {"gelu_tanh": True},
    "attention scores not divided by sqrt(d_head)": {"no_scale": True},
    "the attention mask added as 0/1: padding keys still attended": {"mask01": True},
    "pre-LN (LayerNorm before each sublayer, GPT-2 style); BERT is post-LN": {"pre_ln": True},
    "the pooler without its tanh": {"no_tanh": True},
    "heads split with view(N, H, T, d): the heads need view(N, T, H, d).transpose(1, 2)": {
        "view_heads": True
    },
}


def slips(state, config, ids, types, mask, part: int, keep=None):
    """{label: what that slip gives} for one output (0 hidden, 1 pooled, 2 embeddings),
    computed only when asked for; None where the slip changes nothing (eps 1e-12 when the
    config says 1e-12). keep: a bool (N, T) mask of the positions compared."""
    correct = functools.cache(lambda: functional(state, config, ids, types, mask)[part])

    def slip(kw):
        out = functional(state, config, ids, types, mask, **kw)[part]
        if torch.allclose(out, correct(), rtol=1e-10, atol=1e-12):
            return None
        return out[keep] if keep is not None and part != 1 else out

    return {label: (lambda kw=kw: slip(kw)) for label, kw in SLIPS.items()}


def random_batch(rng: np.random.Generator, N: int, T: int, vocab_size: int):
    """Ids (N, T) starting with [CLS]-like id 1, segment ids, a padding mask (row 0 full)."""
    ids = torch.from_numpy(rng.integers(1, vocab_size, (N, T)))
    lengths = rng.integers(1, T + 1, N)
    lengths[0] = T
    mask = torch.from_numpy((np.arange(T)[None, :] < lengths[:, None]).astype(np.int64))
    split = rng.integers(1, lengths + 1)
    types = torch.from_numpy((np.arange(T)[None, :] >= split[:, None]).astype(np.int64)) * mask
    return ids * mask, types, mask  # padding ids are 0, [PAD]'s id


# ----------------------------------------------------------------------------- fine-tuning

TOPICS = {
    "sport": "football,tennis,basketball,the marathon,the goalkeeper,the referee,"
    "swimming,the tournament,cricket,the coach,hockey,the stadium",
    "food": "pasta,the soup,chocolate cake,the bakery,fresh bread,the chef,"
    "cheese,the restaurant,apple pie,the recipe,rice,the kitchen",
    "weather": "the rain,a thunderstorm,the snow,the forecast,strong wind,the sunshine,"
    "fog,a heatwave,the clouds,hail,the temperature,a hurricane",
    "technology": "the laptop,the software,a smartphone,the internet,the computer,an app,"
    "the processor,the website,the keyboard,the robot,the database,wifi",
}
TEMPLATES = (
    "{} was all anyone talked about yesterday.",
    "I read a long article about {}.",
    "Everyone had an opinion on {} this morning.",
    "My neighbour keeps complaining about {}.",
    "Honestly, {} surprised us again.",
    "Nobody expected {} to be like that.",
    "We spent the whole evening discussing {}.",
    "The news tonight was mostly about {}.",
    # held out: new sentences around new topic words
    "Have you heard what happened with {}?",
    "My sister sent me a message about {}.",
    "It is hard to ignore {} these days.",
    "There was a long queue because of {}.",
)


def topic_sentences() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(train, test): 4 topics; train uses 6 topic words x 8 templates (192 sentences),
    test 6 other words x 4 other templates (96): only what pretraining knows about the new
    words (hockey is a sport, hail is weather) can classify them."""
    train, test = [], []
    for label, topic_words in enumerate(TOPICS.values()):
        for i, word in enumerate(topic_words.split(",")):
            for j, template in enumerate(TEMPLATES):
                text = template.format(word)
                text = text[0].upper() + text[1:]
                if i < 6 and j < 8:
                    train.append((text, label))
                elif i >= 6 and j >= 8:
                    test.append((text, label))
    return train, test


def batch(encode, vocab, items):
    """Encode sentences with the learner's encode, pad to the longest: (ids, mask, labels)."""
    enc = [encode(text, vocab) for text, _ in items]
    T = max(len(e["input_ids"]) for e in enc)
    ids = torch.zeros((len(enc), T), dtype=torch.int64)
    mask = torch.zeros_like(ids)
    for row, e in enumerate(enc):
        ids[row, : len(e["input_ids"])] = torch.tensor(e["input_ids"])
        mask[row, : len(e["attention_mask"])] = torch.tensor(e["attention_mask"])
    return ids, mask, torch.tensor([label for _, label in items])


def fine_tune(model, encode, vocab, train, rng, epochs=1, batch_size=16, lr=1e-4):
    """AdamW on everything but the embeddings (frozen: half the optimizer's work, and 192
    sentences have nothing to teach them); returns the loss of every step."""
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(train))
        for start in range(0, len(train), batch_size):
            ids, mask, y = batch(
                encode, vocab, [train[i] for i in order[start : start + batch_size]]
            )
            loss = F.cross_entropy(model(ids, None, mask), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def accuracy(model, encode, vocab, items) -> float:
    model.eval()
    ids, mask, y = batch(encode, vocab, items)
    with torch.no_grad():
        return float((model(ids, None, mask).argmax(1) == y).double().mean())
