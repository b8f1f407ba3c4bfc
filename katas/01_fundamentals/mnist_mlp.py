"""Train an MLP on MNIST with your own layers and SGD with momentum; look at its features.

Implement with NumPy. The layers and the loss come in as arguments: the tests pass
your layers and losses katas once they pass (the reference ones until then, and
say which), so this file does not import them. `layers` has Linear, ReLU and
Sequential (see layers.py); `losses.softmax_cross_entropy(logits, y)` returns
(mean loss, d loss / d logits).

The training test runs, in effect:

    model = build_mlp(layers, [784, 256, 10], rng)
    velocities = [np.zeros_like(p) for p, _ in model.params_and_grads()]
    for epoch in range(epochs):
        train_epoch(model, losses, X, y, 128, lr_of(epoch), 0.9, velocities, rng)
    accuracy(model, X_test, y_test)   # at least 0.98 on full MNIST

and writes the first layer's features to a PNG with visualize_features.

Run: pytest katas/01_fundamentals/test_mnist_mlp.py
"""

import numpy as np


def preprocess(images: np.ndarray) -> np.ndarray:
    """Flatten uint8 images into float64 rows scaled to [0, 1].

    Math:
        x = pixel / 255

    Shapes:
        images: (N, 28, 28) uint8 -> (N, 784) float64; row i is image i read row by row.

    Args:
        images: MNIST images, 0..255 (not modified).

    Returns:
        A new float64 array.

    Numerics:
        Convert to float before dividing, and divide by 255 (not 256): 255 maps to 1.0.

    Reference:
        torchvision.transforms.ToTensor (x.float() / 255), then flattening.
    """
    raise NotImplementedError


def build_mlp(layers, sizes: list[int], rng: np.random.Generator):
    """An MLP of layers.Linear with layers.ReLU between them, as one layers.Sequential.

    Math:
        sizes = [784, 256, 10] -> Sequential(Linear(784, 256), ReLU(), Linear(256, 10))

    Shapes:
        One Linear(sizes[i], sizes[i + 1], rng) per consecutive pair, in order.

    Args:
        layers: the layers module (use layers.Linear, layers.ReLU, layers.Sequential).
        sizes: input size, hidden sizes..., number of classes.
        rng: passed to every Linear, in order.

    Returns:
        The Sequential. No ReLU after the last Linear: its outputs are logits.

    Numerics:
        The Linears' default init (torch's) is all the network needs.

    Reference:
        nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    """
    raise NotImplementedError


def sgd_momentum_step(
    params_and_grads: list[tuple[np.ndarray, np.ndarray]],
    velocities: list[np.ndarray],
    lr: float,
    momentum: float,
    weight_decay: float = 0.0,
) -> None:
    """One SGD-with-momentum step, updating params and velocities IN PLACE.

    Math:
        g = grad + weight_decay * p          (the gradient of 0.5 * wd * ||p||^2 added)
        v = momentum * v + g
        p = p - lr * v

    Shapes:
        velocities[i] has the shape of params_and_grads[i][0].

    Args:
        params_and_grads: (param, grad) pairs (model.params_and_grads()).
        velocities: one array per param, zeros before the first step; they carry
            the momentum from step to step.
        lr, momentum, weight_decay: as in torch.optim.SGD.

    Returns:
        None. Update p and v in place (p -= ..., v[...] = ...): rebinding a name
        (v = ...) changes nothing outside the function. Leave the grads as they are.

    Numerics:
        lr multiplies v when p is updated, not g inside v: then a new lr (a schedule)
        takes effect at once, as in torch.

    Reference:
        torch.optim.SGD(params, lr, momentum, weight_decay=...) (dampening 0, no Nesterov);
        v is its state[p]["momentum_buffer"].
    """
    raise NotImplementedError


def train_epoch(
    model,
    losses,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    lr: float,
    momentum: float,
    velocities: list[np.ndarray],
    rng: np.random.Generator,
    weight_decay: float = 0.0,
) -> float:
    """One epoch of minibatch SGD with momentum over (X, y), in a shuffled order.

    Math:
        order = rng.permutation(N); batches order[0:B], order[B:2B], ... (the last may be
        smaller). Per batch: logits = model.forward(X[idx]);
        loss, dlogits = losses.softmax_cross_entropy(logits, y[idx]);
        model.backward(dlogits); sgd_momentum_step(model.params_and_grads(), ...).

    Shapes:
        X: (N, D) float64; y: (N,) int64 class ids.

    Args:
        model: a layers.Sequential (build_mlp's).
        losses: the losses module.
        X, y: the training set (not modified).
        batch_size, lr, momentum, weight_decay: SGD's settings for this epoch.
        velocities: sgd_momentum_step's velocities (kept across epochs by the caller).
        rng: the only source of randomness: shuffle with rng.permutation(N).

    Returns:
        The mean training loss per example: sum over batches of loss * batch size, / N.

    Numerics:
        Call model.params_and_grads() after backward: backward sets new gradients.

    Reference:
        for xb, yb in DataLoader(..., shuffle=True): opt.zero_grad();
        F.cross_entropy(model(xb), yb).backward(); opt.step()
    """
    raise NotImplementedError


def accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """The fraction of examples whose largest logit is the true class.

    Math:
        mean over i of [argmax_c logits[i, c] == y[i]]

    Shapes:
        X: (N, D); y: (N,); logits = model.forward(X): (N, C).

    Args:
        model: anything with forward(X) -> logits.
        X, y: examples and their labels (not modified).

    Returns:
        A Python float in [0, 1].

    Numerics:
        Ties go to the first largest logit (np.argmax's rule, as torch.argmax on CPU).

    Reference:
        (model(X).argmax(dim=1) == y).float().mean()
    """
    raise NotImplementedError


def visualize_features(W1: np.ndarray, path=None, cols: int | None = None) -> np.ndarray:
    """Tile the first layer's weights into one image: one 28 x 28 tile per hidden unit.

    Math:
        tile k = W1[:, k].reshape(28, 28), scaled to [0, 1] on its own:
        (t - t.min()) / (t.max() - t.min()), or all zeros when t is constant.

    Shapes:
        W1: (D, H) with D = side * side (784 = 28 * 28). cols = ceil(sqrt(H)) unless
        given, rows = ceil(H / cols). Image: (rows * (side + 1) + 1, cols * (side + 1) + 1),
        filled with 0.5; tile k goes at row r = k // cols, column c = k % cols, its top-left
        pixel at (1 + r * (side + 1), 1 + c * (side + 1)): a 1-pixel border of 0.5 around
        and between the tiles; cells without a tile stay 0.5.

    Args:
        W1: the first Linear's params["W"] (not modified).
        path: if given, also write the image there as a PNG with matplotlib:
            import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt;
            plt.imsave(path, image, cmap="gray", vmin=0, vmax=1). Import it inside the
            function: importing matplotlib is slow and needs no display this way.
        cols: tiles per row.

    Returns:
        The image, float64 (H_img, W_img), values in [0, 1].

    Numerics:
        Guard the division for a constant tile (max == min).

    Reference:
        torchvision.utils.make_grid(tiles, nrow=cols, padding=1, normalize=True,
        scale_each=True, pad_value=0.5)
    """
    raise NotImplementedError
