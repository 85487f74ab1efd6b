#!/usr/bin/env bash
# softhsm.t -- the pkcs11 plugin against SoftHSM2 tokens: sign, write and several-artifact
# sign with RSA 2048/3072 and P-256 keys (checked with mender-artifact), validate and read
# through the token (no PIN needed), the module choice, every PIN source, the errors a user
# can act on (nothing written, input untouched), always-authenticate keys, key_list, a
# signature in a forked child, and no PIN in any output.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/hsmlib.sh"

I=$MSIG_INTEROP
PIN=730194
PIN2=552211
LOG=$TMPD/all-output
: >"$LOG"
# prun CMD...: run, and keep every output for the final PIN check.
prun() { run "$@"; printf '%s\n%s\n' "$out" "$err" >>"$LOG"; }

# ---------------------------------------------------------------- tokens
hsm_token signer $PIN
hsm_import "$K/rsa2048-private-pkcs8.pem" signer rsa2048 03 $PIN
hsm_import "$K/rsa3072-private-pkcs8.pem" signer rsa3072 01 $PIN
hsm_import "$K/p256-private-pkcs8.pem" signer p256 02 $PIN
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$TMPD/rsa1024.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$TMPD/p384.pem" 2>/dev/null
hsm_import "$TMPD/rsa1024.pem" signer small 05 $PIN
hsm_import "$TMPD/p384.pem" signer p384 06 $PIN
P11="pkcs11-tool --module $SOFTHSM2_MODULE --token-label signer --login --pin $PIN"
$P11 --keypairgen --key-type EC:prime256v1 --id 07 --label ec-aa --always-auth >/dev/null 2>&1 ||
  bail "cannot make the always-authenticate key"
$P11 --write-object "$K/p256-b-private-pkcs8.pem" --type privkey --id 08 --label nopub \
  >/dev/null 2>&1 || bail "cannot write the private-only key"
$P11 --read-object --type pubkey --id 07 -o "$TMPD/ec-aa.der" >/dev/null 2>&1
openssl pkey -pubin -inform DER -in "$TMPD/ec-aa.der" -out "$TMPD/ec-aa.pub.pem" 2>/dev/null ||
  bail "cannot read the always-authenticate key's public half"
hsm_token other $PIN2
hsm_import "$K/p256-b-private-pkcs8.pem" other p256 02 $PIN2

T="pkcs11:token=signer"
A=$TMPD/a.mender
mender-artifact write rootfs-image -t dev -n rel-1 -f /etc/hostname -o "$A" >/dev/null 2>&1 ||
  bail "mender-artifact cannot write the input"
ASUM=$(sha256sum <"$A")

# ---------------------------------------------------------------- listing
prun "$MSIG" plugins
like "$out" "pkcs11 1.0 (p11-kit" "msig plugins lists the pkcs11 plugin"
prun "$MSIG" keys "$T"
is "$rc" 0 "msig keys pkcs11:token=signer" || diag "$err"
like "$out" "label: rsa3072" "keys: the RSA 3072 key is listed"
like "$out" "type: RSA, 3072 bits" "keys: with its type and size"
like "$out" "type: EC P-256, 256 bits" "keys: the P-256 key with its type"
like "$out" "token=signer;id=%02;object=p256;type=private" "keys: a URI that selects the key"
unlike "$out" "label: small" "keys: a key Mender cannot use (RSA 1024) is not offered"
uri=$(grep -o 'pkcs11:[^ ]*object=rsa2048;type=private' <<<"$out" | head -n 1)
prun "$MSIG" sign --key-pkcs11 "$uri?pin-value=$PIN" "$A" -o "$TMPD/listed.mender"
is "$rc" 0 "the URI msig keys printed signs" || diag "$err"

# ---------------------------------------------------------------- sign with each key
for key in rsa2048 rsa3072 p256; do
  pub=$K/$key-public.pem
  prun "$MSIG" sign --key-pkcs11 "$T;object=$key?pin-value=$PIN" "$A" -o "$TMPD/$key.mender"
  is "$rc" 0 "sign --key-pkcs11 with $key" || diag "$err"
  run mender-artifact validate -k "$pub" "$TMPD/$key.mender"
  is "$rc" 0 "mender-artifact validate -k accepts the $key token signature" || diag "$err"
done
is "$(sig_len "$TMPD/p256.mender")" 64 "the token's ECDSA signature is stored as 64 bytes r||s"
is "$(sig_len "$TMPD/rsa3072.mender")" 384 "the RSA 3072 signature is 384 bytes"
prun "$MSIG" sign -k "$K/rsa3072-private-pkcs8.pem" "$A" -o "$TMPD/file3072.mender"
is "$(tar -xOf "$TMPD/rsa3072.mender" manifest.sig)" "$(tar -xOf "$TMPD/file3072.mender" manifest.sig)" \
   "the token's RSA signature equals the key file's, byte for byte"
ok "$(unchanged "$A" "$ASUM" && echo 0 || echo 1)" "sign -o left the input alone"

# -k pkcs11:... is the same as --key-pkcs11
prun "$MSIG" sign -k "$T;object=p256?pin-value=$PIN" "$A" -o "$TMPD/k.mender"
is "$rc" 0 "sign -k pkcs11:URI" || diag "$err"

# ---------------------------------------------------------------- write with the token
prun "$MSIG" write rootfs-image -t dev -n rel-2 -f /etc/hostname -o "$TMPD/w-rootfs.mender" \
  --key-pkcs11 "$T;object=rsa2048?pin-value=$PIN"
is "$rc" 0 "write rootfs-image --key-pkcs11" || diag "$err"
printf 'x' >"$TMPD/payload"
prun "$MSIG" write module-image -T script -t dev -n rel-3 -f "$TMPD/payload" \
  -o "$TMPD/w-module.mender" --key-pkcs11 "$T;object=p256?pin-value=$PIN"
is "$rc" 0 "write module-image --key-pkcs11" || diag "$err"
prun "$MSIG" write bootstrap-artifact -t dev -n rel-4 -o "$TMPD/w-boot.mender" \
  --key-pkcs11 "$T;object=rsa3072?pin-value=$PIN"
is "$rc" 0 "write bootstrap-artifact --key-pkcs11" || diag "$err"
for p in rootfs:rsa2048 module:p256 boot:rsa3072; do
  run mender-artifact validate -k "$K/${p#*:}-public.pem" "$TMPD/w-${p%%:*}.mender"
  is "$rc" 0 "mender-artifact validates the ${p%%:*} artifact written with the token" || diag "$err"
done

# ---------------------------------------------------------------- several artifacts, one login
for i in 1 2 3; do cp "$A" "$TMPD/multi$i.mender"; done
prun env MSIG_LOG_LEVEL=info "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-value=$PIN" \
  "$TMPD/multi1.mender" "$TMPD/multi2.mender" "$TMPD/multi3.mender"
is "$rc" 0 "sign A B C with one key" || diag "$err"
is "$(grep -c 'logged in to token' <<<"$err")" 1 "three artifacts, one login"
bad=0
for i in 1 2 3; do mender-artifact validate -k "$K/p256-public.pem" "$TMPD/multi$i.mender" \
  >/dev/null 2>&1 || bad=1; done
is "$bad" 0 "all three were signed in place"
cp "$A" "$TMPD/m1.mender"; cp "$A" "$TMPD/m2.mender"
prun "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-value=$PIN" "$TMPD/m1.mender" \
  "$TMPD/m2.mender" -o "$TMPD/mo.mender"
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "sign A B -o OUT is refused"
like "$err" "-o/--output-path takes one artifact file, got 2" "with a message"
ok "$([ ! -e "$TMPD/mo.mender" ] && unchanged "$TMPD/m1.mender" "$ASUM" && echo 0 || echo 1)" \
   "and nothing is written"
cp "$TMPD/p256.mender" "$TMPD/m2.mender"
prun "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-value=$PIN" "$TMPD/m1.mender" \
  "$TMPD/m2.mender"
like "$err" "stopped at $TMPD/m2.mender: 1 of 2 files were signed" \
  "a failure stops the run and says how far it got"

# ---------------------------------------------------------------- validate and read through the token
prun "$MSIG" validate --key-pkcs11 "$T;object=rsa3072" "$TMPD/file3072.mender"
is "$rc" 0 "validate --key-pkcs11 accepts a file-key signature, with no PIN" || diag "$err"
for f in pkcs11-rsa2048-rootfs:rsa2048 pkcs11-rsa2048-module:rsa2048 pkcs11-p256-rootfs:p256; do
  prun "$MSIG" validate --key-pkcs11 "$T;object=${f#*:}" "$I/${f%%:*}.mender"
  is "$rc" 0 "validate --key-pkcs11 accepts mender-artifact's ${f%%:*}.mender" || diag "$err"
done
prun "$MSIG" validate --key-pkcs11 "$T;object=rsa2048" "$TMPD/rsa3072.mender"
is "$rc" 4 "validate --key-pkcs11 with the wrong key object exits 4"
like "$err" "verification" "and says the signature did not verify"
prun "$MSIG" read --key-pkcs11 "$T;object=p256" "$TMPD/p256.mender"
like "$out" "Signature: signed and verified correctly" "read --key-pkcs11 verifies"

# ---------------------------------------------------------------- module choice
prun "$MSIG" sign --key-pkcs11 "$T;object=p256?module-path=$SOFTHSM2_MODULE&pin-value=$PIN" "$A" -o "$TMPD/mp.mender"
is "$rc" 0 "module-path in the URI" || diag "$err"
prun "$MSIG" sign --key-pkcs11 "$T;object=p256?module-name=softhsm2&pin-value=$PIN" "$A" -o "$TMPD/mn.mender"
is "$rc" 0 "module-name in the URI (a module registered with p11-kit)" || diag "$err"
prun env PKCS11_MODULE_PATH="$SOFTHSM2_MODULE" "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-value=$PIN" "$A" -o "$TMPD/env.mender"
is "$rc" 0 "PKCS11_MODULE_PATH" || diag "$err"
prun env PKCS11_MODULE_PATH=/nonexistent/mod.so "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-value=$PIN" "$A" -o "$TMPD/x.mender"
like "$err" "PKCS#11 module /nonexistent/mod.so (PKCS11_MODULE_PATH): No such file or directory" \
  "PKCS11_MODULE_PATH is used (a wrong one says so)"
prun env PKCS11_MODULE_PATH=/nonexistent/mod.so "$MSIG" sign --key-pkcs11 "$T;object=p256?module-path=$SOFTHSM2_MODULE&pin-value=$PIN" "$A" -o "$TMPD/x.mender"
is "$rc" 0 "module-path in the URI wins over PKCS11_MODULE_PATH" || diag "$err"
prun "$MSIG" --plugin-param pkcs11.module=softhsm2 sign --key-pkcs11 "$T;object=p256?pin-value=$PIN" "$A" -o "$TMPD/pm.mender"
is "$rc" 0 "parameter pkcs11.module (a registered module's name)" || diag "$err"

# ---------------------------------------------------------------- PIN sources
printf '%s\n' $PIN >"$TMPD/pin.txt"
prun "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-source=file:$TMPD/pin.txt" "$A" -o "$TMPD/ps.mender"
is "$rc" 0 "pin-source=file:PATH with a trailing newline" || diag "$err"
prun "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-source=$TMPD/pin.txt" "$A" -o "$TMPD/ps2.mender"
is "$rc" 0 "pin-source=PATH" || diag "$err"
prun env MSIG_PKCS11_PIN=$PIN "$MSIG" sign --key-pkcs11 "$T;object=p256" "$A" -o "$TMPD/e.mender"
is "$rc" 0 "MSIG_PKCS11_PIN" || diag "$err"
prun env MSIG_KEY_PASSPHRASE=$PIN "$MSIG" sign --key-pkcs11 "$T;object=p256" "$A" -o "$TMPD/kp.mender"
is "$rc" 0 "MSIG_KEY_PASSPHRASE (the host's generic source)" || diag "$err"
prun "$MSIG" sign --passphrase-file "$TMPD/pin.txt" --key-pkcs11 "$T;object=p256" "$A" -o "$TMPD/pf.mender"
is "$rc" 0 "--passphrase-file" || diag "$err"
prun env MSIG_PKCS11_PIN=000000 "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-value=$PIN" "$A" -o "$TMPD/order.mender"
is "$rc" 0 "the URI's pin-value comes before MSIG_PKCS11_PIN" || diag "$err"
prun env MSIG_PKCS11_PIN=$PIN MSIG_KEY_PASSPHRASE=000000 "$MSIG" sign --key-pkcs11 "$T;object=p256" "$A" -o "$TMPD/order2.mender"
is "$rc" 0 "MSIG_PKCS11_PIN comes before MSIG_KEY_PASSPHRASE" || diag "$err"
start=$(date +%s)
prun timeout 20 "$MSIG" sign --key-pkcs11 "$T;object=p256" "$A" -o "$TMPD/nopin.mender" </dev/null
ok "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ $(( $(date +%s) - start )) -lt 10 ] && echo 0 || echo 1)" \
   "no PIN and no terminal: an error at once, no hang"
like "$err" "token 'signer' needs its PIN and none was given" "no PIN: the message says which sources exist"
ok "$([ ! -e "$TMPD/nopin.mender" ] && echo 0 || echo 1)" "no PIN: nothing written"
prun "$MSIG" sign --key-pkcs11 "$T;object=p256?pin-source=|cat%20$TMPD/pin.txt" "$A" -o "$TMPD/x.mender"
like "$err" "runs a command: msig reads PINs from files only" "a pin-source command is refused"

# ---------------------------------------------------------------- errors (nothing written, input kept)
check_err() { # check_err NAME WANT-IN-STDERR URI
  rm -f "$TMPD/err.mender"
  prun "$MSIG" sign --key-pkcs11 "$3" "$A" -o "$TMPD/err.mender" </dev/null
  ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "$1: fails"
  like "$err" "$2" "$1: message"
  ok "$([ ! -e "$TMPD/err.mender" ] && unchanged "$A" "$ASUM" && echo 0 || echo 1)" \
     "$1: nothing written, input unchanged"
}
check_err "module missing" "PKCS#11 module /nonexistent.so (module-path in the URI): No such file" \
  "$T;object=p256?module-path=/nonexistent.so&pin-value=$PIN"
libz=$(readlink -f "$(ldconfig -p | sed -n 's/.*libz.so.1 .*=> //p' | head -n 1)")
check_err "not a PKCS#11 module" "cannot load the PKCS#11 module $libz" \
  "$T;object=p256?module-path=$libz&pin-value=$PIN"
check_err "module name unknown" "no PKCS#11 module named 'nosuch' is registered with p11-kit" \
  "$T;object=p256?module-name=nosuch&pin-value=$PIN"
check_err "no token" "no token matches" "pkcs11:token=nope;object=p256?pin-value=$PIN"
like "$err" "token 'signer' (serial" "no token: the message lists the tokens present"
check_err "two tokens" "the URI matches 2 tokens that hold such a key: token '" "pkcs11:object=p256?pin-value=$PIN"
like "$err" "token 'other'" "two tokens: both are named"
like "$err" "token 'signer'" "two tokens: the other one is named too"
check_err "several keys" "public-key objects on token 'signer'" "$T?pin-value=$PIN"
like "$err" "'rsa3072' (id 01)" "several keys: labels and ids are listed"
check_err "object not found" "no private key on token 'signer'" "$T;object=nope?pin-value=$PIN"
check_err "wrong PIN" "wrong PIN for token 'signer'" "$T;object=p256?pin-value=111111"
like "$err" "(not tried again)" "wrong PIN: not retried"
check_err "RSA 1024 refused" "RSA key of 1024 bits refused: at least 2048 bits are required" \
  "$T;object=small?pin-value=$PIN"
check_err "P-384 refused" "EC key on curve secp384r1 refused" "$T;object=p384?pin-value=$PIN"
check_err "no public half" "has the private key but no public-key object" \
  "$T;object=nopub?pin-value=$PIN"
check_err "unknown attribute" "an attribute p11-kit does not know" "$T;object=p256;colour=red"
check_err "malformed URI" "not a valid PKCS#11 URI" "pkcs11:id=%zz"
broken=$TMPD/broken.conf
printf 'directories.tokendir = %s/missing\n' "$TMPD" >"$broken"
rm -f "$TMPD/err.mender"
prun env SOFTHSM2_CONF="$broken" "$MSIG" sign --key-pkcs11 "$T;object=p256?module-path=$SOFTHSM2_MODULE&pin-value=$PIN" "$A" -o "$TMPD/err.mender"
like "$err" "failed to initialise" "a module that fails C_Initialize"
like "$err" "check SOFTHSM2_CONF" "with the SoftHSM hint"

# ---------------------------------------------------------------- always-authenticate key
prun "$MSIG" sign --key-pkcs11 "$T;object=ec-aa?pin-value=$PIN" "$A" -o "$TMPD/aa.mender"
is "$rc" 0 "a CKA_ALWAYS_AUTHENTICATE key signs (context-specific login)" || diag "$err"
run mender-artifact validate -k "$TMPD/ec-aa.pub.pem" "$TMPD/aa.mender"
is "$rc" 0 "mender-artifact validates the always-authenticate key's signature" || diag "$err"
prun env MSIG_PKCS11_PIN=$PIN "$MSIG" sign --key-pkcs11 "$T;object=ec-aa" "$A" "$TMPD/multi1.mender" -f
is "$rc" 0 "an always-authenticate key signs two artifacts without asking twice" || diag "$err"

# ---------------------------------------------------------------- fork
FORK=$MSIG_BUILD_DIR/tests/pkcs11/p11_fork
if [ -x "$FORK" ]; then
  prun "$FORK" "$MSIG_PLUGIN_PATH" "$T;object=p256" $PIN
  like "$out" "ok 2 - a forked child signs twice" "a key opened before fork() signs in the child" ||
    diag "$out $err"
  unlike "$out" "not ok" "fork: every step passed"
else
  skip "p11_fork not built" "a key opened before fork() signs in the child"
  skip "p11_fork not built" "fork: every step passed"
fi

# ---------------------------------------------------------------- no PIN anywhere
is "$(grep -c -e "$PIN" -e "$PIN2" "$LOG")" 0 "no output of this test shows a PIN"
like "$(cat "$LOG")" "pin-value=(hidden)" "specs in messages show pin-value=(hidden)"

done_testing
