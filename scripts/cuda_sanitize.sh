#!/usr/bin/env bash
# Runs the CUDA tests under NVIDIA's compute-sanitizer, one tool at a time:
#   memcheck   out-of-bounds and misaligned global/shared accesses, bad frees
#   racecheck  shared-memory races (a missing __syncthreads / __syncwarp)
#   initcheck  reads of device memory nothing has written (e.g. C when beta == 0)
#   synccheck  barriers not reached by every thread that should
# A test that passes can still hide any of these; the sanitizer catches them.
#
# Usage: scripts/cuda_sanitize.sh [BUILD_DIR] [doctest options...]
#   BUILD_DIR (relative to the repository root) defaults to build; doctest options (e.g. -tc="*gemm*") narrow
#   the tests, which helps because racecheck makes kernels much slower.
# Exit status: 0 when every tool reports nothing and every test passes;
# 77 (skipped, with the reason) when compute-sanitizer or a GPU is missing;
# 1 otherwise. The allocator's cache is not freed before exit, so memcheck
# runs without --leak-check.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

build=${1:-build}
shift $(($# > 0 ? 1 : 0))
tests="$build/tests/nib_cuda_tests"

skip() {
  echo "cuda_sanitize: skipped: $*"
  exit 77
}

sanitizer=$(command -v compute-sanitizer || true)
for dir in "${CUDA_HOME:-}" /usr/local/cuda; do
  if [[ -z $sanitizer && -n $dir && -x $dir/bin/compute-sanitizer ]]; then sanitizer=$dir/bin/compute-sanitizer; fi
done
[[ -n $sanitizer ]] || skip "compute-sanitizer not found (it ships with the CUDA toolkit, in <cuda>/bin)"

if [[ ! -x $tests ]]; then
  echo "cuda_sanitize: $tests not found; build it first (cmake -DNIB_CUDA=ON ..., target nib_cuda_tests)" >&2
  exit 1
fi

# Without a usable GPU the test binary prints why and exits 77 before running
# anything; with one, a filter that matches no test makes it exit 0 at once.
probe=$("$tests" --no-intro -tc="no test has this name" 2>&1)
case $? in
  0) ;;
  77) skip "${probe#nib_cuda_tests: skipped: }" ;;
  *)
    echo "cuda_sanitize: $tests failed to start:" >&2
    echo "$probe" >&2
    exit 1
    ;;
esac

failed=()
for tool in memcheck racecheck initcheck synccheck; do
  echo "== compute-sanitizer --tool $tool $tests $*"
  # --error-exitcode: a reported hazard fails the run even if every CHECK passed.
  if ! "$sanitizer" --tool "$tool" --error-exitcode 86 "$tests" --no-intro "$@"; then
    failed+=("$tool")
  fi
done

if ((${#failed[@]})); then
  echo "cuda_sanitize: FAILED under: ${failed[*]} (see the reports above)"
  exit 1
fi
echo "cuda_sanitize: clean under memcheck, racecheck, initcheck and synccheck"
