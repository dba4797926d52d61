#!/usr/bin/env bash
# The project's test command: installs missing system packages, then runs the whole test suite.
# Tests that need the real MNIST read it from $MNIST_DIR (skipped with a printed reason when unset).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
