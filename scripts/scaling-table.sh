#!/usr/bin/env bash
# The scaling table of docs/performance.md ("How the cost grows"): wall time, CPU time and peak memory of short runs as the work
# grows (entities, grid, model width, seeds for mnist-iml; entities and width for text-iml).
# Each row is one `run` of 2 stage-1 epochs and 1 stage-2 epoch on all cores, so a row's time is
# data preparation plus 3 epochs of training and the evaluations after each.
#
#   scripts/scaling-table.sh [OUT_DIR]      (MNIST_DIR must name the MNIST files; ~20 min on 2 cores)
#
# Prints a markdown table; the runs go to OUT_DIR (default a temporary directory, removed after).
# Run it on a quiet machine: the times are wall-clock.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MNIST_DIR:?set MNIST_DIR to the directory with the MNIST idx files}"
swift build -c release --product mnist-iml >/dev/null
swift build -c release --product text-iml >/dev/null
bin=.build/release
out=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$out"' EXIT
mkdir -p "$out"

short=(--epochs1 2 --epochs2 1 --blas-core Haswell)
echo "| tool | varied | setting | seeds | wall s | CPU s | peak MB |"
echo "|---|---|---|---|---|---|---|"
row() {  # row TOOL VARIED SETTING SEEDS ARGS...
    local tool=$1 varied=$2 setting=$3 seeds=$4
    shift 4
    local dir="$out/$tool-$varied-$setting-$seeds"
    rm -rf "$dir"
    /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$bin/$tool" run "${short[@]}" --seeds "$seeds" "$@" --out "$dir" >/dev/null 2>"$out/stderr" \
        || { echo "failed: $tool $* (see $out/stderr)" >&2; exit 1; }
    read -r wall user sys kb < "$out/time"
    printf "| %s | %s | %s | %s | %.1f | %.1f | %d |\n" "$tool" "$varied" "$setting" "$seeds" "$wall" "$(awk "BEGIN { print $user + $sys }")" "$((kb / 1024))"
}

# MNIST: entities at --grid 3 (2x2 grids have 10^4 variables, too few for 16000 distinct entities).
for e in 1000 4000 16000; do row mnist-iml entities "$e" 1 --entities "$e" --grid 3; done
for g in 2 3; do row mnist-iml grid "$g" 1 --grid "$g"; done
row mnist-iml width x0.5 1 --conv-channels 8,16,16 --hidden 128,128
row mnist-iml width x1 1
row mnist-iml width x2 1 --conv-channels 32,64,64 --hidden 512,512
for s in 1 2 5; do row mnist-iml seeds "$s" "$s"; done
# Text: entities and width (--set-able model sizes as in the size study).
for e in 1000 4000 16000; do row text-iml entities "$e" 1 --entities "$e"; done
for w in 64 128 256; do row text-iml width "$w" 1 --width "$w"; done
