"""Facts of a network, the same for a Caffe deploy prototxt and a ran_model Keras model.

`from_prototxt(text)` and `from_model(model)` return one dict:
  convs            conv layers
  conv_fc_weights  conv kernels plus FC kernel and bias (no BN)
  trainable        conv_fc_weights plus gamma and beta of every BN layer (the authors' Caffe
                   "BN" layer holds slope, bias, mean and variance; slope and bias are trained)
  bn_per_width     {channels: number of BN layers over that many channels}
  macs             multiply-adds of convs and FC for one image at the input size
  graph            fingerprint of the dataflow graph: every op's kind (conv with kernel size,
                   stride, groups and filters; BN; ReLU; max-pool with size and stride; add;
                   multiply; resize; sigmoid; average pool to 1x1; FC with units; softmax) and
                   its inputs, added and multiplied tensors unordered; a resize's second input
                   only gives the size and is left out. Equal fingerprints: the same network.

Run `python tests/ran_model/prototxt_facts.py FILE.prototxt ...` on the authors'
`imagenet_model/*-deploy.prototxt` (fwang91/residual-attention-network) to print the facts
tests/ran_model/test_variants.py pins; the prototxt files are not part of this repository.
Caffe blob sizes: conv floor((n + 2 pad - k) / stride) + 1, pooling the same with ceil, Interp
the size of its second input. A bottom named in `ALIASES` reads another blob: AttentionNeXt-92
feeds its classifier from `ave_pool_gather`, which is `ave_pool`.
"""
import collections
import hashlib
import math
import re
import sys

import numpy as np
import tf_keras as keras

from ran_model import layers as ran_layers
from ran_model import macs as ran_macs

ALIASES = {'ave_pool_gather': 'ave_pool'}

_TOKEN = re.compile(r'"[^"]*"|[{}:]|[^\s{}:"]+')


def _node(op, inputs):
  return hashlib.sha1(repr((op, inputs)).encode()).hexdigest()[:16]


def parse_prototxt(text):
  """Returns `(input [c, h, w], layers)`: each layer a dict of its top-level fields (`bottom`
  a list), the fields of its nested blocks (`convolution_param`, ...) under `'param'`."""
  tokens = [t.strip('"') for t in _TOKEN.findall(re.sub(r'#.*', '', text))]
  input_dims, layers, depth, i = [], [], 0, 0
  while i < len(tokens):
    if tokens[i] == '}':
      depth, i = depth - 1, i + 1
    elif tokens[i + 1] in ('{', ':') and '{' in tokens[i + 1:i + 3]:  # `key {` or `key: {`
      if depth == 0 and tokens[i] == 'layer':
        layers.append({'bottom': [], 'param': {}})
      depth, i = depth + 1, i + (2 if tokens[i + 1] == '{' else 3)
    else:  # key: value
      key, value, i = tokens[i], tokens[i + 2], i + 3
      if depth == 0 and key == 'input_dim':
        input_dims.append(int(value))
      elif depth == 1 and key == 'bottom':
        layers[-1]['bottom'].append(ALIASES.get(value, value))
      elif depth == 1:
        layers[-1][key] = value
      elif depth == 2:
        layers[-1]['param'][key] = value
  return input_dims[1:], layers


def _caffe_size(n, p, *, ceil):
  span = (n + 2 * int(p.get('pad', 0)) - int(p['kernel_size'])) / int(p.get('stride', 1))
  return (math.ceil(span) if ceil else math.floor(span)) + 1


def from_prototxt(text):
  """The facts (module docstring) of a Caffe deploy prototxt's text."""
  input_shape, layers = parse_prototxt(text)
  shapes, nodes = {'data': input_shape}, {'data': _node('input', ())}
  convs = weights = bn_params = macs = 0
  bn_per_width = collections.Counter()
  for layer in layers:
    kind, p, bottoms = layer['type'], layer['param'], layer['bottom']
    inputs = [nodes[b] for b in bottoms]
    c, h, w = shapes[bottoms[0]]
    shape = [c, h, w]
    bias = p.get('bias_term', 'true') == 'true'
    if kind == 'Convolution':
      groups = int(p.get('group', 1))
      shape = [int(p['num_output']), _caffe_size(h, p, ceil=False),
               _caffe_size(w, p, ceil=False)]
      kernel = int(p['kernel_size']) ** 2 * c // groups * shape[0]
      convs, weights = convs + 1, weights + kernel + bias * shape[0]
      macs += kernel * shape[1] * shape[2]
      op = ('conv', int(p['kernel_size']), int(p.get('stride', 1)), groups, shape[0])
    elif kind == 'InnerProduct':
      shape = [int(p['num_output']), 1, 1]
      weights += c * h * w * shape[0] + bias * shape[0]
      macs += c * h * w * shape[0]
      op = ('fc', shape[0])
    elif kind == 'Pooling' and p['pool'] == 'MAX':
      shape = [c, _caffe_size(h, p, ceil=True), _caffe_size(w, p, ceil=True)]
      op = ('max_pool', int(p['kernel_size']), int(p['stride']))
    elif kind == 'Pooling':  # AVE: these networks average the whole final map
      shape, op = [c, _caffe_size(h, p, ceil=True), _caffe_size(w, p, ceil=True)], ('avg_pool',)
      if shape[1:] != [1, 1]:
        raise ValueError(f'{layer["name"]}: an average pool to {shape[1:]}, not 1x1')
    elif kind == 'Interp':
      shape, op, inputs = [c] + shapes[bottoms[1]][1:], ('resize',), inputs[:1]
    elif kind == 'Eltwise':
      op, inputs = ('add' if p.get('operation', 'SUM') == 'SUM' else 'multiply',), sorted(inputs)
    else:
      op = {'BN': ('bn',), 'ReLU': ('relu',), 'Sigmoid': ('sigmoid',),
            'Softmax': ('softmax',)}[kind]
    if kind == 'BN':
      bn_per_width[c] += 1
      bn_params += 2 * c
    shapes[layer['top']], nodes[layer['top']] = shape, _node(op, inputs)
  return {'convs': convs, 'conv_fc_weights': weights, 'trainable': weights + bn_params,
          'bn_per_width': dict(sorted(bn_per_width.items())), 'macs': macs,
          'graph': nodes[layers[-1]['top']]}


_KERAS_OPS = (  # (layer class, op); the merge layers' inputs are unordered
    (keras.layers.BatchNormalization, ('bn',)), (keras.layers.ReLU, ('relu',)),
    (keras.layers.GlobalAveragePooling2D, ('avg_pool',)),
    (ran_layers.ResizeToMatch, ('resize',)), (keras.layers.Add, ('add',)),
    (keras.layers.Multiply, ('multiply',)))


def _keras_op(layer):
  """The op of one Keras layer in `from_prototxt`'s vocabulary."""
  if isinstance(layer, keras.layers.Conv2D):
    return ('conv', layer.kernel_size[0], layer.strides[0], layer.groups, layer.filters)
  if isinstance(layer, keras.layers.MaxPool2D):
    return ('max_pool', layer.pool_size[0], layer.strides[0])
  if isinstance(layer, keras.layers.Dense):
    return ('fc', layer.units)
  if isinstance(layer, ran_layers.AttentionActivation) and layer.attention_type == 'mixed':
    return ('sigmoid',)
  if isinstance(layer, keras.layers.Activation) and layer.activation.__name__ == 'softmax':
    return ('softmax',)
  for cls, op in _KERAS_OPS:
    if isinstance(layer, cls):
      return op
  raise ValueError(f'No Caffe counterpart for layer {layer.name!r} ({type(layer).__name__})')


def from_model(model):
  """The facts (module docstring) of a Keras model built for a fixed input size."""
  nodes, bn_per_width = {}, collections.Counter()
  for layer in model.layers:
    if isinstance(layer, keras.layers.InputLayer):
      nodes[layer.name] = _node('input', ())
      continue
    op = _keras_op(layer)
    inputs = [nodes[t.node.layer.name]
              for t in (layer.input if isinstance(layer.input, list) else [layer.input])]
    if op == ('resize',):
      inputs = inputs[:1]
    elif op in (('add',), ('multiply',)):
      inputs = sorted(inputs)
    nodes[layer.name] = _node(op, inputs)
    if op == ('bn',):
      bn_per_width[layer.gamma.shape[0]] += 1
  convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
  dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
  weights = sum(int(np.prod(l.kernel.shape)) for l in convs + dense) + sum(
      int(np.prod(l.bias.shape)) for l in dense)
  return {'convs': len(convs), 'conv_fc_weights': weights,
          'trainable': sum(int(np.prod(v.shape)) for v in model.trainable_weights),
          'bn_per_width': dict(sorted(bn_per_width.items())),
          'macs': ran_macs.count_macs(model), 'graph': nodes[model.layers[-1].name]}


if __name__ == '__main__':
  for path in sys.argv[1:]:
    with open(path, encoding='utf-8') as f:
      print(path, from_prototxt(f.read()))
