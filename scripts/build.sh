#!/usr/bin/env bash
# Installs what nib needs (Debian packages) when it is missing, then builds
# everything into build/ (the CUDA backend too when nvcc is on the PATH).
# --packages-only: install, do not build (scripts/fuzz.sh, scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# clang, its fuzzer runtime and its OpenMP: scripts/fuzz.sh and sanitize.sh (libFuzzer needs clang).
packages=(cmake g++ make zlib1g-dev libstb-dev doctest-dev libtbb-dev libcurl4-openssl-dev libssl-dev libhdf5-dev libdnnl-dev
          libopenmpi-dev openmpi-bin clang libclang-rt-dev libomp-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "nib: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = --packages-only ] && exit 0

# nvcc lives outside the PATH in a default CUDA install.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${NIB_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)"
