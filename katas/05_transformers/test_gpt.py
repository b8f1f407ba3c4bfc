"""gpt.py: batches, causal attention, blocks, the tied GPT, its init, a KV cache and sampling,
checked against a float64 torch oracle; then a GPT trained on characters (slow, last)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_png, assert_raises, assert_true, call, kata, note
from checker import strategies as cs
from reference.oracles import gpt as oracle

mod = kata("05_transformers/gpt")
SMALL = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)


def config(**kw):
    return mod.GPTConfig(**{**SMALL, **kw})


def randomize(module, std=0.5):
    """Every parameter ~ N(0, std^2): LayerNorm gains and biases too, so none hides as 1 or 0."""
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, std)
    return module.double()


def make(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = config(**kw)
    return randomize(call(mod.GPT, cfg)), cfg


def ids(rng, shape, V=SMALL["vocab_size"]):
    return torch.from_numpy(rng.integers(0, V, shape))


def check_tensor(value, what, shape, dtype):
    __tracebackhide__ = True
    got = (
        f"{type(value).__name__} {getattr(value, 'dtype', '')} {tuple(getattr(value, 'shape', ()))}"
    )
    assert_true(
        isinstance(value, torch.Tensor)
        and tuple(value.shape) == tuple(shape)
        and value.dtype == dtype,
        f"{what} must be a {dtype} tensor of shape {tuple(shape)}; got {got}",
    )


def pair(out, what):
    __tracebackhide__ = True
    assert_true(
        isinstance(out, tuple) and len(out) == 2,
        f"{what} must return a pair; got {type(out).__name__}",
    )
    return out


# ----------------------------------------------------------------------------- batches


def test_get_batch_targets_are_the_next_tokens():
    data = torch.randperm(120, generator=torch.Generator().manual_seed(0))[::2]  # distinct ids
    x, y = pair(
        call(mod.get_batch, data, 6, 5, generator=torch.Generator().manual_seed(1)), "get_batch"
    )
    for value, what in ((x, "x"), (y, "y")):
        check_tensor(
            value, f"get_batch(data, batch_size=6, block_size=5)'s {what}", (6, 5), torch.int64
        )
    starts = [int((data == first).nonzero()[0, 0]) for first in x[:, 0]]
    assert_true(
        all(s <= len(data) - 6 for s in starts),
        f"every window must start at 0 .. "
        f"len(data) - block_size - 1 = {len(data) - 6}, so that its targets fit; starts "
        f"{starts}",
    )
    want_x = torch.stack([data[s : s + 5] for s in starts])
    assert_close(x, want_x, name="x (each row must be 5 consecutive tokens of data)")
    assert_close(
        y,
        torch.stack([data[s + 1 : s + 6] for s in starts]),
        name="y",
        mistakes={"targets not shifted: y equals x (predicting the token you were given)": want_x},
    )


@pytest.mark.edge
def test_get_batch_reaches_the_last_window_and_follows_its_generator():
    data = torch.arange(7)
    x, y = call(mod.get_batch, data, 3, 6, generator=torch.Generator().manual_seed(0))
    assert_close(y, data[1:].expand(3, 6), name="y (data has block_size + 1 tokens: one window)")
    data = torch.arange(1000)
    a = call(mod.get_batch, data, 8, 4, generator=torch.Generator().manual_seed(5))
    b = call(mod.get_batch, data, 8, 4, generator=torch.Generator().manual_seed(5))
    assert_true(
        torch.equal(a[0], b[0]),
        "two generators with the same seed must give the same "
        "batch: draw the starts with torch.randint(..., generator=generator)",
    )


# ----------------------------------------------------------------------------- attention


def check_attention(x, cfg, seed):
    __tracebackhide__ = True
    torch.manual_seed(seed)
    att = randomize(call(mod.CausalSelfAttention, cfg))
    B, T, E = x.shape
    y, (k, v) = pair(call(att, x), "CausalSelfAttention.forward")
    p, H, hs = oracle.weights(att, "a"), cfg.n_head, E // cfg.n_head
    want, (want_k, want_v) = oracle.attention(p, "a", x, H)
    slips = {
        "each position also sees the next one (the mask is off by one)": dict(diagonal=1),
        "no causal mask: positions see the future": dict(causal=False),
        "scores not divided by sqrt(head size)": dict(scale=1.0),
        "scores divided by sqrt(n_embd), not sqrt(head size)": dict(scale=E**-0.5),
        "softmax over the queries (dim=-2), not over the keys": dict(softmax_dim=-2),
        "heads cut with view(B, n_head, T, hs): use view(B, T, n_head, hs).transpose(1, 2)": dict(
            heads_by_view=True
        ),
    }
    mistakes = {
        m: (lambda kw=kw: oracle.attention(p, "a", x, H, **kw)[0]) for m, kw in slips.items()
    }
    check_tensor(y, "y", (B, T, E), x.dtype)
    assert_close(y, want, tol="matmul", name="y", mistakes=mistakes)
    assert_close(
        y,
        oracle.attention(p, "a", x, H, sdpa=True)[0],
        tol="matmul",
        name="y (against F.scaled_dot_product_attention(..., is_causal=True))",
    )
    assert_close(k, want_k, tol="matmul", name=f"k (B, n_head, T, head size) = {(B, H, T, hs)}")
    assert_close(v, want_v, tol="matmul", name=f"v (B, n_head, T, head size) = {(B, H, T, hs)}")


@pytest.mark.oracle
def test_causal_self_attention_matches_torch(rng):
    x = torch.from_numpy(rng.standard_normal((3, 6, 8)))
    check_attention(x, config(n_head=2), seed=0)


@pytest.mark.property
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 6),
    H=st.integers(1, 3),
    hs=st.integers(1, 3),
    layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)
def test_causal_self_attention_matches_torch_for_any_shapes(B, T, H, hs, layout, seed):
    x = np.random.default_rng(seed).standard_normal((B, T, H * hs))
    x = torch.from_numpy(cs.relayout(x, layout))  # transposed or strided views too
    check_attention(x, config(n_head=H, n_embd=H * hs), seed=seed % 2**16)


@pytest.mark.edge
def test_attention_refuses_heads_that_do_not_divide_n_embd():
    assert_raises(ValueError, mod.CausalSelfAttention, config(n_head=3), why="n_head=3, n_embd=8")


@pytest.mark.oracle
def test_block_is_pre_norm_and_matches_torch(rng):
    torch.manual_seed(0)
    block = randomize(call(mod.Block, config()))
    x = torch.from_numpy(rng.standard_normal((2, 5, 8)))
    out, _ = pair(call(block, x), "Block.forward")
    p = oracle.weights(block, "b")
    want, _ = oracle.block(p, "b", x, 2)
    post = "post-norm (x = ln_1(x + attn(x))): GPT-2 normalises only each sublayer's input"
    slip = {
        post: lambda: oracle.block(p, "b", x, 2, post_norm=True)[0],
        "GELU's tanh approximation: use the exact nn.GELU()": lambda: oracle.block(
            p, "b", x, 2, gelu="tanh"
        )[0],
    }
    assert_close(out, want, tol="matmul", name="the block's output", mistakes=slip)


# ----------------------------------------------------------------------------- the model


def gpt_slips(p, cfg, idx, cache=None):
    kinds = {
        "no position embedding: x = wte(idx) only": dict(positions=False),
        "no final LayerNorm ln_f before the head": dict(final_norm=False),
        "lm_head not tied to wte: a separate output matrix": dict(tied=False),
    }
    return {k: (lambda kw=kw: oracle.gpt(p, cfg, idx, cache, **kw)[0]) for k, kw in kinds.items()}


@pytest.mark.oracle
@pytest.mark.parametrize("bias", [True, False])
def test_gpt_forward_matches_torch(bias, rng):
    model, cfg = make(bias=bias)
    idx, targets = ids(rng, (3, 7)), ids(rng, (3, 7))
    logits, loss = pair(call(model, idx, targets), "GPT.forward(idx, targets)")
    p = oracle.weights(model)
    check_tensor(logits, "logits", (3, 7, cfg.vocab_size), torch.float64)
    assert_close(
        logits,
        oracle.gpt(p, cfg, idx)[0],
        tol="matmul",
        name="logits",
        mistakes=gpt_slips(p, cfg, idx),
    )
    assert_close(loss, oracle.loss(p, cfg, idx, targets), tol="matmul", name="loss")
    assert_true(call(model, idx)[1] is None, "GPT.forward(idx) without targets must give loss None")
    biases = [n for n, _ in model.named_parameters() if n.endswith("bias")]
    assert_true(
        bias or not biases,
        f"GPTConfig(bias=False) must build Linear and LayerNorm "
        f"layers without bias (bias=False); found {biases[:3]}",
    )


@pytest.mark.parametrize("bias", [True, False])
def test_parameter_count_is_gpt2s(bias):
    torch.manual_seed(0)
    cfg = config(bias=bias, n_layer=3)
    model = call(mod.GPT, cfg)
    V, T, E, L = cfg.vocab_size, cfg.block_size, cfg.n_embd, cfg.n_layer
    per_block = 12 * E * E + (13 * E if bias else 2 * E)  # 2 norms, c_attn, c_proj, c_fc, c_proj
    want = V * E + T * E + L * per_block + (2 * E if bias else E)  # + ln_f; the head is wte
    got = sum(p.numel() for p in model.parameters())
    extra = {
        V * E: " (V x E too many: is lm_head a second matrix? tie it to wte)",
        -T * E: " (no position embedding wpe?)",
    }.get(got - want, "")
    assert_true(got == want, f"GPT({cfg}) has {got} parameters; GPT-2's layout has {want}{extra}")


@pytest.mark.oracle
def test_gpt_gradients_match_torch(rng):
    model, cfg = make(seed=1)
    idx, targets = ids(rng, (2, 8)), ids(rng, (2, 8))
    _, loss = call(model, idx, targets)
    loss.backward()
    p = {k: v.requires_grad_() for k, v in oracle.weights(model).items()}
    oracle.loss(p, cfg, idx, targets).backward()
    for name, param in model.named_parameters():
        assert_true(param.grad is not None, f"{name} got no gradient from loss.backward()")
        want = p[name].grad if p[name].grad is not None else torch.zeros_like(p[name])
        assert_close(param.grad, want, tol="grad", name=f"d loss / d {name}")


def test_lm_head_is_the_token_embedding(rng):
    torch.manual_seed(0)
    model = call(mod.GPT, config())
    assert_true(
        model.lm_head.weight is model.wte.weight,
        "model.lm_head.weight must be the same "
        "Parameter object as model.wte.weight (weight tying: self.lm_head.weight = "
        "self.wte.weight), not a copy",
    )
    before = model.wte.weight.detach().clone()
    _, loss = call(model, ids(rng, (2, 8)), ids(rng, (2, 8)))
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=1.0).step()
    assert_true(
        not torch.equal(model.wte.weight, before)
        and torch.equal(model.lm_head.weight, model.wte.weight),
        "after an SGD step the tied matrix must have moved and lm_head and wte must still agree",
    )


def test_init_is_gpt2s():
    torch.manual_seed(0)
    cfg = config(vocab_size=200, block_size=64, n_layer=4, n_embd=32)
    model = call(mod.GPT, cfg)
    resid = 0.02 / math.sqrt(2 * cfg.n_layer)
    groups = {"wte.weight and wpe.weight": ["wte.weight", "wpe.weight"]}
    for kind in ("attn.c_attn", "mlp.c_fc", "attn.c_proj", "mlp.c_proj"):
        groups[f"h.*.{kind}.weight"] = [f"h.{i}.{kind}.weight" for i in range(cfg.n_layer)]
    named = dict(model.named_parameters())
    for group, names in groups.items():
        w = torch.cat([named[n].detach().double().flatten() for n in names])
        std = resid if "c_proj" in group else 0.02
        n, got_std, got_mean = w.numel(), float(w.std()), float(w.mean())
        kurt = float(((w - w.mean()) ** 4).mean() / w.var(unbiased=False) ** 2)
        # sampling error of N(0, std^2): std of the mean std/sqrt(n), of the std std/sqrt(2n),
        # of the kurtosis sqrt(24/n); 6 of each is a bar a correct init never misses
        ok = (
            abs(got_std - std) <= 6 * std / math.sqrt(2 * n)
            and abs(got_mean) <= 6 * std / math.sqrt(n)
            and abs(kurt - 3) <= 6 * math.sqrt(24 / n)
        )
        why = " (residual projections: 0.02 / sqrt(2 n_layer))" if "c_proj" in group else ""
        assert_true(
            ok,
            f"{group}: {n} values with mean {got_mean:.3g}, std {got_std:.4g}, "
            f"kurtosis {kurt:.2f}; GPT-2 draws them from N(0, {std:.4g}^2){why}, "
            f"kurtosis 3 (a uniform draw has 1.8)",
        )
    for name, value in named.items():
        if "ln_" in name or name.endswith("bias"):
            want = 1.0 if "ln_" in name and name.endswith("weight") else 0.0
            assert_true(bool(torch.all(value == want)), f"{name} must start at {want:g}")


@pytest.mark.property
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 8),
    data=st.data(),
    layout=cs.layouts(),
    seed=st.integers(0, 2**32 - 1),
)
def test_changing_token_t_leaves_earlier_logits_unchanged(B, T, data, layout, seed):
    t = data.draw(st.integers(0, T - 1), label="t")
    model, cfg = make(seed=seed % 2**16)
    rng = np.random.default_rng(seed)
    before = rng.integers(0, cfg.vocab_size, (B, T))
    after = before.copy()
    after[:, t] = (after[:, t] + 1) % cfg.vocab_size
    idx = torch.from_numpy(cs.relayout(before, layout))  # transposed or strided views too
    logits, _ = call(model, idx)
    assert_close(
        logits, oracle.gpt(oracle.weights(model), cfg, idx)[0], tol="matmul", name="logits"
    )
    changed, _ = call(model, torch.from_numpy(after))
    moved = (changed - logits).detach().abs().amax(dim=(0, 2))  # (T,): how far each moved
    assert_true(
        bool(torch.all(moved[:t] <= 1e-9)),
        f"changing token {t} of {T} moved the "
        f"logits at earlier positions by {moved[:t].tolist()}: position s may only "
        f"see tokens 0..s (is the mask off by one?)",
    )
    assert_true(
        float(moved[t]) > 1e-9,
        f"changing token {t} left its own logits unchanged: position t must see token t",
    )


@pytest.mark.edge
def test_forward_refuses_more_tokens_than_block_size(rng):
    model, cfg = make()
    assert_raises(
        ValueError,
        model,
        ids(rng, (1, 9)),
        why="9 tokens, block_size=8: wpe has no row for position 8",
    )


# ----------------------------------------------------------------------------- the KV cache


def check_cached(model, cfg, idx, chunks):
    """forward_cached over idx cut into chunks; each call's logits vs the uncached forward's."""
    __tracebackhide__ = True
    p = oracle.weights(model)
    full, _ = oracle.gpt(p, cfg, idx)
    B, H, hs = idx.shape[0], cfg.n_head, cfg.n_embd // cfg.n_head
    cache = want_cache = None
    start = 0
    for size in chunks:
        chunk = idx[:, start : start + size]
        logits, new = pair(call(model.forward_cached, chunk, cache), "forward_cached")
        slips = gpt_slips(p, cfg, chunk, want_cache)
        for label, kw in (
            ("positions numbered from 0 in every call, not from the cache's length", "offset"),
            (
                "the mask aligned top-left (is_causal=True with more keys than queries)",
                "bottom_right",
            ),
        ):
            slips[label] = oracle.gpt(p, cfg, chunk, want_cache, **{kw: False})[0]
        assert_close(
            logits,
            full[:, start : start + size],
            tol="matmul",
            mistakes=slips,
            name=f"logits for tokens {start}..{start + size - 1}, {start} cached",
        )
        _, want_cache = oracle.gpt(p, cfg, chunk, want_cache)
        start += size
        assert_true(
            isinstance(new, (list, tuple)) and len(new) == cfg.n_layer,
            f"forward_cached must return one (k, v) pair per layer ({cfg.n_layer})",
        )
        for i, (got, want) in enumerate(zip(new, want_cache)):
            for t, w, what in zip(pair(got, f"cache[{i}]"), want, ("keys", "values")):
                check_tensor(t, f"cache[{i}]'s {what}", (B, H, start, hs), torch.float64)
                assert_close(t, w, tol="matmul", name=f"cache[{i}]'s {what}")
        cache = new


@pytest.mark.oracle
def test_kv_cache_logits_equal_the_uncached_forward(rng):
    model, cfg = make()
    check_cached(model, cfg, ids(rng, (2, 8)), chunks=[3, 1, 2, 1, 1])


@pytest.mark.edge
def test_kv_cache_one_token_at_a_time_fills_the_block(rng):
    model, cfg = make(seed=2, n_layer=1, n_head=1)
    check_cached(model, cfg, ids(rng, (1, 8)), chunks=[1] * 8)


@pytest.mark.edge
def test_kv_cache_refuses_to_grow_past_block_size(rng):
    model, cfg = make()
    _, cache = call(model.forward_cached, ids(rng, (1, 7)))
    err = assert_raises(
        ValueError,
        model.forward_cached,
        ids(rng, (1, 2)),
        cache,
        why="7 cached + 2 new tokens > block_size=8",
    )
    assert_true("block_size" in str(err), f"the error must name block_size; got: {err}")


# ----------------------------------------------------------------------------- generation


@pytest.mark.oracle
def test_greedy_generation_matches_torch(rng):
    model, cfg = make(seed=3)
    prompt = ids(rng, (2, 5))
    try:
        out = call(model.generate, prompt, 7, temperature=0.0)
    except ValueError as exc:
        raise AssertionError(
            f"generate(prompt of 5, 7 new) raised ValueError ({exc}): feed the "
            "model only the last block_size tokens of idx"
        ) from exc
    check_tensor(out, "generate(prompt (2, 5), 7, temperature=0)", (2, 12), torch.int64)
    p = oracle.weights(model)
    assert_close(out, oracle.greedy(p, cfg, prompt, 7), name="the tokens")
    top1 = call(
        model.generate,
        prompt,
        7,
        temperature=1.0,
        top_k=1,
        generator=torch.Generator().manual_seed(0),
    )
    smallest = {
        "top_k kept the smallest logit": lambda: oracle.greedy(p, cfg, prompt, 7, torch.argmin)
    }
    assert_close(
        top1,
        out,
        name="the tokens with top_k=1 (only the greedy choice is left)",
        mistakes=smallest,
    )


@pytest.mark.parametrize("temperature,top_k", [(0.5, None), (2.0, None), (0.7, 4), (1.0, 3)])
def test_sampling_follows_the_tempered_top_k_softmax(temperature, top_k, rng):
    model, cfg = make(seed=4)
    N, prompt = 4000, ids(rng, (1, 4))
    logits = call(model, prompt)[0][0, -1].detach()  # your logits: only sampling is tested here
    g = torch.Generator().manual_seed(0)
    out = call(
        model.generate, prompt.expand(N, 4), 1, temperature=temperature, top_k=top_k, generator=g
    )
    counts = torch.bincount(out[:, -1], minlength=cfg.vocab_size).double()
    alts = {
        "logits multiplied by the temperature": (1 / temperature, top_k, True),
        "top-k keeps the k smallest logits": (temperature, top_k, False),
        "no temperature": (1.0, top_k, True),
        "no top-k": (temperature, None, True),
    }

    def fits(probs):  # within 6 binomial standard deviations (+2 counts) for every token
        return bool(
            torch.all((counts - N * probs).abs() <= 6 * (N * probs * (1 - probs)).sqrt() + 2)
        )

    want = oracle.next_token_probs(logits, temperature, top_k)
    if not fits(want):
        table = "\n".join(
            f"  token {v:2}: expected {N * want[v]:7.1f}, you drew {int(counts[v])}"
            for v in range(cfg.vocab_size)
        )
        slips = [
            label
            for label, a in alts.items()
            if a[:2] != (temperature, top_k) and fits(oracle.next_token_probs(logits, *a))
        ]
        assert_true(
            False,
            f"{N} draws of the next token (temperature={temperature}, top_k="
            f"{top_k}) do not follow softmax(logits / temperature) over the top_k "
            f"largest logits:\n{table}" + "".join(f"\nLikely mistake: {s}." for s in slips),
        )
    same = call(
        model.generate,
        prompt.expand(N, 4),
        1,
        temperature=temperature,
        top_k=top_k,
        generator=torch.Generator().manual_seed(0),
    )
    assert_true(
        torch.equal(same, out),
        "the same generator seed must give the same samples: "
        "torch.multinomial(probs, 1, generator=generator)",
    )


# ----------------------------------------------------------------------------- training

# Measured with the reference solution, seeds 0, 1, 2 (one thread, 8-10 s of CPU each):
# GPT(block_size=32, n_layer=2, n_head=4, n_embd=64), 600 AdamW steps of 32 windows, lr 1e-2
# with warm-up and cosine decay; validation loss in nats/char on 200 windows of the last 10%:
# Tiny Shakespeare 2.012, 1.997, 1.993 (unigram baseline 3.288, bigram 2.472); pydoc topics
# 1.951, 1.931, 1.969 (unigram 3.301, bigram 2.667). The bar is below the bigram model's loss:
# it takes context, not just the last character. Below FLOOR the model is reading the future.
BAR = {"tinyshakespeare": 2.2, "pydoc": 2.2}
FLOOR = 1.0
TRAIN = dict(steps=600, batch_size=32, lr=1e-2)
SHAPE = dict(block_size=32, n_layer=2, n_head=4, n_embd=64)


@pytest.mark.training
def test_gpt_learns_a_character_language_model(tmp_path):
    name, text = oracle.corpus()
    data, vocab = oracle.encode(text)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    x_val, y_val = oracle.val_windows(val, SHAPE["block_size"], 200)
    baseline, bar = oracle.unigram_loss(train, y_val, len(vocab)), BAR[name]
    torch.manual_seed(0)
    model = call(mod.GPT, mod.GPTConfig(vocab_size=len(vocab), **SHAPE))
    history = oracle.train(
        model,
        mod.get_batch,
        train,
        generator=torch.Generator().manual_seed(0),
        eval_fn=lambda m: oracle.evaluate(m, x_val, y_val),
        every=100,
        **TRAIN,
    )
    loss = history[-1][2]
    model.eval()
    prompt = data[split : split + 16].view(1, -1)
    out = call(
        model.generate,
        prompt,
        200,
        temperature=0.8,
        top_k=10,
        generator=torch.Generator().manual_seed(0),
    )
    sample = "".join(vocab[i] for i in out[0].tolist())
    oracle.plot_losses(history, baseline, bar, tmp_path / "gpt_loss.png")
    png = tmp_path / "gpt_loss.png"
    assert_png(png, "the reference's plot_losses(history, baseline, bar, path)", sides=(200, 2000))
    curve = ", ".join(f"{s}: {v:.3f}" for s, _, v in history)
    note(
        f"gpt trained on {oracle.CORPORA[name]}: validation loss {loss:.3f} nats/char (the bar "
        f"{bar}, the unigram baseline {baseline:.3f}); loss curve {png}; a sample:\n{sample}"
    )
    assert_true(
        loss > FLOOR,
        f"validation loss {loss:.3f} nats/char is too good to be true for "
        f"a model this small (below {FLOOR}): each position sees the token it must predict. "
        "Check the causal mask",
    )
    assert_true(
        loss <= bar,
        f"after {TRAIN['steps']} steps the validation loss is {loss:.3f} "
        f"nats/char; a correct GPT reaches {bar} on {name} (predicting character "
        f"frequencies alone gives {baseline:.3f}). Validation loss by step: {curve}",
    )
