"""Tests for ran_model/variants.py: each variant against the authors' definitions and the paper."""
import dataclasses

import pytest
import tf_keras as keras

import prototxt_facts
import ran_model
from ran_model import variants

# The authors' Caffe definitions, fwang91/residual-attention-network at bc207a8 (2017-07-21),
# imagenet_model/{Attention,AttentionNeXt}-{56,92}-deploy.prototxt (224x224, 1000 classes),
# counted by `python tests/ran_model/prototxt_facts.py <those four files>` (fields: its
# docstring). Rounded, the weights and MACs are REFERENCE.md's 31.74M / 6.27 G, 52.33M /
# 10.53 G, 31.22M / 6.42 G.
AUTHORS_FACTS = {
    'attention_56': dict(
        convs=110, conv_fc_weights=31_738_024, trainable=31_810_728,
        bn_per_width={64: 28, 128: 20, 256: 29, 512: 18, 1024: 9, 2048: 3},
        macs=6_270_836_736, graph='37ae3a11726ce614'),
    'attention_92': dict(
        convs=179, conv_fc_weights=52_332_712, trainable=52_466_344,
        bn_per_width={64: 28, 128: 38, 256: 53, 512: 29, 1024: 25, 2048: 3},
        macs=10_533_789_696, graph='c8df90563d6cd210'),
    'attention_next_56': dict(
        convs=110, conv_fc_weights=31_220_392, trainable=31_318_824,
        bn_per_width={64: 1, 128: 26, 256: 35, 512: 26, 1024: 15, 2048: 4},
        macs=6_419_106_816, graph='d0d8931dc34d48b7'),
    'attention_next_92': dict(
        convs=179, conv_fc_weights=51_931_816, trainable=52_102_952,
        bn_per_width={64: 1, 128: 26, 256: 53, 512: 60, 1024: 29, 2048: 4},
        macs=10_704_337_920, graph='61eb2901d2a2492f'),
}
# count_params() measured here: the trainable count plus BN moving means and variances.
COUNT_PARAMS = {'attention_56': 31_883_432, 'attention_92': 52_599_976,
                'attention_next_56': 31_417_256, 'attention_next_92': 52_274_088}
# name: (depth, paper's parameter count, exact count_params() with classes=10).
CIFAR_FACTS = {
    'attention_56_cifar': (56, None, 1_081_722),
    'attention_92_cifar': (92, 1.9e6, 1_821_818),
    'attention_128_cifar': (128, None, 2_561_914),
    'attention_164_cifar': (164, None, 3_302_010),
    'attention_236_cifar': (236, 5.1e6, 4_782_202),
    'attention_452_cifar': (452, 8.6e6, 9_298_042),
}


def _convs(model):
  return [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]


def test_model_names_are_the_ten_variants():
  assert set(ran_model.MODEL_NAMES) == set(AUTHORS_FACTS) | set(CIFAR_FACTS)


def test_unknown_name_lists_the_known_ones():
  with pytest.raises(ValueError, match='attention_92_cifar.*Received name=.attention_1000.'):
    ran_model.build_model('attention_1000')


@pytest.mark.parametrize('name', sorted(AUTHORS_FACTS))
def test_imagenet_variant_is_the_authors_network(name):
  model = ran_model.build_model(name)
  assert prototxt_facts.from_model(model) == AUTHORS_FACTS[name]
  assert not any(l.use_bias for l in _convs(model))
  assert model.count_params() == COUNT_PARAMS[name]
  assert model.output.shape.as_list() == [None, 1000]


@pytest.mark.parametrize('name', sorted(CIFAR_FACTS))
def test_depth_formula_36m_plus_20(name):
  spec = ran_model.VARIANTS[name]
  # m counted in p=1, t=2 modules (4 units each): Attention-452's p=2, t=4 modules count 2.
  m = spec.modules[0] * (2 * spec.pre_post_units + spec.trunk_units) // 4
  assert spec.depth == CIFAR_FACTS[name][0] == 36 * m + 20


@pytest.mark.parametrize('name', [n for n, facts in CIFAR_FACTS.items() if facts[1]])
def test_cifar_variant_size_matches_paper(name):
  depth, paper_params, params = CIFAR_FACTS[name]
  model = ran_model.build_model(name, classes=10)
  # The paper's depth: trunk-path convs (no projection shortcut, no mask branch) + the FC.
  trunk_convs = [l for l in _convs(model)
                 if '_mask_' not in l.name and not l.name.endswith('_0_conv')]
  assert len(trunk_convs) + 1 == depth
  assert model.count_params() == pytest.approx(paper_params, rel=0.10)
  assert model.count_params() == params


def test_only_the_next_variants_use_post_activation_resnext_units():
  post_activation = {n for n, spec in ran_model.VARIANTS.items() if not spec.preact}
  assert post_activation == {'attention_next_56', 'attention_next_92'}
  assert {n for n, spec in ran_model.VARIANTS.items() if spec.cardinality > 1} == post_activation


def test_spec_is_frozen_and_layout_is_checked():
  spec = ran_model.VARIANTS['attention_next_56']
  with pytest.raises(AttributeError):
    spec.modules = (2, 2, 2)
  assert variants.VARIANTS['attention_452_cifar'].mask_units == 3
  assert variants.NETWORK_LAYOUTS == ('imagenet', 'cifar')
  with pytest.raises(ValueError, match=r"one of \('imagenet', 'cifar'\). Received layout='svhn'"):
    dataclasses.replace(spec, layout='svhn')
