#!/usr/bin/env bash
# nib convert for Keras files, end to end on the small fixtures in
# tests/fixtures/keras/: each layout becomes a run directory that nib eval,
# predict, extract, index and finetune use; Keras VGG16 / MobileNetV2 become
# weights for nib's own architectures; bad files exit non-zero with one line
# naming the file and the problem, and leave no run directory behind.
#   bash tests/apps/keras.sh build/nib
# Exits 77 (skipped) when nib was built without HDF5, after checking it says so.
set -euo pipefail
nib=$1
src=${NIB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fix=$src/tests/fixtures/keras
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "keras.sh: FAIL: $*" >&2; exit 1; }
# expect_error WHAT PATTERN CMD...: CMD exits non-zero, not by a signal, with one line matching PATTERN.
expect_error() {
  local what=$1 pattern=$2
  shift 2
  local code=0
  "$@" > "$work/out" 2> "$work/err" || code=$?
  [ "$code" -ne 0 ] || fail "$what: exited 0"
  [ "$code" -lt 128 ] || fail "$what: crashed (exit $code)"
  [ "$(wc -l < "$work/err")" -eq 1 ] || { cat "$work/err"; fail "$what: not a one-line error"; }
  grep -qF -- "$pattern" "$work/err" || { cat "$work/err"; fail "$what: message lacks '$pattern'"; }
  echo "ok: $what -> $(cat "$work/err")"
}

# Without libhdf5 nib still runs, and says why it cannot read the file.
if "$nib" convert "$fix/k2_cnn.h5" "$work/probe" > "$work/out" 2> "$work/err"; then
  rm -rf "$work/probe"
elif grep -q "built without HDF5" "$work/err"; then
  expect_error "no HDF5" "k2_cnn.h5: nib was built without HDF5 support" "$nib" convert "$fix/k2_cnn.h5" "$work/x"
  echo "keras.sh: skipped the rest (nib was built without HDF5)"
  exit 77
else
  cat "$work/err"; fail "converting k2_cnn.h5"
fi

# ---- Data: a labelled digits CSV of 9x9 images (3 classes) and a few BMP files -----------
bytes() { for b in "$@"; do printf "\\$(printf %03o "$b")"; done; }
le32() { bytes $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { bytes $(($1 & 255)) $(($1 >> 8 & 255)); }
bmp() {  # bmp FILE SHADE [SIZE]: a SIZExSIZE (default 4, a multiple of 4) grey 24-bit BMP with a small ramp
  local n=${3:-4}
  mkdir -p "$(dirname "$1")"
  {
    printf "BM"; le32 $((54 + 3 * n * n)); le32 0; le32 54
    le32 40; le32 "$n"; le32 "$n"; le16 1; le16 24; le32 0; le32 $((3 * n * n)); le32 2835; le32 2835; le32 0; le32 0
    for p in $(seq 0 $((n * n - 1))); do bytes $((($2 + p) % 256)) $((($2 + p) % 256)) $((($2 + p) % 256)); done
  } > "$1"
}
awk -v rows=60 -v pixels=81 'BEGIN { srand(3); printf "label"; for (i = 0; i < pixels; i++) printf ",pixel%d", i; printf "\n";
  for (r = 0; r < rows; r++) { printf "%d", r % 3; for (i = 0; i < pixels; i++) printf ",%d", int(rand() * 256); printf "\n" } }' \
  > "$work/digits9.csv"
for i in 0 1 2 3; do bmp "$work/images/c$((i % 2))/$i.bmp" $((40 + 50 * i)); done
bmp "$work/photo.bmp" 30 8  # nib classify takes images of at least 8x8

# ---- Keras 2 .h5 -> run directory -> eval, predict, extract, index, finetune -----------------
"$nib" convert "$fix/k2_cnn.h5" "$work/cnn" > "$work/convert.log" || { cat "$work/convert.log"; fail "convert k2_cnn.h5"; }
for want in 'Model: "sequential"' 'conv2d (Conv2D)' '(None, 5, 5, 4)' 'Total params: 729' 'preprocess none' \
            'final softmax (dense_1) is left to nib' 'written:'; do
  grep -qF "$want" "$work/convert.log" || { cat "$work/convert.log"; fail "the summary lacks '$want'"; }
done
for want in '"model": "keras_graph"' '"graph": {' '"preprocess": "none"' '"class_name": "DepthwiseConv2D"' \
            '"nib_order": "channels_first"'; do
  grep -qF "$want" "$work/cnn/config.json" || fail "config.json lacks $want"
done
[ -f "$work/cnn/model.safetensors" ] || fail "no model.safetensors"

"$nib" eval --model-dir "$work/cnn" --data "$work/digits9.csv" --out "$work/eval" > "$work/out" \
  || fail "eval on the converted run"
grep -q "accuracy: [0-9.]*% (60 images" "$work/out" || { cat "$work/out"; fail "eval printed no accuracy"; }
"$nib" predict --model-dir "$work/cnn" "$work/images/c0/0.bmp" > "$work/out" || fail "predict an image"
grep -q "0.bmp:  [0-2] [0-9.]*%" "$work/out" || { cat "$work/out"; fail "predict printed no classes"; }
"$nib" extract --model "$work/cnn" --list-layers > "$work/out" || fail "extract --list-layers"
grep -q "^separable_conv2d " "$work/out" || { cat "$work/out"; fail "the Keras layer names are not listed"; }
"$nib" index --model "$work/cnn" --images "$work/images" --out "$work/cnn.nibindex" > "$work/out" 2>&1 \
  || { cat "$work/out"; fail "index with the converted run"; }
grep -q "dropout" "$work/out" || { cat "$work/out"; fail "index did not use the classifier's input (dropout)"; }
"$nib" finetune --model "$work/cnn" --data "$work/digits9.csv" --val-split 0.2 --head dense8 --epochs 1 \
  --batch-size 16 --quiet --out "$work/tuned" > "$work/out" 2>&1 || { cat "$work/out"; fail "finetune the converted run"; }
grep -q '"base": "keras_graph"' "$work/tuned/config.json" || fail "the fine-tuned run does not record its Keras base"
"$nib" predict --model-dir "$work/tuned" --data "$work/digits9.csv" --out "$work/tuned.csv" > "$work/out" \
  || fail "predict with the fine-tuned run"

# ---- Keras 3 .h5 and .keras: run directories that evaluate ------------------------------------
"$nib" convert "$fix/k3_functional.h5" "$work/k3" > "$work/out" || fail "convert k3_functional.h5 (Keras 3 .h5)"
grep -qF "preprocess raw" "$work/out" || fail "a model starting with Rescaling should take raw pixels"
"$nib" convert "$fix/k3_sequential.keras" "$work/zip" --preprocess none > "$work/out" \
  || fail "convert k3_sequential.keras"
grep -q '"preprocess": "none"' "$work/zip/config.json" || fail "--preprocess was not recorded"
awk -v rows=12 -v pixels=36 'BEGIN { srand(5); printf "label"; for (i = 0; i < pixels; i++) printf ",pixel%d", i; printf "\n";
  for (r = 0; r < rows; r++) { printf "%d", r % 4; for (i = 0; i < pixels; i++) printf ",%d", int(rand() * 256); printf "\n" } }' \
  > "$work/digits6.csv"
"$nib" eval --model-dir "$work/zip" --data "$work/digits6.csv" --out "$work/eval6" > /dev/null || fail "eval the .keras run"

# ---- Keras Applications onto nib's own architectures ------------------------------------------
"$nib" convert "$fix/app_vgg16.h5" "$work/vgg.safetensors" > "$work/out" || { cat "$work/out"; fail "convert app_vgg16.h5"; }
grep -q "nib's vgg16 (padding tf_same, preprocess caffe, width 0.03125)" "$work/out" || { cat "$work/out"; fail "VGG16"; }
header=$(head -c 4096 "$work/vgg.safetensors" | tr -d '\0')
for want in '"arch":"vgg16"' '"preprocess":"caffe"' '"features_only":"true"' '"features.28.weight"'; do
  [[ $header == *"$want"* ]] || fail "vgg.safetensors lacks $want"
done
"$nib" index --model vgg16 --weights "$work/vgg.safetensors" --image-size 32 --images "$work/images" \
  --out "$work/vgg.nibindex" > "$work/out" 2>&1 || { cat "$work/out"; fail "index with the converted VGG16 (no top)"; }
header=$(head -c 4096 "$work/vgg.nibindex" | tr -d '\0')
for want in '"extractor.padding":"tf_same"' '"extractor.preprocess":"caffe"'; do
  [[ $header == *"$want"* ]] || fail "the index of the converted VGG16 did not use its recorded settings: no $want"
done
expect_error "classify without a top" "vgg.safetensors: these weights have no classifier" \
  "$nib" classify --model vgg16 --weights "$work/vgg.safetensors" --image-size 32 "$work/images/c0/0.bmp"
"$nib" convert "$fix/app_mobilenet_v2.keras" "$work/mobilenet.safetensors" > "$work/out" || fail "MobileNetV2"
grep -q "nib's mobilenet_v2 (padding tf_same, preprocess tf, width 0.10)" "$work/out" || { cat "$work/out"; fail "MobileNetV2"; }
# With its top it classifies, with the padding and preprocessing the file records.
printf '{"0": ["n0", "a"], "1": ["n1", "b"], "2": ["n2", "c"], "3": ["n3", "d"], "4": ["n4", "e"]}' > "$work/labels5.json"
"$nib" classify --model mobilenet_v2 --weights "$work/mobilenet.safetensors" --image-size 32 \
  --labels "$work/labels5.json" "$work/photo.bmp" > "$work/out" 2> "$work/err" \
  || { cat "$work/err"; fail "classify with the converted MobileNetV2"; }
grep -qF "mobilenet_v2, padding tf_same, preprocess tf, 1 images" "$work/err" || { cat "$work/err"; fail "classify settings"; }
[ "$(grep -c '%  [a-e] ([0-4])$' "$work/out")" -eq 5 ] || { cat "$work/out"; fail "classify did not list the 5 classes"; }
"$nib" finetune --weights "$work/mobilenet.safetensors" --data "$work/digits9.csv" --channels 1 --image-size 32 \
  --val-split 0.2 --head gap --epochs 1 --batch-size 16 --quiet --out "$work/mobile-tuned" > "$work/out" 2>&1 \
  || { cat "$work/out"; fail "finetune --weights on the converted MobileNetV2"; }
for want in '"base": "mobilenet_v2"' '"padding": "tf_same"' '"preprocess": "tf"'; do
  grep -qF "$want" "$work/mobile-tuned/config.json" || fail "the fine-tuned MobileNetV2 run lacks $want"
done

# ---- Files nib must refuse --------------------------------------------------------------------
head -c 3000 "$fix/k2_cnn.h5" > "$work/truncated.h5"
expect_error "truncated HDF5" "truncated.h5: not a readable HDF5 file (truncated file" \
  "$nib" convert "$work/truncated.h5" "$work/bad"
expect_error "wrong weight shape" "bad_shape.h5: layer 'conv2d' (Conv2D): kernel has shape [3, 3, 1, 5]" \
  "$nib" convert "$fix/bad_shape.h5" "$work/bad"
expect_error "missing weight" "bad_missing.h5: layer 'dense_1' (Dense) has no weight 'bias'" \
  "$nib" convert "$fix/bad_missing.h5" "$work/bad"
expect_error "unknown layer" "bad_layer.h5: layer 'up_sampling2d' is a UpSampling2D, which nib cannot convert" \
  "$nib" convert "$fix/bad_layer.h5" "$work/bad"
expect_error "zip without config.json" "bad_no_config.keras: no config.json" \
  "$nib" convert "$fix/bad_no_config.keras" "$work/bad"
expect_error "a feature extractor as a run" "app_vgg16.h5: the model's output is (None, 1, 1, 16), not class scores" \
  "$nib" convert "$fix/app_vgg16.h5" "$work/bad"
expect_error "not an Application" "k2_cnn.h5: not a Keras VGG16 or MobileNetV2" \
  "$nib" convert "$fix/k2_cnn.h5" "$work/bad.safetensors"
expect_error "an existing run" "already a run directory" "$nib" convert "$fix/k2_cnn.h5" "$work/cnn"
expect_error "PyTorch-only option" "--arch is for PyTorch checkpoints" \
  "$nib" convert "$fix/k2_cnn.h5" "$work/bad" --arch vgg16
[ ! -e "$work/bad/config.json" ] && [ ! -e "$work/bad.safetensors" ] || fail "a refused conversion wrote output"
echo "keras.sh: ok"
