"""Semantic segmentation: a small U-Net, an FCN head, Dice and IoU, and a soft Dice loss.

A segmentation network labels every pixel. The U-Net encodes with convolutions and
pooling, decodes with transposed convolutions, and at every resolution concatenates
the encoder's features (the skip connection) so that the decoder gets back the fine
detail that pooling threw away. An FCN head is the simplest decoder: a 1x1
convolution classifies every position of a coarse feature map, and bilinear
upsampling brings the scores back to the input size. References: Ronneberger et al.,
"U-Net" (2015); Long et al., "Fully Convolutional Networks for Semantic Segmentation"
(2015); Milletari et al., "V-Net" (2016) for the soft Dice loss.
"""

import torch
import torch.nn.functional as F
from torch import nn


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by BatchNorm and ReLU; the size is kept."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class UNet(nn.Module):
    """A U-Net: encoder blocks and pooling, a bottleneck, upsampling, skips, a 1x1 classifier."""

    def __init__(self, in_channels: int = 1, n_classes: int = 4, base: int = 8, depth: int = 2):
        """Build encoders, pool, bottleneck, ups, decoders and head (see forward)."""
        super().__init__()
        widths = [base * 2**i for i in range(depth)]  # channels at each resolution
        self.encoders = nn.ModuleList(
            conv_block(c_in, c_out) for c_in, c_out in zip([in_channels] + widths[:-1], widths)
        )
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = conv_block(widths[-1], 2 * widths[-1])
        # Decoder level j works at the resolution of encoder depth-1-j (deepest first).
        self.ups = nn.ModuleList(nn.ConvTranspose2d(2 * c, c, 2, stride=2) for c in widths[::-1])
        self.decoders = nn.ModuleList(conv_block(2 * c, c) for c in widths[::-1])
        self.head = nn.Conv2d(base, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for encoder in self.encoders:
            x = encoder(x)  # (N, base * 2^i, H / 2^i, W / 2^i)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)  # (N, base * 2^depth, H / 2^depth, W / 2^depth)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            x = up(x)  # twice the size, half the channels: skip's shape
            x = decoder(torch.cat([skip, x], dim=1))  # (N, 2c, h, w) -> (N, c, h, w)
        return self.head(x)  # (N, n_classes, H, W) logits


class FCNHead(nn.Module):
    """FCN's head: a 1x1 convolution scores each class, bilinear upsampling to the image size."""

    def __init__(self, in_channels: int, n_classes: int):
        """Build self.classifier, an nn.Conv2d(in_channels, n_classes, 1)."""
        super().__init__()
        self.classifier = nn.Conv2d(in_channels, n_classes, 1)

    def forward(self, features: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        scores = self.classifier(features)  # (N, n_classes, h, w)
        return F.interpolate(scores, size=size, mode="bilinear", align_corners=False)


def _overlaps(pred: torch.Tensor, target: torch.Tensor, n_classes: int):
    """Per class: |P & T| and |P| + |T|, over every pixel of every image, as float64."""
    classes = torch.arange(n_classes).view(-1, 1)  # (C, 1)
    p = pred.reshape(1, -1) == classes  # (C, N*H*W): pixel predicted as class c
    t = target.reshape(1, -1) == classes
    inter = (p & t).sum(dim=1).double()  # (C,)
    sizes = p.sum(dim=1).double() + t.sum(dim=1).double()  # (C,)
    return inter, sizes


def iou_per_class(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Intersection over union of every class, NaN for a class absent from both."""
    inter, sizes = _overlaps(pred, target, n_classes)
    union = sizes - inter
    return inter / union  # 0 / 0 = NaN where the class is absent from both


def dice_per_class(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Dice coefficient of every class, NaN for a class absent from both."""
    inter, sizes = _overlaps(pred, target, n_classes)
    return 2 * inter / sizes


def mean_iou(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> float:
    """Mean IoU over the classes present in the prediction or the target."""
    return float(torch.nanmean(iou_per_class(pred, target, n_classes)))


def mean_dice(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> float:
    """Mean Dice over the classes present in the prediction or the target."""
    return float(torch.nanmean(dice_per_class(pred, target, n_classes)))


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - mean over classes of the soft Dice between softmax probabilities and one-hot targets."""
    n_classes = logits.shape[1]
    probs = F.softmax(logits, dim=1)  # (N, C, H, W): the classes compete at each pixel
    onehot = F.one_hot(target, n_classes).permute(0, 3, 1, 2).to(probs.dtype)  # (N, C, H, W)
    dims = (0, 2, 3)  # sum over the batch and the pixels, one score per class
    inter = (probs * onehot).sum(dims)  # (C,)
    sizes = probs.sum(dims) + onehot.sum(dims)  # (C,)
    dice = (2 * inter + eps) / (sizes + eps)
    return 1 - dice.mean()
