#!/usr/bin/env bash
# Faults during training lose nothing (docs/reliability.md): a run killed with
# SIGKILL at random moments, half of them while its checkpoint is being
# written, always leaves a checkpoint that the next `nib train --resume`
# reads, and the run resumed after every kill ends exactly where a run that
# was never interrupted ends.
set -uo pipefail
nib="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A labelled CSV of 8x8 "digits" of two classes, as in train_and_predict.sh.
awk 'BEGIN { srand(7); printf "label"; for (i = 0; i < 64; i++) printf ",pixel%d", i; printf "\n";
  for (r = 0; r < 160; r++) { label = r % 2; printf "%d", label;
    for (i = 0; i < 64; i++) { top = (i < 32); v = ((top && label == 0) || (!top && label == 1)) ? 200 : 30;
      printf ",%d", v + int(rand() * 40) }
    printf "\n" } }' >"$work/digits.csv"
# A wide MLP, so that each checkpoint (weights + Adam's two moments, ~13 MB) takes a while to write.
args=(--data "$work/digits.csv" --model mlp --model-options hidden=1024-1024 --optimizer adam --epochs 6
      --batch-size 32 --quiet)

"$nib" train "${args[@]}" --out "$work/straight" >"$work/straight.log" 2>&1 ||
  { echo "FAIL: the uninterrupted run"; cat "$work/straight.log"; exit 1; }

run="$work/killed"
kills=0 during_write=0 max_kills=8
RANDOM=16  # the same moments on every run of the test
while :; do
  if [ -f "$run/config.json" ]; then
    "$nib" train --resume "$run" --quiet >"$work/run.log" 2>&1 &
  else
    rm -rf "$run"  # killed before it wrote anything: start again
    "$nib" train "${args[@]}" --out "$run" >"$work/run.log" 2>&1 &
  fi
  pid=$!
  if ((kills < max_kills)); then
    if ((kills % 2 == 0)); then
      # Wait for a checkpoint write to begin (its temporary file appears), then kill it mid-write.
      for ((t = 0; t < 3000; ++t)); do
        compgen -G "$run/checkpoint.safetensors.tmp.$pid" >/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.005
      done
    else
      sleep "$((RANDOM % 20)).$((RANDOM % 10))e-1"  # 0 to 2 s
    fi
    if kill -0 "$pid" 2>/dev/null; then
      compgen -G "$run/checkpoint.safetensors.tmp.$pid" >/dev/null && during_write=$((during_write + 1))
      kill -9 "$pid"
      wait "$pid" 2>/dev/null
      kills=$((kills + 1))
      continue
    fi
  fi
  # Not killed: it must finish cleanly (a damaged checkpoint would make --resume fail here).
  if wait "$pid"; then break; fi
  echo "FAIL: the run after $kills kills failed:"; cat "$work/run.log"; exit 1
done

failures=0
echo "ok: $kills kills ($during_write during a checkpoint write), then the run finished"
if ((during_write == 0)); then
  echo "FAIL: no kill landed during a checkpoint write; the test did not test what it should"; failures=$((failures + 1))
fi
if diff <(cut -d, -f1-5 "$work/straight/metrics.csv") <(cut -d, -f1-5 "$run/metrics.csv") >/dev/null; then
  echo "ok: the killed and resumed run ends exactly like the uninterrupted one"
else
  echo "FAIL: metrics differ after kills and resumes"; diff "$work/straight/metrics.csv" "$run/metrics.csv"
  failures=$((failures + 1))
fi
if cmp -s "$work/straight/model.safetensors" "$run/model.safetensors"; then
  echo "ok: the final weights are bit for bit the same"
else
  echo "FAIL: the final weights differ"; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
