"""Backpropagation by hand: the loss and every gradient of a two-layer network.

Implement with NumPy: a forward pass that keeps what the backward pass needs, then
the chain rule applied layer by layer, from the loss back to W1. For the intuition,
read CS231n's notes "Backprop, Intuitions" and Andrej Karpathy's "Yes you should
understand backprop" (why knowing the gradients by hand matters even with autograd).
Run: pytest katas/01_fundamentals/test_backprop.py
"""

import numpy as np


def two_layer_net(
    X: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    reg: float = 0.0,
) -> tuple[float, dict[str, np.ndarray]]:
    """Softmax cross-entropy loss of a ReLU two-layer net and its gradients.

    Math:
        z = X @ W1 + b1;  h = relu(z);  s = h @ W2 + b2          (scores, or logits)
        p = softmax(s) row by row
        loss = -(1/N) sum_i log p[i, y_i] + 0.5 * reg * (sum(W1^2) + sum(W2^2))
        Backward, one chain-rule step at a time:
        ds = (p - onehot(y)) / N;   dW2 = h.T @ ds + reg * W2;   db2 = sum of ds over rows
        dh = ds @ W2.T;   dz = dh * [z > 0];   dW1 = X.T @ dz + reg * W1;   db1 = sum of dz

    Shapes:
        X: (N, D); y: (N,) ints in [0, C); W1: (D, H); b1: (H,); W2: (H, C); b2: (C,).
        z, h: (N, H); s, p: (N, C).

    Args:
        X: a batch of N examples, one per row.
        y: the class id of every example.
        W1, b1, W2, b2: the parameters of the two affine layers.
        reg: L2 regularisation strength (the 0.5 makes its gradient reg * W).

    Returns:
        loss: a scalar of X's dtype (np.float32 for float32 inputs; a Python float is fine
            for float64).
        grads: {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, each the shape and dtype of
            its parameter.

    Numerics:
        Subtract each row's max score before exp: exp(1000) overflows to inf and
        inf / inf is nan; the softmax is unchanged by the shift. Take the log as
        shifted - log(sum(exp(shifted))), not log(p): with large scores p of the true
        class can underflow to 0 and log(0) = -inf. relu'(0) = 0, as in torch.
        Keep X's dtype (float32 in, float32 out). Inputs are not modified.

    Reference:
        torch: F.cross_entropy(relu(X @ W1 + b1) @ W2 + b2, y) + 0.5 * reg * (W1**2 + W2**2)
        summed, then torch.autograd.grad(loss, [W1, b1, W2, b2]).
    """
    raise NotImplementedError
