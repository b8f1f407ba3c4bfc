"""Learning-rate schedules as closed forms in the step t.

Each function returns the rate for t = 0 .. n - 1, vectorised over t. torch's schedulers
update the rate step by step (some recursively, from the previous rate); the closed forms
here are the same curves. References: Loshchilov & Hutter 2017 (SGDR, cosine), Goyal et al.
2017 (warmup), Smith 2017 (cyclical), Smith & Topin 2018 (one-cycle).
"""

import numpy as np


def step_lr(n_steps, base_lr, step_size, gamma=0.1):
    """Step decay: multiply the rate by gamma every step_size steps."""
    t = np.arange(n_steps)
    return base_lr * gamma ** (t // step_size)  # decays at t = step_size, 2 * step_size, ...


def exponential_lr(n_steps, base_lr, gamma):
    """Exponential decay: multiply the rate by gamma every step."""
    t = np.arange(n_steps)
    return base_lr * gamma**t  # t = 0 is base_lr itself


def cosine_annealing_lr(n_steps, base_lr, T_max, eta_min=0.0):
    """Cosine annealing from base_lr down to eta_min over T_max steps."""
    t = np.arange(n_steps)
    # No clamp at T_max: torch's curve carries on (back up towards base_lr).
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2


def warmup_cosine_lr(total_steps, base_lr, warmup_steps, start_factor=1.0 / 3, eta_min=0.0):
    """Linear warmup from start_factor * base_lr to base_lr, then cosine annealing to eta_min."""
    t = np.arange(warmup_steps)
    # Warmup: from start_factor * base_lr at t = 0; base_lr itself is reached at t = W,
    # the cosine's first step.
    warmup = base_lr * (start_factor + (1 - start_factor) * t / warmup_steps)
    T = total_steps - warmup_steps
    anneal = cosine_annealing_lr(T, base_lr, T, eta_min)  # the cosine's own clock: t - W
    return np.concatenate([warmup, anneal])


def cyclic_lr(n_steps, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular"):
    """Cyclical learning rate: triangles between base_lr and max_lr (Smith, 2017)."""
    if mode not in ("triangular", "triangular2"):
        raise ValueError(f"unknown mode {mode!r}: 'triangular' or 'triangular2'")
    step_size_down = step_size_up if step_size_down is None else step_size_down
    size = step_size_up + step_size_down
    up = step_size_up / size  # the fraction of a cycle spent going up
    t = np.arange(n_steps)
    cycle = np.floor(1 + t / size)  # 1, 1, ..., 2, 2, ...
    x = 1 + t / size - cycle  # where we are in the cycle, in [0, 1)
    scale = np.where(x <= up, x / up, (x - 1) / (up - 1))  # rises 0 -> 1, falls 1 -> 0
    # triangular2 halves the height at the start of every new cycle (cycle 1: full height).
    height = 1.0 if mode == "triangular" else 1 / 2.0 ** (cycle - 1)
    return base_lr + (max_lr - base_lr) * scale * height


def one_cycle_lr(
    total_steps,
    max_lr,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    """One-cycle policy: warm up to max_lr, then anneal far below the start (Smith, 2018)."""
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    peak = pct_start * total_steps - 1  # a float: the peak need not fall on a whole step
    if three_phase:
        phases = [
            (peak, initial_lr, max_lr),
            (2 * pct_start * total_steps - 2, max_lr, initial_lr),
            (total_steps - 1, initial_lr, min_lr),
        ]
    else:
        phases = [(peak, initial_lr, max_lr), (total_steps - 1, max_lr, min_lr)]

    t = np.arange(total_steps, dtype=np.float64)
    lrs = np.empty(total_steps)
    unassigned = np.ones(total_steps, dtype=bool)
    start = 0.0
    for i, (end, lr_from, lr_to) in enumerate(phases):
        # A step belongs to the first phase whose end it has not passed; the last takes the rest.
        mine = unassigned & ((t <= end) | (i == len(phases) - 1))
        pct = (t[mine] - start) / (end - start)  # 0 at the phase's start, 1 at its end
        if anneal_strategy == "cos":
            lrs[mine] = lr_to + (lr_from - lr_to) / 2 * (1 + np.cos(np.pi * pct))
        else:
            lrs[mine] = lr_from + (lr_to - lr_from) * pct
        unassigned &= ~mine
        start = end
    return lrs
