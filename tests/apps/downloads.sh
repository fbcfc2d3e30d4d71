#!/usr/bin/env bash
# A fresh machine: no shared/data in sight, an empty NIB_HOME, and the
# published MNIST files on a server on 127.0.0.1 reached through NIB_MIRROR.
# `nib train` downloads them, checks them and trains; later runs use the cache
# without the network; a file the mirror lacks is one clear error, nothing cached.
#   NIB_TEST_SERVE_FOLDER=build/tests/nib_test_serve_folder bash tests/apps/downloads.sh build/nib
set -uo pipefail
nib="$1"
serve_folder="${NIB_TEST_SERVE_FOLDER:?set NIB_TEST_SERVE_FOLDER to the nib_test_serve_folder program}"
src=${NIB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
data=${NIB_DATA:-$src/../shared/data}
if [ ! -f "$data/mnist/train-images-idx3-ubyte.gz" ]; then
  echo "skipped: the published MNIST files are not in $data/mnist (set NIB_DATA to the folder holding mnist/)"
  exit 77
fi
if off=$("$nib" data 2>/dev/null | grep "^download  off"); then
  echo "skipped: ${off#download  off: }"
  exit 77
fi

work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# nib next to the checkout would find shared/data by looking upwards; a copy in the temp folder does not.
cp "$nib" "$work/nib"
"$serve_folder" "$data" "$work/url" 2>/dev/null &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
[ -s "$work/url" ] || { echo "FAIL: the test server did not start"; exit 1; }
mirror=$(cat "$work/url")
cd "$work"
fresh() { env -u NIB_DATA -u XDG_CACHE_HOME NIB_HOME="$work/home" NIB_DOWNLOAD_TIMEOUT=5 "$@"; }

# ---- First run: downloads, checks, trains ----------------------------------------------
if fresh NIB_MIRROR="$mirror" ./nib train --epochs 1 --limit 2000 --out run --quiet >train.log 2>&1; then
  echo "ok: nib train on a fresh machine"
else
  fail "nib train on a fresh machine"; cat train.log
fi
grep -q "downloading $mirror/mnist/train-images-idx3-ubyte.gz (9.9 MB)" train.log || fail "no download announced with its size"
grep -q "saved $work/home/mnist/t10k-labels-idx1-ubyte.gz (5 kB, SHA-256 checked)" train.log || fail "no 'saved' line"
grep -q "data    MNIST ($work/home/mnist)" train.log || fail "training did not use the cache's MNIST"
[ -s run/summary.json ] || fail "no run directory"
[ "$(ls home/mnist | wc -l)" -eq 4 ] || fail "the cache should hold exactly the 4 files: $(ls home/mnist)"
[ -z "$(find home -name '*.tmp.*')" ] || fail "temporary files left in the cache"

# ---- Later runs: the cache, no network -------------------------------------------------
fresh NIB_MIRROR=http://127.0.0.1:9 ./nib train --epochs 1 --limit 500 --out run2 --quiet >train2.log 2>&1 \
  && ! grep -q downloading train2.log && echo "ok: the second run uses the cache" \
  || { fail "second run"; cat train2.log; }
fresh ./nib data >data.log 2>&1 || fail "nib data"
grep -q "ready: $work/home/mnist" data.log && grep -q "cache     $work/home" data.log \
  && echo "ok: nib data shows the cache" || { fail "nib data listing"; cat data.log; }

# ---- A file the mirror lacks: one line naming the URL and what to do; nothing cached ----
fresh NIB_MIRROR="$mirror" ./nib data fetch fashion_mnist >fetch.log 2>fetch.err
code=$?
if [ $code -eq 1 ] && grep -q "$mirror/fashion_mnist/train-images-idx3-ubyte.gz: the server answered HTTP 404" fetch.err \
   && grep -q "Put the file at $work/home/fashion_mnist/train-images-idx3-ubyte.gz by hand" fetch.err \
   && [ "$(grep -c error fetch.err)" -eq 1 ] && [ -z "$(ls home/fashion_mnist)" ]; then
  echo "ok: a missing file: $(grep error fetch.err | head -c 160)..."
else
  fail "a missing file (exit $code)"; cat fetch.err
fi
fresh NIB_MIRROR="$mirror" ./nib data fetch imagenet22k >/dev/null 2>fetch.err
grep -q "nib knows nothing called 'imagenet22k'" fetch.err && echo "ok: an unknown name" || { fail "unknown name"; cat fetch.err; }

[ $failures -eq 0 ] && echo "all ok" || { echo "$failures failure(s)"; exit 1; }
