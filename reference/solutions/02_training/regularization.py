"""Regularization: L1/L2 and the Gaussian prior, weight decay, dropout, early stopping.

References: Goodfellow et al., Deep Learning, ch. 7 (7.1 norm penalties, 7.8 early
stopping, 7.12 dropout); Loshchilov & Hutter, "Decoupled Weight Decay Regularization"
(AdamW); Gal & Ghahramani, "Dropout as a Bayesian Approximation" (MC dropout).
"""

import numpy as np


def l1_penalty(w, lam):
    """L1 penalty lam * sum|w| and its gradient lam * sign(w)."""
    # np.sign(0) = 0, like torch's abs backward: a weight at exactly 0 gets no push.
    return lam * np.sum(np.abs(w)), lam * np.sign(w)


def l2_penalty(w, lam):
    """L2 penalty (lam / 2) * sum w^2 and its gradient lam * w."""
    # The 1/2 makes the gradient lam * w: exactly what weight_decay=lam adds in torch.optim.
    return 0.5 * lam * np.sum(w * w), lam * w


def ridge(X, y, lam):
    """Ridge regression in closed form: argmin ||y - X w||^2 + lam ||w||^2."""
    D = X.shape[1]
    A = X.T @ X + lam * np.eye(D, dtype=X.dtype)  # (D, D); lam on the diagonal only
    return np.linalg.solve(A, X.T @ y)  # solve, not inv: cheaper and more accurate


def gaussian_posterior(X, y, sigma2, tau2):
    """Posterior N(mean, cov) of w for y = X w + N(0, sigma2) noise and a N(0, tau2 I) prior."""
    D = X.shape[1]
    # -log p(w | X, y) = ||y - X w||^2 / (2 sigma2) + ||w||^2 / (2 tau2) + const: a quadratic
    # whose Hessian (the precision) is X^T X / sigma2 + I / tau2.
    precision = X.T @ X / sigma2 + np.eye(D, dtype=X.dtype) / tau2  # (D, D)
    cov = np.linalg.inv(precision)
    mean = cov @ (X.T @ y) / sigma2  # = ridge(X, y, sigma2 / tau2)
    return mean, cov


def sgd_step(w, g, lr, weight_decay, decoupled=False):
    """One plain SGD step with weight decay, either through the gradient or decoupled."""
    if decoupled:
        # Shrink the weights directly, then step along the loss gradient.
        return w * (1 - lr * weight_decay) - lr * g
    # L2: the penalty's gradient weight_decay * w joins the loss gradient.
    return w - lr * (g + weight_decay * w)


def adam_step(w, g, m, v, t, lr, weight_decay, decoupled=False, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step; decoupled=True is AdamW. Returns new (w, m, v)."""
    beta1, beta2 = betas
    if decoupled:
        w = w * (1 - lr * weight_decay)  # AdamW: decay outside the adaptive scaling
    else:
        g = g + weight_decay * w  # Adam + L2: the decay is rescaled by 1 / sqrt(v) below
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)  # bias correction: m and v start at zero
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def dropout_mask(shape, p, rng):
    """A keep-mask: True with probability 1 - p, independently per element."""
    return rng.random(shape) >= p  # p is the probability to DROP, as in torch


def dropout_forward(x, p, mask, training=True):
    """Inverted dropout: zero the dropped units and scale the kept ones by 1 / (1 - p)."""
    if not training:
        return x  # inverted dropout already scaled during training: eval is the identity
    if p == 1:
        return np.zeros_like(x)  # everything dropped; 1 / (1 - p) would give 0 * inf = nan
    return x * mask / (1 - p)


def dropout_backward(dout, p, mask):
    """Gradient of dropout_forward (training mode): the same mask, the same scale."""
    if p == 1:
        return np.zeros_like(dout)
    return dout * mask / (1 - p)


def mc_dropout_predict(X, weights, biases, p, T, rng):
    """MC dropout: mean and variance of T stochastic forward passes of a ReLU MLP."""
    h = X  # (N, D); becomes (T, N, H) after the first dropout
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = h @ W + b  # (..., N, H_i)
        if i == len(weights) - 1:
            break  # the output layer: no ReLU, no dropout
        a = np.maximum(z, 0)
        # One mask per pass: the leading T axis runs the T passes as one batch.
        mask = dropout_mask((T,) + a.shape[-2:], p, rng)  # (T, N, H_i)
        h = dropout_forward(a, p, mask)
    z = np.broadcast_to(z, (T,) + z.shape[-2:])  # (T, N, C), also when there is no hidden layer
    return z.mean(axis=0), z.var(axis=0)  # population variance over the T samples


class EarlyStopping:
    """Stop when the loss has not improved for `patience` epochs; keep the best weights."""

    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = np.inf  # the first epoch always improves on this
        self.best_epoch = -1
        self.best_weights = None
        self.wait = 0  # epochs since the last improvement
        self.epoch = -1

    def step(self, val_loss, weights):
        """Record one epoch's validation loss; True when training should stop."""
        self.epoch += 1
        # Improvement means beating the best by MORE than min_delta (NaN never improves).
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            self.best_epoch = self.epoch
            self.best_weights = [w.copy() for w in weights]  # a snapshot: training goes on
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, weights):
        """Copy the best snapshot back into weights (in place); return the best epoch."""
        for w, best in zip(weights, self.best_weights):
            w[...] = best  # into the caller's arrays, like model.load_state_dict
        return self.best_epoch
