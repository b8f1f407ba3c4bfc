"""Classic CNN architectures in PyTorch: LeNet-5, AlexNet, VGG, ResNet, Inception, EfficientNet.

Each network is a few reusable blocks plus a table of sizes. Parameter counts are the ones
torchvision publishes (AlexNet 61,100,840; VGG-16 138,357,544; ResNet-18 11,689,512;
EfficientNet-B0 5,288,548), and blocks use torchvision's layer names, so its checkpoints load.
References: LeCun et al. 1998; Krizhevsky 2014 ("one weird trick"); Simonyan & Zisserman 2015;
He et al. 2016; Szegedy et al. 2015; Hu et al. 2018 (SE); Tan & Le 2019 (EfficientNet).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    groups: int = 1,
    activation: type[nn.Module] | None = None,
) -> nn.Sequential:
    """Conv (no bias: BN's beta does that job), BatchNorm, then an optional activation."""
    padding = (kernel_size - 1) // 2  # 'same' size for odd kernels at stride 1
    layers = [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups,
                  bias=False),
        nn.BatchNorm2d(out_channels),
    ]  # fmt: skip
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


# ----------------------------------------------------------------------------- LeNet, AlexNet


def lenet5(num_classes: int = 10) -> nn.Module:
    """LeNet-5 on (N, 1, 32, 32): tanh and average pooling, as in 1998. 61,706 parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),  # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),  # (N, 16, 5, 5)
        nn.Flatten(),  # (N, 400)
        nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, num_classes),
    )  # fmt: skip


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> nn.Module:
    """torchvision's AlexNet: five convs (64, 192, 384, 256, 256 channels), three linears."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)),  # any input of 63 x 63 or more ends as 6 x 6
        nn.Flatten(),  # (N, 256 * 6 * 6)
        nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, num_classes),
    )  # fmt: skip


# ----------------------------------------------------------------------------- VGG


def vgg_block(in_channels: int, out_channels: int, num_convs: int) -> nn.Sequential:
    """num_convs 3x3 convs (padding 1, ReLU) that keep the size, then a 2x2 max pool."""
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                   nn.ReLU()]  # fmt: skip
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg16(num_classes: int = 1000, dropout: float = 0.5) -> nn.Module:
    """VGG-16 (configuration D): five blocks of 2, 2, 3, 3, 3 convs, then three linears."""
    blocks, in_channels = [], 3
    for out_channels, num_convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        blocks.append(vgg_block(in_channels, out_channels, num_convs))
        in_channels = out_channels
    return nn.Sequential(
        *blocks,  # (N, 512, H / 32, W / 32)
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),  # (N, 512 * 7 * 7)
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, num_classes),
    )  # fmt: skip


# ----------------------------------------------------------------------------- ResNet


class BasicBlock(nn.Module):
    """ResNet-18/34's block: two 3x3 convs and a shortcut, added before the last ReLU."""

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, skip: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = skip
        # The shortcut must match the main path's shape: a 1x1 conv (projection) when the
        # block changes the channels OR the spatial size; the identity otherwise.
        self.downsample = None
        if skip and (stride != 1 or in_channels != out_channels):
            self.downsample = conv_bn(in_channels, out_channels, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))  # no ReLU yet: the sum gets it
        if self.skip:
            identity = x if self.downsample is None else self.downsample(x)
            out = out + identity  # a new tensor: never add into x in place
        return F.relu(out)


class Bottleneck(nn.Module):
    """ResNet-50's block: 1x1 reduce, 3x3 (with the stride), 1x1 expand to 4 x width."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = conv_bn(in_channels, out_channels, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        out = F.relu(self.bn2(self.conv2(out)))  # (N, width, H / stride, W / stride)
        out = self.bn3(self.conv3(out))  # (N, 4 width, H / stride, W / stride)
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


def resnet18(num_classes: int = 1000) -> nn.Module:
    """Stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool), 4 stages of 2 BasicBlocks, pool, fc."""
    stages, in_channels = [], 64
    for i, width in enumerate([64, 128, 256, 512]):
        stride = 1 if i == 0 else 2  # the max pool already halved the size before stage 1
        stages.append(nn.Sequential(BasicBlock(in_channels, width, stride),
                                    BasicBlock(width, width)))  # fmt: skip
        in_channels = width
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),  # (N, 64, H / 4, W / 4)
        *stages,  # (N, 512, H / 32, W / 32)
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, 512)
        nn.Linear(512, num_classes),
    )  # fmt: skip


# ----------------------------------------------------------------------------- Inception


class Inception(nn.Module):
    """GoogLeNet's module: 1x1, 1x1->3x3, 1x1->5x5 and pool->1x1 side by side, concatenated."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int,
                 ch5x5red: int, ch5x5: int, pool_proj: int):  # fmt: skip
        super().__init__()
        self.branch1 = conv_bn(in_channels, ch1x1, 1, activation=nn.ReLU)
        # The 1x1 'reduce' convs cut the channels before the expensive 3x3 and 5x5.
        self.branch2 = nn.Sequential(
            conv_bn(in_channels, ch3x3red, 1, activation=nn.ReLU),
            conv_bn(ch3x3red, ch3x3, 3, activation=nn.ReLU),
        )
        self.branch3 = nn.Sequential(
            conv_bn(in_channels, ch5x5red, 1, activation=nn.ReLU),
            conv_bn(ch5x5red, ch5x5, 5, activation=nn.ReLU),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),  # stride 1, padding 1: keeps H x W
            conv_bn(in_channels, pool_proj, 1, activation=nn.ReLU),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)  # (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)


# ----------------------------------------------------------------------------- EfficientNet


class SqueezeExcitation(nn.Module):
    """Channel attention: global pool, bottleneck of two 1x1 convs, sigmoid gate per channel."""

    def __init__(self, channels: int, squeeze_channels: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)  # (N, C, 1, 1): squeeze
        s = self.fc2(F.silu(self.fc1(s)))  # (N, C, 1, 1): excite
        return x * torch.sigmoid(s)  # rescale every channel by its gate in (0, 1)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, SE, 1x1 project (linear), skip."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 expand_ratio: int, se_ratio: float = 0.25):  # fmt: skip
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        self.expand = None  # expand_ratio 1 (the first stage) has nothing to expand
        if expand_ratio != 1:
            self.expand = conv_bn(in_channels, hidden, 1, activation=nn.SiLU)
        self.depthwise = conv_bn(hidden, hidden, kernel_size, stride, groups=hidden,
                                 activation=nn.SiLU)  # fmt: skip
        # The squeeze width follows the block's INPUT channels, not the expanded ones.
        self.se = SqueezeExcitation(hidden, max(1, int(in_channels * se_ratio)))
        self.project = conv_bn(hidden, out_channels, 1)  # no activation: a linear bottleneck

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.expand is None else self.expand(x)
        h = self.project(self.se(self.depthwise(h)))
        return h + x if self.use_residual else h


def compound_scaling(
    phi: float, alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15
) -> tuple[float, float, float]:
    """EfficientNet's rule: depth alpha^phi, width beta^phi, resolution gamma^phi."""
    return alpha**phi, beta**phi, gamma**phi


def round_filters(filters: int, width_mult: float, divisor: int = 8) -> int:
    """Scale a channel count, round to the nearest multiple of divisor, never down by > 10%."""
    scaled = filters * width_mult
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return int(new)


def round_repeats(repeats: int, depth_mult: float) -> int:
    """Scale a stage's number of blocks, rounding up."""
    return int(math.ceil(depth_mult * repeats))


B0_STAGES = [  # expand_ratio, kernel, stride, in, out, repeats (Tan & Le 2019, Table 1)
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


def efficientnet(
    width_mult: float = 1.0, depth_mult: float = 1.0, num_classes: int = 1000, dropout: float = 0.2
) -> nn.Module:
    """EfficientNet-B0's table, channels scaled by round_filters, repeats by round_repeats."""
    stem = round_filters(32, width_mult)
    layers: list[nn.Module] = [conv_bn(3, stem, 3, stride=2, activation=nn.SiLU)]
    for expand_ratio, kernel, stride, cin, cout, repeats in B0_STAGES:
        cin, cout = round_filters(cin, width_mult), round_filters(cout, width_mult)
        for i in range(round_repeats(repeats, depth_mult)):
            # only a stage's first block changes the channels and the size
            layers.append(MBConv(cin if i == 0 else cout, cout, kernel,
                                 stride if i == 0 else 1, expand_ratio))  # fmt: skip
    head = 4 * round_filters(320, width_mult)  # 1280 for B0
    return nn.Sequential(
        *layers,
        conv_bn(round_filters(320, width_mult), head, 1, activation=nn.SiLU),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, head)
        nn.Dropout(dropout), nn.Linear(head, num_classes),
    )  # fmt: skip
