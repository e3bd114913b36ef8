"""Writing a small file so that a reader never sees half of it, on any filesystem tf.io.gfile
reads (local, gs://): the data goes to `<path>.partial`, which is then renamed over `path`."""
from typing import Union

import tensorflow as tf


def write(path: str, data: Union[str, bytes]) -> None:
  """Writes `data` (text, or bytes written as they are) to `path`, replacing any file there."""
  partial = path + '.partial'
  with tf.io.gfile.GFile(partial, 'wb' if isinstance(data, bytes) else 'w') as f:
    f.write(data)
  tf.io.gfile.rename(partial, path, overwrite=True)
