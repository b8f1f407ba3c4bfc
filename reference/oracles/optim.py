"""Oracle for 09_autograd/optim: torch.optim over a run, and known slips for the messages.

trajectory() is the oracle: torch.optim.<name> on float64 copies of the parameters, fed the
same gradients (None: the parameter has no gradient that step), optionally with a torch
scheduler stepped after each optimizer step; it returns the parameters after every step.
lr_sequence() records a torch scheduler's get_last_lr() over a run. replay() runs the same
run in NumPy with one known slip switched on; tests pass its results as `mistakes=` so a
failure can name the mistake. It is a diagnosis, never a verdict.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from reference.oracles import numpy, tensor

DEFAULTS = {
    "SGD": dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
}

# slip id -> what the learner did, in one phrase; SLIPS says which apply to which optimizer
LABELS = {
    "dampen-first": "the momentum buffer started at 0 and damped on step 1 (torch starts it "
    "AT the first gradient: buf = g)",
    "decay-after-momentum": "weight decay added after the momentum buffer (torch adds "
    "weight_decay * p to g BEFORE it enters the buffer)",
    "nesterov-buf": "Nesterov stepping along the buffer alone, as plain momentum does "
    "(torch: g + momentum * buf)",
    "no-bias-correction": "no bias correction: m and v used without dividing by 1 - beta^t",
    "eps-inside": "eps inside the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps",
    "decay-as-l2": "AdamW's decay added to the gradient (that is Adam's L2) instead of "
    "shrinking the weights by (1 - lr * weight_decay)",
    "decay-decoupled": "Adam's weight decay decoupled (that is AdamW; Adam adds "
    "weight_decay * p to the gradient)",
    "global-step": "one step count for all parameters (torch counts each parameter's own "
    "steps: one that had no gradient has not stepped)",
    "none-as-zero": "a parameter whose grad is None stepped with a zero gradient (torch skips it)",
}
ADAM_SLIPS = ("no-bias-correction", "eps-inside", "global-step", "none-as-zero")
SLIPS = {
    "SGD": ("dampen-first", "decay-after-momentum", "nesterov-buf", "none-as-zero"),
    "Adam": ADAM_SLIPS + ("decay-decoupled",),
    "AdamW": ADAM_SLIPS + ("decay-as-l2",),
}  # fmt: skip


def _copy(g):
    return None if g is None else np.array(g, dtype=np.float64)


def trajectory(name, hp, params, grads_per_step, schedule=None) -> list[list[np.ndarray]]:
    """torch.optim.<name>(**hp) in float64: the parameters after each step.

    schedule: None or (scheduler name in torch.optim.lr_scheduler, keyword arguments),
    stepped after every optimizer step."""
    ts = [tensor(p, grad=True) for p in params]
    optimizer = getattr(torch.optim, name)(ts, **hp)
    sched = (
        None
        if schedule is None
        else getattr(torch.optim.lr_scheduler, schedule[0])(optimizer, **schedule[1])
    )
    out = []
    for grads in grads_per_step:
        for t, g in zip(ts, grads):
            t.grad = None if g is None else tensor(g)
        optimizer.step()
        if sched is not None:
            sched.step()
        out.append([numpy(t) for t in ts])
    return out


def lr_sequence(schedule: str, kwargs: dict, lr: float, n_steps: int) -> np.ndarray:
    """get_last_lr()[0] of torch's scheduler: at construction, then after each of n_steps."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    sched = getattr(torch.optim.lr_scheduler, schedule)(optimizer, **kwargs)
    lrs = [float(sched.get_last_lr()[0])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's advice about step order, not our business
        for _ in range(n_steps):
            optimizer.step()  # no gradient: a no-op, but torch wants it before sched.step()
            sched.step()
            lrs.append(float(sched.get_last_lr()[0]))
    return np.array(lrs)


def replay(name, hp, params, grads_per_step, slip=None, forget_at=None, forget=()):
    """The run in NumPy float64 with one slip (an id of LABELS): params after each step.

    forget_at, forget: before step number forget_at (0-based), drop these state keys
    ("step", "all"): what a state_dict round trip that loses them gives."""
    hp = {**DEFAULTS[name], **hp}
    ps = [np.array(p, dtype=np.float64) for p in params]
    state: list[dict] = [{} for _ in ps]
    out = []
    for k, grads in enumerate(grads_per_step):
        if k == forget_at:
            for s in state:
                for key in list(s):
                    if "all" in forget or key in forget:
                        del s[key]
        calls = k + 1
        for p, g, s in zip(ps, grads, state):
            if g is None and slip == "none-as-zero":
                g = np.zeros_like(p)
            if g is not None:
                _STEPS[name](hp, p, _copy(g), s, slip, calls)
        out.append([p.copy() for p in ps])
    return out


def _sgd(hp, p, g, s, slip, calls):
    wd, mom = hp["weight_decay"], hp["momentum"]
    if wd and slip != "decay-after-momentum":
        g = g + wd * p
    if mom:
        if "buf" not in s and slip != "dampen-first":
            s["buf"] = g.copy()
        else:
            s["buf"] = mom * s.get("buf", 0 * g) + (1 - hp["dampening"]) * g
        buf = s["buf"]
        g = g + mom * buf if hp["nesterov"] and slip != "nesterov-buf" else buf
    if wd and slip == "decay-after-momentum":
        g = g + wd * p
    p -= hp["lr"] * g


def _adam(hp, p, g, s, slip, calls, decoupled=False):
    (b1, b2), lr, eps, wd = hp["betas"], hp["lr"], hp["eps"], hp["weight_decay"]
    decoupled = {"decay-as-l2": False, "decay-decoupled": True}.get(slip, decoupled)
    s["step"] = calls if slip == "global-step" else s.get("step", 0) + 1
    t = s["step"]
    if wd and decoupled:
        p *= 1 - lr * wd
    elif wd:
        g = g + wd * p
    s["m"] = b1 * s.get("m", 0 * p) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0 * p) + (1 - b2) * g * g
    c1, c2 = (1.0, 1.0) if slip == "no-bias-correction" else (1 - b1**t, 1 - b2**t)
    m_hat, v_hat = s["m"] / c1, s["v"] / c2
    denom = np.sqrt(v_hat + eps) if slip == "eps-inside" else np.sqrt(v_hat) + eps
    p -= lr * m_hat / denom


_STEPS = {"SGD": _sgd, "Adam": _adam, "AdamW": lambda *a: _adam(*a, decoupled=True)}
