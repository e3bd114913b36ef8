"""What the ImageNet reader and fixture-writer tests share: the editions and validation label
sources they run over, and a small fixture."""
from components.example_gen.formats import imagenet
from components.example_gen.formats import imagenet_fixture

WNIDS = imagenet_fixture.SAMPLE_WNIDS  # the fixture's class folders
STANDARD = imagenet.standard_wnids()  # the 1000 classes: label = index, whatever is present
SMALL = dict(train_per_class=2, val_per_class=2, image_size=(24, 16))
SOURCES = [('ilsvrc', 'devkit'), ('ilsvrc', 'synsets'), ('kaggle', 'devkit')]
PREFIX = {'ilsvrc': '', 'kaggle': 'ILSVRC/Data/CLS-LOC/'}  # where train/ and val/ are
KIT_FOX = 'n02119789'  # ILSVRC2012_ID 1


def write_small_fixture(data_root, edition, val_labels, **options):
  """imagenet_fixture.write_fixture with SMALL sizes unless `options` say otherwise."""
  return imagenet_fixture.write_fixture(str(data_root), edition=edition, val_labels=val_labels,
                                        **{**SMALL, **options})
