#!/usr/bin/env bash
# Packs what a bare GPU machine lacks into the git-ignored folder .gpu-carry/,
# for scripts/gpu_check.sh to build and check nib there (docs/kernels.md,
# "The first GPU session"). Run it here, on the Debian machine, before going
# to the GPU: the device tool copies only the repository and the ignored
# folders named in `carry` (64 MiB in all), and the GPU machine has no Debian
# packages and no network.
#
#   scripts/gpu_pack.sh             headers, static libraries and data
#   scripts/gpu_pack.sh --no-data   headers and libraries only (what CI's
#                                   rehearsal needs; no ../shared/data there)
#
# What goes in, and why:
#   include/stb/, lib/libstb.a     image decoding/writing (libstb-dev); the
#                                  static library, so nothing has to be found
#                                  at run time
#   include/doctest/               the test framework (doctest-dev)
#   include/zlib.h, zconf.h,       gzipped IDX files (zlib1g-dev); the GPU
#   lib/libz.a                     image may have libz.so but not its headers
#   data/mnist/                    the 4 MNIST .gz files (nib train)
#   data/pretrained/               MobileNetV2 weights (nib classify, end to end)
#   data/imagenet/                 the ImageNet class index (nib classify's labels)
#   data/photos/                   a few labelled photos, one per group
#   MANIFEST                       every file with its source, size and sha256,
#                                  the Debian package versions and the commit
#
# Everything else nib needs is on the GPU machine: g++ with OpenMP, CMake,
# ninja, the CUDA toolkit, cuBLAS and cuDNN (there as Python packages).
# Static archives from Debian 12 (glibc 2.36) link against any newer glibc.
#
# Prints the size of the pack and of what travels with it; fails if the two
# together come within 8 MiB of the device tool's 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."

with_data=1
case "${1:-}" in
  "") ;;
  --no-data) with_data=0 ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "gpu_pack: unknown option '$1' (try --help)" >&2
    exit 2
    ;;
esac

carry=.gpu-carry
data_src=${NIB_DATA:-../shared/data}
limit_mib=64
margin_mib=8

die() {
  echo "gpu_pack: $*" >&2
  exit 1
}

[[ $(uname -m) == x86_64 ]] || die "the static libraries must be x86-64 (the GPU machine's); this is $(uname -m)"

# The first folder of the compiler's search path that has $1: the headers
# nib was built with here.
find_header() {
  local dir
  for dir in /usr/local/include /usr/include; do
    if [[ -e $dir/$1 ]]; then
      echo "$dir/$1"
      return
    fi
  done
  die "no $1 here: install libstb-dev doctest-dev zlib1g-dev (scripts/build.sh does)"
}

find_static_lib() {
  local path
  path=$(${CC:-cc} -print-file-name="$1")
  [[ $path == /* && -f $path ]] || die "no $1 here: install libstb-dev and zlib1g-dev (scripts/build.sh does)"
  echo "$path"
}

rm -rf "$carry"
mkdir -p "$carry/include" "$carry/lib"
manifest=$carry/MANIFEST
{
  echo "# scripts/gpu_pack.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "packages: $(dpkg-query -W -f '${Package} ${Version}; ' libstb-dev doctest-dev zlib1g-dev 2>/dev/null || echo 'dpkg-query failed')"
  echo "# path  bytes  sha256  source"
} >"$manifest"

# add SRC DEST: copies a file or folder into the pack and lists its files.
add() {
  local src=$1 dest=$carry/$2
  mkdir -p "$(dirname "$dest")"
  cp -rL "$src" "$dest"
  find "$dest" -type f | sort | while read -r f; do
    echo "${f#"$carry"/}  $(stat -c %s "$f")  $(sha256sum "$f" | cut -d' ' -f1)  ${src}" >>"$manifest"
  done
}

add "$(dirname "$(find_header stb/stb_image.h)")" include/stb
add "$(dirname "$(find_header doctest/doctest.h)")" include/doctest
add "$(find_header zlib.h)" include/zlib.h
add "$(find_header zconf.h)" include/zconf.h
add "$(find_static_lib libstb.a)" lib/libstb.a
add "$(find_static_lib libz.a)" lib/libz.a

if ((with_data)); then
  [[ -d $data_src ]] || die "no data folder $data_src (set NIB_DATA, or use --no-data)"
  for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    add "$data_src/mnist/$f" "data/mnist/$f"
  done
  add "$data_src/pretrained/mobilenet_v2_tflite_dequant.safetensors" data/pretrained/mobilenet_v2_tflite_dequant.safetensors
  add "$data_src/imagenet/imagenet_class_index.json" data/imagenet/imagenet_class_index.json
  # One photo per group (the first by name: the same ones every time), kept
  # under its WordNet-id name so that `nib classify --accuracy` can score it.
  groups=$data_src/photos/imagenet-sample-groups
  for group in "$groups"/*/; do
    first=$(find "$group" -maxdepth 1 -type f | sort | head -n 1)
    [[ -n $first ]] && add "$first" "data/photos/$(basename "$first")"
  done
fi

# What travels to the GPU machine: tracked and untracked-not-ignored files
# (the repository as the device tool sees it), plus this pack.
bytes_of() { xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
repo_bytes=$( (
  git ls-files -z --cached
  git ls-files -z --others --exclude-standard
) | bytes_of)
carry_bytes=$(find "$carry" -type f -print0 | bytes_of)
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
total=$((repo_bytes + carry_bytes))
echo "gpu_pack: $carry holds $(find "$carry" -type f | wc -l) files, $(mib "$carry_bytes")"
echo "gpu_pack: the repository's files $(mib "$repo_bytes"); together $(mib "$total") of the device tool's $limit_mib MiB"
if ((total > (limit_mib - margin_mib) * 1048576)); then
  die "too close to the $limit_mib MiB limit: leave something out"
fi
echo "gpu_pack: run on the GPU machine: scripts/gpu_check.sh \$OUT   (carry: $carry)"
