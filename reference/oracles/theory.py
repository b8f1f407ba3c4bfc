"""Oracle for 05_transformers/theory: counts taken from torch modules, not from formulas.

Parameters: sum(p.numel()) of nn.MultiheadAttention / nn.TransformerEncoderLayer /
nn.TransformerDecoderLayer built on the meta device (no memory, no init cost).

Multiply-adds: the modules run on small CPU inputs under a dispatch mode that sees every
aten op and prices it with torch.utils.flop_counter's own table (flop_registry: the
formulas FlopCounterMode uses). What that table prices, on torch 2.13: mm, addmm, bmm,
baddbmm, convolutions and the fused GPU attention kernels, at 2 FLOPs per multiply-add.
What it prices at 0: softmax, the 1/sqrt(d) scaling, bias adds (addmm's bias too), layer
norms, activations, residual adds and the mean over heads. So MACs = FLOPs / 2 of the
matmuls. Two details found by experiment:
- The CPU's fused attention kernel (aten._scaled_dot_product_flash_attention_for_cpu,
  which nn.TransformerEncoderLayer reaches with need_weights=False) is not in the table:
  FlopCounterMode counts 0 for it. The oracle forces SDPBackend.MATH, which runs the same
  two products as bmm calls, which the table prices.
- FlopCounterMode itself imports torch._dynamo on its first op (1.2 to 4 s on a loaded
  2-core machine, more than this kata's tests take); this
  mode opts out of that (_should_skip_dynamo, as torch's own docstring shows) and counted
  the same numbers as FlopCounterMode on every module used here when the kata was written.

Attention memory: the nbytes of the weights nn.MultiheadAttention returns with
average_attn_weights=False, in the requested dtype.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

MATMULS_OVER_L_S = ("bmm", "baddbmm")  # the attention matrix's two products


class MatmulLog(TorchDispatchMode):
    """Records (part, op, input shapes, FLOPs) for every op flop_registry prices."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:  # nothing is compiled here: no torch._dynamo import
        return False

    def __init__(self) -> None:
        super().__init__()
        self.part = ""  # set by forward pre-hooks: which sublayer is running
        self.events: list[tuple[str, str, str, int]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        name = func._overloadpacket.__name__
        if formula is not None:
            operands = args[1:3] if name in ("addmm", "baddbmm") else args[:2]  # not the bias
            shapes = " @ ".join(str(tuple(a.shape)) for a in operands)
            self.events.append(
                (self.part, name, shapes, int(formula(*args, **kwargs, out_val=out)))
            )
        elif "attention" in name:  # a fused kernel the table misses would count 0: refuse
            raise RuntimeError(f"{name} is not priced by flop_registry; force SDPBackend.MATH")
        return out


TORCH_NAME = {
    "attention_params": "MultiheadAttention",
    "encoder_layer_params": "TransformerEncoderLayer",
    "decoder_layer_params": "TransformerDecoderLayer",
}


def shown(fn: str, args, kw) -> str:
    """'fn(1, 2, bias=False)'."""
    return f"{fn}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kw.items())])})"


def module_call(fn: str, *args, **kw) -> str:
    """The torch module a count comes from, as a call: nn.MultiheadAttention takes E and
    nhead by position (its third is dropout), the layers E, nhead and dim_feedforward."""
    named = list(inspect.signature(globals()[fn]).bind(*args, **kw).arguments.items())
    at = 2 if fn == "attention_params" else 3
    return shown(TORCH_NAME[fn], [v for _, v in named[:at]], dict(named[at:]))


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def head_dim(E: int, nhead: int) -> int:
    return nn.MultiheadAttention(E, nhead, device="meta").head_dim


def refuses(E: int, nhead: int) -> bool:
    """True when torch refuses nhead heads over E features."""
    try:
        nn.MultiheadAttention(E, nhead, device="meta")
    except AssertionError:  # torch 2.13: "embed_dim must be divisible by num_heads"
        return True
    except ValueError:  # nhead < 1: "embed_dim and num_heads must be greater than 0"
        return True
    return False


def attention_params(E, nhead, bias=True, kdim=None, vdim=None) -> int:
    return _count(nn.MultiheadAttention(E, nhead, bias=bias, kdim=kdim, vdim=vdim, device="meta"))


def encoder_layer_params(E, nhead, dim_feedforward, bias=True) -> int:
    return _count(nn.TransformerEncoderLayer(E, nhead, dim_feedforward, bias=bias, device="meta"))


def decoder_layer_params(E, nhead, dim_feedforward, bias=True) -> int:
    return _count(nn.TransformerDecoderLayer(E, nhead, dim_feedforward, bias=bias, device="meta"))


def _macs(flops: int) -> int:
    assert flops % 2 == 0, "a matmul is 2 FLOPs per multiply-add"
    return flops // 2


def attention_log(N, L, S, E, nhead, kdim=None, vdim=None) -> list[tuple[str, str, str, int]]:
    """The matmuls of nn.MultiheadAttention(query (N, L, E), key (N, S, kdim), value (N, S, vdim)),
    need_weights=True (its explicit path: bmm, softmax, bmm). Self-attention (L == S, no
    kdim/vdim) passes one tensor three times, so torch packs W_q, W_k, W_v in one mm."""
    mha = nn.MultiheadAttention(E, nhead, kdim=kdim, vdim=vdim, batch_first=True)
    query = torch.zeros(N, L, E)
    if L == S and kdim is None and vdim is None:
        key = value = query
    else:
        key, value = torch.zeros(N, S, kdim or E), torch.zeros(N, S, vdim or E)
    with torch.no_grad(), MatmulLog() as log:
        mha(query, key, value, need_weights=True, average_attn_weights=False)
    return log.events


def attention_macs(N, L, S, E, nhead, kdim=None, vdim=None) -> tuple[dict[str, int], dict]:
    """({part: MACs}, {part: the matmuls torch ran for it}): the two bmm calls are the
    scores and the weighted sum; before them the in-projection, after them out_proj."""
    events = attention_log(N, L, S, E, nhead, kdim, vdim)
    at = [i for i, e in enumerate(events) if e[1] in MATMULS_OVER_L_S]
    assert len(at) == 2, f"expected two bmm calls, torch ran {events}"
    parts = {"in_projection": events[: at[0]], "scores": [events[at[0]]],
             "weighted_sum": [events[at[1]]], "out_projection": events[at[1] + 1 :]}  # fmt: skip
    macs = {k: _macs(sum(e[3] for e in v)) for k, v in parts.items()}
    how = {k: " + ".join(f"{e[1]} {e[2]}" for e in v) for k, v in parts.items()}
    return macs, how


def encoder_layer_macs(N, L, E, nhead, dim_feedforward) -> tuple[dict[str, int], dict]:
    """({part: MACs}, {part: its matmuls}) of nn.TransformerEncoderLayer (train mode,
    dropout 0: the plain path) on (N, L, E); forward pre-hooks say which part runs."""
    layer = nn.TransformerEncoderLayer(E, nhead, dim_feedforward, dropout=0.0, batch_first=True)
    log = MatmulLog()
    for name, part in (("self_attn", "self_attention"), ("linear1", "feed_forward")):
        getattr(layer, name).register_forward_pre_hook(lambda *_, p=part: setattr(log, "part", p))
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), log:
        layer(torch.zeros(N, L, E))
    parts = {p: [e for e in log.events if e[0] == p] for p in ("self_attention", "feed_forward")}
    assert sum(map(len, parts.values())) == len(log.events)
    macs = {k: _macs(sum(e[3] for e in v)) for k, v in parts.items()}
    how = {k: " + ".join(f"{e[1]} {e[2]}" for e in v) for k, v in parts.items()}
    return macs, how


TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


def attention_matrix_bytes(N, nhead, L, S, dtype) -> int:
    """weights.nbytes of nn.MultiheadAttention(..., average_attn_weights=False): (N, h, L, S)."""
    dt = TORCH_DTYPES[np.dtype(dtype).name]
    E = nhead  # one feature per head: the weights' size does not depend on E
    mha = nn.MultiheadAttention(E, nhead, batch_first=True, dtype=dt)
    with torch.no_grad():
        _, weights = mha(torch.zeros(N, L, E, dtype=dt), torch.zeros(N, S, E, dtype=dt),
                         torch.zeros(N, S, E, dtype=dt), average_attn_weights=False)  # fmt: skip
    assert weights.shape == (N, nhead, L, S)
    return weights.nbytes


def crossover_length(E, dim_feedforward=0) -> int:
    """Torch's counts at L = 1 (S = L): the weight matmuls cost a L, the two L x L products
    b L^2; they cost the same at L = a / b. dim_feedforward=0: attention alone."""
    if dim_feedforward:
        layer = nn.TransformerEncoderLayer(E, 1, dim_feedforward, dropout=0.0, batch_first=True)
        run = lambda x: layer(x)  # noqa: E731
    else:
        mha = nn.MultiheadAttention(E, 1, batch_first=True)
        run = lambda x: mha(x, x, x, need_weights=False)  # noqa: E731
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), MatmulLog() as log:
        run(torch.zeros(1, 1, E))
    quadratic = sum(e[3] for e in log.events if e[1] in MATMULS_OVER_L_S)
    linear = sum(e[3] for e in log.events if e[1] not in MATMULS_OVER_L_S)
    assert linear % quadratic == 0
    return linear // quadratic


# ----------------------------------------------------------------------------- slips


def attention_param_slips(E, nhead, bias=True, kdim=None, vdim=None) -> dict[str, int]:
    """{mistake: the count it gives}, each derived from torch's own counts."""
    right = attention_params(E, nhead, bias, kdim, vdim)
    k, v = kdim or E, vdim or E
    return {
        "the biases forgotten (in_proj_bias 3E and out_proj.bias E)": attention_params(
            E, nhead, False, kdim, vdim),
        "the in-projection counted as one E x E matrix; it is three (W_q, W_k, W_v)":
            right - E * k - E * v,
        "only out_proj's bias counted; in_proj_bias holds 3E more": right - 3 * E * bias,
        "kdim / vdim ignored: W_k is (E, kdim) and W_v is (E, vdim)": attention_params(
            E, nhead, bias),
        "a weight matrix per head: the heads split E, they add no parameters": right
        + (nhead - 1) * (right - 4 * E * bias),
    }  # fmt: skip


def layer_param_slips(E, nhead, F, bias=True, decoder=False) -> dict[str, int]:
    count = decoder_layer_params if decoder else encoder_layer_params
    right = count(E, nhead, F, bias)
    n_norms = 3 if decoder else 2
    return {
        "the layer norms forgotten (gamma and beta: 2E each)": right - n_norms * E * (1 + bias),
        "bias=False still counted the LayerNorms' beta (LayerNorm(bias=False) has none)":
            right + n_norms * E * (not bias),
        "bias=False also dropped the LayerNorms' gamma (only the biases go)": right - n_norms
        * E * (not bias),
        "the feed-forward counted as one E x F matrix; it is two (E -> F -> E)": right - E * F,
        "the feed-forward biases forgotten (F + E)": right - (F + E) * bias,
        "two layer norms in a decoder layer; it has three": right - E * (1 + bias) * decoder,
        "the cross-attention forgotten": right - attention_params(E, nhead, bias) * decoder,
    }  # fmt: skip


def attention_mac_slips(N, L, S, E, nhead, kdim=None, vdim=None) -> dict[str, dict[str, int]]:
    """{part: {mistake: the MACs it gives for that part}}."""
    k, v = kdim or E, vdim or E
    return {
        "in_projection": {
            "one E x E projection counted; there are three (q, k and v)": N * L * E * E,
            "keys and values projected over L tokens; there are S of them": N * L * E * (E + k + v),
            "kdim / vdim ignored: the keys and values enter with kdim and vdim features":
                N * (L + 2 * S) * E * E,
        },
        "scores": {
            "one head's (L, S, E / nhead) product counted, not all nhead of them":
                N * L * S * (E // nhead),
            "per head over all E features: the heads split E": N * nhead * L * S * E,
            "L x L scores; cross-attention compares L queries with S keys": N * L * L * E,
        },
        "weighted_sum": {
            "one head's (L, S, E / nhead) product counted, not all nhead of them":
                N * L * S * (E // nhead),
        },
        "out_projection": {"W_o counted over S tokens; it maps the L outputs": N * S * E * E},
    }  # fmt: skip


def layer_mac_slips(N, L, E, nhead, F) -> dict[str, dict[str, int]]:
    attn = N * L * (4 * E * E + 2 * L * E)
    return {
        "self_attention": {
            "only the scores counted as L x L; the weighted sum is a second product":
                attn - N * L * L * E,
            "the projections forgotten: W_q, W_k, W_v and W_o cost 4 L E^2": 2 * N * L * L * E,
        },
        "feed_forward": {
            "one E x F product counted; the feed-forward has two (E -> F, F -> E)": N * L * E * F,
            "F x F for the second linear; it maps F back to E": N * L * (E * F + F * F),
        },
    }  # fmt: skip


def bytes_slips(N, nhead, L, S, dtype) -> dict[str, int]:
    size = np.dtype(dtype).itemsize
    return {
        "L x L: cross-attention's matrix is L x S": N * nhead * L * L * size,
        "elements counted, not bytes (times the dtype's itemsize)": N * nhead * L * S,
        "one matrix for all heads (the averaged weights); each head has its own": N * L * S * size,
        "bits, not bytes": N * nhead * L * S * size * 8,
    }


def crossover_slips(E, F) -> dict[str, int]:
    return {
        "only the scores Q K^T counted as quadratic; P V is a second L x L product": 4 * E + 2 * F,
        "the feed-forward counted as one E x F matrix; it is two": 2 * E + F // 2,
        "only W_q, W_k, W_v counted; W_o is a fourth E x E matrix": E + E // 2 + F,
    }
