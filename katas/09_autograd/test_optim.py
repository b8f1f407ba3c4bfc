"""optim.py: SGD, Adam, AdamW and two lr schedules, step by step against torch.optim.

Each optimizer test feeds one sequence of gradients (drawn once from the seed; None where a
parameter gets no gradient) to your optimizer and to torch.optim on float64 copies, and
compares every parameter after every step, so a failure names the first step where you part
ways. Tolerance "reduction": rounding piles up over the steps like a running sum. Schedules
are compared with torch's get_last_lr() over three times T_max and more.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, assert_raises, assert_true, call, kata
from checker import strategies as cs
from checker.tolerances import tolerance
from reference.oracles import optim as oracle

optim = kata("09_autograd/optim")
SHAPES = [(3, 4), (5,), (1, 1)]
TOL = "reduction"  # rounding piles up over the steps like a running sum
NOT_IN_PLACE = "update it in place (p.data -= ..., not p.data = p.data - ...): the model holds "
NOT_IN_PLACE += "the old array"
ALIASED = "does a buffer alias a gradient (buf = g, not g.copy())?"


def random_run(rng, shapes=SHAPES, n_steps=60, dtype=np.float64, scale_range=(-6, 1)):
    """Parameters, and gradients for n_steps whose size swings up and down from step to step
    (so eps, the moving averages and the bias correction all show)."""
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    scales = np.exp(rng.uniform(*scale_range, n_steps))
    grads = [[(rng.standard_normal(s) * c).astype(dtype) for s in shapes] for c in scales]
    return params, grads


def start(name, hp, params, dtype=np.float64, layout=np.copy):
    """Your optimizer over fresh minigrad Tensors holding (views of) copies of params."""
    Tensor = optim.package.Tensor
    ts = [Tensor(layout(np.array(p, dtype=dtype)), requires_grad=True) for p in params]
    return ts, call(getattr(optim, name), ts, **hp)


def run_steps(opt, ts, grads_per_step, want, what, slips, first=0, dtype=np.float64):
    """Step opt through the run; compare every parameter with torch after every step."""
    __tracebackhide__ = True
    arrays = [t.data for t in ts]
    n = first + len(grads_per_step)
    saved = [[None if g is None else g.copy() for g in grads] for grads in grads_per_step]
    for k, grads in enumerate(grads_per_step, start=first):
        for t, g in zip(ts, grads):
            t.grad = g
        call(opt.step)
        for i, t in enumerate(ts):
            where = f"params[{i}].data (after step {k + 1} of {n}, {what})"
            assert_true(t.data is arrays[i], f"{what}.step() put a new array in {where}: "
                        f"{NOT_IN_PLACE}")  # fmt: skip
            # only the slips that would give another answer at this step
            rtol, atol = tolerance(TOL, dtype)
            mistakes = {label: run[k][i] for label, run in slips.items()
                        if not np.allclose(run[k][i], want[k][i], rtol, atol)}  # fmt: skip
            assert_close(t.data, want[k][i], tol=TOL, dtype=dtype, inplace=True,
                         name=where, mistakes=mistakes)  # fmt: skip
    changed = [
        first + k + 1
        for k, (gs, ss) in enumerate(zip(grads_per_step, saved))
        if any(s is not None and not np.array_equal(g, s) for g, s in zip(gs, ss))
    ]
    assert_true(not changed, f"{what}.step() changed the gradients of step(s) {changed}: {ALIASED}")


def check_run(name, hp, params, grads_per_step, dtype=np.float64, layout=np.copy):
    __tracebackhide__ = True
    want = oracle.trajectory(name, hp, params, grads_per_step)
    slips = {oracle.LABELS[s]: oracle.replay(name, hp, params, grads_per_step, s)
             for s in oracle.SLIPS[name]}  # fmt: skip
    what = f"{name}({', '.join(f'{k}={v!r}' for k, v in hp.items())})"
    ts, opt = start(name, hp, params, dtype, layout)
    run_steps(opt, ts, grads_per_step, want, what, slips, dtype=dtype)


def test_zero_grad_sets_every_grad_to_none(rng):
    ts, opt = start("SGD", dict(lr=0.1), [rng.standard_normal(s) for s in SHAPES])
    for t in ts:
        t.grad = rng.standard_normal(t.shape)
    call(opt.zero_grad)
    left = [i for i, t in enumerate(ts) if t.grad is not None]
    assert_true(not left, f"after zero_grad(), params{left} still have a grad: torch's "
                "zero_grad sets p.grad = None, so the next backward stores a fresh gradient and "
                "step() skips a parameter that got none (zeros would still move it)")  # fmt: skip


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.05)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3)),
]
IDS = [name + "".join(f"-{k}={v}" for k, v in hp.items()) for name, hp in CONFIGS]


@pytest.mark.oracle
@pytest.mark.parametrize(("name", "hp"), CONFIGS, ids=IDS)
def test_optimizer_matches_torch_over_60_steps(name, hp, rng):
    check_run(name, hp, *random_run(rng))


@pytest.mark.edge
def test_sgd_momentum_buffer_starts_at_the_first_gradient_undamped(rng):
    """Step 1 with momentum and dampening is a plain SGD step: buf = g, no (1 - dampening)."""
    check_run("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5), *random_run(rng, n_steps=3))


@pytest.mark.edge
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_parameters_without_a_grad_are_skipped(name, rng):
    """params[1] never gets a gradient, params[2] none on steps 1-4 and 8: torch leaves them
    alone then (no decay, no momentum, and Adam counts only the steps a parameter took)."""
    params, grads = random_run(rng, n_steps=12)
    for k, gs in enumerate(grads):
        gs[1] = None
        gs[2] = None if k < 4 or k == 7 else gs[2]
    hp = dict(lr=0.05, weight_decay=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    check_run(name, hp, params, grads)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_float32_parameters_stay_float32(name, rng):
    params, grads = random_run(rng, n_steps=20, dtype=np.float32, scale_range=(-2, 1))
    check_run(name, dict(lr=0.01, weight_decay=0.05), params, grads, dtype=np.float32)


def lr_run(schedule, kw, n, lr=0.1):
    """get_last_lr()[0] of your scheduler at construction, then after each of n step()s."""
    sched = call(getattr(optim, schedule), start("SGD", dict(lr=lr), [np.zeros(1)])[1], **kw)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(n):
        call(sched.step)
        lrs.append(sched.get_last_lr()[0])
    return np.array(lrs, dtype=np.float64)


@pytest.mark.oracle
@pytest.mark.parametrize(("step_size", "gamma"), [(3, 0.5), (1, 0.9), (7, 0.1)])
def test_step_lr_matches_torch(step_size, gamma):
    t, kw = np.arange(41), dict(step_size=step_size, gamma=gamma)
    assert_close(lr_run("StepLR", kw, 40), oracle.lr_sequence("StepLR", kw, 0.1, 40),
                 tol="reduction", inplace=True, name=f"get_last_lr()[0] over 40 step()s of "
                 f"StepLR(lr=0.1, {step_size=}, {gamma=}) (index = step() calls so far)",
                 mistakes={"the first decay one step early: (t + 1) // step_size":
                           0.1 * gamma ** ((t + 1) // step_size),
                           "the first decay one step late: max(t - 1, 0) // step_size":
                           0.1 * gamma ** (np.maximum(t - 1, 0) // step_size)})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize(("T_max", "eta_min"), [(10, 0.0), (7, 0.01), (1, 0.02)])
def test_cosine_annealing_lr_matches_torch_past_t_max(T_max, eta_min):
    """Three periods and more: torch's curve goes back up after T_max; it does not stop."""
    n = 3 * T_max + 2
    t, kw = np.arange(n + 1), dict(T_max=T_max, eta_min=eta_min)
    half = (0.1 - eta_min) / 2
    assert_close(lr_run("CosineAnnealingLR", kw, n),
                 oracle.lr_sequence("CosineAnnealingLR", kw, 0.1, n), tol="reduction",
                 inplace=True, name=f"get_last_lr()[0] over {n} step()s of CosineAnnealingLR("
                 f"lr=0.1, {T_max=}, {eta_min=}) (index = step() calls so far)",
                 mistakes={"held at eta_min after T_max (torch's cosine goes on, back up)":
                           eta_min + half * (1 + np.cos(np.pi * np.minimum(t, T_max) / T_max)),
                           "a period of T_max: cos(2 pi t / T_max) (it is 2 * T_max)":
                           eta_min + half * (1 + np.cos(2 * np.pi * t / T_max)),
                           "eta_min left out": 0.05 * (1 + np.cos(np.pi * t / T_max))})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize(("name", "hp", "schedule"), [
    ("SGD", dict(lr=0.1, momentum=0.9), ("StepLR", dict(step_size=3, gamma=0.5))),
    ("Adam", dict(lr=0.05), ("CosineAnnealingLR", dict(T_max=4, eta_min=0.001))),
], ids=["SGD-StepLR", "Adam-CosineAnnealingLR"])  # fmt: skip
def test_each_step_uses_the_lr_the_scheduler_set(name, hp, schedule, rng):
    params, grads = random_run(rng, n_steps=12)
    want = oracle.trajectory(name, hp, params, grads, schedule)
    ts, opt = start(name, hp, params)
    sched = call(getattr(optim, schedule[0]), opt, **schedule[1])
    unscheduled = oracle.trajectory(name, hp, params, grads)
    for k, gs in enumerate(grads):
        run_steps(opt, ts, [gs], want, f"{name} with {schedule[0]}", first=k,
                  slips={"the lr read once, at construction (read self.lr at every step)":
                         unscheduled})  # fmt: skip
        call(sched.step)


@pytest.mark.parametrize(("name", "hp"), [
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9))),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
], ids=["SGD", "Adam", "AdamW"])  # fmt: skip
def test_state_dict_round_trip_resumes_exactly(name, hp, rng, tmp_path):
    """Save at step 5 (as a dict and with np.savez), load into a fresh optimizer, go on:
    the same parameters as a run that was never interrupted."""
    params, grads = random_run(rng, n_steps=12)
    want = oracle.trajectory(name, hp, params, grads)
    ts, opt = start(name, hp, params)
    run_steps(opt, ts, grads[:5], want, name, slips={})
    state = call(opt.state_dict)
    np.savez(tmp_path / "opt.npz", **state)  # numbers and arrays only: no pickle needed
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as f:
        saved = dict(f)
    middle = [t.data.copy() for t in ts]
    run_steps(opt, ts, grads[5:], want, name, slips={}, first=5)
    same = all(np.array_equal(state[key], saved[key]) for key in saved)
    assert_true(same, "the dict state_dict() returned at step 5 changed while the optimizer "
                "went on: return a snapshot (copies), not the live buffers")  # fmt: skip
    lost = {"the optimizer state not restored (fresh buffers)": oracle.replay(
        name, hp, params, grads, forget_at=5, forget=("all",))}  # fmt: skip
    if name != "SGD":
        lost["the step count not restored (Adam's bias correction starts over)"] = oracle.replay(
            name, hp, params, grads, forget_at=5, forget=("step",)
        )
    for source, loaded in (("state_dict()", state), ("np.load of np.savez", saved)):
        ts, fresh = start(name, hp, middle)
        call(fresh.load_state_dict, loaded)
        run_steps(fresh, ts, grads[5:], want, f"{name} loaded from {source} at step 5", lost,
                  first=5)  # fmt: skip
        same = all(np.array_equal(state[key], saved[key]) for key in saved)
        assert_true(same, "running an optimizer loaded from a state_dict changed that dict: "
                    "load_state_dict must copy the arrays, not share them")  # fmt: skip


@pytest.mark.edge
def test_load_state_dict_refuses_another_models_state(rng):
    params, grads = random_run(rng, n_steps=2)
    ts, opt = start("Adam", {}, params)
    run_steps(opt, ts, grads, oracle.trajectory("Adam", {}, params, grads), "Adam", {})
    state = call(opt.state_dict)
    transposed = start("Adam", {}, [p.T for p in params])[1]
    assert_raises(ValueError, transposed.load_state_dict, state,
                  why="a buffer of shape (3, 4) for a parameter of shape (4, 3)")  # fmt: skip
    fewer = start("Adam", {}, params[:1])[1]
    assert_raises(ValueError, fewer.load_state_dict, state,
                  why="state for 3 parameters, loaded into an optimizer of 1")  # fmt: skip


@st.composite
def configs(draw):
    """An optimizer name and random hyperparameters that torch accepts."""
    name = draw(st.sampled_from(["SGD", "Adam", "AdamW"]))
    hp = dict(lr=draw(st.floats(1e-3, 0.3)), weight_decay=draw(st.sampled_from([0.0, 0.01, 0.2])))
    if name == "SGD":
        momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
        nesterov = momentum > 0 and draw(st.booleans())  # torch: Nesterov needs momentum
        dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.1, 0.5]))  # and no damping
        return name, {**hp, "momentum": momentum, "dampening": dampening, "nesterov": nesterov}
    betas = (draw(st.floats(0.0, 0.99)), draw(st.floats(0.5, 0.9999)))
    return name, {**hp, "betas": betas, "eps": draw(st.sampled_from([1e-10, 1e-8, 1e-3]))}


@pytest.mark.property
@given(config=configs(), shapes=st.lists(cs.shapes(), min_size=1, max_size=3),
       n_steps=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       param_layout=cs.layouts(), grad_layout=cs.layouts())  # fmt: skip
def test_optimizers_match_torch_for_any_shapes_and_layouts(
    config, shapes, n_steps, seed, param_layout, grad_layout
):
    """Size-1 sides, transposed and strided parameters (updated in place through the view)
    and gradients."""
    params, grads = random_run(np.random.default_rng(seed), shapes, n_steps)
    grads = [[cs.relayout(g, grad_layout) for g in gs] for gs in grads]
    check_run(*config, params, grads, layout=lambda p: cs.relayout(p, param_layout))
