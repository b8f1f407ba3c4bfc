"""theory.py: parameters, multiply-adds and attention memory, counted from torch's modules."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_raises, assert_true, call, kata
from reference.oracles import theory as oracle

th = kata("05_transformers/theory")
sizes = st.integers(1, 6)
maybe = st.one_of(st.none(), st.integers(1, 9))  # kdim / vdim: None means E


shown = oracle.shown  # "fn(1, 2, bias=False)"


def check_int(got, want, head, measured, slips=None):
    """An int result: whole number first, then the value, naming a known slip if it is one."""
    __tracebackhide__ = True
    whole = isinstance(got, (int, np.integer)) and not isinstance(got, bool)
    assert_true(whole, f"{head} {got!r} ({type(got).__name__}); a count is a whole number: "
                "return an int (// where a division is exact, never /)")  # fmt: skip
    named = [
        f"\nLikely mistake: {label}." for label, v in (slips or {}).items() if got == v != want
    ]
    assert_true(got == want, f"{head} {got!r}; {measured}" + "".join(named[:1]))


def check_params(fn, *args, **kw):
    __tracebackhide__ = True
    got = call(getattr(th, fn), *args, **kw)
    want = getattr(oracle, fn)(*args, **kw)
    if fn == "attention_params":
        slips = oracle.attention_param_slips(*args, **kw)
    else:
        slips = oracle.layer_param_slips(*args, **kw, decoder=fn.startswith("decoder"))
    module = oracle.module_call(fn, *args, **kw)
    measured = f"torch counts {want:,}: sum(p.numel() for p in nn.{module}.parameters())"
    check_int(got, want, f"{shown(fn, args, kw)} returned", measured, slips)
    return got


def check_parts(fn, got, want, keys, how=None, slips=None):
    """A dict of MACs: the keys, then every part against torch's count."""
    __tracebackhide__ = True
    assert_true(isinstance(got, dict) and set(got) == set(keys), f"{fn} must return a dict with "
                f"the keys {list(keys)}; got {got!r}")  # fmt: skip
    for part in keys:
        what = f" for {how[part]}" if how else ""
        measured = (f"torch's FlopCounterMode formulas count {2 * want[part]:,} FLOPs = "
                    f"{want[part]:,} multiply-adds{what}")  # fmt: skip
        check_int(got[part], want[part], f"{fn} counted {part}:", measured, (slips or {}).get(part))
    return got


def check_attention_macs(*args, **kw):
    __tracebackhide__ = True
    want, how = oracle.attention_macs(*args, **kw)
    got = call(th.attention_macs, *args, **kw)
    slips = oracle.attention_mac_slips(*args, **kw)
    return check_parts(shown("attention_macs", args, kw), got, want, want, how, slips)


def check_layer_macs(*args):
    __tracebackhide__ = True
    want, how = oracle.encoder_layer_macs(*args)
    got = call(th.encoder_layer_macs, *args)
    slips = oracle.layer_mac_slips(*args)
    return check_parts(shown("encoder_layer_macs", args, {}), got, want, want, how, slips)


@pytest.mark.oracle
@pytest.mark.parametrize("E, nhead", [(8, 2), (12, 3), (512, 8), (6, 6),
                                      pytest.param(1, 1, marks=pytest.mark.edge)])  # fmt: skip
def test_head_dim_matches_torch(E, nhead):
    want = oracle.head_dim(E, nhead)
    check_int(call(th.head_dim, E, nhead), want, f"head_dim({E}, {nhead}) returned",
              f"nn.MultiheadAttention({E}, {nhead}).head_dim is {want}")  # fmt: skip


REFUSED = [("head_dim", (6, 4)), ("attention_params", (6, 4)), ("head_dim", (4, 0)),
           ("encoder_layer_params", (10, 4, 8)), ("decoder_layer_params", (10, 3, 8)),
           ("attention_macs", (1, 2, 3, 6, 4)),
           ("encoder_layer_macs", (1, 2, 9, 2, 8))]  # fmt: skip


@pytest.mark.edge
@pytest.mark.parametrize("fn, args", REFUSED, ids=str)
def test_a_head_count_that_does_not_divide_E_is_refused(fn, args):
    at = {"attention_macs": 3, "encoder_layer_macs": 2}.get(fn, 0)  # where E and nhead are
    E, nhead = args[at], args[at + 1]
    assert_true(oracle.refuses(E, nhead), f"torch accepts E={E}, nhead={nhead}: fix the test")
    why = f"{nhead} heads cannot split E={E} features evenly; torch refuses too"
    assert_raises(ValueError, getattr(th, fn), *args, why=why)


ATTENTION = [(8, 2), (8, 2, False), (12, 3, True, 5, 7), (12, 4, False, 5, 7), (16, 16, True, 16),
             pytest.param((1, 1), marks=pytest.mark.edge),
             pytest.param((1, 1, False, 1, 1), marks=pytest.mark.edge)]  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("args", ATTENTION, ids=str)
def test_attention_params_match_torch(args):
    check_params("attention_params", *args[:2], **dict(zip(("bias", "kdim", "vdim"), args[2:])))


@pytest.mark.property
@given(d=sizes, nhead=st.integers(1, 4), bias=st.booleans(), kdim=maybe, vdim=maybe)
def test_attention_params_match_torch_for_any_sizes(d, nhead, bias, kdim, vdim):
    check_params("attention_params", d * nhead, nhead, bias=bias, kdim=kdim, vdim=vdim)


LAYERS = pytest.mark.parametrize("fn", ["encoder_layer_params", "decoder_layer_params"])


@pytest.mark.oracle
@LAYERS
@pytest.mark.parametrize("args", [(8, 2, 32), (8, 2, 32, False), (12, 3, 5),
                                  pytest.param((1, 1, 1), marks=pytest.mark.edge),
                                  pytest.param((1, 1, 1, False), marks=pytest.mark.edge)],
                         ids=str)  # fmt: skip
def test_layer_params_match_torch(fn, args):
    check_params(fn, *args[:3], **dict(zip(("bias",), args[3:])))


@pytest.mark.property
@LAYERS
@given(d=sizes, nhead=st.integers(1, 4), F=st.integers(1, 40), bias=st.booleans())
def test_layer_params_match_torch_for_any_sizes(fn, d, nhead, F, bias):
    check_params(fn, d * nhead, nhead, F, bias=bias)


def test_the_feed_forward_holds_two_thirds_of_a_base_encoder_layer():
    """The 2017 base model (E=512, 8 heads, F=4E=2048): 4 E^2 attention weights, 8 E^2 in
    the feed-forward. 6 encoder + 6 decoder layers hold 44.1 M parameters."""
    layer = check_params("encoder_layer_params", 512, 8, 2048)
    attention = check_params("attention_params", 512, 8)
    check_params("decoder_layer_params", 512, 8, 2048)
    share = (layer - attention) / layer  # 2 E F weights, F + E biases, 4 E in the 2 norms
    assert_true(0.66 < share < 0.67, f"the feed-forward's share came out {share:.4f}, not 2/3")


MACS = [(2, 5, 5, 8, 2), (2, 5, 7, 8, 2), (3, 4, 9, 12, 4), (2, 3, 6, 6, 2, 5, 7),
        (1, 4, 4, 12, 12),
        pytest.param((1, 1, 1, 1, 1), marks=pytest.mark.edge),
        pytest.param((1, 1, 3, 6, 6, 1, 1), marks=pytest.mark.edge)]  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("args", MACS, ids=str)
def test_attention_macs_match_torch(args):
    check_attention_macs(*args[:5], **dict(zip(("kdim", "vdim"), args[5:])))


@pytest.mark.property
@given(N=st.integers(1, 3), L=sizes, S=sizes, d=sizes, nhead=st.integers(1, 4), kdim=maybe,
       vdim=maybe)  # fmt: skip
def test_attention_macs_match_torch_for_any_sizes(N, L, S, d, nhead, kdim, vdim):
    check_attention_macs(N, L, S, d * nhead, nhead, kdim=kdim, vdim=vdim)


def test_more_heads_cost_no_more_parameters_or_multiply_adds():
    """nhead heads of E / nhead features: the same matrices, cut into slices."""
    one = (check_params("attention_params", 12, 1), check_attention_macs(2, 5, 7, 12, 1))
    for nhead in (2, 3, 4, 6, 12):
        many = (
            check_params("attention_params", 12, nhead),
            check_attention_macs(2, 5, 7, 12, nhead),
        )
        assert_true(many == one, f"{nhead} heads counted {many}; one head: {one}")


@pytest.mark.oracle
@pytest.mark.parametrize("args", [(2, 5, 8, 2, 32), (3, 7, 12, 4, 5), (1, 1, 1, 1, 1)], ids=str)
def test_encoder_layer_macs_match_torch(args):
    check_layer_macs(*args)


@pytest.mark.property
@given(N=st.integers(1, 3), L=sizes, d=sizes, nhead=st.integers(1, 4), F=st.integers(1, 40))
def test_encoder_layer_macs_match_torch_for_any_sizes(N, L, d, nhead, F):
    check_layer_macs(N, L, d * nhead, nhead, F)


def check_bytes(N, nhead, L, S, dtype):
    __tracebackhide__ = True
    want = oracle.attention_matrix_bytes(N, nhead, L, S, dtype)
    check_int(call(th.attention_matrix_bytes, N, nhead, L, S, dtype), want,
              f"attention_matrix_bytes({N}, {nhead}, {L}, {S}, {dtype!r}) returned",
              f"torch's weights (N, nhead, L, S) = {(N, nhead, L, S)} in {np.dtype(dtype)} "
              f"hold {want} bytes", oracle.bytes_slips(N, nhead, L, S, dtype))  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize(
    "dtype",
    ["float16", np.float32, np.dtype("float64")],
    ids=["'float16'", "np.float32", "np.dtype('float64')"],
)
@pytest.mark.parametrize("sizes_", [(2, 3, 4, 7), (1, 1, 1, 1), (3, 2, 5, 5)], ids=str)
def test_attention_matrix_bytes_match_torch(sizes_, dtype):
    check_bytes(*sizes_, dtype)


@pytest.mark.property
@given(N=sizes, nhead=sizes, L=sizes, S=sizes,
       dtype=st.sampled_from(["float16", "float32", "float64"]))  # fmt: skip
def test_attention_matrix_bytes_match_torch_for_any_sizes(N, nhead, L, S, dtype):
    check_bytes(N, nhead, L, S, dtype)


@pytest.mark.edge
def test_a_32k_context_needs_32_GiB_for_one_layers_attention_weights():
    """16 heads, L = S = 32768, float16: 2^35 bytes; the layer's own weights take 25 MB."""
    L, shape = 32768, (1, 16, 32768, 32768)  # the weights' shape, checked on small sizes above
    want = torch.empty(shape, dtype=torch.float16, device="meta").nbytes
    got = call(th.attention_matrix_bytes, 1, 16, L, L, "float16")
    check_int(got, want, f"attention_matrix_bytes(1, 16, {L}, {L}, 'float16') returned",
              f"a {shape} float16 tensor holds {want:,} bytes (32 GiB)")  # fmt: skip
    weights = 2 * check_params("encoder_layer_params", 1024, 16, 4096)
    assert_true(got > 1000 * weights, "the attention matrix dwarfs the weights at this length")


@pytest.mark.oracle
def check_crossover(E, F):
    __tracebackhide__ = True
    want = oracle.crossover_length(E, F)
    check_int(call(th.crossover_length, E, F), want, f"crossover_length({E}, {F}) returned",
              f"torch's counts at L = 1: the weight matmuls cost {want} times the two L x L "
              f"products, so they break even at L = {want}",
              oracle.crossover_slips(E, F))  # fmt: skip
    return want


@pytest.mark.parametrize("E, F", [(8, 0), (8, 32), (5, 3), (64, 256),
                                  pytest.param(1, 0, marks=pytest.mark.edge)])  # fmt: skip
def test_crossover_length_matches_torch(E, F):
    check_crossover(E, F)


def test_attention_overtakes_the_weights_at_the_crossover_length():
    """Per layer (E=16, F=64): weight matmuls ~ L, the attention matrix ~ L^2."""
    E, F = 16, 64
    at = check_crossover(E, F)  # yours, once it matches torch's
    for L, verdict in ((at - 1, -1), (at, 0), (at + 1, 1)):
        attn = check_attention_macs(1, L, L, E, 2)
        ff = check_layer_macs(1, L, E, 2, F)["feed_forward"]
        quadratic = attn["scores"] + attn["weighted_sum"]
        linear = attn["in_projection"] + attn["out_projection"] + ff
        expected = "equal" if verdict == 0 else "the other way"
        assert_true(np.sign(quadratic - linear) == verdict, f"at L = {L} (crossover {at}) "
                    f"the L x L products cost {quadratic:,} MACs and the weight matmuls "
                    f"{linear:,}: {expected} expected")  # fmt: skip
