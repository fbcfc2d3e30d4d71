#!/usr/bin/env bash
# ThreadSanitizer over the code that runs in parallel (docs/reliability.md):
# the OpenMP CPU kernels, the data loader's prefetch thread, the download
# progress and the tests' HTTP server threads.
#
#   scripts/tsan.sh [doctest source-file filters, e.g. "*test_gemm.cpp,*test_loader.cpp"]
#
# Builds the unit tests with clang and -fsanitize=thread into build-tsan/ and
# runs them (all of nib_tests by default: about a minute) with 4 OpenMP
# threads (more than this machine's cores, so that every parallel loop really
# splits). The first report stops the run.
#
# OpenMP: GCC's libgomp is not built with TSan, so its barriers and task
# hand-offs are invisible to it and every parallel loop would be reported as a
# race. clang links LLVM's libomp instead, and LLVM ships Archer
# (libarcher.so), an OMPT tool that tells TSan about OpenMP's synchronisation;
# OMP_TOOL_LIBRARIES loads it. libomp's own code is not instrumented, so its
# internal locking is left out of the reports (ignore_noninstrumented_modules,
# as Archer asks). Reports that remain are real.
set -euo pipefail
cd "$(dirname "$0")/.."
filters=${1:-"*"}

scripts/build.sh --packages-only
cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNIB_SANITIZE=thread \
  -DNIB_CUDA=OFF -DNIB_CUDA_ON_CPU=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-tsan --target nib_tests -j"$(nproc)"

archer=$(dirname "$(readlink -f "$(command -v clang)")")/../lib/libarcher.so
[ -f "$archer" ] || { echo "tsan: no libarcher.so next to clang ($archer): OpenMP would be reported as racy"; exit 2; }
export OMP_TOOL_LIBRARIES=$archer OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
# ignore_noninstrumented_modules: libomp itself is not built with TSan; its own
# mutexes would be reported (Archer asks for this setting).
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 history_size=4 ignore_noninstrumented_modules=1}
build-tsan/tests/nib_tests --no-intro --source-file="$filters"
