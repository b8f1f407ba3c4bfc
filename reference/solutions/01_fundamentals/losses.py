"""Loss functions and their gradients with respect to the first argument.

Every loss averages like torch's default reduction and returns (loss, grad), where
grad has the first argument's shape and dtype. References: CS231n notes ("Linear
classification", "Neural Networks Part 2"); the torch.nn.functional docs.
"""

import numpy as np


def mse(pred, target):
    """Mean squared error."""
    diff = pred - target
    loss = np.mean(diff**2)
    # d/dpred of mean(diff^2): the 2 from the square, the 1/N from the mean (N = every element).
    dpred = 2 * diff / diff.size
    return loss, dpred


def l1(pred, target):
    """Mean absolute error."""
    diff = pred - target
    loss = np.mean(np.abs(diff))
    # |d|' = sign(d); at d = 0 torch (and np.sign) picks 0, a valid subgradient.
    dpred = np.sign(diff) / diff.size
    return loss, dpred


def huber(pred, target, delta=1.0):
    """Huber loss: quadratic near zero, linear in the tails."""
    diff = pred - target
    small = np.abs(diff) <= delta
    # The two branches meet at |d| = delta with the same value and slope.
    per_elem = np.where(small, 0.5 * diff**2, delta * (np.abs(diff) - 0.5 * delta))
    loss = np.mean(per_elem)
    # Slope d inside, clipped to +-delta outside.
    dpred = np.clip(diff, -delta, delta) / diff.size
    return loss, dpred


def _sigmoid(x):
    """sigmoid(x) without overflow: exp only ever sees -|x|."""
    e = np.exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def bce_with_logits(logits, target):
    """Binary cross-entropy on raw logits."""
    # -[y log s(x) + (1 - y) log(1 - s(x))] rewritten as max(x, 0) - x y + log(1 + exp(-|x|)):
    # no log of 0 and no exp overflow, whatever the size of x.
    per_elem = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    loss = np.mean(per_elem)
    dlogits = (_sigmoid(logits) - target) / logits.size
    return loss, dlogits


def _log_softmax(logits):
    """log softmax over the last axis, shifted by the row max so exp never overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C), every row's max is 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_cross_entropy(logits, y, label_smoothing=0.0):
    """Softmax cross-entropy with integer labels and optional label smoothing."""
    N, C = logits.shape
    log_probs = _log_softmax(logits)  # (N, C)
    # The target distribution: (1 - eps) on the true class plus eps/C on EVERY class.
    target = np.full_like(log_probs, label_smoothing / C)  # (N, C)
    target[np.arange(N), y] += 1 - label_smoothing
    loss = -np.sum(target * log_probs) / N
    # d/dlogits of -sum(q log softmax) = softmax - q (q sums to 1), then 1/N from the mean.
    dlogits = (np.exp(log_probs) - target) / N
    return loss, dlogits


def nll(log_probs, y):
    """Negative log-likelihood of the true classes."""
    N = log_probs.shape[0]
    rows = np.arange(N)
    loss = -np.mean(log_probs[rows, y])
    # Only the picked entries affect the loss, each with weight -1/N.
    dlog_probs = np.zeros_like(log_probs)
    dlog_probs[rows, y] = -1 / N
    return loss, dlog_probs


def multiclass_hinge(scores, y, margin=1.0):
    """Multi-class hinge (SVM) loss, as torch's multi_margin_loss."""
    N, C = scores.shape
    rows = np.arange(N)
    true_scores = scores[rows, y][:, None]  # (N, 1)
    margins = np.maximum(0, margin - true_scores + scores)  # (N, C)
    # The true class is not a competitor: its own term would add `margin` to every row.
    margins[rows, y] = 0
    # torch divides each row's sum by C, then averages over the batch.
    loss = np.sum(margins) / (N * C)
    active = (margins > 0).astype(scores.dtype)  # (N, C): violated margins
    dscores = active.copy()
    dscores[rows, y] = -active.sum(axis=1)  # the true score pushes against every violation
    dscores /= N * C
    return loss, dscores


def kl_div(log_q, p):
    """KL(p || q) from log q, averaged over the batch ("batchmean")."""
    n = log_q.shape[0]  # batchmean: divide by the batch size, not by the element count
    # p log p with the convention 0 log 0 = 0 (np.log(0) would give 0 * -inf = nan).
    p_log_p = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)
    loss = np.sum(p_log_p - p * log_q) / n
    dlog_q = -p / n
    return loss, dlog_q
