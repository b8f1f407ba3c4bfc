"""char_lm.py: vocabulary, batching, an LSTM language model, truncated BPTT and sampling,
checked against torch; then a model trained on Tiny Shakespeare (slow, last)."""

import copy
import functools
import itertools
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, kata, note
from reference.oracles import char_lm as oracle

mod = kata("04_rnn/char_lm")
TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n"


def ids_of(rng, n, vocab_size=7):
    return torch.from_numpy(rng.integers(0, vocab_size, n))


def check_tensor(value, what, shape, dtype):
    __tracebackhide__ = True
    got = (
        f"{type(value).__name__} {getattr(value, 'dtype', '')} {tuple(getattr(value, 'shape', ()))}"
    )
    assert_true(isinstance(value, torch.Tensor) and tuple(value.shape) == shape
                and value.dtype == dtype, f"{what} must be a {dtype} tensor of shape {shape}; "
                f"got {got}")  # fmt: skip


def test_vocab_is_the_sorted_distinct_characters():
    vocab = call(mod.build_vocab, TEXT)
    assert_true(vocab == sorted(set(TEXT)), f"build_vocab(text) must be sorted(set(text)) = "
                f"{sorted(set(TEXT))}; got {vocab}"
                + ("\nLikely mistake: the order of first appearance, not sorted."
                   * (vocab == list(dict.fromkeys(TEXT)))))  # fmt: skip


def test_encode_and_decode_round_trip():
    vocab = sorted(set(TEXT))
    ids = call(mod.encode, TEXT, vocab)
    check_tensor(ids, "encode(text, vocab)", (len(TEXT),), torch.int64)
    assert_close(ids, torch.tensor([vocab.index(c) for c in TEXT]), name="ids")
    back = call(mod.decode, ids, vocab)
    assert_true(back == TEXT, f"decode(encode(text)) must give text back; got {back!r}")


@pytest.mark.edge
def test_encode_names_an_unknown_character():
    err = assert_raises(ValueError, mod.encode, "abba!", ["a", "b"], why="'!' is not in vocab")
    assert_true("'!'" in str(err), f"the ValueError must name the character ('!'); got: {err}")


@pytest.mark.oracle
def test_batchify_matches_torch(rng):
    ids = ids_of(rng, 27)
    out = call(mod.batchify, ids, 4)
    check_tensor(out, "batchify(ids (27,), n=4)", (6, 4), torch.int64)
    wrong = {
        "column j holds every n-th id (ids.view(T, n)), not the j-th chunk": ids[:24].view(6, 4)
    }
    assert_close(out, oracle.batchify(ids, 4), name="the columns", mistakes=wrong)


def check_windows(data, bptt):
    """get_batch at every window start against the oracle; targets shifted by one row."""
    __tracebackhide__ = True
    for i in range(0, len(data) - 1, bptt):
        want_x, want_y = oracle.get_batch(data, i, bptt)
        got = call(mod.get_batch, data, i, bptt)
        assert_true(isinstance(got, tuple) and len(got) == 2, "get_batch must return (x, y)")
        for value, want, what in zip(got, (want_x, want_y), ("inputs", "targets")):
            check_tensor(value, f"get_batch(source {tuple(data.shape)}, i={i}, bptt={bptt})'s "
                         f"{what}", tuple(want.shape), torch.int64)  # fmt: skip
        same = {"targets not shifted: they equal the inputs": want_x}
        assert_close(got[1], want_y, name="targets", mistakes=same)
        assert_close(got[0], want_x, name="inputs")


@pytest.mark.oracle
def test_get_batch_targets_are_the_next_characters(rng):
    check_windows(torch.from_numpy(rng.integers(0, 9, (10, 3))), bptt=4)  # windows 4, 4, 1


@pytest.mark.property
@given(L=st.integers(1, 40), n=st.integers(1, 6), bptt=st.integers(1, 7),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_batchify_and_get_batch_for_any_sizes(L, n, bptt, seed):
    n = min(n, L)
    ids = torch.from_numpy(np.random.default_rng(seed).integers(0, 5, 2 * L))[::2]  # strided
    data = call(mod.batchify, ids, n)
    assert_close(data, oracle.batchify(ids, n), name=f"batchify(ids ({L},), {n})")
    check_windows(data, bptt)


@pytest.mark.edge
def test_batchify_refuses_fewer_ids_than_columns():
    assert_raises(ValueError, mod.batchify, torch.arange(3), 4, why="4 columns of 3 ids")


def make_model(seed, V=7, E=4, H=5, layers=1, dtype=torch.float64, sharp=False):
    """Your CharLM and a float64 torch copy; sharp: N(0, 1) weights, so that what the model
    predicts depends on what it has read (at init it predicts a near-uniform distribution)."""
    torch.manual_seed(seed)
    model = call(mod.CharLM, V, E, H, layers)
    assert_true(oracle.sizes(model) == (V, E, H, layers),
                f"CharLM({V}, {E}, {H}, {layers}) must hold self.embedding = nn.Embedding({V}, "
                f"{E}) and self.lstm = nn.LSTM({E}, {H}, {layers}), then self.head")  # fmt: skip
    keys, want = set(model.state_dict()), set(oracle.Reference(V, E, H, layers).state_dict())
    assert_true(keys == want, f"CharLM's parameters must be those of self.embedding, self.lstm "
                f"and self.head, named so (the tests copy them into torch's reference): missing "
                f"{sorted(want - keys)}, unexpected {sorted(keys - want)}")  # fmt: skip
    with torch.no_grad():
        for p in model.parameters() if sharp else ():
            p.normal_(0.0, 1.0)
    return model.to(dtype), oracle.copy_of(model)


def run_forward(model, ref, x, hidden, dtype=torch.float64):
    __tracebackhide__ = True
    T, N = x.shape
    V, _, H, layers = oracle.sizes(model)
    out = call(model, x, hidden)
    assert_true(isinstance(out, tuple) and len(out) == 2 and len(out[1]) == 2,
                "forward must return (logits, (h, c))")  # fmt: skip
    check_tensor(out[0], "the logits", (T, N, V), dtype)
    want = ref(x, None if hidden is None else tuple(h.double() for h in hidden))
    assert_close(out[0], want[0].detach(), tol="matmul", name="logits", dtype=dtype)
    for got, exp, name in zip(out[1], want[1], "hc"):
        check_tensor(got, name, (layers, N, H), dtype)
        assert_close(got, exp.detach(), tol="matmul", name=name, dtype=dtype)
    return out, want


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_model_forward_matches_torch(dtype, rng):
    model, ref = make_model(1, layers=2, dtype=dtype)
    x = ids_of(rng, (5, 3))
    hidden = tuple(torch.from_numpy(rng.standard_normal((2, 3, 5))).to(dtype) for _ in "hc")
    run_forward(model, ref, x, hidden, dtype)
    run_forward(model, ref, x, None, dtype)


@pytest.mark.oracle
def test_model_backward_matches_torch(rng):
    model, ref = make_model(2)
    x, y = ids_of(rng, (6, 2)), ids_of(rng, (6, 2))
    (logits, (h, c)), (want, (wh, wc)) = run_forward(model, ref, x, None)
    for m, lg, hh, cc in ((model, logits, h, c), (ref, want, wh, wc)):
        m.zero_grad()
        (torch.nn.functional.cross_entropy(lg.reshape(-1, 7), y.reshape(-1)) + hh.sum()
         + cc.sum()).backward()  # fmt: skip
    mine = dict(model.named_parameters())
    for name, p in ref.named_parameters():
        assert_close(mine[name].grad, p.grad, tol="grad", name=f"d loss / d {name}")


@pytest.mark.property
@settings(max_examples=15)
@given(T=st.integers(1, 4), N=st.integers(1, 3), V=st.integers(1, 5), layers=st.integers(1, 2),
       seed=st.integers(0, 2**31 - 1))  # fmt: skip
def test_model_matches_torch_for_any_sizes_and_layouts(T, N, V, layers, seed):
    model, ref = make_model(seed, V=V, E=3, H=2, layers=layers)
    x = torch.from_numpy(np.random.default_rng(seed).integers(0, V, (N, T))).t()  # strided
    run_forward(model, ref, x, None)


def test_model_starts_from_word_language_models_init():
    torch.manual_seed(0)
    model = call(mod.CharLM, 50, 16, 32)
    checks = {"embedding.weight in [-0.1, 0.1]": model.embedding.weight.abs().max() <= 0.1,
              "head.weight in [-0.1, 0.1]": model.head.weight.abs().max() <= 0.1,
              "head.bias all zeros": not model.head.bias.any(),
              "embedding.weight not constant": model.embedding.weight.std() > 0.03}  # fmt: skip
    bad = [k for k, ok in checks.items() if not ok]
    assert_true(not bad, f"CharLM's init must give {', '.join(bad)} (see __init__'s docstring)")


def test_detach_hidden_keeps_the_values_and_cuts_the_graph(rng):
    w = torch.ones(1, requires_grad=True)
    hidden = tuple(torch.from_numpy(rng.standard_normal((1, 2, 3))) * w for _ in "hc")
    out = call(mod.detach_hidden, hidden)
    assert_true(isinstance(out, tuple) and len(out) == 2, "detach_hidden must return (h, c)")
    for got, was, name in zip(out, hidden, "hc"):
        assert_close(got, was.detach(), name=name)
        assert_true(not got.requires_grad, f"detach_hidden's {name} still requires grad: "
                    "the next backward would run into the previous window's graph")  # fmt: skip


def trained_copy(start, data, bptt, clip, **slip):
    """The oracle's train_epoch on a fresh copy of start: (mean loss, trained model)."""
    ref = copy.deepcopy(start)
    loss = oracle.train_epoch(ref, data, bptt, torch.optim.SGD(ref.parameters(), lr=0.5), clip,
                              **slip)  # fmt: skip
    return loss, dict(ref.named_parameters())


@pytest.mark.oracle
@pytest.mark.parametrize("clip", [0.1, None])
def test_train_epoch_matches_torch(clip, rng):
    model, start = make_model(3, V=6)
    data = ids_of(rng, (11, 3), 6)  # windows of 4, 4 and 2 rows
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    try:
        loss = call(mod.train_epoch, model, data, 4, opt, clip=clip)
    except RuntimeError as err:  # backward ran into the previous window's graph
        if "second time" not in str(err) and "inplace operation" not in str(err):
            raise
        first = re.split(r" \(|: \[|\. ", str(err))[0]  # torch's first sentence
        raise AssertionError(f"train_epoch raised RuntimeError: {first}.\n"
                             "Detach the hidden state carried from the previous window "
                             "(detach_hidden) before the next forward: that window's graph was "
                             "freed by its backward (and its weights changed by the step). "
                             "retain_graph=True is not the fix: it would backpropagate through "
                             "all the text read so far.") from None  # fmt: skip
    want, params = trained_copy(start, data, 4, clip)
    slips = {"the plain mean of the window means (the short window overweighted)":
             {"weighted": False}, "the state not carried: every window starts from zeros":
             {"carry": False}, "the gradients never zeroed: each step adds to the last":
             {"zero_grad": False}, "clip ignored": {"clip": None}}  # fmt: skip
    runs = functools.cache(lambda k: trained_copy(start, data, 4, **{"clip": clip, **slips[k]}))
    assert_true(isinstance(loss, float), f"train_epoch must return a float; got {type(loss)}")
    assert_close(np.float64(loss), np.float64(want), name="the mean loss",
                 mistakes={k: lambda k=k: np.float64(runs(k)[0]) for k in slips})  # fmt: skip
    after = dict(model.named_parameters())
    for name, p in params.items():
        assert_close(after[name].detach(), p.detach(), tol="grad", name=f"{name} after the "
                     "epoch", mistakes={k: lambda k=k, n=name: runs(k)[1][n].detach()
                                        for k in slips})  # fmt: skip


@pytest.mark.oracle
def test_evaluate_matches_torch(rng):
    model, ref = make_model(4, V=6)
    data = ids_of(rng, (9, 2), 6)  # windows of 3, 3 and 2 rows
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = call(mod.evaluate, model, data, 3)
    slip = {"the plain mean of the window means": oracle.evaluate(ref, data, 3, weighted=False)}
    assert_true(isinstance(loss, float), f"evaluate must return a float; got {type(loss)}")
    assert_close(
        np.float64(loss),
        np.float64(oracle.evaluate(ref, data, 3)),
        name="the mean loss",
        mistakes={k: np.float64(v) for k, v in slip.items()},
    )
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert_true(not changed, f"evaluate changed the model's {changed}: it must not train")


def draws(logits, temperature, top_k, seed, **slip):
    """The oracle's draws with a generator seeded `seed`."""
    return oracle.sample_next(logits, temperature, top_k, torch.Generator().manual_seed(seed),
                              **slip)  # fmt: skip


def check_sample(logits, temperature, top_k, seed):
    __tracebackhide__ = True
    N, V = logits.shape
    got = call(mod.sample_next, logits, temperature, top_k, torch.Generator().manual_seed(seed))
    check_tensor(got, f"sample_next(logits {(N, V)}, ...)", (N,), torch.int64)
    if top_k is not None:
        kth = torch.sort(logits, -1, descending=True).values[:, min(top_k, V) - 1]
        outside = (logits.gather(1, got.clamp(0, V - 1)[:, None])[:, 0] < kth).sum()
        assert_true(not outside, f"with top_k={top_k}, {outside} of {N} draws fall outside "
                    "their row's top k: keep the k LARGEST logits")  # fmt: skip
    slips = {"the logits multiplied by the temperature, not divided":
             lambda: draws(logits, 1 / temperature, top_k, seed)}  # fmt: skip
    if top_k is not None:
        slips["drew among the k kept and mapped back: the right distribution, but other draws "
              "(see the docstring's Numerics)"] = lambda: draws(logits, temperature, top_k, seed,
                                                                 among_k=True)  # fmt: skip
    if top_k is not None and top_k > 1:
        slips["the k-th largest masked too (<= for <): only k - 1 kept"] = lambda: draws(
            logits, temperature, top_k - 1, seed
        )
    assert_close(got, draws(logits, temperature, top_k, seed), name="the drawn ids", mistakes=slips)


@pytest.mark.oracle
@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.7, None), (1.3, 4)])
def test_sample_next_matches_torch_multinomial(temperature, top_k, rng):
    check_sample(torch.from_numpy(2 * rng.standard_normal((64, 9))), temperature, top_k, seed=7)


@pytest.mark.property
@given(N=st.integers(1, 4), V=st.integers(1, 6), k=st.integers(1, 7), use_k=st.booleans(),
       temperature=st.sampled_from([0.5, 1.0, 2.0]), seed=st.integers(0, 2**31 - 1))  # fmt: skip
def test_sample_next_for_any_sizes_and_layouts(N, V, k, use_k, temperature, seed):
    logits = torch.from_numpy(np.random.default_rng(seed).standard_normal((V, N))).t()  # strided
    check_sample(logits, temperature, min(k, V) if use_k else None, seed)


@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.6, 3), (1.6, 5)])
def test_sample_frequencies_match_softmax_over_the_top_k(temperature, top_k):
    """20,000 draws of one row: each count within 5 binomial sigmas of n * p (exact for seed 0)."""
    logits = torch.tensor([1.2, -0.4, 2.0, 0.3, -1.5, 0.9, -0.1, 1.6], dtype=torch.float64)
    n, p = 20_000, oracle.probabilities(logits, temperature, top_k)
    got = call(mod.sample_next, logits.expand(n, 8), temperature, top_k,
               torch.Generator().manual_seed(0))  # fmt: skip
    check_tensor(got, f"sample_next(logits ({n}, 8), ...)", (n,), torch.int64)
    counts = torch.bincount(got.clamp(0, 7), minlength=8).double()
    sigma = torch.sqrt(n * p * (1 - p))
    bad = (counts - n * p).abs() > 5 * sigma
    table = "\n".join(f"  id {i}: logit {logits[i]:5.2f}  drawn {int(counts[i]):6d}  expected "
                      f"{n * p[i]:8.1f} +- {5 * sigma[i]:6.1f}" for i in range(8))  # fmt: skip
    assert_true(not bad.any(), f"sample_next(logits, temperature={temperature}, top_k={top_k}) "
                f"on {n} copies of one row: the counts are not softmax(logits / temperature) "
                f"over the top k:\n{table}\n(dividing by the temperature, not multiplying? "
                "the k largest kept, the k-th included?)")  # fmt: skip


@pytest.mark.edge
def test_temperature_towards_zero_is_argmax(rng):
    logits = torch.from_numpy(rng.permutation(12).reshape(3, 4) * 0.1)  # gaps >= 0.1
    for temperature, top_k in ((0, None), (0, 2), (1e-3, None), (1.0, 1)):
        got = call(mod.sample_next, logits, temperature, top_k, torch.Generator().manual_seed(1))
        assert_close(got, logits.argmax(-1), name=f"the ids drawn at temperature {temperature}")


def check_generate(model, ref, vocab, prompt, n, temperature, top_k, seed=0):
    __tracebackhide__ = True
    got = call(mod.generate, model, vocab, prompt, n, temperature, top_k,
               torch.Generator().manual_seed(seed))  # fmt: skip

    def ours(**slip):
        g = torch.Generator().manual_seed(seed)
        return oracle.generate(ref, vocab, prompt, n, temperature, top_k, g, **slip)

    want = ours()
    if got != want:
        at = next(
            (i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want))
        )
        slips = {"the state not carried from step to step": ours(carry=False),
                 "the first new character sampled after the prompt's first character, not its "
                 "last (logits[0] for logits[-1])": ours(last=False)}  # fmt: skip
        named = "".join(f"\nLikely mistake: {k}." for k, v in slips.items() if v == got)
        assert_true(
            False,
            f"generate(model, vocab, {prompt!r}, {n}, temperature={temperature}, "
            f"top_k={top_k}, generator seeded {seed}) returned\n  {got!r}\ntorch's "
            f"reference gave\n  {want!r}\n(they part at character {at}){named}",
        )


@pytest.mark.oracle
@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.8, 3), (0, None)])
def test_generate_matches_torch(temperature, top_k):
    model, ref = make_model(5, V=6, sharp=True)
    check_generate(model, ref, list("abcdef"), "fab", 40, temperature, top_k)


@pytest.mark.edge
def test_generate_continues_after_the_prompts_last_character():
    model, ref = make_model(7, V=4, sharp=True)
    vocab = list("ACGT")

    def first(prompt, last=True):
        return oracle.generate(ref, vocab, prompt, 1, temperature=0, last=last)

    # a prompt after which the model predicts otherwise than after its first character
    prompt = next(p for p in map("".join, itertools.product(vocab, repeat=3))
                  if first(p) != first(p, last=False))  # fmt: skip
    check_generate(model, ref, vocab, prompt, 6, 0, None)


@pytest.mark.edge
def test_generate_from_one_character_and_for_zero_characters():
    model, ref = make_model(6, V=4, sharp=True)
    check_generate(model, ref, list("ACGT"), "G", 25, 1.0, None)
    check_generate(model, ref, list("ACGT"), "GATTACA", 0, 1.0, None)


# Measured with the reference solution, one thread, 3 s of CPU (12 s of wall time with 8
# processes on 2 cores): 250 windows of 64 x 32 characters, CharLM(V, 32, 128), Adam lr 0.01,
# clip 1.0. Validation loss over torch seeds 0-4: Tiny Shakespeare 1.983-2.003 nats/char (the
# unigram model 3.347, the bigram model 2.48); pydoc topics (Python 3.11) 1.727-1.813 (unigram
# 3.238, bigram 2.32). The bars sit below the bigram model's loss, 0.3-0.4 above the worst seed.
BARS = {"tinyshakespeare": 2.3, "pydoc": 2.2}
PROMPTS = {"tinyshakespeare": "ROMEO:\n", "pydoc": "The "}
N, BPTT, STEPS = 32, 64, 250


@pytest.mark.training
def test_training_lowers_validation_loss_below_the_bar():
    name, text = oracle.corpus()
    vocab = call(mod.build_vocab, text)
    ids = call(mod.encode, text, vocab)
    split = int(0.9 * len(ids))  # by position: validation is the last 10% of the text
    train = call(mod.batchify, ids[:split], N)[: STEPS * BPTT + 1]
    val = oracle.batchify(ids[split:], 64)
    torch.manual_seed(0)
    model = call(mod.CharLM, len(vocab), 32, 128)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    train_loss = call(mod.train_epoch, model, train, BPTT, opt, clip=1.0)
    val_loss = oracle.evaluate(model, val, BPTT)
    unigram, bar = oracle.unigram_loss(ids[:split], ids[split:], len(vocab)), BARS[name]
    sample = call(mod.generate, model, vocab, PROMPTS[name], 300, 0.8, 10,
                  torch.Generator().manual_seed(0))  # fmt: skip
    note(f"char_lm: trained on {oracle.CORPORA[name]}: {train.numel():,} characters, training "
         f"loss {train_loss:.3f}, validation loss {val_loss:.3f} nats/char (bar {bar}; the "
         f"unigram model: {unigram:.3f}). Your model writes (temperature 0.8, top 10):\n"
         f"{sample}")  # fmt: skip
    assert_true(val_loss < bar, f"after {STEPS} windows of {BPTT} x {N} characters of {name}, "
                f"the validation loss is {val_loss:.3f} nats/char (training loss "
                f"{train_loss:.3f}); a correct model gets below {bar}, and the unigram model "
                f"(character frequencies only) scores {unigram:.3f}")  # fmt: skip
