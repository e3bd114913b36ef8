# Two commands set everything up from nothing: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
STAMP := $(VENV)/.installed
# The container image every Kubeflow / Vertex step runs: PipelineConfig.container_image's default.
IMAGE ?= ran-tfx:latest
export TF_USE_LEGACY_KERAS := 1
# oneDNN kernels on every x86 CPU, not only those TensorFlow picks (runner.py says why).
export TF_ENABLE_ONEDNN_OPTS ?= 1
export TF_CPP_MIN_LOG_LEVEL ?= 1
export PYTHONHASHSEED ?= 0

.PHONY: run test bench lock clean venv image

run: $(STAMP)
	$(PY) runner.py --runner=local $(ARGS)

# .ci/ensure_chromium installs Debian's chromium for the dashboard's browser tests when it can.
# pytest-xdist runs the suite on PYTEST_WORKERS processes (0: in this one), a test file per
# worker at a time so each file's module fixtures run once (README, "Tests").
PYTEST_WORKERS ?= 2
test: $(STAMP)
	.ci/ensure_chromium
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/model_throughput.py

venv: $(STAMP)

# Builds the image (Dockerfile) and tags it $(IMAGE); push it with `docker push $(IMAGE)`.
image:
	docker build --tag $(IMAGE) .

# Reinstalls only when the lock file changes (make compares the stamp's time with the lock's).
$(STAMP): $(LOCK)
	@py=$$(.ci/find_python310) || exit 1; \
	  echo "Creating $(VENV) with $$py"; \
	  rm -rf $(VENV) && "$$py" -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --require-hashes -r $(LOCK)
	$(PY) -m pip check
	echo "$(CURDIR)" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ran_tfx.pth
	touch $@

# Re-resolves the pinned environment from pyproject.toml's dependencies (needs the registry;
# uv resolves TFX's dependency tree in seconds where pip backtracks for many minutes).
lock:
	@py=$$(.ci/find_python310) || exit 1; \
	  rm -rf /tmp/ran-tfx-lock && "$$py" -m venv /tmp/ran-tfx-lock
	/tmp/ran-tfx-lock/bin/python -m pip install --quiet uv==0.13.9
	/tmp/ran-tfx-lock/bin/uv pip compile pyproject.toml --quiet --generate-hashes \
	  --python-version 3.10 --python-platform x86_64-manylinux_2_28 --output-file $(LOCK)

clean:
	rm -rf $(VENV) outputs
