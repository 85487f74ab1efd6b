#!/usr/bin/env bash
# tpm.t -- keys held by an OpenSSL provider: TPM 2.0 keys (a private swtpm on 127.0.0.1,
# stopped by PID) through tpm2-openssl with --key-provider tpm2. EC P-256 and RSA-2048 TSS2
# PEM keys and a persistent handle sign (sign and write) artifacts that mender-artifact
# validates; validate and read verify through the provider; every error names what is wrong;
# no transient object is left in the TPM.
. "$(dirname "$0")/../lib.sh"

tpm_cannot() { skip "$1" "TPM tests can run"; done_testing; }
[ -x "$MSIG" ] || tpm_cannot "msig CLI not built"
[ -f "$MSIG_BUILD_DIR/lib/msig/plugins/msig-ossl.so" ] || tpm_cannot "msig-ossl.so is not built"
command -v swtpm >/dev/null 2>&1 || tpm_cannot "swtpm is not installed (Debian: swtpm)"
command -v tpm2_getcap >/dev/null 2>&1 || tpm_cannot "tpm2-tools is not installed"
MODDIR=$(openssl version -m | sed 's/.*"\(.*\)"/\1/')
[ -f "$MODDIR/tpm2.so" ] || tpm_cannot "the tpm2 OpenSSL provider is not installed (Debian: tpm2-openssl)"
need openssl mender-artifact swtpm_ioctl tar base64

export MSIG_PLUGIN_PATH=$MSIG_BUILD_DIR/lib/msig/plugins
unset MSIG_LOG_LEVEL MSIG_KEY_PASSPHRASE OPENSSL_MODULES OPENSSL_CONF
K=$MSIG_INTEROP/keys
S=$TMPD/tpm
mkdir -p "$S/state"

# ---------------------------------------------------------------- swtpm, on a free port
SWTPM_PID=
for try in $(seq 1 20); do
  port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
  if swtpm socket --tpm2 --tpmstate dir="$S/state" \
       --server type=tcp,port=$port,bindaddr=127.0.0.1 \
       --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
       --flags not-need-init,startup-clear --pid file="$S/swtpm.pid" \
       --log file="$S/swtpm.log" --daemon 2>/dev/null; then
    SWTPM_PID=$(cat "$S/swtpm.pid")
    break
  fi
done
[ -n "$SWTPM_PID" ] || bail "swtpm did not start on 127.0.0.1"
_tpm_cleanup() {
  swtpm_ioctl --tcp 127.0.0.1:$((port + 1)) -s >/dev/null 2>&1 || kill "$SWTPM_PID" 2>/dev/null
  rm -rf "$TMPD"
}
trap _tpm_cleanup EXIT
export TPM2OPENSSL_TCTI="swtpm:host=127.0.0.1,port=$port"
export TPM2TOOLS_TCTI="$TPM2OPENSSL_TCTI"
transient() { tpm2_getcap handles-transient 2>/dev/null | grep -c 0x; }

# ---------------------------------------------------------------- keys
gen() { # gen OUT ALG PKEYOPT...
  local out=$1 alg=$2; shift 2
  local opts=()
  for o in "$@"; do opts+=(-pkeyopt "$o"); done
  openssl genpkey -provider tpm2 -algorithm "$alg" "${opts[@]}" -out "$out" 2>/dev/null ||
    bail "cannot make a TPM key ($alg $*)"
  openssl pkey -provider tpm2 -provider base -in "$out" -pubout -out "${out%.pem}.pub.pem" 2>/dev/null
}
gen "$S/ec.pem" EC group:P-256
gen "$S/rsa.pem" RSA bits:2048
gen "$S/p384.pem" EC group:P-384
gen "$S/auth.pem" EC group:P-256 user-auth:tpm-secret-5521
# The fixture P-256 key imported as the persistent key 0x81000010 (flushing after each step:
# no resource manager sits between the tools and swtpm).
(cd "$S" &&
 openssl ec -in "$K/p256-private-pkcs8.pem" -out p256.sec1.pem 2>/dev/null &&
 tpm2_createprimary -Q -C o -G ecc -c primary.ctx && tpm2_flushcontext -t &&
 tpm2_import -Q -C primary.ctx -G ecc -i p256.sec1.pem -u k.pub -r k.priv && tpm2_flushcontext -t &&
 tpm2_load -Q -C primary.ctx -u k.pub -r k.priv -c k.ctx && tpm2_flushcontext -t &&
 tpm2_evictcontrol -Q -C o -c k.ctx 0x81000010 >/dev/null && tpm2_flushcontext -t) ||
  bail "cannot make the persistent key"
is "$(transient)" 0 "the set-up leaves no transient object"

A=$TMPD/a.mender
mender-artifact write rootfs-image -t dev -n rel-1 -f /etc/hostname -o "$A" >/dev/null 2>&1 ||
  bail "mender-artifact cannot write the input"
ASUM=$(sha256sum <"$A")

# ---------------------------------------------------------------- sign and write
for k in ec rsa; do
  run "$MSIG" sign --key-provider tpm2 -k "$S/$k.pem" "$A" -o "$TMPD/$k.mender"
  is "$rc" 0 "sign --key-provider tpm2 -k $k.pem (TSS2 PEM)" || diag "$err"
  run mender-artifact validate -k "$S/$k.pub.pem" "$TMPD/$k.mender"
  is "$rc" 0 "mender-artifact validates the TPM $k signature" || diag "$err"
done
is "$(tar -xOf "$TMPD/ec.mender" manifest.sig | base64 -d | wc -c)" 64 "the TPM's ECDSA signature is stored as 64 bytes r||s"
run "$MSIG" sign --key-provider tpm2 -k handle:0x81000010 "$A" -o "$TMPD/h.mender"
is "$rc" 0 "sign with the persistent handle 0x81000010" || diag "$err"
run mender-artifact validate -k "$K/p256-public.pem" "$TMPD/h.mender"
is "$rc" 0 "mender-artifact validates it with the fixture's public key" || diag "$err"
run "$MSIG" sign -k ossl:handle:0x81000010 --key-provider tpm2 "$A" -o "$TMPD/h2.mender"
is "$rc" 0 "-k ossl:URI is the same" || diag "$err"
run "$MSIG" --plugin-param ossl.provider=tpm2 sign -k ossl:handle:0x81000010 "$A" -o "$TMPD/h3.mender"
is "$rc" 0 "and so is the parameter ossl.provider" || diag "$err"
run "$MSIG" write rootfs-image -t dev -n rel-2 -f /etc/hostname -o "$TMPD/w.mender" \
  --key-provider tpm2 -k "$S/rsa.pem"
is "$rc" 0 "write rootfs-image --key-provider tpm2 -k" || diag "$err"
run mender-artifact validate -k "$S/rsa.pub.pem" "$TMPD/w.mender"
is "$rc" 0 "mender-artifact validates the written artifact" || diag "$err"
printf 'x' >"$TMPD/payload"
run "$MSIG" write module-image -T script -t dev -n rel-3 -f "$TMPD/payload" -o "$TMPD/wm.mender" \
  --key-provider tpm2 -k handle:0x81000010
is "$rc" 0 "write module-image with the persistent handle" || diag "$err"
run env MSIG_KEY_PASSPHRASE=tpm-secret-5521 "$MSIG" sign --key-provider tpm2 -k "$S/auth.pem" "$A" -o "$TMPD/auth.mender"
is "$rc" 0 "a key with an auth value, from MSIG_KEY_PASSPHRASE" || diag "$err"
printf 'tpm-secret-5521\n' >"$TMPD/auth.txt"
run "$MSIG" sign --passphrase-file "$TMPD/auth.txt" --key-provider tpm2 -k "$S/auth.pem" "$A" -o "$TMPD/auth2.mender"
is "$rc" 0 "the auth value from --passphrase-file" || diag "$err"
is "$(transient)" 0 "no transient object is left after signing"

# ---------------------------------------------------------------- verify through the provider
run "$MSIG" validate --key-provider tpm2 -k "$S/ec.pem" "$TMPD/ec.mender"
is "$rc" 0 "validate --key-provider tpm2 -k KEY" || diag "$err"
run "$MSIG" validate --key-provider tpm2 -k handle:0x81000010 "$MSIG_INTEROP/module-p256-none.mender"
is "$rc" 0 "validate with the persistent handle accepts mender-artifact's P-256 artifact" || diag "$err"
run "$MSIG" validate --key-provider tpm2 -k "$S/ec.pem" "$TMPD/rsa.mender"
is "$rc" 4 "validate with the wrong provider key exits 4"
run "$MSIG" read --key-provider tpm2 -k "$S/rsa.pem" "$TMPD/rsa.mender"
like "$out" "Signature: signed and verified correctly" "read --key-provider verifies"

# ---------------------------------------------------------------- errors
check_err() { # check_err NAME WANT [env...] -- msig args
  local name=$1 want=$2; shift 2
  rm -f "$TMPD/err.mender"
  run env "$@" -o "$TMPD/err.mender" </dev/null
  ok "$([ "$rc" -ne 0 ] && [ ! -e "$TMPD/err.mender" ] && unchanged && echo 0 || echo 1)" \
     "$name: fails, nothing written, input unchanged"
  like "$err" "$want" "$name: message"
}
unchanged() { [ "$(sha256sum <"$A")" = "$ASUM" ]; }
check_err "unknown provider" "unknown OpenSSL provider 'nosuch': there is no $MODDIR/nosuch.so" \
  "$MSIG" sign --key-provider nosuch -k "$S/ec.pem" "$A"
check_err "unknown provider, given directory" "there is no $TMPD/nosuch.so" \
  "$MSIG" sign --key-provider nosuch --key-provider-path "$TMPD" -k "$S/ec.pem" "$A"
check_err "key not found" "no private key found at handle:0x81000099" \
  "$MSIG" sign --key-provider tpm2 -k handle:0x81000099 "$A"
check_err "key type refused" "EC key on curve secp384r1 refused" \
  "$MSIG" sign --key-provider tpm2 -k "$S/p384.pem" "$A"
check_err "wrong auth value" "wrong password or auth value" \
  MSIG_KEY_PASSPHRASE=not-it "$MSIG" sign --key-provider tpm2 -k "$S/auth.pem" "$A"
check_err "no auth value, no terminal" "needs a password or auth value and none was given" \
  "$MSIG" sign --key-provider tpm2 -k "$S/auth.pem" "$A"
check_err "TPM unreachable" "the OpenSSL provider 'tpm2' (in $MODDIR) failed to start" \
  TPM2OPENSSL_TCTI=swtpm:host=127.0.0.1,port=1 "$MSIG" sign --key-provider tpm2 -k "$S/ec.pem" "$A"
like "$err" "is the TPM reachable?" "TPM unreachable: with a hint"
unlike "$err" "ERROR:tcti" "TPM unreachable: no TSS log lines"
check_err "provider path without provider" "--key-provider-path needs --key-provider NAME" \
  "$MSIG" sign --key-provider-path "$TMPD" -k "$S/ec.pem" "$A"
check_err "conf missing" "cannot load the OpenSSL config $TMPD/none.cnf" \
  "$MSIG" sign --key-provider-conf "$TMPD/none.cnf" -k "$S/ec.pem" "$A"
is "$(transient)" 0 "no transient object is left after the errors"

# ---------------------------------------------------------------- a config file names the provider
cat >"$TMPD/prov.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
tpm2 = tpm2_sect
[tpm2_sect]
activate = 1
EOF
run "$MSIG" sign --key-provider-conf "$TMPD/prov.cnf" -k "$S/ec.pem" "$A" -o "$TMPD/conf.mender"
is "$rc" 0 "--key-provider-conf loads the provider from a config file" || diag "$err"

done_testing
