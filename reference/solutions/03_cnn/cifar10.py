"""CIFAR-10: read the binary format, normalise, and train a small CNN past 75%.

The binary version of CIFAR-10 is a sequence of 3,073-byte records (a label, then the
red, green and blue planes of a 32x32 image): NumPy reads it in one call, nothing is
unpickled. The network is a scaled-down VGG with batch normalisation and global average
pooling; it is trained with SGD, Nesterov momentum and a one-cycle learning rate.
References: Krizhevsky (2009), Learning Multiple Layers of Features from Tiny Images;
Simonyan & Zisserman (2015), VGG; Ioffe & Szegedy (2015), BatchNorm; Smith & Topin
(2017), Super-convergence.
"""

import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
RECORD_BYTES = 1 + 3 * 32 * 32  # a label byte, then 1,024 red, 1,024 green, 1,024 blue bytes
MEAN = (0.4914, 0.4822, 0.4465)  # per-channel mean and std of the training images, in [0, 1]
STD = (0.2470, 0.2435, 0.2616)


def read_cifar_batch(source: str | os.PathLike | bytes) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch: images (N, 3, 32, 32) uint8 and labels (N,) int64."""
    raw = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    if len(raw) % RECORD_BYTES:
        raise ValueError(
            f"{len(raw):,} bytes is not a whole number of {RECORD_BYTES:,}-byte records "
            f"({len(raw) // RECORD_BYTES:,} records and {len(raw) % RECORD_BYTES:,} bytes "
            "over): a truncated or wrong file"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)  # (N, 3073)
    labels = records[:, 0].astype(np.int64)
    if labels.size and labels.max() > 9:
        raise ValueError(
            f"label byte {labels.max()} is not a CIFAR-10 class (0-9): is this CIFAR-100, "
            "whose records carry two label bytes?"
        )
    # Channel planes, each row by row: (3072,) -> (3, 32, 32) is a plain reshape.
    # np.frombuffer over bytes is read-only: copy into a writable array.
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()
    return images, labels


def normalize(images: np.ndarray, mean=MEAN, std=STD) -> torch.Tensor:
    """uint8 images to a float32 tensor in [0, 1], standardised per channel."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float() / 255  # (N, 3, H, W)
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)  # broadcast over N, H, W
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x - m) / s


class CifarNet(nn.Module):
    """A VGG-style CNN: three stages of two conv-BN-ReLU blocks, max pooling between stages."""

    def __init__(self, num_classes: int = 10, width: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for c_out in (width, 2 * width, 4 * width):  # 32x32 -> 16x16 -> 8x8 -> 4x4
            for _ in range(2):
                # No conv bias: BatchNorm subtracts the mean right after, bias and all.
                layers += [
                    nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.ReLU(inplace=True),
                ]
                c_in = c_out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(4 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (N, 4w, H/8, W/8)
        x = x.mean(dim=(2, 3))  # global average pooling: (N, 4w)
        return self.head(x)  # (N, num_classes) logits


def train_epoch(model, optimizer, x, y, batch_size, generator, scheduler=None) -> float:
    """One shuffled pass over (x, y); returns the mean loss per example."""
    model.train()  # BatchNorm: batch statistics, running averages updated
    n = len(x)
    perm = torch.randperm(n, generator=generator)
    total = 0.0
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        loss = F.cross_entropy(model(x[idx]), y[idx])  # logits in: log_softmax is inside
        optimizer.zero_grad()  # .backward() adds to .grad: clear the last step's first
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()  # OneCycleLR counts optimizer steps, not epochs
        total += loss.item() * len(idx)  # the last batch may be smaller: weigh by size
    return total / n


def evaluate(model, x, y, batch_size=1000) -> float:
    """Accuracy in eval mode, without building a graph."""
    model.eval()  # BatchNorm: running statistics, and no updates to them
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(x[start : start + batch_size])
            correct += int((logits.argmax(dim=1) == y[start : start + batch_size]).sum())
    return correct / len(x)


def fit(model, x, y, *, epochs, generator, batch_size=128, lr=0.1) -> list[float]:
    """SGD with Nesterov momentum and weight decay, under a one-cycle learning rate."""
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    steps = epochs * math.ceil(len(x) / batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    return [
        train_epoch(model, optimizer, x, y, batch_size, generator, scheduler) for _ in range(epochs)
    ]
