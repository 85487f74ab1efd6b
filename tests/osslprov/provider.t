#!/usr/bin/env bash
# provider.t -- the msig OpenSSL provider (msig.so): stock openssl commands and an EVP program
# sign with msig keys through "msig:SPEC" URIs (a key file, a SoftHSM token key, the example
# plugin's key), stock openssl verifies with the public key; the error cases put msig's
# message on OpenSSL's error queue and write nothing; cmake --install puts msig.so where
# pkg-config --variable=ossl_modulesdir msig says.
. "$(dirname "$0")/../lib.sh"

PROV_DIR=$MSIG_BUILD_DIR/lib/ossl-modules
[ -f "$PROV_DIR/msig.so" ] || { skip "msig.so is not built" "provider tests can run"; done_testing; }
need openssl cc pkg-config cmake
. "$(dirname "$0")/../pkcs11/hsmlib.sh"
export OPENSSL_MODULES=$PROV_DIR
unset OPENSSL_CONF
P="-provider msig -provider default"
M=$TMPD/msg
printf 'the bytes of a manifest\n' >"$M"
LOG=$TMPD/all-output
PIN=918273
prun() { run "$@"; printf '%s\n%s\n' "$out" "$err" >>"$LOG"; }
vfy() { # vfy PUB SIG: stock openssl, default provider only
  env -u OPENSSL_MODULES openssl dgst -sha256 -verify "$1" -signature "$2" "$M" >/dev/null 2>&1
}

prun openssl list -providers $P
like "$out" "msig provider" "openssl list -providers shows the msig provider"
like "$out" "status: active" "and it is active"

# ---------------------------------------------------------------- key files through msig
for k in rsa2048 p256; do
  prun openssl dgst -sha256 $P -sign "msig:file:$K/$k-private-pkcs8.pem" -out "$TMPD/$k.sig" "$M"
  is "$rc" 0 "openssl dgst -sign msig:file: ($k)" || diag "$err"
  ok "$(vfy "$K/$k-public.pem" "$TMPD/$k.sig" && echo 0 || echo 1)" "stock openssl verifies the $k signature"
done
openssl dgst -sha256 -binary "$M" >"$TMPD/msg.sha256"
prun openssl pkeyutl $P -sign -inkey "msig:file:$K/rsa3072-private-pkcs8.pem" -in "$TMPD/msg.sha256" -out "$TMPD/pk.sig"
is "$rc" 0 "openssl pkeyutl -sign (a digest) with msig:file:" || diag "$err"
run env -u OPENSSL_MODULES openssl pkeyutl -verify -pubin -inkey "$K/rsa3072-public.pem" -pkeyopt digest:sha256 \
  -in "$TMPD/msg.sha256" -sigfile "$TMPD/pk.sig"
like "$out" "Signature Verified Successfully" "stock pkeyutl verifies it"
prun openssl pkey $P -in "msig:file:$K/p256-private-pkcs8.pem" -pubout -out "$TMPD/p.pub"
is "$(cat "$TMPD/p.pub")" "$(cat "$K/p256-public.pem")" "openssl pkey -pubout gives the key's public half"
prun openssl req -new -x509 $P -key "msig:file:$K/rsa2048-private-pkcs8.pem" -subj /CN=msig -days 1 -out "$TMPD/c.pem"
is "$rc" 0 "openssl req -x509 with an msig key" || diag "$err"
run env -u OPENSSL_MODULES openssl verify -CAfile "$TMPD/c.pem" "$TMPD/c.pem"
like "$out" "OK" "stock openssl verifies the self-signed certificate"

# ---------------------------------------------------------------- a SoftHSM key
hsm_token prov $PIN
hsm_import "$K/p256-private-pkcs8.pem" prov p256 01 $PIN
hsm_import "$K/rsa2048-private-pkcs8.pem" prov rsa 02 $PIN
prun openssl dgst -sha256 $P -sign "msig:pkcs11:token=prov;object=p256?pin-value=$PIN" -out "$TMPD/h.sig" "$M"
is "$rc" 0 "openssl dgst -sign msig:pkcs11: (PIN in the URI)" || diag "$err"
ok "$(vfy "$K/p256-public.pem" "$TMPD/h.sig" && echo 0 || echo 1)" "stock openssl verifies the token's signature"
prun openssl pkeyutl $P -sign -rawin -digest sha256 -inkey "msig:pkcs11:token=prov;object=rsa" \
  -passin pass:$PIN -in "$M" -out "$TMPD/h2.sig"
is "$rc" 0 "openssl pkeyutl -rawin with the PIN from -passin" || diag "$err"
ok "$(vfy "$K/rsa2048-public.pem" "$TMPD/h2.sig" && echo 0 || echo 1)" "stock openssl verifies it"

# ---------------------------------------------------------------- the example plugin's key
EX=$TMPD/example
mkdir -m 0755 "$EX"
cc -std=c11 -D_GNU_SOURCE -shared -fPIC -fvisibility=hidden -I"$MSIG_SOURCE_DIR/include" \
   "$MSIG_SOURCE_DIR/plugins/example/example.c" -o "$EX/msig-example.so" || bail "example plugin"
chmod 0755 "$EX/msig-example.so"
openssl pkey -in "$K/p256-private-pkcs8.pem" -pubout -outform DER -out "$TMPD/ex.pub.der"
cat >"$TMPD/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
msig = msig_sect
default = default_sect
[msig_sect]
activate = 1
plugin-dir = $EX
params = example.command=openssl pkeyutl -sign -inkey $K/p256-private-pkcs8.pem -pkeyopt digest:sha256;example.pubkey=$TMPD/ex.pub.der
[default_sect]
activate = 1
EOF
prun env OPENSSL_CONF="$TMPD/openssl.cnf" openssl dgst -sha256 -sign msig:example:mykey -out "$TMPD/ex.sig" "$M"
is "$rc" 0 "openssl dgst -sign msig:example: (a vendor plugin, configured in openssl.cnf)" || diag "$err"
ok "$(vfy "$K/p256-public.pem" "$TMPD/ex.sig" && echo 0 || echo 1)" "stock openssl verifies the plugin's signature"

# ---------------------------------------------------------------- EVP in C
EVP=$MSIG_BUILD_DIR/tests/osslprov/prov_evp
prun "$EVP" "msig:file:$K/rsa3072-private-pkcs8.pem" "$K/rsa3072-public.pem"
unlike "$out" "not ok" "EVP_DigestSign through the provider, RSA key file" || diag "$out $err"
prun "$EVP" "msig:pkcs11:token=prov;object=p256" "$K/p256-public.pem" $PIN
unlike "$out" "not ok" "EVP_DigestSign through the provider, token key, PIN from the UI callback" || diag "$out $err"
like "$out" "ok 5 - the default provider verifies it" "EVP: all steps ran"
prun "$EVP" "!msig:pkcs11:token=prov;object=p256" "$K/p256-public.pem" 000000
like "$out" "wrong PIN for token 'prov'" "EVP: a wrong PIN is an msig provider error on the queue"

# ---------------------------------------------------------------- errors: message, no output
perr() { # perr NAME WANT URI [extra openssl args]
  local name=$1 want=$2 uri=$3; shift 3
  rm -f "$TMPD/err.sig"
  prun openssl pkeyutl $P -sign -inkey "$uri" "$@" -in "$TMPD/msg.sha256" -out "$TMPD/err.sig"
  ok "$([ "$rc" -ne 0 ] && [ ! -e "$TMPD/err.sig" ] && echo 0 || echo 1)" "$name: fails, no output"
  like "$err" "msig provider" "$name: an msig provider error"
  like "$err" "$want" "$name: the message"
}
perr "unknown scheme" "no loaded plugin serves the 'nosuch' scheme" "msig:nosuch:key"
perr "missing key file" "cannot open the key file" "msig:file:$TMPD/none.pem"
perr "wrong PIN" "wrong PIN for token 'prov'" "msig:pkcs11:token=prov;object=p256" -passin pass:111111
perr "no PIN" "needs its PIN" "msig:pkcs11:token=prov;object=p256" </dev/null
mkdir -m 0755 "$TMPD/noplugins"
rm -f "$TMPD/err.sig"
prun env MSIG_PLUGIN_PATH="$TMPD/noplugins" openssl pkeyutl $P -sign -inkey "msig:pkcs11:token=prov;object=p256" \
  -in "$TMPD/msg.sha256" -out "$TMPD/err.sig"
like "$err" "no loaded plugin serves the 'pkcs11' scheme" "missing plugin: the message"
ok "$([ ! -e "$TMPD/err.sig" ] && echo 0 || echo 1)" "missing plugin: no output"
prun openssl dgst -sha512 $P -sign "msig:file:$K/rsa2048-private-pkcs8.pem" -out "$TMPD/x.sig" "$M"
like "$err" "msig keys sign SHA-256 only" "another digest is refused with a message"
is "$(grep -c "$PIN" "$LOG")" 0 "no output shows the PIN"

# ---------------------------------------------------------------- installed where pkg-config says
PREFIX=$TMPD/prefix
run cmake --install "$MSIG_BUILD_DIR" --prefix "$PREFIX"
is "$rc" 0 "cmake --install" || diag "$err"
pc=$(find "$PREFIX" -name msig.pc | head -n 1)
dir=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=ossl_modulesdir msig)
ok "$([ -f "$dir/msig.so" ] && echo 0 || echo 1)" "msig.so is in pkg-config --variable=ossl_modulesdir msig ($dir)"
like "$dir" "/ossl-modules" "that is <libdir>/ossl-modules"

done_testing
