"""seq2seq_attention.py: dot, general and additive scores, masked attention, an encoder-decoder
with teacher forcing and greedy decoding; then trained to reverse digit strings (slow, last)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_png, assert_raises, assert_true, call, kata, note
from checker import strategies as cs
from reference.oracles import seq2seq_attention as oracle

mod = kata("04_rnn/seq2seq_attention")
PAD, BOS, EOS = oracle.PAD, oracle.BOS, oracle.EOS


def t64(rng, *shape, scale=1.0):
    return torch.from_numpy(scale * rng.standard_normal(shape))


def random_mask(rng, N, S, empty_rows=()):
    """(N, S) bool, at least one True per row except the rows named in empty_rows."""
    mask = rng.random((N, S)) < 0.6
    mask[np.arange(N), rng.integers(0, S, N)] = True
    mask[list(empty_rows)] = False
    return torch.from_numpy(mask)


def random_params(rng, method, Hq, Hk, A=4):
    return {"dot": {},
            "general": {"W": t64(rng, Hq, Hk)},
            "additive": {"W_q": t64(rng, Hq, A), "W_k": t64(rng, Hk, A), "v": t64(rng, A)},
            }[method]  # fmt: skip


def tensor_of(value, what, dtype=torch.float64):
    __tracebackhide__ = True
    got = f"{type(value).__name__} {getattr(value, 'dtype', '')}"
    assert_true(isinstance(value, torch.Tensor) and value.dtype == dtype,
                f"{what} must be a torch.Tensor of {dtype}; got {got}")  # fmt: skip
    return value


def learner_scores(method, q, k, params):
    fn = {"dot": mod.dot_score, "general": mod.general_score, "additive": mod.additive_score}
    return call(fn[method], q, k, *params.values())


def check_attention(method, q, k, v, mask, params, dtype=torch.float64):
    """The learner's score function, then attend; compared with the oracle, slips named."""
    __tracebackhide__ = True
    s = tensor_of(learner_scores(method, q, k, params), f"{method}_score's result", dtype)
    qd, kd, vd = q.double(), k.double(), v.double()
    pd = {n: p.double() for n, p in params.items()}
    want_s = oracle.scores(method, qd, kd, pd)
    square = method == "general" and pd["W"].shape[0] == pd["W"].shape[1]
    slips = {"dot": {"scaled by 1/sqrt(H) (Luong's dot is unscaled)": want_s / kd.shape[-1] ** 0.5},
             "general": {"W transposed (query @ W.T)":
                         oracle.scores(method, qd, kd, pd, transpose_W=True) if square else None},
             "additive": {"no tanh": oracle.scores(method, qd, kd, pd, tanh=False)}}  # fmt: skip
    assert_close(s, want_s, tol="matmul", name="the scores", dtype=dtype, mistakes=slips[method])
    context, weights = call(mod.attend, s.detach(), v, mask)
    tensor_of(weights, "attend's weights", dtype)
    want_c, want_w = oracle.attend(want_s, vd, mask)
    if method != "additive":
        want_c = oracle.sdpa_context(method, qd, kd, vd, mask, pd)  # torch's own attention
    empty_row = mask is not None and not mask.any(1).all()
    runs = {"softmax over the batch axis 0, not the source axis": "dim0",
            "padding zeroed AFTER the softmax: the rest no longer sums to 1": "after",
            "padding not masked at all": "nomask",
            "a row of only padding left NaN (softmax of all -inf; NaN * 0 is NaN)": "nan",
            }  # fmt: skip
    runs = {label: oracle.attend(want_s, vd, mask, slip=k) for label, k in runs.items()
            if k != "nan" or empty_row}  # fmt: skip
    assert_close(weights, want_w, tol="reduction", name="the weights", dtype=dtype,
                 mistakes={label: r[1] for label, r in runs.items()})  # fmt: skip
    if mask is not None:
        leaked = float(weights.detach()[~mask].abs().max()) if (~mask).any() else 0.0
        assert_true(leaked == 0.0, f"padded positions must get exactly zero weight; the "
                    f"largest weight on padding is {leaked:.3g}")  # fmt: skip
    assert_close(tensor_of(context, "attend's context", dtype), want_c, tol="matmul",
                 name="the context", dtype=dtype,
                 mistakes={label: r[0] for label, r in runs.items()})  # fmt: skip
    return context, weights


@pytest.mark.oracle
@pytest.mark.parametrize("method,Hq,Hk", [("dot", 5, 5), ("general", 5, 5), ("general", 4, 6),
                                          ("additive", 3, 5)])  # fmt: skip
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_attention_matches_torch(method, Hq, Hk, dtype, rng):
    """Square W first: W.T then gives wrong numbers rather than a shape error."""
    N, S = 4, 6
    q, k, v = t64(rng, N, Hq), t64(rng, N, S, Hk), t64(rng, N, S, 3)
    params = {n: p.to(dtype) for n, p in random_params(rng, method, Hq, Hk).items()}
    check_attention(method, q.to(dtype), k.to(dtype), v.to(dtype), random_mask(rng, N, S),
                    params, dtype)  # fmt: skip


@pytest.mark.property
@given(N=st.integers(1, 4), S=st.integers(1, 6), Hq=st.integers(1, 4), Hk=st.integers(1, 4),
       method=st.sampled_from(["dot", "general", "additive"]), masked=st.booleans(),
       layout=cs.layouts(), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_weights_sum_to_one_for_any_shapes_and_layouts(N, S, Hq, Hk, method, masked, layout,
                                                       seed):  # fmt: skip
    rng = np.random.default_rng(seed)
    Hq = Hk if method == "dot" else Hq

    def strided(*shape):
        return torch.from_numpy(cs.relayout(rng.standard_normal(shape), layout))

    q, k, v = strided(N, Hq), strided(N, S, Hk), strided(N, S, 2)
    params = {n: torch.from_numpy(cs.relayout(p.numpy(), layout))
              for n, p in random_params(rng, method, Hq, Hk).items()}  # fmt: skip
    mask = random_mask(rng, N, S) if masked else None
    _, weights = check_attention(method, q, k, v, mask, params)
    assert_close(weights.sum(-1), torch.ones(N, dtype=torch.float64), tol="reduction",
                 name="the weights' row sums")  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("method", ["dot", "general", "additive"])
def test_attention_gradients_match_torch(method, rng):
    N, S, H = 3, 5, 4
    leaves = {"query": t64(rng, N, H), "keys": t64(rng, N, S, H), "values": t64(rng, N, S, 2),
              **random_params(rng, method, H, H)}  # fmt: skip
    mask = random_mask(rng, N, S)
    g_ctx, g_w = t64(rng, N, 2), t64(rng, N, S)

    def grads(score_fn, attend_fn):
        x = {n: t.clone().requires_grad_() for n, t in leaves.items()}
        p = [x[n] for n in leaves if n not in ("query", "keys", "values")]
        ctx, w = attend_fn(score_fn(x["query"], x["keys"], *p), x["values"], mask)
        assert_true(
            ctx.requires_grad and w.requires_grad,
            "attend's results have no gradient: "
            "build them from torch ops (no .detach(), .numpy() or torch.tensor(...))",
        )
        return dict(zip(x, torch.autograd.grad((ctx * g_ctx).sum() + (w * g_w).sum(), list(
            x.values()), allow_unused=True)))  # fmt: skip

    fn = {"dot": mod.dot_score, "general": mod.general_score, "additive": mod.additive_score}
    call(fn[method], leaves["query"], leaves["keys"], *list(leaves.values())[3:])
    yours = grads(fn[method], mod.attend)
    names = list(leaves)[3:]  # the score function's parameters
    want = grads(lambda q, k, *p: oracle.scores(method, q, k, dict(zip(names, p))),
                 oracle.attend)  # fmt: skip
    for name, g in want.items():
        assert_true(yours[name] is not None, f"d loss / d {name} is None: {name} was not used")
        assert_close(yours[name], g, tol="grad", name=f"d loss / d {name}")


@pytest.mark.edge
def test_huge_scores_do_not_overflow():
    scores = torch.tensor([[1e4, 1e4 - 1.0, -1e4, 0.0], [-1e4, -1e4, -1e4 + 2.0, -1e4]])
    values = torch.arange(8.0, dtype=torch.float64).reshape(1, 4, 2).repeat(2, 1, 1)
    context, weights = call(mod.attend, scores.double(), values, None)
    want_c, want_w = oracle.attend(scores.double(), values)
    assert_close(weights, want_w, tol="reduction", name="the weights")
    assert_close(context, want_c, tol="matmul", name="the context")


@pytest.mark.edge
def test_a_row_of_only_padding_gets_zero_weights_and_zero_context(rng):
    """torch's scaled_dot_product_attention gives such a row a zero output; so do we."""
    q, k, v = t64(rng, 3, 4), t64(rng, 3, 5, 4), t64(rng, 3, 5, 2)
    check_attention("dot", q, k, v, random_mask(rng, 3, 5, empty_rows=[1]), {})


@pytest.mark.edge
def test_a_row_of_only_padding_passes_back_zero_gradients(rng):
    scores = t64(rng, 2, 3).requires_grad_()
    values = t64(rng, 2, 3, 2).requires_grad_()
    mask = torch.tensor([[True, False, True], [False, False, False]])
    context, weights = call(mod.attend, scores, values, mask)
    g_s, g_v = torch.autograd.grad(context.sum() + (weights * t64(rng, 2, 3)).sum(),
                                   (scores, values))  # fmt: skip
    ok = torch.isfinite(g_s).all() and torch.isfinite(g_v).all() and not g_s[1].any()
    assert_true(bool(ok), "the gradients through a row of only padding must be finite and "
                f"zero; got d/dscores {g_s.tolist()}. Zero its NaN weights with masked_fill "
                "(a where), not by multiplying: NaN * 0 is still NaN.")  # fmt: skip


@pytest.mark.edge
def test_one_source_position_gets_all_the_weight(rng):
    check_attention(
        "additive",
        t64(rng, 1, 3),
        t64(rng, 1, 1, 2),
        t64(rng, 1, 1, 4),
        torch.ones(1, 1, dtype=torch.bool),
        random_params(rng, "additive", 3, 2),
    )


@pytest.mark.oracle
@pytest.mark.parametrize("method", ["dot", "general", "additive"])
def test_attention_module_scores_keys_and_reads_values(method, rng):
    Hq = 4 if method == "dot" else 3
    att = call(mod.Attention, method, Hq, 4, attn_size=5).double()
    params = random_params(rng, method, Hq, 4, A=5)
    for name, p in params.items():
        mine = getattr(att, name, None)
        assert_true(isinstance(mine, torch.nn.Parameter) and mine.shape == p.shape,
                    f"Attention({method!r}, {Hq}, 4, attn_size=5).{name} must be an "
                    f"nn.Parameter of shape {tuple(p.shape)}; got {mine!r:.60}")  # fmt: skip
        with torch.no_grad():
            mine.copy_(p)
    q, k, v, mask = t64(rng, 3, Hq), t64(rng, 3, 6, 4), t64(rng, 3, 6, 4), random_mask(rng, 3, 6)
    context, weights = call(att, q, k, v, mask)
    want_c, want_w = oracle.attend(oracle.scores(method, q, k, params), v, mask)
    assert_close(weights, want_w, tol="reduction", name="the weights")
    from_keys = (want_w[:, None] @ k)[:, 0]  # (N, 1, S) @ (N, S, H) -> (N, H)
    assert_close(
        context,
        want_c,
        tol="matmul",
        name="the context",
        mistakes={"the context read from the keys, not the values": from_keys},
    )


def test_attention_refuses_what_it_cannot_score():
    assert_raises(ValueError, mod.Attention, "dot", 3, 4, why="a dot product needs equal sizes")
    assert_raises(ValueError, mod.Attention, "cosine", 3, 3, why="an unknown method")


def small_model(method, rng, src_len=(1, 6)):
    torch.manual_seed(int(rng.integers(2**31)))
    model = call(mod.Seq2Seq, oracle.VOCAB, 5, 6, method).double()
    for name in ("src_embed", "encoder", "tgt_embed", "decoder", "attention", "combine", "out"):
        assert_true(hasattr(model, name), f"Seq2Seq needs self.{name} (see its __init__)")
    src, src_mask, tgt = oracle.make_reversal(5, rng, *src_len)
    return model, src, src_mask, tgt


@pytest.mark.oracle
def test_encoder_reads_each_sequence_over_its_own_tokens(rng):
    model, src, src_mask, _ = small_model("general", rng)
    enc_out, h = call(model.encode, src, src_mask)
    want_out, want_h = oracle.encode(model, src, src_mask)
    padded_out, padded_h = model.encoder(model.src_embed(src))  # the slip: GRU over the padding
    padded_h = torch.cat([padded_h[0], padded_h[1]], -1)
    assert_close(
        enc_out,
        want_out,
        tol="matmul",
        name="enc_out",
        mistakes={"the GRU run over the padding too (no packing)": padded_out},
    )
    assert_close(h, want_h, tol="matmul", name="h (the decoder's first state)",
                 mistakes={"the GRU run over the padding too (no packing)": padded_h,
                           "the output at position S-1 taken as the state": enc_out[:, -1],
                           "cat(h_n[1], h_n[0]): backward direction first": torch.cat(
                               [want_h[:, 3:], want_h[:, :3]], -1)})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("method", ["dot", "general", "additive"])
def test_decode_step_matches_torch(method, rng):
    model, _, _, _ = small_model(method, rng)
    y_prev, h = torch.from_numpy(rng.integers(0, oracle.VOCAB, 4)), t64(rng, 4, 6)
    enc_out, mask = t64(rng, 4, 5, 6), random_mask(rng, 4, 5)
    got = call(model.decode_step, y_prev, h, enc_out, mask)
    want = oracle.decode_step(model, y_prev, h, enc_out, mask)
    old = oracle.decode_step(model, y_prev, h, enc_out, mask, query="old")
    for what, mine, ref, slip in zip(("logits", "h'", "weights"), got, want, old):
        assert_close(
            mine,
            ref,
            tol="matmul",
            name=what,
            mistakes={"attention queried with the old state h, not h'": slip},
        )


@pytest.mark.oracle
def test_teacher_forcing_feeds_bos_then_the_previous_target(rng):
    model, src, src_mask, tgt = small_model("general", rng)
    logits, weights = call(model, src, src_mask, tgt)
    want = oracle.teacher_forced(model, src, src_mask, tgt)
    slips = {"step t fed tgt[:, t] itself (no shift)": oracle.teacher_forced(
                 model, src, src_mask, tgt, shift=False),
             "the decoder started from zeros, not the encoder's state": oracle.teacher_forced(
                 model, src, src_mask, tgt, h0="zeros")}  # fmt: skip
    assert_close(logits, want[0], tol="matmul", name="logits",
                 mistakes={label: r[0] for label, r in slips.items()})  # fmt: skip
    assert_close(weights, want[1], tol="matmul", name="weights")


class Scripted(torch.nn.Module):
    """A fake model for greedy_decode: row n emits script[n, t] at step t, and records what
    it was fed. The state h counts the steps."""

    def __init__(self, script):
        super().__init__()
        self.script, self.fed = script, []

    def encode(self, src, src_mask):
        return torch.zeros(*src.shape, 1), torch.zeros(len(src), dtype=torch.int64)

    def decode_step(self, y_prev, h, enc_out, src_mask):
        self.fed.append(y_prev.clone())
        step = self.script[torch.arange(len(h)), h]  # (N,): this step's scripted token
        logits = 3.0 * torch.nn.functional.one_hot(step, oracle.VOCAB).double()
        return logits, h + 1, torch.softmax(logits[:, : enc_out.shape[1]], -1)


def test_greedy_decode_feeds_back_its_choice_and_pads_after_eos():
    script = torch.tensor([[5, 6, EOS, 7, 8], [EOS, 3, 4, 5, 6], [3, 4, 5, 6, 7],
                           [9, 9, 9, 9, EOS], [EOS, EOS, 3, EOS, 4]])  # fmt: skip
    model = Scripted(script)
    src = torch.full((5, 3), 4)
    tokens, weights = call(mod.greedy_decode, model, src, src != PAD, 5)
    fed = torch.stack(model.fed, 1) if len(model.fed) == 5 else None
    want_fed = torch.cat([torch.full((5, 1), BOS), script[:, :-1]], 1)
    assert_true(
        fed is not None and torch.equal(fed, want_fed),
        f"greedy_decode must call "
        f"decode_step max_len = 5 times, feeding BOS first and then each step's argmax; "
        f"it fed {None if fed is None else fed.tolist()}, expected {want_fed.tolist()}",
    )
    want = oracle.greedy_pad(script)
    assert_close(tensor_of(tokens, "tokens", torch.int64).double(), want.double(),
                 name="tokens", mistakes={"nothing replaced by PAD after EOS": script.double(),
                                          "the EOS itself replaced by PAD": oracle.greedy_pad(
                                              script, keep_eos=False).double()})  # fmt: skip
    assert_true(tuple(weights.shape) == (5, 5, 3), "greedy_decode's weights must be (N, "
                f"max_len, S) = (5, 5, 3); got {tuple(weights.shape)}")  # fmt: skip


@pytest.mark.oracle
def test_greedy_decode_matches_torch(rng):
    model, src, src_mask, tgt = small_model("additive", rng)
    tokens, weights = call(mod.greedy_decode, model, src, src_mask, tgt.shape[1])
    want_t, want_w = oracle.greedy(model, src, src_mask, tgt.shape[1])
    assert_close(tokens.double(), want_t.double(), name="tokens")
    assert_close(weights, want_w, tol="matmul", name="weights")


@pytest.mark.edge
def test_sequence_accuracy_needs_every_token_and_ignores_padding():
    target = torch.tensor(
        [[5, 6, EOS, PAD], [7, EOS, PAD, PAD], [3, 4, 5, EOS], [8, EOS, PAD, PAD]]
    )
    pred = torch.tensor([[5, 6, EOS, PAD], [7, EOS, 9, 9], [3, 4, 6, EOS], [EOS, PAD, PAD, PAD]])
    got = call(mod.sequence_accuracy, pred, target)
    assert_true(isinstance(got, float), f"sequence_accuracy must return a Python float; got "
                f"{type(got).__name__}")  # fmt: skip
    assert_close(
        np.float64(got),
        np.float64(0.5),
        name="the accuracy (rows 0 and 1 are right)",
        mistakes={
            "token accuracy, not whole sequences": np.float64(8 / 11),
            "token accuracy with padding counted as right": np.float64(13 / 16),
            "positions after the target's EOS counted": np.float64(0.25),
        },
    )


def test_plot_attention_draws_the_weights_in_a_png(tmp_path):
    weights = torch.softmax(torch.arange(12.0).reshape(3, 4) % 5, -1)
    path = tmp_path / "attention.png"
    fig = call(mod.plot_attention, weights, ["1", "2", "3", "_"], ["3", "2", "1"], path)
    assert_png(path, "plot_attention(weights, src_labels, out_labels, path)", min_bytes=1000)
    images = [im for ax in getattr(fig, "axes", []) for im in ax.get_images()]
    shown = [np.asarray(im.get_array(), dtype=float) for im in images]
    assert_true(any(s.shape == (3, 4) and np.allclose(s, weights.numpy()) for s in shown),
                "the figure must show the weights with imshow, one row per output step "
                f"(3 x 4 here); found images of shapes {[s.shape for s in shown]}")  # fmt: skip


# Measured with the reference solution (one thread): 5,000 training strings of 1-8 digits,
# batches of 64, Adam with a one-cycle schedule up to lr 0.01, 500 steps (6-8 s of CPU per
# method). Seeds 0-4, exact-sequence accuracy on 500 new strings / steps whose argmax is the
# mirrored position: general 0.980-1.000 / 0.992-0.996, dot 0.988-0.996 / 0.991-0.997,
# additive 0.996-1.000 / 0.967-0.993. Untrained: accuracy 0, argmax at the mirror 0.23-0.25.
ACC_BAR, DIAGONAL_BAR = 0.95, 0.9
CONFIG = {"steps": 500, "batch_size": 64, "lr": 0.01}


@pytest.mark.training
@pytest.mark.parametrize("method", ["general", "dot", "additive"])
def test_seq2seq_learns_to_reverse_digit_strings(method, tmp_path):
    rng = np.random.default_rng(0)
    src, src_mask, tgt = oracle.make_reversal(5000, rng)
    test_src, test_mask, test_tgt = oracle.make_reversal(500, rng)
    torch.manual_seed(0)
    model = call(mod.Seq2Seq, oracle.VOCAB, 32, 64, method)
    history = oracle.fit(model, model, src, src_mask, tgt, rng=rng, **CONFIG)
    model.eval()
    pred, weights = call(mod.greedy_decode, model, test_src, test_mask, test_tgt.shape[1])
    acc = oracle.sequence_accuracy(pred, test_tgt)
    lengths = test_mask.sum(1).tolist()
    looks = [weights[n, t].argmax().item() == L - 1 - t for n, L in enumerate(lengths)
             for t in range(L)]  # fmt: skip
    diagonal = float(np.mean(looks))
    note(
        f"seq2seq_attention ({method}): {acc:.1%} of 500 new digit strings reversed exactly; "
        f"{diagonal:.1%} of output steps look hardest at the mirrored source digit"
    )
    losses = ", ".join(f"{h:.3f}" for h in history)
    assert_true(acc >= ACC_BAR, f"after {CONFIG['steps']} steps only {acc:.1%} of new strings "
                f"come out exactly reversed; a correct model reaches {ACC_BAR:.0%}. Loss every "
                f"100 steps: {losses}")  # fmt: skip
    assert_true(diagonal >= DIAGONAL_BAR, f"output step t should attend most to source "
                f"position L-1-t (it reverses); that holds for {diagonal:.1%} of steps, "
                f"expected {DIAGONAL_BAR:.0%}")  # fmt: skip
    n = int(np.argmax(lengths))  # the longest example
    L = lengths[n]
    path = tmp_path / f"attention_{method}.png"
    call(mod.plot_attention, weights[n, : L + 1, :L], oracle.as_text(test_src[n, :L]),
         oracle.as_text(pred[n, : L + 1]), path)  # fmt: skip
    assert_png(path, "plot_attention(weights, src_labels, out_labels, path)", min_bytes=1000)
    note(f"seq2seq_attention: the attention of one reversed string is drawn in {path}")
