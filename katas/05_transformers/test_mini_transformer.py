"""mini_transformer.py: masks, multi-head attention, encoder and decoder layers, positions and
embeddings, the whole model (your weights loaded into torch's modules, float64); teacher
forcing, greedy decoding, the training loop; then the model trained to sort digits (slow)."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_png, assert_raises, assert_true, call, describe, kata, note
from checker import strategies as cs
from reference.oracles import mini_transformer as oracle

mod = kata("05_transformers/mini_transformer")
PAD, BOS, EOS, V = oracle.PAD, oracle.BOS, oracle.EOS, oracle.VOCAB
SMALL = {"E": 16, "H": 4, "F": 24, "n_enc": 2, "n_dec": 3}  # the model most tests use


def t64(rng, *shape, scale=1.0):
    return torch.from_numpy(scale * rng.standard_normal(shape))


def sources(rng, N, S):
    """(N, S) right-padded digit tokens of random lengths 1..S (row 0 of length S)."""
    lengths = rng.integers(1, S + 1, N)
    lengths[0] = S
    tokens = rng.integers(oracle.DIGIT0, V, (N, S))
    tokens[np.arange(S)[None, :] >= lengths[:, None]] = PAD
    return torch.from_numpy(tokens)


def randomize(module, rng, scale=0.5):
    """The module in float64 with every parameter redrawn: zero biases and LayerNorms of
    ones hide mistakes."""
    module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(t64(rng, *p.shape, scale=scale))
    return module


def small_model(rng, norm_first=False):
    E, H, F_, n_enc, n_dec = (SMALL[k] for k in ("E", "H", "F", "n_enc", "n_dec"))
    net = call(mod.Seq2SeqTransformer, V, E, H, n_enc, n_dec, F_, max_len=32, pad_id=PAD,
               norm_first=norm_first)  # fmt: skip
    for name in ("src_embed.embedding", "tgt_embed.embedding", "generator", "pos",
                 "encoder_layers", "decoder_layers", "encoder_norm", "decoder_norm"):  # fmt: skip
        assert_true(_has(net, name), f"Seq2SeqTransformer has no {name}: the tests read the "
                    "model by the names its __init__ docstring gives")  # fmt: skip
    return randomize(net, rng, scale=0.3), dict(SMALL, norm_first=norm_first)


def _has(net, name):
    try:
        net.get_submodule(name)
    except AttributeError:
        return False
    return True


def pair(value, what):
    """A learner's (tensor, tensor) result, checked to be a pair."""
    __tracebackhide__ = True
    assert_true(
        isinstance(value, tuple) and len(value) == 2,
        f"{what} must return a pair (output, attention weights); got {describe(value)}",
    )
    return value


# ----------------------------------------------------------------------------- masks


@pytest.mark.oracle
@pytest.mark.parametrize("L", [pytest.param(1, marks=pytest.mark.edge), 2, 6])
def test_causal_mask_matches_torch(L):
    mask = call(mod.causal_mask, L)
    want = oracle.causal_mask(L)
    ones = torch.ones(L, L, dtype=torch.bool)
    assert_close(mask, want, name="the mask", mistakes={
        "the diagonal blocked too (triu(diagonal=0)): step 0 sees no key at all": ones.triu(0),
        "off by one: step t may see step t + 1 (triu(diagonal=2))": ones.triu(2),
        "polarity inverted: True where a key is ALLOWED (torch's True means blocked)": ~want,
    })  # fmt: skip


def test_padding_mask_is_true_at_padding(rng):
    src = sources(rng, 4, 6)
    mask = call(mod.padding_mask, src, PAD)
    assert_close(mask, src == PAD, name="the mask",
                 mistakes={"polarity inverted: True at the real tokens": src != PAD})  # fmt: skip


# ----------------------------------------------------------------------------- attention


def check_attention(mine, state, E, H, query, memory, masks):
    """Compare mine(query, memory, memory, **masks) with nn.MultiheadAttention's."""
    __tracebackhide__ = True
    out, weights = pair(call(mine, query, memory, memory, **masks), "MultiHeadAttention")
    want, want_w = oracle.attend(oracle.mha(state, E, H), query, memory, memory, **masks)
    d = E // H

    def slip(q_factor=1.0, **other):
        return oracle.attend(oracle.mha(state, E, H, q_factor=q_factor), query, memory,
                             memory, **(masks | other))  # fmt: skip

    mistakes = {
        "no 1/sqrt(d) scaling of the scores": lambda: slip(math.sqrt(d)),
        "scores divided by sqrt(E) instead of sqrt(d = E / H)": lambda: slip(math.sqrt(d / E)),
    }
    for mask, what in (("key_padding_mask", "padding"), ("attn_mask", "attn_mask")):
        if mask in masks:  # True means BLOCKED in nn.MultiheadAttention, not allowed
            mistakes[f"{what} read as True = allowed"] = lambda m=mask: slip(**{m: ~masks[m]})
    if isinstance(weights, torch.Tensor) and weights.shape == want_w.shape:
        sums = weights.detach().sum(-1)
        sums = sums[sums.isfinite()]  # a NaN row is another mistake: the comparison names it
        assert_true(torch.allclose(sums, torch.ones_like(sums)), "each query's attention "
                    f"weights must sum to 1 over the keys (softmax over the last axis, S); "
                    f"yours sum to {sums.min():.3g} .. {sums.max():.3g}")  # fmt: skip
    assert_close(weights, want_w, tol="matmul", name="weights (N, H, L, S)",
                 mistakes={k: (lambda f=f: f()[1]) for k, f in mistakes.items()})  # fmt: skip
    assert_close(out, want, tol="matmul", name="out",
                 mistakes={k: (lambda f=f: f()[0]) for k, f in mistakes.items()})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("masks", ["none", "padding", "causal", "both"])
def test_multihead_attention_matches_torch(masks, rng):
    N, L, S, E, H = 3, 4, 5, 8, 2
    mine = randomize(call(mod.MultiHeadAttention, E, H), rng)
    query = t64(rng, N, E, L).transpose(1, 2)  # (N, L, E), non-contiguous
    memory = t64(rng, N, S, E)
    kw = {}
    if masks in ("padding", "both"):
        kw["key_padding_mask"] = sources(rng, N, S) == PAD
    if masks in ("causal", "both"):
        kw["attn_mask"] = torch.ones(L, S, dtype=torch.bool).triu(1)
    check_attention(mine, mine.state_dict(), E, H, query, memory, kw)


@pytest.mark.oracle
@pytest.mark.property
@given(
    N=st.integers(1, 3), L=st.integers(1, 4), S=st.integers(1, 4), H=st.integers(1, 3),
    d=st.integers(1, 3), layout=cs.layouts(), seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_multihead_attention_matches_torch_for_any_sizes_and_layouts(N, L, S, H, d, layout, seed):
    rng = np.random.default_rng(seed)
    E = H * d
    mine = randomize(call(mod.MultiHeadAttention, E, H), rng)
    query = torch.from_numpy(cs.relayout(rng.standard_normal((N, L, E)), layout))
    memory = torch.from_numpy(cs.relayout(rng.standard_normal((N, S, E)), layout))
    pad = torch.from_numpy(rng.random((N, S)) < 0.4)
    pad[:, 0] = False  # every query keeps at least one key
    check_attention(mine, mine.state_dict(), E, H, query, memory, {"key_padding_mask": pad})


@pytest.mark.edge
def test_multihead_attention_refuses_heads_that_do_not_divide_d_model():
    assert_raises(ValueError, mod.MultiHeadAttention, 6, 4, why="4 heads cannot split 6 features")


@pytest.mark.oracle
def test_multihead_attention_gradients_match_torch(rng):
    E, H = 6, 3
    mine = randomize(call(mod.MultiHeadAttention, E, H), rng)
    theirs = oracle.mha(mine.state_dict(), E, H)
    query, memory = t64(rng, 2, 3, E), t64(rng, 2, 4, E)
    pad = sources(rng, 2, 4) == PAD
    dout = t64(rng, 2, 3, E)
    q1, m1 = query.clone().requires_grad_(), memory.clone().requires_grad_()
    out, _ = pair(call(mine, q1, m1, m1, key_padding_mask=pad), "MultiHeadAttention")
    assert_true(out.requires_grad, "MultiHeadAttention's output has no gradient: build it "
                "from torch ops (no .detach(), .numpy() or torch.no_grad() inside)")  # fmt: skip
    (out * dout).sum().backward()
    q2, m2 = query.clone().requires_grad_(), memory.clone().requires_grad_()
    want, _ = theirs(q2, m2, m2, key_padding_mask=pad, need_weights=False)
    (want * dout).sum().backward()
    for name, yours, torch_grad in [
        ("d query", q1.grad, q2.grad),
        ("d key/value (memory)", m1.grad, m2.grad),
        ("d in_proj_weight", mine.in_proj_weight.grad, theirs.in_proj_weight.grad),
        ("d out_proj.weight", mine.out_proj.weight.grad, theirs.out_proj.weight.grad),
    ]:
        assert_close(yours, torch_grad, tol="grad", name=name)


# ----------------------------------------------------------------------------- layers

NORMS = pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])


@pytest.mark.oracle
@NORMS
def test_encoder_layer_matches_torch(norm_first, rng):
    E, H, F_ = 8, 2, 12
    layer = randomize(call(mod.EncoderLayer, E, H, F_, norm_first=norm_first), rng)
    theirs = oracle.layer(layer.state_dict(), E, H, F_, decoder=False, norm_first=norm_first)
    other = oracle.layer(layer.state_dict(), E, H, F_, decoder=False, norm_first=not norm_first)
    src, pad = t64(rng, 3, 5, E), sources(rng, 3, 5) == PAD
    out = call(layer, src, src_key_padding_mask=pad)
    with torch.no_grad():
        want = theirs(src, src_key_padding_mask=pad)
    assert_close(out, want, tol="matmul", name="the layer's output", mistakes={
        f"the other order (norm_first={not norm_first})":
            lambda: other(src, src_key_padding_mask=pad).detach(),
    })  # fmt: skip


@pytest.mark.oracle
@NORMS
def test_decoder_layer_matches_torch(norm_first, rng):
    E, H, F_, N, L, S = 8, 2, 12, 3, 4, 5
    layer = randomize(call(mod.DecoderLayer, E, H, F_, norm_first=norm_first), rng)
    theirs = oracle.layer(layer.state_dict(), E, H, F_, decoder=True, norm_first=norm_first)
    tgt, memory, pad = t64(rng, N, L, E), t64(rng, N, S, E), sources(rng, N, S) == PAD
    out, weights = pair(call(layer, tgt, memory, memory_key_padding_mask=pad), "DecoderLayer")
    want, want_w = oracle.decoder_layer(theirs, tgt, memory, pad)
    assert_true(
        tuple(weights.shape) == (N, H, L, S),
        f"the cross-attention weights must be (N, H, L, S) = {(N, H, L, S)}; got "
        f"{tuple(weights.shape)}"
        + (": the decoder attends to its own states; keys and values must be the memory"
           if tuple(weights.shape) == (N, H, L, L) else ""),
    )  # fmt: skip
    assert_close(out, want, tol="matmul", name="the layer's output", mistakes={
        "no causal mask: step t sees the later steps":
            lambda: oracle.decoder_layer(theirs, tgt, memory, pad, causal=False)[0],
    })  # fmt: skip
    assert_close(weights, want_w, tol="matmul", name="the cross-attention weights")


# ----------------------------------------------------------------------------- inputs


@pytest.mark.oracle
@pytest.mark.parametrize("E", [8, 7, pytest.param(1, marks=pytest.mark.edge)])
def test_positional_encoding_matches_the_formula(E, rng):
    pos = call(mod.SinusoidalPositionalEncoding, E, 64)
    buffers = dict(pos.named_buffers())
    assert_true("pe" in buffers and not list(pos.parameters()),
                "the table must be a buffer named pe (self.register_buffer('pe', pe)), and "
                f"the module must have no parameters; buffers {sorted(buffers)}, parameters "
                f"{[n for n, _ in pos.named_parameters()]}")  # fmt: skip
    assert_close(buffers["pe"], oracle.sinusoidal(64, E), tol="elementwise", name="pe",
                 dtype=torch.float32, mistakes={
                     "sin and cos swapped (cos in the even columns)":
                         lambda: oracle.sinusoidal(64, E, swapped=True),
                     "exponent i / E instead of 2i / E": lambda: oracle.sinusoidal(64, E, 1.0),
                 })  # fmt: skip
    x = t64(rng, 2, E, 5).transpose(1, 2)  # (2, 5, E), non-contiguous
    pos.double()
    out = call(pos, x)
    table = pos.pe[:5]
    assert_close(out, x + table, tol="elementwise", name="x + pe[:T]", mistakes={
        "the encoding not added: x returned as it is": x,
        "the table returned without x": table.expand_as(x),
    })  # fmt: skip


def test_token_embedding_is_scaled_by_sqrt_d_model(rng):
    E = 16
    emb = call(mod.TokenEmbedding, V, E)
    std = float(emb.embedding.weight.detach().std())
    assert_true(0.7 < std * math.sqrt(E) < 1.3, f"TokenEmbedding({V}, {E}).embedding.weight "
                f"must start with std E^-0.5 = {E**-0.5:.3f}; its std is {std:.3f}")  # fmt: skip
    randomize(emb, rng)
    tokens = sources(rng, 3, 5)
    out = call(emb, tokens)
    want = F.embedding(tokens, emb.embedding.weight.detach()) * math.sqrt(E)
    assert_close(out, want, tol="elementwise", name="the embeddings", factors={"d_model": E})


# ----------------------------------------------------------------------------- the model


def test_seq2seq_transformer_gives_float32_logits_and_weights_of_the_right_shapes(rng):
    torch.manual_seed(0)
    net = call(mod.Seq2SeqTransformer, V, 16, 4, 1, 2, 24)
    src, tgt_in = sources(rng, 3, 6), torch.from_numpy(rng.integers(1, V, (3, 4)))
    logits, weights = pair(call(net, src, tgt_in), "Seq2SeqTransformer")
    for what, value, shape in (("logits", logits, (3, 4, V)), ("weights", weights, (3, 4, 4, 6))):
        assert_true(isinstance(value, torch.Tensor) and value.dtype == torch.float32
                    and tuple(value.shape) == shape,
                    f"the model's {what} must be a float32 tensor of shape {shape} for src "
                    f"(3, 6) and tgt_in (3, 4), 4 heads, V={V}; got {describe(value)}")  # fmt: skip


def test_parameter_count_matches_torch():
    net = call(mod.Seq2SeqTransformer, V, 16, 4, 2, 3, 24, max_len=40)
    n = sum(p.numel() for p in net.parameters())
    want = oracle.n_parameters(V, 16, 4, 24, 2, 3)
    why = {40 * 16: ": the positional table counts as a parameter (make it a buffer)",
           -V * 16: ": src and tgt share one embedding (the model has two)",
           -2 * 2 * 16: ": the final encoder_norm and decoder_norm are missing"}  # fmt: skip
    assert_true(n == want, f"Seq2SeqTransformer({V}, 16, 4, 2, 3, 24) has {n} parameters; "
                f"nn.Transformer with two embeddings and a generator has {want}"
                f"{why.get(n - want, '')}")  # fmt: skip


@pytest.mark.oracle
@NORMS
def test_seq2seq_transformer_matches_torch(norm_first, rng):
    net, dims = small_model(rng, norm_first)
    src, tgt_in = sources(rng, 3, 6), torch.from_numpy(rng.integers(1, V, (3, 5)))
    logits, weights = pair(call(net, src, tgt_in), "Seq2SeqTransformer")
    want, want_w = oracle.forward(net, src, tgt_in, dims)
    assert_close(logits, want, tol="matmul", name="logits", mistakes={
        "no causal mask: the decoder sees the future":
            lambda: oracle.forward(net, src, tgt_in, dims, causal=False)[0],
    })  # fmt: skip
    assert_close(weights, want_w, tol="matmul", name="the last decoder layer's cross-attention")


@pytest.mark.oracle
def test_seq2seq_transformer_gradients_match_torch(rng):
    net, dims = small_model(rng, norm_first=True)
    src, tgt_in = sources(rng, 2, 5), torch.from_numpy(rng.integers(1, V, (2, 4)))
    target = torch.from_numpy(rng.integers(2, V, (2, 4)))
    logits, _ = pair(call(net, src, tgt_in), "Seq2SeqTransformer")
    F.cross_entropy(logits.flatten(0, 1), target.flatten()).backward()
    want = oracle.gradients(net, src, tgt_in, target, dims)
    for name, p in net.named_parameters():
        assert_true(p.grad is not None, f"{name} got no gradient: is it used in forward?")
        assert_close(p.grad, want[name], tol="grad", name=f"d loss / d {name}")


@pytest.mark.edge
def test_logits_at_step_t_ignore_the_later_target_tokens(rng):
    net, _ = small_model(rng)
    src, tgt_in = sources(rng, 3, 6), torch.from_numpy(rng.integers(1, V, (3, 6)))
    t = 2
    changed = tgt_in.clone()
    changed[:, t + 1 :] = (tgt_in[:, t + 1 :] + 1) % V
    before, _ = pair(call(net, src, tgt_in), "Seq2SeqTransformer")
    after, _ = call(net, src, changed)
    gap = float((after[:, : t + 1] - before[:, : t + 1]).abs().max().detach())
    assert_true(gap < 1e-9, f"changing tgt_in[:, {t + 1}:] changed the logits of steps 0..{t} "
                f"by up to {gap:.3g}: step t sees later steps (a causal mask that is missing, "
                "off by one, or inverted)")  # fmt: skip


@pytest.mark.edge
def test_extra_padding_changes_no_logit(rng):
    net, _ = small_model(rng)
    src, tgt_in = sources(rng, 3, 5), torch.from_numpy(rng.integers(1, V, (3, 4)))
    wider = torch.cat([src, torch.full((3, 4), PAD)], dim=1)  # the same strings, 4 more PADs
    before, _ = pair(call(net, src, tgt_in), "Seq2SeqTransformer")
    after, weights = call(net, wider, tgt_in)
    gap = float((after - before).abs().max().detach())
    assert_true(gap < 1e-9, f"padding each source with 4 more PAD tokens changed the logits by "
                f"up to {gap:.3g}: the padding mask must block PAD keys in the encoder's "
                "self-attention and in the decoder's cross-attention")  # fmt: skip
    seen = float(weights[..., 5:].abs().max().detach())
    assert_true(seen == 0, f"the cross-attention gives weight up to {seen:.3g} to PAD positions")


# ----------------------------------------------------------------------------- teacher forcing


@pytest.mark.parametrize("L", [pytest.param(1, marks=pytest.mark.edge), 5])
def test_shift_right_puts_bos_first_and_drops_the_last_token(L, rng):
    tgt = torch.from_numpy(rng.integers(oracle.DIGIT0, V, (3, L)))
    out = call(mod.shift_right, tgt, BOS)
    bos = torch.full((3, 1), BOS)
    assert_close(out, torch.cat([bos, tgt[:, :-1]], 1), name="tgt_in", mistakes={
        "not shifted: step t would read the very token it must predict": tgt,
        "shifted the wrong way (BOS at the end)": torch.cat([tgt[:, 1:], bos], 1),
    })  # fmt: skip


@pytest.mark.oracle
def test_sequence_loss_matches_torch(rng):
    net, dims = small_model(rng, norm_first=True)  # pre-norm: the loss depends more on tgt_in
    src, tgt = oracle.make_sorting(4, torch.Generator().manual_seed(int(rng.integers(2**31))))
    loss = call(mod.sequence_loss, net, src, tgt, BOS)
    assert_true(isinstance(loss, torch.Tensor) and loss.requires_grad,
                f"sequence_loss must return a tensor with a gradient; got "
                f"{describe(loss)}")  # fmt: skip

    def ce(tgt_in, ignore=PAD):
        logits = oracle.forward(net, src, tgt_in, dims)[0]
        return F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=ignore)

    bos = torch.full_like(tgt[:, :1], BOS)
    shifted = torch.cat([bos, tgt[:, :-1]], 1)
    assert_close(loss, ce(shifted), tol="reduction", name="the loss", mistakes={
        "teacher forcing without the shift: model(src, tgt) reads the answer": lambda: ce(tgt),
        "PAD targets counted in the mean": lambda: ce(shifted, ignore=-100),
    })  # fmt: skip


def test_greedy_decode_feeds_back_its_own_predictions(rng):
    model = oracle.Scripted()  # next token: a known function of every token fed in so far
    src, steps = sources(rng, 4, 5), 6
    tokens, weights = pair(call(mod.greedy_decode, model, src, steps, BOS), "greedy_decode")
    bos = torch.full((4, 1), BOS)
    full, want_w = model(src, torch.cat([bos, tokens[:, :-1]], 1))
    first = model(src, bos)[0].argmax(-1)  # (4, 1): what step 0 predicts
    assert_close(tokens, full.argmax(-1), name="tokens", mistakes={
        "the prediction never fed back: every step decodes from BOS alone (or reads the "
        "logits of step 0)": first.expand(4, steps),
    })  # fmt: skip
    assert_close(weights, want_w, name="the last step's cross-attention")


@pytest.mark.oracle
def test_greedy_decode_is_the_argmax_of_the_full_forward(rng):
    net, dims = small_model(rng)
    src, steps = sources(rng, 5, 6), 7
    tokens, weights = pair(call(mod.greedy_decode, net, src, steps, BOS), "greedy_decode")
    assert_true(isinstance(tokens, torch.Tensor) and tokens.dtype == torch.int64
                and tuple(tokens.shape) == (5, steps),
                f"greedy_decode(model, src (5, 6), {steps}, BOS) must return int64 tokens "
                f"(5, {steps}), BOS left out; got {describe(tokens)}")  # fmt: skip
    bos = torch.full((5, 1), BOS)
    logits, want_w = oracle.forward(net, src, torch.cat([bos, tokens[:, :-1]], 1), dims)
    first = oracle.forward(net, src, bos, dims)[0].argmax(-1)  # (5, 1)
    assert_close(tokens, logits.argmax(-1), name="tokens", mistakes={
        "the prediction never fed back: every step decodes from BOS alone":
            first.expand(5, steps),
    })  # fmt: skip
    assert_close(weights, want_w, tol="matmul", name="the last step's cross-attention")


@pytest.mark.oracle
def test_train_follows_the_recipe(rng):
    net = randomize(call(mod.Seq2SeqTransformer, V, 8, 2, 1, 1, 16), rng, scale=0.3)
    start = copy.deepcopy(net)
    src, tgt = oracle.make_sorting(32, torch.Generator().manual_seed(1))
    recipe = {"steps": 5, "batch_size": 8, "lr": 0.01, "warmup": 2}
    losses = call(mod.train, net, src, tgt, bos_id=BOS,
                  generator=torch.Generator().manual_seed(2), **recipe)  # fmt: skip

    def run(slip=None):
        model = copy.deepcopy(start)
        got = oracle.train(model, src, tgt, generator=torch.Generator().manual_seed(2),
                           slip=slip, **recipe)  # fmt: skip
        return np.array(got), model

    want, trained = run()
    assert_true(isinstance(losses, list) and len(losses) == recipe["steps"]
                and all(isinstance(x, float) for x in losses),
                f"train must return one Python float per step ({recipe['steps']}); got "
                f"{describe(losses)}")  # fmt: skip
    slips = ("unshifted", "no zero_grad", "no schedule")
    labels = ("teacher forcing without the shift", "no opt.zero_grad(): gradients pile up",
              "no sched.step(): the learning rate never warms up")  # fmt: skip
    slipped = {label: (lambda s=s: run(s)[0]) for label, s in zip(labels, slips)}
    assert_close(np.array(losses), want, tol="grad", name="the losses of the steps",
                 mistakes=slipped)  # fmt: skip
    mine = dict(net.named_parameters())
    for name, p in trained.named_parameters():
        assert_close(mine[name], p, tol="grad", name=f"{name} after training", inplace=True)


# ----------------------------------------------------------------------------- training (slow)

# Measured with the reference solution (one thread): 10,000 training strings of 1-8 digits,
# Seq2SeqTransformer(13, 64, 4, 2, 2, 128, norm_first=True), 600 steps of batch 64, Adam
# (0.9, 0.98), lr 3e-3 warmed up over 60 steps then decayed linearly. See the report.
ACC_BAR, POINT_BAR = 0.99, 0.8
RECIPE = {"steps": 600, "batch_size": 64, "lr": 3e-3, "warmup": 60}


@pytest.mark.training
def test_transformer_learns_to_sort_digit_strings(tmp_path):
    gen = torch.Generator().manual_seed(0)
    src, tgt = oracle.make_sorting(10_000, gen)
    test_src, test_tgt = oracle.make_sorting(1_000, gen)
    torch.manual_seed(0)
    net = call(mod.Seq2SeqTransformer, V, 64, 4, 2, 2, 128, norm_first=True)
    losses = call(mod.train, net, src, tgt, bos_id=BOS, generator=gen, **RECIPE)
    net.eval()
    pred, weights = call(mod.greedy_decode, net, test_src, test_tgt.shape[1], BOS)
    acc = oracle.sequence_accuracy(pred, test_tgt)
    # where the head-averaged cross-attention looks hardest, while writing a digit: at a
    # source position holding that very digit?
    looked = test_src.gather(1, weights.mean(1).argmax(-1))  # (N, L) source token looked at
    digits = test_tgt >= oracle.DIGIT0
    points = float((looked == test_tgt)[digits].double().mean())
    note(
        f"mini_transformer: {acc:.1%} of 1,000 new digit strings sorted exactly by greedy "
        f"decoding; while writing a digit, the last layer's cross-attention looks hardest at "
        f"a copy of that digit in {points:.1%} of steps"
    )
    curve = ", ".join(f"{np.mean(losses[i : i + 100]):.3f}" for i in range(0, len(losses), 100))
    assert_true(acc >= ACC_BAR, f"after {RECIPE['steps']} steps only {acc:.1%} of new strings "
                f"come out sorted; a correct model reaches {ACC_BAR:.0%}. Mean loss of every "
                f"100 steps: {curve}")  # fmt: skip
    assert_true(points >= POINT_BAR, f"the cross-attention should look up the digit being "
                f"written; it looks hardest at a copy of it in {points:.1%} of steps, expected "
                f"{POINT_BAR:.0%}")  # fmt: skip
    n = int(test_src.ne(PAD).sum(1).argmax())  # the longest example
    S = int(test_src[n].ne(PAD).sum())
    path = tmp_path / "cross_attention.png"
    oracle.plot_attention(weights[n].mean(0)[: S + 1, :S], oracle.as_text(test_src[n, :S]),
                          oracle.as_text(pred[n, : S + 1]), path)  # fmt: skip
    assert_png(
        path,
        "the reference's plot_attention(weights, src_labels, out_labels, path)",
        min_bytes=1000,
    )
    note(f"mini_transformer: the cross-attention of one sorted string is drawn in {path}")
