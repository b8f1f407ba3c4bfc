"""Oracle for 01_fundamentals/losses: torch.nn.functional losses and autograd, in float64."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reference.oracles import numpy, tensor

# name -> the torch loss with the kata's signature (first argument, second argument, **kwargs).
LOSSES = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "huber": lambda pred, target, delta=1.0: F.huber_loss(pred, target, delta=delta),
    "bce_with_logits": F.binary_cross_entropy_with_logits,
    "softmax_cross_entropy": lambda logits, y, label_smoothing=0.0: F.cross_entropy(
        logits, y, label_smoothing=label_smoothing
    ),
    "nll": F.nll_loss,
    "multiclass_hinge": lambda s, y, margin=1.0: F.multi_margin_loss(s, y, margin=margin),
    "kl_div": lambda log_q, p: F.kl_div(log_q, p, reduction="batchmean"),
}


def loss_and_grad(name: str, first, second, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """torch's loss (0-d, float64) and d loss / d first argument (float64), by autograd."""
    x = tensor(first, grad=True)
    loss = LOSSES[name](x, tensor(second), **kwargs)
    loss.backward()
    return numpy(loss), numpy(x.grad)


def smoothing_over_c_minus_1(logits, y, label_smoothing) -> tuple[np.ndarray, np.ndarray]:
    """A known mistake, for messages: eps spread over the C - 1 wrong classes only."""
    x = tensor(logits, grad=True)
    N, C = x.shape
    q = torch.full((N, C), label_smoothing / (C - 1), dtype=torch.float64)
    q[torch.arange(N), tensor(y)] = 1 - label_smoothing
    loss = -(q * torch.log_softmax(x, dim=1)).sum() / N
    loss.backward()
    return numpy(loss), numpy(x.grad)


def known_mistakes(name: str, first, second, **kwargs) -> dict[str, tuple]:
    """label -> (loss, grad) that a known mistake returns (None: that part is unaffected),
    so a failing test can name the mistake."""
    first = np.asarray(first, dtype=np.float64)
    loss, grad = loss_and_grad(name, first, second, **kwargs)
    N, C = first.shape
    if name == "mse":
        return {
            "the gradient without the 2 from the square": (None, grad / 2),
            "the gradient without the mean's 1/N": (None, grad * N * C),
        }
    if name == "huber":
        d, delta = first - second, kwargs.get("delta", 1.0)
        quad = np.abs(d) <= delta
        no_half = np.mean(np.where(quad, d**2, delta * (np.abs(d) - 0.5 * delta)))
        return {"the quadratic branch without its 0.5": (no_half, np.where(quad, 2, 1) * grad)}
    if name == "softmax_cross_entropy" and kwargs.get("label_smoothing", 0) > 0:
        wrong = smoothing_over_c_minus_1(first, second, kwargs["label_smoothing"])
        return {"eps spread over the C - 1 wrong classes (torch: eps/C on every class)": wrong}
    if name == "multiclass_hinge":
        extra = kwargs.get("margin", 1.0) / C  # the true class's own term: max(0, margin) / C
        return {
            "the true class counted as its own competitor (+ margin/C per row)": (
                loss + extra,
                None,
            ),
            "the row sums not divided by C": (loss * C, grad * C),
        }
    if name == "kl_div":
        return {"a mean over all N*C elements, not batchmean (sum / N)": (loss / C, grad / C)}
    return {}
