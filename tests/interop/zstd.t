#!/usr/bin/env bash
# tests/interop/zstd.t -- zstd compressions (zstd_fastest/fast/better/best, mender-artifact >= 3.10;
# the installed 3.9.0 cannot read them): msig writes, validates and reads; the pieces are then
# taken apart with the system tools (tar, zstd -d) and checked: zstd frames, payload bytes equal
# the input, and every manifest line matches sha256sum of its file.
. "$(dirname "$0")/../lib.sh"
need tar zstd sha256sum cmp
keys="$MSIG_INTEROP/keys"
if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi

exits() { # exits WANT NAME
  if [ "$rc" -eq "$1" ]; then ok 0 "$2"; else ok 1 "$2"; diag "exit code $rc, want $1" "stdout: $out" "stderr: $err"; fi
}

P="$TMPD/payload"
mkdir -p "$P"
mkdata "$P/rootfs.img" 300000 zstd-rootfs
mkdata "$P/app.bin" 70000 zstd-app
printf '{"k": "v"}\n' >"$P/config.json"
: >"$P/empty.bin"
cd "$P" || bail "cannot cd to $P"

# check_parts NAME ARTIFACT PAYLOAD_FILES...: unpack and check everything with system tools
check_parts() {
  local name=$1 a=$2 x line sum path f got
  shift 2
  x="$TMPD/x-$name"
  rm -rf "$x"; mkdir -p "$x/outer" "$x/data"
  tar -xf "$a" -C "$x/outer"; ok $? "$name: outer tar unpacks with tar"
  for f in header.tar.zst data/0000.tar.zst; do
    [ -f "$x/outer/$f" ]; ok $? "$name: has $f" || continue
    is "$(head -c4 "$x/outer/$f" | od -An -tx1 | tr -d ' \n')" "28b52ffd" "$name: $f starts with a zstd frame"
    zstd -q -d -c "$x/outer/$f" >"$x/${f//\//_}.tar"; ok $? "$name: zstd -d $f"
  done
  tar -xf "$x/data_0000.tar.zst.tar" -C "$x/data"; ok $? "$name: payload tar unpacks"
  tar -tf "$x/header.tar.zst.tar" >/dev/null; ok $? "$name: header tar lists"
  for f in "$@"; do
    cmp -s "$P/$f" "$x/data/$f"; ok $? "$name: payload $f bytes equal the input"
  done
  [ -s "$x/outer/manifest" ]; ok $? "$name: manifest present"
  local n=0 bad=0
  while IFS= read -r line; do
    n=$((n + 1))
    sum=${line%%  *}; path=${line#*  }
    case "$path" in
    data/0000/*) f="$x/data/${path#data/0000/}" ;;
    *) f="$x/outer/$path" ;;
    esac
    got=$(sha256sum <"$f" 2>/dev/null | cut -d' ' -f1)
    [ "$got" = "$sum" ] || { bad=$((bad + 1)); diag "$name: manifest $path: $sum, sha256sum: ${got:-missing}"; }
  done <"$x/outer/manifest"
  [ "$bad" -eq 0 ] && [ "$n" -eq $(($# + 2)) ]; ok $? "$name: all $n manifest lines match sha256sum (want $(($# + 2)))"
}

for comp in zstd_fastest zstd_fast zstd_better zstd_best; do
  a="$TMPD/rootfs-$comp.mender"
  run "$MSIG" write rootfs-image -t zdev -n "z-$comp" -f rootfs.img --compression "$comp" -o "$a"
  exits 0 "$comp: msig write rootfs-image"
  run "$MSIG" validate "$a"
  exits 0 "$comp: msig validate"
  run "$MSIG" read --no-progress "$a"
  exits 0 "$comp: msig read"
  like "$out" "z-$comp" "$comp: read shows the name"
  check_parts "rootfs-$comp" "$a" rootfs.img

  a="$TMPD/module-$comp.mender"
  run "$MSIG" write module-image -T zmod -t zdev -n "zm-$comp" -f app.bin -f config.json -f empty.bin \
    --compression "$comp" -k "$keys/rsa3072-private-trad.pem" -o "$a"
  exits 0 "$comp: msig write module-image, signed"
  run "$MSIG" validate -k "$keys/rsa3072-public.pem" "$a"
  exits 0 "$comp: msig validate -k"
  run "$MSIG" validate -k "$keys/rsa3072-b-public.pem" "$a"
  exits 4 "$comp: msig validate -k wrong key exits 4"
  run "$MSIG" read --no-progress -k "$keys/rsa3072-public.pem" "$a"
  exits 0 "$comp: msig read -k"
  like "$out" "signed and verified correctly" "$comp: read verifies the signature"
  check_parts "module-$comp" "$a" app.bin config.json empty.bin
done

# better compression really compresses harder on compressible data
yes 'msig zstd compressible line' | head -c 2000000 >"$P/text.bin"
for comp in zstd_fastest zstd_best; do
  run "$MSIG" write rootfs-image -t zdev -n t -f text.bin --compression "$comp" -o "$TMPD/text-$comp.mender"
  exits 0 "$comp: write compressible payload"
done
s1=$(stat -c %s "$TMPD/text-zstd_fastest.mender" 2>/dev/null || echo 0)
s2=$(stat -c %s "$TMPD/text-zstd_best.mender" 2>/dev/null || echo 0)
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] && [ "$s2" -lt 200000 ]; ok $? "zstd artifacts of 2 MB text are small (fastest $s1, best $s2 bytes)"

# an unknown compression id is refused and writes nothing
run "$MSIG" write rootfs-image -t zdev -n bad -f rootfs.img --compression zstd -o "$TMPD/bad.mender"
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ -n "$err" ]; ok $? "--compression zstd (not an id) is refused with a message"
[ ! -e "$TMPD/bad.mender" ]; ok $? "--compression zstd: no output file left behind"

done_testing
