"""Layer normalization and group normalization (instance norm is a special case).

Implement with NumPy. Unlike batch norm, these normalise each example on its own: no
batch statistics, no running averages, the same computation in training and eval.

    layer norm:  statistics over the trailing normalized_shape axes of each example
    group norm:  split the C channels into G groups of C // G consecutive channels;
                 statistics over each group's channels and pixels, per example
    instance norm = group norm with G = C;  G = 1 normalises like layer norm over
                 (C, *spatial), but with a per-channel gamma and beta

Run: pytest katas/02_training/test_normalization.py
"""

import numpy as np


def layernorm_forward(
    x: np.ndarray,
    normalized_shape: tuple[int, ...],
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float = 1e-5,
) -> tuple[np.ndarray, object]:
    """Normalise over the trailing axes of each example, then scale and shift elementwise.

    Math:
        k = len(normalized_shape); statistics over the last k axes of x:
        mu = mean(x);  var = mean((x - mu)^2)   (biased: divide by the count)
        xhat = (x - mu) / sqrt(var + eps);  out = gamma * xhat + beta

    Shapes:
        x: (*lead, *normalized_shape), e.g. (N, T, E) with normalized_shape (E,);
        gamma, beta: normalized_shape; out: x's shape.

    Args:
        x: the input, any memory layout.
        normalized_shape: the trailing dims to normalise over, a tuple like (E,) or (H, W).
        gamma, beta: the elementwise scale and shift (weight and bias in torch).
        eps: added to the variance inside the square root.

    Returns:
        out: x's shape and dtype.
        cache: whatever layernorm_backward needs (any object you like).

    Numerics:
        Keep x's dtype. Variance as the mean of (x - mu)^2 (two passes). A constant
        row has var = 0: eps keeps it finite. Inputs are never modified.

    Reference:
        torch.nn.functional.layer_norm(x, normalized_shape, gamma, beta, eps); nn.LayerNorm.
    """
    raise NotImplementedError


def layernorm_backward(
    dout: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the loss w.r.t. x, gamma and beta for layer norm.

    Math:
        per example, means over the normalised axes:
        dxhat = dout * gamma
        dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
        dgamma = sum over the leading axes of dout * xhat;  dbeta = sum of dout over them

    Shapes:
        dout, dx: x's shape; dgamma, dbeta: normalized_shape.

    Args:
        dout: d loss / d out.
        cache: what layernorm_forward returned.

    Returns:
        (dx, dgamma, dbeta), in dout's dtype.

    Numerics:
        Reuse xhat and 1 / sqrt(var + eps) from the forward.

    Reference:
        torch.autograd through F.layer_norm: x.grad, weight.grad, bias.grad.
    """
    raise NotImplementedError


def groupnorm_forward(
    x: np.ndarray,
    num_groups: int,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float = 1e-5,
) -> tuple[np.ndarray, object]:
    """Normalise each group of consecutive channels per example; scale and shift per channel.

    Math:
        G = num_groups; group g holds channels g * C/G ... (g + 1) * C/G - 1.
        For each example n and group g, over the group's channels and all pixels:
        mu = mean(x);  var = mean((x - mu)^2)   (biased)
        xhat = (x - mu) / sqrt(var + eps);  out[:, c] = gamma[c] * xhat[:, c] + beta[c]

    Shapes:
        x: (N, C, *spatial), e.g. (N, C, H, W); gamma, beta: (C,); out: x's shape.

    Args:
        x: the input, channels on axis 1, any memory layout.
        num_groups: G; must divide C, else ValueError.
        gamma, beta: the per-channel scale and shift.
        eps: added to the variance inside the square root.

    Returns:
        out: x's shape and dtype.
        cache: whatever groupnorm_backward needs.

    Numerics:
        Keep x's dtype. A group with one value, or constant values, has var = 0: its
        xhat is 0 and out = beta. Inputs are never modified.

    Reference:
        torch.nn.functional.group_norm(x, num_groups, gamma, beta, eps); nn.GroupNorm.
        G = C is F.instance_norm with weight and bias.
    """
    raise NotImplementedError


def groupnorm_backward(
    dout: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the loss w.r.t. x, gamma and beta for group norm.

    Math:
        dxhat = dout * gamma (per channel); per example and group, means over the group:
        dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
        dgamma[c] = sum over N and pixels of dout * xhat;  dbeta[c] = sum of dout

    Shapes:
        dout, dx: x's shape; dgamma, dbeta: (C,).

    Args:
        dout: d loss / d out.
        cache: what groupnorm_forward returned.

    Returns:
        (dx, dgamma, dbeta), in dout's dtype.

    Numerics:
        The means run over groups, the sums for dgamma and dbeta over channels: two
        different groupings of the same array.

    Reference:
        torch.autograd through F.group_norm: x.grad, weight.grad, bias.grad.
    """
    raise NotImplementedError
