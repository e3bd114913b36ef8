"""What each pipeline step does: ExampleGen executors, Transform and Trainer code, evaluation."""
from tensorflow.python.autograph.core import config as _autograph_config

# TF 2.16's AutoGraph converts tf_keras' own code on every trace (attention_56_cifar's first
# train step: 31 s instead of 6 s on 2 cores); later TF releases leave tf_keras alone, as they
# always did keras (DoNotConvert('keras') in tensorflow/python/autograph/core/config.py).
_autograph_config.CONVERSION_RULES += (_autograph_config.DoNotConvert('tf_keras'),)
