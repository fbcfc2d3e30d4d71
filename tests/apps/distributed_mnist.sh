#!/usr/bin/env bash
# A 2-rank `nib train` on MNIST reaches the accuracy of one process with the
# same settings (global batch, seed, epochs). Kept cheap for CI: the basic
# CNN, the first 8000 training images, one epoch, scored on 2000 test images.
# Skipped, and said so, without the MNIST files (NIB_DATA or ../shared/data).
#   bash tests/apps/distributed_mnist.sh build/nib
set -uo pipefail
nib="$1"
src=${NIB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
data="${NIB_DATA:-$src/../shared/data}/mnist"
[ -s "$data/train-images-idx3-ubyte.gz" ] || { echo "distributed_mnist: skipped: no MNIST in $data"; exit 77; }
"$nib" train --help | grep -q "MPI: not built" && { echo "distributed_mnist: skipped: nib was built without MPI"; exit 77; }
command -v "${NIB_MPIEXEC:-mpirun}" >/dev/null || { echo "distributed_mnist: skipped: no mpirun"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

settings=(--data "$data" --limit 8000 --epochs 1 --batch-size 64 --seed 3 --quiet)
accuracy() { sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' "$1"; }

start=$SECONDS
"$nib" train "${settings[@]}" --threads 1 --out "$work/alone" >"$work/alone.log" 2>&1 \
  || { echo "FAIL: train alone"; cat "$work/alone.log"; exit 1; }
alone_seconds=$((SECONDS - start))
start=$SECONDS
bash "$src/tests/tools/mpirun_local.sh" 2 "$nib" train "${settings[@]}" --out "$work/two" >"$work/two.log" 2>&1 \
  || { echo "FAIL: train on 2 ranks"; cat "$work/two.log"; exit 1; }
two_seconds=$((SECONDS - start))
one=$(accuracy "$work/alone.log") two=$(accuracy "$work/two.log")
[ -n "$one" ] && [ -n "$two" ] || { echo "FAIL: no test accuracy"; cat "$work/alone.log" "$work/two.log"; exit 1; }
echo "MNIST, 8000 images, 1 epoch, batch 64: one process ${one}% (${alone_seconds}s), 2 ranks ${two}% (${two_seconds}s)"
# Dropout masks differ between the two (they depend on the rank); the rest is
# the same computation, so the accuracies must be within a point.
if awk -v a="$one" -v b="$two" 'BEGIN { d = a - b; exit !(d <= 1.0 && d >= -1.0 && b > 85) }'; then
  echo "ok: 2 ranks reach the accuracy of one process"
else
  echo "FAIL: 2 ranks ${two}% vs one process ${one}% (must be within 1 point, and above 85%)"; exit 1
fi
