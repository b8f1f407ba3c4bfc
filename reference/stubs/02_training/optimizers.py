"""Optimizers from scratch: SGD (momentum, Nesterov), Adagrad, RMSprop, Adam and AdamW.

Implement with NumPy, with torch.optim's exact semantics. Each optimizer is a class built
from its hyperparameters (the same names and defaults as torch.optim) with one method:

    opt = Adam(lr=1e-3)
    for batch in data:
        grads = ...                  # one gradient array per parameter, same shapes
        opt.step(params, grads)      # updates every params[i] IN PLACE

step is always called with the same list of parameter arrays, in the same order, so the
optimizer can keep its state (step count, momentum buffers, moment estimates) per position
i. "In place" means the caller's arrays change (p -= ..., p *= ..., p[...] = ...);
params[i] = p - ... would only rebind an entry of the list. Never modify the gradients.
Run: pytest katas/02_training/test_optimizers.py
"""

import numpy as np


class SGD:
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

    def __init__(
        self,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ):
        """Store the hyperparameters; buffers are created on the first step."""
        raise NotImplementedError

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One SGD step on every parameter, in place.

        Math:
            g = -grad if maximize else grad
            g = g + weight_decay * p                     (if weight_decay != 0)
            if momentum != 0:
                buf = g (a copy)                         on the first step: no dampening
                buf = momentum * buf + (1 - dampening) * g    on later steps
                g = g + momentum * buf if nesterov else buf
            p = p - lr * g

        Shapes:
            params[i] and grads[i] have the same shape, any shape (size-1 sides too).

        Args:
            params: the parameter arrays, updated in place.
            grads: their gradients (any memory layout); never modified.

        Returns:
            None.

        Numerics:
            The buffer must be a copy: buf = g aliases the caller's gradient, and buf *= ...
            would then overwrite it. Keep the parameters' dtype.

        Reference:
            torch.optim.SGD (the momentum buffer is state["momentum_buffer"])
        """
        raise NotImplementedError


class Adagrad:
    """Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

    def __init__(
        self,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        """Store the hyperparameters; the step count starts at 0."""
        raise NotImplementedError

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One Adagrad step on every parameter, in place.

        Math:
            t = t + 1                                     (steps taken, this one included)
            g = grad + weight_decay * p                   (if weight_decay != 0)
            clr = lr / (1 + (t - 1) * lr_decay)           (no decay on the first step)
            sum = sum + g * g                 (sum starts at initial_accumulator_value)
            p = p - clr * g / (sqrt(sum) + eps)

        Shapes:
            params[i] and grads[i] have the same shape, any shape.

        Args:
            params: the parameter arrays, updated in place.
            grads: their gradients; never modified.

        Returns:
            None.

        Numerics:
            eps goes outside the square root; it keeps 0 / 0 away when sum is 0.

        Reference:
            torch.optim.Adagrad (state["sum"], state["step"])
        """
        raise NotImplementedError


class RMSprop:
    """RMSprop: steps scaled by a running root-mean-square of the gradients."""

    def __init__(
        self,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        """Store the hyperparameters; the averages start at zero."""
        raise NotImplementedError

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One RMSprop step on every parameter, in place.

        Math:
            g = grad + weight_decay * p                   (if weight_decay != 0)
            sq = alpha * sq + (1 - alpha) * g * g         (sq starts at 0)
            centered:  ga = alpha * ga + (1 - alpha) * g  (ga starts at 0)
                       avg = sqrt(sq - ga * ga) + eps     (an estimate of the std of g)
            otherwise: avg = sqrt(sq) + eps
            momentum > 0: buf = momentum * buf + g / avg  (buf starts at 0);  p = p - lr * buf
            otherwise:    p = p - lr * g / avg

        Shapes:
            params[i] and grads[i] have the same shape, any shape.

        Args:
            params: the parameter arrays, updated in place.
            grads: their gradients; never modified.

        Returns:
            None.

        Numerics:
            eps goes OUTSIDE the square root: sqrt(sq) + eps, not sqrt(sq + eps).

        Reference:
            torch.optim.RMSprop (state["square_avg"], ["grad_avg"], ["momentum_buffer"])
        """
        raise NotImplementedError


class Adam:
    """Adam: momentum on the gradient, scaled by a running RMS, both bias-corrected."""

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        """Store the hyperparameters; the step count starts at 0, the moments at zero."""
        raise NotImplementedError

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One Adam step on every parameter, in place.

        Math:
            t = t + 1                              (once per step() call, not per parameter)
            g = -grad if maximize else grad
            if weight_decay != 0:
                decoupled (AdamW): p = p * (1 - lr * weight_decay)   (g untouched)
                otherwise (L2):    g = g + weight_decay * p
            m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
            amsgrad: v_max = max(v_max, v), elementwise, on the raw (uncorrected) v;
                     use v_max in place of v below
            denom = sqrt(v) / sqrt(1 - beta2 ** t) + eps
            p = p - lr / (1 - beta1 ** t) * m / denom

        Shapes:
            params[i] and grads[i] have the same shape, any shape.

        Args:
            params: the parameter arrays, updated in place.
            grads: their gradients; never modified.

        Returns:
            None.

        Numerics:
            eps goes outside the square root and after the bias correction of v. Without
            the corrections the first steps are far too small (m and v start at 0).

        Reference:
            torch.optim.Adam (state["exp_avg"], ["exp_avg_sq"], ["max_exp_avg_sq"], ["step"])
        """
        raise NotImplementedError


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ):
        """Adam with decoupled_weight_decay=True; note the default weight_decay of 1e-2.

        AdamW needs no step of its own: call Adam.__init__ (super().__init__(...)) with
        decoupled_weight_decay=True, and Adam.step does the rest. Decoupled decay shrinks the
        weights directly, p *= 1 - lr * weight_decay, instead of adding weight_decay * p to
        the gradient, where Adam's 1 / sqrt(v) scaling would weaken it (torch.optim.AdamW).
        """
        raise NotImplementedError
