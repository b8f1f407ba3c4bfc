"""Transfer learning: reuse a CNN pretrained on digits 0-4 to learn digits 5-9 from few labels.

This kata is written in PyTorch. The pretrained model is your own: the training test
trains your SmallCNN on MNIST digits 0-4 (nothing is downloaded, nothing is cached),
then learns digits 5-9 from only 20 labelled images per class in three ways:

    feature extraction: copy the pretrained net, new head, freeze the backbone,
                        train the head only
    fine-tuning:        copy the pretrained net, new head, train everything, the
                        backbone with a 10x smaller learning rate (parameter groups)
    scratch:            a freshly initialised SmallCNN trained on the same 100 images

and checks that both transfers beat scratch on the 5-9 test images, averaged over
several seeds. The same pieces work for any pretrained model (a torchvision ResNet's
`fc` is its head): freeze, replace the head, give each part its learning rate.

    X, y = select_digits(images, labels, (5, 6, 7, 8, 9), n_per_class=20, rng=rng)
    model = replace_head(copy.deepcopy(pretrained), 5)
    freeze(model.backbone)
    optimizer = torch.optim.SGD(param_groups(model, 0.005, 0.05), momentum=0.9)
    train(model, optimizer, X, y, epochs=10, batch_size=20, rng=rng)
    evaluate(model, X_test, y_test)

Run: pytest katas/03_cnn/test_transfer.py
"""

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

VARIANTS = ("feature_extraction", "fine_tuning", "scratch")


class SmallCNN(nn.Module):
    """A small CNN for 28x28 digits, split into a feature extractor and a classifier."""

    def __init__(self, n_classes: int = 5, width: int = 8):
        """Build self.backbone (nn.Sequential), self.head (nn.Linear); keep self.width."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of images: the head applied to the backbone's features.

        Math:
            backbone = Conv2d(1, w, 3, padding=1) -> BatchNorm2d(w) -> ReLU -> MaxPool2d(2)
                    -> Conv2d(w, 2w, 3, padding=1) -> BatchNorm2d(2w) -> ReLU -> MaxPool2d(2)
                    -> Flatten                                   (w = width)
            head = Linear(2w * 7 * 7, n_classes);   forward(x) = head(backbone(x))

        Shapes:
            x: (N, 1, 28, 28); backbone(x): (N, 2w * 49); forward(x): (N, n_classes).

        Args:
            x: images with values in [0, 1], float32.

        Returns:
            The logits (no softmax), float32.

        Numerics:
            Two attributes, backbone and head, and nothing else with parameters: the
            transfer functions below treat "backbone" and "head" as the two parts.

        Reference:
            torchvision's ResNet has the same split (everything up to fc, then fc).
        """
        raise NotImplementedError


def select_digits(
    images: np.ndarray,
    labels: np.ndarray,
    digits: Sequence[int],
    n_per_class: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of some digits as a float tensor in [0, 1], labels renumbered 0..K-1.

    Math:
        X = images / 255;   y = k where labels == digits[k]   (digits in the order given:
        digits=(5, 6, 7, 8, 9) maps 5 -> 0 ... 9 -> 4; digits=(7, 2) maps 7 -> 0, 2 -> 1)

    Shapes:
        images: (N, 28, 28) uint8; labels: (N,) int. X: (M, 1, 28, 28); y: (M,).

    Args:
        images, labels: MNIST arrays (any memory layout; left unmodified).
        digits: the digits to keep, K of them, distinct.
        n_per_class: None keeps every image of those digits, in their original order;
            an int keeps that many of each digit, drawn without replacement with
            rng.choice, digit by digit in the order of `digits`.
        rng: the numpy Generator that draws them (needed when n_per_class is set).

    Returns:
        X float32 tensor, y int64 tensor, each image with its own label.

    Numerics:
        Divide in float32 (images.astype(np.float32) / 255): no float64 on the way.

    Reference:
        torchvision's datasets with a target_transform; torch.utils.data.Subset.
    """
    raise NotImplementedError


def freeze(module: nn.Module) -> nn.Module:
    """Stop a module from learning: no gradients, and BatchNorm on its running statistics.

    Math:
        requires_grad = False for every parameter of the module, then module.eval():
        a frozen BatchNorm normalises with its running (pretrained) statistics instead
        of each batch's, and stops updating them.

    Shapes:
        Any module; its parameters keep their shapes and values.

    Args:
        module: e.g. model.backbone.

    Returns:
        The same module object (frozen in place).

    Numerics:
        `module.requires_grad = False` only sets a Python attribute and freezes nothing:
        set it on each parameter (p.requires_grad_(False)), or module.requires_grad_(False).

    Reference:
        torch.nn.Module.requires_grad_, torch.nn.Module.eval.
    """
    raise NotImplementedError


def replace_head(model: SmallCNN, n_classes: int) -> SmallCNN:
    """Swap the classifier for a freshly initialised one with n_classes outputs.

    Math:
        model.head = Linear(model.head.in_features, n_classes), with torch's default
        initialisation (uniform in +-1/sqrt(in_features)); the backbone stays as it is.

    Shapes:
        New head weight: (n_classes, in_features); bias: (n_classes,).

    Args:
        model: a SmallCNN (pretrained, possibly frozen).
        n_classes: the new task's number of classes.

    Returns:
        The same model object, with its new head (trainable, even if the rest is frozen).

    Numerics:
        Build a new nn.Linear; changing head.out_features resizes nothing.

    Reference:
        model.fc = nn.Linear(model.fc.in_features, n) in PyTorch's transfer tutorial.
    """
    raise NotImplementedError


def param_groups(model: SmallCNN, lr_backbone: float, lr_head: float) -> list[dict]:
    """Optimizer parameter groups: the trainable backbone and head parameters, each its lr.

    Math:
        [{"params": backbone parameters with requires_grad, "lr": lr_backbone},
         {"params": head parameters with requires_grad, "lr": lr_head}]

    Shapes:
        A list of one or two dicts, backbone group first.

    Args:
        model: a SmallCNN, possibly with a frozen backbone.
        lr_backbone, lr_head: the learning rate of each part.

    Returns:
        The groups for torch.optim.SGD(groups, momentum=0.9). A part with no trainable
        parameter gets no group (a frozen backbone: only the head's group).

    Numerics:
        Frozen parameters must not reach the optimizer at all: it would keep state for
        them, and one whose .grad is a zero tensor rather than None (after
        zero_grad(set_to_none=False)) is still moved by momentum and weight decay.

    Reference:
        torch.optim per-parameter options: optim.SGD([{"params": ...}, ...], lr=...).
    """
    raise NotImplementedError


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
    """Mini-batch training with cross-entropy; the mean loss of every epoch.

    Math:
        every epoch: model.train(), then every BatchNorm whose parameters are all
        frozen back to eval(); order = rng.permutation(N); for each batch of
        batch_size in that order (the last may be smaller): zero the gradients,
        loss = F.cross_entropy(model(X_b), y_b), backward, optimizer.step().
        The epoch's loss is the mean over its N examples (batch means weighted by size).

    Shapes:
        X: (N, 1, 28, 28); y: (N,) int64 class ids. Returns a list of `epochs` floats.

    Args:
        model, optimizer: the optimizer holds (some of) the model's parameters.
        epochs, batch_size: how long, and how many examples per step.
        rng: draws one permutation per epoch (nothing else).

    Returns:
        [mean loss of epoch 1, ..., of epoch `epochs`], Python floats.

    Numerics:
        model.train() puts every BatchNorm in train mode, a frozen one too: left there,
        it normalises with each batch's statistics and its running statistics drift to
        the new data, so the "frozen" backbone still changes. Put those back in eval.

    Reference:
        PyTorch's "Optimizing Model Parameters" tutorial loop; train_model in its
        transfer-learning tutorial.
    """
    raise NotImplementedError


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Accuracy in eval mode (BatchNorm on running statistics), a float in [0, 1].

    Math:
        model.eval(); accuracy = mean(argmax_c model(X)[:, c] == y), in batches of
        batch_size without gradients.

    Shapes:
        X: (N, 1, 28, 28); y: (N,).

    Args:
        model, X, y: the model and the labelled images to score.
        batch_size: images per forward pass (memory only: the result does not depend on it).

    Returns:
        A Python float.

    Numerics:
        Under torch.no_grad(); the model is left in eval mode and otherwise unchanged.

    Reference:
        model.eval() and torch.no_grad() as in PyTorch's tutorials.
    """
    raise NotImplementedError


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
    """Feature extraction, fine-tuning and scratch on the same few labels; test accuracies.

    Math:
        for each variant in VARIANTS, in that order: torch.manual_seed(seed) and
        rng = np.random.default_rng(seed) (every variant gets the same batch order), then
          feature_extraction: replace_head on a deep copy of pretrained; freeze its
                              backbone; optimizer on param_groups(model, lr_backbone, lr_head)
          fine_tuning:        replace_head on a deep copy; nothing frozen; the same groups
          scratch:            SmallCNN(K, width=pretrained.width), both groups at lr_head
        optimizer = torch.optim.SGD(groups, momentum=0.9); train(...) once with your
        train(); score with evaluate(model, X_test, y_test).

    Shapes:
        X_train: (M, 1, 28, 28), y_train: (M,) with the K classes 0..K-1 (K = max + 1);
        X_test, y_test likewise.

    Args:
        pretrained: a SmallCNN trained on the old task; never modified.
        X_train, y_train: the few labelled images of the new task.
        X_test, y_test: where each variant is scored.
        seed: seeds torch (new weights) and the numpy rng (batch order).
        epochs, batch_size, lr_head, lr_backbone: one training budget for all three.

    Returns:
        {"feature_extraction": acc, "fine_tuning": acc, "scratch": acc}.

    Numerics:
        Deep-copy the pretrained model for each transfer variant: freezing or training
        it in place would leak one variant into the next (and change the caller's model).

    Reference:
        Yosinski et al. (2014), "How transferable are features in deep neural networks?".
    """
    raise NotImplementedError
