#!/usr/bin/env bash
# nib as a library others build on: installs this build into a fresh prefix,
# builds examples/ against it with find_package(nib) as a user's project
# would, and runs each example.
#
# usage: build_and_run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/examples" -j"$(nproc)" >/dev/null
echo "examples: built against the installed package ($(ls "$work/prefix/include/nib" | wc -l) header folders)"

"$work/examples/tensors_and_autograd"

data=${NIB_DATA:-$source/../shared/data}
if [ -d "$data/mnist" ]; then
  "$work/examples/custom_model" "$data/mnist" 1
else
  echo "examples: custom_model not run: no MNIST in $data (set NIB_DATA)"
fi
weights=$data/pretrained/mobilenet_v2_tflite_dequant.safetensors
if [ -f "$weights" ]; then
  "$work/examples/feature_extraction" "$weights" "$data"/photos/imagenet-sample-groups/cat/*.JPEG \
    "$data"/photos/imagenet-sample-groups/boat/*.JPEG | head -8
else
  echo "examples: feature_extraction not run: no $weights (set NIB_DATA)"
fi
