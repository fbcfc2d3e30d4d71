#!/usr/bin/env bash
# nib extract / index / retrieve / eval-retrieval end to end, on tiny BMP
# files drawn here with printf (no image tools needed). Usage: retrieval.sh NIB
set -euo pipefail
nib=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# bytes N...: each N (0..255) as one byte.
bytes() { for b in "$@"; do printf "\\$(printf %03o "$b")"; done; }
le32() { bytes $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { bytes $(($1 & 255)) $(($1 >> 8 & 255)); }
# bmp FILE R G B: a 4x4 24-bit BMP, colour (R, G, B) with a small ramp so no two files are equal.
bmp() {
  mkdir -p "$(dirname "$1")"
  {
    printf "BM"; le32 102; le32 0; le32 54                         # file header: size, reserved, data offset
    le32 40; le32 4; le32 4; le16 1; le16 24; le32 0; le32 48     # info header: 4x4, 24 bits, uncompressed
    le32 2835; le32 2835; le32 0; le32 0
    for p in $(seq 0 15); do bytes $(($4 + p)) $(($3 + p)) $(($2 + p)); done  # BGR
  } > "$1"
}
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_error WHAT CMD...: CMD must exit non-zero with a one-line message.
expect_error() {
  local what=$1; shift
  if "$@" > "$work/out" 2> "$work/err"; then fail "$what: succeeded"; fi
  [ "$(wc -l < "$work/err")" -eq 1 ] || { cat "$work/err"; fail "$what: not a one-line error"; }
  echo "ok: $what -> $(cat "$work/err")"
}

for i in 0 1 2 3 4 5; do
  bmp "$work/db/red/$i.bmp" $((200 + i * 5)) 20 20
  bmp "$work/db/blue/$i.BMP" 20 20 $((200 + i * 5))
done

"$nib" index --model pixels --image-size 4 --images "$work/db" --out "$work/db.nibindex" > "$work/out"
grep -q "L2-normalised" "$work/out" || { cat "$work/out"; fail "nib index should L2-normalise by default"; }
"$nib" retrieve --index "$work/db.nibindex" --query "$work/db/red/1.bmp" --k 3 --out "$work/grid.png" > "$work/out"
sed -n 2p "$work/out" | grep -q " 1  0.0000  .*red/1.bmp" || { cat "$work/out"; fail "the query itself is not first at 0"; }
[ -s "$work/grid.png" ] || fail "no grid"
"$nib" retrieve --index "$work/db.nibindex" --query "$work/db/red/1.bmp" --k 3 --exclude-self --out "$work/grid.png" \
  > "$work/out"
sed -n 2p "$work/out" | grep -q "red/[02-5].bmp" || { cat "$work/out"; fail "--exclude-self"; }
"$nib" retrieve --index "$work/db.nibindex" --query "$work/db" --k 2 --metric cosine --out "$work/grid.png" > "$work/out"
[ "$(grep -c '^  ' "$work/out")" -eq 24 ] || fail "a folder of 12 queries should give 12 x 2 results"

"$nib" eval-retrieval --index "$work/db.nibindex" --json --out "$work/scores.json" > "$work/out"
grep -q '"p_at_1": 1' "$work/out" || { cat "$work/out"; fail "leave-one-out P@1 on two colours"; }
grep -q '"map"' "$work/scores.json" || fail "scores.json"

bmp "$work/db/red/6.bmp" 230 30 30
"$nib" index --model pixels --image-size 4 --images "$work/db" --out "$work/db.nibindex" --update > "$work/out"
grep -q "12 unchanged, 1 extracted, 0 removed" "$work/out" || { cat "$work/out"; fail "--update"; }
expect_error "--update with another extractor" \
  "$nib" index --model pixels --image-size 4 --no-l2 --images "$work/db" --out "$work/db.nibindex" --update
# An index built without L2 (--no-l2, or before it was the default) is updated as it was built.
"$nib" index --model pixels --image-size 4 --no-l2 --images "$work/db" --out "$work/raw.nibindex" > "$work/out"
! grep -q "L2-normalised" "$work/out" || fail "--no-l2 still normalised"
bmp "$work/db/blue/6.bmp" 30 30 230
"$nib" index --model pixels --image-size 4 --images "$work/db" --out "$work/raw.nibindex" --update > "$work/out" \
  || { cat "$work/out"; fail "--update of a --no-l2 index without flags"; }
grep -q "13 unchanged, 1 extracted" "$work/out" && ! grep -q "L2-normalised" "$work/out" \
  || { cat "$work/out"; fail "--update did not keep the index's own --no-l2"; }
expect_error "--l2 with --no-l2" \
  "$nib" index --model pixels --image-size 4 --l2 --no-l2 --images "$work/db" --out "$work/x.nibindex"

"$nib" extract --model pixels --image-size 4 --images "$work/db" --out "$work/feats.safetensors" > /dev/null
[ -s "$work/feats.safetensors" ] || fail "extract wrote nothing"

expect_error "k larger than the database" "$nib" retrieve --index "$work/db.nibindex" --query "$work/db" --k 50
head -c 300 "$work/db.nibindex" > "$work/cut.nibindex"
expect_error "truncated index" "$nib" retrieve --index "$work/cut.nibindex" --query "$work/db/red/1.bmp"
expect_error "features file as an index" "$nib" eval-retrieval --index "$work/feats.safetensors"
echo "not an image" > "$work/bad.png"
expect_error "undecodable query" "$nib" retrieve --index "$work/db.nibindex" --query "$work/bad.png"
mkdir -p "$work/empty"
expect_error "empty folder" "$nib" index --model pixels --images "$work/empty" --out "$work/e.nibindex"
[ ! -e "$work/e.nibindex" ] || fail "a failed index left a file"
echo "retrieval app test passed"
