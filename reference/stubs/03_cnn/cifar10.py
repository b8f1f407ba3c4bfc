"""CIFAR-10: read the binary format, normalise, and train a small CNN past 75%.

Implement with PyTorch (torch.nn, torch.optim) and NumPy for the file format. CIFAR-10
is 60,000 colour images of 32x32 pixels in 10 classes. Its binary version is six files
(data_batch_1.bin ... data_batch_5.bin to train on, test_batch.bin to test on), each a
plain sequence of 10,000 records of 3,073 bytes: nothing to unpickle.

    images, labels = read_cifar_batch("~/.cache/dlkatas/cifar10/cifar-10-batches-bin/...")
    model = CifarNet(); fit(model, normalize(images), torch.from_numpy(labels), ...)

Download it with `python -m checker data cifar10` (163 MB). Without it, the tests train
your code on small generated images written in the same binary format.
Run: pytest katas/03_cnn/test_cifar10.py
"""

import os

import numpy as np
import torch
import torch.nn.functional as F  # noqa: F401  (F.cross_entropy)
from torch import nn

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
RECORD_BYTES = 1 + 3 * 32 * 32  # a label byte, then 1,024 red, 1,024 green, 1,024 blue bytes
MEAN = (0.4914, 0.4822, 0.4465)  # per-channel mean and std of the training images, in [0, 1]
STD = (0.2470, 0.2435, 0.2616)


def read_cifar_batch(source: str | os.PathLike | bytes) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch: images and labels.

    Math:
        record k = bytes [k * 3073, (k + 1) * 3073): byte 0 is the label (0-9);
        bytes 1..3072 are the image, channel by channel (1,024 red, then green, then
        blue), each channel row by row (32 rows of 32 pixels)

    Shapes:
        returns images (N, 3, 32, 32) and labels (N,), N = file size / 3073.

    Args:
        source: a file path (str or os.PathLike; expand "~" yourself if you use it), or
            the file's bytes.

    Returns:
        images: uint8, writable (torch.from_numpy warns about read-only arrays, and
            np.frombuffer over bytes gives one).
        labels: int64 class ids.

    Numerics:
        A size that is not a multiple of 3,073 means a truncated or wrong file: raise
        ValueError with a message that says "truncated" and the sizes involved, not
        NumPy's reshape error. A label byte above 9 is not CIFAR-10 (CIFAR-100 records
        carry two label bytes): raise ValueError.

    Reference:
        https://www.cs.toronto.edu/~kriz/cifar.html ("Binary version");
        torchvision.datasets.CIFAR10 reads the pickled Python version instead.
    """
    raise NotImplementedError


def normalize(
    images: np.ndarray, mean: tuple[float, ...] = MEAN, std: tuple[float, ...] = STD
) -> torch.Tensor:
    """uint8 images to a float32 tensor, scaled to [0, 1] and standardised per channel.

    Math:
        out[n, c, h, w] = (images[n, c, h, w] / 255 - mean[c]) / std[c]

    Shapes:
        images: (N, 3, H, W) uint8; returns (N, 3, H, W) float32.

    Args:
        images: as read_cifar_batch returns them (any memory layout).
        mean, std: per-channel statistics of the training set, on the [0, 1] scale.

    Returns:
        A new float32 torch.Tensor; images is not modified.

    Numerics:
        Convert to float before dividing: uint8 arithmetic wraps around.

    Reference:
        torchvision.transforms.ToTensor then Normalize(mean, std)
    """
    raise NotImplementedError


class CifarNet(nn.Module):
    """A VGG-style CNN: three stages of two conv-BN-ReLU blocks, max pooling between stages.

    Math:
        block(c_in, c_out) = Conv2d(c_in, c_out, 3, padding=1, bias=False), BatchNorm2d(c_out),
        ReLU; stage(c_in, c_out) = block(c_in, c_out), block(c_out, c_out), MaxPool2d(2)
        features = stage(3, w), stage(w, 2w), stage(2w, 4w)   (w = width)
        logits = head(mean of features over H and W)          (global average pooling)

    Shapes:
        x (N, 3, 32, 32) -> (N, w, 16, 16) -> (N, 2w, 8, 8) -> (N, 4w, 4, 4) -> (N, 4w)
        -> (N, num_classes). Any H, W divisible by 8 works.

    Args:
        num_classes: outputs of the head.
        width: channels of the first stage (w); 32 gives 288,746 parameters.

    Returns:
        forward returns logits (no softmax: F.cross_entropy takes logits).

    Numerics:
        No conv bias: BatchNorm's shift makes it redundant. Name the parts
        self.features = nn.Sequential(conv, bn, relu, conv, bn, relu, pool, ...) (21
        modules) and self.head = nn.Linear(4 * width, num_classes): the tests load
        reference weights into yours by these names (state_dict keys like
        "features.0.weight", "features.1.running_mean", "head.bias").

    Reference:
        Simonyan & Zisserman (2015), VGG, scaled down for 32x32 images; Ioffe & Szegedy
        (2015), batch normalization; Lin et al. (2014), Network in Network (global pooling).
    """

    def __init__(self, num_classes: int = 10, width: int = 32):
        """Build self.features and self.head."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of normalised images.

        Math:
            head(features(x).mean over the last two axes)

        Shapes:
            x: (N, 3, H, W) -> (N, num_classes).

        Args:
            x: float images, normalised.

        Returns:
            Logits, x's dtype.

        Numerics:
            Nothing special.

        Reference:
            torch.nn.AdaptiveAvgPool2d(1) does the same pooling.
        """
        raise NotImplementedError


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> float:
    """One pass over the training set in shuffled minibatches; the mean loss per example.

    Math:
        perm = torch.randperm(N, generator=generator)
        for each batch idx = perm[i : i + batch_size]  (the last one may be smaller):
            loss = cross_entropy(model(x[idx]), y[idx])   (mean over the batch)
            zero the gradients, backpropagate, optimizer step, then scheduler step if any
        return sum over batches of loss * batch length / N

    Shapes:
        x: (N, 3, H, W); y: (N,) int64.

    Args:
        model: put it in training mode first (BatchNorm uses batch statistics).
        optimizer: built over model.parameters().
        x, y: the whole training set as tensors.
        batch_size: examples per step.
        generator: the only source of randomness (the shuffle).
        scheduler: stepped after every optimizer step (OneCycleLR counts batches), or None.

    Returns:
        The epoch's mean training loss per example, a Python float.

    Numerics:
        Keep x's dtype (the tests train in float64). Weigh the last, smaller batch by
        its size: a mean of batch means over-counts its examples.

    Reference:
        The standard PyTorch training loop (torch.optim docs, "Taking an optimization step").
    """
    raise NotImplementedError


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Accuracy of the model's argmax predictions, in evaluation mode.

    Math:
        mean over n of [argmax_k model(x)[n, k] == y[n]]

    Shapes:
        x: (N, 3, H, W); y: (N,).

    Args:
        model: switch it to eval mode (BatchNorm's running statistics, no updates).
        x, y: the examples and their labels.
        batch_size: examples per forward pass (memory, not results).

    Returns:
        Accuracy in [0, 1], a Python float.

    Numerics:
        Run under torch.no_grad(): no graph is kept for 10,000 images.

    Reference:
        model.eval() and torch.no_grad() (torch.nn.Module.eval docs)
    """
    raise NotImplementedError


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    generator: torch.Generator,
    batch_size: int = 128,
    lr: float = 0.1,
) -> list[float]:
    """Train with SGD (Nesterov momentum 0.9, weight decay 5e-4) and a one-cycle schedule.

    Math:
        optimizer = SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                        weight_decay=5e-4)
        scheduler = OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * ceil(N / batch_size))
        then train_epoch(model, optimizer, x, y, batch_size, generator, scheduler), epochs times

    Shapes:
        x: (N, 3, H, W); y: (N,).

    Args:
        model: the network to train (in place).
        x, y: the training set.
        epochs: passes over the data.
        generator: passed on to train_epoch.
        batch_size, lr: the batch size and the peak learning rate.

    Returns:
        The mean training loss of every epoch.

    Numerics:
        OneCycleLR warms the learning rate up over the first 30% of the steps, then
        anneals it to almost 0: a large peak rate is safe, and the last epochs settle.

    Reference:
        Smith & Topin (2017), Super-convergence; torch.optim.lr_scheduler.OneCycleLR
    """
    raise NotImplementedError
