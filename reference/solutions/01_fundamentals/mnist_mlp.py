"""Train an MLP on MNIST with your own layers and SGD with momentum; look at its features.

The layers and the loss come in as arguments (the tests pass the layers and losses
katas), so this file is only the training: preprocessing, the optimizer step, an
epoch of minibatches, accuracy, and a picture of the first layer's weights.
References: CS231n assignment 2 (solver.py, optim.py); torch.optim.SGD's docs.
"""

import math

import numpy as np


def preprocess(images):
    """uint8 (N, 28, 28) images -> float64 (N, 784) rows in [0, 1]."""
    N = images.shape[0]
    # Pixels are 0..255; inputs of order 1 keep the first layer's pre-activations of order 1.
    return images.reshape(N, -1).astype(np.float64) / 255.0  # (N, 784)


def build_mlp(layers, sizes, rng):
    """Linear, ReLU, ..., Linear: one Linear per pair of consecutive sizes."""
    modules = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        modules.append(layers.Linear(n_in, n_out, rng))
        if i < len(sizes) - 2:  # no ReLU after the last layer: its outputs are logits
            modules.append(layers.ReLU())
    return layers.Sequential(*modules)


def sgd_momentum_step(params_and_grads, velocities, lr, momentum, weight_decay=0.0):
    """One SGD step with momentum and L2 weight decay, in place (torch.optim.SGD's rule)."""
    for (p, g), v in zip(params_and_grads, velocities):
        if weight_decay:
            g = g + weight_decay * p  # the L2 penalty's gradient; a new array: grads stay as is
        v *= momentum  # in place: the velocity must survive until the next step
        v += g
        p -= lr * v  # lr outside the velocity, as torch: a changed lr acts at once


def train_epoch(model, losses, X, y, batch_size, lr, momentum, velocities, rng, weight_decay=0.0):
    """One pass over (X, y) in shuffled minibatches; returns the mean loss per example."""
    N = X.shape[0]
    order = rng.permutation(N)  # a fresh shuffle every epoch
    total = 0.0
    for start in range(0, N, batch_size):
        idx = order[start : start + batch_size]  # the last batch may be smaller
        logits = model.forward(X[idx])  # (B, C)
        loss, dlogits = losses.softmax_cross_entropy(logits, y[idx])
        model.backward(dlogits)
        # Ask for the pairs after backward: it has just set fresh gradients.
        sgd_momentum_step(model.params_and_grads(), velocities, lr, momentum, weight_decay)
        total += float(loss) * len(idx)  # loss is a batch mean: weight it by the batch size
    return total / N


def accuracy(model, X, y):
    """Fraction of rows whose largest logit is at the true class."""
    logits = model.forward(X)  # (N, C)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def visualize_features(W1, path=None, cols=None):
    """Tile the first layer's weights into one grid image, each tile scaled to [0, 1]."""
    D, H = W1.shape
    side = int(round(math.sqrt(D)))  # 28 for MNIST
    cols = cols or math.ceil(math.sqrt(H))
    rows = math.ceil(H / cols)
    pad = 1
    tiles = W1.T.reshape(H, side, side)  # row k is hidden unit k's weights as an image
    lo = tiles.min(axis=(1, 2), keepdims=True)  # (H, 1, 1)
    span = tiles.max(axis=(1, 2), keepdims=True) - lo
    # Each tile on its own scale: units with small weights would be invisible otherwise.
    tiles = np.where(span > 0, (tiles - lo) / np.where(span > 0, span, 1), 0.0)
    image = np.full((rows * (side + pad) + pad, cols * (side + pad) + pad), 0.5)
    for k in range(H):  # a loop over tiles (not pixels): H is a few hundred at most
        top, left = pad + (k // cols) * (side + pad), pad + (k % cols) * (side + pad)
        image[top : top + side, left : left + side] = tiles[k]
    if path is not None:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt

        plt.imsave(path, image, cmap="gray", vmin=0.0, vmax=1.0)
    return image
