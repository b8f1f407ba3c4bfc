"""Oracles for 02_training/regularization: autograd penalties, the negative log posterior's
minimizer and inverse Hessian, torch.optim trajectories, dropout with an explicit mask,
and early stopping as Lightning's EarlyStopping decides it. Everything in float64.
"""

from __future__ import annotations

import math

import torch

from reference.oracles import numpy, tensor


def penalty(w, lam, kind):
    """(value, gradient) of lam * sum|w| (kind "l1") or lam / 2 * sum w^2 ("l2"), by autograd."""
    t = tensor(w, grad=True)
    value = lam * t.abs().sum() if kind == "l1" else lam / 2 * (t * t).sum()
    value.backward()
    return numpy(value), numpy(t.grad)


def _argmin_and_inverse_hessian(f, D):
    """Minimizer and inverse Hessian of a convex quadratic f: one Newton step from 0 is exact."""
    w0 = torch.zeros(D, dtype=torch.float64, requires_grad=True)
    (g0,) = torch.autograd.grad(f(w0), w0)
    H = torch.autograd.functional.hessian(f, w0.detach())  # (D, D)
    return numpy(torch.linalg.solve(H, -g0)), numpy(torch.linalg.inv(H))


def ridge(X, y, lam):
    """argmin ||y - X w||^2 + lam ||w||^2, found by autograd (not by the closed form)."""
    Xt, yt = tensor(X), tensor(y)
    return _argmin_and_inverse_hessian(
        lambda w: ((yt - Xt @ w) ** 2).sum() + lam * (w * w).sum(), X.shape[1]
    )[0]


def gaussian_posterior(X, y, sigma2, tau2):
    """Mean (the MAP estimate) and covariance (inverse Hessian) from -log p(w | X, y)."""
    Xt, yt = tensor(X), tensor(y)

    def neg_log_posterior(w):
        return ((yt - Xt @ w) ** 2).sum() / (2 * sigma2) + (w * w).sum() / (2 * tau2)

    return _argmin_and_inverse_hessian(neg_log_posterior, X.shape[1])


def quadratic_loss(w, A, b):
    """0.5 * ||A w - b||^2 in torch, and its gradient A^T (A w - b) for NumPy weights."""
    if isinstance(w, torch.Tensor):
        r = w @ tensor(A).T - tensor(b)
        return 0.5 * (r * r).sum()
    return A.T @ (A @ w - b)


def optimizer_run(kind, w0, lr, wd, steps=None, A=None, b=None, grads=None):
    """Weights after torch.optim steps: on 0.5 ||A w - b||^2, or with given gradients.

    kind: "sgd" / "adam" / "adamw" (torch's weight_decay=wd), or "sgd+l2" / "adam+l2"
    (weight_decay=0 on the loss plus (wd / 2) ||w||^2, differentiated by autograd).
    grads: one gradient per step, used instead of a loss (no "+l2" kinds then).
    """
    w = tensor(w0, grad=True)
    base, l2 = kind.split("+")[0], kind.endswith("+l2")
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[base]
    opt = make([w], lr=lr, weight_decay=0.0 if l2 else wd)
    for step in range(len(grads) if grads is not None else steps):
        opt.zero_grad()
        if grads is not None:
            w.grad = tensor(grads[step])
        else:
            loss = quadratic_loss(w, A, b) + (wd / 2 * (w * w).sum() if l2 else 0.0)
            loss.backward()
        opt.step()
    return numpy(w)


def dropout(x, p, mask, dout=None):
    """x * mask / (1 - p) (zeros for p = 1), and its gradient for dout, by autograd."""
    t = tensor(x, grad=True)
    out = t * tensor(mask) * (0.0 if p == 1 else 1 / (1 - p))
    if dout is None:
        return numpy(out)
    out.backward(tensor(dout))
    return numpy(t.grad)


def mc_dropout(X, weights, biases, p, masks):
    """Mean and population variance over T passes; masks[i]: (T, N, H_i) for hidden layer i."""
    scale = 0.0 if p == 1 else 1 / (1 - p)
    h = tensor(X)
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = h @ tensor(W) + tensor(b)
        if i < len(weights) - 1:
            h = torch.relu(h) * tensor(masks[i]) * scale
    T = masks[0].shape[0] if masks else 1
    h = h.expand(T, *h.shape[-2:])
    return numpy(h.mean(0)), numpy(h.var(0, correction=0))


def early_stopping(losses, patience, min_delta):
    """(stop epoch or None, best epoch), as Lightning's EarlyStopping(mode="min") decides.

    Lightning: improvement iff monitor_op(current - min_delta', best) with min_delta' =
    -min_delta in "min" mode, i.e. current < best - min_delta; best starts at +inf;
    wait_count += 1 otherwise, and it stops when wait_count >= patience.
    """
    best, best_epoch, wait = math.inf, None, 0
    for epoch, current in enumerate(losses):
        if current < best - min_delta:
            best, best_epoch, wait = current, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch
