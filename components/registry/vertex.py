"""Vertex AI Model Registry: a registered model as a new version of a parent model.

`build_upload_request` is pure: it returns the keyword arguments of
`google.cloud.aiplatform.Model.upload` (display name, parent model, artifact URI, serving
container, version aliases, labels and description from the model card); `upload` makes that
one call. Labels follow Google Cloud's rules: at most 64, keys and values of at most 63
characters from [a-z0-9_-], keys starting with a letter.
"""
import dataclasses
import hashlib
import json
import re
from typing import Any, Dict, Optional, Sequence

from components.registry import names
from components.registry.model_card import ModelCard

MAX_LABELS = 64
_LABEL_LENGTH = 63
_NOT_IN_LABELS = re.compile(r'[^a-z0-9_-]')
_VERSION_ALIAS = re.compile(r'[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]')  # Vertex's version alias format
_DESCRIBED = ('metrics', 'blessed', 'blessing_reasons', 'examples_fingerprint', 'pipeline_run_id',
              'baseline_version', 'code_version', 'source_uri', 'evaluation_uri', 'created_at')


def label_value(text: Any) -> str:
  """`text` as a label value: lowercased, characters outside [a-z0-9_-] as '_', <= 63 chars."""
  return _NOT_IN_LABELS.sub('_', str(text).lower())[:_LABEL_LENGTH]


def card_labels(model_name: str, card: ModelCard) -> Dict[str, str]:
  """Labels to filter versions by: model, run, blessing, code, baseline, data, overall metrics.

  Metric m with value v becomes `metric_<m>: <v to 4 significant digits>`, '.' as '_'
  (accuracy 0.93124 -> metric_accuracy: 0_9312); the examples' fingerprint becomes the first
  16 hex digits of its SHA-256.
  """
  labels = {
      'model': label_value(model_name),
      'pipeline_run': label_value(card.pipeline_run_id),
      'blessed': label_value(card.blessed),
      'code_version': label_value(card.code_version),
      'baseline_version': label_value(card.baseline_version),
      'examples': hashlib.sha256(card.examples_fingerprint.encode()).hexdigest()[:16],
  }
  for name, value in sorted(card.metrics.items()):
    key = label_value(f'metric_{name}')
    if key in labels:
      raise ValueError(f'metric {name!r} clashes with another label as {key!r}')
    labels[key] = label_value(f'{value:.4g}')
  if len(labels) > MAX_LABELS:
    raise ValueError(f'{len(labels)} labels ({len(card.metrics)} metrics), Vertex takes at '
                     f'most {MAX_LABELS}')
  return labels


def build_upload_request(model_name: str, card: ModelCard, *, artifact_uri: str,
                         serving_container_image_uri: str, parent_model: Optional[str] = None,
                         version_aliases: Sequence[str] = (), is_default_version: bool = True,
                         project: Optional[str] = None,
                         location: Optional[str] = None) -> Dict[str, Any]:
  """Keyword arguments of `aiplatform.Model.upload` for `card`'s model as a new version.

  Args:
    model_name: the model's display name (a simple name, see names.check_name).
    card: its model card: labels and the version description come from it.
    artifact_uri: gs:// directory holding the SavedModel (e.g. a filesystem registry version).
    serving_container_image_uri: the prediction container (e.g. a prebuilt TF serving image).
    parent_model: resource name or ID of the model to add a version to; None makes a new model.
    version_aliases: e.g. ('staging',), in Vertex's format [a-z][a-zA-Z0-9-]{0,126}[a-z0-9].
    is_default_version: whether the new version becomes the model's default.
    project, location: the Google Cloud project and region (None: aiplatform's defaults).
  """
  if not artifact_uri.startswith('gs://'):
    raise ValueError(f'artifact_uri {artifact_uri!r} is not a gs:// path; Vertex reads models '
                     'from Cloud Storage')
  for alias in version_aliases:
    if not _VERSION_ALIAS.fullmatch(alias):
      raise ValueError(f'version alias {alias!r} does not match [a-z][a-zA-Z0-9-]{{0,126}}[a-z0-9]')
  card_fields = dataclasses.asdict(card)
  return {
      'display_name': names.check_name(model_name),
      'parent_model': parent_model,
      'artifact_uri': artifact_uri,
      'serving_container_image_uri': serving_container_image_uri,
      'version_aliases': list(version_aliases),
      'is_default_version': is_default_version,
      'version_description': json.dumps({k: card_fields[k] for k in _DESCRIBED}, sort_keys=True),
      'labels': card_labels(model_name, card),
      'project': project,
      'location': location,
  }


def upload(request: Dict[str, Any]):
  """Uploads `request` (from build_upload_request) with aiplatform; returns the aiplatform Model.

  Needs Google Cloud credentials and network access.
  """
  from google.cloud import aiplatform  # pylint: disable=g-import-not-at-top  # ~3 s to import
  return aiplatform.Model.upload(**request)
