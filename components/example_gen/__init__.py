"""Ingestion: a dataset in its published layout -> canonical tf.Examples, with bad input
quarantined and counted.

The framework: `layout` (the Layout contract every format implements), `spans` (a data root's
deliveries, span-<N>/ folders), `ingest` (the Beam transforms), `shards` (where TFRecords go),
`executor` (the TFX ExampleGen components, one span per execution) and `job` with `__main__`
(the standalone job). `formats/` holds one module per dataset format,
`sample/` the synthetic embedded sample.

The pipeline uses only the names below. The two component builders load TFX (about 4 s) on
first use, so Beam workers and the standalone job, which import the readers, never pay it.
"""
from components.example_gen.formats import check_options
from components.example_gen.formats import layout_class
from components.example_gen.formats import LAYOUT_CLASSES
from components.example_gen.formats import make_layout
from components.example_gen.formats.tfrecords import JOB_SPLIT_PATTERNS
from components.example_gen.formats.tfrecords import TPU_SPLIT_PATTERNS
from components.example_gen.layout import LayoutError
from components.example_gen.layout import span_folder
from components.example_gen.spans import span_root
from components.example_gen.spans import spans_of

_COMPONENT_BUILDERS = ('image_example_gen', 'import_example_gen')  # in executor.py

__all__ = ['check_options', 'image_example_gen', 'import_example_gen', 'JOB_SPLIT_PATTERNS',
           'LAYOUT_CLASSES', 'layout_class', 'LayoutError', 'make_layout', 'span_folder',
           'span_root', 'spans_of', 'TPU_SPLIT_PATTERNS']


def __getattr__(name: str):
  """`image_example_gen` and `import_example_gen`, imported from executor when first asked."""
  if name in _COMPONENT_BUILDERS:
    from components.example_gen import executor  # pylint: disable=g-import-not-at-top
    return getattr(executor, name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
