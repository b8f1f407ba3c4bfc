"""Learning-rate schedules: step decay, exponential, cosine, warmup + cosine, cyclical, one-cycle.

Implement with NumPy. Every function returns a whole schedule: the learning rate used at
steps t = 0, 1, ..., n - 1, as a float64 array of shape (n,). That is what
torch.optim.lr_scheduler gives when you read scheduler.get_last_lr() before each
scheduler.step(). No loop over steps is needed: t = np.arange(n), then one formula in t.
Run: pytest katas/02_training/test_schedules.py
"""

import numpy as np


def step_lr(n_steps: int, base_lr: float, step_size: int, gamma: float = 0.1) -> np.ndarray:
    """Step decay: multiply the rate by gamma every step_size steps.

    Math:
        lr_t = base_lr * gamma ** floor(t / step_size)

    Shapes:
        returns (n_steps,).

    Args:
        n_steps: how many steps to schedule (t = 0 .. n_steps - 1).
        base_lr: the rate at t = 0.
        step_size: steps between decays (the first decay is at t = step_size).
        gamma: the decay factor.

    Returns:
        float64 array of the n_steps learning rates.

    Numerics:
        Integer division on t (t // step_size), not a rounded float.

    Reference:
        torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
    """
    raise NotImplementedError


def exponential_lr(n_steps: int, base_lr: float, gamma: float) -> np.ndarray:
    """Exponential decay: multiply the rate by gamma every step.

    Math:
        lr_t = base_lr * gamma ** t

    Shapes:
        returns (n_steps,).

    Args:
        n_steps: how many steps to schedule.
        base_lr: the rate at t = 0 (not yet decayed).
        gamma: the decay factor per step.

    Returns:
        float64 array of the n_steps learning rates.

    Numerics:
        torch multiplies by gamma once per step; the closed form agrees to rounding.

    Reference:
        torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)
    """
    raise NotImplementedError


def cosine_annealing_lr(
    n_steps: int, base_lr: float, T_max: int, eta_min: float = 0.0
) -> np.ndarray:
    """Cosine annealing from base_lr down to eta_min over T_max steps.

    Math:
        lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2
        (lr_0 = base_lr, lr_{T_max} = eta_min; past T_max the cosine goes back up: torch
        does not hold the rate at eta_min.)

    Shapes:
        returns (n_steps,); n_steps may be more than T_max + 1.

    Args:
        n_steps: how many steps to schedule.
        base_lr: the rate at t = 0.
        T_max: steps from base_lr to eta_min (half a cosine period).
        eta_min: the lowest rate.

    Returns:
        float64 array of the n_steps learning rates.

    Numerics:
        torch computes each rate from the previous one (a recursive form); the closed form
        above is the same curve and agrees with it to about 1e-14.

    Reference:
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min)
    """
    raise NotImplementedError


def warmup_cosine_lr(
    total_steps: int,
    base_lr: float,
    warmup_steps: int,
    start_factor: float = 1.0 / 3,
    eta_min: float = 0.0,
) -> np.ndarray:
    """Linear warmup from start_factor * base_lr to base_lr, then cosine annealing to eta_min.

    Math:
        W = warmup_steps, T = total_steps - W
        t < W:  lr_t = base_lr * (start_factor + (1 - start_factor) * t / W)
        t >= W: lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * (t - W) / T)) / 2
        (warmup reaches base_lr at t = W, which is where the cosine starts.)

    Shapes:
        returns (total_steps,).

    Args:
        total_steps: the length of the run (warmup included).
        base_lr: the peak rate, reached at t = warmup_steps.
        warmup_steps: W, with 1 <= W < total_steps.
        start_factor: lr_0 = start_factor * base_lr (warmup does not start at 0).
        eta_min: the rate the cosine ends at.

    Returns:
        float64 array of the total_steps learning rates.

    Numerics:
        Reuse cosine_annealing_lr for the second part.

    Reference:
        torch.optim.lr_scheduler.SequentialLR(optimizer, [LinearLR(optimizer, start_factor,
        1.0, total_iters=W), CosineAnnealingLR(optimizer, T_max=T, eta_min)], milestones=[W])
    """
    raise NotImplementedError


def cyclic_lr(
    n_steps: int,
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
) -> np.ndarray:
    """Cyclical learning rate: triangles between base_lr and max_lr (Smith, 2017).

    Math:
        size = step_size_up + step_size_down;  up = step_size_up / size
        cycle = floor(1 + t / size)               (1 for the first cycle)
        x = 1 + t / size - cycle                  (position in the cycle, 0 <= x < 1)
        scale = x / up if x <= up else (x - 1) / (up - 1)     (0 -> 1 -> 0)
        lr_t = base_lr + (max_lr - base_lr) * scale * h(cycle)
        h = 1 for "triangular";  h = 1 / 2 ** (cycle - 1) for "triangular2" (the height
        halves at the start of every new cycle)

    Shapes:
        returns (n_steps,).

    Args:
        n_steps: how many steps (batches) to schedule.
        base_lr, max_lr: the bottom and the top of the first triangle.
        step_size_up: steps from base_lr up to max_lr.
        step_size_down: steps back down (None: the same as step_size_up).
        mode: "triangular" or "triangular2"; anything else raises ValueError.

    Returns:
        float64 array of the n_steps learning rates.

    Numerics:
        Float division t / size (not integer division) gives x.

    Reference:
        torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr, max_lr, step_size_up,
        step_size_down, mode)
    """
    raise NotImplementedError


def one_cycle_lr(
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> np.ndarray:
    """One-cycle policy: warm up to max_lr, then anneal far below the start (Smith, 2018).

    Math:
        initial = max_lr / div_factor;  min_lr = initial / final_div_factor
        phases (end step, from, to), the first ending at p = pct_start * total_steps - 1:
          two phases:   (p, initial, max_lr), (total_steps - 1, max_lr, min_lr)
          three_phase:  (p, initial, max_lr), (2 * pct_start * total_steps - 2, max_lr,
                        initial), (total_steps - 1, initial, min_lr)
        Step t belongs to the first phase with t <= end (the last phase takes the rest);
        with start = the previous phase's end (0 for the first), pct = (t - start) /
        (end - start) and
          cos:    lr_t = to + (from - to) / 2 * (1 + cos(pi * pct))
          linear: lr_t = from + (to - from) * pct

    Shapes:
        returns (total_steps,).

    Args:
        total_steps: the length of the run.
        max_lr: the peak rate.
        pct_start: the fraction of the run spent warming up.
        anneal_strategy: "cos" or "linear".
        div_factor: initial = max_lr / div_factor.
        final_div_factor: min_lr = initial / final_div_factor.
        three_phase: go back down to initial before annealing to min_lr.

    Returns:
        float64 array of the total_steps learning rates.

    Numerics:
        The phase ends are floats (p need not be a whole step): compare t with them as
        floats, do not round them.

    Reference:
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps, pct_start,
        anneal_strategy, div_factor=div_factor, final_div_factor=final_div_factor,
        three_phase=three_phase)
    """
    raise NotImplementedError
