#!/usr/bin/env bash
# tests/interop/threads.t -- the thread count never changes what msig writes: with
# --threads 1, 2, 3 and 8, every compression gives the same bytes (the whole artifact with
# SOURCE_DATE_EPOCH, the compressed header and data entries without it), on a payload that
# spans several gzip members, xz blocks and zstd jobs. mender-artifact 3.9.0 validates and
# reads the multi-member gzip and the multi-block xz output, and libarchive's filters (the Mender
# C++ client's reader) decode them whole; msig validates every output.
. "$(dirname "$0")/../lib.sh"
need tar xz zstd python3 cmp
if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
MA=${MENDER_ARTIFACT:-mender-artifact}

P="$TMPD/p"
mkdir -p "$P"
# 1 MiB of random bytes, then 13 MiB of text (fast for xz, more than one 12 MiB xz block),
# then an odd tail: 14 MiB + 12345 bytes.
mkdata "$P/rand" $((1024 * 1024)) threads
yes 'msig threads test line, compressible' | head -c $((13 * 1024 * 1024)) >"$P/text"
mkdata "$P/tail" 12345 threads-tail
cat "$P/rand" "$P/text" "$P/tail" >"$P/rootfs.img"
rm -f "$P/rand" "$P/text" "$P/tail"
mkdata "$P/app.bin" 3000000 threads-app

# members FILE: the number of gzip members in FILE
members() {
  python3 - "$1" <<'PY'
import sys, zlib
data = open(sys.argv[1], "rb").read()
n = 0
while data:
    d = zlib.decompressobj(31)
    d.decompress(data)
    if not d.eof:
        sys.exit("truncated gzip member")
    n += 1
    data = d.unused_data
print(n)
PY
}

# entries ART DIR: unpack the outer tar of ART into DIR
entries() { rm -rf "$2" && mkdir -p "$2" && tar -xf "$1" -C "$2"; }

for comp in none gzip lzma zstd_fastest zstd_best; do
  for t in 1 2 3 8; do
    SOURCE_DATE_EPOCH=1700000000 "$MSIG" write rootfs-image -t tdev -n threads-1 -f "$P/rootfs.img" \
      --compression "$comp" --threads "$t" -o "$TMPD/r-$comp-$t.mender" >/dev/null 2>"$TMPD/err"
    ok $? "$comp: reproducible rootfs-image write with --threads $t" || diag "$(cat "$TMPD/err")"
    "$MSIG" write module-image -T tmod -t tdev -n threads-m -f "$P/rootfs.img" -f "$P/app.bin" \
      --compression "$comp" --threads "$t" -o "$TMPD/m-$comp-$t.mender" >/dev/null 2>"$TMPD/err"
    ok $? "$comp: module-image write with --threads $t" || diag "$(cat "$TMPD/err")"
  done
  for t in 2 3 8; do
    d=$(cmp "$TMPD/r-$comp-1.mender" "$TMPD/r-$comp-$t.mender" 2>&1)
    ok $? "$comp: SOURCE_DATE_EPOCH artifact with --threads $t is byte-identical to --threads 1" || diag "$d"
    entries "$TMPD/m-$comp-1.mender" "$TMPD/e1"
    entries "$TMPD/m-$comp-$t.mender" "$TMPD/e$t"
    for f in "$TMPD/e1"/header.tar* "$TMPD/e1"/data/0000.tar*; do
      d=$(cmp "$f" "$TMPD/e$t/${f#"$TMPD/e1/"}" 2>&1)
      ok $? "$comp: ${f#"$TMPD/e1/"} with --threads $t is byte-identical to --threads 1" || diag "$d"
    done
  done
  run "$MSIG" validate "$TMPD/r-$comp-8.mender"
  is "$rc" 0 "$comp: msig validates the --threads 8 output" || diag "$err"
  run "$MSIG" validate --threads 1 "$TMPD/m-$comp-3.mender"
  is "$rc" 0 "$comp: msig validate --threads 1 accepts the --threads 3 module-image" || diag "$err"
done

# The layouts that make the parallel formats: several gzip members, several xz blocks.
entries "$TMPD/r-gzip-1.mender" "$TMPD/g"
n=$(members "$TMPD/g/data/0000.tar.gz")
ok "$([ "${n:-0}" -ge 20 ] && echo 0 || echo 1)" "gzip data is multi-member ($n members of 512 KiB)"
entries "$TMPD/r-lzma-1.mender" "$TMPD/x"
blocks=$(xz --robot --list "$TMPD/x/data/0000.tar.xz" | awk '$1 == "totals" { print $3 }')
ok "$([ "${blocks:-0}" -ge 2 ] && echo 0 || echo 1)" "xz data has several blocks ($blocks)"
xz -t "$TMPD/x/data/0000.tar.xz"
ok $? "xz -t accepts the block-split xz data"
# The data decompresses to a tar of the payload, whatever tool reads it.
tar -xOzf "$TMPD/g/data/0000.tar.gz" rootfs.img | cmp -s - "$P/rootfs.img"
ok $? "gzip -d of the multi-member data gives the payload"
# libarchive's own filters, which the Mender C++ client reads artifacts through.
LACAT=$MSIG_BUILD_DIR/tests/lacat
[ -x "$LACAT" ] || bail "lacat is not built ($LACAT)"
"$LACAT" "$TMPD/g/data/0000.tar.gz" rootfs.img | cmp -s - "$P/rootfs.img"
ok $? "libarchive's gzip filter reads the multi-member data whole"
"$LACAT" "$TMPD/x/data/0000.tar.xz" rootfs.img | cmp -s - "$P/rootfs.img"
ok $? "libarchive's xz filter reads the multi-block data whole"
head -c $(($(stat -c %s "$TMPD/g/data/0000.tar.gz") / 2)) "$TMPD/g/data/0000.tar.gz" >"$TMPD/cut.tar.gz"
"$LACAT" "$TMPD/cut.tar.gz" rootfs.img >/dev/null 2>"$TMPD/lacat.err"
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "lacat fails on a cut gzip stream (the checks above can fail)"
like "$(cat "$TMPD/lacat.err")" "lacat: $TMPD/cut.tar.gz:" "and says so"

if command -v "$MA" >/dev/null 2>&1; then
  for comp in gzip lzma none; do
    for art in "r-$comp-8" "m-$comp-2"; do
      run "$MA" validate "$TMPD/$art.mender"
      is "$rc" 0 "mender-artifact validates msig's $art" || diag "$out $err"
      run "$MA" read "$TMPD/$art.mender"
      is "$rc" 0 "mender-artifact reads msig's $art" || diag "$err"
    done
  done
  like "$(cd "$TMPD" && "$MA" read "r-gzip-8.mender" 2>&1)" "checksum: $(sha256sum "$P/rootfs.img" | cut -d' ' -f1)" \
    "mender-artifact shows the payload's checksum"
else
  skip "mender-artifact is not installed" "mender-artifact reads the multi-member gzip and multi-block xz output"
fi

done_testing
