#!/usr/bin/env bash
# The CPU test suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# then a short run of every fuzz target (docs/reliability.md). CI runs it
# (.ci/run).
#
#   scripts/sanitize.sh [fuzz seconds per target, default 20; 0: no fuzzing]
#
# One clang build serves both (build-sanitize/, or $NIB_SANITIZE_BUILD):
# NIB_SANITIZE=address,undefined with the libFuzzer targets (NIB_FUZZ=ON), so
# the fuzz smoke run costs no second build. Without libFuzzer (clang installed
# without its compiler-rt, libclang-rt-dev) the tests still run sanitized and
# the script says that it did not fuzz.
#
# NIB_SANITIZE_TESTS chooses the tests:
#   all   (default) every ctest test but the two below;
#   unit  nib_tests only (the unit tests, which replay every fuzz input), for
#         a machine where the app tests under ASan would take too long.
# Never run here, whatever NIB_SANITIZE_TESTS says (the script prints this):
#   - cuda_on_cpu: the CUDA kernels built for the host with HIP-CPU; sanitized,
#     it would double the build. scripts/test.sh runs it unsanitized.
#   - examples: a separate CMake project, built with the default compiler
#     against the installed library, cannot link an ASan-instrumented
#     libnib_core.a. scripts/test.sh runs it; the code it calls is nib's own,
#     run sanitized by nib_tests.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${1:-20}
build=${NIB_SANITIZE_BUILD:-build-sanitize}
scope=${NIB_SANITIZE_TESTS:-all}
[[ $scope == all || $scope == unit ]] || { echo "sanitize: NIB_SANITIZE_TESTS is 'all' or 'unit', not '$scope'"; exit 2; }

scripts/build.sh --packages-only
command -v clang++ >/dev/null || { echo "sanitize: clang++ is needed (apt-get install clang)"; exit 2; }

# libFuzzer is a compiler-rt library next to clang; without it, no fuzz targets.
fuzz=ON
fuzzer_runtime=$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a)
if [ ! -f "$fuzzer_runtime" ]; then
  fuzz=OFF
  echo "sanitize: no libFuzzer next to clang (libclang_rt.fuzzer-x86_64.a; package libclang-rt-dev):" \
    "the fuzz targets are not built and not run"
fi

# Without oneDNN (-DNIB_DNNL=OFF): Debian's libdnnl runs on GCC's OpenMP
# (libgomp), which would share the process with clang's libomp; and so CI
# builds and tests nib without it too, as a machine without libdnnl-dev would.
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNIB_FUZZ=$fuzz \
  -DNIB_SANITIZE=address,undefined -DNIB_TESTS=ON -DNIB_CUDA=OFF -DNIB_CUDA_ON_CPU=OFF -DNIB_DNNL=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
start=$(date +%s)
targets=()
if [ "$scope" = unit ]; then
  targets=(--target nib_tests)
  [ $fuzz = ON ] && targets+=(nib_fuzzers)
fi
cmake --build "$build" -j"$(nproc)" "${targets[@]}"
echo "sanitize: build took $(($(date +%s) - start)) s"

# Reports stop the test at the first error (the build uses -fno-sanitize-recover);
# leaks are errors too. halt_on_error is the default; the stacks name file:line.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
excluded='^(cuda_on_cpu|examples)$'
echo "sanitize: not run under the sanitizers: cuda_on_cpu and examples (both run unsanitized in scripts/test.sh)"
if [ "$scope" = unit ]; then
  excluded=""
  skipped=$(ctest --test-dir "$build" -N | sed -n 's/^ *Test *#[0-9]*: //p' | grep -v '^nib_tests$' | tr '\n' ' ')
  echo "sanitize: NIB_SANITIZE_TESTS=unit: nib_tests only; also skipped: $skipped"
fi
start=$(date +%s)
if [ "$scope" = unit ]; then
  ctest --test-dir "$build" --output-on-failure -R '^nib_tests$'
else
  ctest --test-dir "$build" --output-on-failure -E "$excluded"
fi
echo "sanitize: tests took $(($(date +%s) - start)) s"

if [ "$fuzz_seconds" -gt 0 ] && [ $fuzz = ON ]; then
  start=$(date +%s)
  NIB_SANITIZE_BUILD=$build scripts/fuzz.sh "$fuzz_seconds"
  echo "sanitize: fuzz smoke run took $(($(date +%s) - start)) s"
fi
