#!/usr/bin/env bash
# tests/cli/sign-errors.t -- `msig sign` refuses what it must not sign: a non-canonical
# manifest, an artifact without a manifest, something that is not an artifact, a key that
# is too weak; and it keeps the input mode. Every refusal leaves the input as it was and no
# output or temporary file behind.
. "$(dirname "$0")/../lib.sh"

[ -x "$MSIG" ] || bail "msig CLI not built ($MSIG)"
[ -d "$MSIG_INTEROP/keys" ] || bail "interop corpus missing ($MSIG_INTEROP)"
need openssl tar

K=$MSIG_INTEROP/keys
W=$TMPD/w
mkdir -p "$W"

# refused IN SUBSTRING NAME [KEY]: sign -f -o into $W must fail with SUBSTRING in stderr,
# leave IN unchanged and create nothing in $W.
refused() {
  local in=$1 want=$2 name=$3 key=${4:-$K/rsa3072-private-trad.pem}
  local before listing
  before=$(sha256sum <"$in")
  listing=$(ls -A "$W")
  run "$MSIG" sign -f -k "$key" -o "$W/out.mender" "$in"
  is "$rc" 1 "$name: exit 1"
  like "$err" "$want" "$name: message"
  is "$(sha256sum <"$in")" "$before" "$name: input unchanged"
  is "$(ls -A "$W")" "$listing" "$name: no output or temporary file"
}

for f in edge-manifest-crlf-rsa3072 edge-manifest-onespace-p256 edge-manifest-upperhex-p256 \
         edge-manifest-nofinalnl-rsa3072 neg-manifest-empty-rsa2048; do
  cp "$MSIG_INTEROP/$f.mender" "$TMPD/$f.mender"
  refused "$TMPD/$f.mender" "refusing to sign a non-canonical manifest" "$f"
done

# an outer tar with no manifest entry
mkdir -p "$TMPD/nm" && printf '{"format":"mender","version":3}' >"$TMPD/nm/version"
tar -C "$TMPD/nm" --format=ustar -cf "$TMPD/nomanifest.mender" version
refused "$TMPD/nomanifest.mender" "\`manifest\` not found. Corrupt Artifact?" "no manifest"

cp "$MSIG_INTEROP/neg-notar-random.mender" "$TMPD/random.mender"
refused "$TMPD/random.mender" "not a Mender Artifact" "random bytes"
cp "$MSIG_INTEROP/neg-zero-length.mender" "$TMPD/empty.mender"
refused "$TMPD/empty.mender" "empty.mender" "empty file"

# a manifest that is the last entry: nothing to insert before
tar -xf "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" -C "$TMPD/nm" manifest
tar -C "$TMPD/nm" --format=ustar -cf "$TMPD/short.mender" version manifest
refused "$TMPD/short.mender" "ends after its manifest" "artifact ending at the manifest"

# keys that must not sign
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$TMPD/rsa1024.pem" 2>/dev/null
cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$TMPD/u.mender"
refused "$TMPD/u.mender" "1024 bits refused" "RSA-1024 key" "$TMPD/rsa1024.pem"
refused "$TMPD/u.mender" "secp384r1" "P-384 key" "$K/p384-private-trad.pem"
refused "$TMPD/u.mender" "ED25519" "Ed25519 key" "$K/ed25519-private-pkcs8.pem"

# an output directory that cannot be written: clear message, input unchanged
if [ "$(id -u)" -eq 0 ]; then
  run "$MSIG" sign -k "$K/rsa3072-private-trad.pem" -o /proc/msig-no-such/out.mender "$TMPD/u.mender"
else
  run "$MSIG" sign -k "$K/rsa3072-private-trad.pem" -o /nonexistent-dir/out.mender "$TMPD/u.mender"
fi
is "$rc" 1 "unwritable output directory: exit 1"
like "$err" "cannot create a temporary file" "unwritable output directory: message"

# in place: mode kept, content signed
cp "$MSIG_INTEROP/rootfs-unsigned-none.mender" "$W/inplace.mender"
chmod 0640 "$W/inplace.mender"
run "$MSIG" sign -k "$K/p256-private-pkcs8.pem" "$W/inplace.mender"
is "$rc" 0 "in-place sign: exit 0"
is "$(stat -c %a "$W/inplace.mender")" 640 "in-place sign keeps the file mode"
is "$(ls -A "$W")" "inplace.mender" "in-place sign leaves no temporary file"
run "$MSIG" validate -k "$K/p256-public.pem" "$W/inplace.mender"
is "$rc" 0 "in-place signed artifact validates"

# a symlink input is resolved: the target is replaced, the link stays a link
cp "$MSIG_INTEROP/rootfs-unsigned-none.mender" "$TMPD/target.mender"
ln -s "$TMPD/target.mender" "$W/link.mender"
run "$MSIG" sign -k "$K/rsa2048-private-trad.pem" "$W/link.mender"
is "$rc" 0 "sign through a symlink: exit 0"
[ -L "$W/link.mender" ]; ok $? "the symlink is still a symlink"
run "$MSIG" validate -k "$K/rsa2048-public.pem" "$TMPD/target.mender"
is "$rc" 0 "the symlink's target was signed"

done_testing
