"""optim.py: optimizers that update Parameters in place, and schedules that set their lr.

An optimizer holds the list of parameters it trains. After loss.backward() has filled each
p.grad, step() moves every p.data a little downhill, in place (the Tensor object, and the
array it holds, stay the same ones the model uses). Parameters whose grad is None did not
take part in this loss and are skipped, as torch skips them. The running averages an
optimizer keeps (momentum buffers, Adam's moments and step count) live in self.state, one
dict per parameter, which is what state_dict() saves and load_state_dict() restores.

Reference: torch.optim.SGD, Adam, AdamW (torch/optim/sgd.py, adam.py: _single_tensor_*),
torch.optim.lr_scheduler.StepLR and CosineAnnealingLR; Kingma & Ba 2015 (Adam),
Loshchilov & Hutter 2019 (AdamW), Loshchilov & Hutter 2017 (SGDR, the cosine schedule).
"""

from __future__ import annotations

import math

import numpy as np

from .tensor import Tensor


class Optimizer:
    """The base of every optimizer: params, lr, per-parameter state, zero_grad, state_dict."""

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
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def _with_grads(self):
        """(index, parameter, gradient) for every parameter that has a gradient this step."""
        return [(i, p, p.grad) for i, p in enumerate(self.params) if p.grad is not None]

    def state_dict(self) -> dict:
        """A flat snapshot: 'lr' and 'state.<i>.<key>' for every buffer and count."""
        out: dict = {"lr": self.lr}
        for i, s in enumerate(self.state):
            for key, value in s.items():
                # A copy: step() keeps changing the live buffers in place.
                out[f"state.{i}.{key}"] = np.copy(value)
        return out

    def load_state_dict(self, state) -> None:
        """Restore what state_dict() saved (a dict, or what np.load gives back from np.savez)."""
        new: list[dict] = [{} for _ in self.params]
        for name in state:
            if name == "lr":
                continue
            prefix, index, key = (name.split(".", 2) + ["", ""])[:3]
            if prefix != "state" or not index.isdigit() or not key:
                raise ValueError(f"unexpected key {name!r} in an optimizer state_dict")
            i = int(index)
            if i >= len(self.params):
                raise ValueError(
                    f"the state_dict holds {name!r} but this optimizer has "
                    f"{len(self.params)} parameters: was it saved for another model?"
                )
            value = np.array(state[name])  # a copy: never share buffers with the source
            if value.ndim == 0 and value.dtype.kind in "iu":  # a count (the step), not a buffer
                new[i][key] = int(value)
                continue
            if value.shape != self.params[i].shape:
                raise ValueError(
                    f"{name!r} has shape {value.shape} but parameter {i} has shape "
                    f"{self.params[i].shape}: was the state_dict saved for another model?"
                )
            new[i][key] = value
        if "lr" not in state:
            raise ValueError("the state_dict has no 'lr': was it made by Optimizer.state_dict()?")
        self.lr = float(state["lr"])
        self.state = new


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, weight decay and Nesterov."""

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
        for i, p, g in self._with_grads():
            if self.weight_decay:
                g = g + self.weight_decay * p.data  # L2: its gradient joins the loss's
            if self.momentum:
                buf = self.state[i].get("momentum_buffer")
                if buf is None:
                    # The first step starts the buffer AT the gradient: no dampening yet.
                    buf = self.state[i]["momentum_buffer"] = g.copy()  # a copy: it changes
                else:
                    buf *= self.momentum
                    buf += (1 - self.dampening) * g
                # Nesterov looks ahead: the gradient plus where momentum is about to go.
                g = g + self.momentum * buf if self.nesterov else buf
            p.data -= self.lr * g  # in place: the model's array itself moves


class Adam(Optimizer):
    """Adam: per-weight steps from running averages of the gradient and its square."""

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
        beta1, beta2 = self.betas
        for i, p, g in self._with_grads():
            s = self.state[i]
            # Each parameter counts its own steps: one that had no gradient has not moved.
            t = s["step"] = s.get("step", 0) + 1
            if self.weight_decay:
                if self.decoupled_weight_decay:  # AdamW: shrink the weights themselves
                    p.data *= 1 - self.lr * self.weight_decay
                else:  # Adam: L2 through the gradient (then rescaled by 1 / sqrt(v))
                    g = g + self.weight_decay * p.data
            m = s.setdefault("exp_avg", np.zeros_like(p.data))
            v = s.setdefault("exp_avg_sq", np.zeros_like(p.data))
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            # m and v start at 0, so early on they are too small: divide by 1 - beta^t.
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)  # eps after the sqrt


class AdamW(Adam):
    """Adam with decoupled weight decay: p shrinks by lr * weight_decay before each step."""

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
    """The base of the schedules: step() sets optimizer.lr to get_lr() for the next epoch."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr  # the lr the schedule starts from (torch: initial_lr)
        self.last_epoch = 0  # how many times step() has been called

    def get_lr(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not define get_lr()")

    def step(self) -> None:
        """One epoch (or one batch) on: the optimizer's next steps use the new lr."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr()

    def get_last_lr(self) -> list[float]:
        """[the lr in use], a list as torch's (one entry per parameter group; minigrad has one)."""
        return [self.optimizer.lr]


class StepLR(LRScheduler):
    """Multiply the lr by gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = step_size
        self.gamma = gamma

    def get_lr(self) -> float:
        # Epochs 0 .. step_size - 1 use base_lr; the first decay comes AT epoch step_size.
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to eta_min over T_max epochs (and back up after)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max = T_max
        self.eta_min = eta_min

    def get_lr(self) -> float:
        # The closed form. torch computes the same curve recursively (each lr from the last),
        # and past T_max both keep following the cosine: back up to base_lr at 2 * T_max.
        cosine = math.cos(math.pi * self.last_epoch / self.T_max)  # 1 at t = 0, -1 at T_max
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + cosine) / 2
