#!/usr/bin/env bash
# tests/interop/reproducible.t -- with SOURCE_DATE_EPOCH set, msig write is byte-for-byte
# reproducible for every compression (and RSA signing, which is deterministic), even when the
# payload files' mtimes differ between the two runs; every tar member, outer and inner, has
# owner 0/0 and an mtime clamped to SOURCE_DATE_EPOCH.
. "$(dirname "$0")/../lib.sh"
need tar zstd xz gzip cmp
keys="$MSIG_INTEROP/keys"
if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi

SDE=1700000000
SDE_TIME=$(TZ=UTC date -d "@$SDE" '+%Y-%m-%d %H:%M:%S')   # 2023-11-14 22:13:20

P="$TMPD/payload"
mkdir -p "$P"
mkdata "$P/rootfs.img" 100000 repro
mkdata "$P/app.bin" 5000 repro-app
printf '{"a": 1}\n' >"$P/meta.json"
# owned by someone else than root, so that "0/0" in the listing proves the owner is reset
chown 4321:4321 "$P"/* 2>/dev/null || true
cd "$P" || bail "cannot cd to $P"

same() { # same FILE1 FILE2 NAME
  local d
  d=$(cmp "$1" "$2" 2>&1)
  ok $? "$3" || diag "$d"
}

# list_check NAME TARFILE: every member owned by 0/0 with mtime <= SOURCE_DATE_EPOCH
list_check() {
  local listing bad
  listing=$(TZ=UTC tar --numeric-owner --full-time -tvf "$2" 2>&1)
  ok $? "$1: tar -tvf lists it" || { diag "$listing"; return; }
  [ -n "$listing" ] || { ok 1 "$1: has members"; return; }
  bad=$(printf '%s\n' "$listing" | awk '$2 != "0/0"')
  is "$bad" "" "$1: every member is owned by 0/0"
  bad=$(printf '%s\n' "$listing" | awk -v max="$SDE_TIME" '($4 " " $5) > max')
  is "$bad" "" "$1: every member's mtime is <= SOURCE_DATE_EPOCH ($SDE_TIME UTC)"
}

# inner_tars NAME ARTIFACT: list_check the decompressed header and data tars
inner_tars() {
  local x="$TMPD/x-$1" f t
  rm -rf "$x"; mkdir -p "$x"
  tar -xf "$2" -C "$x" || { ok 1 "$1: outer tar unpacks"; return; }
  for f in "$x"/header.tar* "$x"/data/0000.tar*; do
    [ -f "$f" ] || { ok 1 "$1: ${f#"$x"/} present"; continue; }
    t="$f.plain"
    case "$f" in
    *.gz) gzip -dc "$f" >"$t" ;;
    *.xz) xz -dc "$f" >"$t" ;;
    *.zst) zstd -qdc "$f" >"$t" ;;
    *) cp "$f" "$t" ;;
    esac
    list_check "$1 ${f#"$x"/}" "$t"
  done
}

for comp in none gzip lzma zstd_fast; do
  for sig in unsigned rsa3072; do
    kw=()
    [ "$sig" = rsa3072 ] && kw=(-k "$keys/rsa3072-private-trad.pem")
    name="$comp-$sig"
    touch -d '2025-06-01 12:00:00 UTC' rootfs.img app.bin meta.json
    SOURCE_DATE_EPOCH=$SDE "$MSIG" write rootfs-image -t rdev -n repro -f rootfs.img \
      --compression "$comp" "${kw[@]}" -o "$TMPD/a-$name.mender" >/dev/null 2>&1
    ok $? "$name: first write"
    SOURCE_DATE_EPOCH=$SDE "$MSIG" write module-image -T rmod -t rdev -n repro-m -f app.bin -f meta.json \
      -m meta.json --compression "$comp" "${kw[@]}" -o "$TMPD/m-$name.mender" >/dev/null 2>&1
    ok $? "$name: first module write"
    sleep 1
    touch -d '2026-02-02 08:00:00 UTC' rootfs.img app.bin meta.json
    SOURCE_DATE_EPOCH=$SDE "$MSIG" write rootfs-image -t rdev -n repro -f rootfs.img \
      --compression "$comp" "${kw[@]}" -o "$TMPD/b-$name.mender" >/dev/null 2>&1
    ok $? "$name: second write (payload mtime changed)"
    SOURCE_DATE_EPOCH=$SDE "$MSIG" write module-image -T rmod -t rdev -n repro-m -f app.bin -f meta.json \
      -m meta.json --compression "$comp" "${kw[@]}" -o "$TMPD/n-$name.mender" >/dev/null 2>&1
    ok $? "$name: second module write"
    same "$TMPD/a-$name.mender" "$TMPD/b-$name.mender" "$name: rootfs-image writes are byte-identical"
    same "$TMPD/m-$name.mender" "$TMPD/n-$name.mender" "$name: module-image writes are byte-identical"
    list_check "$name outer" "$TMPD/a-$name.mender"
    [ "$sig" = unsigned ] && inner_tars "$name" "$TMPD/a-$name.mender"
  done
done

# and a payload older than SOURCE_DATE_EPOCH is not moved forward
touch -d '2020-01-01 00:00:00 UTC' rootfs.img
SOURCE_DATE_EPOCH=$SDE "$MSIG" write rootfs-image -t rdev -n repro -f rootfs.img --compression none \
  -o "$TMPD/old.mender" >/dev/null 2>&1
ok $? "old payload: write"
rm -rf "$TMPD/x-old"; mkdir -p "$TMPD/x-old"
tar -xf "$TMPD/old.mender" -C "$TMPD/x-old" 2>/dev/null
is "$(TZ=UTC tar --full-time -tvf "$TMPD/x-old/data/0000.tar" 2>/dev/null | awk '{print $4 " " $5}')" \
  "2020-01-01 00:00:00" "old payload: its mtime is kept (clamped, not replaced)"

done_testing
