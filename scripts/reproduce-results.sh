#!/usr/bin/env bash
# Reruns every run the README and docs/results.md quote, into results/published/<name>/, on the pinned Haswell
# OpenBLAS kernel (any x86-64 processor with AVX2 gives the same bytes). config.json and
# summary.json of each (and analysis/*.json, analysis-answer/alignment.json of the analysed ones) are committed; then `swift run iml-compare --readme README.md` rewrites the tables of both (docs/reproducing.md).
# Usage: scripts/reproduce-results.sh [NAME...]   (default: all, in this order; about 8 hours
# on 2 cores). Needs MNIST (see README). Runs that already finished on this machine are skipped;
# on a fresh clone, which has only each run's committed files, every named run is made again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product mnist-iml >&2
swift build -c release --product text-iml >&2
swift build -c release --product set-iml >&2
bin=.build/release
out=results/published
pin=(--blas-core Haswell)

declare -A commands=(
  # The default runs keep their weights every 5 stage-1 epochs, for `analyze` (below).
  [mnist-default]="$bin/mnist-iml run --seeds 5"
  [text-default]="$bin/text-iml run --seeds 5 --save-every 5"
  [mnist-seeds-5-9]="$bin/mnist-iml run --seeds 5 --first-seed 5"
  [mnist-seeds-10-19]="$bin/mnist-iml run --seeds 10 --first-seed 10"
  [text-seeds-5-19]="$bin/text-iml run --seeds 15 --first-seed 5"
  [mnist-sweep-alpha]="$bin/mnist-iml sweep --alpha 0.5,0.75,0.9,1 --seeds 5"
  [text-order-tve]="$bin/text-iml run --order tve --seeds 5 --save-every 5"
  [text-batch-examples]="$bin/text-iml run --batch-unit examples --seeds 5"
  [mnist-sweep-batch]="$bin/mnist-iml sweep --batch-size 8,16,32,64,128,256 --seeds 5"
  [mnist-analysis]="$bin/mnist-iml run --seeds 5 --save-every 5"
  [mnist-analysis-batch-256]="$bin/mnist-iml run --seeds 5 --batch-size 256 --save-every 5"
  [mnist-analysis-batch-32]="$bin/mnist-iml run --seeds 5 --batch-size 32 --save-every 5"
  # Made when batches of examples were the text default (commit 81cdafe; 05daee4 for tve).
  [text-sweep-order]="$bin/text-iml sweep --set order=vet,tev,evt,etv --batch-unit examples --seeds 5"
  [text-order-tve-examples]="$bin/text-iml run --order tve --batch-unit examples --seeds 5 --save-every 5"
  [text-analysis-examples]="$bin/text-iml run --batch-unit examples --seeds 5 --save-every 5"
  [text-examples-embedding-std-1]="$bin/text-iml run --batch-unit examples --embedding-std 1 --seeds 5"
  [text-documents-embedding-std-1]="$bin/text-iml run --batch-unit documents --embedding-std 1 --seeds 5"
  [mnist-width-half]="$bin/mnist-iml run --conv-channels 8,16,16 --hidden 128,128 --seeds 5"
  [mnist-width-double]="$bin/mnist-iml run --conv-channels 32,64,64 --hidden 512,512 --seeds 3"
  [mnist-width-double-seeds-3-4]="$bin/mnist-iml run --conv-channels 32,64,64 --hidden 512,512 --seeds 2 --first-seed 3"
  [text-sweep-width]="$bin/text-iml sweep --set width=64,256 --seeds 3"
  [text-sweep-layers]="$bin/text-iml sweep --set layers=1,4 --seeds 3"
  [mnist-poster]="$bin/mnist-iml run --design poster --redraw every-epoch --entities 200 --epochs1 150 --seeds 4"
  [mnist-poster-seeds-4-7]="$bin/mnist-iml run --design poster --redraw every-epoch --entities 200 --epochs1 150 --seeds 4 --first-seed 4"
  # The paper's batch-size claim: stage 1 alone, 40 epochs, lr = 1e-3 * sqrt(B / 64).
  [mnist-one-stage-batch-16]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 16 --lr 0.0005 --seeds 3"
  [mnist-one-stage-batch-32]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 32 --lr 0.000707 --seeds 3"
  [mnist-one-stage-batch-64]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 64 --lr 0.001 --seeds 3"
  [mnist-one-stage-batch-128]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 128 --lr 0.001414 --seeds 3"
  [mnist-one-stage-batch-256]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 256 --lr 0.002 --seeds 3"
  [mnist-one-stage-batch-512]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 512 --lr 0.002828 --seeds 3"
  [mnist-one-stage-batch-16-seeds-3-4]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 16 --lr 0.0005 --seeds 2 --first-seed 3"
  [mnist-one-stage-batch-32-seeds-3-4]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 32 --lr 0.000707 --seeds 2 --first-seed 3"
  [mnist-one-stage-batch-64-seeds-3-4]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 64 --lr 0.001 --seeds 2 --first-seed 3"
  [mnist-one-stage-batch-128-seeds-3-4]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 128 --lr 0.001414 --seeds 2 --first-seed 3"
  [mnist-one-stage-batch-256-seeds-3-4]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 256 --lr 0.002 --seeds 2 --first-seed 3"
  [mnist-one-stage-batch-512-seeds-3-4]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 512 --lr 0.002828 --seeds 2 --first-seed 3"
  # The same study with the learning rate fixed at 1e-3 (batch 64 is the point above).
  [mnist-one-stage-fixed-lr-batch-16]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 16 --lr 0.001 --seeds 5"
  [mnist-one-stage-fixed-lr-batch-32]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 32 --lr 0.001 --seeds 5"
  [mnist-one-stage-fixed-lr-batch-128]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 128 --lr 0.001 --seeds 5"
  [mnist-one-stage-fixed-lr-batch-256]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 256 --lr 0.001 --seeds 5"
  [mnist-one-stage-fixed-lr-batch-512]="$bin/mnist-iml run --stages 1 --epochs1 40 --batch-size 512 --lr 0.001 --seeds 5"
  # The four other word orders with batches of documents (vte and tve are text-default and text-order-tve).
  [text-sweep-order-documents]="$bin/text-iml sweep --set order=vet,tev,evt,etv --seeds 5"
  # Definitions first (the authors' 20 + 20): as many epochs of definitions as of questions.
  [mnist-definitions-first]="$bin/mnist-iml run --definitions-first 30 --epochs1 60 --seeds 5"
  [text-definitions-first]="$bin/text-iml run --definitions-first 40 --epochs1 80 --seeds 5"
  # The paper's two-hop design from scratch, with the entity-association test.
  [text-named]="$bin/text-iml run --design named --seeds 5"
  # Set inclusion, the paper's from-scratch task (its main config and its d3consis variant, scaled).
  [set-default]="$bin/set-iml run --seeds 5"
  [set-seeds-5-9]="$bin/set-iml run --seeds 5 --first-seed 5"
  [set-d3consis]="$bin/set-iml run --seeds 5 --tag1-fraction 0.35 --tag2-fraction 0.35 --stage2-weights 1,1,1,0"
  [set-fixed-lists]="$bin/set-iml run --lists fixed --seeds 1"
  # The authors' data amounts (1000 is mnist-default).
  [mnist-sweep-entities]="$bin/mnist-iml sweep --set entities=250,500,2000 --seeds 5"
  [text-sweep-entities]="$bin/text-iml sweep --set entities=250,500,2000 --seeds 5"
  # When IML appears: stage 2 from each saved stage-1 epoch of a run (which must be made first,
  # on this machine: a clone has no models). MNIST keeps every epoch's model for the fine grid.
  [mnist-analysis-every-epoch]="$bin/mnist-iml run --seeds 5 --save-every 1"
  [mnist-when]="$bin/mnist-iml sweep --stage2-from $out/mnist-analysis-every-epoch --set epochs1=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,20,25,30"
  [text-when]="$bin/text-iml sweep --stage2-from $out/text-default --set epochs1=0,5,10,15,20,25,30,35,40"
  # The default runs with bf16 products (needs AVX512-BF16; the kernel pin changes nothing in them).
  [mnist-bf16]="$bin/mnist-iml run --seeds 5 --precision bf16"
  [text-bf16]="$bin/text-iml run --seeds 5 --precision bf16"
  # The authors' controls: qd4consis takes the entities q holds by default, and d2incons is asked.
  [mnist-controls]="$bin/mnist-iml run --seeds 5 --question-only-fraction 0 --qd4consis-fraction 0.1 --d2incons true"
  [text-controls]="$bin/text-iml run --seeds 5 --question-only-fraction 0 --qd4consis-fraction 0.1 --d2incons true"
)
order=(mnist-default text-default mnist-seeds-5-9 mnist-seeds-10-19 text-seeds-5-19 mnist-sweep-alpha text-order-tve
       text-batch-examples text-analysis-examples text-order-tve-examples mnist-sweep-batch mnist-analysis mnist-analysis-batch-256
       mnist-analysis-batch-32 text-sweep-order text-examples-embedding-std-1 text-documents-embedding-std-1 mnist-width-half
       mnist-width-double mnist-width-double-seeds-3-4 text-sweep-width text-sweep-layers mnist-poster mnist-poster-seeds-4-7
       mnist-one-stage-batch-16 mnist-one-stage-batch-32 mnist-one-stage-batch-64 mnist-one-stage-batch-128
       mnist-one-stage-batch-256 mnist-one-stage-batch-512 text-sweep-order-documents mnist-definitions-first
       text-definitions-first text-named set-default set-seeds-5-9 set-d3consis
       set-fixed-lists mnist-controls text-controls mnist-sweep-entities text-sweep-entities mnist-analysis-every-epoch mnist-when text-when mnist-bf16 text-bf16
       mnist-one-stage-batch-16-seeds-3-4 mnist-one-stage-batch-32-seeds-3-4 mnist-one-stage-batch-64-seeds-3-4
       mnist-one-stage-batch-128-seeds-3-4 mnist-one-stage-batch-256-seeds-3-4 mnist-one-stage-batch-512-seeds-3-4
       mnist-one-stage-fixed-lr-batch-16 mnist-one-stage-fixed-lr-batch-32 mnist-one-stage-fixed-lr-batch-128 mnist-one-stage-fixed-lr-batch-256 mnist-one-stage-fixed-lr-batch-512)
# The runs whose saved models `analyze --along-training` studies (gradient alignment, probes).
analysed=(mnist-analysis mnist-analysis-every-epoch text-default text-order-tve text-analysis-examples text-order-tve-examples mnist-analysis-batch-256 mnist-analysis-batch-32 set-default)
[ $# -gt 0 ] && order=("$@")

for name in "${order[@]}"; do
  command="${commands[$name]:-}"
  if [ -z "$command" ]; then echo "unknown result $name; known: ${!commands[*]}" >&2; exit 2; fi
  # Done here: the run wrote its figure on this machine (a clone has only the committed files,
  # which the run then replaces with the same bytes, hence --force).
  if [ -f "$out/$name/curves.png" ] || [ -f "$out/$name/sweep.md" ]; then echo "== $name: done, skipped" >&2; continue; fi
  force=(); [ -d "$out/$name" ] && force=(--force)
  echo "== $name: $command ${pin[*]} ${force[*]} --out $out/$name" >&2
  $command "${pin[@]}" "${force[@]}" --out "$out/$name" > /dev/null
done
# The analyses of the runs that kept their weights (gradient alignment along stage 1, probes).
for name in "${analysed[@]}"; do
  tool=$bin/mnist-iml; [[ "$name" == text-* ]] && tool=$bin/text-iml; [[ "$name" == set-* ]] && tool=$bin/set-iml
  # set-default keeps only the end of each stage: its analysis is at the end of stage 1.
  along=(--along-training); [[ "$name" == set-* ]] && along=()
  if [ -f "$out/$name/summary.json" ] && [ ! -f "$out/$name/analysis/alignment.json" ]; then
    echo "== $name: analyze ${along[*]}" >&2
    $tool analyze "$out/$name" "${along[@]}" > /dev/null
  fi
done
# The text alignment on the answers' loss alone (analysis-answer/ beside analysis/), also at the
# end of stage 1 of the four other word orders and of the four other model sizes.
for point in text-sweep-order-documents/order={vet,tev,evt,etv} text-sweep-width/width={64,256} text-sweep-layers/layers={1,4}; do
  run="$out/$point"
  if [ -f "$run/summary.json" ] && [ ! -f "$run/analysis-answer/alignment.json" ]; then
    echo "== $point: analyze --alignment-loss answer" >&2
    $bin/text-iml analyze "$run" --alignment-loss answer > /dev/null
  fi
done
for name in text-default text-order-tve text-analysis-examples text-order-tve-examples; do
  if [ -f "$out/$name/summary.json" ] && [ ! -f "$out/$name/analysis-answer/alignment.json" ]; then
    echo "== $name: analyze --along-training --alignment-loss answer" >&2
    $bin/text-iml analyze "$out/$name" --along-training --alignment-loss answer > /dev/null
  fi
done
# Merged runs: ten and twenty MNIST seeds, twenty text seeds, five double-width seeds, eight poster seeds, ten set-inclusion seeds.
merge() {  # merge TOOL NAME PARTS...
  local tool=$1 name=$2; shift 2
  local parts=()
  for part in "$@"; do [ -f "$out/$part/summary.json" ] || return 0; parts+=("$out/$part"); done
  [ -f "$out/$name/summary.json" ] && return 0
  echo "== $name: merge $*" >&2
  $bin/$tool merge "${parts[@]}" --out "$out/$name" > /dev/null
}
merge mnist-iml mnist-10-seeds mnist-default mnist-seeds-5-9
merge mnist-iml mnist-20-seeds mnist-10-seeds mnist-seeds-10-19
merge text-iml text-20-seeds text-default text-seeds-5-19
merge mnist-iml mnist-width-double-5-seeds mnist-width-double mnist-width-double-seeds-3-4
merge mnist-iml mnist-poster-8-seeds mnist-poster mnist-poster-seeds-4-7
merge set-iml set-10-seeds set-default set-seeds-5-9
for b in 16 32 64 128 256 512; do
  merge mnist-iml mnist-one-stage-batch-$b-5-seeds mnist-one-stage-batch-$b mnist-one-stage-batch-$b-seeds-3-4
done
