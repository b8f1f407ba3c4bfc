"""losses.py: eight losses and their gradients, checked against torch.nn.functional + autograd."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import losses as oracle
from reference.oracles import numpy, tensor

losses = kata("01_fundamentals/losses")


def regression(rng, N, C):  # pred, target
    return rng.standard_normal((N, C)) * 2, rng.standard_normal((N, C))


def binary(rng, N, C):  # logits, targets: hard 0/1 labels mixed with soft probabilities
    target = rng.uniform(size=(N, C))
    hard = rng.uniform(size=(N, C)) < 0.5
    return rng.standard_normal((N, C)) * 3, np.where(hard, np.round(target), target)


def classes(rng, N, C):  # scores or logits, integer class ids
    return rng.standard_normal((N, C)) * 3, rng.integers(0, C, N)


def log_softmax(z):
    return numpy(torch.log_softmax(tensor(z), dim=1))


def log_probs(rng, N, C):  # rows of log-probabilities, integer class ids
    return log_softmax(rng.standard_normal((N, C)) * 2), rng.integers(0, C, N)


def distributions(rng, N, C):  # log q, and p with some exact zeros (every row keeps one entry)
    p = np.exp(log_softmax(rng.standard_normal((N, C))))
    p[rng.uniform(size=(N, C)) < 0.3] = 0.0
    p[np.arange(N), rng.integers(0, C, N)] += 0.5
    return log_softmax(rng.standard_normal((N, C)) * 2), p / p.sum(axis=1, keepdims=True)


CASES = {  # test id -> (function name, input maker, keyword arguments)
    "mse": ("mse", regression, {}),
    "l1": ("l1", regression, {}),
    "huber": ("huber", regression, {}),
    "huber-delta0.5": ("huber", regression, {"delta": 0.5}),
    "bce": ("bce_with_logits", binary, {}),
    "ce": ("softmax_cross_entropy", classes, {}),
    "ce-smoothing0.1": ("softmax_cross_entropy", classes, {"label_smoothing": 0.1}),
    "nll": ("nll", log_probs, {}),
    "hinge": ("multiclass_hinge", classes, {}),
    "hinge-margin2": ("multiclass_hinge", classes, {"margin": 2.0}),
    "kl": ("kl_div", distributions, {}),
}


def check(name, first, second, kw, part, dtype=np.float64):
    """Call your loss and compare one part of its answer (the loss or the gradient) with torch's."""
    __tracebackhide__ = True
    first = first.astype(dtype, copy=False)
    second = second.astype(dtype, copy=False) if second.dtype.kind == "f" else second
    out = call(getattr(losses, name), first, second, **kw)
    assert_true(
        isinstance(out, tuple) and len(out) == 2,
        f"{name} must return a pair (loss, gradient); got {type(out).__name__}",
    )
    want = oracle.loss_and_grad(name, first, second, **kw)
    mistakes = oracle.known_mistakes(name, first, second, **kw)
    factors = {"N": first.shape[0], "C": first.shape[1], "N*C": first.size, "2": 2}
    i, tol, label = (0, "reduction", "loss") if part == "loss" else (1, "grad", "the gradient")
    yours = out[i]
    if part == "loss" and np.ndim(yours) == 0 and np.asarray(yours).dtype.kind == "f":
        yours = np.asarray(yours).astype(dtype)[()]  # a float or 0-d array of any float dtype
    wrong = {k: v[i] for k, v in mistakes.items() if v[i] is not None}
    assert_close(yours, want[i], tol=tol, name=label, dtype=dtype, factors=factors, mistakes=wrong)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES)
def test_loss_value_matches_torch(case, rng):
    name, make, kw = CASES[case]
    check(name, *make(rng, 5, 4), kw, "loss")


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES)
def test_gradient_matches_torch_autograd(case, rng):
    name, make, kw = CASES[case]
    check(name, *make(rng, 5, 4), kw, "grad")


@pytest.mark.parametrize("case", CASES)
def test_gradient_keeps_float32(case, rng):
    name, make, kw = CASES[case]
    check(name, *make(rng, 6, 3), kw, "grad", dtype=np.float32)


def random_case(case, n, c, seed, kind):
    name, make, kw = CASES[case]
    first, second = make(np.random.default_rng(seed), n, c)
    return name, cs.relayout(first, kind), cs.relayout(second, kind), kw


PROPERTY = dict(
    case=st.sampled_from(list(CASES)),
    n=st.integers(1, 6),
    c=st.integers(2, 6),
    seed=st.integers(0, 2**32 - 1),
    kind=cs.layouts(),
)


@pytest.mark.property
@given(**PROPERTY)
def test_loss_value_matches_torch_for_any_sizes_and_layouts(case, n, c, seed, kind):
    name, first, second, kw = random_case(case, n, c, seed, kind)
    check(name, first, second, kw, "loss")


@pytest.mark.property
@given(**PROPERTY)
def test_gradient_matches_torch_for_any_sizes_and_layouts(case, n, c, seed, kind):
    name, first, second, kw = random_case(case, n, c, seed, kind)
    check(name, first, second, kw, "grad")


PARTS = pytest.mark.parametrize("part", ["loss", "grad"])
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])


@pytest.mark.edge
@PARTS
@DTYPES
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_cross_entropy_survives_logits_of_1e4(part, dtype, eps, rng):
    logits = rng.choice([-1e4, 0.0, 1e4], size=(4, 5)) + rng.standard_normal((4, 5))
    y, kw = rng.integers(0, 5, 4), {"label_smoothing": eps}
    check("softmax_cross_entropy", logits, y, kw, part, dtype)


@pytest.mark.edge
@PARTS
@DTYPES
def test_bce_with_logits_survives_logits_of_1e4_with_hard_targets(part, dtype):
    logits = np.tile([-1e4, -40.0, -1.0, 0.0, 1.0, 40.0, 1e4], (2, 1))  # (2, 7)
    target = np.array([[0.0], [1.0]]) * np.ones_like(logits)  # row 0: all 0, row 1: all 1
    check("bce_with_logits", logits, target, {}, part, dtype)


@pytest.mark.edge
@PARTS
def test_label_smoothing_with_two_classes_puts_eps_over_2_on_each(part, rng):
    check("softmax_cross_entropy", *classes(rng, 4, 2), {"label_smoothing": 0.2}, part)


@pytest.mark.edge
@PARTS
def test_kl_div_counts_0_log_0_as_0(part, rng):
    log_q, _ = distributions(rng, 3, 4)
    p = np.array([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    check("kl_div", log_q, p, {}, part)


@pytest.mark.edge
@PARTS
@pytest.mark.parametrize("delta", [0.5, 1.0])
def test_huber_is_continuous_at_exactly_delta(part, delta):
    d = np.array([-2, -1, -0.5, 0, 0.5, 1, 2]) * delta  # differences of exactly +-delta
    target = np.array([0.25, -1.5, 3.0, 0.0, 0.75, -0.25, 1.0])  # sums stay exact
    check("huber", (target + d)[None, :], target[None, :], {"delta": delta}, part)


@pytest.mark.edge
@PARTS
def test_l1_gradient_is_zero_at_ties(part, rng):
    pred, target = regression(rng, 3, 4)
    target[:, ::2] = pred[:, ::2]  # half the entries tie exactly
    check("l1", pred, target, {}, part)


@pytest.mark.edge
@PARTS
def test_hinge_margin_met_exactly_costs_nothing(part):
    scores = np.array([[1.0, 2.0, 3.0], [0.0, 0.5, 0.0], [4.0, 4.0, 4.0]])
    check("multiclass_hinge", scores, np.array([2, 1, 0]), {}, part)
