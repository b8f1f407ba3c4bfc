"""regularization.py: penalties, ridge = MAP, weight decay vs L2, dropout, early stopping."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from reference.oracles import regularization as oracle
from reference.oracles import tensor

reg = kata("02_training/regularization")
DTYPES = [np.float64, np.float32]
SEED = st.integers(0, 2**32 - 1)


# ----------------------------------------------------------------------------- L1 and L2


def check_penalty(kind, w, lam, part, dtype=None):
    __tracebackhide__ = True
    fn = reg.l1_penalty if kind == "l1" else reg.l2_penalty
    value, grad = call(fn, w, lam)
    want_value, want_grad = oracle.penalty(w, lam, kind)
    if part == "value":
        half = {"the penalty without its 1/2": 2 * want_value} if kind == "l2" else {}
        assert_close(value, want_value, tol="reduction", name="the penalty", dtype=dtype,
                     mistakes=half)  # fmt: skip
    else:
        slips = {"sign(0) = 1 (w >= 0 counted as positive)": lam * np.where(w >= 0, 1.0, -1.0)}
        slips = slips if kind == "l1" else {"lam * w / 2": want_grad / 2}
        assert_close(grad, want_grad, tol="elementwise", name="the gradient", dtype=dtype,
                     mistakes=slips)  # fmt: skip


def weights_with_zeros(rng, shape, dtype=np.float64):
    w = rng.standard_normal(shape).astype(dtype)
    w[np.abs(w) < 0.5] = 0  # exact zeros: where |w| has no derivative
    return w


@pytest.mark.oracle
@pytest.mark.parametrize("part", ["value", "gradient"])
@pytest.mark.parametrize("kind", ["l1", "l2"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_penalty_matches_torch(kind, part, dtype, rng):
    check_penalty(kind, weights_with_zeros(rng, (4, 6), dtype), 0.3, part, dtype)


@pytest.mark.property
@given(w=cs.arrays(cs.shapes(max_dims=3)), kind=st.sampled_from(["l1", "l2"]),
       part=st.sampled_from(["value", "gradient"]),
       lam=st.sampled_from([0.0, 0.01, 2.5]))  # fmt: skip
def test_penalty_matches_torch_for_any_shapes_and_layouts(w, kind, part, lam):
    w[np.abs(w) < 1] = 0  # in place on the drawn view: the layout stays
    check_penalty(kind, w, lam, part)


@pytest.mark.edge
def test_l1_gradient_at_exactly_zero_is_zero():
    """torch's abs backward uses sign(0) = 0: a weight already at zero is not pushed."""
    check_penalty("l1", np.array([[0.0, 0.0, -0.0], [1.5, -2.0, 0.0]]), 0.5, "gradient")


# ----------------------------------------------------------------------------- L2 as a prior


def regression(rng, N, D, dtype=np.float64):
    X = rng.standard_normal((N, D))
    y = X @ rng.standard_normal(D) + 0.3 * rng.standard_normal(N)
    return X.astype(dtype), y.astype(dtype)


def check_ridge(X, y, lam, dtype=None):
    __tracebackhide__ = True
    w = call(reg.ridge, X, y, lam)
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    slips = {
        "lam added to every entry of X^T X, not only to its diagonal":
            np.linalg.pinv(X64.T @ X64 + lam) @ X64.T @ y64,
        "lam / 2 on the diagonal": oracle.ridge(X64, y64, lam / 2),
    }  # fmt: skip
    assert_close(w, oracle.ridge(X64, y64, lam), tol="matmul", name="w", dtype=dtype,
                 mistakes=slips)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_ridge_matches_torch(dtype, rng):
    check_ridge(*regression(rng, 20, 5, dtype), 2.0, dtype)


@pytest.mark.property
@given(n=st.integers(1, 6), d=st.integers(1, 5), lam=st.sampled_from([0.1, 1.0, 10.0]),
       seed=SEED, layout=cs.layouts())  # fmt: skip
def test_ridge_matches_torch_for_any_sizes_and_layouts(n, d, lam, seed, layout):
    X, y = regression(np.random.default_rng(seed), n, d)
    X = cs.relayout(X, layout)
    check_ridge(X, y, lam)


@pytest.mark.edge
def test_ridge_with_more_features_than_examples(rng):
    """D > N: X^T X is singular; lam I is what makes the system solvable."""
    check_ridge(*regression(rng, 3, 7), 0.5)


@pytest.mark.oracle
def test_gaussian_posterior_matches_torch(rng):
    X, y = regression(rng, 15, 4)
    sigma2, tau2 = 0.5, 2.0
    mean, cov = call(reg.gaussian_posterior, X, y, sigma2, tau2)
    want_mean, want_cov = oracle.gaussian_posterior(X, y, sigma2, tau2)
    precision = X.T @ X / sigma2 + np.eye(4) / tau2
    slips = {
        "ridge with lam = tau2 / sigma2 (the ratio upside down)": oracle.ridge(X, y, tau2 / sigma2),
        "I * tau2 where I / tau2 belongs": oracle.ridge(X, y, sigma2 * tau2),
    }
    assert_close(mean, want_mean, tol="matmul", name="mean", mistakes=slips)
    assert_close(cov, want_cov, tol="matmul", name="cov",
                 mistakes={"the precision, not its inverse": precision,
                           "I * tau2 where I / tau2 belongs": np.linalg.inv(
                               X.T @ X / sigma2 + np.eye(4) * tau2)})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize(("sigma2", "tau2"), [(0.5, 2.0), (1.0, 0.1), (4.0, 4.0)])
def test_ridge_is_the_map_estimate_under_a_gaussian_prior(sigma2, tau2, rng):
    """L2 with lam = sigma2 / tau2 is a Gaussian prior: both give torch's argmin of -log p(w|D)."""
    X, y = regression(rng, 12, 4)
    want, _ = oracle.gaussian_posterior(X, y, sigma2, tau2)
    mean, _ = call(reg.gaussian_posterior, X, y, sigma2, tau2)
    assert_close(mean, want, tol="matmul", name="the posterior mean")
    w = call(reg.ridge, X, y, sigma2 / tau2)
    assert_close(w, want, tol="matmul", name="w with lam = sigma2 / tau2 (the MAP estimate)")


# ----------------------------------------------------------------------------- weight decay


def learner_run(step_fn, w0, A, b, lr, wd, steps, **kw):
    """The learner's optimizer on 0.5 ||A w - b||^2: gradients from their own trajectory."""
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t in range(1, steps + 1):
        g = oracle.quadratic_loss(w, A, b)
        if step_fn is reg.sgd_step:
            w = call(reg.sgd_step, w, g, lr, wd, **kw)
        else:
            w, m, v = call(reg.adam_step, w, g, m, v, t, lr, wd, **kw)
    return w


def problem(rng):
    A = rng.standard_normal((8, 5)) * np.array([0.1, 0.3, 1.0, 3.0, 10.0])  # varied curvature
    return rng.standard_normal(5), A, rng.standard_normal(8)


def sgd_without_lr(w, lr, wd, steps, A, b):
    for _ in range(steps):
        w = w * (1 - wd) - lr * oracle.quadratic_loss(w, A, b)
    return w


OPTIM_CASES = {  # test id -> (learner's step, decoupled, the torch run it must equal, lr)
    "sgd-l2=torch-SGD(weight_decay)": ("sgd", False, "sgd", 1e-3),
    "sgd-decoupled=SGD-on-loss+L2": ("sgd", True, "sgd+l2", 1e-3),
    "adam-l2=torch-Adam(weight_decay)": ("adam", False, "adam", 0.05),
    "adam-l2=Adam-on-loss+L2": ("adam", False, "adam+l2", 0.05),
    "adamw=torch-AdamW": ("adam", True, "adamw", 0.05),
}


@pytest.mark.oracle
@pytest.mark.parametrize("case", OPTIM_CASES)
def test_weight_decay_step_matches_torch(case, rng):
    step, decoupled, kind, lr = OPTIM_CASES[case]
    w0, A, b = problem(rng)
    fn = reg.sgd_step if step == "sgd" else reg.adam_step
    w = learner_run(fn, w0, A, b, lr, 0.1, 10, decoupled=decoupled)
    run = dict(lr=lr, wd=0.1, steps=10, A=A, b=b)
    if step == "sgd":
        slips = {"the decay without lr: w * (1 - weight_decay)": sgd_without_lr(w0, **run)}
    else:
        slips = {
            "Adam + L2: AdamW must decay the weights directly, not through the gradient":
                oracle.optimizer_run("adam", w0, **run),
            "AdamW: the decay must go through the gradient here (decoupled=False)":
                oracle.optimizer_run("adamw", w0, **run),
        }  # fmt: skip
    assert_close(w, oracle.optimizer_run(kind, w0, **run), tol="grad", inplace=True,
                 name="w after 10 steps", mistakes=slips)  # fmt: skip


@pytest.mark.property
@given(shape=cs.shapes(max_dims=2), steps=st.integers(1, 4), decoupled=st.booleans(),
       wd=st.sampled_from([0.0, 0.01, 0.5]), seed=SEED)  # fmt: skip
def test_adam_step_matches_torch_for_any_shapes(shape, steps, decoupled, wd, seed):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(shape)
    grads = [cs.noncontiguous(rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3))
             for _ in range(steps)]  # fmt: skip
    w, m, v = w0, np.zeros(shape), np.zeros(shape)
    for t, g in enumerate(grads, start=1):
        w, m, v = call(reg.adam_step, w, g, m, v, t, 0.01, wd, decoupled=decoupled)
    want = oracle.optimizer_run("adamw" if decoupled else "adam", w0, 0.01, wd, grads=grads)
    assert_close(w, want, tol="grad", name=f"w after {steps} steps", inplace=True)


@pytest.mark.edge
def test_adamw_decays_every_weight_alike_adam_l2_does_not(rng):
    """One step from m = v = 0, gradients from 1e-3 to 1e3: the decay's share of the step."""
    w = np.ones(7)
    g = np.sign(rng.standard_normal(7)) * np.logspace(-3, 3, 7)
    zeros, lr, wd = np.zeros(7), 0.01, 0.1

    def decay_effect(decoupled):
        no_wd, _, _ = call(reg.adam_step, w, g, zeros, zeros, 1, lr, 0.0, decoupled=decoupled)
        with_wd, _, _ = call(reg.adam_step, w, g, zeros, zeros, 1, lr, wd, decoupled=decoupled)
        return with_wd - no_wd

    want = oracle.optimizer_run("adamw", w, lr, wd, grads=[g]) - oracle.optimizer_run(
        "adamw", w, lr, 0.0, grads=[g])  # fmt: skip
    assert_close(decay_effect(True), want, tol="grad", name="AdamW's decay (w(wd) - w(0))")
    effect = decay_effect(False)  # Adam + L2: the decay is divided by sqrt(v) like the rest
    assert_true(
        abs(effect[-1]) < 1e-3 * lr * wd,
        f"Adam + L2 must rescale the decay with the gradient: for |g| = 1e3 its effect "
        f"should all but vanish; yours is {effect[-1]:.3g} (AdamW's: {-lr * wd:.3g}). "
        "Add weight_decay * w to g BEFORE the moment updates when decoupled=False.",
    )


# ----------------------------------------------------------------------------- dropout


@pytest.mark.oracle
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_mask_keeps_units_with_probability_1_minus_p(p, rng):
    shape = (400, 250)
    mask = call(reg.dropout_mask, shape, p, rng)
    assert_true(isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == shape,
                f"dropout_mask must return a bool array of shape {shape}; got "
                f"{getattr(mask, 'dtype', type(mask))} {getattr(mask, 'shape', '')}")  # fmt: skip
    with torch.random.fork_rng():  # torch's own keep rate, on its own seeded generator
        torch.manual_seed(int(rng.integers(2**31)))
        kept = F.dropout(torch.ones(shape, dtype=torch.float64), p) != 0
    n, mine, theirs = mask.size, mask.mean(), kept.double().mean().item()
    bound = 5 * np.sqrt(mine * (1 - mine) / n + theirs * (1 - theirs) / n)  # 5 sigma
    assert_true(abs(mine - theirs) <= bound,
                f"dropout_mask(p={p}) keeps {mine:.4f} of the units, torch's F.dropout "
                f"{theirs:.4f} (about 1 - p = {1 - p}; allowed {bound:.4f}). p is the "
                "probability to DROP a unit.")  # fmt: skip


def test_dropout_mask_is_reproducible_from_the_seed():
    a = call(reg.dropout_mask, (50, 40), 0.5, np.random.default_rng(7))
    b = call(reg.dropout_mask, (50, 40), 0.5, np.random.default_rng(7))
    c = call(reg.dropout_mask, (50, 40), 0.5, np.random.default_rng(8))
    assert_true(np.array_equal(a, b) and not np.array_equal(a, c),
                "dropout_mask must draw from the rng it is given: the same seed must give "
                "the same mask, another seed another (np.random.* ignores the seed)")  # fmt: skip


def check_dropout(x, p, mask, part, dtype=None, rng=None):
    __tracebackhide__ = True
    if part == "forward":
        out = call(reg.dropout_forward, x, p, mask, True)
        want = oracle.dropout(x, p, mask)
        slips = {"kept units scaled by p": x * mask * p, "kept units not rescaled": x * mask}
        if p > 0:
            slips["kept units scaled by 1 / p"] = x * mask / p
    else:
        dout = rng.standard_normal(x.shape).astype(x.dtype)
        out = call(reg.dropout_backward, dout, p, mask)
        want = oracle.dropout(x, p, mask, dout=dout)
        slips = {"no mask in the backward pass": dout / (1 - p) if p < 1 else dout,
                 "no 1 / (1 - p) in the backward pass": dout * mask}  # fmt: skip
    assert_close(out, want, tol="elementwise", name=f"the {part} result", dtype=dtype,
                 mistakes=slips)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("part", ["forward", "backward"])
@pytest.mark.parametrize("p", [0.2, 0.5])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_matches_torch(part, p, dtype, rng):
    x = rng.standard_normal((6, 10)).astype(dtype)
    check_dropout(x, p, rng.random(x.shape) >= p, part, dtype, rng)


@pytest.mark.property
@given(x=cs.arrays(cs.shapes(max_dims=3)), p=st.sampled_from([0.0, 0.1, 0.5, 0.9]),
       part=st.sampled_from(["forward", "backward"]), seed=SEED)  # fmt: skip
def test_dropout_matches_torch_for_any_shapes_and_layouts(x, p, part, seed):
    rng = np.random.default_rng(seed)
    check_dropout(x, p, rng.random(x.shape) >= p, part, rng=rng)


@pytest.mark.edge
@pytest.mark.parametrize("part", ["forward", "backward"])
def test_dropout_with_p_1_drops_everything_without_nan(part, rng):
    x = rng.standard_normal((3, 4))
    check_dropout(x, 1.0, np.zeros(x.shape, dtype=bool), part, rng=rng)


@pytest.mark.edge
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_at_eval_returns_x_unchanged(dtype, rng):
    x = rng.standard_normal((5, 6)).astype(dtype)
    out = call(reg.dropout_forward, x, 0.5, rng.random(x.shape) >= 0.5, False)
    assert_close(out, F.dropout(tensor(x), 0.5, training=False), tol="elementwise", dtype=dtype,
                 name="the eval-mode output",
                 mistakes={"scaled by 1 / (1 - p) at eval too": x / 0.5})  # fmt: skip


def test_dropout_preserves_the_expectation(rng):
    """E[dropout(x)] = x: averaged over K masks, within 5 standard errors of the sample."""
    K, p = 4000, 0.3
    x = np.tile(rng.uniform(0.5, 2.0, 6), (K, 1))  # (K, 6): K copies, one mask each
    out = call(reg.dropout_forward, x, p, rng.random(x.shape) >= p, True)
    mean, se = out.mean(axis=0), out.std(axis=0, ddof=1) / np.sqrt(K)
    assert_true(np.all(np.abs(mean - x[0]) <= 5 * se + 1e-12),
                f"Averaged over {K} masks, dropout(x) / x = {np.round(mean / x[0], 3)}; it "
                f"must be 1 (within {np.round(5 * se / x[0], 3)}). Scale the kept units by "
                "1 / (1 - p).")  # fmt: skip


def random_mlp(rng, sizes):
    weights = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]
    return weights, [rng.standard_normal(b) * 0.5 for b in sizes[1:]]


def check_mc(X, weights, biases, p, T, seed):
    __tracebackhide__ = True
    replay = np.random.default_rng(seed)  # the same calls, in the documented order
    masks = [call(reg.dropout_mask, (T, X.shape[0], W.shape[1]), p, replay) for W in weights[:-1]]
    loop = np.random.default_rng(seed)  # a common variant: masks drawn pass by pass
    per_pass = [[reg.dropout_mask((X.shape[0], W.shape[1]), p, loop) for W in weights[:-1]]
                for _ in range(T)]  # fmt: skip
    looped = oracle.mc_dropout(X, weights, biases, p, [np.stack(m) for m in zip(*per_pass)])
    mean, var = call(reg.mc_dropout_predict, X, weights, biases, p, T, np.random.default_rng(seed))
    want_mean, want_var = oracle.mc_dropout(X, weights, biases, p, masks)
    slips = [{}, {"the same mask for all T passes (every pass is the same network)": 0 * want_var}]
    if len(weights) > 1 and p > 0:
        for i in (0, 1):
            slips[i]["masks drawn pass by pass: draw one (T, N, H_i) mask per layer instead, "
                     "as documented"] = looped[i]  # fmt: skip
    assert_close(var, want_var, tol="reduction", name="var", factors={"T/(T-1)": T / (T - 1)},
                 mistakes=slips[1] if p > 0 else None)  # fmt: skip
    assert_close(mean, want_mean, tol="reduction", name="mean", mistakes=slips[0])


@pytest.mark.oracle
def test_mc_dropout_matches_torch(rng):
    check_mc(rng.standard_normal((5, 4)), *random_mlp(rng, [4, 16, 12, 3]), 0.3, 50, 1234)


@pytest.mark.property
@given(n=st.integers(1, 4), sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       p=st.sampled_from([0.1, 0.5]), T=st.integers(2, 8), seed=SEED)  # fmt: skip
def test_mc_dropout_matches_torch_for_any_sizes(n, sizes, p, T, seed):
    rng = np.random.default_rng(seed)
    check_mc(rng.standard_normal((n, sizes[0])), *random_mlp(rng, sizes), p, T, seed)


@pytest.mark.edge
def test_mc_dropout_without_dropout_has_zero_variance(rng):
    check_mc(rng.standard_normal((3, 4)), *random_mlp(rng, [4, 5, 2]), 0.0, 10, 99)


# ----------------------------------------------------------------------------- early stopping


def check_early_stopping(losses, patience, min_delta, rng):
    __tracebackhide__ = True
    snaps = [[rng.standard_normal((3, 2)), rng.standard_normal(2)] for _ in losses]
    weights = [np.zeros((3, 2)), np.zeros(2)]  # the model: training updates these in place
    stopper = call(reg.EarlyStopping, patience, min_delta)
    stopped = None
    for epoch, loss in enumerate(losses):
        for w, s in zip(weights, snaps[epoch]):
            w[...] = s  # this epoch's training
        if call(stopper.step, loss, weights):
            stopped = epoch
            break
    best = call(stopper.restore, weights, mutates=("weights",))
    want_stop, want_best = oracle.early_stopping(losses, patience, min_delta)
    setup = f"EarlyStopping(patience={patience}, min_delta={min_delta}) on val losses {losses}"
    assert_true(stopped == want_stop,
                f"{setup}: step returned True first at epoch {stopped}; expected {want_stop} "
                "(None = never). Improvement means val_loss < best - min_delta, strictly. "
                f"Stop when patience = {patience} epochs in a row have not improved.")  # fmt: skip
    assert_true(best == want_best, f"{setup}: restore returned best epoch {best}, expected "
                f"{want_best}: the last epoch that improved on the best by more than "
                "min_delta.")  # fmt: skip
    last = stopped if stopped is not None else len(losses) - 1
    for i, w in enumerate(weights):
        slip = {"the last epoch's weights (a reference kept, not a copy?)": snaps[last][i]}
        assert_close(w, snaps[want_best][i], name=f"weights[{i}] (epoch {want_best}'s)",
                     inplace=True, mistakes=slip)  # fmt: skip


CURVES = {  # id -> (val losses, patience, min_delta); dyadic values: exact in binary
    "stops-after-patience": ([4.0, 3.0, 2.0, 2.5, 3.0, 3.5, 4.0], 2, 0.0),
    "equal-loss-is-no-improvement": ([1.0, 0.5, 0.5, 0.5, 0.25], 2, 0.0),
    "gain-of-exactly-min-delta-is-none": ([2.0, 1.75, 1.5, 1.25, 1.0], 1, 0.25),
    "plateau-within-min-delta": ([1.0, 0.5, 0.4375, 0.5, 0.4375, 0.40625, 0.375], 3, 0.125),
    "slow-drift-measured-from-best": ([1.0, 0.9375, 0.875, 0.8125, 0.75, 0.6875], 3, 0.125),
    "recovers-before-patience-runs-out": ([1.0, 1.5, 1.5, 0.5, 1.0, 1.0, 0.25], 3, 0.0),
    "nan-is-never-an-improvement": ([1.0, float("nan"), 0.75, float("nan")], 3, 0.0),
}


@pytest.mark.edge
@pytest.mark.parametrize("curve", CURVES)
def test_early_stopping_on_pinned_curves(curve, rng):
    check_early_stopping(*CURVES[curve], rng)


@pytest.mark.property
@given(eighths=st.lists(st.integers(0, 16), min_size=1, max_size=12), patience=st.integers(1, 4),
       min_delta=st.sampled_from([0.0, 0.125, 0.25]), seed=SEED)  # fmt: skip
def test_early_stopping_agrees_with_lightning_for_any_curve(eighths, patience, min_delta, seed):
    losses = [e / 8 for e in eighths]  # multiples of 1/8: ties and gains of exactly min_delta
    check_early_stopping(losses, patience, min_delta, np.random.default_rng(seed))
