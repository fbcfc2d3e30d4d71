#!/usr/bin/env bash
# nib train and nib finetune as two MPI ranks on tiny files made here: one run
# directory written by rank 0 alone, the metrics of one process with the same
# global batch, resuming on another number of ranks, and faults: a rank that
# dies or hangs stops the others with an error within the timeout, and the
# last checkpoint stays whole. A nib built without MPI must refuse to run
# under a launcher rather than train the same model twice.
#   bash tests/apps/distributed.sh build/nib
set -uo pipefail
nib="$1"
src=${NIB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
mpirun_local="$src/tests/tools/mpirun_local.sh"
ranks() { bash "$mpirun_local" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# 8x8 "digits" of two classes (bright top or bright bottom half), plus noise.
awk 'BEGIN { srand(7);
  printf "label"; for (i = 0; i < 64; i++) printf ",pixel%d", i; printf "\n";
  for (r = 0; r < 120; r++) { label = r % 2; printf "%d", label;
    for (i = 0; i < 64; i++) { top = (i < 32); v = ((top && label == 0) || (!top && label == 1)) ? 200 : 30;
      printf ",%d", v + int(rand() * 40) }
    printf "\n" } }' > "$work/digits.csv"

# ---- A nib without MPI refuses to be started as several processes ------------------------
if "$nib" train --help | grep -q "MPI: not built"; then
  OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 "$nib" train --data "$work/digits.csv" >"$work/out" 2>"$work/err"
  code=$?
  if [ $code -ne 0 ] && [ $code -lt 128 ] && grep -q "built without MPI" "$work/err"; then
    echo "ok: refused: $(cat "$work/err")"
  else
    echo "FAIL: a nib without MPI under a launcher must refuse (exit $code)"; cat "$work/err"; exit 1
  fi
  echo "distributed: skipped: nib was built without MPI (only the refusal was checked)"
  exit 77
fi
command -v "${NIB_MPIEXEC:-mpirun}" >/dev/null || { echo "distributed: skipped: no mpirun"; exit 77; }

# Same columns of two metrics.csv (epoch, train loss, train accuracy, val loss,
# val accuracy) within a relative tolerance.
same_metrics() {
  awk -F, -v tol="$3" 'NR == FNR { a[FNR] = $0; next }
    { split(a[FNR], x, ","); for (c = 1; c <= 5; c++) { d = x[c] - $c; if (d < 0) d = -d; s = $c < 0 ? -$c : $c;
      if (d > tol * (s > 1 ? s : 1)) { printf "line %d column %d: %s vs %s\n", FNR, c, x[c], $c; bad = 1 } } }
    END { if (FNR != length(a)) { print "different line counts"; bad = 1 } exit bad }' "$1" "$2"
}

model=(--data "$work/digits.csv" --model mlp --model-options hidden=16,dropout=0)
mlp=("${model[@]}" --quiet)

# ---- Two ranks take the steps of one process with the same global batch ----------------
"$nib" train "${mlp[@]}" --batch-size 16 --epochs 3 --threads 1 --out "$work/alone" >"$work/alone.log" 2>&1 \
  || { echo "FAIL: train alone"; cat "$work/alone.log"; exit 1; }
ranks 2 "$nib" train "${mlp[@]}" --batch-size 16 --epochs 3 --out "$work/two" >"$work/two.log" 2>&1 \
  || { echo "FAIL: train on 2 ranks"; cat "$work/two.log"; exit 1; }
for f in config.json model.safetensors checkpoint.safetensors metrics.csv history.png confusion.png summary.json; do
  [ -s "$work/two/$f" ] || fail "the 2-rank run directory lacks $f"
done
same_metrics "$work/alone/metrics.csv" "$work/two/metrics.csv" 1e-4 \
  && echo "ok: 2 ranks, global batch 16: the metrics of one process" || fail "2 ranks differ from one process"
[ "$(grep -c "validation accuracy" "$work/two.log")" -eq 1 ] && echo "ok: rank 0 alone prints" \
  || { fail "expected one report, from rank 0"; cat "$work/two.log"; }
grep -q "ranks   MPI" "$work/two.log" && grep -q '"ranks": 2' "$work/two/summary.json" \
  && echo "ok: the log and summary.json name the ranks" || fail "no ranks line in the log or summary.json"
ls "$work/two" | grep -q '\.tmp\.' && fail "temporary files left in the run directory"

# A global batch that does not divide: rank 0 takes one row more.
ranks 2 "$nib" train "${model[@]}" --epochs 1 --batch-size 15 --out "$work/odd" >"$work/odd.log" 2>&1 \
  && grep -q "batch   15 = 8 + 7 per rank" "$work/odd.log" && echo "ok: --batch-size 15 on 2 ranks is 8 + 7" \
  || { fail "batch 15 on 2 ranks"; cat "$work/odd.log"; }

# ---- --resume on another number of ranks ------------------------------------------------
"$nib" train "${mlp[@]}" --batch-size 16 --epochs 3 --threads 1 --stop-after 1 --out "$work/one-then-two" >/dev/null 2>&1
ranks 2 "$nib" train --resume "$work/one-then-two" --quiet >"$work/resume2.log" 2>&1 \
  || { fail "resume on 2 ranks"; cat "$work/resume2.log"; }
same_metrics "$work/alone/metrics.csv" "$work/one-then-two/metrics.csv" 1e-4 \
  && echo "ok: 1 epoch alone, resumed on 2 ranks" || fail "resumed on 2 ranks differs"
ranks 2 "$nib" train "${mlp[@]}" --batch-size 16 --epochs 3 --stop-after 1 --out "$work/two-then-one" >/dev/null 2>&1
"$nib" train --resume "$work/two-then-one" --threads 1 --quiet >"$work/resume1.log" 2>&1 \
  || { fail "resume alone"; cat "$work/resume1.log"; }
same_metrics "$work/alone/metrics.csv" "$work/two-then-one/metrics.csv" 1e-4 \
  && echo "ok: 1 epoch on 2 ranks, resumed alone" || fail "resumed alone differs"

# ---- nib finetune: stage 1 (frozen base, cached features) as one process does ----------
weights="$src/tests/fixtures/torchvision/mobilenet_v2.safetensors"
tune=(--weights "$weights" --data "$work/digits.csv" --image-size 32 --head gap,dense8 --cache-features
      --unfreeze last:2 --unfreeze-after 2 --epochs 3 --batch-size 16 --quiet)
"$nib" finetune "${tune[@]}" --threads 1 --out "$work/tune1" >"$work/tune1.log" 2>&1 \
  || { echo "FAIL: finetune alone"; cat "$work/tune1.log"; exit 1; }
ranks 2 "$nib" finetune "${tune[@]}" --out "$work/tune2" >"$work/tune2.log" 2>&1 \
  || { echo "FAIL: finetune on 2 ranks"; cat "$work/tune2.log"; exit 1; }
# Stage 2 trains BatchNorm layers of the base on each rank's rows: only stage 1 must agree.
same_metrics <(head -3 "$work/tune1/metrics.csv") <(head -3 "$work/tune2/metrics.csv") 1e-4 \
  && [ "$(wc -l < "$work/tune2/metrics.csv")" -eq 4 ] && [ -s "$work/tune2/model.safetensors" ] \
  && echo "ok: finetune on 2 ranks: stage 1 as one process, both stages done" || fail "finetune on 2 ranks"

# ---- Faults: never a silent hang ---------------------------------------------------------
# 108 training rows in batches of 16: 7 steps per epoch. The fault strikes in epoch 2.
# expect_stop DESCRIPTION PATTERN SECONDS COMMAND...: fails (exit 1..127 or 128+ from the
# launcher) within SECONDS with PATTERN in its output.
expect_stop() {
  local what="$1" pattern="$2" limit="$3"
  shift 3
  local start=$SECONDS
  timeout 300 "$@" >"$work/fault.log" 2>&1
  local code=$? took=$((SECONDS - start))
  if [ $code -ne 0 ] && [ $code -ne 124 ] && [ $took -le "$limit" ] && grep -q -- "$pattern" "$work/fault.log"; then
    echo "ok: $what: stopped in ${took}s (exit $code): $(grep -m1 -- "$pattern" "$work/fault.log")"
  else
    fail "$what (exit $code after ${took}s)"; cat "$work/fault.log"
  fi
}
NIB_TEST_FAULT=exit:1:9 expect_stop "a rank that dies" "non-zero exit" 120 \
  bash "$mpirun_local" 2 "$nib" train "${mlp[@]}" --batch-size 16 --epochs 3 --dist-timeout 60 --out "$work/died"
# The checkpoint of epoch 1 is whole: the run resumes from it.
ls "$work/died" | grep -q '\.tmp\.' && fail "a half-written checkpoint was left behind"
if "$nib" train --resume "$work/died" --threads 1 >"$work/recover.log" 2>&1 \
  && grep -q "Resuming from .* after epoch 1" "$work/recover.log" && [ "$(wc -l < "$work/died/metrics.csv")" -eq 4 ]; then
  echo "ok: resumed after the dead rank from epoch 1"
else
  fail "resume after a dead rank"; cat "$work/recover.log"
fi
NIB_TEST_FAULT=hang:1:9 expect_stop "a rank that hangs" "rank 0/2: waited 10 s for the other ranks" 120 \
  bash "$mpirun_local" 2 "$nib" train "${mlp[@]}" --batch-size 16 --epochs 3 --dist-timeout 10 --out "$work/hung"
# Whichever rank reports first aborts the run (MPI_Abort), so the other may never print.
expect_stop "an error on every rank" "rank [01]/2: .*no/such/place" 120 \
  bash "$mpirun_local" 2 "$nib" train --data "$work/no/such/place"

[ $failures -eq 0 ] && echo "all ok" || { echo "$failures failure(s)"; exit 1; }
