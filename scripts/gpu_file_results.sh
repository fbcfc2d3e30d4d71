#!/usr/bin/env bash
# Files what scripts/gpu_check.sh brought back from a GPU machine into
# bench/results/gpu/, every file named after the device and the date of the
# run (bench/results/gpu/README.md). Copies only; commits nothing.
#
#   scripts/gpu_file_results.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

src=${1:?usage: scripts/gpu_file_results.sh OUT_DIR}
[[ -f $src/summary.json ]] || {
  echo "gpu_file_results: no $src/summary.json" >&2
  exit 1
}
dest=bench/results/gpu

# The device and date as summary.json has them ("NVIDIA H200 (sm_90, 139.8 GiB)",
# "2026-12-05T..."); the device made file-safe the way nib bench gpu does.
field() { sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" "$src/summary.json" | head -n1; }
device=$(field device | sed 's/ (.*//; s/[^A-Za-z0-9]/_/g')
date=$(field date | cut -c1-10)
[[ -n $device && -n $date ]] || {
  echo "gpu_file_results: no device or date in $src/summary.json" >&2
  exit 1
}
if grep -q '"gpu": false' "$src/summary.json"; then
  echo "gpu_file_results: $src is from a run without a GPU (a rehearsal?): nothing to file" >&2
  exit 1
fi

stem=${device}_${date}
n=1
while compgen -G "$dest/${stem}_summary.md" >/dev/null; do
  n=$((n + 1))
  stem=${device}_${date}-$n
done

copied=()
copy() {
  cp "$1" "$dest/$2"
  copied+=("$dest/$2")
}
copy "$src/summary.md" "${stem}_summary.md"
copy "$src/summary.json" "${stem}_summary.json"
for log in build tests sanitize run; do
  [[ -f $src/$log.log ]] && copy "$src/$log.log" "${stem}_$log.log"
done
# The benchmark's own pair (nib bench gpu names it <device>_<date> too; a
# second run of the day gets the same -N as the summary).
for f in "$src"/*_????-??-??.md "$src"/*_????-??-??.json; do
  [[ -f $f ]] && copy "$f" "$stem.${f##*.}"
done

printf 'gpu_file_results: copied\n'
printf '  %s\n' "${copied[@]}"
echo "next: git add ${copied[*]}; then point README.md, docs/kernels.md and $dest/README.md at ${stem}_summary.md"
