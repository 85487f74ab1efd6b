#!/usr/bin/env bash
# fake.t -- token states SoftHSM cannot show, through tests/pkcs11/fakep11.c (a PKCS#11
# module of the build): the PIN flags (count low: a warning and the prompt is told; final
# try: refused unless pkcs11.final-try=yes; locked; must be changed), a PIN pad (no PIN
# asked), a key that always asks for the PIN, a token removed while signing, and tokens that
# offer only CKM_RSA_PKCS (the DigestInfo is built on the host) or only CKM_ECDSA_SHA256.
. "$(dirname "$0")/../lib.sh"

FAKE=$MSIG_BUILD_DIR/tests/pkcs11/fakep11.so
[ -f "$FAKE" ] || { skip "fakep11.so not built" "fake-module tests can run"; done_testing; }
[ -f "$MSIG_BUILD_DIR/lib/msig/plugins/msig-pkcs11.so" ] ||
  { skip "msig-pkcs11.so is not built" "fake-module tests can run"; done_testing; }
need mender-artifact tar base64
export MSIG_PLUGIN_PATH=$MSIG_BUILD_DIR/lib/msig/plugins
unset MSIG_LOG_LEVEL MSIG_KEY_PASSPHRASE MSIG_PKCS11_PIN PKCS11_MODULE_PATH FAKEP11_MODE
K=$MSIG_INTEROP/keys
export FAKEP11_LOG=$TMPD/calls
A=$TMPD/a.mender
mender-artifact write rootfs-image -t dev -n rel-1 -f /etc/hostname -o "$A" >/dev/null 2>&1 ||
  bail "mender-artifact cannot write the input"
U="pkcs11:token=fake;object=fk?module-path=$FAKE"

# fsign MODE KEY [URI-SUFFIX] [msig flags...]: sign with the fake module in MODE.
fsign() {
  local m=$1 key=$2 suffix=$3
  shift 3
  : >"$FAKEP11_LOG"
  rm -f "$TMPD/out.mender"
  run env FAKEP11_MODE="$m" FAKEP11_KEY="$K/$key-private-pkcs8.pem" "$MSIG" "$@" sign \
      --key-pkcs11 "$U$suffix" "$A" -o "$TMPD/out.mender" </dev/null
}
logins() { grep -c '^login' "$FAKEP11_LOG"; }
valid() { mender-artifact validate -k "$K/$1-public.pem" "$TMPD/out.mender" >/dev/null 2>&1; }

fsign "" p256 "&pin-value=4321"
is "$rc" 0 "the fake token signs with P-256 (CKM_ECDSA)" || diag "$err"
ok "$(valid p256 && echo 0 || echo 1)" "mender-artifact validates it"
fsign "" rsa2048 "&pin-value=4321"
is "$rc" 0 "the fake token signs with RSA (CKM_SHA256_RSA_PKCS)" || diag "$err"
ok "$(valid rsa2048 && echo 0 || echo 1)" "mender-artifact validates it"

# ---------------------------------------------------------------- mechanisms
fsign rsa-raw-only rsa2048 "&pin-value=4321"
is "$rc" 0 "a token with only CKM_RSA_PKCS: the host builds the DigestInfo" || diag "$err"
ok "$(valid rsa2048 && echo 0 || echo 1)" "and the signature verifies"
run "$MSIG" sign -k "$K/rsa2048-private-pkcs8.pem" "$A" -o "$TMPD/file.mender"
is "$(tar -xOf "$TMPD/out.mender" manifest.sig)" "$(tar -xOf "$TMPD/file.mender" manifest.sig)" \
   "CKM_RSA_PKCS over the DigestInfo equals the key file's signature"
fsign ec-combined-only p256 "&pin-value=4321"
is "$rc" 0 "a token with only CKM_ECDSA_SHA256 (the token hashes)" || diag "$err"
ok "$(valid p256 && echo 0 || echo 1)" "and the signature verifies"
is "$(tar -xOf "$TMPD/out.mender" manifest.sig | base64 -d | wc -c)" 64 "stored as 64 bytes r||s"

# ---------------------------------------------------------------- PIN flags
fsign count-low p256 "&pin-value=4321"
is "$rc" 0 "count-low: the login goes ahead" || diag "$err"
like "$err" "warning: pkcs11: token 'fake' (serial FAKE0001, module fakep11.so) reports wrong PINs since the last login" \
  "count-low: the user is warned"
fsign final-try p256 "&pin-value=4321"
ok "$([ "$rc" -ne 0 ] && [ ! -e "$TMPD/out.mender" ] && echo 0 || echo 1)" "final try: refused, nothing written"
like "$err" "allows one more PIN try before it locks: msig does not risk it" "final try: the message"
is "$(logins)" 0 "final try: no login was attempted"
fsign final-try p256 "&pin-value=4321" --plugin-param pkcs11.final-try=yes
is "$rc" 0 "final try with pkcs11.final-try=yes: signs" || diag "$err"
fsign locked p256 "&pin-value=4321"
like "$err" "the user PIN of token 'fake' (serial FAKE0001, module fakep11.so) is locked" "locked: the message"
is "$(logins)" 0 "locked: no login was attempted"
fsign to-be-changed p256 "&pin-value=4321"
like "$err" "must be changed before it can be used" "PIN to be changed: the message"
fsign "" p256 "&pin-value=0000"
like "$err" "wrong PIN for token 'fake'" "wrong PIN: the message"
is "$(logins)" 1 "wrong PIN: tried once, never again"

# ---------------------------------------------------------------- PIN pad, always-authenticate
fsign pinpad p256 ""
is "$rc" 0 "a PIN pad token signs with no PIN from msig" || diag "$err"
like "$err" "enter the PIN of token 'fake'" "PIN pad: the user is told to use it"
is "$(grep -c 'login user pinpad' "$FAKEP11_LOG")" 1 "PIN pad: C_Login without a PIN"
fsign always-auth p256 "&pin-value=4321"
is "$rc" 0 "an always-authenticate key signs" || diag "$err"
is "$(grep -c 'login context' "$FAKEP11_LOG")" 1 "always-authenticate: one context-specific login"
: >"$FAKEP11_LOG"
cp "$A" "$TMPD/b1.mender"; cp "$A" "$TMPD/b2.mender"
run env FAKEP11_MODE=always-auth FAKEP11_KEY="$K/p256-private-pkcs8.pem" "$MSIG" sign \
  --key-pkcs11 "$U&pin-value=4321" "$TMPD/b1.mender" "$TMPD/b2.mender"
is "$rc" 0 "always-authenticate: two artifacts" || diag "$err"
is "$(grep -c 'login user' "$FAKEP11_LOG") $(grep -c 'login context' "$FAKEP11_LOG")" "1 2" \
   "always-authenticate: one user login, one context login per signature"

# ---------------------------------------------------------------- device, public key
fsign removed p256 "&pin-value=4321"
ok "$([ "$rc" -ne 0 ] && [ ! -e "$TMPD/out.mender" ] && echo 0 || echo 1)" "token removed while signing: fails, nothing written"
like "$err" "with CKM_ECDSA failed: The device was removed or unplugged (0x32)" "token removed: the message names the mechanism and the cause"
fsign no-public rsa2048 "&pin-value=4321"
is "$rc" 0 "RSA without a public-key object: the private key's modulus and exponent" || diag "$err"
ok "$(valid rsa2048 && echo 0 || echo 1)" "and the signature verifies"
fsign no-public p256 "&pin-value=4321"
like "$err" "has the private key but no public-key object" "EC without a public object: the message"

done_testing
