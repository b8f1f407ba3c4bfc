"""Loss functions and their gradients, in NumPy.

Every function returns (loss, grad): the loss averaged as torch's default reduction
does (unless a docstring says otherwise), and grad = d loss / d first argument, with
the first argument's shape and dtype. softmax_cross_entropy is what mnist_mlp trains
with. Run: pytest katas/01_fundamentals/test_losses.py
"""

import numpy as np


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error and its gradient.

    Math:
        d = pred - target;  loss = mean(d^2) = sum(d^2) / M  (M = every element)
        dpred = 2 d / M

    Shapes:
        pred, target: any shape (same for both); dpred: pred's shape.

    Args:
        pred: predictions.
        target: regression targets.

    Returns:
        (loss, dpred): loss a Python float or 0-d array, dpred pred's dtype.

    Numerics:
        Nothing delicate; mind both factors in the gradient (the 2 and the 1/M).

    Reference:
        torch.nn.functional.mse_loss
    """
    raise NotImplementedError


def l1(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean absolute error and its (sub)gradient.

    Math:
        d = pred - target;  loss = mean(|d|);  dpred = sign(d) / M  (M = every element)

    Shapes:
        pred, target: any shape (same for both); dpred: pred's shape.

    Args:
        pred: predictions.
        target: regression targets.

    Returns:
        (loss, dpred): loss a Python float or 0-d array, dpred pred's dtype.

    Numerics:
        |d| has no derivative at d = 0; torch uses sign(0) = 0 there, and so must you.

    Reference:
        torch.nn.functional.l1_loss
    """
    raise NotImplementedError


def huber(pred: np.ndarray, target: np.ndarray, delta: float = 1.0) -> tuple[float, np.ndarray]:
    """Huber loss (quadratic near zero, linear beyond delta) and its gradient.

    Math:
        d = pred - target
        per element: 0.5 d^2                  if |d| <= delta
                     delta (|d| - 0.5 delta)  otherwise
        loss = mean(per element);  dpred = clip(d, -delta, delta) / M

    Shapes:
        pred, target: any shape (same for both); dpred: pred's shape.

    Args:
        pred: predictions.
        target: regression targets.
        delta: where the quadratic part turns linear (> 0).

    Returns:
        (loss, dpred): loss a Python float or 0-d array, dpred pred's dtype.

    Numerics:
        Both branches give 0.5 delta^2 and slope +-delta at |d| = delta: the loss is
        continuous and so is its gradient.

    Reference:
        torch.nn.functional.huber_loss
    """
    raise NotImplementedError


def bce_with_logits(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Binary cross-entropy computed from logits, and its gradient.

    Math:
        s = sigmoid(x) = 1 / (1 + exp(-x))
        per element: -[y log s + (1 - y) log(1 - s)] = max(x, 0) - x y + log(1 + exp(-|x|))
        loss = mean(per element);  dlogits = (s - y) / M

    Shapes:
        logits, target: any shape (same for both); dlogits: logits' shape.

    Args:
        logits: raw scores x (any real numbers).
        target: y in [0, 1] (hard 0/1 labels or soft probabilities).

    Returns:
        (loss, dlogits): loss a Python float or 0-d array, dlogits logits' dtype.

    Numerics:
        Must stay finite for |x| up to 1e4 in float32 and float64. sigmoid(1e4) is
        exactly 1 in floating point, so log(1 - s) is log(0) = -inf: never take the
        log of a sigmoid. Use the right-hand form (np.log1p) and a sigmoid whose exp
        only ever sees -|x|.

    Reference:
        torch.nn.functional.binary_cross_entropy_with_logits
    """
    raise NotImplementedError


def softmax_cross_entropy(
    logits: np.ndarray, y: np.ndarray, label_smoothing: float = 0.0
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy with integer labels (and optional label smoothing), and its gradient.

    Math:
        log p = log_softmax(logits) over classes
        q = (1 - eps) one_hot(y) + eps / C       (eps / C on EVERY class, true one included)
        loss = -(1/N) sum_n sum_c q[n, c] log p[n, c]
        dlogits = (softmax(logits) - q) / N

    Shapes:
        logits: (N, C); y: (N,) integers in [0, C); dlogits: (N, C).

    Args:
        logits: unnormalised class scores, one row per example.
        y: the true class of every example.
        label_smoothing: eps in [0, 1]; 0 gives plain cross-entropy.

    Returns:
        (loss, dlogits): loss a Python float or 0-d array, dlogits logits' dtype.

    Numerics:
        exp(1e4) overflows in any dtype: subtract each row's max before exp (softmax
        does not change), and compute log p as shifted - log(sum(exp(shifted))).

    Reference:
        torch.nn.functional.cross_entropy(logits, y, label_smoothing=eps)
    """
    raise NotImplementedError


def nll(log_probs: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of the true classes, and its gradient.

    Math:
        loss = -(1/N) sum_n log_probs[n, y[n]]
        dlog_probs[n, c] = -1/N where c = y[n], 0 elsewhere

    Shapes:
        log_probs: (N, C); y: (N,) integers in [0, C); dlog_probs: (N, C).

    Args:
        log_probs: log-probabilities (e.g. a log_softmax output).
        y: the true class of every example.

    Returns:
        (loss, dlog_probs): loss a Python float or 0-d array, dlog_probs log_probs' dtype.

    Numerics:
        Pick the entries with integer indexing (rows, y), not a loop.

    Reference:
        torch.nn.functional.nll_loss
    """
    raise NotImplementedError


def multiclass_hinge(
    scores: np.ndarray, y: np.ndarray, margin: float = 1.0
) -> tuple[float, np.ndarray]:
    """Multi-class hinge (SVM) loss, and its gradient.

    Math:
        per row: (1/C) sum_{j != y} max(0, margin - s_y + s_j)
        loss = mean over rows
        d/ds_j = 1/(N C) for every j != y with margin - s_y + s_j > 0;
        d/ds_y = -(number of such j) / (N C)

    Shapes:
        scores: (N, C); y: (N,) integers in [0, C); dscores: (N, C).

    Args:
        scores: class scores, one row per example.
        y: the true class of every example.
        margin: how far the true score must lead every other score.

    Returns:
        (loss, dscores): loss a Python float or 0-d array, dscores scores' dtype.

    Numerics:
        The true class is not its own competitor (its term would add margin / C).
        A margin met exactly (margin - s_y + s_j = 0) contributes no gradient.

    Reference:
        torch.nn.functional.multi_margin_loss (p=1): note the 1/C.
    """
    raise NotImplementedError


def kl_div(log_q: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray]:
    """KL divergence KL(p || q) from log q, averaged over the batch, and its gradient.

    Math:
        loss = (1/N) sum_{n, c} p[n, c] (log p[n, c] - log_q[n, c])     ("batchmean")
        dlog_q = -p / N

    Shapes:
        log_q, p: (N, C); dlog_q: (N, C).

    Args:
        log_q: log-probabilities of the model's distribution q.
        p: the target distribution (probabilities, rows sum to 1, zeros allowed).

    Returns:
        (loss, dlog_q): loss a Python float or 0-d array, dlog_q log_q's dtype.

    Numerics:
        0 log 0 = 0 by convention (the limit); np.log(0) = -inf and 0 * -inf = nan,
        so mask the zeros. batchmean divides by N, not by N * C.

    Reference:
        torch.nn.functional.kl_div(log_q, p, reduction="batchmean")
    """
    raise NotImplementedError
