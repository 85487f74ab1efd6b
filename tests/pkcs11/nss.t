#!/usr/bin/env bash
# nss.t -- a second PKCS#11 module, so nothing in the plugin is SoftHSM-specific: NSS's
# softokn (libsoftokn3.so), registered with p11-kit through a user module file whose
# x-init-reserved carries the NSS database (p11-kit module options reach the module), found
# by module-name, with the key's public half taken from its certificate (softokn keeps no
# separate public-key object for an imported key). p11-kit reads user module files only for
# a user other than root, so as root the commands run as nobody.
. "$(dirname "$0")/../lib.sh"

[ -x "$MSIG" ] || { skip "msig CLI not built" "NSS tests can run"; done_testing; }
[ -f "$MSIG_BUILD_DIR/lib/msig/plugins/msig-pkcs11.so" ] ||
  { skip "msig-pkcs11.so is not built" "NSS tests can run"; done_testing; }
need certutil pk12util openssl mender-artifact p11-kit
SOFTOKN=$(find /usr/lib /usr/lib64 -name libsoftokn3.so 2>/dev/null | head -n 1)
[ -n "$SOFTOKN" ] || { skip "NSS softokn (libnss3) not found" "NSS tests can run"; done_testing; }

K=$MSIG_INTEROP/keys
N=$TMPD/nss
PW=nss-db-8265
mkdir -p "$N/db" "$N/home/.config/pkcs11/modules"
chmod 0755 "$TMPD"
printf '%s\n' $PW >"$N/pw"
certutil -N -d "sql:$N/db" -f "$N/pw" >/dev/null 2>&1 || bail "certutil -N failed"
openssl req -new -x509 -key "$K/p256-private-pkcs8.pem" -subj /CN=msig-nss-test -days 30 \
  -out "$N/cert.pem" 2>/dev/null || bail "cannot make the certificate"
openssl pkcs12 -export -inkey "$K/p256-private-pkcs8.pem" -in "$N/cert.pem" -name release \
  -passout pass:p12 -out "$N/k.p12" || bail "cannot make the PKCS#12 file"
pk12util -i "$N/k.p12" -d "sql:$N/db" -k "$N/pw" -W p12 >/dev/null 2>&1 || bail "pk12util failed"
cat >"$N/home/.config/pkcs11/modules/nss.module" <<EOF
module: $SOFTOKN
x-init-reserved: configdir='sql:$N/db' certPrefix='' keyPrefix='' secmod='secmod.db' flags=
EOF
A=$N/a.mender
mender-artifact write rootfs-image -t dev -n rel-1 -f /etc/hostname -o "$A" >/dev/null 2>&1 ||
  bail "mender-artifact cannot write the input"

if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null 2>&1 || bail "setpriv (util-linux) is needed to run as nobody"
  chown -R 65534:65534 "$N"
  as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
  as_user() { "$@"; }
fi
nrun() { run as_user env HOME="$N/home" MSIG_PLUGIN_PATH="$MSIG_BUILD_DIR/lib/msig/plugins" \
         SOFTHSM2_CONF=/nonexistent "$@"; }
U="pkcs11:token=NSS%20Certificate%20DB;object=release?module-name=nss"

nrun p11-kit list-modules
like "$out" "nss: $SOFTOKN" "p11-kit registers softokn from the user module file"
nrun "$MSIG" keys "pkcs11:token=NSS%20Certificate%20DB?module-name=nss"
is "$rc" 0 "msig keys lists the NSS token" || diag "$err"
like "$out" "type: EC P-256, 256 bits" "keys: the imported P-256 key"
like "$out" "module nss" "keys: through the nss module"
nrun "$MSIG" sign --key-pkcs11 "$U&pin-value=$PW" "$A" -o "$N/signed.mender"
is "$rc" 0 "sign with the NSS softokn key (module-name, x-init-reserved)" || diag "$err"
run mender-artifact validate -k "$K/p256-public.pem" "$N/signed.mender"
is "$rc" 0 "mender-artifact validates the NSS signature" || diag "$err"
is "$(tar -xOf "$N/signed.mender" manifest.sig | base64 -d | wc -c)" 64 "stored as 64 bytes r||s"
nrun "$MSIG" validate --key-pkcs11 "$U" "$N/signed.mender"
is "$rc" 0 "validate --key-pkcs11 on NSS, the public key from the certificate, no PIN" || diag "$err"
nrun "$MSIG" sign --key-pkcs11 "$U&pin-value=wrong" "$A" -o "$N/bad.mender"
like "$err" "wrong PIN for token 'NSS Certificate DB'" "a wrong NSS password is a wrong PIN"
ok "$([ ! -e "$N/bad.mender" ] && echo 0 || echo 1)" "and nothing is written"
unlike "$out$err" "$PW" "no output shows the password"

done_testing
