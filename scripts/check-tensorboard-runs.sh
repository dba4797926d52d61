#!/usr/bin/env bash
# Makes small runs with the built tools and reads their TensorBoard event files back with the
# real `tensorboard` package (scripts/check-tensorboard.sh), comparing every scalar with
# metrics.jsonl: a text run, a merge of two one-seed runs, and an MNIST run when $MNIST_DIR is set.
# Usage: scripts/check-tensorboard-runs.sh [BUILD_DIR]   (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/debug}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tiny=(--entities 40 --epochs1 2 --epochs2 1 --threads 2)
"$bin/text-iml" run "${tiny[@]}" --seeds 2 --out "$work/text" > /dev/null 2>&1
"$bin/text-iml" run "${tiny[@]}" --seeds 1 --out "$work/a" > /dev/null 2>&1
"$bin/text-iml" run "${tiny[@]}" --seeds 1 --first-seed 1 --out "$work/b" > /dev/null 2>&1
"$bin/text-iml" merge "$work/a" "$work/b" --out "$work/merged" > /dev/null 2>&1
runs=("$work/text" "$work/merged")
if [ -n "${MNIST_DIR:-}" ]; then
  "$bin/mnist-iml" run "${tiny[@]}" --seeds 2 --out "$work/mnist" > /dev/null 2>&1
  runs+=("$work/mnist")
fi
for run in "${runs[@]}"; do bash scripts/check-tensorboard.sh "$run"; done
