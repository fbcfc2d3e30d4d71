#!/usr/bin/env bash
# nib finetune end to end on a reduced-width MobileNetV2 (the committed
# torchvision fixture) and a tiny CSV made here: both stages, the run
# directory, resuming in either stage, predict on the result, and the errors
# bad options must give (one line, non-zero exit, no crash).
#   bash tests/apps/finetune.sh build/nib
set -uo pipefail
nib="$1"
src=${NIB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
weights="$src/tests/fixtures/torchvision/mobilenet_v2.safetensors"
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

common=(--weights "$weights" --data "$work/digits.csv" --image-size 32 --head gap,dense8 --unfreeze last:2
        --unfreeze-after 2 --epochs 4 --batch-size 16 --threads 1 --quiet)

# ---- Two stages straight through: the run directory -------------------------------------
"$nib" finetune "${common[@]}" --out "$work/straight" >"$work/straight.log" 2>&1 \
  || { echo "FAIL: finetune"; cat "$work/straight.log"; exit 1; }
for f in config.json model.safetensors checkpoint.safetensors checkpoint-unfrozen.safetensors metrics.csv \
         history.png confusion.png misclassified.png correct.png summary.json; do
  [ -s "$work/straight/$f" ] || fail "run directory lacks $f"
done
grep -q "unfreezing features.18, features.17" "$work/straight.log" || fail "stage 2 did not unfreeze the last 2 blocks"
[ "$(wc -l < "$work/straight/metrics.csv")" -eq 5 ] || fail "metrics.csv should have 4 epochs"

# ---- Interrupted in stage 1, at the stage boundary and in stage 2, then resumed ----------------
# Ends exactly like the straight run. --threads is not a setting of the run
# (config.json) but of the process: the fast CPU kernels split sums by thread,
# so the resumed processes get the same one.
"$nib" finetune "${common[@]}" --out "$work/resumed" --stop-after 1 >/dev/null 2>&1
[ $? -eq 130 ] || fail "--stop-after should exit 130 (interrupted)"
for step in 1 1 1; do
  "$nib" finetune --resume "$work/resumed" --stop-after $step --threads 1 --quiet >/dev/null 2>&1
done
[ -s "$work/resumed/checkpoint-unfrozen.safetensors" ] || fail "no stage-2 checkpoint after resuming into stage 2"
if diff <(cut -d, -f1-5 "$work/straight/metrics.csv") <(cut -d, -f1-5 "$work/resumed/metrics.csv") >/dev/null; then
  echo "ok: interrupted three times and resumed, same metrics as the straight run"
else
  fail "resumed metrics differ"; diff "$work/straight/metrics.csv" "$work/resumed/metrics.csv"
fi

# ---- The result is a run directory nib predict uses ----------------------------------------
"$nib" predict --model-dir "$work/straight" --data "$work/digits.csv" --out "$work/pred.csv" >"$work/predict.log" 2>&1 \
  && [ "$(wc -l < "$work/pred.csv")" -eq 121 ] || { fail "predict on the finetuned run"; cat "$work/predict.log"; }

# ---- Cached features train the same head ---------------------------------------------------
"$nib" finetune --weights "$weights" --data "$work/digits.csv" --image-size 32 --head gap,dense8 --epochs 2 \
  --batch-size 16 --threads 1 --quiet --cache-features --out "$work/cached" >"$work/cached.log" 2>&1 \
  && grep -q "cached  features" "$work/cached.log" || { fail "--cache-features"; cat "$work/cached.log"; }

# ---- Defaults: on small data the two-stage recipe, printed as chosen ------------------------
"$nib" finetune --weights "$weights" --data "$work/digits.csv" --image-size 32 --head gap,dense8 --epochs 2 \
  --batch-size 16 --threads 1 --quiet --out "$work/defaults" >"$work/defaults.log" 2>&1 \
  || { fail "finetune with default stages"; cat "$work/defaults.log"; }
for want in "--unfreeze auto (default): 108 training images <= 10000" "--cache-features auto: on" \
            "--schedule cosine (default)" "on cached features" "stage 2: the last 6 blocks" \
            "unfreezing features.18, features.17, features.16, features.15, features.14, features.13"; do
  grep -qF -- "$want" "$work/defaults.log" || { fail "default plan lacks '$want'"; cat "$work/defaults.log"; }
done
# Every default can be overridden: the head alone, on images rather than cached features.
"$nib" finetune --weights "$weights" --data "$work/digits.csv" --image-size 32 --head gap,dense8 --epochs 1 \
  --batch-size 16 --threads 1 --quiet --unfreeze none --no-cache-features --out "$work/overridden" \
  >"$work/overridden.log" 2>&1 || { fail "finetune with overrides"; cat "$work/overridden.log"; }
grep -q "unfreezing\|cached  features\|stage 2" "$work/overridden.log" && { fail "overrides ignored"; cat "$work/overridden.log"; }

# ---- Bad options and input -----------------------------------------------------------------
expect_error() {  # expect_error WHAT PATTERN ARGS...
  local what="$1" pattern="$2"
  shift 2
  "$nib" finetune "$@" >"$work/out" 2>"$work/err"
  local code=$?
  if [ $code -eq 0 ] || [ $code -ge 128 ] || ! grep -q -- "$pattern" "$work/err" || [ "$(wc -l < "$work/err")" -ne 1 ]; then
    fail "$what (exit $code)"; cat "$work/err"
  else
    echo "ok: $what: $(head -c 200 "$work/err")"
  fi
}
expect_error "no --weights" "--weights is required" --data "$work/digits.csv"
expect_error "weights of another architecture" "for vgg16, not mobilenet_v2" \
  --model mobilenet_v2 --weights "$src/tests/fixtures/torchvision/vgg16.safetensors" --data "$work/digits.csv" --image-size 32
expect_error "--unfreeze-after with --unfreeze none" "needs --unfreeze" "${common[@]:0:6}" --unfreeze none --unfreeze-after 1
expect_error "--cache-features with --no-cache-features" "contradict" --weights "$weights" --data "$work/digits.csv" \
  --cache-features --no-cache-features
expect_error "--cache-features with --augment" "cannot be combined" --weights "$weights" --data "$work/digits.csv" \
  --cache-features --augment digits
expect_error "--unfreeze with nothing frozen" "needs a frozen base" --weights "$weights" --data "$work/digits.csv" \
  --freeze none --unfreeze last:1
expect_error "unfreezing more blocks than there are" "last:" --weights "$weights" --data "$work/digits.csv" \
  --image-size 32 --epochs 2 --unfreeze last:99 --out "$work/too-many"
expect_error "image too small" "32" --weights "$weights" --data "$work/digits.csv" --image-size 16
expect_error "resume a directory that is not a run" "config.json" --resume "$work/nothing-here"

[ $failures -eq 0 ] && echo "finetune.sh: all passed" || { echo "finetune.sh: $failures failure(s)"; exit 1; }
