"""Oracle for 03_cnn/cifar10: the binary format written out, the reference net and loop.

The tests check read_cifar_batch against arrays they wrote themselves in CIFAR-10's
binary format, the learner's network by loading these reference weights into it by
name, and the training loop against this one run on a copy of the same model with
the same generator. Without the real data, the end-to-end test trains on
`synthetic_cifar`: ten classes of coloured shapes drawn on noise.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

RECORD_BYTES = 1 + 3 * 32 * 32
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


# ----------------------------------------------------------------------------- the format


def batch_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """CIFAR-10 binary records: a label byte, then the image's R, G, B planes, row by row."""
    n = len(labels)
    records = np.empty((n, RECORD_BYTES), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = images.reshape(n, 3 * 32 * 32)  # (N, 3, 32, 32): planes, rows, columns
    return records.tobytes()


def read_channels_last(raw: bytes) -> np.ndarray:
    """What a reader that takes the pixels as (32, 32, 3), like a PNG, gets back."""
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    return records[:, 1:].reshape(-1, 32, 32, 3).transpose(0, 3, 1, 2)


def normalize(images: np.ndarray, mean=MEAN, std=STD, *, scale=True, order="sub") -> torch.Tensor:
    """(x / 255 - mean) / std per channel, in float64; flags give the usual slips."""
    x = torch.from_numpy(np.array(images, dtype=np.float64)) / (255 if scale else 1)
    m = torch.tensor(mean, dtype=torch.float64).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).view(1, -1, 1, 1)
    return (x - m) / s if order == "sub" else x / s - m


# ----------------------------------------------------------------------------- the model


class CifarNet(nn.Module):
    """The reference network: stage(3, w), stage(w, 2w), stage(2w, 4w), GAP, linear."""

    def __init__(self, num_classes: int = 10, width: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for c_out in (width, 2 * width, 4 * width):
            for _ in range(2):
                layers += [
                    nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.ReLU(),
                ]
                c_in = c_out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(4 * width, num_classes)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


def parameter_count(num_classes: int, width: int) -> int:
    w = width
    convs = 9 * (3 * w + w * w + w * 2 * w + 4 * w * w + 2 * w * 4 * w + 16 * w * w)
    batchnorms = 2 * (2 * w + 4 * w + 8 * w)
    return convs + batchnorms + 4 * w * num_classes + num_classes


def randomize_batchnorm(model: nn.Module, generator: torch.Generator) -> None:
    """Random running statistics and affine parameters: defaults (0, 1) hide mistakes."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(c, generator=generator) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=generator) + 0.5)


# ----------------------------------------------------------------------------- training


def train_epoch(
    model,
    optimizer,
    x,
    y,
    batch_size,
    generator,
    scheduler=None,
    *,
    zero_grad=True,
    shuffle=True,
    weigh=True,
    train_mode=True,
    softmax=False,
):
    """The reference loop; the flags reproduce learner slips for the messages."""
    model.train(train_mode)
    n = len(x)
    perm = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    total, means = 0.0, []
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        if zero_grad:
            optimizer.zero_grad()
        logits = model(x[idx])
        loss = F.cross_entropy(F.softmax(logits, dim=1) if softmax else logits, y[idx])
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(idx)
        means.append(loss.item())
    return total / n if weigh else sum(means) / len(means)


def run_epoch(model, x, y, batch_size, seed, *, lr=0.05, scheduler_gamma=None, **slips):
    """A deep copy of model after one reference epoch of SGD(momentum 0.9), and its loss."""
    model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = (
        torch.optim.lr_scheduler.ExponentialLR(opt, scheduler_gamma)
        if scheduler_gamma is not None
        else None
    )
    gen = torch.Generator().manual_seed(seed)
    loss = train_epoch(model, opt, x, y, batch_size, gen, sched, **slips)
    return model, loss


def fit(model, x, y, *, epochs, generator, batch_size=128, lr=0.1, weight_decay=5e-4,
        nesterov=True, one_cycle=True):  # fmt: skip
    """The reference recipe; the flags reproduce learner slips for the messages."""
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=nesterov, weight_decay=weight_decay
    )
    steps = epochs * math.ceil(len(x) / batch_size)
    scheduler = (
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
        if one_cycle
        else None
    )
    return [
        train_epoch(model, optimizer, x, y, batch_size, generator, scheduler) for _ in range(epochs)
    ]


def accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).double().mean())


# ----------------------------------------------------------------------------- synthetic data


def synthetic_cifar(n_per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ten classes of 32x32 images: 5 shapes x 2 colours, at random places, sizes and shades.

    Class = 2 * shape + colour. Shapes: disk, square, horizontal bar, vertical bar,
    ring; colours: warm (red and green high) or cool (blue high). Background: uniform
    noise; every image gets its own brightness. A net must see shape and colour both.
    """
    n = 10 * n_per_class
    labels = np.repeat(np.arange(10), n_per_class)
    rng.shuffle(labels)
    shape, warm = labels // 2, labels % 2 == 0
    yy, xx = np.mgrid[0:32, 0:32]  # (32, 32) each
    cy, cx = rng.uniform(9, 23, (2, n))[:, :, None, None]  # (N, 1, 1) centres
    r = rng.uniform(5, 9, n)[:, None, None]  # (N, 1, 1) sizes
    dy, dx = yy - cy, xx - cx  # (N, 32, 32)
    dist = np.sqrt(dx**2 + dy**2)
    masks = np.stack(
        [
            dist <= r,  # disk
            (np.abs(dx) <= r * 0.8) & (np.abs(dy) <= r * 0.8),  # square
            (np.abs(dy) <= r * 0.35) & (np.abs(dx) <= r * 1.4),  # horizontal bar
            (np.abs(dx) <= r * 0.35) & (np.abs(dy) <= r * 1.4),  # vertical bar
            (dist <= r) & (dist >= r * 0.55),  # ring
        ]
    )  # (5, N, 32, 32)
    mask = masks[shape, np.arange(n)]  # (N, 32, 32)
    colour = np.where(warm[:, None], [[220, 160, 40]], [[40, 110, 220]])  # (N, 3)
    colour = colour * rng.uniform(0.7, 1.1, (n, 1)) + rng.normal(0, 15, (n, 3))
    images = rng.uniform(0, 110, (n, 3, 32, 32)) * rng.uniform(0.6, 1.2, (n, 1, 1, 1))
    images = np.where(mask[:, None], colour[:, :, None, None], images)
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)
