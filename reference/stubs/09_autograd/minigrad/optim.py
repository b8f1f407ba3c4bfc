"""Optimizers that update Parameters in place, and schedules that set their learning rate.

The training loop you are building up to reads like PyTorch's:

    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()          # fills p.grad (an ndarray) for every parameter
        optimizer.step()         # moves every p.data a little downhill, in place

An optimizer keeps the list of parameters (minigrad Tensors) it trains. step() changes each
p.data IN PLACE (p.data -= ..., p.data *= ...): the model holds the same Tensor objects and
the same arrays, so it sees the new values. A parameter whose grad is None took no part in
the loss: skip it (no update, no decay, no state), as torch does. What an optimizer
remembers between steps (a momentum buffer, Adam's moments and step count) lives in
self.state, one dict per parameter: that is what state_dict() saves for a checkpoint.

Given: the constructors (they store the hyperparameters), LRScheduler.step and get_last_lr.
Yours: zero_grad, state_dict, load_state_dict, SGD.step, Adam.step (AdamW uses it too),
StepLR.get_lr, CosineAnnealingLR.get_lr.
Run: pytest katas/09_autograd/test_optim.py
"""

from __future__ import annotations

import math  # noqa: F401 - math.cos, math.pi for the cosine schedule

import numpy as np  # noqa: F401 - np.zeros_like, np.sqrt, np.copy

from .tensor import Tensor


class Optimizer:
    """The base of every optimizer: params, lr, per-parameter state, zero_grad, state_dict.

    Math:
        zero_grad: p.grad = None for every parameter (torch's default, set_to_none=True;
        the next backward then stores its gradient instead of adding to a stale one).
        state_dict: a flat snapshot {"lr": lr, "state.<i>.<key>": value} with one entry per
        item of self.state[i] (e.g. "state.0.exp_avg", "state.0.step"). load_state_dict
        puts them back, so training resumed from a checkpoint goes on exactly as if never
        interrupted.

    Shapes:
        self.params: a list of Tensors; self.state: a list of dicts, self.state[i] for
        self.params[i]; a buffer has its parameter's shape, a count (step) is an int.

    Args:
        params: an iterable of Tensors (model.parameters()); lr: the learning rate.
        load_state_dict(state): a dict from state_dict(), or what np.load(path) gives back
        from np.savez(path, **optimizer.state_dict()): there every value, numbers
        included, comes back as an ndarray (0-d for a number).

    Returns:
        state_dict() -> dict of str -> ndarray or number; zero_grad and
        load_state_dict return None.

    Numerics:
        Copy the arrays both ways: a state_dict is a snapshot (step() keeps changing the
        live buffers in place), and a loaded state must not share buffers with its source.
        Turn a 0-d integer array back into an int (a count); refuse (ValueError) a key for
        a parameter index this optimizer does not have, or a buffer of the wrong shape.

    Reference:
        torch.optim.Optimizer.zero_grad, state_dict, load_state_dict (torch keeps nested
        dicts; ours is flat so that np.savez can write it, with no pickle).
    """

    def __init__(self, params, lr: float):
        self.params: list[Tensor] = list(params)  # a generator (model.parameters()) is used up
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if lr < 0:
            raise ValueError(f"invalid learning rate: {lr} (it must be >= 0)")
        self.lr = float(lr)
        # One dict per parameter (in the order of params), filled by step() on first use.
        self.state: list[dict] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget the gradients of the last backward (grad = None, torch's default)."""
        raise NotImplementedError

    def step(self) -> None:
        """One update of every parameter that has a gradient (each optimizer defines it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def state_dict(self) -> dict:
        """A flat snapshot: 'lr' and 'state.<i>.<key>' for every buffer and count."""
        raise NotImplementedError

    def load_state_dict(self, state) -> None:
        """Restore what state_dict() saved (a dict, or what np.load gives back from np.savez)."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, weight decay and Nesterov.

    Math:
        Per parameter p with gradient g, in this order:
        g <- g + weight_decay * p                       (if weight_decay: L2 in the gradient)
        if momentum:
            buf <- g                                    (the first step: no dampening)
            buf <- momentum * buf + (1 - dampening) * g (every later step)
            g <- g + momentum * buf if nesterov else buf
        p <- p - lr * g

    Shapes:
        g, buf: p's shape. The buffer lives in self.state[i]["momentum_buffer"].

    Args:
        params, lr: as Optimizer. momentum: 0 for plain SGD. dampening: damps the new
        gradient's share of the buffer. weight_decay: L2 strength. nesterov: look ahead
        (needs momentum > 0 and dampening 0).

    Returns:
        step() returns None: it changes every p.data in place.

    Numerics:
        Never change p.grad: g = g + ..., not g += ...; start the buffer from a COPY of g
        (it is updated in place later). Read self.lr at every step: a scheduler changes it
        between steps.

    Reference:
        torch.optim.SGD (torch/optim/sgd.py, _single_tensor_sgd)
    """

    def __init__(
        self,
        params,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError


class Adam(Optimizer):
    """Adam: per-weight steps from running averages of the gradient and its square.

    Math:
        Per parameter p with gradient g; t counts THIS parameter's steps, from 1:
        AdamW (decoupled_weight_decay):  p <- p * (1 - lr * weight_decay)
        Adam (L2, the default):          g <- g + weight_decay * p
        m <- beta1 * m + (1 - beta1) * g            (m, v start at 0)
        v <- beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)    (bias correction)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    Shapes:
        m, v: p's shape, in self.state[i]["exp_avg"] and ["exp_avg_sq"]; t is an int in
        self.state[i]["step"].

    Args:
        params, lr: as Optimizer. betas: (beta1, beta2), the averages' decay rates.
        eps: keeps the division finite where v is 0. weight_decay: decay strength.
        decoupled_weight_decay: shrink p directly (AdamW) instead of adding to g.

    Returns:
        step() returns None: it changes every p.data in place.

    Numerics:
        eps goes AFTER the square root of the bias-corrected v. Each parameter keeps
        its own t: one whose grad was None for a while has taken fewer steps.

    Reference:
        torch.optim.Adam (torch/optim/adam.py, _single_tensor_adam); Kingma & Ba 2015.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ):
        super().__init__(params, lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = eps
        self.weight_decay = weight_decay
        self.decoupled_weight_decay = decoupled_weight_decay

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError


class AdamW(Adam):
    """Adam with decoupled weight decay: p shrinks by lr * weight_decay before each step.

    Math:
        Adam's update, with p <- p * (1 - lr * weight_decay) first and g left alone: the
        decay is not divided by sqrt(v_hat), so every weight decays at the same rate.

    Shapes:
        As Adam.

    Args:
        As Adam; weight_decay defaults to 1e-2 (Adam's to 0).

    Returns:
        Nothing new to write: Adam.step with decoupled_weight_decay=True does it.

    Numerics:
        As Adam.

    Reference:
        torch.optim.AdamW; Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, decoupled_weight_decay=True)


class LRScheduler:
    """The base of the schedules: step() sets optimizer.lr to get_lr() for the next epoch.

    Math:
        last_epoch counts step() calls; after each, optimizer.lr = get_lr(), the schedule's
        lr for epoch last_epoch, computed from base_lr (the optimizer's lr at construction).

    Shapes:
        Scalars.

    Args:
        optimizer: the Optimizer whose .lr the schedule sets.

    Returns:
        get_last_lr() -> [lr], a list as torch's; get_lr() is each schedule's to write.

    Numerics:
        Call scheduler.step() after optimizer.step(), once per epoch (or per batch).

    Reference:
        torch.optim.lr_scheduler.LRScheduler
    """

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr  # the lr the schedule starts from (torch: initial_lr)
        self.last_epoch = 0  # how many times step() has been called

    def get_lr(self) -> float:
        """The lr for epoch self.last_epoch (each schedule defines it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_lr()")

    def step(self) -> None:
        """One epoch (or one batch) on: the optimizer's next steps use the new lr."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr()

    def get_last_lr(self) -> list[float]:
        """[the lr in use], a list as torch's (one entry per parameter group; minigrad has one)."""
        return [self.optimizer.lr]


class StepLR(LRScheduler):
    """Multiply the lr by gamma every step_size epochs.

    Math:
        lr(t) = base_lr * gamma ^ floor(t / step_size), t = last_epoch (the number of
        step() calls so far). Epochs 0 .. step_size - 1 use base_lr.

    Shapes:
        Scalars.

    Args:
        optimizer: whose lr it sets. step_size: epochs between decays. gamma: the factor.

    Returns:
        get_lr() -> float, the lr for epoch self.last_epoch.

    Numerics:
        Integer division (//) on the epoch count; compute from base_lr (a closed form),
        not by multiplying the current lr, so rounding does not pile up.

    Reference:
        torch.optim.lr_scheduler.StepLR
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = step_size
        self.gamma = gamma

    def get_lr(self) -> float:
        """base_lr * gamma ** (number of completed step_size periods)."""
        raise NotImplementedError


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to eta_min over T_max epochs (and back up after).

    Math:
        lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2,
        t = last_epoch: base_lr at t = 0, eta_min at t = T_max. torch does not stop at
        T_max: the curve goes on, back up to base_lr at 2 * T_max (period 2 * T_max).

    Shapes:
        Scalars.

    Args:
        optimizer: whose lr it sets. T_max: epochs from base_lr down to eta_min.
        eta_min: the lowest lr.

    Returns:
        get_lr() -> float, the lr for epoch self.last_epoch.

    Numerics:
        torch computes each lr from the previous one (a recursive form of the same
        curve); the closed form above equals it to rounding, within T_max and beyond.

    Reference:
        torch.optim.lr_scheduler.CosineAnnealingLR; Loshchilov & Hutter 2017 (SGDR).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max = T_max
        self.eta_min = eta_min

    def get_lr(self) -> float:
        """The cosine between base_lr and eta_min at epoch self.last_epoch."""
        raise NotImplementedError
