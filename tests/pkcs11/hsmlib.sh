# tests/pkcs11/hsmlib.sh -- a private SoftHSM2 instance for one test file (its own
# SOFTHSM2_CONF and token directory under $TMPD, removed at exit; SoftHSM runs in-process, no
# service to stop). Source after ../lib.sh. Sets SOFTHSM2_MODULE, HSM (the directory), K (the
# interop keys), the plugin environment, and hsm_token / hsm_import.
hsm_cannot() { skip "$1" "PKCS#11 tests can run"; done_testing; }
[ -x "$MSIG" ] || hsm_cannot "msig CLI not built ($MSIG)"
[ -f "$MSIG_BUILD_DIR/lib/msig/plugins/msig-pkcs11.so" ] ||
  hsm_cannot "msig-pkcs11.so is not built (p11-kit missing, or MSIG_PLUGIN_PKCS11=OFF)"
command -v softhsm2-util >/dev/null 2>&1 || hsm_cannot "softhsm2-util is not installed (Debian: softhsm2)"
command -v p11-kit >/dev/null 2>&1 || hsm_cannot "p11-kit is not installed"
need openssl mender-artifact tar base64 pkcs11-tool

# The module as p11-kit registers it (Debian's softhsm2 does), else the package's path.
SOFTHSM2_MODULE=${SOFTHSM2_MODULE:-$(p11-kit list-modules 2>/dev/null | sed -n 's/^softhsm2: //p')}
[ -n "$SOFTHSM2_MODULE" ] || SOFTHSM2_MODULE="$(pkg-config --variable=libdir p11-kit-1)/softhsm/libsofthsm2.so"
[ -f "$SOFTHSM2_MODULE" ] || hsm_cannot "no SoftHSM2 module found"
export SOFTHSM2_MODULE

HSM=$TMPD/hsm
mkdir -p "$HSM/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\nlibrary.reset_on_fork = true\n' \
  "$HSM/tokens" >"$HSM/softhsm2.conf"
export SOFTHSM2_CONF=$HSM/softhsm2.conf
K=$MSIG_INTEROP/keys

export MSIG_PLUGIN_PATH=$MSIG_BUILD_DIR/lib/msig/plugins
unset MSIG_LOG_LEVEL MSIG_VERBOSE MSIG_KEY_PASSPHRASE MSIG_PKCS11_PIN PKCS11_MODULE_PATH

# hsm_token LABEL PIN
hsm_token() {
  softhsm2-util --init-token --free --label "$1" --pin "$2" --so-pin 99887766 >/dev/null ||
    bail "cannot create SoftHSM token $1"
}
# hsm_import KEYFILE TOKEN LABEL ID PIN: the private key and its public object.
hsm_import() {
  softhsm2-util --import "$1" --token "$2" --label "$3" --id "$4" --pin "$5" >/dev/null ||
    bail "cannot import $1 into $2"
}
# sig_len ARTIFACT: the length of the signature in manifest.sig, decoded.
sig_len() { tar -xOf "$1" manifest.sig | base64 -d | wc -c; }
# same ARTIFACT SUM: the file is byte for byte what it was (sha256sum given).
unchanged() { [ "$(sha256sum <"$1")" = "$2" ]; }
