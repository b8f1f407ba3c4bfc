"""optimizers.py: SGD, Adagrad, RMSprop, Adam, AdamW, step by step against torch.optim.

Each test runs a whole training-like sequence (many steps, gradients that grow and shrink)
through your optimizer and through torch.optim on float64 copies, and compares every
parameter after every step, so a failure names the first step where you part ways.
Tolerance: "reduction", because rounding piles up over the steps like a running sum.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_true, call, kata
from checker import strategies as cs
from checker.tolerances import tolerance
from reference.oracles import optimizers as oracle

opt = kata("02_training/optimizers")
NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]
SHAPES = [(3, 4), (4,), (1, 1)]
TOL = tolerance("reduction", np.float64)  # only to tell a slip from torch's answer
NOT_IN_PLACE = (
    "params[i] not updated in place (params[i] = ... rebinds the list entry; use p -= ...)"
)


def random_run(rng, shapes=SHAPES, n_steps=20, dtype=np.float64, scale_range=(-6, 1)):
    """Parameters and gradients for n_steps; the gradients' size changes a lot from step to step
    (up and down), so eps, amsgrad's max and the moving averages all matter."""
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    scales = np.exp(rng.uniform(*scale_range, n_steps))
    grads = [[(rng.standard_normal(s) * c).astype(dtype) for s in shapes] for c in scales]
    return params, grads


def check_run(name, hp, params, grads_per_step, dtype=np.float64, layout=None):
    """Step your optimizer through the run; compare every parameter after every step.

    layout: how to hand the parameters over (a view maker: transposed, strided); the
    optimizer must update such views in place too."""
    __tracebackhide__ = True
    want = oracle.trajectory(name, hp, params, grads_per_step)
    slips = {oracle.LABELS[s]: oracle.slipped(name, hp, params, grads_per_step, s)
             for s in oracle.SLIPS[name]}  # fmt: skip
    what = f"{name}({', '.join(f'{k}={v!r}' for k, v in hp.items())})"
    optimizer = call(getattr(opt, name), **hp)
    arrays = [(layout or np.copy)(p.copy()) for p in params]  # the caller's: step changes these
    listed = list(arrays)
    saved = [[g.copy() for g in grads] for grads in grads_per_step]
    n = len(grads_per_step)
    for k, grads in enumerate(grads_per_step):
        before = [a.copy() for a in arrays]
        call(optimizer.step, listed, grads, mutates=("params",))
        for i, a in enumerate(arrays):
            mistakes = {label: run[k][i] for label, run in slips.items()}
            mistakes[NOT_IN_PLACE] = before[i]
            # a slip that gives torch's answer at this step is no diagnosis
            mistakes = {m: x for m, x in mistakes.items() if not np.allclose(x, want[k][i], *TOL)}
            view = "" if a.flags.c_contiguous else "a non-contiguous view; "
            assert_close(a, want[k][i], tol="reduction", dtype=dtype, inplace=True,
                         name=f"params[{i}] ({view}after step {k + 1} of {n}, {what})",
                         mistakes=mistakes)  # fmt: skip
    changed = [k + 1 for k, (g, c) in enumerate(zip(grads_per_step, saved))
               if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(g, c))]  # fmt: skip
    assert_true(not changed, f"{what}.step changed the gradients of step(s) {changed} after "
                "it returned: does a buffer alias a gradient (buf = g, not g.copy())?")  # fmt: skip


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.02, initial_accumulator_value=0.3)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, lr_decay=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.01, momentum=0.7)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.05)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, amsgrad=True, eps=1e-3)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]
CONFIG_IDS = [name + "".join(f"-{k}={v}" for k, v in hp.items()) for name, hp in CONFIGS]


@pytest.mark.oracle
@pytest.mark.parametrize(("name", "hp"), CONFIGS, ids=CONFIG_IDS)
def test_optimizer_matches_torch(name, hp, rng):
    check_run(name, hp, *random_run(rng))


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(name, rng):
    """No hyperparameters given: yours must behave like torch.optim's defaults."""
    check_run(name, {}, *random_run(rng, n_steps=5))


@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_stay_float32(name, rng):
    params, grads = random_run(rng, n_steps=10, dtype=np.float32, scale_range=(-2, 1))
    check_run(name, dict(lr=0.01), params, grads, dtype=np.float32)


@st.composite
def configs(draw):
    """An optimizer name and random hyperparameters that torch accepts."""
    name = draw(st.sampled_from(NAMES))
    hp = dict(lr=draw(st.floats(1e-3, 0.3)), weight_decay=draw(st.sampled_from([0.0, 0.01, 0.2])))
    eps = draw(st.sampled_from([1e-10, 1e-8, 1e-3, 0.1]))
    if name == "SGD":
        momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
        nesterov = momentum > 0 and draw(st.booleans())  # torch: Nesterov needs momentum
        dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.1, 0.5]))  # and no damping
        hp.update(momentum=momentum, dampening=dampening, nesterov=nesterov,
                  maximize=draw(st.booleans()))  # fmt: skip
    elif name == "Adagrad":
        hp.update(lr_decay=draw(st.sampled_from([0.0, 0.01, 0.5])), eps=eps,
                  initial_accumulator_value=draw(st.sampled_from([0.0, 0.1, 1.0])))  # fmt: skip
    elif name == "RMSprop":
        hp.update(alpha=draw(st.floats(0.5, 0.999)), eps=eps, centered=draw(st.booleans()),
                  momentum=draw(st.sampled_from([0.0, 0.5, 0.9])))  # fmt: skip
    else:
        hp.update(betas=(draw(st.floats(0.0, 0.99)), draw(st.floats(0.5, 0.9999))), eps=eps,
                  amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))  # fmt: skip
    return name, hp


@pytest.mark.property
@given(config=configs(), shapes=st.lists(cs.shapes(), min_size=1, max_size=3),
       n_steps=st.integers(1, 8), seed=st.integers(0, 2**32 - 1),
       param_layout=cs.layouts(),
       grad_layout=cs.layouts())  # fmt: skip
def test_optimizers_match_torch_for_any_shapes_layouts_and_hyperparameters(
    config, shapes, n_steps, seed, param_layout, grad_layout
):
    params, grads = random_run(np.random.default_rng(seed), shapes, n_steps)
    grads = [[cs.relayout(g, grad_layout) for g in gs] for gs in grads]
    check_run(*config, params, grads, layout=lambda p: cs.relayout(p, param_layout))


@pytest.mark.edge
@pytest.mark.parametrize("name", NAMES)
def test_a_zero_gradient_gives_no_nan_and_adamw_still_decays(name, rng):
    """A parameter whose gradient is always 0: eps keeps 0 / 0 away; AdamW shrinks it anyway."""
    params, grads = random_run(rng, n_steps=6)
    for gs in grads:
        gs[0] = np.zeros_like(gs[0])
    hp = {"SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.1), "RMSprop": dict(centered=True)}
    check_run(name, hp.get(name, dict(lr=0.1, weight_decay=0.1)), params, grads)


@pytest.mark.edge
def test_sgd_momentum_buffer_starts_at_the_first_gradient_undamped(rng):
    """Step 1 of SGD with momentum and dampening is a plain SGD step (buf = g, no 1 - dampening)."""
    check_run("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5), *random_run(rng, n_steps=3))


@pytest.mark.edge
def test_adams_first_step_moves_every_weight_by_about_lr(rng):
    """Bias correction makes step 1 ~ lr * sign(g) even for tiny gradients; without, much less."""
    check_run("Adam", dict(lr=0.01), *random_run(rng, n_steps=1, scale_range=(-7, -7)))


@pytest.mark.edge
def test_the_step_count_is_per_step_not_per_parameter(rng):
    """Six parameters, three steps: t is 1, 2, 3, the same for all six."""
    shapes = [(2,), (3,), (1,), (2, 2), (1, 3), (4,)]
    check_run("Adam", dict(lr=0.01, betas=(0.5, 0.6)), *random_run(rng, shapes, n_steps=3))
