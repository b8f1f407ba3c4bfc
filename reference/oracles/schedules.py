"""Oracle for 02_training/schedules: torch's schedulers driven over a whole run.

Each function has the kata's signature and returns what torch.optim.lr_scheduler does:
the rate read with get_last_lr() before each of n scheduler.step() calls, on a dummy SGD
optimizer over one float64 parameter. Note: StepLR, ExponentialLR, LinearLR and
CosineAnnealingLR update the rate recursively (from the previous one), so their sequences
carry rounding that piles up over the run; CyclicLR and OneCycleLR use closed forms.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch.optim import lr_scheduler as sched


def record(make, n_steps: int, lr: float = 0.1) -> np.ndarray:
    """get_last_lr() before each step of the scheduler make(optimizer), as float64 (n_steps,)."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make(optimizer)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's advice about step order, not our business
        for _ in range(n_steps):
            lrs.append(float(scheduler.get_last_lr()[0]))
            optimizer.step()  # no gradient: a no-op, but torch wants it before scheduler.step()
            if len(lrs) < n_steps:  # OneCycleLR refuses to step past total_steps
                scheduler.step()
    return np.array(lrs, dtype=np.float64)


def step_lr(n_steps, base_lr, step_size, gamma=0.1):
    return record(lambda o: sched.StepLR(o, step_size, gamma), n_steps, base_lr)


def exponential_lr(n_steps, base_lr, gamma):
    return record(lambda o: sched.ExponentialLR(o, gamma), n_steps, base_lr)


def cosine_annealing_lr(n_steps, base_lr, T_max, eta_min=0.0):
    return record(lambda o: sched.CosineAnnealingLR(o, T_max, eta_min), n_steps, base_lr)


def warmup_cosine_lr(total_steps, base_lr, warmup_steps, start_factor=1.0 / 3, eta_min=0.0):
    def make(o):
        warmup = sched.LinearLR(o, start_factor, 1.0, total_iters=warmup_steps)
        cosine = sched.CosineAnnealingLR(o, total_steps - warmup_steps, eta_min)
        return sched.SequentialLR(o, [warmup, cosine], milestones=[warmup_steps])

    return record(make, total_steps, base_lr)


def cyclic_lr(n_steps, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular"):
    def make(o):
        return sched.CyclicLR(
            o, base_lr, max_lr, step_size_up, step_size_down, mode, cycle_momentum=False
        )

    return record(make, n_steps, base_lr)


def one_cycle_lr(
    total_steps,
    max_lr,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    def make(o):
        return sched.OneCycleLR(
            o,
            max_lr,
            total_steps=total_steps,
            pct_start=pct_start,
            anneal_strategy=anneal_strategy,
            cycle_momentum=False,  # momentum cycling does not change the rates
            div_factor=div_factor,
            final_div_factor=final_div_factor,
            three_phase=three_phase,
        )

    return record(make, total_steps, max_lr)
