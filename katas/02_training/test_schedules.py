"""schedules.py: learning-rate schedules, checked against torch.optim.lr_scheduler over whole runs.

The oracle drives a dummy optimizer with the torch scheduler and records get_last_lr()
before every step. Tolerances: StepLR, ExponentialLR, LinearLR and CosineAnnealingLR compute
each rate from the previous one (CosineAnnealingLR multiplies by a ratio of cosines), so
torch's sequence carries rounding that piles up over the run like a running sum: it drifts
from the closed form by about 1e-14 relative over thousands of steps (measured), and we
compare with the "reduction" class. CyclicLR and OneCycleLR are closed forms: "elementwise".
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker import assert_close, call, kata
from reference.oracles import schedules as oracle

sch = kata("02_training/schedules")
RECURSIVE = {"step_lr", "exponential_lr", "cosine_annealing_lr", "warmup_cosine_lr"}


def check(fn_name, mistakes=None, **kw):
    """Call the learner's schedule and compare the whole sequence with torch's."""
    __tracebackhide__ = True
    lrs = call(getattr(sch, fn_name), **kw)
    want = getattr(oracle, fn_name)(**kw)
    tol = "reduction" if fn_name in RECURSIVE else "elementwise"
    assert_close(lrs, want, tol=tol, name="the learning rates (index = step t)",
                 dtype=np.float64, mistakes=mistakes)  # fmt: skip


def cosine(t, base_lr, T, eta_min):
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t / T)) / 2


@pytest.mark.oracle
@pytest.mark.parametrize(("n", "base_lr", "step_size", "gamma"),
                         [(20, 0.1, 3, 0.5), (12, 1.0, 1, 0.9), (9, 0.05, 4, 0.1)])  # fmt: skip
def test_step_lr_matches_torch(n, base_lr, step_size, gamma):
    t = np.arange(n)
    early = base_lr * gamma ** ((t + 1) // step_size)
    check("step_lr", {"the first decay one step early: (t + 1) // step_size": early},
          n_steps=n, base_lr=base_lr, step_size=step_size, gamma=gamma)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("gamma", [0.9, 0.5])
def test_exponential_lr_matches_torch(gamma):
    late = {"gamma ** (t + 1): decayed at t = 0": oracle.exponential_lr(25, 0.1 * gamma, gamma)}
    check("exponential_lr", late, n_steps=25, base_lr=0.1, gamma=gamma)


@pytest.mark.oracle
@pytest.mark.parametrize(("T_max", "eta_min"), [(20, 0.0), (20, 0.01), (7, 0.002)])
def test_cosine_annealing_lr_matches_torch(T_max, eta_min):
    kw = dict(n_steps=T_max + 1, base_lr=0.1, T_max=T_max)
    mistakes = {"eta_min left out": oracle.cosine_annealing_lr(**kw)} if eta_min else {}
    check("cosine_annealing_lr", mistakes, **kw, eta_min=eta_min)


def warmup_mistakes(total, base_lr, W, start_factor, eta_min):
    t = np.arange(total)
    tail = cosine(t[W:] - W, base_lr, total - W, eta_min)
    return {
        "the warmup starting at 0 instead of start_factor * base_lr":
            np.concatenate([base_lr * t[:W] / W, tail]),
        "the warmup reaching base_lr one step early (np.linspace(start, base_lr, W))":
            np.concatenate([np.linspace(start_factor * base_lr, base_lr, W), tail]),
        "the cosine over the whole run instead of the total_steps - warmup_steps after warmup":
            np.concatenate([base_lr * (start_factor + (1 - start_factor) * t[:W] / W),
                            cosine(t[W:] - W, base_lr, total, eta_min)]),
    }  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize(("total", "W", "start_factor", "eta_min"),
                         [(30, 5, 1 / 3, 0.0), (40, 8, 0.1, 1e-3), (12, 3, 0.5, 0.0)])  # fmt: skip
def test_warmup_cosine_lr_matches_torch(total, W, start_factor, eta_min):
    check("warmup_cosine_lr", warmup_mistakes(total, 0.1, W, start_factor, eta_min),
          total_steps=total, base_lr=0.1, warmup_steps=W, start_factor=start_factor,
          eta_min=eta_min)  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("mode", ["triangular", "triangular2"])
@pytest.mark.parametrize(("up", "down"), [(5, None), (4, 6), (3, 1)])
def test_cyclic_lr_matches_torch(mode, up, down):
    kw = dict(n_steps=45, base_lr=0.01, max_lr=0.1, step_size_up=up)
    mistakes = {"step_size_down ignored (the way down as long as the way up)":
                oracle.cyclic_lr(**kw, mode=mode)} if down else {}  # fmt: skip
    if mode == "triangular2":
        plain = oracle.cyclic_lr(**kw, step_size_down=down)
        halved = oracle.cyclic_lr(**kw, step_size_down=down, mode=mode)
        mistakes["triangular2 never halving (plain triangular)"] = plain
        mistakes["the height halved already in the first cycle"] = 0.01 + (halved - 0.01) / 2
    check("cyclic_lr", mistakes, **kw, step_size_down=down, mode=mode)


def one_cycle_mistakes(total, pct, strategy, three_phase):
    kw = dict(anneal_strategy=strategy, three_phase=three_phase)
    other = "linear" if strategy == "cos" else "cos"
    out = {
        "min_lr = max_lr / final_div_factor (it is initial_lr / final_div_factor)":
            oracle.one_cycle_lr(total, 0.1, pct, final_div_factor=1e4 / 25, **kw),
        f"anneal_strategy ignored ({other} annealing)":
            oracle.one_cycle_lr(total, 0.1, pct, other, three_phase=three_phase),
    }  # fmt: skip
    if not three_phase:  # the peak at pct * total instead of pct * total - 1
        out["the peak one step late (phase 1 ending at pct_start * total_steps, no - 1)"] = (
            oracle.one_cycle_lr(total, 0.1, pct + 1 / total, **kw))  # fmt: skip
        out["the peak rounded to a whole step (pct_start * total_steps - 1 is a float)"] = (
            oracle.one_cycle_lr(total, 0.1, round(pct * total) / total, **kw))  # fmt: skip
    return out


@pytest.mark.oracle
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize(("total", "pct"), [(40, 0.3), (25, 0.25)])
def test_one_cycle_lr_matches_torch(total, pct, strategy, three_phase):
    check("one_cycle_lr", one_cycle_mistakes(total, pct, strategy, three_phase),
          total_steps=total, max_lr=0.1, pct_start=pct, anneal_strategy=strategy,
          three_phase=three_phase)  # fmt: skip


@st.composite
def schedules(draw):
    """(function name, keyword arguments) with random hyperparameters and short runs."""
    name = draw(st.sampled_from(sorted(RECURSIVE) + ["cyclic_lr", "one_cycle_lr"]))
    n = draw(st.integers(1, 40))
    lr = draw(st.floats(1e-4, 1.0))
    gamma = draw(st.floats(0.05, 1.0))
    eta = draw(st.sampled_from([0.0, lr * 1e-2, lr * 0.5]))
    if name == "step_lr":
        return name, dict(n_steps=n, base_lr=lr, step_size=draw(st.integers(1, 8)), gamma=gamma)
    if name == "exponential_lr":
        return name, dict(n_steps=n, base_lr=lr, gamma=gamma)
    if name == "cosine_annealing_lr":
        return name, dict(n_steps=n, base_lr=lr, T_max=draw(st.integers(1, 30)), eta_min=eta)
    if name == "warmup_cosine_lr":
        W = draw(st.integers(1, 10))
        return name, dict(total_steps=W + draw(st.integers(1, 30)), base_lr=lr, warmup_steps=W,
                          start_factor=draw(st.floats(0.01, 1.0)), eta_min=eta)  # fmt: skip
    if name == "cyclic_lr":
        return name, dict(n_steps=n, base_lr=lr, max_lr=lr * draw(st.floats(1.5, 20)),
                          step_size_up=draw(st.integers(1, 6)),
                          step_size_down=draw(st.none() | st.integers(1, 6)),
                          mode=draw(st.sampled_from(["triangular", "triangular2"])))  # fmt: skip
    total = draw(st.integers(8, 60))
    # torch divides by zero when a phase is empty: keep pct * total > 1 and pct < 1
    pct = draw(st.floats(1.5 / total, 0.45))
    return name, dict(total_steps=total, max_lr=lr, pct_start=pct,
                      anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
                      div_factor=draw(st.floats(2.0, 50.0)),
                      final_div_factor=draw(st.floats(10.0, 1e4)),
                      three_phase=draw(st.booleans()))  # fmt: skip


@pytest.mark.property
@given(case=schedules())
def test_schedules_match_torch_for_random_hyperparameters(case):
    name, kw = case
    check(name, **kw)


@pytest.mark.edge
def test_a_one_step_run_is_just_the_base_rate():
    check("step_lr", n_steps=1, base_lr=0.3, step_size=1, gamma=0.5)
    check("exponential_lr", n_steps=1, base_lr=0.3, gamma=0.5)
    check("cosine_annealing_lr", n_steps=1, base_lr=0.3, T_max=1)


@pytest.mark.edge
def test_cosine_keeps_going_past_T_max():
    """torch does not hold eta_min after T_max: the cosine climbs back to base_lr at 2 T_max."""
    t = np.arange(31)
    held = cosine(np.minimum(t, 10), 0.1, 10, 0.01)
    check("cosine_annealing_lr", {"the rate held at eta_min after T_max": held},
          n_steps=31, base_lr=0.1, T_max=10, eta_min=0.01)  # fmt: skip


@pytest.mark.edge
def test_a_long_cosine_run_matches_torchs_recursive_sequence():
    """5000 steps: torch's rate-from-the-previous-rate drifts from the closed form by ~1e-14."""
    check("cosine_annealing_lr", n_steps=5001, base_lr=0.1, T_max=5000, eta_min=1e-5)


@pytest.mark.edge
def test_a_one_step_warmup_starts_at_start_factor():
    check("warmup_cosine_lr", warmup_mistakes(6, 0.1, 1, 0.25, 0.0),
          total_steps=6, base_lr=0.1, warmup_steps=1, start_factor=0.25)  # fmt: skip


@pytest.mark.edge
def test_triangular2_halves_at_the_start_of_each_cycle():
    """Five cycles of 2 + 3 steps: heights 1, 1/2, 1/4, 1/8, 1/16 of (max_lr - base_lr)."""
    kw = dict(n_steps=25, base_lr=0.0, max_lr=1.0, step_size_up=2, step_size_down=3)
    early = oracle.cyclic_lr(**kw, mode="triangular2") / 2
    check("cyclic_lr", {"the height halved already in the first cycle": early},
          mode="triangular2", **kw)  # fmt: skip


@pytest.mark.edge
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_peak_between_two_steps(three_phase):
    """pct_start * total_steps - 1 = 2.5: the peak falls between steps 2 and 3, never on one."""
    check("one_cycle_lr", one_cycle_mistakes(14, 0.25, "cos", three_phase),
          total_steps=14, max_lr=0.1, pct_start=0.25, three_phase=three_phase)  # fmt: skip


def test_cyclic_lr_rejects_unknown_modes():
    with pytest.raises(ValueError):
        call(sch.cyclic_lr, 10, 0.01, 0.1, 2, mode="sawtooth")
