"""Oracle for 02_training/optimizers: torch.optim over a run, and known slips for the messages.

trajectory() is the oracle: torch.optim.<name> on float64 copies, the parameters after every
step. slipped() replays the same run in NumPy with one known mistake switched on; tests pass
its results as `mistakes=` so a failure can name the mistake. It is a diagnosis, never a verdict.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch

from reference.oracles import numpy, tensor

# slip id -> what the learner did, in one phrase; SLIPS says which apply to which optimizer
LABELS = {
    "nesterov-buf": "Nesterov stepping along the buffer alone (torch: along g + momentum * buf)",
    "dampen-first": "dampening applied on the first step too (torch starts buf at the raw g)",
    "no-maximize": "maximize ignored (descending when asked to ascend)",
    "no-lr-decay": "lr_decay ignored",
    "lr-decay-from-1": "lr_decay counted from the first step: lr / (1 + t * lr_decay), not (t - 1)",
    "no-initial-acc": "initial_accumulator_value ignored (the sum started at 0)",
    "eps-inside": "eps inside the square root: sqrt(v + eps) instead of sqrt(v) + eps",
    "uncentered": "centered=True without subtracting the squared mean gradient",
    "no-bias-correction": "no bias correction: m and v used as they are",
    "eps-hat": "eps added before the bias correction: (sqrt(v) + eps) / sqrt(1 - beta2^t)",
    "ams-corrected-max": "amsgrad keeping the max of the bias-corrected v (torch keeps the max "
    "of the raw v and corrects it with the current step's factor)",
    "no-amsgrad": "amsgrad ignored",
    "decay-as-l2": "weight decay added to the gradient (L2, as in Adam) instead of shrinking the "
    "weights by (1 - lr * weight_decay)",
    "decay-decoupled": "weight decay decoupled (that is AdamW; Adam adds weight_decay * p to g "
    "unless decoupled_weight_decay=True)",
    "step-per-param": "the step count advanced once per parameter instead of once per step()",
    "no-decay": "weight decay left out (AdamW's default weight_decay is 1e-2, not 0)",
}
ADAM_SLIPS = ("no-bias-correction", "eps-inside", "eps-hat", "ams-corrected-max", "no-amsgrad",
              "no-maximize", "step-per-param", "no-decay")  # fmt: skip
SLIPS = {
    "SGD": ("nesterov-buf", "dampen-first", "no-maximize"),
    "Adagrad": ("no-lr-decay", "lr-decay-from-1", "no-initial-acc", "eps-inside"),
    "RMSprop": ("eps-inside", "uncentered"),
    "Adam": ADAM_SLIPS + ("decay-decoupled", "decay-as-l2"),
    "AdamW": ADAM_SLIPS + ("decay-as-l2",),
}


def defaults(name: str) -> dict:
    """torch.optim.<name>'s default hyperparameters."""
    sig = inspect.signature(getattr(torch.optim, name).__init__)
    return {k: p.default for k, p in sig.parameters.items() if p.default is not p.empty}


def trajectory(name: str, hparams: dict, params, grads_per_step) -> list[list[np.ndarray]]:
    """torch.optim.<name>(**hparams) in float64: the parameters after each step."""
    ts = [tensor(p, grad=True) for p in params]  # float64 copies, contiguous
    optimizer = getattr(torch.optim, name)(ts, **hparams)
    out = []
    for grads in grads_per_step:
        for t, g in zip(ts, grads):
            t.grad = tensor(g)
        optimizer.step()
        out.append([numpy(t) for t in ts])
    return out


def slipped(name: str, hparams: dict, params, grads_per_step, slip: str):
    """The same run in NumPy float64 with one slip (an id of LABELS): params after each step."""
    hp = {**defaults(name), **hparams}
    ps = [np.array(p, dtype=np.float64) for p in params]
    state: list[dict] = [{} for _ in ps]
    count, out = 0, []
    for grads in grads_per_step:
        count += slip != "step-per-param"
        for i, (p, grad) in enumerate(zip(ps, grads)):
            count += slip == "step-per-param"
            g = np.array(grad, dtype=np.float64)
            if hp.get("maximize") and slip != "no-maximize":
                g = -g
            _STEPS[name](hp, p, g, state[i], count, slip)
        out.append([p.copy() for p in ps])
    return out


def _sgd(hp, p, g, s, t, slip):
    if hp["weight_decay"]:
        g = g + hp["weight_decay"] * p
    if hp["momentum"]:
        first = "buf" not in s
        buf = s.setdefault("buf", np.zeros_like(p) if slip == "dampen-first" else g.copy())
        if not first or slip == "dampen-first":
            buf[...] = hp["momentum"] * buf + (1 - hp["dampening"]) * g
        g = g + hp["momentum"] * buf if hp["nesterov"] and slip != "nesterov-buf" else buf
    p -= hp["lr"] * g


def _adagrad(hp, p, g, s, t, slip):
    if hp["weight_decay"]:
        g = g + hp["weight_decay"] * p
    decay = {"no-lr-decay": 0, "lr-decay-from-1": t}.get(slip, t - 1) * hp["lr_decay"]
    start = 0.0 if slip == "no-initial-acc" else hp["initial_accumulator_value"]
    total = s.setdefault("sum", np.full_like(p, start))
    total += g * g
    root = np.sqrt(total + hp["eps"]) if slip == "eps-inside" else np.sqrt(total) + hp["eps"]
    p -= hp["lr"] / (1 + decay) * g / root


def _rmsprop(hp, p, g, s, t, slip):
    a = hp["alpha"]
    if hp["weight_decay"]:
        g = g + hp["weight_decay"] * p
    sq = s.setdefault("sq", np.zeros_like(p))
    ga = s.setdefault("ga", np.zeros_like(p))
    sq[...] = a * sq + (1 - a) * g * g
    ga[...] = a * ga + (1 - a) * g
    var = sq - ga * ga if hp["centered"] and slip != "uncentered" else sq
    avg = np.sqrt(var + hp["eps"]) if slip == "eps-inside" else np.sqrt(var) + hp["eps"]
    if hp["momentum"] > 0:
        buf = s.setdefault("buf", np.zeros_like(p))
        buf[...] = hp["momentum"] * buf + g / avg
        p -= hp["lr"] * buf
    else:
        p -= hp["lr"] * g / avg


def _adam(hp, p, g, s, t, slip, decoupled=False):
    (b1, b2), lr, eps = hp["betas"], hp["lr"], hp["eps"]
    wd = 0.0 if slip == "no-decay" else hp["weight_decay"]
    decoupled = decoupled or hp.get("decoupled_weight_decay", False)
    decoupled = {"decay-as-l2": False, "decay-decoupled": True}.get(slip, decoupled)
    if wd:
        if decoupled:
            p *= 1 - lr * wd
        else:
            g = g + wd * p
    m, v = s.setdefault("m", np.zeros_like(p)), s.setdefault("v", np.zeros_like(p))
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    c1, c2 = (1.0, 1.0) if slip == "no-bias-correction" else (1 - b1**t, 1 - b2**t)
    v_hat = v / c2
    if hp["amsgrad"] and slip == "ams-corrected-max":
        v_hat = s["vmax"] = np.maximum(s.get("vmax", 0 * v), v_hat)
    elif hp["amsgrad"] and slip != "no-amsgrad":
        s["vmax"] = np.maximum(s.get("vmax", 0 * v), v)
        v_hat = s["vmax"] / c2
    if slip == "eps-hat":
        denom = (np.sqrt(v_hat * c2) + eps) / math.sqrt(c2)
    elif slip == "eps-inside":
        denom = np.sqrt(v_hat + eps)
    else:
        denom = np.sqrt(v_hat) + eps
    p -= lr / c1 * m / denom


_STEPS = {
    "SGD": _sgd,
    "Adagrad": _adagrad,
    "RMSprop": _rmsprop,
    "Adam": _adam,
    "AdamW": lambda *a: _adam(*a, decoupled=True),
}
