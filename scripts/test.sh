#!/usr/bin/env bash
# The project's test command: installs missing system packages, builds, reads small runs'
# TensorBoard files back with the real tensorboard package, then runs the whole test suite.
# Tests that need the real MNIST read it from $MNIST_DIR (skipped with a printed reason when unset).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
bash scripts/check-tensorboard-runs.sh .build/debug
swift test --skip-build "$@"
