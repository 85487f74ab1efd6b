# tests/kms/kmslib.sh -- starts the fake KMS servers (fakekms.py) for one test file and stops
# them by PID at exit. Source after ../lib.sh. Sets FK (the fake's directory), the ports
# P_HTTPS, P_EXPIRED, P_SS, P_META, the plugin environment, and helpers.
PY=/usr/bin/python3   # Debian's interpreter, with python3-cryptography, -hvac, -google-auth
# Without a dependency every case is skipped outside CI and fails in CI (lib.sh skip).
kms_cannot() { skip "$1" "KMS tests can run"; done_testing; }
[ -x "$PY" ] || kms_cannot "Debian's /usr/bin/python3 is not installed"
[ -x "$MSIG" ] || kms_cannot "msig CLI not built ($MSIG)"
"$PY" -c 'import cryptography' 2>/dev/null || kms_cannot "python3-cryptography is not installed"
[ -f "$MSIG_BUILD_DIR/lib/msig/plugins/msig-kms.so" ] || kms_cannot "msig-kms.so is not built (libcurl/jansson missing, or MSIG_PLUGIN_KMS=OFF)"
need openssl mender-artifact tar
# has_module NAME: the Debian client library a fidelity check needs.
has_module() { "$PY" -c "import $1" 2>/dev/null; }

FK=$TMPD/fake
mkdir -p "$FK"
"$PY" "$MSIG_SOURCE_DIR/tests/kms/fakekms.py" "$FK" 2>"$FK/stderr" &
FAKE_PID=$!
_kms_cleanup() { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; rm -rf "$TMPD"; }
trap _kms_cleanup EXIT
for _i in $(seq 1 600); do
  [ -f "$FK/ready.json" ] && break
  kill -0 "$FAKE_PID" 2>/dev/null || bail "fakekms.py died: $(cat "$FK/stderr")"
  sleep 0.1
done
[ -f "$FK/ready.json" ] || bail "fakekms.py did not get ready"
port() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$FK/ready.json" "$1"; }
P_HTTPS=$(port https) P_EXPIRED=$(port expired) P_SS=$(port signserver) P_META=$(port metadata)

export MSIG_PLUGIN_PATH=$MSIG_BUILD_DIR/lib/msig/plugins
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy MSIG_LOG_LEVEL MSIG_VERBOSE
unset SSL_CERT_FILE SSL_CERT_DIR MSIG_KMS_CONNECT_TO
unset VAULT_ADDR VAULT_TOKEN VAULT_MOUNT_PATH VAULT_KEY_VERSION VAULT_CACERT VAULT_NAMESPACE
unset VAULT_AGENT_ADDR VAULT_CLIENT_CERT VAULT_CLIENT_KEY VAULT_CAPATH
# No gcloud well-known credentials from the user's own home.
export HOME=$TMPD/home
mkdir -p "$HOME"
unset GOOGLE_APPLICATION_CREDENTIALS GCE_METADATA_HOST CLOUDSDK_CONFIG KEY_VAULT_NAME KEY_VAULT_KEY_VERSION
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST IDENTITY_ENDPOINT IDENTITY_HEADER
unset SIGNSERVER_HOSTNAME SIGNSERVER_CLIENT_CERT_PATH SIGNSERVER_CLIENT_CERT_KEY_PATH
unset SIGNSERVER_CA_CERT_PATH

# faults JSON: the next matching requests misbehave (see fakekms.py).
faults() { printf '%s' "$1" >"$FK/faults.json"; }
nofaults() { rm -f "$FK/faults.json"; }
# requests PYEXPR: count of logged requests r (a dict) for which PYEXPR is true; clears log.
requests() {
  "$PY" - "$FK/requests.jsonl" "$1" <<'PY'
import json, sys
try:
    rs = [json.loads(l) for l in open(sys.argv[1])]
except OSError:
    rs = []
print(sum(1 for r in rs if eval(sys.argv[2])))
PY
}
clearlog() { rm -f "$FK/requests.jsonl"; }

# An unsigned artifact to sign, and a fresh copy per case.
SRC=$MSIG_INTEROP/rootfs-unsigned-gzip.mender
W=$TMPD/w
mkdir -p "$W"
fresh() { cp "$SRC" "$W/$1.mender"; chmod 644 "$W/$1.mender"; echo "$W/$1.mender"; }
# sig_of ARTIFACT: manifest.sig content
sig_of() { tar -xOf "$1" manifest.sig 2>/dev/null; }
# verify_indep ARTIFACT PUB.pem: mender-artifact validates with the key the fake exported.
verify_indep() { mender-artifact validate -k "$2" "$1" >/dev/null 2>&1; }
