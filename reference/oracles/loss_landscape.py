"""Oracle for 02_training/loss_landscape: the landscape, autograd, eigvalsh and torch.optim.SGD.

Gradients come from torch.autograd and Hessians from torch.autograd.functional.hessian,
one point at a time; paths come from torch.optim.SGD stepping a tensor, with the noise
added to p.grad.
"""

from __future__ import annotations

import numpy as np
import torch

from reference.oracles import numpy, tensor


def saddle(p: torch.Tensor) -> torch.Tensor:
    """f(x, y) = x^2 - y^2 + y^4 / 4 + x^2 y^2 / 2 over the last axis of p."""
    x, y = p[..., 0], p[..., 1]
    return x**2 - y**2 + y**4 / 4 + x**2 * y**2 / 2


def loss(p) -> np.ndarray:
    return numpy(saddle(tensor(p)))


def grad(p, f=saddle) -> np.ndarray:
    """d f / d p at every point: each point's f depends on that point only, so sum first."""
    t = tensor(p, grad=True)
    f(t).sum().backward()
    return numpy(t.grad)


def hessian(p, f=saddle) -> np.ndarray:
    """(..., D, D): torch.autograd.functional.hessian of f at every point of the batch."""
    t = tensor(p)
    flat = t.reshape(-1, t.shape[-1])  # (M, D)
    H = [torch.autograd.functional.hessian(f, point) for point in flat]  # M x (D, D)
    D = t.shape[-1]
    return numpy(torch.stack(H).reshape(*t.shape, D)) if H else np.zeros((*t.shape, D))


def eigvalsh(hessian) -> list[float]:
    """The eigenvalues, ascending, rounded for messages."""
    return [round(float(e), 6) for e in torch.linalg.eigvalsh(tensor(hessian))]


def classify(hessian, tol=1e-8) -> str:
    eig = torch.linalg.eigvalsh(tensor(hessian))
    up, down = bool((eig > tol).any()), bool((eig < -tol).any())
    if up and down:
        return "saddle"
    if bool((eig.abs() <= tol).any()):
        return "degenerate"
    return "minimum" if up else "maximum"


def grad_fn(f=saddle):
    """A NumPy gradient (D,) -> (D,) computed by autograd: what the tests hand your optimisers."""
    return lambda x: grad(x, f)


def descend(
    f, x0, lr, steps, momentum=0.0, noise=None, noise_on_position=False, ascend=False, damp=False
):
    """torch.optim.SGD's path from x0, (steps + 1, D); noise (steps, D) is added to p.grad.

    noise_on_position=True reproduces a learner's slip: the noise added to x, not to the
    gradient (so it is not multiplied by lr); ascend=True one who climbs (x + lr * g);
    damp=True the velocity kept as an average, v = momentum * v + (1 - momentum) * g.
    """
    p = tensor(x0, grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, maximize=ascend)
    path = [numpy(p)]
    for t in range(steps):
        opt.zero_grad()
        f(p).backward()
        if noise is not None and not noise_on_position:
            p.grad += tensor(noise[t])
        if damp:
            p.grad *= 1 - momentum
        opt.step()
        if noise is not None and noise_on_position:
            with torch.no_grad():
                p += tensor(noise[t])
        path.append(numpy(p))
    return np.stack(path)


def noise(seed, steps, D, noise_std=1.0) -> np.ndarray:
    """noise_std * z_t for t < steps, drawn one step at a time from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    return np.array([noise_std * rng.standard_normal(D) for _ in range(steps)]).reshape(steps, D)


def steps_below(path, level):
    """The first step at which f drops below level (None if it never does)."""
    hit = np.flatnonzero(loss(path) < level)
    return int(hit[0]) if hit.size else None
