#!/usr/bin/env bash
# Reads a run's TensorBoard event files with TensorBoard's own reader and checks every scalar
# against the run's metrics.jsonl. Usage: scripts/check-tensorboard.sh RUN_DIR
# The product never needs Python; this check does, so it keeps its own virtual environment in
# .build-tensorboard-venv/ (git-ignored), built on first use (about 11 s) and whenever the pins change.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 RUN_DIR   (a run directory with metrics.jsonl, config.json and tensorboard/)" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.build-tensorboard-venv"
# tensorboard and everything it pulls in, pinned so that CI reads the files the same way every time.
requirements="tensorboard==2.21.0 tensorboard-data-server==0.7.2 protobuf==7.36.2 numpy==2.4.6 grpcio==1.85.3
absl-py==2.5.1 markdown==3.11.3 markupsafe==3.0.4 werkzeug==3.1.9 pillow==13.0.0 packaging==26.4 typing-extensions==4.16.0"

if [ "$(cat "$venv/requirements.txt" 2>/dev/null)" != "$requirements" ] || ! "$venv/bin/python" -c "import tensorboard" 2>/dev/null; then
  echo "Installing tensorboard into $venv ..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086  # one argument per pin
  "$venv/bin/pip" install --quiet --disable-pip-version-check $requirements
  printf '%s' "$requirements" > "$venv/requirements.txt"
fi
exec "$venv/bin/python" "$root/scripts/check-tensorboard.py" "$1"
