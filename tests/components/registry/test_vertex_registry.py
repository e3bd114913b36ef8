"""The Vertex AI Model Registry upload: built from a model card and checked offline (no call
here reaches Google Cloud; aiplatform.Model.upload is replaced)."""
import hashlib
import inspect
import json
import re

import pytest
from google.cloud import aiplatform

from components.registry import vertex
import fake_models

_LABEL_KEY = re.compile(r'[a-z][a-z0-9_-]{0,62}')
_LABEL_VALUE = re.compile(r'[a-z0-9_-]{0,63}')
_IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest'
_PARENT = 'projects/p/locations/europe-west4/models/123'


def _request(card, model_name='ran', **overrides):
  return vertex.build_upload_request(
      model_name, card, **{'artifact_uri': 'gs://bucket/registry/ran/3',
                           'serving_container_image_uri': _IMAGE, 'parent_model': _PARENT,
                           'version_aliases': ('staging', 'candidate-7'), 'project': 'p',
                           'location': 'europe-west4', **overrides})


def test_the_request_adds_a_labelled_aliased_version_to_the_parent_model():
  card = fake_models.card('Run 2024-01-01T00:00:00 #7', code_version='v1.2.3+Local',
                          baseline_version=2, source_uri='gs://bucket/pipeline/Trainer/model/9',
                          evaluation_uri='gs://bucket/pipeline/Evaluator/evaluation/10',
                          created_at='2024-01-01T01:00:00+00:00')
  request = _request(card)
  description = json.loads(request.pop('version_description'))
  assert request == {
      'display_name': 'ran', 'parent_model': _PARENT,
      'artifact_uri': 'gs://bucket/registry/ran/3', 'serving_container_image_uri': _IMAGE,
      'version_aliases': ['staging', 'candidate-7'], 'is_default_version': True,
      'project': 'p', 'location': 'europe-west4',
      'labels': {'model': 'ran', 'pipeline_run': 'run_2024-01-01t00_00_00__7',
                 'blessed': 'true', 'code_version': 'v1_2_3_local', 'baseline_version': '2',
                 'examples': hashlib.sha256(card.examples_fingerprint.encode()).hexdigest()[:16],
                 'metric_accuracy': '0_9312', 'metric_loss': '0_25'}}
  assert description == {
      'metrics': {'accuracy': 0.9312, 'loss': 0.25}, 'blessed': True,
      'blessing_reasons': ['accuracy 0.9312 >= 0.5'], 'baseline_version': 2,
      'examples_fingerprint': card.examples_fingerprint, 'pipeline_run_id': card.pipeline_run_id,
      'code_version': 'v1.2.3+Local', 'source_uri': 'gs://bucket/pipeline/Trainer/model/9',
      'evaluation_uri': 'gs://bucket/pipeline/Evaluator/evaluation/10',
      'created_at': '2024-01-01T01:00:00+00:00'}
  inspect.signature(aiplatform.Model.upload).bind(**_request(card))  # the SDK takes every key


def test_labels_keep_to_vertex_rules_whatever_the_names_and_values():
  card = fake_models.card('R' * 100, code_version='ÄÖ/ü', metrics={
      'Top-K Accuracy/at 5': 0.5, 'x' * 100: -1.5e-7, 'loss': 12345.678, 'auc': float('nan')})
  labels = _request(card, model_name='Attention.92_' + 'A' * 100)['labels']
  assert len(labels) == 10
  for key, value in labels.items():
    assert _LABEL_KEY.fullmatch(key) and _LABEL_VALUE.fullmatch(value), (key, value)
  assert labels['model'] == 'attention_92_' + 'a' * 50
  assert labels['metric_top-k_accuracy_at_5'] == '0_5'
  assert labels['metric_' + 'x' * 56] == '-1_5e-07'
  assert labels['metric_loss'] == '1_235e_04' and labels['metric_auc'] == 'nan'
  assert labels['code_version'] == '____'  # outside [a-z0-9_-], even if Vertex took Unicode


def test_metrics_whose_labels_would_clash_or_overflow_are_refused():
  with pytest.raises(ValueError, match="metric 'a_b' clashes with another label as 'metric_a_b'"):
    _request(fake_models.card(metrics={'a.b': 1.0, 'a_b': 2.0}))
  with pytest.raises(ValueError, match=r'66 labels \(60 metrics\), Vertex takes at most 64'):
    _request(fake_models.card(metrics={f'm{i}': 0.0 for i in range(60)}))


@pytest.mark.parametrize('overrides, message', [
    ({'artifact_uri': '/local/ran/3'}, "artifact_uri '/local/ran/3' is not a gs:// path"),
    ({'version_aliases': ('Production',)}, "version alias 'Production' does not match"),
    ({'version_aliases': ('7',)}, "version alias '7' does not match"),
    ({'version_aliases': ('stage_2',)}, "version alias 'stage_2' does not match"),
    ({'model_name': '../ran'}, "model name '../ran' is not a simple name"),
])
def test_bad_uris_aliases_and_names_are_refused_naming_the_value(overrides, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    _request(fake_models.card(), **overrides)


def test_upload_passes_exactly_the_built_request_to_aiplatform(monkeypatch):
  calls = []

  def fake_upload(**kwargs):
    calls.append(kwargs)
    return 'uploaded model'

  monkeypatch.setattr(aiplatform.Model, 'upload', fake_upload)
  request = _request(fake_models.card())
  assert vertex.upload(request) == 'uploaded model'
  assert calls == [_request(fake_models.card())]
