#!/usr/bin/env bash
# Images/s of data-parallel `nib train` on 1, 2, ... ranks, and the scaling
# efficiency, on the CPU or on GPUs:
#
#   bench/distributed_scaling.sh [NIB]                       CPU: 1 and 2 ranks (all cores shared out)
#   bench/distributed_scaling.sh [NIB] --device cuda         GPUs: 1, 2, 4, ... ranks up to the GPU count
#
# Options: --ranks "1 2 4" (rank counts), --limit N (training images, default
# 6000), --batch-size N (global batch, default 128), --rounds N (alternating
# rounds, default 2), --out DIR (default bench/results). Needs MNIST
# (NIB_DATA or ../shared/data/mnist). Writes distributed_<cpu|gpu>.{json,md}.
#
# Each run trains the basic CNN for 2 epochs without validation and reads the
# second epoch's images/s from metrics.csv (the first pays for warm-up). On
# the CPU, a run of R ranks gives each rank cores/R OpenMP threads, and one
# extra run is a single rank with one rank's share of the cores: efficiency
# = images/s(R ranks) / (R x images/s(1 rank with cores/R threads)); speedup
# = images/s(R ranks) / images/s(1 rank with all cores), what a user gains
# over plain `nib train`. The load average is recorded around every run: on
# a shared machine it says how much the numbers can be trusted.
set -euo pipefail
cd "$(dirname "$0")/.."
nib=build/nib
[ $# -gt 0 ] && [ "${1#--}" = "$1" ] && { nib="$1"; shift; }
device=cpu ranks="" limit=6000 batch=128 rounds=2 out=bench/results
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "distributed_scaling: unknown option $1" >&2; exit 1 ;;
  esac
done
data="${NIB_DATA:-../shared/data}/mnist"
[ -d "$data" ] || { echo "distributed_scaling: no MNIST at $data (set NIB_DATA)" >&2; exit 1; }
"$nib" train --help | grep -q "MPI: not built" && { echo "distributed_scaling: $nib was built without MPI" >&2; exit 1; }

cores=$(nproc)
if [ "$device" = cuda ]; then
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU" || true)
  [ "$gpus" -ge 1 ] || { echo "distributed_scaling: no GPU (nvidia-smi -L)" >&2; exit 1; }
  [ -n "$ranks" ] || { ranks=""; for r in 1 2 4 8 16; do [ "$r" -le "$gpus" ] && ranks="$ranks $r"; done; }
  hardware="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1) x $gpus, $cores CPUs"
else
  [ -n "$ranks" ] || ranks="1 2"
  hardware="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $cores logical CPUs"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load() { cut -d' ' -f1 /proc/loadavg; }

# run LABEL RANKS THREADS_PER_RANK: prints "images/s load_before load_after"
run() {
  local label="$1" n="$2" threads="$3" dir="$work/$1"
  rm -rf "$dir"
  local args=(train --data "$data" --limit "$limit" --val-split 0 --epochs 2 --batch-size "$batch" --schedule constant
              --device "$device" --quiet --out "$dir")
  local before; before=$(load)
  if [ "$n" -eq 1 ]; then
    OMP_NUM_THREADS="$threads" "$nib" "${args[@]}" --threads "$threads" >"$work/$label.log" 2>&1
  else
    OMP_NUM_THREADS="$threads" bash tests/tools/mpirun_local.sh "$n" "$nib" "${args[@]}" >"$work/$label.log" 2>&1
  fi || { cat "$work/$label.log" >&2; exit 1; }
  echo "$(awk -F, 'END { print $8 }' "$dir/metrics.csv") $before $(load)"
}

declare -A samples
configs=()
most=0
for n in $ranks; do [ "$n" -gt "$most" ] && most=$n; done
for n in $ranks; do
  # CPU: the cores shared out between the ranks. GPU: one GPU per rank, and
  # the same CPU threads per rank in every run, so that 1 rank is the baseline.
  if [ "$device" = cuda ]; then per=$(( cores / most > 0 ? cores / most : 1 )); else per=$(( cores / n > 0 ? cores / n : 1 )); fi
  configs+=("$n:$per")
  if [ "$n" -gt 1 ] && [[ ! " ${configs[*]} " =~ " 1:$per " ]]; then configs+=("1:$per"); fi
done
for ((round = 1; round <= rounds; round++)); do
  for c in "${configs[@]}"; do
    n=${c%:*} per=${c#*:}
    result=$(run "r${n}t${per}" "$n" "$per")
    samples[$c]="${samples[$c]:-}$result;"
    echo "round $round: $n rank(s) x $per thread(s): $result (images/s, load before, after)"
  done
done

median_ips() { tr ';' '\n' <<<"$1" | awk 'NF { print $1 }' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
loads() { tr ';' '\n' <<<"$1" | awk 'NF { printf "%s%s-%s", sep, $2, $3; sep = ", " }'; }

mkdir -p "$out"
name="distributed_$([ "$device" = cuda ] && echo gpu || echo cpu)"
date=$(date +%Y-%m-%d)
all_cores_ips=$(median_ips "${samples["1:$cores"]:-}")
{
  echo "# Data-parallel nib train: images/s by rank count ($device)"
  echo
  echo "$hardware, $date. Basic CNN on $limit MNIST images, global batch $batch, 2 epochs, the second timed;"
  echo "median of $rounds alternating rounds. Measured by \`bench/distributed_scaling.sh\`."
  echo
  echo "| ranks | threads per rank | images/s | efficiency | speedup vs 1 rank, all cores | load average (1 min) before-after each round |"
  echo "|---:|---:|---:|---:|---:|---|"
  for c in "${configs[@]}"; do
    n=${c%:*} per=${c#*:}
    ips=$(median_ips "${samples[$c]}")
    base=$(median_ips "${samples["1:$per"]:-}")
    eff=$(awk -v a="$ips" -v b="$base" -v n="$n" 'BEGIN { if (n > 1 && b > 0) printf "%.0f%%", 100 * a / (n * b); else print "-" }')
    speed=$(awk -v a="$ips" -v b="$all_cores_ips" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
    echo "| $n | $per | $(printf %.0f "$ips") | $eff | $speed | $(loads "${samples[$c]}") |"
  done
  echo
  echo "Efficiency: images/s of R ranks / (R x images/s of 1 rank with the same threads per rank). A load average"
  echo "above $cores (the CPU count) means other jobs shared the cores during the run: the ranks then got only part"
  echo "of a core each, and these numbers say more about the machine's load than about nib."
} > "$out/$name.md"
{
  echo "{\"device\": \"$device\", \"hardware\": \"$hardware\", \"date\": \"$date\", \"limit\": $limit, \"batch\": $batch, \"runs\": ["
  sep=""
  for c in "${configs[@]}"; do
    n=${c%:*} per=${c#*:}
    echo "$sep  {\"ranks\": $n, \"threads_per_rank\": $per, \"images_per_second\": $(median_ips "${samples[$c]}"), \"samples\": \"${samples[$c]}\"}"
    sep=","
  done
  echo "]}"
} > "$out/$name.json"
cat "$out/$name.md"
