"""Read the curves: name what is wrong with a training run.

Implement with NumPy. The tests train small torch networks that fail in known ways (too
high a learning rate, too low, a wide net on a few noisy samples, a deep sigmoid net, a
deep tanh net initialised far too large, and a sensible run), log what you would log,
and ask your function what went wrong. Run: pytest katas/02_training/test_diagnose.py
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


def diagnose(train_losses: np.ndarray, val_losses: np.ndarray, grad_norms: np.ndarray) -> str:
    """Name the failure a run's loss curves and gradient norms show, or "healthy".

    Math:
        k = max(1, T // 10) and k_val = max(1, E // 10): "a tenth" of each curve.
        start = train_losses[0];  end = median(train_losses[-k:])
        ratio = median(grad_norms[:k, 0]) / median(grad_norms[:k, -1])
        val_end = median(val_losses[-k_val:])
        The first rule that fires names the run (the order is part of the answer):
        1. any NaN or inf in either loss curve or in grad_norms      -> "lr_too_high"
        2. L > 1 and ratio > DEPTH_RATIO                             -> "exploding_gradients"
           L > 1 and ratio < 1 / DEPTH_RATIO                         -> "vanishing_gradients"
        3. end > start (diverged without a NaN)                      -> "lr_too_high"
        4. (start - end) / start < FLAT (the loss barely moved)      -> "lr_too_low"
        5. val_end > VAL_RISE * min(val_losses) and val_end > GAP * end -> "overfitting"
        6. otherwise                                                 -> "healthy"

    Shapes:
        train_losses: (T,), the training loss at every step, before that step's update.
        val_losses: (E,), the validation loss at E evenly spaced evaluations (E != T).
        grad_norms: (T, L), per step and per layer the L2 norm of that layer's gradient
            (weights and bias together); column 0 is the layer nearest the input, column
            L-1 the output layer. L = 1 when only the global norm was logged.

    Args:
        train_losses, val_losses, grad_norms: float arrays (float32 or float64, any memory
            layout), not modified.

    Returns:
        One of LABELS, a str.

    Numerics:
        NaN compares False with everything: rule 1 must come first, or a run that blew up
        slips through every later rule. The depth ratio is read at the START of training
        (later the output layer may have fitted all it can and its gradient shrinks); the
        train/val gap at the END (at the start both losses agree). Every rule compares
        ratios, so the answer does not depend on the units of the loss or of the norms.
        If the ratio is 0/0 (no gradient at all), neither depth rule fires.

    Reference:
        No torch function: the tests run real torch trainings (reference/oracles/diagnose.py)
        whose failure is known from the recipe. Karpathy, "A Recipe for Training Neural
        Networks" (2019); Glorot & Bengio (2010) for gradients across depth.
    """
    raise NotImplementedError
