"""The Residual Attention Network family as data: one `Spec` per variant.

Measured with `ran_model.build_model(name)` (ImageNet layout: 224x224, 1000 classes; CIFAR
layout: 32x32, 10 classes). conv+FC = conv kernels + FC kernel and bias (no BN); params =
`count_params()` (BN gamma, beta, moving mean and variance included); GMACs =
`ran_model.count_macs` (conv and FC multiply-adds). Pinned in tests/ran_model/test_variants.py.

| variant             | modules | convs | conv+FC    | params     | GMACs  | paper         |
|---------------------|---------|-------|------------|------------|--------|---------------|
| attention_56        | 1-1-1   | 110   | 31,738,024 | 31,883,432 |  6.271 | 31.9M, 6.3G   |
| attention_92        | 1-2-3   | 179   | 52,332,712 | 52,599,976 | 10.534 | 51.3M, 10.4G  |
| attention_next_56   | 1-1-1   | 110   | 31,220,392 | 31,417,256 |  6.419 | -             |
| attention_next_92   | 1-2-3   | 179   | 51,931,816 | 52,274,088 | 10.704 | -             |
| attention_56_cifar  | 1-1-1   |  82   |  1,054,650 |  1,081,722 |  0.119 | -             |
| attention_92_cifar  | 2-2-2   | 142   |  1,775,034 |  1,821,818 |  0.204 | 1.9M          |
| attention_128_cifar | 3-3-3   | 202   |  2,495,418 |  2,561,914 |  0.290 | -             |
| attention_164_cifar | 4-4-4   | 262   |  3,215,802 |  3,302,010 |  0.375 | -             |
| attention_236_cifar | 6-6-6   | 382   |  4,656,570 |  4,782,202 |  0.546 | 5.1M          |
| attention_452_cifar | 6-6-6   | 814   |  9,043,386 |  9,298,042 |  0.947 | 8.6M          |

The four ImageNet rows are the authors' Caffe definitions (`imagenet_model/*-deploy.prototxt`):
the same layers, wiring, conv+FC weights, BN layers per width and MACs, pinned in the test
(REFERENCE.md rounds them to 31.74M / 52.33M / 31.22M weights, 6.27 / 10.53 / 6.42 GMACs).
The paper's 31.9M for Attention-56 is `count_params()` with BN statistics (31.88M).

Depth (`Spec.depth`) counts what the paper counts: 3 per residual unit on the trunk path,
plus the stem conv and the FC; mask branches and projection shortcuts do not count. With
p=1, t=2 a module has 4 units (12 layers) and 3 stages of m modules give 36m, plus 20 for
the stem, the 3 stage-entry units, the 3 final units and the FC: 36m + 20. Attention-452
has p=2, t=4 (8 units, 24 layers per module) and 6 modules per stage: 20 + 18 * 24 = 452,
the same depth as m=12 modules of p=1, t=2.

CIFAR layout choices (the paper gives neither widths nor mask levels for CIFAR):
  * Widths as ResNet-164: stem conv 3x3 to 16 channels; stages at 32x32 / 16x16 / 8x8 with
    bottleneck widths 16 / 32 / 64 (outputs 64 / 128 / 256); the 3 final units stay at 8x8,
    256 channels (no fourth stride: 8x8 is already the ImageNet 7x7's counterpart).
  * One mask pooling level in every stage (the ImageNet stage-C mask: pool, 2r units,
    upsample; no skip). Mask bottoms sit at 16 / 8 / 4 px. Deeper masks overshoot the
    paper's parameter counts: with levels 2-1-1, Attention-452 has 9.50M params (+10.4% of
    8.6M), with 3-2-1 (the ImageNet A-B-C by stage) 10.46M (+21.6%); with 1-1-1 the three
    published sizes land at -4.1% (1.82M vs 1.9M), -6.2% (4.78M vs 5.1M) and +8.1% (9.30M vs
    8.6M).
  * r counts units after each max-pool and before each upsample, so the lowest resolution
    holds 2r units (2 at r=1, as in the authors' stage C); a skip connection is one unit.
"""
import dataclasses
from typing import Tuple

NETWORK_LAYOUTS = ('imagenet', 'cifar')  # the values of `Spec.layout`


@dataclasses.dataclass(frozen=True)
class Spec:
  """One network of the family; `ran_model.builder.build_ran` reads it.

  layout: 'imagenet' (stem conv 7x7/2 + max-pool, last stage stride 2) or 'cifar'
    (stem conv 3x3, stride 1; last stage keeps the size).
  modules: attention modules in stages 1, 2, 3 (the paper's m1-m2-m3).
  stem_channels: channels of the stem convolution.
  widths: bottleneck width of the units in stages 1..4 (stage 4 = the final units).
  channels: output channels of stages 1..4.
  strides: stride of the first unit of stages 1..4.
  mask_levels: max-pool levels of the soft mask branch in stages 1, 2, 3.
  cardinality: groups of every unit's 3x3 conv (32 in AttentionNeXt's ResNeXt units).
  preact: True: pre-activation units (BN-ReLU before each conv), a BN-ReLU after the last
    unit and a BN-ReLU-conv-BN-ReLU-conv mask head (Attention-56/92); False: post-activation
    units (conv-BN-ReLU, BN on projection shortcuts, ReLU after the addition), nothing after
    the last unit and a conv-BN-ReLU-conv mask head (AttentionNeXt-56/92).
    See `ran_model.blocks`.
  pre_post_units: residual units before and after each module's trunk/mask split (p).
  trunk_units: residual units in each trunk branch (t).
  mask_units: residual units between adjacent pooling/upsampling layers in a mask (r).
  final_units: residual units of stage 4.
  min_input_size: smallest height/width the builder accepts.
  default_input_size: height/width when no input shape is given.
  """
  layout: str
  modules: Tuple[int, int, int]
  stem_channels: int
  widths: Tuple[int, int, int, int]
  channels: Tuple[int, int, int, int]
  strides: Tuple[int, int, int, int]
  mask_levels: Tuple[int, int, int]
  min_input_size: int
  default_input_size: int
  cardinality: int = 1
  preact: bool = True
  pre_post_units: int = 1
  trunk_units: int = 2
  mask_units: int = 1
  final_units: int = 3

  def __post_init__(self):
    if self.layout not in NETWORK_LAYOUTS:
      raise ValueError(f'layout must be one of {NETWORK_LAYOUTS}. '
                       f'Received layout={self.layout!r}')

  @property
  def depth(self) -> int:
    """Weighted layers on the trunk path, counted as the paper does.

    Every residual unit counts 3 (its three convs; projection shortcuts and the mask
    branch do not count), plus the stem conv and the classifier:
    depth = 3 * (units outside modules) + 2 + 3 * (2p + t) * (modules).
    """
    units_outside_modules = len(self.modules) + self.final_units
    units_per_module = 2 * self.pre_post_units + self.trunk_units
    return 3 * (units_outside_modules + units_per_module * sum(self.modules)) + 2


_IMAGENET = Spec(
    layout='imagenet', modules=(1, 1, 1), stem_channels=64,
    widths=(64, 128, 256, 512), channels=(256, 512, 1024, 2048), strides=(1, 2, 2, 2),
    mask_levels=(3, 2, 1), min_input_size=64, default_input_size=224)
_IMAGENET_NEXT = dataclasses.replace(
    _IMAGENET, widths=(128, 256, 512, 1024), cardinality=32, preact=False)
_CIFAR = Spec(
    layout='cifar', modules=(1, 1, 1), stem_channels=16,
    widths=(16, 32, 64, 64), channels=(64, 128, 256, 256), strides=(1, 2, 2, 1),
    mask_levels=(1, 1, 1), min_input_size=32, default_input_size=32)

VARIANTS = {
    'attention_56': _IMAGENET,
    'attention_92': dataclasses.replace(_IMAGENET, modules=(1, 2, 3)),
    'attention_next_56': _IMAGENET_NEXT,
    'attention_next_92': dataclasses.replace(_IMAGENET_NEXT, modules=(1, 2, 3)),
    'attention_56_cifar': _CIFAR,
    'attention_92_cifar': dataclasses.replace(_CIFAR, modules=(2, 2, 2)),
    'attention_128_cifar': dataclasses.replace(_CIFAR, modules=(3, 3, 3)),
    'attention_164_cifar': dataclasses.replace(_CIFAR, modules=(4, 4, 4)),
    'attention_236_cifar': dataclasses.replace(_CIFAR, modules=(6, 6, 6)),
    'attention_452_cifar': dataclasses.replace(
        _CIFAR, modules=(6, 6, 6), pre_post_units=2, trunk_units=4, mask_units=3),
}

MODEL_NAMES = tuple(VARIANTS)
