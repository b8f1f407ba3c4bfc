"""The dying ReLU problem: find dead units, see that they get no gradient, and kill some.

Implement with NumPy. The layer is h = relu(X @ W + b). Unit j is dead on a dataset when
its pre-activation z_nj = X[n] @ W[:, j] + b[j] is <= 0 for every example n: ReLU's
gradient is 0 there, so no example sends its weights any gradient and gradient descent
cannot bring it back. Leaky ReLU keeps a small slope for z <= 0 and so keeps learning.
Run: pytest katas/01_fundamentals/test_dying_relu.py
"""

import numpy as np


def dead_units(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which units of the layer relu(X @ W + b) are dead on the batch X.

    Math:
        Z = X @ W + b;  dead_j = (Z_nj <= 0 for every example n)
        "<= 0", not "< 0": torch's relu'(0) = 0, so a unit sitting at exactly 0 learns nothing.

    Shapes:
        X: (N, D); W: (D, H); b: (H,); returns (H,), one answer per unit.

    Args:
        X: a batch of N inputs, one per row.
        W, b: the layer's weights and biases.

    Returns:
        Boolean array (H,): True where the unit is dead on every example of X.

    Numerics:
        Reduce over the batch axis (axis 0). Not the first example only, not the mean
        pre-activation: one positive example is enough to keep a unit alive.

    Reference:
        torch: z.requires_grad_(); F.relu(z).sum().backward(); (z.grad == 0).all(dim=0)
    """
    raise NotImplementedError


def dead_fraction(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    """Fraction of the layer's units that are dead on X.

    Math:
        (number of dead units) / H

    Shapes:
        X: (N, D); W: (D, H); b: (H,); returns a scalar.

    Args:
        X, W, b: as in dead_units.

    Returns:
        A Python float in [0, 1].

    Numerics:
        Count units, not (example, unit) pairs that happen to be off.

    Reference:
        the torch dead_units above, .double().mean()
    """
    raise NotImplementedError


def relu_layer_grads(
    X: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray, negative_slope: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of L = sum(dout * leaky_relu(X @ W + b, negative_slope)) w.r.t. W and b.

    Math:
        Z = X @ W + b;  slope = 1 where Z > 0, negative_slope where Z <= 0
        dZ = dout * slope;  dW = X^T @ dZ;  db = sum_n dZ
        negative_slope = 0 is plain ReLU.

    Shapes:
        X: (N, D); W: (D, H); b: (H,); dout: (N, H); returns dW (D, H), db (H,).

    Args:
        X, W, b: the layer's input and parameters.
        dout: upstream gradient dL/dh, one row per example.
        negative_slope: leaky ReLU's slope for Z <= 0 (0.0: ReLU).

    Returns:
        (dW, db), in X's dtype.

    Numerics:
        At Z == 0 exactly use negative_slope (torch's convention for both ReLU and leaky).

    Reference:
        torch.nn.functional.leaky_relu(X @ W + b, negative_slope).backward(dout); W.grad, b.grad
    """
    raise NotImplementedError


def relu_layer_grad_norms(
    X: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray, negative_slope: float = 0.0
) -> np.ndarray:
    """The L2 norm of dL/dW for each unit: how much each unit's weights would move.

    Math:
        norm_j = sqrt(sum_d dW[d, j]^2), dW from relu_layer_grads

    Shapes:
        X: (N, D); W: (D, H); b: (H,); dout: (N, H); returns (H,).

    Args:
        As relu_layer_grads.

    Returns:
        (H,) non-negative norms; exactly 0 for a dead ReLU unit.

    Numerics:
        One norm per column of dW (axis 0), not one for the whole matrix.

    Reference:
        W.grad.norm(dim=0) after the torch backward above
    """
    raise NotImplementedError


def sgd_step(
    X: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    dout: np.ndarray,
    lr: float,
    negative_slope: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One gradient-descent step on W and b; a large lr is how units die in practice.

    Math:
        W_new = W - lr * dW;  b_new = b - lr * db   (dW, db from relu_layer_grads)

    Shapes:
        X: (N, D); W: (D, H); b: (H,); dout: (N, H); returns W_new (D, H), b_new (H,).

    Args:
        X, W, b, dout, negative_slope: as in relu_layer_grads.
        lr: the learning rate.

    Returns:
        (W_new, b_new): new arrays; W and b are left as they were.

    Numerics:
        Do not update in place (no W -= ...): the caller still holds W and b.

    Reference:
        torch.optim.SGD([W, b], lr=lr).step() after the backward above
    """
    raise NotImplementedError
