"""overfitting.py: forward, loss and gradients vs autograd, training vs torch.optim.SGD; then a
wide net overfits 20 points, and L2, dropout and early stopping each close the gap."""

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import overfitting as oracle

of = kata("02_training/overfitting")
KEYS = ("W1", "b1", "W2", "b2")


def make_data(seed, n=20, m=200, noise=0.3):
    """n noisy samples of sin(3x), x spread evenly over [-1, 1] with jitter; m to validate."""
    r = np.random.default_rng(seed)
    x = np.linspace(-1, 1, n) + r.uniform(-1, 1, n) / (n - 1)
    x_val = r.uniform(-1, 1, m)
    y, y_val = (np.sin(3 * t) + noise * r.standard_normal(len(t)) for t in (x, x_val))
    return x[:, None], y[:, None], x_val[:, None], y_val[:, None]


def init_params(rng, D=1, H=100, C=1, dtype=np.float64):
    """Sharp tanh units (W1 ~ N(0, 10^2), b1 ~ N(0, 5^2)): steps all over [-1, 1] to bend with."""
    p = {"W1": 10 * rng.standard_normal((D, H)), "b1": 5 * rng.standard_normal(H),
         "W2": rng.standard_normal((H, C)) / np.sqrt(H),
         "b2": 0.1 * rng.standard_normal(C)}  # fmt: skip
    return {k: v.astype(dtype) for k, v in p.items()}


def small_problem(rng, N=6, D=3, H=5, C=2, dtype=np.float64):
    params = init_params(rng, D, H, C, dtype)
    params["W1"] /= 10  # moderate units: every tanh' matters
    return params, *(rng.standard_normal((N, k)).astype(dtype) for k in (D, C))


def check_history(hist, args, kw, name):
    """Compare train(*args, **kw)'s history with torch's; the known slips only on a mismatch."""
    __tracebackhide__ = True
    want = oracle.train(*args, **kw)
    keys = {"train_loss", "val_loss", "params", "best_epoch"}
    got = sorted(hist) if isinstance(hist, dict) else type(hist).__name__
    assert_true(isinstance(hist, dict) and keys <= set(hist), "train must return a dict with "
                f"keys {sorted(keys)}; got {got}")  # fmt: skip
    for part in ("train", "val"):
        yours, expected = np.asarray(hist[f"{part}_loss"]), want[f"{part}_loss"]
        stop = "; stop once waited >= patience" if kw.get("early_stopping_patience") else ""
        assert_true(yours.shape == expected.shape, f"history['{part}_loss'] ({name}) has "
                    f"shape {yours.shape}: one entry per epoch run, and torch ran "
                    f"{len(expected)}{stop}")  # fmt: skip
        slips = None
        if not np.allclose(yours, expected, 1e-7, 1e-9):  # name the slip only when it is wrong
            slips = {"the training data's loss (X, y), not X_val's": want["train_loss"]} \
                if part == "val" else {label: oracle.train(*args, **{**kw, **change})["train_loss"]
                                       for label, change in SLIPS.items()}  # fmt: skip
        assert_close(yours, expected, tol="grad", name=f"history['{part}_loss'] ({name})",
                     mistakes=slips)  # fmt: skip
    assert_true(hist["best_epoch"] == want["best_epoch"], f"history['best_epoch'] ({name}) is "
                f"{hist['best_epoch']}; torch: {want['best_epoch']}")  # fmt: skip
    for k in KEYS:
        assert_close(hist["params"][k], want["params"][k], tol="grad", name=f"params['{k}'] "
                     f"({name})", mistakes={"the last epoch's weights, not the best epoch's":
                                            want["final_params"][k]})  # fmt: skip


SLIPS = {  # what train_loss would be after a slip -> oracle.train's arguments for it
    "the training step's loss (before the update, with dropout and penalty), not an "
    "evaluation": {"slip": "step-loss"}, "evaluated with the epoch's dropout mask": {
        "slip": "eval-dropout"}, "trained without dropout (no mask drawn)": {"dropout": 0.0},
    "one dropout mask for every epoch (draw a fresh one each epoch)": {
        "slip": "mask-once"}}  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_matches_torch(dtype, rng):
    params, X, _ = small_problem(rng, dtype=dtype)
    assert_close(call(of.forward, params, X), oracle.forward(params, X), tol="matmul",
                 name="out", dtype=dtype)  # fmt: skip


@pytest.mark.oracle
def test_forward_with_dropout_matches_torch_dropout(rng):
    params, X, _ = small_problem(rng, N=8, H=12)
    want, keep = oracle.forward_torch_dropout(params, X, 0.4, seed=int(rng.integers(2**31)))
    unscaled = np.tanh(X @ params["W1"] + params["b1"]) * keep @ params["W2"] + params["b2"]
    out = call(of.forward, params, X, keep, 0.4)
    assert_close(out, want, tol="matmul", name="out (training mode, F.dropout's mask)", mistakes={
        "the kept units not scaled by 1 / (1 - p)": unscaled,
        "the mask ignored": oracle.forward(params, X)})  # fmt: skip
    assert_close(call(of.forward, params, X), oracle.forward(params, X), tol="matmul",
                 name="out with keep=None (evaluation: no dropout even though p > 0)")  # fmt: skip


CASES = [(0.0, 0.0), (0.3, 0.0), (0.0, 0.4), (0.3, 0.4)]  # (l2, dropout)


def grad_mistakes(params, X, y, l2, p, keep):
    half = oracle.loss_and_grads(params, X, y, l2 / 2, p, keep)[1]  # penalty gradient l2 * W
    unscaled = oracle.loss_and_grads(params, X, y, l2, 0.0, keep)[1]  # keep, no 1/(1-p)
    return {k: {**({"the L2 gradient as l2 * W (d/dW of l2 W^2 is 2 l2 W)": half[k]}
                   if l2 and k[0] == "W" else {}),
                **({"the kept units not scaled by 1 / (1 - p)": unscaled[k]} if p else {})}
            for k in KEYS}  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("l2", "p"), CASES)
def test_loss_matches_torch(l2, p, dtype, rng):
    params, X, y = small_problem(rng, dtype=dtype)
    keep = rng.random((6, 5)) >= p if p else None
    loss, _ = call(of.loss_and_grads, params, X, y, l2=l2, dropout=p, keep=keep)
    want, _ = oracle.loss_and_grads(params, X, y, l2, p, keep)
    sq = {k: np.sum(params[k].astype(np.float64) ** 2) for k in KEYS}
    assert_close(loss, want, tol="reduction", name="loss", dtype=dtype, mistakes={
        "the penalty as 0.5 * l2 * sum(W^2)": want - 0.5 * l2 * (sq["W1"] + sq["W2"]),
        "the biases penalised too": want + l2 * (sq["b1"] + sq["b2"])} if l2 else None)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("l2", "p"), CASES)
def test_grads_match_autograd(l2, p, dtype, rng):
    params, X, y = small_problem(rng, dtype=dtype)
    keep = rng.random((6, 5)) >= p if p else None
    _, grads = call(of.loss_and_grads, params, X, y, l2=l2, dropout=p, keep=keep)
    _, want = oracle.loss_and_grads(params, X, y, l2, p, keep)
    mistakes = grad_mistakes(params, X, y, l2, p, keep)
    assert_true(isinstance(grads, dict) and set(grads) == set(KEYS),
                f"grads must be a dict with keys {list(KEYS)}; got {grads!r:.80}")  # fmt: skip
    for k in KEYS:
        assert_close(grads[k], want[k], tol="grad", name=f'grads["{k}"]', dtype=dtype,
                     factors={"1 - p": 1 - p, "N": 6, "C": 2, "N * C": 12},
                     mistakes=mistakes[k])  # fmt: skip


@pytest.mark.property
@given(N=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 5), C=st.integers(1, 3),
       l2=st.sampled_from([0.0, 0.1]), p=st.sampled_from([0.0, 0.5]),
       layout=cs.layouts(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_loss_and_grads_match_autograd_for_any_sizes(N, D, H, C, l2, p, layout, seed):
    rng = np.random.default_rng(seed)
    params, X, y = small_problem(rng, N, D, H, C)
    if layout == "transposed":
        X = np.ascontiguousarray(X.T).T  # same values, column-major strides
    elif layout == "strided":
        X, params["W1"] = cs.noncontiguous(X), cs.noncontiguous(params["W1"])
    keep = rng.random((N, H)) >= p if p else None
    loss, grads = call(of.loss_and_grads, params, X, y, l2=l2, dropout=p, keep=keep)
    want_loss, want = oracle.loss_and_grads(params, X, y, l2, p, keep)
    assert_close(loss, want_loss, tol="reduction", name="loss")
    for k in KEYS:
        assert_close(grads[k], want[k], tol="grad", name=f'grads["{k}"]')


@pytest.mark.edge
def test_an_example_with_every_unit_dropped_outputs_the_bias(rng):
    params, X, y = small_problem(rng, N=3, H=4)
    keep = np.ones((3, 4), dtype=bool)
    keep[1] = False  # example 1 loses its whole hidden layer: out = b2, no gradient to W1
    out = call(of.forward, params, X, keep, 0.5)
    assert_close(out, oracle.forward(params, X, keep, 0.5), tol="matmul", name="out")
    _, grads = call(of.loss_and_grads, params, X, y, dropout=0.5, keep=keep)
    _, want = oracle.loss_and_grads(params, X, y, 0.0, 0.5, keep)
    for k in KEYS:
        assert_close(grads[k], want[k], tol="grad", name=f'grads["{k}"]')


@pytest.mark.oracle
def test_train_matches_torch_sgd(rng):
    params, X, y = small_problem(rng, N=8, D=2, H=6, C=2)
    X_val, y_val, seed = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), 7
    kw = dict(epochs=15, lr=0.05, momentum=0.9, l2=0.01, dropout=0.2)
    hist = call(of.train, params, X, y, X_val, y_val, **kw, rng=np.random.default_rng(seed))
    check_history(hist, (params, X, y, X_val, y_val), dict(**kw, seed=seed),
                  "15 epochs, l2 0.01, dropout 0.2")  # fmt: skip


DATA_SEED, INIT_SEED, MASK_SEED = 0, 1, 2
SETUP = dict(epochs=3000, lr=0.01, momentum=0.9)


@pytest.mark.oracle
def test_early_stopping_matches_torch_sgd():
    X, y, X_val, y_val = make_data(DATA_SEED)
    params = init_params(np.random.default_rng(INIT_SEED))
    kw = dict(epochs=400, lr=0.01, momentum=0.9, early_stopping_patience=10)
    hist = call(of.train, params, X, y, X_val, y_val, **kw)
    check_history(hist, (params, X, y, X_val, y_val), kw, "early stopping, patience 10")


@functools.cache
def run(l2=0.0, dropout=0.0, patience=None):
    """Your train on the 20-point problem: (final train loss, final val loss, history)."""
    X, y, X_val, y_val = make_data(DATA_SEED)
    params = init_params(np.random.default_rng(INIT_SEED))
    hist = call(of.train, params, X, y, X_val, y_val, **SETUP, l2=l2, dropout=dropout,
                early_stopping_patience=patience, rng=np.random.default_rng(MASK_SEED))  # fmt: skip
    mse = lambda X, y: float(np.mean((call(of.forward, hist["params"], X) - y) ** 2))  # noqa: E731
    return mse(X, y), mse(X_val, y_val), hist


# Measured with the reference solution (one BLAS thread) on make_data(d), init_params(default_rng
# (i)), masks from default_rng(2), for 40 seeds d in 0..19, i in {1, 3}. Unregularised: val >=
# 6.9 x train and a gap >= 0.11 everywhere. Gap with / gap without: L2 at most 0.79 (val loss
# at most 0.89 x), dropout at most 0.89; early stopping's val loss at most 0.91 x, after 59-152
# epochs. The seeds below (d 0, i 1): 165 x and 0.26; L2 0.08 (val 0.45 x), dropout 0.21,
# early stopping 0.53 x after 76 epochs. Each bar holds for all 40.
L2, DROPOUT, PATIENCE = 3e-3, 0.2, 50


def gap_message(what, base, reg):
    (t0, v0, _), (t, v, _) = base, reg
    return (f"{what}: train loss {t:.4f}, val loss {v:.4f}, gap {v - t:.4f}; without it: train "
            f"{t0:.4f}, val {v0:.4f}, gap {v0 - t0:.4f}")  # fmt: skip


def test_a_wide_net_overfits_twenty_points():
    train, val, hist = run()
    assert_true(val >= 3 * train and val - train >= 0.05, "100 tanh units, 20 noisy points, "
                f"3000 epochs: the net should pass close to every point (train loss {train:.4f}) "
                f"and miss fresh ones (val loss {val:.4f}, at best {hist['val_loss'].min():.4f} "
                "during training). The bar: val >= 3 x train and a gap >= 0.05")  # fmt: skip


def test_l2_closes_the_gap():
    base, reg = run(), run(l2=L2)
    assert_true(reg[1] - reg[0] <= 0.85 * (base[1] - base[0]) and reg[1] < base[1], gap_message(
        f"with l2 = {L2}", base, reg) + ". The L2 penalty must shrink the gap by at least "
        "15% and lower the validation loss")  # fmt: skip


def test_dropout_closes_the_gap():
    base, reg = run(), run(dropout=DROPOUT)
    assert_true(reg[1] - reg[0] <= 0.9 * (base[1] - base[0]), gap_message(
        f"with dropout p = {DROPOUT}", base, reg) + ". Dropout must shrink the gap by at least "
        "10%")  # fmt: skip


def test_early_stopping_keeps_the_best_weights():
    base, (_, val, hist) = run(), run(patience=PATIENCE)
    n, best = len(hist["val_loss"]), hist["val_loss"].min()
    assert_true(n < SETUP["epochs"] and abs(val - best) <= 1e-9 * best and val <= 0.95 * base[1],
                f"with patience {PATIENCE}: stopped after {n} of {SETUP['epochs']} epochs, val "
                f"loss {val:.4f} with the returned params (the best epoch's was {best:.4f}); "
                f"without early stopping: {base[1]:.4f}. It must stop early, return the best "
                "epoch's params, and beat the unstopped val loss by 5%")  # fmt: skip
