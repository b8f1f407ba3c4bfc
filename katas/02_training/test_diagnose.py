"""diagnose.py: name a run's failure from its curves, on real short torch trainings.

Every curve here comes from a real run (reference/oracles/diagnose.py): a small MLP
trained in torch with a recipe that fails in a known way, seeded, 200 full-batch steps.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_true, call, kata
from checker import strategies as cs
from reference.oracles import diagnose as oracle

diag = kata("02_training/diagnose")
LABELS = {"lr_too_high", "lr_too_low", "overfitting", "vanishing_gradients"}
LABELS |= {"exploding_gradients", "healthy"}
SEEDS = (0, 1)  # every run gets its label on seeds 0-9 (checked when the kata was written)
RUNS = [(name, seed) for name in oracle.RUNS for seed in SEEDS]

# (expected, yours) -> what that confusion usually means
HINTS = {
    ("lr_too_high", "healthy"): "NaN compares False with everything: check np.isfinite "
    "on both losses and the norms FIRST, or a blown-up run slips through every rule.",
    ("lr_too_high", "lr_too_low"): "a loss that ends above its start did not stall, it "
    "diverged: rule 3 (end > start) comes before the flat-loss rule.",
    ("lr_too_high", "overfitting"): "a NaN or a diverged loss comes before everything "
    "else (rule 1 and rule 3): check them before the train/val gap.",
    ("lr_too_high", "vanishing_gradients"): "read the depth ratio in the first tenth of the "
    "run only: after a blow-up the ReLUs die and the first layer gets no gradient at all.",
    ("vanishing_gradients", "lr_too_low"): "the loss is flat because the first layers get "
    "no gradient: read the depth ratio (rule 2) before the flat-loss rule, and read it in "
    "the first tenth of the run, before the output layer stops learning.",
    ("vanishing_gradients", "exploding_gradients"): "ratio upside down? Column 0 is the "
    "layer nearest the input: ratio = input side / output side.",
    ("exploding_gradients", "vanishing_gradients"): "ratio upside down? Column 0 is the "
    "layer nearest the input: ratio = input side / output side.",
    ("overfitting", "healthy"): "overfitting shows at the END of the run: compare the "
    "last tenth of the validation loss with its best value and with the training loss.",
    ("healthy", "lr_too_low"): "the flat-loss rule uses the relative decrease "
    "(start - end) / start < FLAT; a comparison the wrong way round, or in the loss's "
    "own units, flags healthy runs.",
    ("healthy", "overfitting"): "overfitting needs BOTH: the validation loss ends above "
    "VAL_RISE x its best, and above GAP x the training loss.",
}


def recipe(name: str) -> str:
    cfg = oracle.RUNS[name][1]
    opt = "Adam" if cfg.get("opt") == "adam" else "SGD"
    extra = f", init N(0, {cfg['gain']:g}^2/fan_in)" if "gain" in cfg else ""
    extra += f", {cfg['noise']:.0%} labels flipped" if "noise" in cfg else ""
    return (
        f"{cfg['depth']} layers of width {cfg['width']} ({cfg['act']}), {opt} lr "
        f"{cfg['lr']:g}, {cfg['n_train']} training samples{extra}"
    )


def summary(train, val, norms) -> str:
    """The numbers the rules read, so a failure shows what the curves said."""
    t, e = len(train), len(val)
    k, kv = max(1, t // 10), max(1, e // 10)
    bad = int(np.sum(~np.isfinite(train)) + np.sum(~np.isfinite(val)))
    if bad:
        first = int(np.argmin(np.isfinite(train))) if not np.isfinite(train).all() else None
        return f"{bad} NaN/inf loss values" + (f", the first at step {first}" if first else "")
    with np.errstate(all="ignore"):
        ratio = np.median(norms[:k, 0]) / np.median(norms[:k, -1])
    return (
        f"train loss {train[0]:.3g} at step 0, {np.median(train[-k:]):.3g} over the last "
        f"tenth; val loss best {np.min(val):.3g}, {np.median(val[-kv:]):.3g} over the last "
        f"tenth; first/last layer grad norm over the first tenth {ratio:.3g} (L={norms.shape[1]})"
    )


def check(name, seed, train, val, norms, want, how=""):
    __tracebackhide__ = True
    got = call(diag.diagnose, train, val, norms)
    assert_true(
        isinstance(got, str) and got in LABELS,
        f"diagnose must return one of {sorted(LABELS)}; got {got!r}",
    )
    hint = HINTS.get((want, got), "")
    assert_true(
        got == want,
        f"Run {name!r} (seed {seed}: {recipe(name)}){how} is {want!r}; diagnose said "
        f"{got!r}.\nThe curves: {summary(train, val, norms)}."
        + (f"\nLikely mistake: {hint}" if hint else ""),
    )


@pytest.mark.oracle
@pytest.mark.parametrize("name, seed", RUNS)
def test_diagnose_matches_torch_runs_known_failure(name, seed):
    train, val, norms = oracle.curves(name, seed)
    check(name, seed, train, val, norms, oracle.RUNS[name][0])


@pytest.mark.property
@given(
    run=st.sampled_from(RUNS),
    loss_scale=st.floats(-3, 3).map(lambda p: 10.0**p),
    norm_scale=st.floats(-3, 3).map(lambda p: 10.0**p),
    dtype=st.sampled_from([np.float64, np.float32]),
    layout=cs.layouts(),
)
def test_label_does_not_depend_on_units_dtype_or_layout(run, loss_scale, norm_scale, dtype, layout):
    name, seed = run
    train, val, norms = oracle.curves(name, seed)
    train, val = (loss_scale * train).astype(dtype), (loss_scale * val).astype(dtype)
    norms = (norm_scale * norms).astype(dtype)
    if layout == "transposed":
        norms = np.asfortranarray(norms)  # same values, column-major strides
    elif layout == "strided":
        train, val, norms = cs.noncontiguous(train), cs.noncontiguous(val), cs.noncontiguous(norms)
    how = f" with losses x {loss_scale:.3g}, norms x {norm_scale:.3g}, {np.dtype(dtype)}, {layout}"
    check(name, seed, train, val, norms, oracle.RUNS[name][0], how)


@pytest.mark.edge
@pytest.mark.parametrize("name", list(oracle.RUNS))
def test_a_global_norm_alone_cannot_show_depth(name):
    """One column (L=1): the depth rules stay silent; a vanishing run just looks flat."""
    train, val, norms = oracle.curves(name, 0)
    total = np.sqrt(np.sum(norms**2, axis=1, keepdims=True))  # (T, 1) the global norm
    want = oracle.RUNS[name][0]
    if want == "exploding_gradients":  # the loss rules decide; only the depth labels are wrong
        got = call(diag.diagnose, train, val, total)
        assert_true(
            got in LABELS - {"exploding_gradients", "vanishing_gradients"},
            f"With grad_norms of shape {total.shape} (one global norm per step) there is no "
            f"depth to compare; diagnose said {got!r}. Skip rule 2 when L == 1.",
        )
        return
    want = "lr_too_low" if want == "vanishing_gradients" else want
    check(name, 0, train, val, total, want, " logged with a global grad norm only (L=1)")


@pytest.mark.edge
def test_a_nan_at_the_last_step_is_caught():
    train, val, norms = oracle.curves("healthy", 0)
    train[-1] = np.nan
    check("healthy", 0, train, val, norms, "lr_too_high", " with a NaN at its last step")


@pytest.mark.edge
def test_an_inf_in_the_validation_loss_is_caught():
    train, val, norms = oracle.curves("overfitting", 0)
    val[len(val) // 2] = np.inf
    check("overfitting", 0, train, val, norms, "lr_too_high", " with an inf validation loss")
