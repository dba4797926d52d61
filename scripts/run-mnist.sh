#!/usr/bin/env bash
# The main job: installs missing system packages, builds in release and runs mnist-iml with the
# arguments given (default: the paper's configuration over 5 seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift run -c release mnist-iml "$@"
