"""perceptron.py: the rule against a torch loop, Novikoff's bound, XOR and the MLP that fits it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import forward as mlp_oracle
from reference.oracles import perceptron as oracle

pcp = kata("01_fundamentals/perceptron")
TIE = "'y * score < 0' instead of '<= 0': a score of exactly 0 (all, from w = 0) never updates"
SIGN = "np.sign(score), which is 0 (not a label) for a score of 0"
MARGIN = "\nEvery point within 0.1 of a corner (in each coordinate) must keep that corner's label."
# Same values, three memory layouts: row-major, column-major (a transpose's), strided.
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([-1, 1, 1, -1])
NO_LINE = (
    "No line separates XOR: for any (w, b) the scores obey f(0,0) + f(1,1) = f(0,1) + f(1,0) "
    "(both are w1 + w2 + 2b), so if both +1 corners score > 0, one of the -1 corners does too."
)


def separable(rng, n, d, margin=0.25):
    """n points labelled by a random plane, none within `margin` of it, and Novikoff's bound.

    With the bias folded in (x -> [x, 1], w -> [w, b]) the plane u is a unit vector, so the
    perceptron makes at most (R / gamma)^2 mistakes in total, R = max |[x, 1]|.
    """
    u = rng.standard_normal(d + 1)
    u /= np.linalg.norm(u)  # (w*, b*) with unit norm: |score| is the distance to the plane
    X = rng.uniform(-2, 2, (50 * n, d))
    s = X @ u[:-1] + u[-1]
    keep = np.abs(s) >= margin
    X, s = X[keep][:n], s[keep][:n]  # enough are kept: a unit u cannot have |w*| and |b*| small
    R = np.sqrt(np.max(np.sum(X**2, axis=1)) + 1)
    return X, np.where(s > 0, 1, -1), (R / np.min(np.abs(s))) ** 2


def check_training(X, y, epochs, lr, dtype=None):
    __tracebackhide__ = True
    w, b, mistakes = call(pcp.train_perceptron, X, y, epochs, lr=lr)
    want_w, want_b, want_mistakes = oracle.train_perceptron(X, y, epochs, lr)
    never = {TIE: np.zeros(epochs, dtype=np.int64)}
    assert_close(mistakes, want_mistakes, name="mistakes_per_epoch", mistakes=never)
    assert_close(w, want_w, tol="reduction", name="w", dtype=dtype)
    assert_close(b, want_b, tol="reduction", name="b", dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("case", ["wrong", "right"])
def test_perceptron_step_matches_torch(case, rng):
    w, x, b = rng.standard_normal(4), rng.standard_normal(4), float(rng.standard_normal())
    y = int(np.sign(x @ w + b)) * (1 if case == "right" else -1)
    new_w, new_b = call(pcp.perceptron_step, w, b, x, y, lr=0.5)
    want_w, want_b = oracle.perceptron_step(w, b, x, y, lr=0.5)
    known = {
        "updated although the example was already right": w + 0.5 * y * x,
        "the update's sign flipped: w - lr * y * x": w - 0.5 * y * x,
    }
    assert_close(new_w, want_w, tol="elementwise", name="w_new", mistakes=known)
    no_bias = {"the bias is not updated": np.float64(b)}
    assert_close(new_b, want_b, tol="elementwise", name="b_new", mistakes=no_bias)
    assert_true(not np.shares_memory(new_w, w), "perceptron_step must return a new w, never w")


@pytest.mark.edge
@pytest.mark.parametrize("y", [1, -1])
def test_a_zero_score_counts_as_a_mistake(y):
    """From w = 0, b = 0 every score is 0; the first example must still update."""
    w, x = np.zeros(3), np.array([1.0, -2.0, 0.5])
    new_w, new_b = call(pcp.perceptron_step, w, 0.0, x, y)
    want_w, want_b = oracle.perceptron_step(w, 0.0, x, y)
    assert_close(new_w, want_w, tol="elementwise", name="w_new", mistakes={TIE: w})
    assert_close(new_b, want_b, tol="elementwise", name="b_new")


@pytest.mark.oracle
def test_train_perceptron_matches_torch(rng):
    X = rng.standard_normal((20, 3))
    y = np.where(rng.random(20) < 0.5, 1, -1)  # random labels: not separable, many updates
    check_training(X, y, epochs=6, lr=0.5)


def test_train_perceptron_keeps_float32(rng):
    X, y, _ = separable(rng, 16, 3)
    check_training(X.astype(np.float32), y, epochs=4, lr=1.0, dtype=np.float32)


@pytest.mark.property
@given(
    n=st.integers(1, 8),
    d=st.integers(1, 4),
    epochs=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    layout=cs.layouts(),
)
def test_train_perceptron_matches_torch_for_any_sizes_and_layouts(n, d, epochs, seed, layout):
    rng = np.random.default_rng(seed)
    X = cs.relayout(rng.standard_normal((n, d)), layout)
    y = np.where(rng.random(n) < 0.5, 1, -1)
    check_training(X, y, epochs, lr=float(rng.uniform(0.1, 2)))


@pytest.mark.property
@given(n=st.integers(1, 12), d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_perceptron_converges_within_novikoffs_bound(n, d, seed):
    """Independent of the oracle: separable data is learnt, with at most (R/gamma)^2 mistakes."""
    X, y, bound = separable(np.random.default_rng(seed), n, d)
    epochs = int(bound) + 2  # at most `bound` mistakes, so some epoch before this one is clean
    w, b, mistakes = call(pcp.train_perceptron, X, y, epochs)
    total = int(np.sum(mistakes))
    assert_true(
        1 <= total <= bound,
        f"On linearly separable data (margin gamma, radius R) the perceptron makes "
        f"between 1 (the first example scores 0) and (R/gamma)^2 = {bound:.1f} mistakes in total "
        f"(Novikoff); yours counted {total}.",
    )
    assert_true(
        mistakes[-1] == 0,
        f"Separable data must be learnt: after {total} mistakes, the last of {epochs} "
        f"epochs still had {mistakes[-1]}. Mistakes per epoch: {list(mistakes[:10])}...",
    )
    labels = call(pcp.predict, X, w, b)
    assert_close(labels, y, name="predict(X, w, b) after training")


@pytest.mark.oracle
def test_predict_matches_torch(rng):
    X, w, b = rng.standard_normal((7, 3)), rng.standard_normal(3), float(rng.standard_normal())
    labels = call(pcp.predict, X, w, b)
    assert_close(labels, oracle.predict(X, w, b), name="labels")


@pytest.mark.edge
def test_predict_gives_minus_one_for_a_zero_score():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    labels = call(pcp.predict, X, np.zeros(2), 0.0)
    want = oracle.predict(X, np.zeros(2), 0.0)
    assert_close(labels, want, name="labels", mistakes={SIGN: np.zeros(2, dtype=np.int64)})


@pytest.mark.edge
def test_one_example_is_learnt_after_one_mistake():
    """One example, one feature: mistakes [1, 0, 0] (its first score is 0), then it is learnt."""
    check_training(np.array([[2.0]]), np.array([-1]), epochs=3, lr=1.0)


def test_perceptron_cannot_fit_xor():
    w, b, mistakes = call(pcp.train_perceptron, XOR_X, XOR_Y, 100)
    clean = [e for e, m in enumerate(mistakes) if m == 0]
    assert_true(
        not clean,
        f"Your perceptron reported 0 mistakes on XOR in epoch {clean[:1]}, which is "
        f"impossible. {NO_LINE} A count of 0 means mistakes are not counted, or a score of "
        "exactly 0 is not treated as a mistake.",
    )
    labels = call(pcp.predict, XOR_X, w, b)
    assert_true(
        np.sum(labels == XOR_Y) <= 3,
        f"predict got all four XOR points right with w={w}, b={b}: impossible. {NO_LINE}",
    )


def check_xor_mlp(X, y, why=""):
    __tracebackhide__ = True
    W1, b1, W2, b2 = params = call(pcp.xor_mlp_weights)
    shapes = [np.shape(p) for p in params]
    H = shapes[0][1] if len(shapes[0]) == 2 else -1
    assert_true(
        shapes == [(2, H), (H,), (H, 1), (1,)],
        f"xor_mlp_weights must return W1 (2, H), b1 (H,), W2 (H, 1), b2 (1,); got {shapes}",
    )
    out, _ = mlp_oracle.mlp_forward(X, [W1, W2], [b1, b2], "relu")  # torch nn.Sequential
    wrong = np.flatnonzero(np.where(out[:, 0] > 0, 1, -1) != y)
    i = wrong[0] if wrong.size else 0
    assert_true(
        wrong.size == 0,
        f"torch's forward pass of your weights, relu(x @ W1 + b1) @ W2 + b2, labels "
        f"{len(wrong)} of {len(y)} points wrong, e.g. x={X[i]} scores {out[i, 0]:.4g} "
        f"but its label is {y[i]:+d} (+1 needs out > 0, -1 needs out <= 0).{why}",
    )


@pytest.mark.oracle
def test_xor_mlp_weights_compute_xor_in_torch():
    check_xor_mlp(XOR_X, XOR_Y)


@pytest.mark.property
@given(noise=cs.arrays((4, 2), min_value=-0.1, max_value=0.1, layouts=("contiguous",)))
def test_xor_mlp_keeps_a_margin_around_the_corners(noise):
    check_xor_mlp(XOR_X + noise, XOR_Y, why=MARGIN + " Leave a margin: no corner may score 0.")
