#!/usr/bin/env bash
# threads.t -- the read pipeline gives the same results for every thread count: the hostile
# cases of gen.py and genheader.py, the interop corpus, and artifacts of every compression
# (a block-split xz among them, which liblzma decodes on several threads) intact, with a byte
# flipped at many places and cut short at many places, are read with 1, 2, 3 and 8 threads by
# rdtrace, which prints the result, the error text, the verdict, every file-handler event with
# a hash of its bytes, and whether every callback ran on the calling thread in order. The
# outputs must be identical; the CLI gives the same under taskset -c 0 (one CPU) as without.
. "$(dirname "$0")/../lib.sh"
need python3 xz tar zstd taskset
TRACE=$MSIG_BUILD_DIR/tests/rdtrace
[ -x "$TRACE" ] || bail "rdtrace is not built ($TRACE)"
C=$TMPD/cases
mkdir -p "$C"

# ---------------------------------------------------------------- inputs
printf 'payload bytes\n' >"$TMPD/small.img"
run "$MSIG" write rootfs-image -t dev -n rel-1 -f "$TMPD/small.img" --compression none -o "$TMPD/src.mender"
is "$rc" 0 "a small artifact for the hostile generators" || diag "$err"
python3 "$MSIG_SOURCE_DIR/tests/hostile/gen.py" "$TMPD/src.mender" "$C" >/dev/null || bail "gen.py failed"
python3 "$MSIG_SOURCE_DIR/tests/hostile/genheader.py" "$TMPD/src.mender" "$C" >/dev/null ||
  bail "genheader.py failed"

# A payload of 3 MiB, half random and half text, so that data spans many pipeline slots.
mkdata "$TMPD/rnd" $((1536 * 1024)) threads
for i in $(seq 1 24000); do echo "line $i of a compressible part of the payload"; done >"$TMPD/txt"
cat "$TMPD/rnd" "$TMPD/txt" | head -c $((3 * 1024 * 1024)) >"$TMPD/rootfs.img"
for c in none gzip lzma zstd_fast; do
  run "$MSIG" write module-image -T app -t dev -n rel-$c -f "$TMPD/rootfs.img" -f "$TMPD/small.img" \
    --compression "$c" -o "$C/base-$c.mender"
  is "$rc" 0 "a $c artifact with two payload files" || diag "$err"
done
# The same lzma artifact with its data re-compressed as block-split xz (256 KiB blocks): the
# data entry is not in the manifest, so it stays valid.
X=$TMPD/xz
mkdir -p "$X"
tar -xf "$C/base-lzma.mender" -C "$X"
xz -dc "$X/data/0000.tar.xz" | xz -T2 --block-size=256KiB -c >"$X/blocks.xz"
mv "$X/blocks.xz" "$X/data/0000.tar.xz"
(cd "$X" && tar --format=ustar -cf "$C/base-xzblocks.mender" version manifest header.tar.xz data/0000.tar.xz)
# Its data entry cut short inside a valid outer tar, at 7 places.
xsize=$(stat -c %s "$X/data/0000.tar.xz")
mkdir -p "$X/cut"
cp "$X/version" "$X/manifest" "$X/header.tar.xz" "$X/cut/"
mkdir -p "$X/cut/data"
for k in $(seq 1 7); do
  head -c $(( (xsize * k) / 8 )) "$X/data/0000.tar.xz" >"$X/cut/data/0000.tar.xz"
  (cd "$X/cut" && tar --format=ustar -cf "$C/xzblocks-datacut$k.mender" version manifest header.tar.xz data/0000.tar.xz)
done
xz -lv "$X/data/0000.tar.xz" | grep -q 'Blocks: *1[0-9]' ; ok $? "the re-compressed xz has many blocks"

# Every base artifact with one byte flipped at 23 places, and cut short at 9 places.
for b in "$C"/base-*.mender; do
  size=$(stat -c %s "$b")
  for k in $(seq 1 23); do
    off=$(( (size * k) / 24 + k * 7 ))
    python3 - "$b" "$C/$(basename "$b" .mender)-flip$k.mender" "$off" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
off = int(sys.argv[3]) % len(data)
data[off] ^= 0x5a
open(sys.argv[2], "wb").write(data)
PY
  done
  for k in $(seq 1 9); do
    head -c $(( (size * k) / 10 )) "$b" >"$C/$(basename "$b" .mender)-cut$k.mender"
  done
done
files=("$C"/*.mender)
for f in "$MSIG_INTEROP"/*.mender; do [ -e "$f" ] && files+=("$f"); done
ok "$([ "${#files[@]}" -gt 200 ] && echo 0 || echo 1)" "${#files[@]} artifacts to read"

# ---------------------------------------------------------------- library: 1, 2, 3, 8 threads
"$TRACE" 1 "${files[@]}" >"$TMPD/t1" 2>&1
is "$?" 0 "rdtrace with 1 thread ran"
bad=$(grep -c 'rc=-' "$TMPD/t1")
good=$(grep -c 'rc=0 ' "$TMPD/t1")
ok "$([ "$bad" -gt 150 ] && [ "$good" -gt 20 ] && echo 0 || echo 1)" \
  "the inputs give both results ($bad refused, $good accepted)"
for msg in 'gzip CRC32 mismatch\|corrupt gzip data' 'corrupt xz data' 'zstd' 'invalid checksum' \
    'truncated\|Truncated\|ends early\|unexpected end'; do
  grep -q -- "$msg" "$TMPD/t1"; ok $? "among the errors: $msg"
done
unlike "$(cat "$TMPD/t1")" "wrong-thread=1" "every callback ran on the calling thread"
unlike "$(cat "$TMPD/t1")" "backwards=1" "progress never went backwards"
for n in 2 3 8; do
  "$TRACE" "$n" "${files[@]}" >"$TMPD/t$n" 2>&1
  is "$?" 0 "rdtrace with $n threads ran"
  if cmp -s "$TMPD/t1" "$TMPD/t$n"; then
    ok 0 "$n threads: results, messages, events and progress as with 1 thread"
  else
    ok 1 "$n threads: results, messages, events and progress as with 1 thread"
    diff "$TMPD/t1" "$TMPD/t$n" | head -n 20 | sed 's/^/# /'
  fi
done

# ---------------------------------------------------------------- the CLI on one CPU and on all
same=0 n=0
for f in "$C"/base-*-flip1[0-9].mender "$C"/base-*-cut5.mender "$C"/base-*.mender; do
  a=$(taskset -c 0 "$MSIG" validate "$f" 2>&1; echo "rc=$?")
  b=$("$MSIG" validate "$f" 2>&1; echo "rc=$?")
  n=$((n + 1))
  [ "$a" = "$b" ] && same=$((same + 1)) || diag "$f: one CPU: $a / all CPUs: $b"
done
is "$same" "$n" "msig validate says the same on one CPU and on all ($n artifacts)"

done_testing
