#!/usr/bin/env bash
# The CPU test suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# then a short run of every fuzz target (docs/reliability.md).
#
#   scripts/sanitize.sh [fuzz seconds per target, default 20; 0: no fuzzing]
#
# One clang build serves both (build-sanitize/, or $NIB_SANITIZE_BUILD):
# NIB_SANITIZE=address,undefined with the libFuzzer targets (NIB_FUZZ=ON), so
# the fuzz smoke run costs no second build. Every ctest test runs, except:
#   - cuda_on_cpu (the CUDA kernels on HIP-CPU): built unsanitized by
#     scripts/test.sh, where it runs; here it would double the build time.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${1:-20}
build=${NIB_SANITIZE_BUILD:-build-sanitize}

scripts/build.sh --packages-only
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNIB_FUZZ=ON -DNIB_TESTS=ON \
  -DNIB_CUDA=OFF -DNIB_CUDA_ON_CPU=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
start=$(date +%s)
cmake --build "$build" -j"$(nproc)"
echo "sanitize: build took $(($(date +%s) - start)) s"

# Reports stop the test at the first error (the build uses -fno-sanitize-recover);
# leaks are errors too. halt_on_error is the default; the stacks name file:line.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
echo "sanitize: skipped under the sanitizers: cuda_on_cpu (runs unsanitized in scripts/test.sh)"
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure -E '^cuda_on_cpu$'
echo "sanitize: tests took $(($(date +%s) - start)) s"

if [ "$fuzz_seconds" -gt 0 ]; then
  NIB_SANITIZE_BUILD=$build scripts/fuzz.sh "$fuzz_seconds"
fi
