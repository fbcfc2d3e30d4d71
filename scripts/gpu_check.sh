#!/usr/bin/env bash
# Everything a GPU machine can tell us about nib, in one command of under
# nine minutes: build for sm_90, then every check that needs the GPU, each
# under its own time cap, going on after a failure. Written for a bare
# machine lent for ~15 minutes (docs/kernels.md, "The first GPU session"):
#
#   here:   scripts/gpu_pack.sh                   fills .gpu-carry/ (git-ignored)
#   there:  scripts/gpu_check.sh OUT_DIR          with .gpu-carry carried along
#   here:   scripts/gpu_check.sh --rehearse DIR   everything before the first
#                                                 step that needs a GPU
#
# Steps (summary.md has one line per step; execution order in brackets):
#   configure  sm_90 only, Ninja when present, -DNIB_CUDA_ON_CPU=OFF; the
#              headers and static libraries from .gpu-carry (CMAKE_PREFIX_PATH),
#              never the system's; cuDNN and cuBLAS from $CUDNN_ROOT /
#              $CUBLAS_ROOT if set, else the toolkit or system, else the Python
#              packages (nvidia-cudnn-cu13, nvidia-cublas: python3 says where)
#   build      nib and nib_cuda_tests only, with every core
#   packed     proof that no object used /usr/include's stb, doctest or zlib
#              (the compiler's dependency records) and that libstb and libz
#              are linked statically from the pack
#   a [1]      device facts: nvidia-smi, driver, CUDA, cuDNN, cuBLAS, PyTorch
#   b [2]      nib_cuda_tests in full
#   e [3]      nib train, one epoch, seed 1: cuda with nib's kernels, cuda with cuDNN+cuBLAS, cpu
#   f [4]      nib classify: MobileNetV2 on the packed photos, cuda vs cpu
#   d [5]      nib bench gpu --quick --headline (results file into OUT_DIR)
#   c [6]      compute-sanitizer memcheck and racecheck on test subsets
# The sanitizer runs last because its time is the least predictable; every
# step's cap shrinks to what is left of the budget, so the script ends by
# NIB_GPUCHECK_BUDGET_S (default 510 s) whatever happens.
#
# OUT_DIR receives at most 8 files: summary.md (printed last), summary.json,
# build.log, tests.log, sanitize.log, run.log (logs cut to their last lines)
# and nib bench gpu's <device>_<date>.md and .json. bench/results/gpu/README.md
# says how they become a committed result.
#
# Options: --rehearse (stop before the first device step, exit 0 when
# everything before it passed; exit 77 when there is no nvcc), --configure-only
# (with --rehearse: configure and check the packed paths, no build; what CI
# runs). Environment: CUDNN_ROOT, CUBLAS_ROOT (override the search),
# NIB_CARRY (default .gpu-carry), NIB_GPUCHECK_BUILD (default build-gpucheck),
# NIB_GPUCHECK_BUDGET_S (default 510; 7200 for a rehearsal), NIB_GPUCHECK_JOBS
# (default nproc).
#
# Time (docs/kernels.md, "Time budget"): measured on this project's 2 shared
# cores (load 8-15), configure took 19-27 s and the build 1182-1444 s wall for 496
# CPU-seconds; on the GPU machine's 16 cores that is about 10-15 s and 40-60 s
# (31 s of work per core; the longest single compile is ~8 CPU-seconds),
# leaving ~7 of the 8.5 minutes for steps a-f. --configure-only: ~1 minute.
set -uo pipefail # not -e: a failed step is recorded and the next one runs
cd "$(dirname "$0")/.." || exit 1
repo=$PWD

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

rehearse=0
configure_only=0
out=""
while (($#)); do
  case $1 in
    --rehearse) rehearse=1 ;;
    --configure-only) configure_only=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      echo "gpu_check: unknown option '$1' (try --help)" >&2
      exit 2
      ;;
    *) out=$1 ;;
  esac
  shift
done
if [[ -z $out ]]; then
  echo "usage: scripts/gpu_check.sh [--rehearse [--configure-only]] OUT_DIR" >&2
  exit 2
fi
if ((configure_only && !rehearse)); then
  echo "gpu_check: --configure-only goes with --rehearse" >&2
  exit 2
fi
mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 1
# This run's files only (OUT_DIR holds at most 8; an earlier run's would add up).
rm -f "$out"/{summary.md,summary.json,build.log,tests.log,sanitize.log,run.log}

carry=$(realpath -m "${NIB_CARRY:-.gpu-carry}")
build=$(realpath -m "${NIB_GPUCHECK_BUILD:-build-gpucheck}")
# On the GPU machine everything must end within the budget; a rehearsal on a
# slow, shared machine may take as long as its build takes.
budget=${NIB_GPUCHECK_BUDGET_S:-$( ((rehearse)) && echo 7200 || echo 510)}
build_want=$( ((rehearse)) && echo 7200 || echo 330)
jobs=${NIB_GPUCHECK_JOBS:-$(nproc)}
logs=$build/gpucheck-logs # full logs; OUT_DIR gets their last lines
start=$SECONDS
rm -rf "$logs"
mkdir -p "$logs"
export NIB_DATA=$carry/data

# ---- Recording steps --------------------------------------------------------
order=(pack tools configure build packed a b c d e f)
declare -A title=(
  [pack]="pack (.gpu-carry)" [tools]="tools" [configure]="configure (sm_90, packed headers)"
  [build]="build (nib, nib_cuda_tests)" [packed]="packed headers and libraries only"
  [a]="a. device facts" [b]="b. nib_cuda_tests (every kernel vs the CPU)"
  [c]="c. compute-sanitizer memcheck + racecheck" [d]="d. nib bench gpu --quick --headline"
  [e]="e. nib train, 1 epoch: cuda nib / cuda cudnn+cublas / cpu" [f]="f. nib classify MobileNetV2: cuda vs cpu"
)
declare -A status secs note

record() { # id status seconds note
  status[$1]=$2
  secs[$1]=$3
  note[$1]=$4
  printf 'gpu_check: %-10s %-8s %4s s  %s\n' "$1" "$2" "$3" "$4"
}

elapsed() { echo $((SECONDS - start)); }
# The cap for a step: what it asks for, or what is left of the budget less a
# reserve for writing the summary, whichever is smaller.
cap() {
  local left=$((budget - $(elapsed) - 10))
  ((left < $1)) && echo "$left" || echo "$1"
}

# run_capped CAP LOG CMD...: runs CMD with its output appended to LOG, killed
# (with its children) after CAP seconds; returns its status (124, or 137 when
# it had to be killed: timed out).
run_capped() {
  local limit=$1 log=$2
  shift 2
  echo "\$ $*   (cap ${limit} s)" >>"$log"
  if ((limit < 1)); then
    echo "(not started: the budget is spent)" >>"$log"
    return 124
  fi
  timeout --kill-after=10 "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  ((rc == 137)) && rc=124
  return $rc
}

# ---- Tools ------------------------------------------------------------------
python=$(command -v python3 || true)

# Where a Python package's folder is (nvidia.cudnn, nvidia.cu13, ...), if any.
python_package_dir() {
  [[ -n $python ]] || return 0
  "$python" - "$1" <<'EOF' 2>/dev/null || true
import importlib.util, sys
try:
    spec = importlib.util.find_spec(sys.argv[1])
except Exception:
    spec = None
if spec and spec.submodule_search_locations:
    print(list(spec.submodule_search_locations)[0])
EOF
}

find_nvcc() {
  local d
  if command -v nvcc >/dev/null; then
    command -v nvcc
    return
  fi
  for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-13*; do
    [[ -n $d && -x $d/bin/nvcc ]] && echo "$d/bin/nvcc" && return
  done
  d=$(python_package_dir nvidia.cu13)
  [[ -n $d && -x $d/bin/nvcc ]] && echo "$d/bin/nvcc"
}

# has_lib DIR NAME: DIR/lib or DIR/lib64 holds libNAME.so, versioned or not.
has_lib() {
  compgen -G "$1/lib/lib$2.so*" >/dev/null || compgen -G "$1/lib64/lib$2.so*" >/dev/null
}

t0=$SECONDS
nvcc=$(find_nvcc)
if [[ -z $nvcc ]]; then
  record tools FAIL $((SECONDS - t0)) "no nvcc (PATH, \$CUDA_HOME, /usr/local/cuda, python's nvidia/cu13)"
  if ((rehearse)); then
    echo "gpu_check: skipped: no CUDA compiler here, nothing to rehearse"
    exit 77
  fi
fi
# The toolkit's root, as nvcc itself reports it (_HERE_ is its bin folder):
# the nvcc on the PATH may be a wrapper script elsewhere.
cuda_root=""
if [[ -n $nvcc ]]; then
  here=$("$nvcc" --dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ _HERE_=//p' | head -n1)
  [[ -n $here ]] || here=$(dirname "$(readlink -f "$nvcc")")
  cuda_root=$(dirname "$here")
fi
toolkit_includes=("$cuda_root/include" "$cuda_root/targets/x86_64-linux/include")

# cuDNN: $CUDNN_ROOT, else the toolkit or the system (CMake finds those by
# itself), else the Python package. cuBLAS likewise with $CUBLAS_ROOT.
cudnn_root=${CUDNN_ROOT:-}
cudnn_where="\$CUDNN_ROOT"
if [[ -z $cudnn_root ]]; then
  cudnn_where=""
  for d in "${toolkit_includes[@]}" /usr/include /usr/include/x86_64-linux-gnu; do
    [[ -e $d/cudnn.h ]] && cudnn_where="$d" && break
  done
  if [[ -z $cudnn_where ]]; then
    d=$(python_package_dir nvidia.cudnn)
    if [[ -n $d && -e $d/include/cudnn.h ]] && has_lib "$d" cudnn; then
      cudnn_root=$d
      cudnn_where="python package"
    else
      cudnn_where="not found"
    fi
  fi
fi
cublas_root=${CUBLAS_ROOT:-}
cublas_where="\$CUBLAS_ROOT"
if [[ -z $cublas_root ]]; then
  cublas_where=""
  for d in "${toolkit_includes[@]}"; do
    [[ -e $d/cublas_v2.h ]] && cublas_where="toolkit" && break
  done
  if [[ -z $cublas_where ]]; then
    cublas_where="not found"
    for pkg in nvidia.cu13 nvidia.cublas; do
      d=$(python_package_dir $pkg)
      if [[ -n $d && -e $d/include/cublas_v2.h ]] && has_lib "$d" cublas; then
        cublas_root=$d
        cublas_where="python package"
        break
      fi
    done
  fi
fi
# The Python packages' libraries carry no RPATH to each other, and cuDNN
# loads its engines by name: let the loader find them.
for d in "$cudnn_root" "$cublas_root"; do
  [[ -z $d ]] && continue
  for sub in lib lib64; do
    [[ -d $d/$sub ]] && export LD_LIBRARY_PATH=$d/$sub${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  done
done

# compute-sanitizer and nvidia-smi: on the PATH, else where the toolkit and
# the driver usually put them.
first_executable() {
  local f
  for f in "$@"; do
    [[ -x $f ]] && echo "$f" && return
  done
}
sanitizer=$(command -v compute-sanitizer ||
  first_executable "$cuda_root/bin/compute-sanitizer" /usr/local/cuda*/bin/compute-sanitizer \
    /opt/nvidia/compute-sanitizer/compute-sanitizer)
smi=$(command -v nvidia-smi || first_executable /usr/local/nvidia/bin/nvidia-smi /usr/bin/nvidia-smi)
generator=()
generator_name="make"
build_keep_going=(-k)
if command -v ninja >/dev/null; then
  generator=(-G Ninja)
  generator_name="ninja $(ninja --version)"
  build_keep_going=(-k 0)
fi
version_of() { "$@" 2>&1 | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1 | grep . || echo "?"; }
{
  echo "== host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  grep -m1 'model name' /proc/cpuinfo || true
  echo "== nvcc: ${nvcc:-none}"
  [[ -n $nvcc ]] && "$nvcc" --version | tail -n 2
  echo "== cuDNN: ${cudnn_root:-(found by CMake)} [$cudnn_where]; cuBLAS: ${cublas_root:-(found by CMake)} [$cublas_where]"
  echo "== LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  echo "== cmake: $(command -v cmake) $(version_of cmake --version)"
  echo "== ninja: $(command -v ninja || echo 'none: Unix Makefiles')"
  echo "== c++: $(version_of c++ --version)"
  echo "== compute-sanitizer: ${sanitizer:-none}"
  echo "== nvidia-smi: ${smi:-none}"
  echo "== python3: ${python:-none}"
} >"$logs/tools.log" 2>&1
if [[ -n $nvcc ]]; then
  record tools pass $((SECONDS - t0)) "nvcc $(version_of "$nvcc" --version) ($cuda_root); cmake $(version_of cmake --version); $generator_name; $jobs jobs; cuDNN: $cudnn_where; cuBLAS: $cublas_where; compute-sanitizer: ${sanitizer:-none}"
fi

# The pack: made by scripts/gpu_pack.sh here, carried to the GPU machine.
if [[ -f $carry/MANIFEST ]]; then
  record pack pass 0 "$(find "$carry" -type f | wc -l) files, $(du -sm --apparent-size "$carry" | cut -f1) MiB; $(sed -n 2p "$carry/MANIFEST")"
else
  record pack FAIL 0 "no $carry/MANIFEST: run scripts/gpu_pack.sh before going to the GPU (and carry .gpu-carry)"
fi

# ---- Configure --------------------------------------------------------------
cmake_args=(
  -DCMAKE_BUILD_TYPE=Release
  -DNIB_CUDA=ON
  -DCMAKE_CUDA_ARCHITECTURES=90 # the H100/H200; nothing else is compiled
  -DNIB_CUDA_ON_CPU=OFF         # the CPU harness is CI's, not the GPU's
  -DCMAKE_PREFIX_PATH="$carry"  # packed stb, doctest, zlib: searched first
  -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON # else a system doctestConfig.cmake wins
)
[[ -n $nvcc ]] && cmake_args+=(-DCMAKE_CUDA_COMPILER="$nvcc")
[[ -n $cudnn_root ]] && cmake_args+=(-DCUDNN_ROOT="$cudnn_root")
[[ -n $cublas_root ]] && cmake_args+=(-DCUBLAS_ROOT="$cublas_root")
# A build folder made with another generator cannot be reused.
if [[ -f $build/CMakeCache.txt ]]; then
  want=${generator[1]:-Unix Makefiles}
  grep -q "^CMAKE_GENERATOR:INTERNAL=$want\$" "$build/CMakeCache.txt" || rm -rf "${build:?}/CMakeCache.txt" "$build/CMakeFiles"
fi

t0=$SECONDS
run_capped "$(cap 120)" "$logs/configure.log" cmake -S "$repo" -B "$build" "${generator[@]}" "${cmake_args[@]}"
rc=$?
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null; }
if ((rc == 0)); then
  cudnn_lib=$(cache CUDNN_LIBRARY)
  [[ $cudnn_lib == *NOTFOUND* || -z $cudnn_lib ]] && cudnn_lib="NOT FOUND: no cuDNN variants or conv benchmarks"
  record configure pass $((SECONDS - t0)) "$(grep -m1 'nib: . CUDA backend' "$logs/configure.log" | sed 's/^-- nib: . //'); cuDNN $cudnn_lib"
else
  record configure FAIL $((SECONDS - t0)) "cmake exited $rc: $(grep -m1 -A2 'CMake Error' "$logs/configure.log" | tr '\n' ' ' | cut -c1-300)"
fi

# Configure-time half of the proof: every packed dependency resolved into the pack.
check_cache_paths() {
  local var value bad=""
  for var in STB_INCLUDE_DIR STB_LIBRARY ZLIB_INCLUDE_DIR ZLIB_LIBRARY_RELEASE DOCTEST_INCLUDE_DIR; do
    value=$(cache $var)
    [[ $value == "$carry"/* ]] || bad+=" $var=${value:-unset}"
  done
  echo "$bad"
}

# ---- Build ------------------------------------------------------------------
binaries=0
if [[ ${status[configure]} == pass ]] && ((!configure_only)); then
  t0=$SECONDS
  run_capped "$(cap "$build_want")" "$logs/build.log" cmake --build "$build" -j "$jobs" --target nib nib_cuda_tests -- "${build_keep_going[@]}"
  rc=$?
  if ((rc == 0)); then
    record build pass $((SECONDS - t0)) "nib and nib_cuda_tests with $jobs jobs"
    binaries=1
  else
    what="exited $rc"
    ((rc == 124)) && what="TIMEOUT after $((SECONDS - t0)) s"
    record build FAIL $((SECONDS - t0)) "$what: $(grep -m1 -E 'error|Error' "$logs/build.log" | cut -c1-300)"
    [[ -x $build/nib || -x $build/tests/nib_cuda_tests ]] && binaries=1 # what did build still runs
  fi
elif ((configure_only)); then
  record build skipped 0 "--configure-only"
else
  record build skipped 0 "configure failed"
fi

# The packed-headers proof: the compiler's dependency records name every
# header each object read. Ninja keeps them in .ninja_deps (ninja -t deps);
# Make leaves the .o.d files beside the objects.
t0=$SECONDS
if [[ ${status[configure]} != pass ]]; then
  record packed skipped 0 "configure failed"
else
  bad=$(check_cache_paths)
  if ((configure_only)); then
    # No objects, so no dependency records: preprocess every C++ source instead.
    run_capped "$(cap 600)" "$logs/packed.log" cmake -DBUILD="$build" -DCARRY="$carry" -P scripts/gpu_headers_check.cmake
    rc=$?
    counts=$(grep -E '^sources reading' "$logs/packed.log" | paste -sd ';' -)
    if [[ -z $bad && $rc == 0 ]]; then
      record packed pass $((SECONDS - t0)) "configure found stb, doctest, zlib and their static libraries in the pack only; $(grep -m1 preprocessed "$logs/packed.log"); ${counts% }"
    else
      record packed FAIL $((SECONDS - t0)) "outside the pack:${bad:- none}; ${counts:-the preprocessor check failed (packed.log)}"
    fi
  else
    # One "object<TAB>header" line per header an object read.
    if [[ ${generator[1]:-} == Ninja ]]; then
      ninja -C "$build" -t deps 2>/dev/null | awk '/^[^ \t]/ {sub(/:$/, "", $1); object = $1} /^[ \t]+[^ \t]/ {print object "\t" $1}'
    else
      find "$build" -name '*.o.d' | while read -r d; do
        sed 's/[\\]$//' "$d" | tr ' ' '\n' | grep -v -e '^$' -e ':$' | sed "s|^|$d\t|"
      done
    fi >"$logs/deps.txt"
    # objects_reading PATTERN: how many objects read a header matching PATTERN.
    objects_reading() { awk -F'\t' -v re="$1" '$2 ~ re {seen[$1] = 1} END {print length(seen)}' "$logs/deps.txt"; }
    system_re='^/usr/(local/)?include/(stb/|doctest/|zlib\.h|zconf\.h)'
    system_hits=$(objects_reading "$system_re")
    used=""
    for h in stb/ doctest/ zlib.h; do
      used+=" $h $(objects_reading "^$carry/include/$h")"
    done
    needed=$(readelf -d "$build/nib" "$build/tests/nib_cuda_tests" 2>/dev/null | grep -E 'NEEDED.*lib(z|stb)\.so' || true)
    {
      echo "objects in the dependency records: $(cut -f1 "$logs/deps.txt" | sort -u | wc -l)"
      echo "objects that read the packed headers:$used"
      echo "objects that read /usr/include's stb, doctest, zlib.h or zconf.h: $system_hits"
      awk -F'\t' -v re="$system_re" '$2 ~ re' "$logs/deps.txt" | head -n 20
      echo "shared libz/libstb needed by the binaries: ${needed:-none}"
      echo "cache paths outside the pack:${bad:- none}"
    } >"$logs/packed.log"
    if [[ -z $bad && $system_hits == 0 && -z $needed && $used != *" 0"* ]]; then
      record packed pass $((SECONDS - t0)) "of $(cut -f1 "$logs/deps.txt" | sort -u | wc -l) objects, these read packed headers:$used; none read /usr/include's stb/doctest/zlib; libstb.a and libz.a linked statically"
    else
      record packed FAIL $((SECONDS - t0)) "objects reading system headers: $system_hits; packed:$used; shared: ${needed:-none}; outside the pack:${bad:- none}"
    fi
  fi
fi

nib=$build/nib
tests=$build/tests/nib_cuda_tests

# ---- Is there a GPU? ----------------------------------------------------------
# nib_cuda_tests says why it cannot run (exit 77) before running anything; with
# a GPU, a filter that matches no test makes it exit 0 at once. This also
# proves that both binaries start (their shared libraries load).
gpu=0
no_gpu_reason="the binaries were not built"
((configure_only)) && no_gpu_reason="not looked for (--configure-only builds nothing)"
if ((binaries)); then
  probe=$(timeout 60 "$tests" --no-intro -tc="no test has this name" 2>&1)
  case $? in
    0) gpu=1 ;;
    77) no_gpu_reason=${probe#nib_cuda_tests: skipped: } ;;
    *) no_gpu_reason="nib_cuda_tests did not start: $(echo "$probe" | tail -n 2 | tr '\n' ' ')" ;;
  esac
  if ! timeout 60 "$nib" --help >/dev/null 2>>"$logs/build.log"; then
    no_gpu_reason+="; nib did not start"
  fi
  # Both must start (their shared libraries load) for the build to count.
  if [[ $no_gpu_reason == *"did not start"* ]]; then
    record build FAIL "${secs[build]}" "${note[build]}; $no_gpu_reason"
  elif [[ ${status[build]} == pass ]]; then
    note[build]+="; both start"
  fi
fi

if ((rehearse)); then
  for s in a b e f d c; do record "$s" "not run" 0 "rehearsal: needs the GPU"; done
  echo "gpu_check: no GPU: ${no_gpu_reason} — the rehearsal stops before step a (device facts)"
elif ((!gpu)); then
  # Step a still runs: nvidia-smi and the logs say more than the probe.
  for s in b e f d c; do record "$s" skipped 0 "no usable GPU: $no_gpu_reason"; done
  echo "gpu_check: no usable GPU: $no_gpu_reason"
fi

# ---- a. Device facts --------------------------------------------------------
step_a() {
  local log=$logs/a.log t0=$SECONDS info
  run_capped "$(cap 20)" "$log" "${smi:-nvidia-smi}"
  run_capped "$(cap 20)" "$log" "${smi:-nvidia-smi}" --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit,temperature.gpu --format=csv
  run_capped "$(cap 20)" "$log" "$nvcc" --version
  [[ -n $sanitizer ]] && run_capped "$(cap 20)" "$log" "$sanitizer" --version
  [[ -n $python ]] && run_capped "$(cap 40)" "$log" "$python" -c \
    "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU for torch')"
  run_capped "$(cap 30)" "$log" "$nib" bench gpu --info
  local rc=$?
  info=$(grep -m1 'cuBLAS .*cuDNN' "$log")
  if ((rc == 0)); then
    record a pass $((SECONDS - t0)) "${info:-see run.log}"
  else
    record a FAIL $((SECONDS - t0)) "nib bench gpu --info exited $rc"
  fi
}

# ---- b. The CUDA tests ------------------------------------------------------
step_b() {
  local log=$logs/tests.log t0=$SECONDS rc limit
  limit=$(cap 150)
  run_capped "$limit" "$log" "$tests" --no-intro --duration=true
  rc=$?
  local counts failed
  counts=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n1 | sed 's/\[doctest\] //; s/  */ /g')
  failed=$(grep -A1 -E '^TEST CASE:' "$log" | sed -n 's/^TEST CASE: *//p' | sort -u | head -n 3 | paste -sd ';' -)
  case $rc in
    0) record b pass $((SECONDS - t0)) "$counts" ;;
    124) record b TIMEOUT $((SECONDS - t0)) "cut at $limit s; ${counts:-no summary}" ;;
    *) record b FAIL $((SECONDS - t0)) "${counts:-exit $rc}; failing: ${failed:-see tests.log}" ;;
  esac
}

# ---- c. compute-sanitizer on subsets of the tests ------------------------------
# memcheck: out-of-bounds and misaligned accesses; racecheck: shared-memory
# races. Subsets: small problems that still reach every hand-written kernel's
# edge paths; racecheck only where kernels share memory (GEMM tiles, implicit
# GEMM, block reductions). The caching allocator can hide a write just past
# a tensor's end from memcheck (docs/kernels.md).
step_c() {
  local log=$logs/sanitize.log t0=$SECONDS
  if [[ -z $sanitizer ]]; then
    record c skipped 0 "compute-sanitizer not found"
    return
  fi
  local runs=(
    "memcheck|cuda kernel*,cuda copies*,allocator*,pool argmax*|60"
    "memcheck|cuda gemm*,cuda conv2d*|70"
    "racecheck|cuda gemm*|50"
    "racecheck|cuda conv2d*,cuda kernel batchnorm*,cuda kernel softmax*,cuda kernel sum*,cuda kernel max pool*|50"
  )
  local run tool filter want limit rc t1 results="" worst=pass
  for run in "${runs[@]}"; do
    IFS='|' read -r tool filter want <<<"$run"
    limit=$(cap "$want")
    if ((limit < 15)); then
      results+="$tool [$filter]: no time left; "
      worst=TIMEOUT
      continue
    fi
    t1=$SECONDS
    run_capped "$limit" "$log" "$sanitizer" --tool "$tool" --error-exitcode 86 "$tests" --no-intro -tc="$filter"
    rc=$?
    case $rc in
      0) results+="$tool [$filter]: clean $((SECONDS - t1)) s; " ;;
      86)
        results+="$tool [$filter]: HAZARDS; "
        worst=FAIL
        ;;
      124)
        results+="$tool [$filter]: cut at $limit s; "
        [[ $worst == pass ]] && worst=TIMEOUT
        ;;
      *)
        results+="$tool [$filter]: exit $rc; "
        worst=FAIL
        ;;
    esac
  done
  record c "$worst" $((SECONDS - t0)) "${results%; }"
}

# ---- d. The benchmark ---------------------------------------------------------
bench_stem=""
step_d() {
  local log=$logs/bench.log t0=$SECONDS rc limit
  limit=$(cap 170)
  rm -rf "$build/bench-results"
  run_capped "$limit" "$log" "$nib" bench gpu --quick --headline --out "$build/bench-results" ${python:+--python "$python"}
  rc=$?
  bench_stem=$(sed -n 's/^wrote \(.*\)\.json and .*/\1/p' "$log" | tail -n1)
  case $rc in
    0) record d pass $((SECONDS - t0)) "$(basename "${bench_stem:-?}").{md,json}; headline below" ;;
    124) record d TIMEOUT $((SECONDS - t0)) "cut at $limit s: no results file (the bench writes at the end)" ;;
    *) record d FAIL $((SECONDS - t0)) "exit $rc: $(tail -n1 "$log" | cut -c1-200)" ;;
  esac
}

# ---- e. Training, one epoch, same seed on three back ends ------------------------
# json_number FILE KEY: a top-level number of a summary.json ("null" if absent).
json_number() {
  local v
  v=$(sed -n "s/^ *\"$2\": *\([-0-9.eE+]*\),\{0,1\}$/\1/p" "$1" 2>/dev/null | head -n1)
  echo "${v:-null}"
}
# fmt VALUE PRINTF-FORMAT [SCALE]: a number for the tables, "-" when absent.
fmt() {
  awk -v v="$1" -v f="$2" -v k="${3:-1}" 'BEGIN { if (v == "" || v == "null") print "-"; else printf f, v * k }'
}
# The epoch's training loss, training accuracy, validation loss and accuracy:
# the last row of metrics.csv, by column name.
last_metrics() {
  awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) col[$i] = i; next} {split($0, v, ",")} END {
    printf "%.4f %.2f%% %.4f %.2f%%", v[col["train_loss"]], 100 * v[col["train_accuracy"]],
      v[col["val_loss"]], 100 * v[col["val_accuracy"]] }' "$1" 2>/dev/null
}
declare -A train_acc train_loss train_ips train_secs train_epoch
train_runs=("cuda-nib|cuda|cuda|60" "cuda-libraries|cuda|cudnn,cublas|60" "cpu|cpu|fast|120")
step_e() {
  local log=$logs/train.log t0=$SECONDS run name device kernels want limit rc dir notes="" worst=pass
  for run in "${train_runs[@]}"; do
    IFS='|' read -r name device kernels want <<<"$run"
    limit=$(cap "$want")
    dir=$build/runs/train-$name
    rm -rf "$dir"
    if ((limit < 15)); then
      notes+="$name: no time left; "
      worst=TIMEOUT
      continue
    fi
    run_capped "$limit" "$log" "$nib" train --epochs 1 --seed 1 --quiet --device "$device" --kernels "$kernels" --out "$dir"
    rc=$?
    if ((rc != 0)); then
      notes+="$name: $( ((rc == 124)) && echo "cut at $limit s" || echo "exit $rc"); "
      worst=FAIL
      continue
    fi
    train_acc[$name]=$(json_number "$dir/summary.json" accuracy)
    train_loss[$name]=$(json_number "$dir/summary.json" loss)
    train_ips[$name]=$(json_number "$dir/summary.json" images_per_second)
    train_secs[$name]=$(json_number "$dir/summary.json" train_seconds)
    train_epoch[$name]=$(last_metrics "$dir/metrics.csv")
    notes+="$name: test acc $(fmt "${train_acc[$name]}" %.2f%% 100) loss $(fmt "${train_loss[$name]}" %.4f); "
  done
  # Same seed, same data, FP32 everywhere: the GPU runs should land within
  # a fraction of a point of the CPU (sums in another order, not another model).
  local cpu=${train_acc[cpu]:-}
  if [[ -n $cpu && $cpu != null ]]; then
    for name in cuda-nib cuda-libraries; do
      local acc=${train_acc[$name]:-null}
      [[ $acc == null ]] && continue
      if ! awk -v a="$acc" -v c="$cpu" 'BEGIN {d = a - c; exit !(d < 0.005 && d > -0.005)}'; then
        notes+="$name differs from the CPU by more than 0.5 points; "
        worst=FAIL
      fi
    done
  elif [[ $worst == pass ]]; then
    worst=FAIL
  fi
  record e "$worst" $((SECONDS - t0)) "${notes%; }"
}

# ---- f. Classification with the pretrained MobileNetV2 --------------------------
# Top-1 of each packed photo (nib classify --json: one object per image), cuda
# (nib's kernels, and cuDNN+cuBLAS) against the CPU; the largest difference in the
# top-1 probability shows how far the two computations drift.
top1_table() { # one line per image: path index prob (of the first, most likely class)
  sed -n 's/.*"path": *"\([^"]*\)".*"top5": *\[ *{ *"index": *\([0-9]*\)[^}]*"prob": *\([-0-9.eE+]*\).*/\1 \2 \3/p' "$1"
}
step_f() {
  local log=$logs/classify.log t0=$SECONDS kernels device tag rc notes="" worst=pass n
  local weights=$carry/data/pretrained/mobilenet_v2_tflite_dequant.safetensors photos=$carry/data/photos
  if [[ ! -f $weights || ! -d $photos ]]; then
    record f skipped 0 "no packed weights or photos (scripts/gpu_pack.sh without --no-data)"
    return
  fi
  for tag in cpu cuda-nib cuda-libraries; do
    device=${tag%%-*}
    case $tag in cpu) kernels=fast ;; cuda-nib) kernels=cuda ;; cuda-libraries) kernels=cudnn,cublas ;; esac
    # --json: one object per image on stdout; --accuracy adds top-1/top-5 on stderr.
    run_capped "$(cap 40)" "$logs/classify-$tag.out" "$nib" classify --model mobilenet_v2 --weights "$weights" \
      --json --accuracy --device "$device" --kernels "$kernels" "$photos"
    rc=$?
    cat "$logs/classify-$tag.out" >>"$log"
    top1_table "$logs/classify-$tag.out" | sort >"$logs/top1-$tag.txt"
    if ((rc != 0)); then
      notes+="$tag: exit $rc; "
      worst=FAIL
    fi
  done
  n=$(wc -l <"$logs/top1-cpu.txt")
  notes+="cpu: $(grep -m1 -o 'top-1.*' "$logs/classify-cpu.out" || echo 'no accuracy line'); "
  for tag in cuda-nib cuda-libraries; do
    [[ -s $logs/top1-$tag.txt ]] || continue
    notes+=$(join "$logs/top1-cpu.txt" "$logs/top1-$tag.txt" | awk -v tag="$tag" -v n="$n" '
      {same += ($2 == $4); d = $3 - $5; if (d < 0) d = -d; if (d > m) m = d}
      END {printf "%s: same top-1 as the CPU on %d of %d photos, max |p - p_cpu| %.1e; ", tag, same, n, m}')
    if ! join "$logs/top1-cpu.txt" "$logs/top1-$tag.txt" | awk -v n="$n" '$2 == $4 {s++} END {exit !(s == n && n > 0)}'; then
      worst=FAIL
    fi
  done
  record f "$worst" $((SECONDS - t0)) "${notes%; }"
}

((rehearse)) || step_a
if ((!rehearse && gpu)); then
  step_b
  step_e
  step_f
  step_d
  step_c
fi

# ---- Summary ----------------------------------------------------------------
json_string() { # a JSON string literal
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/ }
  s=${s//$'\n'/ }
  printf '"%s"' "$s"
}

device_name=""
((gpu)) && device_name=$(sed -n 's/^nib_cuda_tests: running on \(.*\)$/\1/p' "$logs/tests.log" 2>/dev/null | head -n1)
[[ -z $device_name && -n $smi && $rehearse == 0 ]] &&
  device_name=$("$smi" --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)
[[ -z $device_name ]] && device_name="no GPU"
mode=$( ((rehearse)) && echo "rehearsal$( ((configure_only)) && echo ', configure only')" || echo "GPU run")
date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
total=$(elapsed)

headline_md=""
headline_json=null
if [[ -n $bench_stem && -f $bench_stem.json ]]; then
  if [[ -n $python ]]; then
    headline_md=$("$python" scripts/gpu_headline.py "$bench_stem.json" 2>&1)
    headline_json=$("$python" scripts/gpu_headline.py --json "$bench_stem.json" 2>/dev/null || echo null)
  else
    headline_md="- (no python3 to read $bench_stem.json)"
  fi
  cp "$bench_stem.md" "$bench_stem.json" "$out/"
fi

{
  echo "# nib GPU check: ${device_name:-unknown device}, $date_utc"
  echo
  echo "$mode; $total s of the ${budget} s budget; $(sed -n 2p "$carry/MANIFEST" 2>/dev/null || echo 'commit unknown (no pack)')"
  echo
  echo "| step | result | s | notes |"
  echo "|---|---|---:|---|"
  for s in "${order[@]}"; do
    echo "| ${title[$s]} | **${status[$s]:-not run}** | ${secs[$s]:-} | ${note[$s]:-} |"
  done
  if [[ -n $headline_md ]]; then
    echo
    echo "## Headline (nib bench gpu --quick --headline: $(basename "$bench_stem").md)"
    echo
    echo "$headline_md"
  fi
  if [[ ${status[e]:-} != "not run" && ${status[e]:-skipped} != skipped ]]; then
    echo
    echo "## One epoch of the basic CNN on MNIST, seed 1 (nib train --epochs 1)"
    echo
    echo "| run | test accuracy | test loss | train loss | train accuracy | val loss | val accuracy | images/s | s |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for run in "${train_runs[@]}"; do
      name=${run%%|*}
      read -r tl ta vl va <<<"${train_epoch[$name]:-- - - -}"
      echo "| $name | $(fmt "${train_acc[$name]:-}" %.2f%% 100) | $(fmt "${train_loss[$name]:-}" %.4f) | $tl | $ta | $vl | $va | $(fmt "${train_ips[$name]:-}" %.0f) | $(fmt "${train_secs[$name]:-}" %.1f) |"
    done
  fi
  if ((!gpu)); then
    echo
    echo "No GPU: $no_gpu_reason. No step that needs a device ran; no GPU figure here."
  fi
} >"$out/summary.md"

{
  echo "{"
  echo "  \"tool\": \"scripts/gpu_check.sh\","
  echo "  \"mode\": $(json_string "$mode"),"
  echo "  \"date\": $(json_string "$date_utc"),"
  echo "  \"device\": $(json_string "${device_name:-unknown}"),"
  echo "  \"gpu\": $( ((gpu)) && echo true || echo false),"
  if ((gpu)); then echo "  \"no_gpu_reason\": null,"; else echo "  \"no_gpu_reason\": $(json_string "$no_gpu_reason"),"; fi
  echo "  \"pack\": $(json_string "$(sed -n 2p "$carry/MANIFEST" 2>/dev/null)"),"
  echo "  \"budget_s\": $budget, \"elapsed_s\": $total, \"jobs\": $jobs,"
  echo "  \"steps\": ["
  sep=""
  for s in "${order[@]}"; do
    printf '%s    {"id": "%s", "name": %s, "status": %s, "seconds": %s, "note": %s}' "$sep" "$s" \
      "$(json_string "${title[$s]}")" "$(json_string "${status[$s]:-not run}")" "${secs[$s]:-0}" "$(json_string "${note[$s]:-}")"
    sep=$',\n'
  done
  echo
  echo "  ],"
  echo "  \"train\": {"
  sep=""
  for run in "${train_runs[@]}"; do
    name=${run%%|*}
    printf '%s    "%s": {"accuracy": %s, "loss": %s, "images_per_second": %s, "train_seconds": %s}' "$sep" "$name" \
      "${train_acc[$name]:-null}" "${train_loss[$name]:-null}" "${train_ips[$name]:-null}" "${train_secs[$name]:-null}"
    sep=$',\n'
  done
  echo
  echo "  },"
  echo "  \"headline\": $headline_json"
  echo "}"
} >"$out/summary.json"

# Logs into OUT_DIR, each cut to its last lines (the device tool returns at
# most 8 files): build.log, tests.log, sanitize.log, run.log.
cut_log() { # FILE LINES: a section with the file's last LINES lines
  local f=$1 n=$2 total
  [[ -f $f ]] || return 0
  total=$(wc -l <"$f")
  echo "===== $(basename "$f") ($total lines$( ((total > n)) && echo ", the last $n"))"
  tail -n "$n" "$f"
  echo
}
{
  cut_log "$logs/tools.log" 40
  cut_log "$logs/configure.log" 60
  if grep -q -E 'error|FAILED' "$logs/build.log" 2>/dev/null; then
    echo "===== build.log: the first 40 lines that say error or FAILED"
    grep -m 40 -E 'error|FAILED' "$logs/build.log"
    echo
  fi
  cut_log "$logs/build.log" 150
  cut_log "$logs/packed.log" 40
} >"$out/build.log"
{ cut_log "$logs/tests.log" 400; } >"$out/tests.log"
{ cut_log "$logs/sanitize.log" 400; } >"$out/sanitize.log"
{
  cut_log "$logs/a.log" 120
  cut_log "$logs/train.log" 80
  cut_log "$logs/classify.log" 60
  cut_log "$logs/bench.log" 250
} >"$out/run.log"
find "$out" -maxdepth 1 -type f -empty -delete

echo "gpu_check: wrote $(find "$out" -maxdepth 1 -type f | wc -l) files into $out; the summary:"
echo
cat "$out/summary.md"

failed=0
for s in "${order[@]}"; do
  case ${status[$s]:-} in
    pass | "not run") ;;
    skipped) [[ $s == build && $configure_only == 1 ]] || failed=1 ;;
    *) failed=1 ;;
  esac
done
exit $failed
