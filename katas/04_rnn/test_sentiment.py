"""sentiment.py: tokens, a vocabulary and padded batches; a bag-of-words model and an LSTM/GRU
classifier against float64 references; the training loop; then training on a corpus where
only word order tells the label (slow, last)."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from checker import assert_close, assert_raises, assert_true, call, datasets, kata, note
from reference.oracles import sentiment as oracle

mod = kata("04_rnn/sentiment")
VOCAB = {"<pad>": 0, "<unk>": 1, "the": 2, "film": 3, "was": 4, "good": 5, "not": 6}


def padded(rng, lengths, vocab_size, extra=0):
    """Random ids (N, max(lengths) + extra), 0 (<pad>) after each length and nowhere else."""
    lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.int64)
    ids = torch.from_numpy(rng.integers(2, vocab_size, (len(lengths), int(lengths.max()) + extra)))
    ids[torch.arange(ids.shape[1]) >= lengths[:, None]] = 0
    return ids, lengths


def check_tensor(value, what, dtype):
    __tracebackhide__ = True
    assert_true(
        isinstance(value, torch.Tensor) and value.dtype == dtype,
        f"{what} must be a torch.Tensor of {dtype}; got "
        + (f"{value.dtype}" if isinstance(value, torch.Tensor) else type(value).__name__),
    )


@pytest.mark.edge
@pytest.mark.parametrize(
    "text, want",
    [
        ("Not BAD, isn't it?", ["not", "bad", ",", "isn't", "it", "?"]),
        ("The film was good.", ["the", "film", "was", "good", "."]),
        ("  a  Cliché-ridden\tmess...\n", ["a", "cliché", "-", "ridden", "mess", ".", ".", "."]),
        (" \t ", []),
    ],
)
def test_tokenize_lowercases_and_splits_off_punctuation(text, want):
    got = call(mod.tokenize, text)
    why = ""
    if got == text.split():
        why = " You split on whitespace only: 'good.' must be 'good' and '.'."
    elif isinstance(got, list) and [t.lower() for t in got] == want:
        why = " Lowercase the text: 'Good' and 'good' must be one word."
    assert_true(got == want, f"tokenize({text!r}) returned {got!r}; expected {want!r}.{why}")


@pytest.mark.property
@given(text=st.text(alphabet="abXYé'0., !?-\t\n", max_size=25))
def test_tokenize_keeps_every_character_but_whitespace(text):
    got = call(mod.tokenize, text)
    assert_true(
        "".join(got) == "".join(text.lower().split()) and all(t and t.strip() == t for t in got),
        f"tokenize({text!r}) returned {got!r}: joined, the tokens must give back the "
        "lowercased text without its whitespace, and no token may hold a space",
    )


@pytest.mark.oracle
@pytest.mark.parametrize("min_count", [1, 2])
def test_build_vocab_orders_by_count_then_alphabet(min_count):
    token_lists = [["b", "a", "c", "a"], ["c", "e", "a"], ["d"], []]  # a: 3, c: 2, b e d: 1
    got = call(mod.build_vocab, token_lists, min_count=min_count)
    want = oracle.build_vocab(token_lists, min_count)
    why = ""
    first_seen = {"<pad>": 0, "<unk>": 1, "a": 2, "c": 3, "b": 4, "e": 5, "d": 6}
    if got == first_seen:
        why = " Words with equal counts go in alphabetical order, not in order of appearance."
    elif isinstance(got, dict) and got == oracle.build_vocab(token_lists, min_count + 1):
        why = f" You kept words seen MORE than {min_count} times; keep count >= min_count."
    elif isinstance(got, dict) and (got.get("<pad>"), got.get("<unk>")) != (0, 1):
        why = " <pad> must be 0 and <unk> 1, before any word."
    assert_true(
        got == want,
        f"build_vocab(..., min_count={min_count}) returned {got}; "
        f"expected {want} (by count, ties alphabetical).{why}",
    )


@pytest.mark.oracle
def test_encode_pads_with_zeros_and_maps_unknown_words_to_unk():
    token_lists = [["the", "film", "was", "not", "good"], ["good"], ["the", "plot", "was", "good"]]
    ids, lengths = call(mod.encode, token_lists, VOCAB)
    want_ids, want_lengths = oracle.encode(token_lists, VOCAB)
    check_tensor(lengths, "encode's lengths", torch.int64)
    check_tensor(ids, "encode's ids", torch.int64)
    assert_close(
        lengths,
        want_lengths,
        name="lengths",
        mistakes={"words missing from vocab dropped, not encoded as <unk> (1)": [5, 1, 3]},
    )
    assert_close(ids, want_ids, name="ids (pads must come after the words, as 0)")


@pytest.mark.edge
def test_encode_gives_an_empty_sentence_one_unk_token():
    ids, lengths = call(mod.encode, [[], ["good"]], VOCAB)
    check_tensor(ids, "encode's ids", torch.int64)
    assert_close(
        lengths, torch.tensor([1, 1]), name="lengths (a recurrent net cannot read 0 steps)"
    )
    assert_close(ids, torch.tensor([[1], [5]]), name="ids (an empty sentence is [<unk>])")


@pytest.mark.oracle
def test_bag_of_words_matches_torch(rng):
    torch.manual_seed(0)
    model = call(mod.BagOfWords, 20, embed_dim=6, n_classes=3)
    assert_true(
        isinstance(getattr(model, "embed", None), (nn.EmbeddingBag, nn.Embedding))
        and isinstance(getattr(model, "out", None), nn.Linear),
        "BagOfWords needs self.embed, an nn.EmbeddingBag(vocab_size, embed_dim, "
        "mode='mean', padding_idx=0), and self.out, an nn.Linear(embed_dim, n_classes)",
    )
    ids, lengths = padded(rng, [5, 1, 3, 5], 20, extra=1)
    logits = call(model, ids, lengths)
    assert_close(
        logits,
        oracle.bag_of_words(model, ids, lengths),
        tol="matmul",
        dtype=np.float32,
        name="the logits",
        mistakes={
            "<pad> counted as a word (padding_idx=0 leaves it out of the mean)": (
                oracle.bag_of_words(model, ids, lengths, slip="pads counted")
            ),
            "the word vectors summed, not averaged (mode='mean')": (
                oracle.bag_of_words(model, ids, lengths, slip="sum")
            ),
        },
    )


@pytest.mark.property
@given(
    lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    extra=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_bag_of_words_ignores_word_order_and_padding(lengths, extra, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed % 2**16)
    model = call(mod.BagOfWords, 12, embed_dim=4, n_classes=2)
    ids, lengths = padded(rng, lengths, 12)
    logits = call(model, ids, lengths)
    shuffled, _ = padded(rng, lengths, 12, extra=extra)
    for i, n in enumerate(lengths.tolist()):
        shuffled[i, :n] = ids[i, torch.from_numpy(rng.permutation(n))]
    assert_close(
        call(model, shuffled.T.contiguous().T, lengths),  # non-contiguous, wider
        logits.detach(),
        tol="reduction",
        dtype=np.float32,
        name=f"the logits after shuffling each sentence's words and adding {extra} pads",
    )


@pytest.mark.parametrize("cell, kind", [("lstm", nn.LSTM), ("gru", nn.GRU)])
def test_sentiment_rnn_builds_the_named_cell(cell, kind):
    model = call(mod.SentimentRNN, 30, embed_dim=5, hidden_size=7, n_classes=3, cell=cell)
    embed, rnn, out = (getattr(model, a, None) for a in ("embed", "rnn", "out"))
    assert_true(
        isinstance(embed, nn.Embedding) and embed.weight.shape == (30, 5),
        f"SentimentRNN(30, embed_dim=5, ...).embed must be nn.Embedding(30, 5, padding_idx=0); "
        f"got {embed}",
    )
    assert_true(
        embed.padding_idx == 0,
        "self.embed needs padding_idx=0: <pad> gets a zero vector that never trains",
    )
    assert_true(
        isinstance(rnn, kind)
        and (rnn.input_size, rnn.hidden_size) == (5, 7)
        and rnn.batch_first
        and rnn.num_layers == 1
        and not rnn.bidirectional,
        f"cell={cell!r}: self.rnn must be nn.{kind.__name__}(5, 7, batch_first=True), one "
        f"layer, one direction; got {rnn}",
    )
    assert_true(
        isinstance(out, nn.Linear) and out.weight.shape == (3, 7),
        f"self.out must be nn.Linear(hidden_size=7, n_classes=3); got {out}",
    )
    assert_raises(ValueError, mod.SentimentRNN, 30, cell="transformer", why="an unknown cell")


def rnn_mistakes(model, ids, lengths, cell):
    want = oracle.recurrent(model, ids, lengths)
    slips = {
        "the state at step T - 1, after the pads (pack the batch, or gather at lengths - 1)": (
            lambda: oracle.recurrent(model, ids, lengths, read="last padded step")
        ),
        "the state after the FIRST word (output[:, 0])": (
            lambda: oracle.recurrent(model, ids, lengths, read="first step")
        ),
        "rows in length-sorted order (sorted the batch, never put it back)": (
            lambda: want[torch.argsort(lengths, descending=True, stable=True)]
        ),
    }
    if cell == "lstm":
        slips["the cell state c_n instead of h_n"] = lambda: oracle.recurrent(
            model, ids, lengths, read="cell state"
        )
    return want, slips


@pytest.mark.oracle
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sentiment_rnn_matches_torch(cell, rng):
    torch.manual_seed(0)
    model = call(mod.SentimentRNN, 25, embed_dim=6, hidden_size=8, n_classes=3, cell=cell)
    ids, lengths = padded(rng, [2, 6, 1, 4, 6], 25)  # unsorted, with a one-word sentence
    logits = call(model, ids, lengths)
    want, slips = rnn_mistakes(model, ids, lengths, cell)
    assert_close(logits, want, tol="matmul", dtype=np.float32, name="the logits", mistakes=slips)


@pytest.mark.oracle
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sentiment_rnn_gradients_match_torch(cell, rng):
    torch.manual_seed(1)
    model = call(mod.SentimentRNN, 15, embed_dim=4, hidden_size=5, n_classes=2, cell=cell)
    ids, lengths = padded(rng, [3, 1, 5, 2], 15)
    labels = torch.tensor([0, 1, 1, 0])
    F.cross_entropy(call(model, ids, lengths), labels).backward()
    want_logits, params = oracle.recurrent(model, ids, lengths, grads=True)
    F.cross_entropy(want_logits, labels).backward()
    for name, p in model.named_parameters():
        assert_true(name in params, f"SentimentRNN has a parameter {name!r} beyond embed, rnn, out")
        assert_true(p.grad is not None, f"{name} got no gradient: is it used in forward?")
        assert_close(
            p.grad, params[name].grad, tol="grad", dtype=np.float32, name=f"d loss/d {name}"
        )


@pytest.mark.oracle
@pytest.mark.property
@given(
    lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    extra=st.integers(0, 2),
    cell=st.sampled_from(["lstm", "gru"]),
    seed=st.integers(0, 2**32 - 1),
    transposed=st.booleans(),
)
def test_sentiment_rnn_ignores_padding_and_batch_company(lengths, extra, cell, seed, transposed):
    torch.manual_seed(seed % 2**16)
    model = call(mod.SentimentRNN, 12, embed_dim=3, hidden_size=4, n_classes=2, cell=cell)
    ids, lengths = padded(np.random.default_rng(seed), lengths, 12, extra=extra)
    if transposed:
        ids = ids.T.contiguous().T  # same values, non-contiguous
    want, slips = rnn_mistakes(model, ids, lengths, cell)
    logits = call(model, ids, lengths)
    assert_close(logits, want, tol="matmul", dtype=np.float32, name="the logits", mistakes=slips)


def epoch_data(rng, n=22, vocab_size=40):
    """n examples whose first words differ (so TinyClassifier.seen tells the rows apart)."""
    ids, lengths = padded(rng, rng.integers(1, 6, n), vocab_size)
    ids[:, 0] = torch.arange(n) + 2
    return ids, lengths, torch.from_numpy(rng.integers(0, 3, n))


def learner_epoch(ids, lengths, labels, generator_seed=7, global_seed=0):
    """One epoch of your train_epoch on a fresh model: (loss, model, the batches it saw)."""
    model = oracle.TinyClassifier(40, 3, seed=1).eval()  # train_epoch must switch to train()
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    torch.manual_seed(global_seed)
    g = torch.Generator().manual_seed(generator_seed)
    loss = call(mod.train_epoch, model, ids, lengths, labels, opt, 5, g)
    return loss, model, [seen - 2 for seen in model.seen]


@pytest.mark.oracle
def test_train_epoch_matches_a_reference_epoch(rng):
    ids, lengths, labels = epoch_data(rng)  # batches of 5, 5, 5, 5 and 2
    loss, model, batches = learner_epoch(ids, lengths, labels)
    assert_true(model.training, "after train_epoch the model must be in train mode (model.train())")
    order = torch.cat(batches) if batches else torch.tensor([])
    assert_true(
        [len(b) for b in batches] == [5, 5, 5, 5, 2] and sorted(order.tolist()) == list(range(22)),
        f"train_epoch(..., batch_size=5) on 22 examples must call the model on batches of "
        f"5, 5, 5, 5, 2 holding every example once; it saw {[b.tolist() for b in batches]}",
    )
    assert_true(
        not torch.equal(order, torch.arange(22)),
        "train_epoch took the examples in their stored order: draw a random order every "
        "epoch, order = torch.randperm(N, generator=generator)",
    )

    def replay(slip=""):
        ref = oracle.TinyClassifier(40, 3, seed=1)
        opt = torch.optim.SGD(ref.parameters(), lr=0.5, momentum=0.9)
        out = oracle.replay_epoch(ref, ids, lengths, labels, opt, batches, slip)
        return out, torch.cat([p.detach().flatten() for p in ref.parameters()])

    want_loss, want_params = replay()
    names = {
        "no zero_grad": "gradients never zeroed: each step used the sum of all past gradients",
        "summed loss": "cross-entropy summed over the batch, not averaged",
        "last batch's loss": "the last batch's loss returned, not the epoch's mean",
        "batch means": "the mean of the batch means (the short last batch weighs as much)",
    }
    other = {names[slip]: replay(slip) for slip in names}
    assert_close(
        torch.cat([p.detach().flatten() for p in model.parameters()]),
        want_params,
        tol="grad",
        name="the model's parameters (all of them, flattened)",
        inplace=True,
        mistakes={label: o[1] for label, o in other.items()},
    )
    assert_true(isinstance(loss, float), f"train_epoch must return a Python float; got {loss!r}")
    assert_close(
        np.float64(loss),
        want_loss,
        tol="reduction",
        name="the epoch's mean loss per example",
        mistakes={label: o[0] for label, o in other.items()},
    )


def test_train_epoch_draws_its_order_from_the_generator(rng):
    ids, lengths, labels = epoch_data(rng)
    orders = {
        (g, s): torch.cat(learner_epoch(ids, lengths, labels, g, s)[2]).tolist()
        for g, s in ((7, 0), (7, 1), (8, 0))
    }
    assert_true(
        orders[7, 0] == orders[7, 1],
        "train_epoch gave two different orders for generators with the same seed: draw the "
        "order from the generator argument (torch.randperm(N, generator=generator)), not "
        "from torch's global random state",
    )
    assert_true(
        orders[7, 0] != orders[8, 0],
        "train_epoch gave the same order for generators seeded 7 and 8: use the generator",
    )


@pytest.mark.oracle
def test_accuracy_scores_in_eval_mode(rng):
    model = oracle.TinyClassifier(15, 3, seed=2, dropout=0.8).train()  # left in train mode
    ids, lengths = padded(rng, rng.integers(1, 6, 300), 15)
    with torch.no_grad():
        right = model.eval()(ids, lengths).argmax(1)
    labels = torch.where(torch.from_numpy(rng.random(300) < 0.7), right, (right + 1) % 3)
    model.train()
    torch.manual_seed(0)  # dropout in train mode would draw masks from this
    got = call(mod.accuracy, model, ids, lengths, labels, batch_size=64)
    assert_true(isinstance(got, float), f"accuracy must return a Python float; got {got!r}")
    want = oracle.accuracy(model, ids, lengths, labels)
    assert_close(  # counts, so that a float32 mean is as good as a float64 one
        np.round(np.float64(got) * 300),
        np.round(want * 300),
        name="the number of right predictions (accuracy x 300)",
        mistakes={
            "scored in train mode, with dropout on (model.eval() first)": (
                lambda: np.round(oracle.accuracy_in_train_mode(model, ids, lengths, labels) * 300)
            )
        },
    )


def prepare(train_texts, test_texts, min_count=1):
    """Learner's tokenize, build_vocab (train only) and encode: (vocab, train, test)."""
    train_tokens = [call(mod.tokenize, t) for t in train_texts]
    vocab = call(mod.build_vocab, train_tokens, min_count=min_count)
    test_tokens = [call(mod.tokenize, t) for t in test_texts]
    test = call(mod.encode, test_tokens, vocab) if test_tokens else None
    return vocab, call(mod.encode, train_tokens, vocab), test


def test_the_generated_corpus_hides_the_label_from_word_counts(rng):
    texts, labels = oracle.make_corpus(400, rng)
    vocab, (ids, lengths), _ = prepare(texts, [])
    counts = F.one_hot(ids, len(vocab)).sum(1)  # (N, V): how often each word occurs
    counts[:, 0] = 0  # pads
    in_pos, in_neg = counts[labels == 1].sum(0), counts[labels == 0].sum(0)
    assert_true("not" in vocab and in_pos[vocab["not"]] > 0, "'not' must be in the vocabulary")
    # Equal counts: the gradient of a linear model on counts is exactly 0 at 0 weights,
    # and no linear model can score "good" > 0, "bad" < 0, "not good" < 0, "not bad" > 0.
    assert_close(
        in_pos,
        in_neg,
        name="each word's count in positive sentences (torch: its count in negative ones)",
    )


MINI_POS = "it's a charming , often affecting journey . \nthe film is not bad at all ! \n"
MINI_NEG = "a cliché-ridden mess . \n"


def tar_gz(files: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def serve(monkeypatch, tmp_path, content: bytes) -> None:
    """Register content, served from a file:// URL, as the rt-polarity archive."""
    served = tmp_path / f"served-{hashlib.sha256(content).hexdigest()[:8]}.tar.gz"
    served.write_bytes(content)
    (real,) = datasets.DATASETS["rt-polarity"][1]
    fake = datasets.RemoteFile(
        real.path, hashlib.sha256(content).hexdigest(), len(content), (served.as_uri(),)
    )
    monkeypatch.setitem(datasets.DATASETS, "rt-polarity", ("a miniature rt-polarity", (fake,)))


def test_the_real_corpus_loader_reads_a_miniature_archive(monkeypatch, tmp_path):
    files = {
        "rt-polaritydata.README.1.0.txt": b"sentence polarity dataset v1.0",
        "rt-polaritydata/rt-polarity.pos": MINI_POS.encode("latin-1"),
        "rt-polaritydata/rt-polarity.neg": MINI_NEG.encode("latin-1"),
    }
    serve(monkeypatch, tmp_path, tar_gz({**files, "../evil.txt": b"x"}))
    with pytest.raises(datasets.DataError, match="climbs out"):
        datasets.download("rt-polarity", tmp_path / "bad")
    assert not (tmp_path / "evil.txt").exists(), "an unsafe member was extracted"
    serve(monkeypatch, tmp_path, tar_gz(files))
    cache = tmp_path / "cache"
    assert datasets.load_rt_polarity(cache) is None, "not downloaded: None (the test skips)"
    datasets.download("rt-polarity", cache)
    texts, labels = datasets.load_rt_polarity(cache)
    assert labels == [1, 1, 0] and texts[2] == "a cliché-ridden mess .", (texts, labels)
    tokens = call(mod.tokenize, texts[0])
    want = ["it's", "a", "charming", ",", "often", "affecting", "journey", "."]
    assert_true(tokens == want, f"tokenize({texts[0]!r}) returned {tokens}; expected {want}")


# ----------------------------------------------------------------------------- training
# Measured with the reference solution (one thread; seeds 0-39 of the corpus and of the
# model's initialisation): a GRU(32) reaches 0.992-1.000 held-out accuracy, stopping
# after 3-9 epochs of 20 (the loss sits at log 2 for a while: with no word useful alone,
# the net must find the interaction first). An LSTM(32) with the same budget sits there
# longer: 6-19 epochs, and 0.716 after 20 in one seed of 10. The bag of words, seeds 0-9:
# 0.492-0.508 here, 1.000 on the control corpus without negation.
RNN_BAR, BOW_BAR, BOW_CONTROL_BAR = 0.95, 0.6, 0.95


def fit(model, data, *, lr, batch_size=64, max_epochs=20, stop=0.02, seed=0):
    """Adam with the learner's train_epoch until the epoch loss < stop; (test accuracy, losses)."""
    _, (ids, lengths, labels), (test_ids, test_lengths, test_labels) = data
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    losses = []
    while len(losses) < max_epochs and (not losses or losses[-1] >= stop):
        losses.append(call(mod.train_epoch, model, ids, lengths, labels, opt, batch_size, g))
    acc = call(mod.accuracy, model, test_ids, test_lengths, test_labels)
    return acc, ", ".join(f"{x:.3f}" for x in losses)


def corpus(seed, negation=True, n_train=2000, n_test=1000):
    rng = np.random.default_rng(seed)
    (train, y), (test, y_test) = (oracle.make_corpus(n, rng, negation) for n in (n_train, n_test))
    vocab, (ids, lengths), (test_ids, test_lengths) = prepare(train, test)
    return vocab, (ids, lengths, y), (test_ids, test_lengths, y_test)


@pytest.mark.training
def test_bag_of_words_learns_words_but_not_negation():
    control = corpus(0, negation=False)
    torch.manual_seed(0)
    acc_control, losses = fit(
        call(mod.BagOfWords, len(control[0])), control, lr=0.01, max_epochs=10
    )
    assert_true(
        acc_control >= BOW_CONTROL_BAR,
        f"without negation a word decides the label, yet your BagOfWords scores "
        f"{acc_control:.3f} on new sentences (bar {BOW_CONTROL_BAR}); losses {losses}",
    )
    data = corpus(0)
    torch.manual_seed(0)
    acc, losses = fit(call(mod.BagOfWords, len(data[0])), data, lr=0.01, max_epochs=10)
    note(f"sentiment: bag of words {acc_control:.3f} without negation, {acc:.3f} with it")
    assert_true(
        acc <= BOW_BAR,
        f"with negation your BagOfWords scores {acc:.3f} on new sentences; word counts "
        f"carry no signal in this corpus, so an order-free model stays near 0.5 (bar <= "
        f"{BOW_BAR}). Does it read the order (an RNN inside, or bigrams)? losses {losses}",
    )


@pytest.mark.training
def test_recurrent_net_learns_negation():
    data = corpus(0)
    torch.manual_seed(0)
    model = call(mod.SentimentRNN, len(data[0]), embed_dim=32, hidden_size=32, cell="gru")
    acc, losses = fit(model, data, lr=0.03)
    note(f"sentiment: your GRU scores {acc:.3f} on 1,000 new generated sentences")
    assert_true(
        acc >= RNN_BAR,
        f"your SentimentRNN(cell='gru') scores {acc:.3f} on new sentences (bar {RNN_BAR}); "
        f"the epoch losses were {losses}. Still near log 2 = 0.693: it never found how "
        "'not' and the adjective combine; check what state forward reads.",
    )


# Sentence polarity: 10,662 sentences, 1,000 held out, 3 epochs of each model. Not
# measured in the build (no network there): the bar is conservative. Chance is 0.5 +- 0.016
# on 1,000 sentences; randomly initialised networks reach about 0.76 on this corpus (Kim
# 2014, CNN-rand, 10-fold cross-validation) and word-count models 0.78 (Wang & Manning
# 2012, MNB), which leaves room for a short budget. On an rt-polarity-shaped stand-in
# (same sizes, weaker signal) this test ran in 10 s with 2 cores at load 3.
REAL_BAR = 0.65


@pytest.mark.training
def test_recurrent_net_on_real_movie_reviews():
    loaded = datasets.load_rt_polarity()
    if loaded is None:
        pytest.skip(
            "the sentence polarity corpus is not cached: run "
            "`python -m checker data rt-polarity` (487 KB) to train on real reviews"
        )
    texts, labels = loaded
    order = np.random.default_rng(0).permutation(len(texts))
    test, train = order[:1000], order[1000:]
    vocab, (ids, lengths), (test_ids, test_lengths) = prepare(
        [texts[i] for i in train], [texts[i] for i in test], min_count=2
    )
    y = torch.tensor(labels)
    data = (vocab, (ids, lengths, y[train]), (test_ids, test_lengths, y[test]))
    torch.manual_seed(0)
    model = call(mod.SentimentRNN, len(vocab), embed_dim=64, hidden_size=64, cell="gru")
    acc, losses = fit(model, data, lr=5e-3, max_epochs=3)
    torch.manual_seed(0)
    bow, _ = fit(call(mod.BagOfWords, len(vocab)), data, lr=0.01, max_epochs=3)
    note(f"sentiment, real reviews: GRU {acc:.3f}, bag of words {bow:.3f} (1,000 held out)")
    assert_true(
        acc >= REAL_BAR,
        f"your GRU scores {acc:.3f} on 1,000 held-out real "
        f"sentences (bar {REAL_BAR}); epoch losses {losses}",
    )
