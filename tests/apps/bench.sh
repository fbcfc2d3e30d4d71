#!/usr/bin/env bash
# nib bench models and nib bench peak: quick runs of the small cases, the
# JSON they write, and the errors for cases that do not exist.
#   bash tests/apps/bench.sh build/nib
set -euo pipefail
nib=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "bench.sh: $*" >&2; exit 1; }

"$nib" bench models --models mlp,basic-cnn --budget 0 --threads 1 --json "$work/models.json" > "$work/out"
[ "$(grep -cE '^(mlp|basic-cnn) .* (forward|train) ' "$work/out")" -eq 4 ] || { cat "$work/out"; fail "expected 4 rows"; }
# The JSON: the four cases, each with a rate, at least 3 timed repeats and batch 128; threads and load recorded.
json=$(tr -d ' \n' < "$work/models.json")
for case in '"model":"mlp","input":"1x28x28","batch":128,"mode":"forward"' '"model":"mlp","input":"1x28x28","batch":128,"mode":"train"' \
            '"model":"basic-cnn","input":"1x28x28","batch":128,"mode":"forward"' '"model":"basic-cnn","input":"1x28x28","batch":128,"mode":"train"'; do
  [[ $json == *"$case"* ]] || { cat "$work/models.json"; fail "JSON lacks $case"; }
done
[ "$(grep -c '"images_per_s"' "$work/models.json")" -eq 4 ] || fail "expected 4 rates in the JSON"
! grep -qE '"images_per_s": (-|0(\.0+)?,)' "$work/models.json" || fail "a rate is not positive"
! grep -qE '"repeats": [0-2],' "$work/models.json" || fail "fewer than 3 timed repeats"
grep -q '"threads": 1' "$work/models.json" && grep -q '"load_average_before"' "$work/models.json" || fail "threads or load missing"

if "$nib" bench models --models lenet > /dev/null 2> "$work/err"; then fail "an unknown model was accepted"; fi
grep -q "no benchmark case for 'lenet'" "$work/err" || { cat "$work/err"; fail "unknown model message"; }
if "$nib" bench models --modes backward > /dev/null 2> "$work/err"; then fail "an unknown mode was accepted"; fi
grep -q "forward and/or train" "$work/err" || { cat "$work/err"; fail "unknown mode message"; }

"$nib" bench peak > "$work/peak"
grep -qE '^clock +[0-9.]+ GHz' "$work/peak" || { cat "$work/peak"; fail "no clock"; }
grep -qE '^peak +[0-9.]+ GFLOP/s per core' "$work/peak" || { cat "$work/peak"; fail "no peak"; }
ghz=$(awk '/^clock/ {print $2}' "$work/peak")
awk -v g="$ghz" 'BEGIN { exit !(g > 0.5 && g < 8) }' || fail "implausible clock $ghz GHz"
echo "bench.sh: ok"
