"""Transfer learning: reuse a CNN pretrained on digits 0-4 to learn digits 5-9 from few labels.

Three ways to learn the new task from the same 20 labelled images per class:
feature extraction (the pretrained backbone frozen, only a new head trained),
fine-tuning (everything trained, the backbone with a smaller learning rate, through
optimizer parameter groups) and training from scratch. The "pretrained model" is
your own SmallCNN, trained on digits 0-4 by the tests: nothing is downloaded.
References: Yosinski et al., "How transferable are features in deep neural networks?"
(2014); PyTorch's "Transfer Learning for Computer Vision" tutorial; torch.optim's
per-parameter options.
"""

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

VARIANTS = ("feature_extraction", "fine_tuning", "scratch")


class SmallCNN(nn.Module):
    """A small CNN for 28x28 digits, split into a feature extractor and a classifier."""

    def __init__(self, n_classes: int = 5, width: int = 8):
        """Build self.backbone (nn.Sequential), self.head (nn.Linear); keep self.width."""
        super().__init__()
        self.width = width
        self.backbone = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, width, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 2 * width, 7, 7)
            nn.Flatten(),  # (N, 2 * width * 49)
        )
        self.head = nn.Linear(2 * width * 7 * 7, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))  # (N, n_classes) logits


def select_digits(
    images: np.ndarray,
    labels: np.ndarray,
    digits: Sequence[int],
    n_per_class: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of some digits as a float tensor in [0, 1], labels renumbered 0..K-1."""
    picked = []
    for d in digits:
        idx = np.flatnonzero(labels == d)
        if n_per_class is not None:
            idx = rng.choice(idx, size=n_per_class, replace=False)
        picked.append(idx)
    idx = np.concatenate(picked)
    if n_per_class is None:
        idx = np.sort(idx)  # the original order
    # digits[k] becomes class k: a lookup table from digit to its position in `digits`
    lookup = np.full(10, -1, dtype=np.int64)
    lookup[np.asarray(digits)] = np.arange(len(digits))
    X = torch.from_numpy(images[idx].astype(np.float32) / 255)[:, None]  # (M, 1, 28, 28)
    y = torch.from_numpy(lookup[labels[idx]])  # (M,)
    return X, y


def freeze(module: nn.Module) -> nn.Module:
    """Stop a module from learning: no gradients, and BatchNorm on its running statistics."""
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()
    return module


def replace_head(model: SmallCNN, n_classes: int) -> SmallCNN:
    """Swap the classifier for a freshly initialised one with n_classes outputs."""
    model.head = nn.Linear(model.head.in_features, n_classes)
    return model


def param_groups(model: SmallCNN, lr_backbone: float, lr_head: float) -> list[dict]:
    """Optimizer parameter groups: the trainable backbone and head parameters, each its lr."""
    groups = []
    for part, lr in ((model.backbone, lr_backbone), (model.head, lr_head)):
        params = [p for p in part.parameters() if p.requires_grad]  # frozen ones stay out
        if params:
            groups.append({"params": params, "lr": lr})
    return groups


def _frozen_batchnorm_to_eval(model: nn.Module) -> None:
    """model.train() switched every BatchNorm to train mode; put the frozen ones back."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not any(
            p.requires_grad for p in m.parameters()
        ):
            m.eval()


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
) -> list[float]:
    """Mini-batch training with cross-entropy; the mean loss of every epoch."""
    history = []
    for _ in range(epochs):
        model.train()  # evaluate() leaves the model in eval mode
        _frozen_batchnorm_to_eval(model)  # a frozen backbone's statistics must not drift
        order = torch.from_numpy(rng.permutation(len(X)))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        history.append(total / len(X))
    return history


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Accuracy in eval mode (BatchNorm on running statistics), a float in [0, 1]."""
    model.eval()
    correct = 0
    for start in range(0, len(X), batch_size):
        logits = model(X[start : start + batch_size])  # (B, n_classes)
        correct += int((logits.argmax(dim=1) == y[start : start + batch_size]).sum())
    return correct / len(X)


def run_transfer_experiment(
    pretrained: SmallCNN,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    seed: int,
    epochs: int = 10,
    batch_size: int = 20,
    lr_head: float = 0.05,
    lr_backbone: float = 0.005,
) -> dict[str, float]:
    """Feature extraction, fine-tuning and scratch on the same few labels; test accuracies."""
    n_classes = int(y_train.max()) + 1
    results = {}
    for variant in VARIANTS:
        torch.manual_seed(seed)  # the same fresh head for every variant
        rng = np.random.default_rng(seed)  # and the same order of batches
        if variant == "scratch":
            model = SmallCNN(n_classes, width=pretrained.width)
            groups = param_groups(model, lr_head, lr_head)
        else:
            model = replace_head(copy.deepcopy(pretrained), n_classes)  # pretrained stays intact
            if variant == "feature_extraction":
                freeze(model.backbone)
            groups = param_groups(model, lr_backbone, lr_head)
        optimizer = torch.optim.SGD(groups, momentum=0.9)
        train(model, optimizer, X_train, y_train, epochs=epochs, batch_size=batch_size, rng=rng)
        results[variant] = evaluate(model, X_test, y_test)
    return results
