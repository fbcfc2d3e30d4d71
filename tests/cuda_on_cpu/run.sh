#!/usr/bin/env bash
# The cuda_on_cpu test: runs the CUDA tests with every kernel on the CPU
# (doctest prints its pass/fail count), then checks that each __global__
# function in nib's CUDA sources ran at least once, so a kernel cannot slip
# out of the harness unnoticed.
#
# usage: run.sh TEST_BINARY SOURCE_DIR [doctest options, e.g. -tc="*gemm*": no coverage check then]
set -uo pipefail
binary=$1 source_dir=$2
shift 2

log=$(mktemp)
trap 'rm -f "$log"' EXIT
NIB_CUDA_ON_CPU_KERNEL_LOG=$log "$binary" --no-intro "$@"
status=$?
if [ $status -ne 0 ]; then
  exit $status
fi
if [ $# -gt 0 ]; then
  exit 0  # a chosen subset of the tests: no coverage check
fi

# The kernels in the sources: names after `__global__ void` (and an optional
# __launch_bounds__(...)), templates included.
defined=$(cat "$source_dir"/kernels/cuda/*.cu "$source_dir"/kernels/cuda/*.cuh "$source_dir"/device/cuda/*.cu |
  tr '\n' ' ' |
  grep -oE '__global__ +void +(__launch_bounds__\([^)]*\) +)?[A-Za-z_][A-Za-z0-9_]*' |
  sed -E 's/.* ([A-Za-z_][A-Za-z0-9_]*)$/\1/' | sort -u)

# The kernels that ran: offsets from the log, named by nm.
ran=$(nm -C --defined-only "$binary" | awk -v logfile="$log" '
  BEGIN { while ((getline line < logfile) > 0) ran[line] = 1 }
  {
    addr = $1; sub(/^0+/, "", addr)
    if (!(addr in ran)) next
    name = $0; sub(/^[0-9a-f]+ [A-Za-z] /, "", name)
    gsub(/\(anonymous namespace\)::/, "", name); sub(/^void /, "", name)
    sub(/[(<].*/, "", name); sub(/.*::/, "", name)
    print name
  }' | sort -u)

missing=$(comm -23 <(echo "$defined") <(echo "$ran"))
total=$(echo "$defined" | wc -l)
if [ -n "$missing" ]; then
  echo "cuda_on_cpu: $(echo "$missing" | wc -l) of $total kernels never ran on the CPU harness:" $missing
  exit 1
fi
echo "cuda_on_cpu: all $total kernels of kernels/cuda and device/cuda ran, in tests that passed"
