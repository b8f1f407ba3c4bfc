"""Read a training run's curves and name what went wrong.

A practitioner's first look at a run: is anything NaN, did the loss go up, did it
move at all, did the validation loss turn up while the training loss kept falling,
and do the gradients shrink or grow as they travel back towards the input? Each
question has a rule; the order of the rules is part of the answer. References:
Karpathy, "A Recipe for Training Neural Networks" (2019); Goodfellow et al.,
Deep Learning, ch. 8.2 and 11; Glorot & Bengio (2010).
"""

import numpy as np

LABELS = (
    "lr_too_high",
    "lr_too_low",
    "overfitting",
    "vanishing_gradients",
    "exploding_gradients",
    "healthy",
)
DEPTH_RATIO = 100.0  # gradients this many times larger (smaller) at the input than the output
FLAT = 0.1  # a training loss that fell by less than this fraction of its start is flat
VAL_RISE = 1.2  # overfitting: the validation loss ends this many times above its best...
GAP = 2.0  # ...and this many times above the training loss


def diagnose(train_losses, val_losses, grad_norms):
    """Name the failure a run's curves show, or "healthy"."""
    train = np.asarray(train_losses, dtype=np.float64)  # (T,)
    val = np.asarray(val_losses, dtype=np.float64)  # (E,)
    norms = np.asarray(grad_norms, dtype=np.float64)  # (T, L)
    k = max(1, len(train) // 10)  # a tenth of the run: "the start" and "the end"
    k_val = max(1, len(val) // 10)

    # 1. Anything non-finite: the run blew up. Checked first, because NaN compares
    #    False with everything and would slip through every rule below.
    if not (np.isfinite(train).all() and np.isfinite(val).all() and np.isfinite(norms).all()):
        return "lr_too_high"

    # 2. Gradients across depth, at the start of training (later the output layer may
    #    have fitted all it can and its gradient shrinks, which says nothing about depth).
    #    Input-side layer over output-side layer; one column (a global norm) says nothing.
    if norms.shape[1] > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.median(norms[:k, 0]) / np.median(norms[:k, -1])
        if ratio > DEPTH_RATIO:
            return "exploding_gradients"
        if ratio < 1 / DEPTH_RATIO:
            return "vanishing_gradients"

    # 3. The training loss ends higher than it started: diverged without a NaN.
    start = train[0]
    end = np.median(train[-k:])  # the median of the last tenth: robust to one bad step
    if end > start:
        return "lr_too_high"

    # 4. It barely moved: relative decrease, so the rule does not depend on the loss's units.
    if (start - end) / start < FLAT:
        return "lr_too_low"

    # 5. Validation turned up while training fell: measured at the END of the run, where
    #    overfitting shows (at the start, train and val losses agree).
    val_end = np.median(val[-k_val:])
    if val_end > VAL_RISE * val.min() and val_end > GAP * end:
        return "overfitting"
    return "healthy"
