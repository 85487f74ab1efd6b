#!/usr/bin/env bash
# headers.t -- header strings: the printable-text rule (no control, bidi or separator
# characters) on every string, provides, depends and clears included, with its message and
# exit code; read escapes what it prints; a meta-data integer beyond 64 bits and
# concatenated xz streams with stream padding are valid.
. "$(dirname "$0")/../lib.sh"
need python3 xz tar

SRC=$TMPD/src.mender
printf 'payload bytes\n' >"$TMPD/rootfs.img"
run "$MSIG" write rootfs-image -t dev -n rel-1 -f "$TMPD/rootfs.img" --compression none -o "$SRC"
is "$rc" 0 "an uncompressed artifact to change" || diag "$err"
mkdir "$TMPD/cases"
/usr/bin/python3 "$MSIG_SOURCE_DIR/tests/hostile/genheader.py" "$SRC" "$TMPD/cases" >"$TMPD/list" ||
  bail "genheader.py failed"
while IFS=$'\t' read -r name file want; do
  run "$MSIG" validate "$file"
  if [ -z "$want" ]; then
    is "$rc" 0 "$name: accepted" || diag "$err"
    continue
  fi
  is "$rc" 4 "$name: refused (exit 4)"
  like "$err" "$want" "$name: the message names the field and the character"
  run "$MSIG" read "$file"
  ok "$(! grep -q $'\x1b' <<<"$out$err" && echo 0 || echo 1)" "$name: read prints no escape character"
done <"$TMPD/list"

run "$MSIG" read "$TMPD/cases/big-integer-in-meta-data.mender"
like "$out" '"serial": 1.2345678901234568e29' "read shows the big integer (as a number, like Go's float64)"
run "$MSIG" read "$TMPD/cases/unicode-text-accepted.mender"
like "$out" "Größe – ✓" "read prints ordinary Unicode text unchanged"
run "$MSIG" read --json "$TMPD/cases/unicode-text-accepted.mender"
like "$out" 'Gr\u00F6\u00DFe \u2013 \u2713' "read --json escapes non-ASCII as \\u (safe on any terminal)"

# ---------------------------------------------------------------- augmented parts
I=$MSIG_INTEROP
/usr/bin/python3 "$MSIG_SOURCE_DIR/tests/hostile/genheader.py" --bootstrap-augment \
  "$I/module-augmented-unsigned.mender" "$TMPD/boot-aug.mender" || bail "bootstrap-augment case"
run "$MSIG" validate "$TMPD/boot-aug.mender"
is "$rc" 4 "augmenting a bootstrap payload (no type in the signed header) is refused"
like "$err" "a bootstrap payload (no type in the signed header) cannot be augmented" "with its message"
run "$MSIG" validate -k "$I/keys/rsa3072-public.pem" "$I/module-augmented-rsa3072.mender"
is "$rc" 0 "a signed augmented artifact validates by default" || diag "$err"
like "$err" "are not covered by the signature" "with the warning"
run "$MSIG" validate --no-augment -k "$I/keys/rsa3072-public.pem" "$I/module-augmented-rsa3072.mender"
is "$rc" 4 "validate --no-augment with keys refuses it"
like "$err" "augmented parts are refused (--no-augment)" "with its message"
run "$MSIG" validate --no-augment "$I/module-augmented-unsigned.mender"
is "$rc" 0 "--no-augment without keys changes nothing" || diag "$err"
run "$MSIG" validate --no-augment -k "$I/keys/rsa3072-public.pem" "$I/module-options-rsa3072.mender"
is "$rc" 0 "--no-augment accepts an artifact without augmented parts" || diag "$err"

# ---------------------------------------------------------------- concatenated xz streams
X=$TMPD/xz
mkdir -p "$X/d"
tar -xf "$SRC" -C "$X/d"
head -c 600 "$X/d/data/0000.tar" | xz -c >"$X/part1.xz"
tail -c +601 "$X/d/data/0000.tar" | xz -c >"$X/part2.xz"
cat "$X/part1.xz" "$X/part2.xz" >"$X/d/data/0000.tar.xz"
printf '\0\0\0\0\0\0\0\0' >>"$X/d/data/0000.tar.xz"          # stream padding
xz -dc "$X/d/data/0000.tar.xz" | cmp -s - "$X/d/data/0000.tar"
ok $? "xz itself reads the two streams and the padding as the original"
xz -c "$X/d/header.tar" >"$X/d/header.tar.xz"
(
  cd "$X/d" || exit 1
  sed -e 's|  data/0000.tar$|  data/0000.tar.xz|' -e '/  header.tar$/d' manifest >manifest.new
  printf '%s  header.tar.xz\n' "$(sha256sum <header.tar.xz | cut -d' ' -f1)" >>manifest.new
  printf '%s  data/0000.tar.xz\n' "$(sha256sum <data/0000.tar.xz | cut -d' ' -f1)" >/dev/null
  sort -k2 manifest.new >manifest
  tar --format=ustar -cf "$X/concat.mender" version manifest header.tar.xz data/0000.tar.xz
)
run "$MSIG" validate "$X/concat.mender"
is "$rc" 0 "an artifact whose data is two concatenated xz streams with padding is valid" || diag "$err"

done_testing
