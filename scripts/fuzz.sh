#!/usr/bin/env bash
# Fuzzes every file reader nib has (fuzz/; docs/reliability.md).
#
#   scripts/fuzz.sh [seconds] [target ...]
#
# Builds the libFuzzer targets with clang, ASan and UBSan into build-sanitize/
# (or $NIB_SANITIZE_BUILD: the build scripts/sanitize.sh runs the tests in),
# then runs each target (all of fuzz/CMakeLists.txt's list by default) for
# `seconds` (default 20), one after the other. The corpus each run grows is
# kept in build-sanitize/corpus/<target>/ (seeded from fuzz/corpus/<target>/), so
# repeated runs go on where the last one stopped. A crash, leak, hang (10 s on
# one input) or allocation over 2.5 GB stops that target; the input is saved
# as build-sanitize/crashes/<target>/crash-*, and the script exits 1 after the
# others ran. Fix the bug, then commit the input to fuzz/regressions/<target>/,
# which the unit tests replay.
#
# Each target's figures (UTC time, target, wall seconds, executions, coverage
# counters, ok/FAILED) are appended to build-sanitize/fuzz-stats.tsv; NIB_FUZZ_JOBS=N runs N targets at once, and
# NIB_FUZZ_RUNS=N runs each target for N executions instead of for `seconds`
# (the campaign of bench/results/fuzz.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
build=${NIB_SANITIZE_BUILD:-build-sanitize}

scripts/build.sh --packages-only
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNIB_FUZZ=ON \
  -DNIB_CUDA=OFF -DNIB_CUDA_ON_CPU=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target nib_fuzzers -j"$(nproc)"

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < "$build/fuzz_targets.txt"
fi

# One target for `seconds`; prints its summary line and returns libFuzzer's status.
fuzz_one() {
  local name=$1 log=$build/logs/$1.log
  mkdir -p "$build/corpus/$name" "$build/crashes/$name" "$build/logs"
  local status=0 start=$SECONDS
  # -rss_limit_mb: a reader that needs gigabytes for a few-kilobyte input is a bug (see docs/input-limits.md).
  local budget=(-max_total_time="$seconds")
  [ -n "${NIB_FUZZ_RUNS:-}" ] && budget=(-runs="$NIB_FUZZ_RUNS")
  # The seeds, and the inputs that once found bugs, start every run.
  local inputs=("$build/corpus/$name" "fuzz/corpus/$name")
  [ -d "fuzz/regressions/$name" ] && inputs+=("fuzz/regressions/$name")
  "$build/fuzz/fuzz_$name" "${budget[@]}" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$name/" "${inputs[@]}" >"$log" 2>&1 || status=$?
  local runs cov corpus elapsed=$((SECONDS - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$build/corpus/$name" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$elapsed" "${runs:-0}" "${cov:-0}" \
    "$([ $status -eq 0 ] && echo ok || echo FAILED)" >>"$build/fuzz-stats.tsv"
  printf 'fuzz %-18s %9s runs in %5s s  cov %5s  corpus %5s  %s\n' "$name" "${runs:-0}" "$elapsed" "${cov:-0}" "$corpus" \
    "$([ $status -eq 0 ] && echo ok || echo "FAILED: see $log and $build/crashes/$name/")"
  return $status
}

failed=0
jobs=${NIB_FUZZ_JOBS:-1}
for name in "${targets[@]}"; do
  [ -x "$build/fuzz/fuzz_$name" ] || { echo "fuzz: no target '$name' (see $build/fuzz_targets.txt)"; exit 2; }
  if ((jobs > 1)); then
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || failed=1; done
    fuzz_one "$name" &
  else
    fuzz_one "$name" || failed=1
  fi
done
while (($(jobs -rp | wc -l) > 0)); do wait -n || failed=1; done

total=$(awk -F'\t' -v since="${#targets[@]}" '{ n[NR] = $4 } END { for (i = NR - since + 1; i <= NR; ++i) s += n[i]; print s }' \
  "$build/fuzz-stats.tsv")
echo "fuzz: ${#targets[@]} targets, $total executions, $([ $failed -eq 0 ] && echo 'no crashes' || echo 'CRASHES FOUND')"
exit $failed
