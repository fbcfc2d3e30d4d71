#!/usr/bin/env bash
# Mutation testing: do the tests catch real bugs? (docs/reliability.md)
#
#   scripts/mutate.sh [id ...]
#
# Applies each mutation of scripts/mutations.txt (all, or the ids given), one
# at a time, to a scratch copy of the source tree, rebuilds the CPU tests there,
# runs them, and reports which mutations the suite kills (a test fails, or the
# mutant does not compile) and which survive. The working tree is never
# touched: the copy lives in $NIB_MUTATE_DIR (default /tmp/nib-mutate), and
# each mutated file is restored from the pristine copy before the next
# mutation, on failure and on Ctrl-C too.
#
# The tests run are nib_tests (the unit tests), stopping at the first failure;
# the app tests (tests/apps/*.sh) are not run for each mutant. Exits 1 when
# fewer than 90% are killed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${NIB_MUTATE_DIR:-/tmp/nib-mutate}
list=$repo/scripts/mutations.txt
src=$work/src build=$work/build pristine=$work/pristine

# ---- The mutations: parallel arrays, one entry per "== id: ..." block -------------
ids=() whats=() files=() froms=() tos=()
while IFS= read -r line; do
  case "$line" in
    "== "*) rest=${line#== }; ids+=("${rest%%:*}"); whats+=("${rest#*: }") ;;
    "file: "*) files+=("${line#file: }") ;;
    "from: "*) froms+=("${line#from: }") ;;
    "to:   "*) tos+=("${line#to:   }") ;;
  esac
done <"$list"
n=${#ids[@]}
[ ${#files[@]} -eq "$n" ] && [ ${#froms[@]} -eq "$n" ] && [ ${#tos[@]} -eq "$n" ] ||
  { echo "mutate: $list: every mutation needs file:, from: and to: lines"; exit 2; }

wanted() {  # is mutation $1 among those asked for?
  ((${#selected[@]} == 0)) && return 0
  local id; for id in "${selected[@]}"; do [ "$id" = "$1" ] && return 0; done; return 1
}
selected=("$@")

# ---- A scratch copy of the tree (tracked and new files, not build outputs) --------
echo "mutate: copying the source tree to $src"
rm -rf "$src" "$pristine"
mkdir -p "$src" "$pristine"
(cd "$repo" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src")
cp -r "$src/." "$pristine/"

current=""  # the file mutated right now, restored whatever happens
restore() { [ -n "$current" ] && cp "$pristine/$current" "$src/$current"; current=""; }
trap restore EXIT INT TERM

# Every mutation must apply to exactly one place, or the list is out of date.
for ((i = 0; i < n; ++i)); do
  wanted "${ids[i]}" || continue
  count=$(grep -cF -- "${froms[i]}" "$src/${files[i]}" || true)
  [ "$count" -eq 1 ] || { echo "mutate: ${ids[i]}: '${froms[i]}' occurs $count times in ${files[i]}"; exit 2; }
done

# ---- The unmutated tree must build and pass ---------------------------------------
export NIB_DATA=${NIB_DATA:-$repo/../shared/data}
run_tests() { timeout "${NIB_MUTATE_TIMEOUT:-900}" "$build/tests/nib_tests" --no-intro --abort-after=1 >"$work/test.log" 2>&1; }
echo "mutate: building the unmutated tree in $build"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNIB_CUDA=OFF -DNIB_CUDA_ON_CPU=OFF >/dev/null
cmake --build "$build" --target nib_tests -j"$(nproc)" >"$work/build.log" 2>&1 || { echo "mutate: baseline build failed: $work/build.log"; exit 2; }
start=$(date +%s)
run_tests || { echo "mutate: the unmutated tests fail (see $work/test.log)"; exit 2; }
echo "mutate: baseline passes in $(($(date +%s) - start)) s; $n mutations listed"

# ---- One mutation at a time ----------------------------------------------------------
killed=0 survived=0 tried=0
report=$work/report.tsv
printf 'id\tresult\tseconds\tfile\n' >"$report"
for ((i = 0; i < n; ++i)); do
  wanted "${ids[i]}" || continue
  id=${ids[i]} file=${files[i]}
  current=$file
  content=$(<"$src/$file")
  printf '%s\n' "${content/"${froms[i]}"/"${tos[i]}"}" >"$src/$file"
  start=$(date +%s)
  if ! cmake --build "$build" --target nib_tests -j"$(nproc)" >"$work/build.log" 2>&1; then
    result="killed (does not compile)"
  elif run_tests; then
    result="SURVIVED"
  else
    failed=$(grep -m1 -o 'TEST CASE:  .*' "$work/test.log" | cut -c13- || true)
    result="killed by: ${failed:-a failing or crashing test}"
  fi
  restore
  tried=$((tried + 1))
  case "$result" in SURVIVED) survived=$((survived + 1)) ;; *) killed=$((killed + 1)) ;; esac
  printf '%s\t%s\t%s\t%s\n' "$id" "$result" "$(($(date +%s) - start))" "$file" >>"$report"
  printf 'mutate %-32s %s\n' "$id" "$result"
done
# Leave the scratch build matching the unmutated tree.
cmake --build "$build" --target nib_tests -j"$(nproc)" >/dev/null 2>&1 || true

score=$((tried ? 100 * killed / tried : 0))
echo "mutate: $killed of $tried mutations killed ($score%), $survived survived; report: $report"
[ "$score" -ge 90 ]
