#!/usr/bin/env bash
# tests/cli/validate-read.t -- `msig validate` and `msig read`: exit codes 0/1/3/4, the exact
# messages, the four signature lines of read, and the parameter errors. Inputs come from the
# interop corpus ($MSIG_INTEROP) and are never modified (sha256 before/after).
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
if [ ! -d "$MSIG_INTEROP/keys" ]; then skip "interop corpus missing" "corpus exists"; done_testing; fi

UNSIGNED=$MSIG_INTEROP/rootfs-unsigned-gzip.mender
SIGNED=$MSIG_INTEROP/rootfs-rsa2048-gzip.mender
PUB=$MSIG_INTEROP/keys/rsa2048-public.pem
WRONG=$MSIG_INTEROP/keys/rsa3072-b-public.pem
before=$(sha256sum "$UNSIGNED" "$SIGNED")

# errline: stderr without the "warning: " lines the library logs (e.g. for the empty rootfs
# type that mender-artifact before 4.4 writes).
errline() { printf '%s\n' "$err" | grep -v '^warning: '; }

# validate: success
run "$MSIG" validate "$UNSIGNED"
is "$rc" 0 "validate unsigned, no key: exit 0"
is "$out" "Artifact file '$UNSIGNED' validated successfully" "validate unsigned: stdout"
is "$(errline)" "" "validate unsigned: no error on stderr"
run "$MSIG" validate -k "$PUB" "$SIGNED"
is "$rc" 0 "validate signed, right key: exit 0"
is "$out" "Artifact file '$SIGNED' validated successfully" "validate signed: stdout"
run "$MSIG" validate "$SIGNED" -k "$PUB"
is "$rc" 0 "validate: -k after the file (permutation)"
run "$MSIG" validate --key "$WRONG" --key "$PUB" "$SIGNED"
is "$rc" 0 "validate: repeated -k, the second key verifies"

# validate: verdicts
run "$MSIG" validate "$SIGNED"
is "$rc" 4 "signed, no key: exit 4"
is "$(errline)" "missing verifier" "signed, no key: missing verifier"
is "$out" "" "signed, no key: nothing on stdout"
run "$MSIG" validate -k "$PUB" "$UNSIGNED"
is "$rc" 4 "unsigned, key: exit 4"
is "$(errline)" "missing signature" "unsigned, key: missing signature"
run "$MSIG" validate -k "$WRONG" "$SIGNED"
is "$rc" 4 "wrong key: exit 4"
[ -n "$err" ]; ok $? "wrong key: a message on stderr"
unlike "$out" "validated successfully" "wrong key: no success message"

# validate: errors
run "$MSIG" validate "$TMPD/missing.mender"
is "$rc" 3 "missing artifact: exit 3"
is "$(errline)" "Can not open artifact: $TMPD/missing.mender: No such file or directory" \
  "missing artifact: message"
run "$MSIG" validate
is "$rc" 1 "no argument: exit 1"
is "$err" "Nothing specified, nothing validated. 
Maybe you wanted to say 'artifacts validate <pathspec>'?" "no argument: message"
run "$MSIG" validate -k "$TMPD/no-key.pem" "$SIGNED"
is "$rc" 1 "public key file missing: exit 1"
like "$err" "no-key.pem" "public key file missing: names the file"
printf 'not a key\n' >"$TMPD/junk.pem"
run "$MSIG" validate -k "$TMPD/junk.pem" "$SIGNED"
is "$rc" 1 "public key file unusable: exit 1"
like "$err" "junk.pem" "public key file unusable: names the file"
run "$MSIG" validate -k "$PUB" --key-pkcs11 "pkcs11:token=x" "$SIGNED"
is "$rc" 1 "-k with --key-pkcs11 and no pkcs11 plugin: exit 1"
like "$err" "no loaded plugin serves the 'pkcs11' scheme" "-k with --key-pkcs11 and no pkcs11 plugin: message"
mkdir -p "$TMPD/noplugins"
MSIG_PLUGIN_PATH=$TMPD/noplugins run "$MSIG" validate --key-pkcs11 "pkcs11:token=none" "$SIGNED"
is "$rc" 1 "--key-pkcs11 without plugin or token: exit 1"
like "$err" "pkcs11" "--key-pkcs11 without plugin or token: message"
run "$MSIG" validate --bogus "$SIGNED"
is "$rc" 1 "validate unknown flag: exit 1"
like "$err" "flag provided but not defined: --bogus" "validate unknown flag: message"
run "$MSIG" validate "$SIGNED" "$UNSIGNED"
is "$rc" 1 "validate two files: exit 1"

# Corrupt artifacts: a flipped payload byte, a truncated file, garbage.
cp "$UNSIGNED" "$TMPD/trunc.mender"
truncate -s 1500 "$TMPD/trunc.mender"
printf 'this is not a tar file at all' >"$TMPD/garbage.mender"
: >"$TMPD/empty.mender"
for c in trunc garbage empty; do
  f=$TMPD/$c.mender
  sum=$(sha256sum "$f")
  run "$MSIG" validate "$f"
  is "$rc" 4 "validate $c: exit 4"
  [ -n "$err" ]; ok $? "validate $c: a message on stderr"
  run "$MSIG" read "$f"
  is "$rc" 1 "read $c: exit 1"
  [ -n "$err" ]; ok $? "read $c: a message on stderr"
  is "$(sha256sum "$f")" "$sum" "$c: input unchanged"
done
# Tampered payload: mender-artifact's writer stores data/0000.tar uncompressed with
# --compression none, so a byte inside the payload can be flipped in place.
NONE=$MSIG_INTEROP/rootfs-unsigned-none.mender
if [ -f "$NONE" ]; then
  cp "$NONE" "$TMPD/tamper.mender"
  size=$(stat -c %s "$TMPD/tamper.mender")
  printf 'X' | dd of="$TMPD/tamper.mender" bs=1 seek=$((size - 2048 - 100)) conv=notrunc 2>/dev/null
  run "$MSIG" validate "$TMPD/tamper.mender"
  is "$rc" 4 "validate tampered payload: exit 4"
  like "$err" "checksum" "validate tampered payload: checksum message"
  run "$MSIG" read "$TMPD/tamper.mender"
  is "$rc" 1 "read tampered payload: exit 1"
else
  skip "corpus file missing" "validate tampered payload"
fi

# read: the four signature lines; signature problems never fail read.
run "$MSIG" read "$UNSIGNED"
is "$rc" 0 "read unsigned: exit 0"
like "$out" "  Signature: no signature" "read unsigned: no signature"
run "$MSIG" read "$SIGNED"
is "$rc" 0 "read signed without key: exit 0"
like "$out" '  Signature: signed but no key for verification provided; please use `-k` option for providing verification key' \
  "read signed without key: signature line"
run "$MSIG" read -k "$PUB" "$SIGNED"
is "$rc" 0 "read signed, right key: exit 0"
like "$out" "  Signature: signed and verified correctly" "read signed, right key: verified"
run "$MSIG" read --no-progress "$SIGNED" -k "$WRONG"
is "$rc" 0 "read signed, wrong key: exit 0"
like "$out" "  Signature: signed; verification using provided key failed" "read wrong key: failed line"
run "$MSIG" read -k "$PUB" "$UNSIGNED"
is "$rc" 0 "read unsigned with key: exit 0"
like "$out" "  Signature: no signature" "read unsigned with key: no signature"

# read: the full report of a corpus artifact.
run "$MSIG" read "$UNSIGNED"
sum=$(sed -n 's/^ *checksum: *//p' "$UNSIGNED.read.txt" | head -n1)
like "$out" "Mender Artifact:
  Name: rootfs-unsigned-gzip
  Format: mender
  Version: 3
  Signature: no signature
  Compatible types: [interop-dev]
  Provides group: 
  Depends on one of artifact(s): []
  Depends on one of group(s): []
  State scripts: []

Updates:
  - Type: rootfs-image
    Provides:
      rootfs-image.checksum: $sum
      rootfs-image.version: rootfs-unsigned-gzip
    Depends: {}
    Clears Provides: [artifact_group, rootfs_image_checksum, rootfs-image.*]
    Metadata: {}
    Files:
      - checksum: $sum
        modified: " "read: full newest-format report"
like "$out" "        name: rootfs-4k.bin
        size: 4096" "read: file name and size"
TZ=UTC run "$MSIG" read "$UNSIGNED"
like "$out" "$(sed -n 's/^ *modified: *//p' "$UNSIGNED.read.txt" | head -n1)" \
  "read: modified time as Go Time.String() (same as mender-artifact in the same zone)"

# read: errors
run "$MSIG" read "$TMPD/missing.mender"
is "$rc" 1 "read missing file: exit 1"
like "$err" "missing.mender" "read missing file: names the file"
run "$MSIG" read
is "$rc" 1 "read without a file: exit 1"
like "$err" "nothing" "read without a file: message"
run "$MSIG" read -k "$TMPD/no-key.pem" "$SIGNED"
is "$rc" 1 "read, key file missing: exit 1"
like "$err" "no-key.pem" "read, key file missing: names the file"
is "$out" "" "read, key file missing: no report"
run "$MSIG" read --bogus "$SIGNED"
is "$rc" 1 "read unknown flag: exit 1"
like "$err" "flag provided but not defined: --bogus" "read unknown flag: message"

is "$(sha256sum "$UNSIGNED" "$SIGNED")" "$before" "corpus files unchanged"
done_testing
