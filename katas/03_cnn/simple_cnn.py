"""A small CNN from your own NumPy pieces: conv -> ReLU -> max-pool blocks, then a dense layer.

Implement with NumPy. The convolution and the pooling are not written here: they come in
as arguments, `conv` (the conv2d kata: conv2d_forward / conv2d_backward) and `pool` (the
pooling kata: maxpool2d_forward / maxpool2d_backward), and `losses` (section 01's
softmax_cross_entropy). The tests pass yours once those katas pass, the reference ones
until then. This kata is the wiring: shapes through the blocks, the flatten, the backward
pass in reverse, and training on MNIST.
Run: pytest katas/03_cnn/test_simple_cnn.py
"""

import numpy as np


def init_params(
    rng: np.random.Generator,
    in_shape: tuple[int, int, int] = (1, 28, 28),
    channels: tuple[int, ...] = (8, 16),
    kernel_size: int = 5,
    num_classes: int = 10,
    dtype=np.float32,
) -> dict[str, np.ndarray]:
    """He-initialised weights and zero biases for len(channels) conv blocks and a dense layer.

    Math:
        Block i: a valid conv (stride 1, no padding) with channels[i] filters of
        kernel_size x kernel_size, ReLU, 2x2 max-pool (stride 2, rounding down).
        Each side goes H -> (H - kernel_size + 1) // 2. Then a dense layer from the
        D = C_last * H_last * W_last flattened features to num_classes logits.
        He (Kaiming) normal: W ~ N(0, 2 / fan_in), fan_in = C_in * k * k for a conv,
        D for the dense layer. Biases 0.

    Shapes:
        in_shape = (C, H, W) of one image.
        "conv{i}.W": (channels[i-1], C_in, k, k), torch's layout; "conv{i}.b": (channels[i-1],)
        for i = 1..len(channels), C_in = C for i = 1, channels[i-2] after that.
        "fc.W": (D, num_classes) (nn.Linear's weight transposed); "fc.b": (num_classes,).

    Args:
        rng: the source of randomness (draw every weight from it).
        in_shape, channels, kernel_size, num_classes: the architecture.
        dtype: of every array (the MNIST test trains in float32: half float64's memory).

    Returns:
        A dict with exactly the keys above.

    Numerics:
        He's variance keeps the activations' scale steady through ReLU layers.
        Raise ValueError when a block would shrink a side below 1.

    Reference:
        nn.Conv2d, nn.Linear; nn.init.kaiming_normal_(w, nonlinearity="relu").
    """
    raise NotImplementedError


def forward(params: dict[str, np.ndarray], x: np.ndarray, conv, pool) -> tuple[np.ndarray, dict]:
    """Logits of the network for a batch of images, and the cache backward needs.

    Math:
        h_0 = x;  z_i = conv2d(h_{i-1}, W_i, b_i);  h_i = maxpool2(relu(z_i))
        logits = flatten(h_last) @ fc.W + fc.b

    Shapes:
        x: (N, C, H, W); z_i: (N, C_i, H_i, W_i); h_i: (N, C_i, H_i // 2, W_i // 2);
        flatten(h_last): (N, D) in torch's order, channel then row then column;
        logits: (N, K).

    Args:
        params: as init_params returns (the number of "conv{i}.W" keys is the depth).
        x: a batch of images (may be a non-contiguous view).
        conv: has conv2d_forward(x, w, b) -> (out, cache) and conv2d_backward.
        pool: has maxpool2d_forward(x, kernel_size) -> (out, cache) and maxpool2d_backward.

    Returns:
        logits: (N, K), x's dtype.
        cache: anything backward needs (conv and pool caches, ReLU masks, shapes...).

    Numerics:
        Keep the dtype (float32 in, float32 out).

    Reference:
        nn.Sequential(nn.Conv2d, nn.ReLU, nn.MaxPool2d(2), ..., nn.Flatten, nn.Linear)
    """
    raise NotImplementedError


def backward(dlogits: np.ndarray, cache: dict, conv, pool) -> dict[str, np.ndarray]:
    """Gradients of the loss for every parameter, given dloss/dlogits; same keys as params.

    Math:
        fc: dW = flat^T @ dlogits, db = sum over the batch of dlogits,
        dflat = dlogits @ fc.W^T, reshaped back to h_last's shape.
        Then each block in reverse: maxpool backward, times the ReLU mask [z_i > 0],
        conv backward (which also gives dh_{i-1} for the block before).

    Shapes:
        dlogits: (N, K); every gradient has its parameter's shape and dtype.

    Args:
        dlogits: the gradient of the batch's mean loss wrt the logits (so it already
            holds the 1/N of the mean).
        cache: what forward returned; conv, pool: as for forward.

    Returns:
        {"conv1.W": ..., "conv1.b": ..., ..., "fc.W": ..., "fc.b": ...}

    Numerics:
        relu'(0) = 0, as torch: the mask is z > 0.

    Reference:
        loss.backward() on the same network; weight.grad and bias.grad of each layer.
    """
    raise NotImplementedError


def train_epoch(
    params: dict[str, np.ndarray],
    velocities: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    conv,
    pool,
    losses,
    lr: float,
    momentum: float,
    batch_size: int,
    rng: np.random.Generator,
) -> float:
    """One shuffled pass of minibatch SGD with momentum, in place; the mean loss per example.

    Math:
        order = rng.permutation(N); batches order[s : s + batch_size].
        Per batch: loss, dlogits = losses.softmax_cross_entropy(logits, y_batch);
        v = momentum * v + g;  p = p - lr * v   (torch.optim.SGD).

    Shapes:
        x: (N, C, H, W); y: (N,) integer labels; velocities: like params.

    Args:
        params, velocities: updated in place (the caller's arrays are the model).
        losses: has softmax_cross_entropy(logits, y) -> (mean loss, dlogits).
        lr, momentum, batch_size: SGD's settings (the last batch may be smaller).
        rng: draws the shuffle.

    Returns:
        The mean loss per example over the epoch (batch means weighted by batch size).

    Numerics:
        Update arrays in place (p -= ...), never rebind them.

    Reference:
        torch.optim.SGD(lr, momentum) with F.cross_entropy, one epoch.
    """
    raise NotImplementedError


def accuracy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, conv, pool,
             batch_size: int = 1000) -> float:  # fmt: skip
    """Fraction of images whose largest logit is the true class.

    Math:
        mean over n of [argmax_k logits[n, k] == y[n]]

    Shapes:
        x: (N, C, H, W); y: (N,).

    Args:
        params, conv, pool: as for forward.
        batch_size: images per forward pass (bounds the memory of the caches).

    Returns:
        A Python float in [0, 1].

    Numerics:
        Ties go to the first maximum (np.argmax), as torch.argmax.

    Reference:
        (model(x).argmax(dim=1) == y).float().mean()
    """
    raise NotImplementedError
