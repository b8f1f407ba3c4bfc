"""Optimizers from scratch, with torch.optim's exact update rules.

State lives in the optimizer, one dict per parameter position (like torch's opt.state).
Every update writes into the caller's arrays (p -= ...), never into the gradients.
References: Polyak 1964 and Sutskever et al. 2013 (momentum, Nesterov), Duchi et al. 2011
(Adagrad), Hinton's lecture 6e (RMSprop), Kingma & Ba 2015 (Adam), Reddi et al. 2018
(AMSGrad), Loshchilov & Hutter 2019 (AdamW).
"""

import math

import numpy as np


class SGD:
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

    def __init__(
        self, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
    ):
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov, self.maximize = weight_decay, nesterov, maximize
        self.state = {}  # i -> momentum buffer (torch: "momentum_buffer"), made on step 1

    def step(self, params, grads):
        """One SGD step on every parameter, in place."""
        for i, (p, grad) in enumerate(zip(params, grads)):
            g = -grad if self.maximize else grad  # g may still BE grad: no in-place ops on g
            if self.weight_decay != 0:
                g = g + self.weight_decay * p  # the gradient of 0.5 * wd * ||p||^2
            if self.momentum != 0:
                if i not in self.state:
                    # First step: the buffer is the gradient itself, undamped (a copy, so that
                    # later in-place updates of the buffer never touch the caller's gradient).
                    buf = self.state[i] = g.copy()
                else:
                    buf = self.state[i]
                    buf *= self.momentum
                    buf += (1 - self.dampening) * g
                # Nesterov looks ahead: the gradient plus the momentum it is about to add.
                g = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * g  # in place: the caller's array changes


class Adagrad:
    """Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):  # fmt: skip
        self.lr, self.lr_decay, self.weight_decay, self.eps = lr, lr_decay, weight_decay, eps
        self.initial_accumulator_value = initial_accumulator_value
        self.t = 0  # steps taken
        self.state = {}  # i -> running sum of squared gradients

    def step(self, params, grads):
        """One Adagrad step on every parameter, in place."""
        self.t += 1
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)  # the first step is undecayed
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            if i not in self.state:
                self.state[i] = np.full_like(p, self.initial_accumulator_value)
            total = self.state[i]
            total += g * g  # squared gradients only ever add up: steps keep shrinking
            p -= clr * g / (np.sqrt(total) + self.eps)


class RMSprop:
    """RMSprop: steps scaled by a running root-mean-square of the gradients."""

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):  # fmt: skip
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.weight_decay, self.momentum, self.centered = weight_decay, momentum, centered
        self.state = {}  # i -> {"square_avg", "grad_avg", "momentum_buffer"}, all from zero

    def step(self, params, grads):
        """One RMSprop step on every parameter, in place."""
        a = self.alpha
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            if i not in self.state:
                self.state[i] = {k: np.zeros_like(p) for k in ("sq", "ga", "buf")}
            s = self.state[i]
            s["sq"] *= a
            s["sq"] += (1 - a) * g * g  # running mean of g^2
            if self.centered:
                s["ga"] *= a
                s["ga"] += (1 - a) * g  # running mean of g
                avg = np.sqrt(s["sq"] - s["ga"] * s["ga"]) + self.eps  # E[g^2] - E[g]^2: variance
            else:
                avg = np.sqrt(s["sq"]) + self.eps  # eps outside the root, as torch
            if self.momentum > 0:
                s["buf"] *= self.momentum
                s["buf"] += g / avg
                p -= self.lr * s["buf"]
            else:
                p -= self.lr * g / avg


class Adam:
    """Adam: momentum on the gradient, scaled by a running RMS, both bias-corrected."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False):  # fmt: skip
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.amsgrad, self.maximize = amsgrad, maximize
        self.decoupled_weight_decay = decoupled_weight_decay
        self.t = 0  # steps taken: one count for the whole step, not one per parameter
        self.state = {}  # i -> {"m", "v", "v_max"}, all from zero

    def step(self, params, grads):
        """One Adam step on every parameter, in place."""
        beta1, beta2 = self.betas
        self.t += 1
        # m and v start at 0, so early on they underestimate; dividing by 1 - beta^t fixes it.
        bias1 = 1 - beta1**self.t
        bias2_sqrt = math.sqrt(1 - beta2**self.t)
        for i, (p, grad) in enumerate(zip(params, grads)):
            g = -grad if self.maximize else grad
            if self.weight_decay != 0:
                if self.decoupled_weight_decay:
                    p *= 1 - self.lr * self.weight_decay  # AdamW: shrink the weights directly
                else:
                    g = g + self.weight_decay * p  # Adam: L2, which 1/sqrt(v) then rescales
            if i not in self.state:
                self.state[i] = {k: np.zeros_like(p) for k in ("m", "v", "v_max")}
            s = self.state[i]
            s["m"] *= beta1
            s["m"] += (1 - beta1) * g
            s["v"] *= beta2
            s["v"] += (1 - beta2) * g * g
            v = s["v"]
            if self.amsgrad:
                np.maximum(s["v_max"], v, out=s["v_max"])  # the max of the raw v, corrected below
                v = s["v_max"]
            denom = np.sqrt(v) / bias2_sqrt + self.eps  # eps after the correction, outside the root
            p -= self.lr / bias1 * s["m"] / denom


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):  # fmt: skip
        super().__init__(lr, betas, eps, weight_decay, amsgrad, maximize,
                         decoupled_weight_decay=True)  # fmt: skip
