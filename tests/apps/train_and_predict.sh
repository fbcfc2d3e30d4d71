#!/usr/bin/env bash
# nib train / predict end to end on tiny files made here, and the errors bad
# input must give: one line, naming the problem, non-zero exit, no crash.
set -uo pipefail
nib="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect_error DESCRIPTION PATTERN COMMAND...: the command must fail (not crash)
# with a message on stderr matching PATTERN.
expect_error() {
  local what="$1" pattern="$2"
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local code=$?
  if [ $code -eq 0 ] || [ $code -ge 128 ] || ! grep -q -- "$pattern" "$work/err"; then
    echo "FAIL: $what (exit $code)"; cat "$work/err"; failures=$((failures + 1))
  else
    echo "ok: $what: $(head -c 200 "$work/err")"
  fi
}

# A labelled Kaggle-style CSV: 8x8 "digits" of two classes (bright top or bright bottom half), plus noise.
make_csv() {
  awk -v rows="$2" 'BEGIN {
    srand(7);
    printf "label"; for (i = 0; i < 64; i++) printf ",pixel%d", i; printf "\n";
    for (r = 0; r < rows; r++) {
      label = r % 2; printf "%d", label;
      for (i = 0; i < 64; i++) { top = (i < 32); v = ((top && label == 0) || (!top && label == 1)) ? 200 : 30;
        v += int(rand() * 40); printf ",%d", v }
      printf "\n" } }' > "$1"
}
make_csv "$work/digits.csv" 120

# ---- A whole run: train, reports, resume, predict --------------------------------------
"$nib" train --data "$work/digits.csv" --model mlp --model-options hidden=16 --epochs 2 --batch-size 16 \
  --out "$work/run" --quiet >"$work/train.log" 2>&1 || { echo "FAIL: train"; cat "$work/train.log"; exit 1; }
for f in config.json model.safetensors checkpoint.safetensors metrics.csv history.png confusion.png misclassified.png correct.png class_distribution.png summary.json; do
  [ -s "$work/run/$f" ] || { echo "FAIL: run directory lacks $f"; failures=$((failures + 1)); }
done
grep -q "validation accuracy" "$work/train.log" || { echo "FAIL: no validation accuracy line"; failures=$((failures + 1)); }
grep -q "no separate test set" "$work/train.log" || { echo "FAIL: summary should say there is no test set"; failures=$((failures + 1)); }

# Defaults by data size: 108 training images are small data (batch 64, 6
# epochs, lr 0.002), said on a plan line and recorded in config.json; a value
# given wins and the line then names the others' defaults.
"$nib" train --data "$work/digits.csv" --model mlp --model-options hidden=16 --out "$work/defaults" \
  --quiet >"$work/defaults.log" 2>&1
if grep -q "plan    --epochs 6 --batch-size 64 --lr 0.002 (defaults for 108 training images <= 10000: small data" \
     "$work/defaults.log" && grep -q '"batch-size": "64"' "$work/defaults/config.json" &&
   [ "$(wc -l < "$work/defaults/metrics.csv")" -eq 7 ]; then
  echo "ok: small data gets batch 64 for 6 epochs, and says so"
else
  echo "FAIL: small-data defaults"; cat "$work/defaults.log"; failures=$((failures + 1))
fi
"$nib" train --data "$work/digits.csv" --model mlp --model-options hidden=16 --epochs 1 --batch-size 16 \
  --out "$work/given" --quiet >"$work/given.log" 2>&1
grep -q "plan    --epochs 1 --batch-size 16 --lr 0.002" "$work/given.log" ||
  { echo "FAIL: given values should win over the defaults"; cat "$work/given.log"; failures=$((failures + 1)); }

# --trace names each op family's implementation and shapes once per shape; a
# wrong --kernels name is an error that lists what exists.
"$nib" train --data "$work/digits.csv" --model mlp --model-options hidden=16 --epochs 1 --batch-size 16 \
  --out "$work/traced" --kernels gemm=reference --trace --quiet >"$work/trace.log" 2>&1
if grep -q "nib trace: gemm on cpu runs reference" "$work/trace.log" &&
   [ "$(grep -c "nib trace: gemm on cpu runs reference" "$work/trace.log")" -lt 20 ]; then
  echo "ok: --trace prints the chosen gemm once per shape"
else
  echo "FAIL: --trace"; head -20 "$work/trace.log"; failures=$((failures + 1))
fi
expect_error "an implementation gemm lacks" "has no implementation 'fastest'.*it has:" \
  "$nib" train --data "$work/digits.csv" --model mlp --epochs 1 --out "$work/bad" --kernels gemm=fastest

# A run stopped after 1 of 3 epochs and resumed ends exactly like one that ran straight through.
"$nib" train --data "$work/digits.csv" --model mlp --model-options hidden=16 --epochs 3 --batch-size 16 \
  --out "$work/straight" --quiet >/dev/null 2>&1
"$nib" train --data "$work/digits.csv" --model mlp --model-options hidden=16 --epochs 3 --batch-size 16 \
  --out "$work/resumed" --stop-after 1 --quiet >/dev/null 2>&1
[ "$(wc -l < "$work/resumed/metrics.csv")" -eq 2 ] || { echo "FAIL: --stop-after 1 should leave one epoch"; failures=$((failures + 1)); }
"$nib" train --resume "$work/resumed" --quiet >"$work/resume.log" 2>&1
grep -q "plan    --epochs 3 --batch-size 16 --lr 0.002 (as the resumed run" "$work/resume.log" ||
  { echo "FAIL: the resumed run's plan line"; grep plan "$work/resume.log"; failures=$((failures + 1)); }
if diff <(cut -d, -f1-5 "$work/straight/metrics.csv") <(cut -d, -f1-5 "$work/resumed/metrics.csv") >/dev/null; then
  echo "ok: resume continues exactly"
else
  echo "FAIL: resumed metrics differ"; diff "$work/straight/metrics.csv" "$work/resumed/metrics.csv"; failures=$((failures + 1))
fi

"$nib" eval --model-dir "$work/run" --data "$work/digits.csv" --out "$work/eval" >"$work/predict.log" 2>&1 \
  && grep -q "accuracy" "$work/predict.log" && [ -s "$work/eval/confusion.png" ] \
  && echo "ok: eval --data" || { echo "FAIL: eval"; cat "$work/predict.log"; failures=$((failures + 1)); }
grep -q '"test_accuracy": null' "$work/run/summary.json" && grep -q '"seed"' "$work/run/summary.json" \
  && echo "ok: summary.json keys" || { echo "FAIL: summary.json keys"; failures=$((failures + 1)); }

# Kaggle's test.csv has pixels only: predict writes a submission file.
cut -d, -f2- "$work/digits.csv" > "$work/test.csv"
"$nib" predict --model-dir "$work/run" --data "$work/test.csv" --out "$work/kaggle/submission.csv" >"$work/predict.log" 2>&1 \
  && [ "$(head -1 "$work/kaggle/submission.csv")" = "ImageId,Label" ] \
  && [ "$(wc -l < "$work/kaggle/submission.csv")" -eq 121 ] \
  && echo "ok: predict on unlabelled CSV" || { echo "FAIL: predict unlabelled"; cat "$work/predict.log"; failures=$((failures + 1)); }

# ---- Bad input -----------------------------------------------------------------------
expect_error "missing data" "no/such/place" "$nib" train --data "$work/no/such/place"
mkdir -p "$work/idx"
printf '\x00\x00\x08\x04\x00\x00\x00\x01' > "$work/idx/train-images-idx3-ubyte"   # magic 2052: wrong
printf '\x00\x00\x08\x01\x00\x00\x00\x01\x00' > "$work/idx/train-labels-idx1-ubyte"
cp "$work/idx/train-images-idx3-ubyte" "$work/idx/t10k-images-idx3-ubyte"
cp "$work/idx/train-labels-idx1-ubyte" "$work/idx/t10k-labels-idx1-ubyte"
expect_error "wrong IDX magic" "magic" "$nib" train --data "$work/idx"
mkdir -p "$work/gz"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  head -c 4000 /dev/urandom | gzip -c | head -c 100 > "$work/gz/$f.gz"
done
expect_error "truncated gzip" "gz" "$nib" train --data "$work/gz"
head -3 "$work/digits.csv" > "$work/short.csv"; echo "1,2,3" >> "$work/short.csv"
expect_error "CSV with a wrong column count" "short.csv:4" "$nib" train --data "$work/short.csv"
head -3 "$work/digits.csv" > "$work/bad.csv"; sed -n 4p "$work/digits.csv" | sed 's/,[0-9]*$/,abc/' >> "$work/bad.csv"
expect_error "CSV with a non-numeric cell" "bad.csv:4" "$nib" train --data "$work/bad.csv"
mkdir -p "$work/folder/only_class"; cp "$work/digits.csv" "$work/folder/only_class/x.png"
expect_error "unreadable image" "x.png" "$nib" train --data "$work/folder"
# A 4x4 24-bit BMP drawn with printf: enough for a valid image.
bytes() { for b in "$@"; do printf "\\$(printf %03o "$b")"; done; }
le32() { bytes $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { bytes $(($1 & 255)) $(($1 >> 8 & 255)); }
{ printf "BM"; le32 102; le32 0; le32 54; le32 40; le32 4; le32 4; le16 1; le16 24; le32 0; le32 48
  le32 2835; le32 2835; le32 0; le32 0; for p in $(seq 0 15); do bytes 10 20 $((30 + p)); done; } > "$work/folder/only_class/ok.bmp"
expect_error "a folder with one class (bad image skipped)" "two" "$nib" train --data "$work/folder" --skip-bad-images
expect_error "--device cuda without a GPU" "CUDA" "$nib" train --data "$work/digits.csv" --device cuda
expect_error "unknown option" "--epoch" "$nib" train --epoch 3
expect_error "unknown model" "unknown model" "$nib" train --data "$work/digits.csv" --model resnet1000
mkdir -p "$work/other"; cp "$work/run/config.json" "$work/other/"
"$nib" train --data "$work/digits.csv" --model basic-cnn --model-options conv1=2,conv2=2,kernel=2,hidden=4 --epochs 1 \
  --out "$work/cnn" --quiet >/dev/null 2>&1
cp "$work/cnn/checkpoint.safetensors" "$work/other/"
expect_error "--resume with another model's checkpoint" "checkpoint" "$nib" train --resume "$work/other" --epochs 2
expect_error "predict without images" "--data" "$nib" predict --model-dir "$work/run"
expect_error "eval on unlabelled data" "no labels" "$nib" eval --model-dir "$work/run" --data "$work/test.csv"

[ $failures -eq 0 ] && echo "all ok" || { echo "$failures failure(s)"; exit 1; }
