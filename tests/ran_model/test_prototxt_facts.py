"""Tests for tests/ran_model/prototxt_facts.py, the counter behind test_variants' pins: a
hand-written Caffe net and its Keras twin (a post-activation `blocks.Bottleneck`) agree."""
import tf_keras as keras

import prototxt_facts
from ran_model import blocks

# Input 16x8x8; one post-activation ResNeXt unit (width 8, 4 groups, 32 channels, stride 2),
# global average pool, FC to 5 classes. Written in the authors' style (in-place ReLUs, BN
# layers, Eltwise SUM, the classifier reading the `ave_pool_gather` alias).
_NET = '''
name: "tiny" input: "data" input_dim: 1 input_dim: 16 input_dim: 8 input_dim: 8
layer { name: "u/c1" type: "Convolution" bottom: "data" top: "u/c1"
  convolution_param { num_output: 8 kernel_size: 1 bias_term: false } }
layer { name: "u/c1/bn" type: "BN" bottom: "u/c1" top: "u/c1/bn" bn_param { frozen: true } }
layer { name: "u/c1/relu" type: "ReLU" bottom: "u/c1/bn" top: "u/c1/bn" }
layer { name: "u/c2" type: "Convolution" bottom: "u/c1/bn" top: "u/c2"
  convolution_param { num_output: 8 pad: 1 kernel_size: 3 stride: 2 group: 4 bias_term: false } }
layer { name: "u/c2/bn" type: "BN" bottom: "u/c2" top: "u/c2/bn" }
layer { name: "u/c2/relu" type: "ReLU" bottom: "u/c2/bn" top: "u/c2/bn" }
layer { name: "u/c3" type: "Convolution" bottom: "u/c2/bn" top: "u/c3"
  convolution_param { num_output: 32 kernel_size: 1 bias_term: false } }
layer { name: "u/c3/bn" type: "BN" bottom: "u/c3" top: "u/c3/bn" }
layer { name: "u/proj" type: "Convolution" bottom: "data" top: "u/proj"
  convolution_param { num_output: 32 kernel_size: 1 stride: 2 bias_term: false } }
layer { name: "u/proj/bn" type: "BN" bottom: "u/proj" top: "u/proj/bn" }
layer { name: "u" type: "Eltwise" bottom: "u/proj/bn" bottom: "u/c3/bn" top: "u"
  eltwise_param { operation: SUM } }
layer { name: "u/relu" type: "ReLU" bottom: "u" top: "u" }
layer { name: "ave_pool" type: "Pooling" bottom: "u" top: "ave_pool"
  pooling_param { pool: AVE kernel_size: 4 stride: 1 } }
layer { name: "classifier" type: "InnerProduct" bottom: "ave_pool_gather" top: "classifier"
  inner_product_param { num_output: 5 } }
layer { name: "cls" type: "Softmax" bottom: "classifier" top: "cls" }
'''


def _keras_twin(*, preact):
  inputs = keras.Input((8, 8, 16))
  x = blocks.Bottleneck(width=8, groups=4, preact=preact)(inputs, channels=32, stride=2,
                                                         name='u')
  x = keras.layers.GlobalAveragePooling2D()(x)
  x = keras.layers.Dense(5)(x)
  return keras.Model(inputs, keras.layers.Activation('softmax')(x))


def test_counts_of_a_hand_written_net():
  kernels = 16 * 8 + 9 * 2 * 8 + 8 * 32 + 16 * 32
  assert prototxt_facts.from_prototxt(_NET) == {
      'convs': 4, 'conv_fc_weights': kernels + 32 * 5 + 5,
      'trainable': kernels + 32 * 5 + 5 + 2 * (8 + 8 + 32 + 32),
      'bn_per_width': {8: 2, 32: 2},
      'macs': 8 * 8 * 16 * 8 + 4 * 4 * (9 * 2 * 8 + 8 * 32 + 16 * 32) + 32 * 5,
      'graph': prototxt_facts.from_model(_keras_twin(preact=False))['graph']}


def test_post_activation_unit_matches_it_and_pre_activation_does_not():
  facts = prototxt_facts.from_prototxt(_NET)
  assert prototxt_facts.from_model(_keras_twin(preact=False)) == facts
  preact = prototxt_facts.from_model(_keras_twin(preact=True))
  assert preact['graph'] != facts['graph'] and preact['bn_per_width'] != facts['bn_per_width']
