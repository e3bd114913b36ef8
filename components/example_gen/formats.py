"""The registry of dataset layouts ingestion reads, by name."""
import inspect
from typing import Any, Dict, List, Mapping, Type

from components.example_gen import bdd100k
from components.example_gen import cifar
from components.example_gen import cure_tsr
from components.example_gen import gtsrb
from components.example_gen import imagenet
from components.example_gen import manifest
from components.example_gen import tfrecords
from components.example_gen.layout import Layout

LAYOUTS: Dict[str, Type[Layout]] = {
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
  try:
    return LAYOUTS[dataset]
  except KeyError:
    raise ValueError(f'Unknown dataset {dataset!r}; known: {sorted(LAYOUTS)}') from None


def make_layout(dataset: str, data_root: str, options: Mapping[str, Any] = None) -> Layout:
  """The layout of `dataset` at `data_root`, with its reader options (seed, max_pixels and
  the format's own, e.g. gtsrb's crop_to_roi). Raises ValueError naming an unknown option."""
  cls = layout_class(dataset)
  check_options(cls, options or {})
  return cls(data_root, **dict(options or {}))


def check_options(cls: Type[Layout], options: Mapping[str, Any]):
  """ValueError naming the options `cls` does not take."""
  unknown = sorted(set(options) - set(option_names(cls)))
  if unknown:
    raise ValueError(f'Unknown option(s) {unknown} for dataset {cls.dataset!r}; '
                     f'it takes {option_names(cls)}')


def option_names(cls: Type[Layout]) -> List[str]:
  """The keyword-only options of a layout class and its bases."""
  return sorted({name for klass in cls.__mro__ if '__init__' in vars(klass)
                 for name, parameter in inspect.signature(klass.__init__).parameters.items()
                 if parameter.kind == inspect.Parameter.KEYWORD_ONLY})
