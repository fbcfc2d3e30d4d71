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
python3 - "$work/models.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
cases = {(r["model"], r["mode"]) for r in doc["results"]}
assert cases == {("mlp", "forward"), ("mlp", "train"), ("basic-cnn", "forward"), ("basic-cnn", "train")}, cases
assert all(r["images_per_s"] > 0 and r["repeats"] >= 3 and r["batch"] == 128 for r in doc["results"]), doc
assert doc["threads"] == 1 and doc["load_average_before"] and doc["cpu"], doc
PY

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
