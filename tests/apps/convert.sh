#!/bin/bash
# nib convert: a PyTorch checkpoint becomes a safetensors file with the
# conventions in its metadata; a checkpoint that does not fit --arch, or input
# nib cannot read, exits non-zero with a message and writes nothing.
#   bash tests/apps/convert.sh build/nib
set -euo pipefail
nib=$1
src=${NIB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "convert.sh: $*" >&2; exit 1; }

# A state dict: every tensor arrives (11, as tests/fixtures/pth/expected.txt lists), with the metadata given.
out=$("$nib" convert "$src/tests/fixtures/pth/small.pth" "$tmp/small.safetensors" --padding same --preprocess tf)
[[ $out == *"11 tensors"* ]] || fail "unexpected summary: $out"
header=$(head -c 2048 "$tmp/small.safetensors" | tr -d '\0')
for want in '"padding":"tf_same"' '"preprocess":"tf"' '"source":"small.pth"' '"extra.double"' '"1.num_batches_tracked"'; do
  [[ $header == *"$want"* ]] || fail "header lacks $want: $header"
done
[[ $header != *'"arch"'* ]] || fail "no --arch given, yet the header names one"

# --arch checks the tensors load into the architecture (the reduced-width VGG16 fixture does) and records it.
"$nib" convert "$src/tests/fixtures/torchvision/vgg16.safetensors" "$tmp/vgg.safetensors" --arch vgg16 >/dev/null
[[ $(head -c 4096 "$tmp/vgg.safetensors" | tr -d '\0') == *'"arch":"vgg16"'* ]] || fail "arch not recorded"

# Failures: non-zero exit, the message on stderr, no output file.
expect_failure() {  # expect_failure WHAT LINES PATTERN -- ARGS...
  local what=$1 lines=$2 pattern=$3
  shift 4
  rm -f "$tmp/bad.safetensors"
  if "$nib" convert "$@" >"$tmp/stdout" 2>"$tmp/stderr"; then fail "$what: exited 0"; fi
  [[ ! -e $tmp/bad.safetensors ]] || fail "$what: wrote the output anyway"
  local message
  message=$(cat "$tmp/stderr")
  [[ $message == *"$pattern"* ]] || fail "$what: message lacks '$pattern': $message"
  if [[ $lines == 1 ]]; then
    [[ $(wc -l <"$tmp/stderr") == 1 ]] || fail "$what: expected a one-line message, got: $message"
  fi
}
printf 'not a zip archive' >"$tmp/garbage.pth"
expect_failure "garbage" 1 "garbage.pth" -- "$tmp/garbage.pth" "$tmp/bad.safetensors"
# The format is told by the content, whatever the name: neither format is said so, not "header length".
neither="not a PyTorch checkpoint (zip) or safetensors file"
expect_failure "garbage .pth" 1 "garbage.pth: $neither" -- "$tmp/garbage.pth" "$tmp/bad.safetensors"
printf 'a text file, long enough to read a header length from\n' >"$tmp/notes.txt"
expect_failure "text file" 1 "notes.txt: $neither" -- "$tmp/notes.txt" "$tmp/bad.safetensors"
grep -q "header length" "$tmp/stderr" && fail "text file: the message still speaks of a header length"
cp "$tmp/notes.txt" "$tmp/notes.safetensors"
expect_failure "text file named .safetensors" 1 "notes.safetensors: $neither" -- "$tmp/notes.safetensors" "$tmp/bad.safetensors"
printf 'x' >"$tmp/tiny.bin"
expect_failure "one-byte file" 1 "tiny.bin: $neither" -- "$tmp/tiny.bin" "$tmp/bad.safetensors"
printf '\x80\x02}q\x00.' >"$tmp/legacy.pth"
expect_failure "legacy pickle checkpoint" 1 "legacy PyTorch checkpoint" -- "$tmp/legacy.pth" "$tmp/bad.safetensors"
# A checkpoint is found by its content under any name.
cp "$src/tests/fixtures/pth/small.pth" "$tmp/small.weights"
[[ $("$nib" convert "$tmp/small.weights" "$tmp/small2.safetensors") == *"11 tensors"* ]] || fail "a zip checkpoint named .weights was not read"
expect_failure "missing input" 1 "nothing-here.pth" -- "$tmp/nothing-here.pth" "$tmp/bad.safetensors"
expect_failure "pickled module" 1 "module.pth" -- "$src/tests/fixtures/pth/module.pth" "$tmp/bad.safetensors"
expect_failure "output not safetensors" 1 ".safetensors" -- "$src/tests/fixtures/pth/small.pth" "$tmp/bad.pth"
expect_failure "unknown padding" 1 "unknown padding 'middle'" -- \
  "$src/tests/fixtures/pth/small.pth" "$tmp/bad.safetensors" --padding middle
expect_failure "unknown option" 1 "--colour" -- "$src/tests/fixtures/pth/small.pth" "$tmp/bad.safetensors" --colour red
# Another architecture's tensors: one line with the first offending names and how many more.
expect_failure "wrong architecture" 1 "conv1.weight: missing" -- \
  "$src/tests/fixtures/torchvision/vgg16.safetensors" "$tmp/bad.safetensors" --arch resnet18
grep -q "more" "$tmp/stderr" || fail "wrong architecture: the count of further mismatches is missing"
echo "convert.sh: ok"
