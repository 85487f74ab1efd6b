#!/usr/bin/env bash
# tests/kms/signserver.t -- --keyfactor-signserver-worker against the fake SignServer
# (fakekms.py, mutual TLS with a test client CA): kms.md 5.3 cases 1-9 for SignServer.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/kmslib.sh"

export SIGNSERVER_HOSTNAME=127.0.0.1:$P_SS SIGNSERVER_CLIENT_CERT_PATH=$FK/client.pem
export SIGNSERVER_CLIENT_CERT_KEY_PATH=$FK/client.key SIGNSERVER_CA_CERT_PATH=$FK/ca.pem
digest_b64() { tar -xOf "$1" manifest | openssl dgst -sha256 -binary | base64 -w0; }
last() {
  "$PY" - "$FK/requests.jsonl" "$1" <<'EOF'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if "/process" in l]
b = json.loads(rs[-1]["body"])
for p in sys.argv[2].split("."):
    b = b.get(p, "absent") if isinstance(b, dict) else "absent"
print(b)
EOF
}
procs() { requests '"/process" in r["path"]'; }

# --- 1. happy path: NONEwithRSA and NONEwithECDSA workers
for k in rsa ec; do
  a=$(fresh "$k"); clearlog
  run "$MSIG" sign --keyfactor-signserver-worker "$k" "$a"
  is "$rc" 0 "$k: sign exits 0"; [ "$rc" = 0 ] || diag "$err"
  verify_indep "$a" "$FK/pub-$k.pem"; ok $? "$k: mender-artifact validate -k accepts it"
  is "$(sig_of "$a" | base64 -d | wc -c)" "$([ $k = rsa ] && echo 256 || echo 64)" \
     "$k: signature length (ECDSA DER converted to r||s, unlike mender-artifact)"
  # --- 2. request shape
  is "$(last data)" "$(digest_b64 "$a")" "$k: data is the manifest's SHA-256"
  is "$(last encoding)" BASE64 "$k: encoding BASE64"
  is "$(last metaData.USING_CLIENTSUPPLIED_HASH)" true "$k: USING_CLIENTSUPPLIED_HASH=true"
  is "$(last metaData.CLIENTSIDE_HASHDIGESTALGORITHM)" SHA-256 "$k: CLIENTSIDE_HASHDIGESTALGORITHM=SHA-256"
  is "$(requests '"x-keyfactor-requested-with" in r["headers"]')" 2 "$k: X-Keyfactor-Requested-With sent"
  is "$(procs)" 2 "$k: one call for the signer certificate, one for the signature"
done
a=$(fresh https)
run env SIGNSERVER_HOSTNAME="https://127.0.0.1:$P_SS" "$MSIG" sign --keyfactor-signserver-worker ec "$a"
is "$rc" 0 "a https:// prefix on SIGNSERVER_HOSTNAME is accepted"
"$PY" - "$FK" <<'EOF'
import sys
from cryptography.hazmat.primitives import serialization
open(sys.argv[1] + "/signer-ec.pem", "w").write(open(sys.argv[1] + "/pub-ec.pem").read())
EOF
a=$(fresh scert); clearlog
run "$MSIG" --plugin-param signserver.signer-cert="$FK/signer-ec.pem" sign --keyfactor-signserver-worker ec "$a"
is "$rc" 0 "signserver.signer-cert: signed"
is "$(procs)" 1 "signserver.signer-cert: no extra call"

# --- 3. verification
run "$MSIG" validate --keyfactor-signserver-worker rsa "$W/rsa.mender"
is "$rc" 0 "validate --keyfactor-signserver-worker: exit 0"
run "$MSIG" read --keyfactor-signserver-worker ec "$W/ec.mender"
is "$rc" 0 "read: exit 0"
run "$MSIG" validate --keyfactor-signserver-worker ec "$W/rsa.mender"
is "$rc" 4 "validate with another worker's key: invalid"
clearlog
run "$MSIG" validate -k "$FK/pub-ec.pem" "$W/ec.mender"
is "$(requests True)" 0 "validate -k contacts no service"

# --- 4./errors: worker refuses client-side hashing, unknown worker
a=$(fresh refuse); sum=$(sha256sum <"$a")
run "$MSIG" sign --keyfactor-signserver-worker nohash "$a"
like "$err" "HTTP 400: Client-side hashing is not enabled for this worker" "400: SignServer's own text"
run "$MSIG" sign --keyfactor-signserver-worker nosuch "$a"
like "$err" "SignServer has no worker nosuch" "unknown worker: not found"

# --- 5. settings and client certificates
for v in SIGNSERVER_HOSTNAME SIGNSERVER_CLIENT_CERT_PATH; do
  clearlog
  run env -u "$v" "$MSIG" sign --keyfactor-signserver-worker rsa "$a"
  like "$err" "$v is not set" "no $v: named"
  is "$(requests True)" 0 "no $v: no network"
done
run env -u SIGNSERVER_CLIENT_CERT_KEY_PATH SIGNSERVER_CLIENT_CERT_PATH="$FK/badclient.pem" MSIG_LOG_LEVEL=debug \
    "$MSIG" sign --keyfactor-signserver-worker rsa "$a"
is "$rc" 1 "client certificate of an unknown CA: refused"
like "$err" "refused the TLS client certificate $FK/badclient.pem" "wrong client certificate: an auth error"
unlike "$err" "attempt 2" "wrong client certificate: not retried"
is "$(sha256sum <"$a")" "$sum" "refusals: unchanged"

# --- 6. TLS
run env SIGNSERVER_CA_CERT_PATH="$FK/other-ca.pem" "$MSIG" sign --keyfactor-signserver-worker rsa "$a"
like "$err" "TLS with https://127.0.0.1:$P_SS/signserver/rest/v1/workers/rsa/process failed" "wrong CA: TLS error"
run env SIGNSERVER_HOSTNAME="signserver.wrong:$P_SS" MSIG_KMS_CONNECT_TO="signserver.wrong:$P_SS:127.0.0.1:$P_SS" \
    "$MSIG" sign --keyfactor-signserver-worker rsa "$a"
like "$err" "TLS with https://signserver.wrong:$P_SS" "host-name mismatch: TLS error"
run env SIGNSERVER_HOSTNAME="signserver.test:$P_SS" MSIG_KMS_CONNECT_TO="signserver.test:$P_SS:127.0.0.1:$P_SS" \
    "$MSIG" sign --keyfactor-signserver-worker rsa "$W/https.mender" -f
is "$rc" 0 "MSIG_KMS_CONNECT_TO with the production name: signed"
is "$(sha256sum <"$a")" "$sum" "TLS failures: unchanged"

# --- 7. retries: 503 (crypto token offline)
a=$(fresh retry); clearlog
faults '[{"match": "/process", "count": 2, "kind": "status", "status": 503, "retry_after": 1}]'
run "$MSIG" sign --keyfactor-signserver-worker rsa "$a"
is "$rc" 0 "503 + Retry-After twice, then OK"
is "$(procs)" 4 "503: two retried calls, then certificate and signature"
clearlog
faults '[{"match": "/process", "count": 10, "kind": "status", "status": 503}]'
run "$MSIG" sign --keyfactor-signserver-worker rsa "$W/scert.mender" -f
like "$err" "answered HTTP 503 after 4 attempts" "503 until exhausted: unavailable"
nofaults

# --- 9. secrets: the client key never appears
all=$TMPD/all.txt; : >"$all"
MSIG_LOG_LEVEL=debug "$MSIG" sign -f --keyfactor-signserver-worker rsa "$W/rsa.mender" >>"$all" 2>&1
env -u SIGNSERVER_CLIENT_CERT_KEY_PATH SIGNSERVER_CLIENT_CERT_PATH="$FK/badclient.pem" MSIG_LOG_LEVEL=debug "$MSIG" sign --keyfactor-signserver-worker rsa "$a" >>"$all" 2>&1
like "$(cat "$all")" "debug: kms: POST" "debug output was produced"
keyline=$(sed -n 2p "$FK/client.key")
! grep -qF "$keyline" "$all"; ok $? "no part of the client key appears"
! grep -q "PRIVATE KEY" "$all"; ok $? "no private-key marker appears"

done_testing
