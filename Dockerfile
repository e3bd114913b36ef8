# The project's container image. Every Kubeflow / Vertex AI pipeline step, the Vertex Trainer's
# workers and Dataflow's workers (--dataflow_sdk_container_image) run it.
# Build: make image [IMAGE=europe-docker.pkg.dev/PROJECT/REPO/ran-tfx:TAG]
#
# The base image holds TFX 1.16.0 with the versions requirements.lock pins for TensorFlow
# (2.16.2), tf-keras (2.16.0), Apache Beam (2.59.0), TF Transform, TFMA, TFDV and scipy (1.12.0,
# which reads ImageNet's meta.mat). It ships Pillow 10.4.0 where the lock pins 12.3.0, so Pillow
# is installed at the lock's version: the image decodes images as the tested code does.
# Its ENTRYPOINT is Beam's worker boot (/opt/apache/beam/boot), which Dataflow needs; Kubeflow
# and Vertex name their own command, so it stays as it is.
FROM gcr.io/tfx-oss-public/tfx:1.16.0

RUN python -m pip install --no-cache-dir --no-deps pillow==12.3.0

# The project sits at /ran-tfx (pipeline/kubeflow.py IMAGE_PROJECT_ROOT): compiled pipelines name
# its data_schemas/ there, and module paths such as components.trainer.run_fn import from it.
WORKDIR /ran-tfx
ENV PYTHONPATH=/ran-tfx \
    TF_USE_LEGACY_KERAS=1 \
    TF_ENABLE_ONEDNN_OPTS=1
COPY pyproject.toml requirements.lock runner.py ./
COPY data_schemas/ data_schemas/
COPY ran_model/ ran_model/
COPY components/ components/
COPY pipeline/ pipeline/
