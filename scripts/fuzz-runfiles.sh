#!/usr/bin/env bash
# Fuzzes the readers of run files (Sources/runfile-fuzz: JSON, metrics lines and metrics.jsonl,
# config.json, summary.json, checkpoint header, records and payload) with libFuzzer and
# AddressSanitizer for SECONDS seconds on one core. Crashing inputs go to
# $SCRATCH/runfile-artifacts; replay one with a plain build:
#   swift run runfile-fuzz PATH
# Usage: scripts/fuzz-runfiles.sh SECONDS   (env FUZZ_SCRATCH_PATH, default .build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz-runfiles.sh SECONDS (a positive whole number of seconds to fuzz)" >&2
    exit 2
fi
scratch="${FUZZ_SCRATCH_PATH:-.build-fuzz}"
corpus="$scratch/runfile-corpus"
artifacts="$scratch/runfile-artifacts"
mkdir -p "$corpus" "$artifacts"

# ld.gold crashes on the sanitizer objects of this toolchain; lld links them.
swift build --scratch-path "$scratch" --product runfile-fuzz -c release \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld >&2
binary="$(swift build --scratch-path "$scratch" -c release --show-bin-path)/runfile-fuzz"

# Seed corpus: valid run files of a tiny run, written by the plain build of the same program.
if [ -z "$(ls -A "$corpus")" ]; then
    swift build --product runfile-fuzz >&2
    "$(swift build --show-bin-path)/runfile-fuzz" --seed-corpus "$corpus"
fi

# Swift's own crash backtracer would hold libFuzzer's output pipe; libFuzzer reports crashes itself.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
"$binary" "$corpus" -max_total_time="$seconds" -workers=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1
