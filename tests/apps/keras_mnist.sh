#!/usr/bin/env bash
# The two real Keras models in the shared data (see its MANIFEST.md), converted
# and evaluated on MNIST's test set: nib must reach exactly the accuracy the
# stored layers give in PyTorch (0.9924 for the Keras 2 CNN, 0.9732 for the
# Keras 3 MLP). Exits 77 (reported as skipped by ctest) when the data, or
# HDF5 support, is absent.
#   bash tests/apps/keras_mnist.sh build/nib
set -euo pipefail
nib=$1
src=${NIB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
data=${NIB_DATA:-$src/../shared/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "keras_mnist.sh: FAIL: $*" >&2; exit 1; }

for f in keras/mnist_cnn_keras2.h5 keras/mnist_mlp_keras3.h5 mnist/t10k-images-idx3-ubyte.gz; do
  [ -f "$data/$f" ] || { echo "keras_mnist.sh: skipped: $data/$f not found (set NIB_DATA)"; exit 77; }
done

check() {  # check NAME REFERENCE: convert, evaluate, compare the printed test accuracy
  local name=$1 reference=$2
  if ! "$nib" convert "$data/keras/$name.h5" "$work/$name" > "$work/$name.log" 2>&1; then
    grep -q "built without HDF5" "$work/$name.log" && { echo "keras_mnist.sh: skipped: no HDF5 support"; exit 77; }
    cat "$work/$name.log"; fail "convert $name"
  fi
  "$nib" eval --model-dir "$work/$name" --data "$data/mnist" > "$work/$name.eval" || fail "eval $name"
  local got
  got=$(sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' "$work/$name.eval")
  [ "$got" = "$reference" ] || { cat "$work/$name.eval"; fail "$name: test accuracy $got%, Keras' is $reference%"; }
  echo "ok: $name: test accuracy $got% (the reference is $reference%)"
}
check mnist_cnn_keras2 99.24
check mnist_mlp_keras3 97.32

# The converted CNN indexes MNIST by its penultimate layer, like a run of nib train.
"$nib" index --model "$work/mnist_cnn_keras2" --images mnist:test:500 --out "$work/cnn.nibindex" > /dev/null 2>&1 \
  || fail "index with the converted CNN"
"$nib" eval-retrieval --index "$work/cnn.nibindex" --json > "$work/retrieval.json" || fail "eval-retrieval"
grep -q '"p_at_1"' "$work/retrieval.json" || fail "no retrieval scores"
echo "keras_mnist.sh: ok"
