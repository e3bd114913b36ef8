"""The dataset formats ingestion reads, one module each, and their registry by dataset name.

Each module reads one dataset's published layout (a `Layout` subclass) and writes a small
fixture in exactly that layout for tests (`write_fixture`; in `<name>_fixture.py` where the
reader alone is long).
"""
import inspect
from typing import Any, Dict, List, Mapping, Type

from components.example_gen.formats import bdd100k
from components.example_gen.formats import cifar
from components.example_gen.formats import cure_tsr
from components.example_gen.formats import gtsrb
from components.example_gen.formats import imagenet
from components.example_gen.formats import manifest
from components.example_gen.formats import tfrecords
from components.example_gen.layout import Layout

LAYOUT_CLASSES: Dict[str, Type[Layout]] = {
    layout.dataset: layout for layout in (
        bdd100k.Bdd100k,
        cifar.Cifar10,
        cifar.Cifar100,
        cure_tsr.CureTsr,
        imagenet.ImageNet,
        manifest.Manifest,
        gtsrb.Gtsrb,
        tfrecords.TfRecords,
    )
}


def layout_class(dataset: str) -> Type[Layout]:
  """The Layout class registered as `dataset`; ValueError naming the known ones."""
  try:
    return LAYOUT_CLASSES[dataset]
  except KeyError:
    raise ValueError(f'Unknown dataset {dataset!r}; known: {sorted(LAYOUT_CLASSES)}') from None


def make_layout(dataset: str, data_root: str, options: Mapping[str, Any] = None) -> Layout:
  """The layout of `dataset` at `data_root`, with its reader options (seed, max_pixels and
  the format's own, e.g. gtsrb's crop_to_roi). Raises ValueError naming an unknown option."""
  check_options(dataset, options or {})
  return layout_class(dataset)(data_root, **dict(options or {}))


def check_options(dataset: str, options: Mapping[str, Any]):
  """ValueError naming an unknown dataset, or the options its layout does not take."""
  cls = layout_class(dataset)
  unknown = sorted(set(options) - set(option_names(cls)))
  if unknown:
    raise ValueError(f'Unknown option(s) {unknown} for dataset {dataset!r}; '
                     f'it takes {option_names(cls)}')


def option_names(cls: Type[Layout]) -> List[str]:
  """The keyword-only options of a layout class and its bases."""
  return sorted({name for klass in cls.__mro__ if '__init__' in vars(klass)
                 for name, parameter in inspect.signature(klass.__init__).parameters.items()
                 if parameter.kind == inspect.Parameter.KEYWORD_ONLY})
