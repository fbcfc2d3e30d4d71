#!/usr/bin/env bash
# A disk that fills up while nib writes a checkpoint (docs/reliability.md):
# nib stops with one line naming the file and the reason, exits non-zero
# without crashing, leaves the last good checkpoint as it was and no
# temporary file behind, and the run resumes once there is room again.
#
# Two ways to make the write fail half-way through the file, both through
# nib's real atomic write path (util/files.cpp):
#   - a file size limit (ulimit -f, with SIGXFSZ ignored: write() fails with
#     EFBIG), which needs nothing special;
#   - a full file system: a tmpfs just too small for the next checkpoint
#     (ENOSPC); this part needs root and is skipped, saying so, without it.
set -uo pipefail
nib="$1"
work=$(mktemp -d)
disk="$work/disk"
cleanup() { mountpoint -q "$disk" 2>/dev/null && umount "$disk"; rm -rf "$work"; }
trap cleanup EXIT
failures=0 skipped=""

awk 'BEGIN { srand(3); printf "label"; for (i = 0; i < 64; i++) printf ",pixel%d", i; printf "\n";
  for (r = 0; r < 80; r++) { label = r % 2; printf "%d", label;
    for (i = 0; i < 64; i++) printf ",%d", (i < 32) == (label == 0) ? 200 : int(rand() * 60);
    printf "\n" } }' >"$work/digits.csv"
# One epoch of a 2-epoch run, stopped: its checkpoint (~1.3 MB) is the last good one.
"$nib" train --data "$work/digits.csv" --model mlp --model-options hidden=256-256 --epochs 2 --batch-size 16 \
  --out "$work/run" --stop-after 1 --quiet >"$work/train.log" 2>&1 ||
  { echo "FAIL: the first epoch"; cat "$work/train.log"; exit 1; }
checkpoint_kb=$(( $(stat -c %s "$work/run/checkpoint.safetensors") / 1024 ))

# check_failed_write DIR WHAT PATTERN: `nib train --resume DIR` has just failed
# writing its checkpoint; its message, exit code and files must be right.
check_failed_write() {
  local dir="$1" what="$2" pattern="$3" code="$4"
  if [ "$code" -eq 0 ] || [ "$code" -ge 128 ]; then
    echo "FAIL: $what: exit code $code (expected a clean failure)"; failures=$((failures + 1))
  elif ! grep -q "checkpoint.safetensors.*$pattern" "$work/err"; then
    echo "FAIL: $what: the message does not name the checkpoint and '$pattern':"; cat "$work/err"
    failures=$((failures + 1))
  elif ! cmp -s "$dir/checkpoint.safetensors" "$work/run/checkpoint.safetensors"; then
    echo "FAIL: $what: the last good checkpoint was changed"; failures=$((failures + 1))
  elif compgen -G "$dir/*.tmp.*" >/dev/null; then
    echo "FAIL: $what: a temporary file was left behind: $(ls "$dir")"; failures=$((failures + 1))
  else
    echo "ok: $what: $(tail -1 "$work/err")"
  fi
}

# ---- A file size limit: write() fails with EFBIG -------------------------------------
cp -r "$work/run" "$work/limited"
( trap '' XFSZ; ulimit -f $((checkpoint_kb / 2)); exec "$nib" train --resume "$work/limited" --quiet ) \
  >/dev/null 2>"$work/err"
check_failed_write "$work/limited" "file size limit" "File too large" $?

# ---- A full disk: a tmpfs with room for the run plus half a checkpoint --------------------
mkdir -p "$disk"
used_kb=$(du -sk "$work/run" | cut -f1)
if mount -t tmpfs -o size=$((used_kb + checkpoint_kb / 2))k tmpfs "$disk" 2>/dev/null; then
  cp -r "$work/run" "$disk/run"
  "$nib" train --resume "$disk/run" --quiet >/dev/null 2>"$work/err"
  check_failed_write "$disk/run" "full disk" "No space left on device" $?
  # With room again, the same run resumes from its last good checkpoint and finishes.
  mount -o remount,size=$((used_kb + 4 * checkpoint_kb))k "$disk"
  if "$nib" train --resume "$disk/run" --quiet >/dev/null 2>"$work/err" && [ "$(wc -l <"$disk/run/metrics.csv")" -eq 3 ]; then
    echo "ok: with room again, the run resumes and finishes"
  else
    echo "FAIL: the run does not resume after the disk was full:"; cat "$work/err"; failures=$((failures + 1))
  fi
else
  skipped="full disk (mounting a tmpfs needs root)"
fi

[ "$failures" -eq 0 ] || exit 1
if [ -n "$skipped" ]; then echo "skipped: $skipped"; exit 77; fi
