"""transformer_block.py: encoder and decoder layers vs nn.TransformerEncoderLayer / DecoderLayer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, dependency, kata
from checker import strategies as cs
from checker.tolerances import tolerance
from reference.oracles import transformer_block as oracle

tb = kata("05_transformers/transformer_block")
ORDERS = pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
ACTIVATIONS = pytest.mark.parametrize("activation", ["relu", "gelu"])


@pytest.fixture(scope="module")
def attention():  # your multihead_attention_forward where that kata passes, the reference's else
    return dependency("05_transformers/multihead").multihead_attention_forward


def make_params(rng, E, F, decoder=False, dtype=np.float64):
    """Weights ~ N(0, 1/fan_in), random biases; gamma near 1 and beta near 0, but never equal."""
    params = {}
    for name, shape in oracle.param_shapes(E, F, decoder).items():
        if name.startswith("norm"):
            params[name] = float(name.endswith("weight")) + 0.4 * rng.standard_normal(shape)
        else:
            params[name] = rng.standard_normal(shape) * (
                0.5 if name.endswith("bias") else shape[-1] ** -0.5)  # fmt: skip
        params[name] = params[name].astype(dtype)
    return params


def padding(N, length, n_padded):
    """(N, length) bool, True at padding: sequence n ends with min(n, n_padded) padded slots."""
    return np.arange(length) >= length - np.minimum(np.arange(N), n_padded)[:, None]


def unchanged(before, after, message):
    __tracebackhide__ = True
    rtol, atol = tolerance("matmul", np.float64)
    assert_true(np.allclose(before, after, rtol=rtol, atol=atol), message)


def check_encoder(attention, src, params, H, dtype=np.float64, **kw):
    __tracebackhide__ = True
    out = call(tb.encoder_layer, src, params, H, attention, **kw)
    assert_close(out, oracle.encoder(src, params, H, **kw), tol="matmul", name="out", dtype=dtype,
                 mistakes=oracle.slips(src, None, params, H, **kw))  # fmt: skip
    return out


def check_decoder(attention, tgt, memory, params, H, dtype=np.float64, **kw):
    __tracebackhide__ = True
    out = call(tb.decoder_layer, tgt, memory, params, H, attention, **kw)
    want = oracle.decoder(tgt, memory, params, H, **kw)
    assert_close(out, want, tol="matmul", name="out", dtype=dtype,
                 mistakes=oracle.slips(tgt, memory, params, H, **kw))  # fmt: skip
    return out


@pytest.mark.oracle
@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_layer_norm_matches_torch(eps, rng):
    x = rng.standard_normal((2, 3, 5)) * 2 + 1
    gamma, beta = 1 + 0.4 * rng.standard_normal(5), 0.4 * rng.standard_normal(5)
    out = call(tb.layer_norm, x, gamma, beta, eps)

    def slip(axis=-1, ddof=0, eps_on_std=False):  # layer norm in NumPy, with a learner's slip
        xc, std = x - x.mean(axis, keepdims=True), x.std(axis, ddof=ddof, keepdims=True)
        return gamma * xc / (std + eps if eps_on_std else np.sqrt(std**2 + eps)) + beta

    slips = {"the unbiased variance (divides by E - 1; torch divides by E)": slip(ddof=1),
             "gamma and beta left out": oracle.layer_norm(x, np.ones(5), np.zeros(5), eps),
             "eps added to the std, not the variance": slip(eps_on_std=True),
             "statistics over axis 0 (the batch, as batch norm), not the features": slip(0),
             "statistics over axis 1 (the positions), not the features": slip(1)}  # fmt: skip
    assert_close(out, oracle.layer_norm(x, gamma, beta, eps), tol="reduction", mistakes=slips)


@pytest.mark.edge
def test_layer_norm_of_a_constant_row_is_beta(rng):
    """Row 0 is constant (var = 0: beta, not NaN); row 1 varies by less than eps does."""
    x = np.stack([np.full(4, 3.0), 1 + 1e-3 * rng.standard_normal(4), rng.standard_normal(4)])
    gamma, beta = 1 + 0.4 * rng.standard_normal(4), 0.4 * rng.standard_normal(4)
    out = call(tb.layer_norm, x, gamma, beta)
    assert_close(out, oracle.layer_norm(x, gamma, beta), tol="reduction")


@pytest.mark.oracle
@ACTIVATIONS
def test_feed_forward_matches_torch(activation, rng):
    x, params = rng.standard_normal((2, 3, 4)) * 2, make_params(rng, 4, 7)
    out = call(tb.feed_forward, x, params, activation)
    slips = {"linear2's bias left out":
             oracle.feed_forward(x, {**params, "linear2.bias": np.zeros(4)}, activation),
             "GELU's tanh approximation (torch's default is the exact erf form)":
             oracle.feed_forward(x, params, activation, approximate="tanh")}  # fmt: skip
    assert_close(out, oracle.feed_forward(x, params, activation), tol="matmul", mistakes=slips)


def test_feed_forward_refuses_unknown_activations(rng):
    assert_raises(ValueError, tb.feed_forward, np.ones((1, 2, 4)), make_params(rng, 4, 7),
                  "swish", why="the layer knows 'relu' and 'gelu' only")  # fmt: skip


@pytest.mark.oracle
@ORDERS
@ACTIVATIONS
def test_encoder_layer_matches_torch(norm_first, activation, attention, rng):
    src = rng.standard_normal((2, 5, 8))
    check_encoder(attention, src, make_params(rng, 8, 16), 2, norm_first=norm_first,
                  activation=activation)  # fmt: skip


@pytest.mark.oracle
@ORDERS
@pytest.mark.parametrize("mask", ["padding", "bool src_mask", "float src_mask", "both"])
def test_encoder_layer_masks_match_torch(norm_first, mask, attention, rng):
    N, L, E = 3, 5, 6
    kw = {"norm_first": norm_first}
    if mask in ("padding", "both"):
        kw["src_key_padding_mask"] = padding(N, L, 2)
    if mask in ("bool src_mask", "both"):
        kw["src_mask"] = (rng.random((L, L)) < 0.4) & (np.arange(L) > 0)  # key 0 always seen
    if mask == "float src_mask":
        kw["src_mask"] = rng.standard_normal((L, L))
    check_encoder(attention, rng.standard_normal((N, L, E)), make_params(rng, E, 9), 3, **kw)


@pytest.mark.oracle
@ORDERS
@ACTIVATIONS
def test_decoder_layer_matches_torch(norm_first, activation, attention, rng):
    tgt, memory = rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 6, 8))
    check_decoder(attention, tgt, memory, make_params(rng, 8, 12, decoder=True), 2,
                  norm_first=norm_first, activation=activation, tgt_is_causal=True)  # fmt: skip


@pytest.mark.oracle
@ORDERS
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "not causal"])
def test_decoder_layer_padding_masks_match_torch(norm_first, causal, attention, rng):
    N, L, S, E = 3, 4, 5, 6
    check_decoder(attention, rng.standard_normal((N, L, E)), rng.standard_normal((N, S, E)),
                  make_params(rng, E, 10, decoder=True), 2, norm_first=norm_first,
                  tgt_is_causal=causal, tgt_key_padding_mask=padding(N, L, 2),
                  memory_key_padding_mask=padding(N, S, 3))  # fmt: skip


@pytest.mark.oracle
@ORDERS
def test_layer_norm_eps_reaches_every_norm(norm_first, attention, rng):
    src, memory = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    kw = {"norm_first": norm_first, "layer_norm_eps": 0.5}
    check_encoder(attention, src, make_params(rng, 4, 6), 2, **kw)
    check_decoder(attention, src, memory, make_params(rng, 4, 6, decoder=True), 2, **kw)


def test_float32_stays_float32(attention, rng):
    src, memory = (rng.standard_normal((2, L, 4)).astype(np.float32) for L in (3, 5))
    kw = {"norm_first": True, "activation": "gelu", "dtype": np.float32}
    check_encoder(attention, src, make_params(rng, 4, 8, dtype=np.float32), 2, **kw)
    check_decoder(attention, src, memory, make_params(rng, 4, 8, True, np.float32), 2,
                  tgt_is_causal=True, **kw)  # fmt: skip


@pytest.mark.property
@settings(max_examples=15, deadline=None)
@given(N=st.integers(1, 3), L=st.integers(1, 4), S=st.integers(1, 4), H=st.integers(1, 3),
       d=st.integers(1, 3), F=st.integers(1, 5), norm_first=st.booleans(),
       activation=st.sampled_from(["relu", "gelu"]), decoder=st.booleans(),
       padded=st.booleans(), layout=cs.layouts(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_any_sizes_and_layouts_match_torch(N, L, S, H, d, F, norm_first, activation, decoder,
                                           padded, layout, seed, attention):  # fmt: skip
    rng = np.random.default_rng(seed)
    E = H * d
    x, memory = (cs.relayout(rng.standard_normal((N, n, E)), layout) for n in (L, S))
    params = {k: cs.relayout(v, layout) for k, v in make_params(rng, E, F, decoder).items()}
    kw = {"norm_first": norm_first, "activation": activation}
    if decoder:
        if padded:  # the last positions of later sequences; position 0 is never padding
            kw["tgt_key_padding_mask"] = padding(N, L, L - 1)
            kw["memory_key_padding_mask"] = padding(N, S, S - 1)
        check_decoder(attention, x, memory, params, H, tgt_is_causal=True, **kw)
    else:
        if padded:
            kw["src_key_padding_mask"] = padding(N, L, L - 1)
        check_encoder(attention, x, params, H, **kw)


@pytest.mark.edge
@ORDERS
def test_causal_decoder_ignores_future_targets(norm_first, attention, rng):
    """Change target positions 3.. : outputs 0..2 must not move (no peeking at the answer)."""
    tgt, memory = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 3, 4))
    params = make_params(rng, 4, 8, decoder=True)
    kw = {"norm_first": norm_first, "tgt_is_causal": True}
    out = check_decoder(attention, tgt, memory, params, 2, **kw)
    changed = tgt.copy()
    changed[:, 3:] = rng.standard_normal((2, 3, 4)) * 5
    again = check_decoder(attention, changed, memory, params, 2, **kw)
    unchanged(out[:, :3], again[:, :3], "Changing target positions 3.. moved the outputs at "
              "positions 0..2: the causal mask must hide every later position")  # fmt: skip


@pytest.mark.edge
def test_padded_memory_is_ignored(attention, rng):
    """Sequences 1 and 2 end in padded memory positions: what is there must not matter."""
    tgt, memory = rng.standard_normal((3, 3, 4)), rng.standard_normal((3, 5, 4))
    params, kpm = make_params(rng, 4, 8, decoder=True), padding(3, 5, 2)
    kw = {"tgt_is_causal": True, "memory_key_padding_mask": kpm}
    out = check_decoder(attention, tgt, memory, params, 2, **kw)
    changed = memory.copy()
    changed[kpm] = 100.0
    again = check_decoder(attention, tgt, changed, params, 2, **kw)
    unchanged(out, again, "Changing padded memory positions moved the outputs: "
              "memory_key_padding_mask must reach the cross-attention")  # fmt: skip


@pytest.mark.edge
@pytest.mark.parametrize("decoder", [False, True], ids=["encoder", "decoder"])
def test_one_position_one_head(decoder, attention, rng):
    x, memory = rng.standard_normal((1, 1, 3)), rng.standard_normal((1, 1, 3))
    params = make_params(rng, 3, 2, decoder)
    if decoder:
        check_decoder(attention, x, memory, params, 1, tgt_is_causal=True)
    else:
        check_encoder(attention, x, params, 1, norm_first=True)
