"""Why non-linearity is necessary: linear stacks collapse, XOR needs a bend.

Implement with NumPy. Stack as many affine layers as you like: without an
activation between them they compose into ONE affine map, which cannot compute
XOR. Put a ReLU or tanh in between and gradient descent learns XOR in a second.
Run: pytest katas/01_fundamentals/test_nonlinearity.py
"""

import numpy as np

# The four XOR points and their 0/1 targets, in the order (0,0), (0,1), (1,0), (1,1).
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)
XOR_T = np.array([[0.0], [1.0], [1.0], [0.0]])  # (4, 1)


def collapse_linear_stack(
    weights: list[np.ndarray], biases: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The single affine map (W, b) that equals a stack of affine layers.

    Math:
        f(x) = (...((x @ W_0 + b_0) @ W_1 + b_1)...) @ W_L + b_L  =  x @ W + b
        W = W_0 @ W_1 @ ... @ W_L
        b = b_0 @ W_1 @ ... @ W_L + b_1 @ W_2 @ ... @ W_L + ... + b_L
        (every bias passes through the weights of all the layers after it)

    Shapes:
        W_i: (D_i, D_{i+1}); b_i: (D_{i+1},); returns W: (D_0, D_{L+1}), b: (D_{L+1},).

    Args:
        weights, biases: one (W_i, b_i) pair per layer, in order (at least one layer).

    Returns:
        (W, b), new arrays in the weights' dtype, with x @ W + b == the stack's output.

    Numerics:
        Matrix products are associative, so the collapsed map matches the stack up to
        rounding (the "matmul" tolerance).

    Reference:
        nn.Sequential(nn.Linear, nn.Linear, ...) without activations; nn.Linear
        stores weight as (out, in), so W_i here is its weight transposed.
    """
    raise NotImplementedError


def loss_and_grads(
    params: dict[str, np.ndarray], X: np.ndarray, t: np.ndarray, activation: str
) -> tuple[float, dict[str, np.ndarray]]:
    """MSE of a 2-H-1 network and its gradients with respect to every parameter.

    Math:
        z = X @ W1 + b1;  h = act(z);  out = h @ W2 + b2
        loss = mean((out - t)^2)          (over all N rows)
        act: relu(z) = max(z, 0), relu'(z) = 1 if z > 0 else 0 (0 at z = 0, as torch);
             tanh, tanh'(z) = 1 - tanh(z)^2;  identity(z) = z, identity'(z) = 1.
        Backward: d loss / d out = 2 (out - t) / N, then the chain rule through W2,
        act and W1; a bias's gradient sums its layer's gradient over the N rows.

    Shapes:
        X: (N, D); t: (N, 1); params: W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,).

    Args:
        params: {"W1", "b1", "W2", "b2"}.
        X: inputs, one per row; t: targets.
        activation: "relu", "tanh" or "identity"; anything else raises ValueError.

    Returns:
        loss: a scalar.
        grads: {"W1", "b1", "W2", "b2"}, each the shape of its parameter.

    Numerics:
        Leave params, X and t unmodified (no in-place updates).

    Reference:
        torch.autograd: loss = F.mse_loss(out, t); loss.backward().
    """
    raise NotImplementedError


def fit_xor(
    hidden: int, activation: str, steps: int, lr: float, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Train a 2-H-1 network on XOR with full-batch gradient descent.

    Math:
        Initialise (in this order):
            W1 = rng.standard_normal((2, hidden));  b1 = zeros(hidden)
            W2 = rng.standard_normal((hidden, 1)) / sqrt(hidden);  b2 = zeros(1)
        Repeat `steps` times, on all four XOR points (XOR_X, XOR_T):
            p <- p - lr * d loss / d p        for every parameter p
        Return the trained params and the network's outputs on XOR_X.
        Good settings: hidden=16, steps=1000, lr=0.05 (the tests use these).

    Shapes:
        returns params as in loss_and_grads (D = 2), outputs: (4,).

    Args:
        hidden: H, the number of hidden units.
        activation: "relu", "tanh" or "identity" (no non-linearity at all).
        steps: how many gradient-descent steps.
        lr: the learning rate.
        rng: the only source of randomness (the initial weights).

    Returns:
        (params, outputs): the trained parameters, and out for XOR_X's four rows in
        order. out > 0.5 predicts 1.

    Numerics:
        With "identity" the network is affine, so its outputs always satisfy
        out(0,0) + out(1,1) = out(0,1) + out(1,0): it can never put both 1s above 0.5
        and both 0s below. Its best MSE is 0.25 (every output 0.5).

    Reference:
        torch.optim.SGD(params, lr) on F.mse_loss, full batch.
    """
    raise NotImplementedError
