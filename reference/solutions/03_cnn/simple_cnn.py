"""A small CNN from your own pieces: conv -> ReLU -> max-pool blocks, then a dense layer.

The convolution and the pooling come in as arguments (the tests pass the conv2d and
pooling katas: yours once they pass), and so does the loss (section 01's losses kata);
this file wires them into a network, runs its backward pass in reverse, and trains it.
References: LeCun et al. 1998 (LeNet-5); CS231n assignment 2 (cnn.py, layer_utils.py).
"""

import numpy as np


def init_params(
    rng, in_shape=(1, 28, 28), channels=(8, 16), kernel_size=5, num_classes=10, dtype=np.float32
):
    """He-initialised weights and zero biases for len(channels) conv blocks and a dense layer."""
    C, H, W = in_shape
    params = {}
    for i, c_out in enumerate(channels, start=1):
        fan_in = C * kernel_size * kernel_size  # inputs one output pixel sees: C_in x kH x kW
        w = rng.standard_normal((c_out, C, kernel_size, kernel_size)) * np.sqrt(2.0 / fan_in)
        params[f"conv{i}.W"] = w.astype(dtype)  # (C_out, C_in, k, k), torch's layout
        params[f"conv{i}.b"] = np.zeros(c_out, dtype=dtype)
        # A valid convolution shrinks each side by k - 1; the 2x2 pool halves it (rounding down).
        C, H, W = c_out, (H - kernel_size + 1) // 2, (W - kernel_size + 1) // 2
        if H < 1 or W < 1:
            raise ValueError(f"in_shape {in_shape} is too small for {len(channels)} blocks")
    D = C * H * W  # the flattened feature size the dense layer sees
    params["fc.W"] = (rng.standard_normal((D, num_classes)) * np.sqrt(2.0 / D)).astype(dtype)
    params["fc.b"] = np.zeros(num_classes, dtype=dtype)
    return params


def forward(params, x, conv, pool):
    """Logits of the network for a batch of images, and the cache backward needs."""
    n_blocks = sum(1 for key in params if key.startswith("conv") and key.endswith(".W"))
    h, blocks = x, []
    for i in range(1, n_blocks + 1):
        z, conv_cache = conv.conv2d_forward(h, params[f"conv{i}.W"], params[f"conv{i}.b"])
        a = np.maximum(z, 0)  # (N, C_i, H_i, W_i)
        h, pool_cache = pool.maxpool2d_forward(a, 2)  # (N, C_i, H_i // 2, W_i // 2)
        blocks.append((conv_cache, z > 0, pool_cache))  # the ReLU's mask: where z was positive
    # Flatten in torch's order (channel, then row, then column): h is C-contiguous (N, C, H, W).
    flat = h.reshape(h.shape[0], -1)  # (N, D)
    logits = flat @ params["fc.W"] + params["fc.b"]  # (N, K)
    cache = {"blocks": blocks, "flat": flat, "pooled_shape": h.shape, "fc.W": params["fc.W"]}
    return logits, cache


def backward(dlogits, cache, conv, pool):
    """Gradients of the loss for every parameter, given dloss/dlogits; same keys as params."""
    grads = {}
    # dlogits is the gradient of the batch-mean loss: the 1/N is already in it, so sum here.
    grads["fc.W"] = cache["flat"].T @ dlogits  # (D, K)
    grads["fc.b"] = dlogits.sum(axis=0)  # (K,)
    # Undo the flatten with the same order the forward pass used.
    dh = (dlogits @ cache["fc.W"].T).reshape(cache["pooled_shape"])  # (N, C, H, W)
    for i in range(len(cache["blocks"]), 0, -1):  # the blocks in reverse order
        conv_cache, positive, pool_cache = cache["blocks"][i - 1]
        da = pool.maxpool2d_backward(dh, pool_cache)  # (N, C_i, H_i, W_i)
        dz = da * positive  # ReLU passes the gradient only where its input was positive
        dh, grads[f"conv{i}.W"], grads[f"conv{i}.b"] = conv.conv2d_backward(dz, conv_cache)
    return grads


def train_epoch(params, velocities, x, y, conv, pool, losses, lr, momentum, batch_size, rng):
    """One shuffled pass of minibatch SGD with momentum, in place; the mean loss per example."""
    N = x.shape[0]
    order = rng.permutation(N)  # a fresh shuffle every epoch
    total = 0.0
    for start in range(0, N, batch_size):
        idx = order[start : start + batch_size]  # the same indices for images and labels
        logits, cache = forward(params, x[idx], conv, pool)
        loss, dlogits = losses.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, cache, conv, pool)
        for key, p in params.items():  # SGD with momentum, as torch.optim.SGD
            v = velocities[key]
            v *= momentum  # in place: the velocity must survive until the next step
            v += grads[key]
            p -= lr * v  # in place: the caller's arrays are the model
        total += float(loss) * len(idx)  # loss is a batch mean: weight it by the batch size
    return total / N


def accuracy(params, x, y, conv, pool, batch_size=1000):
    """Fraction of images whose largest logit is the true class (forward in batches)."""
    correct = 0
    for start in range(0, x.shape[0], batch_size):
        logits, _ = forward(params, x[start : start + batch_size], conv, pool)
        correct += int(np.sum(np.argmax(logits, axis=1) == y[start : start + batch_size]))
    return correct / x.shape[0]
