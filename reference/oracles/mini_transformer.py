"""Oracle for 05_transformers/mini_transformer: torch's own transformer modules in float64
with the kata's weights loaded, the sorting task, and the training loop written out.

Torch's modules run in train mode with dropout=0.0: the plain forward of
torch/nn/modules/transformer.py (in eval mode torch may take its fused inference path, a
different kernel). Masks follow nn.MultiheadAttention: a boolean True means BLOCKED.
The sinusoidal table is computed here in float64 as the PyTorch tutorial does (exp and log
of the frequencies), independently of the kata's formula.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

F64 = torch.float64
PAD, BOS, EOS = 0, 1, 2
DIGIT0 = 3  # the token of digit d is DIGIT0 + d
VOCAB = 13

# ----------------------------------------------------------------------------- pieces


def causal_mask(L: int) -> torch.Tensor:
    """torch's own causal mask, as a bool: True where generate_square_subsequent_mask is -inf."""
    return torch.isinf(nn.Transformer.generate_square_subsequent_mask(L, dtype=F64))


def sinusoidal(L: int, E: int, exponent: float = 2.0, swapped: bool = False) -> torch.Tensor:
    """(L, E) float64, the tutorial's PositionalEncoding table (odd E: the last column a sin).

    exponent=1 (base^(-i / E)) and swapped=True (cos in the even columns) are two slips."""
    position = torch.arange(L, dtype=F64)[:, None]
    two_i = torch.arange(0, E, 2, dtype=F64)
    div = torch.exp(two_i * (exponent / 2) * (-math.log(10000.0) / E))
    first, second = (torch.cos, torch.sin) if swapped else (torch.sin, torch.cos)
    pe = torch.zeros(L, E, dtype=F64)
    pe[:, 0::2] = first(position * div)
    pe[:, 1::2] = second(position * div[: E // 2])
    return pe


def _loaded(m, state: dict, what: str):
    """m with the kata's weights loaded by name (strict), in float64 train mode.

    A name that does not match raises AssertionError listing both sides' names."""
    __tracebackhide__ = True
    try:
        m.load_state_dict({k: v.detach().to(F64) for k, v in state.items()})
    except RuntimeError as err:
        detail = " ".join(line.strip() for line in str(err).splitlines()[1:])
        raise AssertionError(
            f"your {what}'s weights do not load into torch's {type(m).__name__}: {detail}\n"
            f"Yours: {sorted(state)}\nTorch's: {sorted(m.state_dict())}\n"
            "Use the attribute names of the docstring, so state_dict() names match torch's."
        ) from None
    return m.train()  # dropout is 0.0 anyway; train mode keeps torch's fused fast path out


def mha(state: dict, E: int, H: int, *, q_factor: float = 1.0) -> nn.MultiheadAttention:
    """nn.MultiheadAttention (batch first, float64) with the kata's weights loaded.

    q_factor multiplies W_q and b_q, hence every score: sqrt(d) reproduces the slip of not
    dividing by sqrt(d), sqrt(d / E) that of dividing by sqrt(E)."""
    __tracebackhide__ = True
    m = _loaded(nn.MultiheadAttention(E, H, dropout=0.0, batch_first=True, dtype=F64),
                state, "MultiHeadAttention")  # fmt: skip
    with torch.no_grad():
        m.in_proj_weight[:E] *= q_factor
        m.in_proj_bias[:E] *= q_factor
    return m


def attend(m: nn.MultiheadAttention, q, k, v, **masks):
    """(out, per-head weights (N, H, L, S)) of torch's module, without gradients."""
    with torch.no_grad():
        return m(q, k, v, need_weights=True, average_attn_weights=False, **masks)


def layer(state: dict, E: int, H: int, F_: int, decoder: bool, norm_first: bool):
    """nn.TransformerEncoderLayer / DecoderLayer, float64, dropout 0, weights loaded."""
    __tracebackhide__ = True
    cls = nn.TransformerDecoderLayer if decoder else nn.TransformerEncoderLayer
    m = cls(E, H, F_, dropout=0.0, batch_first=True, norm_first=norm_first, dtype=F64)
    return _loaded(m, state, "DecoderLayer" if decoder else "EncoderLayer")


@contextlib.contextmanager
def weights_of(attn: nn.MultiheadAttention):
    """Collects the per-head weights (N, H, L, S) of attn, which torch calls with
    need_weights=False inside its layers: a pre-hook asks for them, a hook keeps them."""
    seen: dict[str, torch.Tensor] = {}

    def ask(module, args, kwargs):
        return args, {**kwargs, "need_weights": True, "average_attn_weights": False}

    def keep(module, args, output):
        seen["weights"] = output[1]

    hooks = [attn.register_forward_pre_hook(ask, with_kwargs=True),
             attn.register_forward_hook(keep)]  # fmt: skip
    try:
        yield seen
    finally:
        for h in hooks:
            h.remove()


@torch.no_grad()
def decoder_layer(m, tgt, memory, memory_key_padding_mask=None, *, causal: bool = True):
    """(out, cross-attention weights (N, H, L, S)) of torch's decoder layer.

    causal=False reproduces a decoder whose self-attention sees the future."""
    with weights_of(m.multihead_attn) as seen:
        out = m(tgt, memory, tgt_mask=causal_mask(tgt.shape[1]) if causal else None,
                memory_key_padding_mask=memory_key_padding_mask)  # fmt: skip
    return out, seen["weights"]


_NAMES = (  # the kata's names -> nn.Transformer's
    ("encoder_layers.", "encoder.layers."),
    ("decoder_layers.", "decoder.layers."),
    ("encoder_norm.", "encoder.norm."),
    ("decoder_norm.", "decoder.norm."),
)


def transformer_state(model) -> dict:
    """The kata model's encoder and decoder weights under nn.Transformer's names."""
    out = {}
    for name, value in model.state_dict().items():
        for mine, theirs in _NAMES:
            if name.startswith(mine):
                out[theirs + name.removeprefix(mine)] = value.detach().to(F64)
    return out


def transformer(model, E: int, H: int, F_: int, n_enc: int, n_dec: int, norm_first: bool):
    """nn.Transformer in float64 with the kata model's layers and final norms loaded."""
    __tracebackhide__ = True
    with warnings.catch_warnings():  # nested tensors need post-norm; they are not used here
        warnings.simplefilter("ignore", UserWarning)
        m = nn.Transformer(E, H, n_enc, n_dec, F_, dropout=0.0, batch_first=True,
                           norm_first=norm_first, dtype=F64)  # fmt: skip
    return _loaded(m, transformer_state(model), "Seq2SeqTransformer")


def n_parameters(V: int, E: int, H: int, F_: int, n_enc: int, n_dec: int) -> int:
    """nn.Transformer's parameter count, plus two (V, E) embeddings and a (V, E) + V generator."""
    m = nn.Transformer(E, H, n_enc, n_dec, F_, dropout=0.0, batch_first=True)
    return sum(p.numel() for p in m.parameters()) + 3 * V * E + V


def embed(model, tokens, which: str) -> torch.Tensor:
    """F.embedding with the kata's table, times sqrt(E), plus the model's pe buffer: float64."""
    table = getattr(model, which).embedding.weight.detach().to(F64)
    E = table.shape[1]
    return F.embedding(tokens, table) * math.sqrt(E) + model.pos.pe[: tokens.shape[1]].to(F64)


@torch.no_grad()
def forward(model, src, tgt_in, dims: dict, *, causal: bool = True):
    """(logits (N, L, V), the last decoder layer's cross-attention (N, H, L, S)) in float64:
    nn.Transformer with the model's weights. causal=False: a decoder that sees the future."""
    __tracebackhide__ = True
    net = transformer(model, dims["E"], dims["H"], dims["F"], dims["n_enc"], dims["n_dec"],
                      dims["norm_first"])  # fmt: skip
    pad = src == model.pad_id
    L = tgt_in.shape[1]
    with weights_of(net.decoder.layers[-1].multihead_attn) as seen:
        out = net(embed(model, src, "src_embed"), embed(model, tgt_in, "tgt_embed"),
                  tgt_mask=causal_mask(L) if causal else None,
                  src_key_padding_mask=pad, memory_key_padding_mask=pad)  # fmt: skip
    gen = model.generator
    return F.linear(out, gen.weight.detach().to(F64), gen.bias.detach().to(F64)), seen["weights"]


def gradients(model, src, tgt_in, target, dims: dict) -> dict[str, torch.Tensor]:
    """d cross_entropy(logits, target) / d every parameter, under the kata's names: torch's
    nn.Transformer and F.embedding / F.linear with the model's weights, float64 autograd."""
    net = transformer(model, dims["E"], dims["H"], dims["F"], dims["n_enc"], dims["n_dec"],
                      dims["norm_first"])  # fmt: skip
    leaves = {name: p.detach().to(F64).clone().requires_grad_()
              for name, p in model.named_parameters()
              if name.split(".")[0] in ("src_embed", "tgt_embed", "generator")}  # fmt: skip
    E, pe = dims["E"], model.pos.pe.detach().to(F64)
    scale = math.sqrt(E)
    x = F.embedding(src, leaves["src_embed.embedding.weight"]) * scale + pe[: src.shape[1]]
    y = F.embedding(tgt_in, leaves["tgt_embed.embedding.weight"]) * scale + pe[: tgt_in.shape[1]]
    pad = src == model.pad_id
    out = net(x, y, tgt_mask=causal_mask(tgt_in.shape[1]), src_key_padding_mask=pad,
              memory_key_padding_mask=pad)  # fmt: skip
    logits = F.linear(out, leaves["generator.weight"], leaves["generator.bias"])
    F.cross_entropy(logits.flatten(0, 1), target.flatten()).backward()
    grads = {name: leaf.grad for name, leaf in leaves.items()}
    theirs = dict(net.named_parameters())
    for name in dict(model.named_parameters()):
        for prefix, torch_prefix in _NAMES:
            if name.startswith(prefix):
                grads[name] = theirs[torch_prefix + name.removeprefix(prefix)].grad
    return grads


class Scripted(nn.Module):
    """A stand-in model for greedy decoding, whose next token is a known function of the
    source and of EVERY token fed in so far: a decoder that does not feed its predictions
    back, or reads the wrong step, gives other tokens.

    At step t: next token = (sum of the source's digits + t^2 + sum(tgt_in[:, :t + 1])) % V.
    The cross-attention weights put 1 on source position t % S (per head alike).
    """

    def __init__(self, nhead: int = 2, pad_id: int = PAD):
        super().__init__()
        self.nhead, self.pad_id = nhead, pad_id

    def encode(self, src):
        return F.one_hot(src, VOCAB).to(F64)  # (N, S, V): the memory is the source itself

    def decode(self, tgt_in, memory, memory_key_padding_mask=None):
        N, L = tgt_in.shape
        S = memory.shape[1]
        digits = memory.argmax(-1).clamp(min=DIGIT0) - DIGIT0  # (N, S), PAD counts as 0
        offset = digits.sum(1, keepdim=True) + torch.arange(L) ** 2  # (N, L)
        nxt = (offset + tgt_in.cumsum(1)) % VOCAB  # (N, L): causal, step t sees tgt_in[:, :t+1]
        logits = 4.0 * F.one_hot(nxt, VOCAB).to(F64)  # (N, L, V)
        weights = F.one_hot(torch.arange(L) % S, S).to(F64).expand(N, self.nhead, L, S)
        return logits, weights

    def forward(self, src, tgt_in):
        return self.decode(tgt_in, self.encode(src), src == self.pad_id)


# ----------------------------------------------------------------------------- the task


def make_sorting(n: int, generator: torch.Generator, min_len: int = 1, max_len: int = 8):
    """n random digit strings and their sorted versions.

    Returns src (n, max_len) int64: the digits then PAD; tgt (n, max_len + 1) int64: the
    digits in ascending order, then EOS, then PAD.
    """
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=generator)
    digits = torch.randint(0, 10, (n, max_len), generator=generator)
    real = torch.arange(max_len)[None, :] < lengths[:, None]  # (n, max_len)
    src = torch.where(real, digits + DIGIT0, PAD)
    # pads sort last when they count as +inf: the sorted real digits come first
    ordered = torch.where(real, digits, 99).sort(dim=1).values
    tgt = torch.full((n, max_len + 1), PAD, dtype=torch.int64)
    tgt[:, :max_len] = torch.where(real, ordered + DIGIT0, PAD)
    tgt[torch.arange(n), lengths] = EOS
    return src, tgt


def as_text(tokens) -> list[str]:
    """Token ids as labels: digits, '<s>', '</s>', '_' for PAD."""
    names = {PAD: "_", BOS: "<s>", EOS: "</s>"}
    return [names.get(int(t), str(int(t) - DIGIT0)) for t in tokens]


def sequence_accuracy(pred, tgt) -> float:
    """Rows whose every real target token, EOS included, was predicted (PAD ignored)."""
    return float(((pred == tgt) | (tgt == PAD)).all(dim=1).double().mean())


def train(model, src, tgt, *, steps, batch_size, lr, warmup, generator, slip=None):
    """The kata's training loop written out: every step's loss (the model is changed).

    slip: "unshifted" (teacher forcing reads the target itself), "no zero_grad"
    (gradients pile up), "no schedule" (a constant learning rate): three known mistakes."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, (steps - s) / (steps - warmup))
    )
    model.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(src), (batch_size,), generator=generator)
        t = tgt[idx]
        bos = torch.full_like(t[:, :1], BOS)
        tgt_in = t if slip == "unshifted" else torch.cat([bos, t[:, :-1]], dim=1)
        logits, _ = model(src[idx], tgt_in)
        loss = F.cross_entropy(logits.flatten(0, 1), t.flatten(), ignore_index=PAD)
        if slip != "no zero_grad":
            opt.zero_grad()
        loss.backward()
        opt.step()
        if slip != "no schedule":
            sched.step()
        losses.append(loss.item())
    return losses


def plot_attention(weights, src_labels, out_labels, path):
    """The (L, S) attention weights as an image: rows output steps, columns source tokens."""
    from matplotlib.figure import Figure  # no pyplot: no display, no global state

    fig = Figure(figsize=(0.5 * len(src_labels) + 2, 0.5 * len(out_labels) + 1.5))
    ax = fig.add_subplot()
    image = ax.imshow(np.asarray(weights, dtype=float), cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(src_labels)), src_labels)
    ax.set_yticks(range(len(out_labels)), out_labels)
    ax.set_xlabel("source token")
    ax.set_ylabel("output step")
    ax.set_title("last decoder layer's cross-attention\n(mean over heads)", fontsize=10)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return fig
