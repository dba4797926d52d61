#!/usr/bin/env bash
# Fuzzes the idx reader (Sources/idx-fuzz) with libFuzzer and AddressSanitizer for SECONDS seconds
# on one core. Crashing inputs go to $SCRATCH/idx-artifacts; replay one with a plain build:
#   swift run idx-fuzz PATH
# Usage: scripts/fuzz-idx.sh SECONDS   (env FUZZ_SCRATCH_PATH, default .build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz-idx.sh SECONDS (a positive whole number of seconds to fuzz)" >&2
    exit 2
fi
scratch="${FUZZ_SCRATCH_PATH:-.build-fuzz}"
corpus="$scratch/idx-corpus"
artifacts="$scratch/idx-artifacts"
mkdir -p "$corpus" "$artifacts"

# ld.gold crashes on the sanitizer objects of this toolchain; lld links them.
swift build --scratch-path "$scratch" --product idx-fuzz -c release \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld >&2
binary="$(swift build --scratch-path "$scratch" -c release --show-bin-path)/idx-fuzz"

# Seed corpus: small valid files of every kind, raw and gzip.
if [ -z "$(ls -A "$corpus")" ]; then
    python3 - "$corpus" <<'PY'
import gzip, struct, sys, os
out = sys.argv[1]
def images(n, r, c): return struct.pack(">IIII", 0x803, n, r, c) + bytes((i * 7) % 256 for i in range(n * r * c))
def labels(n): return struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))
seeds = {"images-2x28x28": images(2, 28, 28), "images-3x2x2": images(3, 2, 2), "images-0": images(0, 28, 28),
         "labels-5": labels(5), "labels-0": labels(0)}
for name, data in list(seeds.items()):
    seeds[name + ".gz"] = gzip.compress(data, mtime=0)
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
PY
fi

# Swift's own crash backtracer would hold libFuzzer's output pipe; libFuzzer reports crashes itself.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
"$binary" "$corpus" -max_total_time="$seconds" -workers=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1
