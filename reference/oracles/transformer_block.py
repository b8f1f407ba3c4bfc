"""Oracle for 05_transformers/transformer_block: nn.TransformerEncoderLayer and
nn.TransformerDecoderLayer in float64 with the kata's params loaded, and known slips.

The layers run in train mode with dropout=0.0, so their result is the plain forward written
out in torch/nn/modules/transformer.py. In eval mode the encoder layer takes the fused
inference path (torch._transformer_encoder_layer_fwd, an even number of heads): a different
kernel, which agreed with this one to 3e-14 (post-norm and pre-norm, ReLU and GELU, with and
without a padding mask) on torch 2.13 CPU when this kata was written.

Masks follow nn.MultiheadAttention: a boolean True means BLOCKED. The decoder's causal mask
is passed to torch explicitly (tgt_is_causal is only a hint to torch; it needs the mask).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor


def param_shapes(E: int, F_: int, decoder: bool = False) -> dict[str, tuple[int, ...]]:
    """Every parameter's state_dict name and shape, for d_model E and dim_feedforward F_."""
    attn = ("self_attn.", "multihead_attn.") if decoder else ("self_attn.",)
    shapes: dict[str, tuple[int, ...]] = {}
    for p in attn:
        shapes |= {p + "in_proj_weight": (3 * E, E), p + "in_proj_bias": (3 * E,),
                   p + "out_proj.weight": (E, E), p + "out_proj.bias": (E,)}  # fmt: skip
    shapes |= {"linear1.weight": (F_, E), "linear1.bias": (F_,),
               "linear2.weight": (E, F_), "linear2.bias": (E,)}  # fmt: skip
    for i in range(1, 4 if decoder else 3):
        shapes |= {f"norm{i}.weight": (E,), f"norm{i}.bias": (E,)}
    return shapes


def layer(params, nhead, decoder=False, norm_first=False, activation="relu", layer_norm_eps=1e-5):
    """The torch layer in float64, train mode, dropout 0, with params loaded by name."""
    E, F_ = np.shape(params["linear1.weight"])[::-1]
    cls = torch.nn.TransformerDecoderLayer if decoder else torch.nn.TransformerEncoderLayer
    m = cls(E, nhead, dim_feedforward=F_, dropout=0.0, activation=activation,
            layer_norm_eps=layer_norm_eps, batch_first=True, norm_first=norm_first,
            dtype=torch.float64)  # fmt: skip
    m.load_state_dict({k: tensor(v) for k, v in params.items()})  # strict: names must match
    return m.train()  # dropout is 0.0 anyway; train mode keeps the fused fast path out


def causal_mask(L: int) -> torch.Tensor:
    """(L, L) bool, True above the diagonal: query i may not look at keys j > i."""
    return torch.ones(L, L, dtype=torch.bool).triu(diagonal=1)


def _t(x):
    return None if x is None else tensor(x)


def encoder(src, params, nhead, norm_first=False, activation="relu", src_mask=None,
            src_key_padding_mask=None, layer_norm_eps=1e-5) -> np.ndarray:  # fmt: skip
    """nn.TransformerEncoderLayer(src) as a float64 array."""
    m = layer(params, nhead, False, norm_first, activation, layer_norm_eps)
    with torch.no_grad():
        return numpy(m(tensor(src), _t(src_mask), _t(src_key_padding_mask)))


def decoder(tgt, memory, params, nhead, norm_first=False, activation="relu", tgt_is_causal=False,
            tgt_key_padding_mask=None, memory_key_padding_mask=None,
            layer_norm_eps=1e-5) -> np.ndarray:  # fmt: skip
    """nn.TransformerDecoderLayer(tgt, memory) as a float64 array."""
    m = layer(params, nhead, True, norm_first, activation, layer_norm_eps)
    mask = causal_mask(tgt.shape[1]) if tgt_is_causal else None
    with torch.no_grad():
        out = m(tensor(tgt), tensor(memory), tgt_mask=mask,
                tgt_key_padding_mask=_t(tgt_key_padding_mask),
                memory_key_padding_mask=_t(memory_key_padding_mask))  # fmt: skip
    return numpy(out)


def layer_norm(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """F.layer_norm over the last axis."""
    t = F.layer_norm(tensor(x), (np.shape(x)[-1],), tensor(gamma), tensor(beta), eps)
    return numpy(t)


def feed_forward(x, params, activation="relu", approximate="none") -> np.ndarray:
    """linear2(activation(linear1(x))) with F.linear and F.relu or F.gelu (exact by default)."""
    h = F.linear(tensor(x), tensor(params["linear1.weight"]), tensor(params["linear1.bias"]))
    h = F.relu(h) if activation == "relu" else F.gelu(h, approximate=approximate)
    return numpy(F.linear(h, tensor(params["linear2.weight"]), tensor(params["linear2.bias"])))


# ----------------------------------------------------------------------------- known slips
# The same layer written out by hand from the torch layer's own submodules, with one slip.

FLIPPED = "{have} order in a {want} layer (norm_first={nf} means {formula})"
RESIDUAL_FROM_NORMED = "the residual taken from the normalised x (h = norm(x); x = h + f(h))"
NORM_ON_SUBLAYER = "x + norm(f(x)): the norm applied to the sublayer's output, not to the sum"
NO_LAST_RESIDUAL = "the feed-forward sublayer without its residual connection"
GELU_TANH = "GELU's tanh approximation (torch's default is the exact erf form)"
LN_UNBIASED = "layer norm with the unbiased variance (divides by E - 1; torch divides by E)"
LN_NO_AFFINE = "layer norm without its gamma and beta"
NO_BIAS2 = "linear2's bias left out"
EPS_IGNORED = "layer_norm_eps not passed on to the norms (the default 1e-5 used)"
NO_KPM = "the key padding mask not passed to attention: padding is attended to"
CROSS_TO_TGT = "cross-attention's keys and values from the decoder's x instead of memory"
CROSS_SELF_WEIGHTS = "cross-attention with self_attn's weights instead of multihead_attn's"
NO_CAUSAL = "no causal mask in the decoder's self-attention: positions see the future"
CAUSAL_TRIL = "causal mask np.tril (True = may attend); nn.MultiheadAttention's True = blocked"
CAUSAL_DIAGONAL = "causal mask np.triu(k=0): it blocks the diagonal, so position 0 sees nothing"
NORMS_SWAPPED = "norm2 and norm3 swapped (the norms go 1, 2, 3 in sublayer order)"


def _slip_forward(m, slip, x, memory, self_mask, self_kpm, memory_kpm, eps):
    """The layer's forward written out, with one slip; torch tensors in and out."""
    decoder = memory is not None
    norms = [m.norm1, m.norm2] + ([m.norm3] if decoder else [])
    if slip == NORMS_SWAPPED:
        norms[1], norms[2] = norms[2], norms[1]

    def norm(mod, h):
        gamma, beta = (None, None) if slip == LN_NO_AFFINE else (mod.weight, mod.bias)
        var = h.var(dim=-1, keepdim=True, unbiased=slip == LN_UNBIASED)
        xhat = (h - h.mean(dim=-1, keepdim=True)) / torch.sqrt(var + eps)
        return xhat if gamma is None else xhat * gamma + beta

    def self_attn(h):
        kpm = None if slip == NO_KPM else self_kpm
        return m.self_attn(h, h, h, attn_mask=self_mask, key_padding_mask=kpm)[0]

    def cross_attn(h):
        mod = m.self_attn if slip == CROSS_SELF_WEIGHTS else m.multihead_attn
        kv = h if slip == CROSS_TO_TGT else memory
        kpm = None if slip in (NO_KPM, CROSS_TO_TGT) else memory_kpm
        return mod(h, kv, kv, key_padding_mask=kpm)[0]

    def ff(h):
        a = m.linear1(h)
        a = F.relu(a) if m.activation is F.relu else F.gelu(a, approximate=(
            "tanh" if slip == GELU_TANH else "none"))  # fmt: skip
        return F.linear(a, m.linear2.weight, None if slip == NO_BIAS2 else m.linear2.bias)

    sublayers = [self_attn] + ([cross_attn] if decoder else []) + [ff]
    pre = m.norm_first != (slip == "flipped")
    for i, (f, nm) in enumerate(zip(sublayers, norms)):
        last = i == len(sublayers) - 1
        if pre:
            h = norm(nm, x)
            x = h + f(h) if slip == RESIDUAL_FROM_NORMED else f(h) if (
                last and slip == NO_LAST_RESIDUAL) else x + f(h)  # fmt: skip
        elif slip == NORM_ON_SUBLAYER:
            x = x + norm(nm, f(x))
        else:
            x = norm(nm, f(x) if last and slip == NO_LAST_RESIDUAL else x + f(x))
    return x


def slips(src, memory, params, nhead, norm_first=False, activation="relu", src_mask=None,
          src_key_padding_mask=None, tgt_is_causal=False, tgt_key_padding_mask=None,
          memory_key_padding_mask=None, layer_norm_eps=1e-5) -> dict:  # fmt: skip
    """{label: a function giving that slip's output}, for assert_close's mistakes=.

    memory is None for the encoder (src is its input), the decoder's memory otherwise (src is
    then tgt). Slips that cannot show with these options are left out; each runs only when a
    comparison fails.
    """
    decoder = memory is not None
    have, want = ("pre-norm", "post-norm") if not norm_first else ("post-norm", "pre-norm")
    formula = "x + f(norm(x))" if norm_first else "norm(x + f(x))"
    labels = {FLIPPED.format(have=have, want=want, nf=norm_first, formula=formula): "flipped",
              NO_LAST_RESIDUAL: NO_LAST_RESIDUAL, LN_UNBIASED: LN_UNBIASED,
              LN_NO_AFFINE: LN_NO_AFFINE, NO_BIAS2: NO_BIAS2}  # fmt: skip
    labels[RESIDUAL_FROM_NORMED if norm_first else NORM_ON_SUBLAYER] = None
    if activation == "gelu":
        labels[GELU_TANH] = None
    if layer_norm_eps != 1e-5:
        labels[EPS_IGNORED] = None
    kpm = tgt_key_padding_mask if decoder else src_key_padding_mask
    if kpm is not None or memory_key_padding_mask is not None:
        labels[NO_KPM] = None
    if decoder:
        labels |= dict.fromkeys([CROSS_TO_TGT, CROSS_SELF_WEIGHTS, NORMS_SWAPPED])
        if tgt_is_causal:
            labels |= dict.fromkeys([NO_CAUSAL, CAUSAL_TRIL, CAUSAL_DIAGONAL])
    m = layer(params, nhead, decoder, norm_first, activation, layer_norm_eps)

    def run(label):
        slip = labels[label] or label
        L = np.shape(src)[1]
        mask = _t(src_mask)
        if decoder and tgt_is_causal and slip != NO_CAUSAL:
            mask = {CAUSAL_TRIL: torch.ones(L, L, dtype=torch.bool).tril(),
                    CAUSAL_DIAGONAL: torch.ones(L, L, dtype=torch.bool).triu()}.get(
                slip, causal_mask(L))  # fmt: skip
        eps = 1e-5 if slip == EPS_IGNORED else layer_norm_eps
        mem = None if memory is None else tensor(memory)
        with torch.no_grad(), np.errstate(all="ignore"):
            out = _slip_forward(m, slip, tensor(src), mem, mask, _t(kpm),
                                _t(memory_key_padding_mask), eps)  # fmt: skip
        return numpy(out)

    return {label: (lambda label=label: run(label)) for label in labels}
