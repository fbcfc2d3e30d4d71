#!/usr/bin/env bash
# Builds nib and runs every test (GPU tests report "skipped" without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
status=0
ctest --test-dir build --output-on-failure || status=$?
# What the CUDA kernels did on the CPU harness (ctest cuda_on_cpu), in one line.
log=build/Testing/Temporary/LastTest.log
if [ -f "$log" ]; then
  grep -h "^cuda_on_cpu: " "$log" || true
  awk '/^[0-9]+\/[0-9]+ Testing: cuda_on_cpu/ {on = 1} on && /\[doctest\] test cases:/ {print "cuda_on_cpu tests:", $0; exit}' "$log"
fi
exit "$status"
