"""Tests for ran_model/variants.py: each variant's measured size against the paper's."""
import numpy as np
import pytest
import tf_keras as keras

import ran_model
from ran_model import variants

# name: (conv layers, conv+FC weights incl. FC bias, GMACs at 224) from REFERENCE.md, and the
# exact count_params() measured here (BN gamma/beta/mean/variance included).
IMAGENET_FACTS = {
    'attention_56': (110, 31.74e6, 6.27e9, 31_883_432),
    'attention_92': (179, 52.33e6, 10.53e9, 52_599_976),
    'attention_next_56': (110, 31.22e6, 6.42e9, 31_409_320),
    'attention_next_92': (179, 51.93e6, 10.70e9, 52_276_392),  # not in the paper; measured
}
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


def _conv_and_fc_weights(model):
  dense = model.get_layer('logits')
  return (sum(np.prod(l.kernel.shape) for l in _convs(model))
          + np.prod(dense.kernel.shape) + np.prod(dense.bias.shape))


def test_model_names_are_the_ten_variants():
  assert set(ran_model.MODEL_NAMES) == set(IMAGENET_FACTS) | set(CIFAR_FACTS)


def test_unknown_name_lists_the_known_ones():
  with pytest.raises(ValueError, match='attention_92_cifar.*Received name=.attention_1000.'):
    ran_model.build_model('attention_1000')


@pytest.mark.parametrize('name', sorted(IMAGENET_FACTS))
def test_imagenet_variant_matches_authors_network(name):
  convs, weights, macs, params = IMAGENET_FACTS[name]
  model = ran_model.build_model(name)
  assert len(_convs(model)) == convs
  assert not any(l.use_bias for l in _convs(model))
  assert _conv_and_fc_weights(model) == pytest.approx(weights, rel=1e-4)
  assert ran_model.count_macs(model) == pytest.approx(macs, rel=1e-2)
  assert model.count_params() == params
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


def test_spec_is_frozen_and_unit_follows_cardinality():
  spec = ran_model.VARIANTS['attention_next_56']
  assert spec.unit == 'resnext' and ran_model.VARIANTS['attention_56'].unit == 'preact'
  with pytest.raises(AttributeError):
    spec.modules = (2, 2, 2)
  assert variants.VARIANTS['attention_452_cifar'].mask_units == 3
