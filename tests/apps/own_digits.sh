#!/usr/bin/env bash
# Digits people drew themselves (../shared/data/own-digits: 20 drawings, black
# on white, not centred): after a short nib train on MNIST, nib predict must
# get at least 95% of them right with its MNIST-style preparation, and far
# fewer with --prepare none. Also the --show grid, nib eval and nib retrieve on
# the drawings, a run directory written before the preparation was recorded,
# and the errors bad input must give.
set -uo pipefail
nib="$1"
data="${NIB_DATA:-${NIB_SOURCE_DIR:-.}/../shared/data}"
if [ ! -d "$data/own-digits" ] || [ ! -d "$data/mnist" ]; then
  echo "skipped: needs $data/own-digits and $data/mnist (set NIB_DATA to the shared data folder)"
  exit 77
fi
export NIB_DATA="$data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The accuracy nib predict/eval printed, as a whole number of percent ("accuracy: 95.00%" -> 95).
accuracy_of() { grep -o 'accuracy: [0-9.]*' "$1" | head -1 | sed 's/accuracy: //; s/\..*//'; }

# expect_error DESCRIPTION PATTERN COMMAND...: the command must fail (not crash)
# with a message on stderr matching PATTERN.
expect_error() {
  local what="$1" pattern="$2"
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local code=$?
  if [ $code -eq 0 ] || [ $code -ge 128 ] || ! grep -q -- "$pattern" "$work/err"; then
    fail "$what (exit $code)"; cat "$work/err"
  else
    echo "ok: $what: $(tail -n 1 "$work/err" | head -c 200)"
  fi
}

# ---- A short training run: 12,000 MNIST digits, 2 epochs (the CI budget) -------------
"$nib" train --limit 12000 --epochs 2 --out "$work/run" --quiet >"$work/train.log" 2>&1 \
  || { echo "FAIL: train"; cat "$work/train.log"; exit 1; }
grep -q '"prepare": "mnist"' "$work/run/config.json" && grep -q '"polarity": "light-on-dark"' "$work/run/config.json" \
  && grep -q '"box": 20' "$work/run/config.json" \
  && echo "ok: config.json records MNIST's look" || { fail "config.json lacks the input record"; cat "$work/run/config.json"; }

# ---- The drawings, prepared and not ---------------------------------------------------
"$nib" predict --model-dir "$work/run" --data "$data/own-digits" --out "$work/prepared" >"$work/prepared.log" 2>&1
prepared=$(accuracy_of "$work/prepared.log")
"$nib" predict --model-dir "$work/run" --data "$data/own-digits" --out "$work/plain" --prepare none >"$work/plain.log" 2>&1
plain=$(accuracy_of "$work/plain.log")
echo "own-digits: ${prepared:-?}% prepared MNIST-style, ${plain:-?}% as they are"
[ -n "$prepared" ] && [ "$prepared" -ge 95 ] && echo "ok: at least 95% of the drawings right" \
  || { fail "prepared drawings: ${prepared:-no}% accuracy"; cat "$work/prepared.log"; }
[ -n "$plain" ] && [ -n "$prepared" ] && [ "$plain" -le $((prepared - 20)) ] \
  && echo "ok: --prepare none turns the preparation off (and costs accuracy)" \
  || { fail "--prepare none: ${plain:-no}% vs ${prepared:-no}%"; cat "$work/plain.log"; }
[ "$(grep -c 'preparing images MNIST-style' "$work/prepared.log")" -eq 1 ] \
  && ! grep -q 'preparing images' "$work/plain.log" \
  && echo "ok: the preparation is announced once, and not with --prepare none" || fail "announcement"

"$nib" eval --model-dir "$work/run" --data "$data/own-digits" --out "$work/eval" >"$work/eval.log" 2>&1
[ "$(accuracy_of "$work/eval.log")" = "$prepared" ] && [ -s "$work/eval/confusion.png" ] \
  && echo "ok: nib eval prepares the drawings too" || { fail "eval"; cat "$work/eval.log"; }

# ---- --show: each drawing beside what the model saw ------------------------------------
"$nib" predict --model-dir "$work/run" "$data/own-digits" --show --grid "$work/grid.png" >"$work/show.log" 2>&1
[ "$(grep -c '\.png:  ' "$work/show.log")" -eq 20 ] && [ -s "$work/grid.png" ] && grep -q "grid: $work/grid.png" "$work/show.log" \
  && echo "ok: --show draws $work/grid.png" || { fail "--show"; cat "$work/show.log"; }

# ---- A run directory from before the preparation was recorded: MNIST-style by default ----
cp -r "$work/run" "$work/old"
awk '/"input": \{/ { skip = 1 } !skip { print } skip && /^  \},?$/ { skip = 0 }' "$work/run/config.json" > "$work/old/config.json"
grep -q '"input"' "$work/old/config.json" && fail "could not remove the input record"
"$nib" predict --model-dir "$work/old" --data "$data/own-digits" --out "$work/old-out" >"$work/old.log" 2>&1
[ "$(accuracy_of "$work/old.log")" = "$prepared" ] && echo "ok: an older run directory is prepared MNIST-style" \
  || { fail "older run directory"; cat "$work/old.log"; }

# ---- Retrieval: drawings as queries against MNIST digits, features of the run -----------
"$nib" index --model "$work/run" --images mnist:test:2000 --out "$work/mnist.nibindex" >"$work/index.log" 2>&1 \
  || { fail "index"; cat "$work/index.log"; }
"$nib" retrieve --index "$work/mnist.nibindex" --query "$data/own-digits/3" --k 3 --out "$work/retrieval.png" \
  >"$work/retrieve.log" 2>&1
grep -q "preparing images MNIST-style" "$work/retrieve.log" && [ -s "$work/retrieval.png" ] \
  && echo "ok: nib retrieve prepares its queries" || { fail "retrieve"; cat "$work/retrieve.log"; }
"$nib" eval-retrieval --index "$work/mnist.nibindex" --queries "$data/own-digits" --json >"$work/p1.json" 2>/dev/null
p1=$(grep -o '"p_at_1": *[0-9.]*' "$work/p1.json" | sed 's/.*: *//')
awk -v p="${p1:-0}" 'BEGIN { exit !(p >= 0.8) }' && echo "ok: drawings find MNIST digits of their class (P@1 $p1)" \
  || { fail "retrieval P@1 ${p1:-?}"; cat "$work/p1.json"; }

# ---- Bad input ------------------------------------------------------------------------
# A 4x4 white 24-bit BMP drawn with printf: a valid image without a digit.
bytes() { for b in "$@"; do printf "\\$(printf %03o "$b")"; done; }
le32() { bytes $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { bytes $(($1 & 255)) $(($1 >> 8 & 255)); }
{ printf "BM"; le32 102; le32 0; le32 54; le32 40; le32 4; le32 4; le16 1; le16 24; le32 0; le32 48
  le32 2835; le32 2835; le32 0; le32 0; for p in $(seq 0 15); do bytes 255 255 255; done; } > "$work/blank.bmp"
expect_error "an image without a digit" "blank.bmp: no digit found" "$nib" predict --model-dir "$work/run" "$work/blank.bmp"
"$nib" predict --model-dir "$work/run" "$work/blank.bmp" --prepare none >/dev/null 2>&1 \
  && echo "ok: --prepare none classifies it anyway" || fail "--prepare none on a blank image"
expect_error "an unknown --prepare" "--prepare expects auto, mnist or none" \
  "$nib" predict --model-dir "$work/run" "$work/blank.bmp" --prepare maybe
expect_error "--show without image files" "--show draws" "$nib" predict --model-dir "$work/run" --data "$data/own-digits" --show
echo "not an image" > "$work/fake.png"
expect_error "a file that is not an image" "fake.png" "$nib" predict --model-dir "$work/run" "$work/fake.png"

[ $failures -eq 0 ] && echo "all ok" || { echo "$failures failure(s)"; exit 1; }
