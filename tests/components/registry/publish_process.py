"""A registry publisher in its own process (for test_registry_processes.py).

  python publish_process.py ROOT SOURCE RUN_PREFIX COUNT START_FILE [STALL_MARKER]

Writes START_FILE.ready-RUN_PREFIX once imported, waits for START_FILE, then publishes SOURCE
COUNT times as model 'ran' (cards from runs RUN_PREFIX-0, ...) and prints one JSON line:
{"published": [[version, run id], ...], "clashes": renames refused because a number was taken}.
With STALL_MARKER it writes that file after copying two files and sleeps, to be killed there.
"""
import json
import os
import pathlib
import sys
import time

import tensorflow as tf

from components.registry import FilesystemRegistry
import fake_models


def main(root, source, run_prefix, count, start_file, stall_marker=None):
  real_copy, clashes, copies = tf.io.gfile.copy, [], []

  def stalling_copy(src, dst, overwrite=False):
    real_copy(src, dst, overwrite)
    copies.append(dst)
    if len(copies) == 2:
      pathlib.Path(stall_marker).write_text(os.path.dirname(dst))
      time.sleep(600)

  tf.io.gfile.rename = fake_models.racing_rename(tf.io.gfile.rename, clashes)
  if stall_marker:
    tf.io.gfile.copy = stalling_copy
  pathlib.Path(f'{start_file}.ready-{run_prefix}').touch()
  while not os.path.exists(start_file):
    time.sleep(0.001)
  registry = FilesystemRegistry(root)
  published = [(registry.publish('ran', source, fake_models.card(f'{run_prefix}-{k}')).number,
                f'{run_prefix}-{k}') for k in range(int(count))]
  print(json.dumps({'published': published, 'clashes': len(clashes)}))


if __name__ == '__main__':
  main(*sys.argv[1:])
