#!/usr/bin/env bash
# Reruns every run the README quotes, into results/published/<name>/, on the pinned Haswell
# OpenBLAS kernel (any x86-64 processor with AVX2 gives the same bytes). config.json and
# summary.json of each (and analysis/*.json of the analysed ones) are committed; scripts/render-results.sh then rewrites the README's tables.
# Usage: scripts/reproduce-results.sh [NAME...]   (default: all, in this order; about 3 hours
# on 2 cores). Needs MNIST (see README). Runs that already finished are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product mnist-iml >&2
swift build -c release --product text-iml >&2
bin=.build/release
out=results/published
pin=(--blas-core Haswell)

declare -A commands=(
  [mnist-default]="$bin/mnist-iml run --seeds 5"
  [text-default]="$bin/text-iml run --seeds 5"
  [mnist-seeds-5-9]="$bin/mnist-iml run --seeds 5 --first-seed 5"
  [mnist-sweep-alpha]="$bin/mnist-iml sweep --alpha 0.5,0.75,0.9,1 --seeds 5"
  [text-order-tve]="$bin/text-iml run --order tve --seeds 4"
  [text-batch-documents]="$bin/text-iml run --batch-unit documents --seeds 5"
  [mnist-sweep-batch]="$bin/mnist-iml sweep --batch-size 8,16,32,64,128,256 --seeds 5"
  # Runs that keep their weights every 5 stage-1 epochs, for `analyze` (below).
  [mnist-analysis]="$bin/mnist-iml run --seeds 5 --save-every 5"
  [text-analysis]="$bin/text-iml run --seeds 5 --save-every 5"
  [text-analysis-tve]="$bin/text-iml run --order tve --seeds 5 --save-every 5"
  [mnist-analysis-batch-256]="$bin/mnist-iml run --seeds 5 --batch-size 256 --save-every 5"
  [mnist-analysis-batch-32]="$bin/mnist-iml run --seeds 5 --batch-size 32 --save-every 5"
  [text-sweep-order]="$bin/text-iml sweep --set order=vet,tev,evt,etv --seeds 5"
  [text-examples-embedding-std-1]="$bin/text-iml run --batch-unit examples --embedding-std 1 --seeds 5"
  [text-documents-embedding-std-1]="$bin/text-iml run --batch-unit documents --embedding-std 1 --seeds 5"
  [mnist-width-half]="$bin/mnist-iml run --conv-channels 8,16,16 --hidden 128,128 --seeds 5"
  [mnist-width-double]="$bin/mnist-iml run --conv-channels 32,64,64 --hidden 512,512 --seeds 3"
  [mnist-poster]="$bin/mnist-iml run --design poster --redraw every-epoch --entities 200 --epochs1 150 --seeds 4"
)
order=(mnist-default text-default mnist-seeds-5-9 mnist-sweep-alpha text-order-tve text-batch-documents mnist-sweep-batch
       mnist-analysis text-analysis text-analysis-tve mnist-analysis-batch-256 mnist-analysis-batch-32 text-sweep-order
       text-examples-embedding-std-1 text-documents-embedding-std-1 mnist-width-half mnist-width-double mnist-poster)
[ $# -gt 0 ] && order=("$@")

for name in "${order[@]}"; do
  command="${commands[$name]:-}"
  if [ -z "$command" ]; then echo "unknown result $name; known: ${!commands[*]}" >&2; exit 2; fi
  if [ -f "$out/$name/summary.json" ] || [ -f "$out/$name/sweep.md" ]; then echo "== $name: done, skipped" >&2; continue; fi
  echo "== $name: $command ${pin[*]} --out $out/$name" >&2
  $command "${pin[@]}" --out "$out/$name" > /dev/null
done
# The analyses of the runs that kept their weights (gradient alignment along stage 1, probes).
for name in "${order[@]}"; do
  [[ "$name" == *analysis* ]] || continue
  tool=$bin/mnist-iml; [[ "$name" == text-* ]] && tool=$bin/text-iml
  if [ -f "$out/$name/summary.json" ] && [ ! -f "$out/$name/analysis/alignment.json" ]; then
    echo "== $name: analyze --along-training" >&2
    $tool analyze "$out/$name" --along-training > /dev/null
  fi
done
# Ten MNIST seeds: the default run and seeds 5-9, merged.
if [ -f "$out/mnist-default/summary.json" ] && [ -f "$out/mnist-seeds-5-9/summary.json" ] && [ ! -f "$out/mnist-10-seeds/summary.json" ]; then
  $bin/mnist-iml merge "$out/mnist-default" "$out/mnist-seeds-5-9" --out "$out/mnist-10-seeds" > /dev/null
fi
