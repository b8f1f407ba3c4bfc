"""Oracles for 03_cnn/architectures: the classic CNNs written the way torchvision writes them.

torchvision cannot be imported beside this torch, so its definitions are spelled out here
from its source (torchvision/models/{alexnet,vgg,resnet,googlenet,efficientnet}.py and
ops/misc.py) and the papers. Their parameter counts are torchvision's published ones:

    AlexNet 61,100,840   VGG-16 138,357,544   ResNet-18 11,689,512   ResNet-50 25,557,032
    EfficientNet-B0 5,288,548   B1 7,794,184   B2 9,109,994

Deliberate differences from torchvision, shared with the kata's spec:
- Every BatchNorm2d keeps torch's default eps (1e-5); torchvision uses 1e-3 in GoogLeNet and
  EfficientNet. eps is not a parameter: the counts do not change.
- The Inception module's third branch is the paper's 1x1 -> 5x5; torchvision's GoogLeNet has a
  3x3 there (a known slip it keeps so its checkpoints load).
- MBConv has no stochastic depth (it is the identity in eval mode and has no parameters) and
  names its parts expand / depthwise / se / project instead of block.0 ... block.3.
"""

from __future__ import annotations

import math
from collections import Counter

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------- LeNet-5


def lenet5_forward(x, params, act=torch.tanh, pool=F.avg_pool2d) -> torch.Tensor:
    """The classic LeNet-5 (tanh, average pooling) on (N, 1, 32, 32), from its 10 tensors.

    act / pool: other choices give the results of known mistakes (ReLU, max pooling).
    """
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
    h = pool(act(F.conv2d(x, w1, b1)), 2)  # (N, 6, 14, 14)
    h = pool(act(F.conv2d(h, w2, b2)), 2)  # (N, 16, 5, 5)
    h = h.flatten(1)  # (N, 400)
    h = act(F.linear(h, w3, b3))
    h = act(F.linear(h, w4, b4))
    return F.linear(h, w5, b5)


LENET5_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120),
                 (84,), (10, 84), (10,)]  # fmt: skip


# ----------------------------------------------------------------------------- AlexNet, VGG


class AlexNet(nn.Module):
    """torchvision.models.alexnet: the 'one weird trick' variant (64, 192, 384, 256, 256)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
             512, 512, 512, "M"]  # fmt: skip


class VGG(nn.Module):
    """torchvision.models.vgg16 (configuration "D", no batch norm)."""

    def __init__(self, cfg=VGG16_CFG, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(True)]
                in_channels = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def vgg_block_forward(x, weights, biases):
    """One VGG block from its conv tensors: (3x3 conv, pad 1, ReLU) x n, then 2x2 max pool."""
    for w, b in zip(weights, biases):
        x = F.relu(F.conv2d(x, w, b, padding=1))
    return F.max_pool2d(x, 2, 2)


# ----------------------------------------------------------------------------- ResNet


def conv_bn(in_ch, out_ch, kernel_size, stride=1, groups=1, activation=None) -> nn.Sequential:
    """torchvision.ops.Conv2dNormActivation: conv (no bias, 'same' padding), BN, activation."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel_size, stride, (kernel_size - 1) // 2, groups=groups,
                  bias=False),
        nn.BatchNorm2d(out_ch),
    ]  # fmt: skip
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock; skip=False drops the shortcut (a plain block).

    variant: "torchvision" (the sum, then ReLU), or a known mistake for messages:
    "no-final-relu" (returns the sum), "relu-before-add" (ReLU on the branch, then the sum).
    """

    expansion = 1
    variant = "torchvision"

    def __init__(self, in_channels, out_channels, stride=1, skip=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = skip
        self.downsample = None
        if skip and (stride != 1 or in_channels != out_channels):
            self.downsample = conv_bn(in_channels, out_channels, 1, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.variant == "relu-before-add":
            out = F.relu(out)
        if self.skip:
            out = out + (x if self.downsample is None else self.downsample(x))
        return out if self.variant != "torchvision" else F.relu(out)


class Bottleneck(nn.Module):
    """torchvision.models.resnet.Bottleneck (ResNet v1.5: the stride sits on the 3x3 conv)."""

    expansion = 4

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = conv_bn(in_channels, out_channels, 1, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.resnet.ResNet: stem, four stages, global pool, fc."""

    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = 64
        stages = []
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(block(in_ch, width, stride))
                in_ch = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(num_classes=1000):
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)


def resnet50(num_classes=1000):
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes)


# ----------------------------------------------------------------------------- Inception


class Inception(nn.Module):
    """GoogLeNet's Inception module: four branches concatenated along the channels."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = conv_bn(in_channels, ch1x1, 1, activation=nn.ReLU)
        self.branch2 = nn.Sequential(
            conv_bn(in_channels, ch3x3red, 1, activation=nn.ReLU),
            conv_bn(ch3x3red, ch3x3, 3, activation=nn.ReLU),
        )
        self.branch3 = nn.Sequential(
            conv_bn(in_channels, ch5x5red, 1, activation=nn.ReLU),
            conv_bn(ch5x5red, ch5x5, 5, activation=nn.ReLU),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_bn(in_channels, pool_proj, 1, activation=nn.ReLU),
        )

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, 1)


INCEPTION_3A = (192, 64, 96, 128, 16, 32, 32)  # GoogLeNet's inception (3a): 256 channels out


# ----------------------------------------------------------------------------- EfficientNet


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation with EfficientNet's SiLU: x * sigmoid(fc2(silu(fc1)))."""

    def __init__(self, channels, squeeze_channels):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)  # (N, C, 1, 1)
        s = self.fc2(F.silu(self.fc1(s)))
        return x * torch.sigmoid(s)


class MBConv(nn.Module):
    """torchvision.models.efficientnet.MBConv: expand, depthwise, SE, project, residual."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, expand_ratio,
                 se_ratio=0.25):  # fmt: skip
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        self.expand = None
        if expand_ratio != 1:
            self.expand = conv_bn(in_channels, hidden, 1, activation=nn.SiLU)
        self.depthwise = conv_bn(hidden, hidden, kernel_size, stride, groups=hidden,
                                 activation=nn.SiLU)  # fmt: skip
        # torchvision: squeeze_channels = max(1, cnf.input_channels // 4): the block's INPUT
        self.se = SqueezeExcitation(hidden, max(1, int(in_channels * se_ratio)))
        self.project = conv_bn(hidden, out_channels, 1)

    def forward(self, x):
        h = x if self.expand is None else self.expand(x)
        h = self.project(self.se(self.depthwise(h)))
        return h + x if self.use_residual else h


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision.models._utils._make_divisible (from the TF MobileNet / EfficientNet code)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # never round down by more than 10%
        new_v += divisor
    return new_v


def round_filters(filters: int, width_mult: float) -> int:
    return make_divisible(filters * width_mult, 8)


def round_repeats(repeats: int, depth_mult: float) -> int:
    return int(math.ceil(repeats * depth_mult))


B0_STAGES = [  # expand_ratio, kernel, stride, in, out, repeats (EfficientNet paper, Table 1)
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


def efficientnet(width_mult=1.0, depth_mult=1.0, num_classes=1000, dropout=0.2):
    """torchvision.models.efficientnet_b* built from (width_mult, depth_mult)."""
    stem = round_filters(32, width_mult)
    layers: list[nn.Module] = [conv_bn(3, stem, 3, 2, activation=nn.SiLU)]
    for e, k, s, cin, cout, n in B0_STAGES:
        cin, cout = round_filters(cin, width_mult), round_filters(cout, width_mult)
        stage = [MBConv(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e)
                 for i in range(round_repeats(n, depth_mult))]  # fmt: skip
        layers.append(nn.Sequential(*stage))
    last_in = round_filters(320, width_mult)
    layers.append(conv_bn(last_in, 4 * last_in, 1, activation=nn.SiLU))
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(4 * last_in, num_classes),
    )


def compound_scaling(phi: float, alpha=1.2, beta=1.1, gamma=1.15) -> tuple[float, float, float]:
    """EfficientNet eq. 3: depth alpha^phi, width beta^phi, resolution gamma^phi."""
    return alpha**phi, beta**phi, gamma**phi


# ----------------------------------------------------------------------------- helpers


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def shape_counter(model: nn.Module) -> Counter:
    return Counter(tuple(p.shape) for p in model.parameters())


def randomize_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights everywhere, BatchNorm's affine and running statistics included."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=g, dtype=t.dtype))
            elif name.endswith(("running_mean", "bias")):
                t.copy_(0.2 * torch.randn(t.shape, generator=g, dtype=t.dtype))
            elif t.ndim == 1:  # BatchNorm's weight (gamma)
                t.copy_(0.5 + torch.rand(t.shape, generator=g, dtype=t.dtype))
            else:  # conv / linear weights, scaled by fan-in so the activations stay O(1)
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=g, dtype=t.dtype) / math.sqrt(fan_in))
    return model
