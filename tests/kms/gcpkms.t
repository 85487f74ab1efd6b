#!/usr/bin/env bash
# tests/kms/gcpkms.t -- --gcp-kms-key against the fake Google OAuth + Cloud KMS + metadata
# server (fakekms.py), reached under the production host names through MSIG_KMS_CONNECT_TO:
# kms.md 5.3 cases 1-9 for Cloud KMS, and python3-google-auth answered by the fake.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/kmslib.sh"

KR=projects/msig-test/locations/global/keyRings/ring/cryptoKeys
key() { echo "$KR/$1/cryptoKeyVersions/1"; }
CT="oauth2.googleapis.com:443:127.0.0.1:$P_HTTPS,cloudkms.googleapis.com:443:127.0.0.1:$P_HTTPS"
export GOOGLE_APPLICATION_CREDENTIALS=$FK/gcp-sa.json SSL_CERT_FILE=$FK/ca.pem MSIG_KMS_CONNECT_TO=$CT
digest_b64() { tar -xOf "$1" manifest | openssl dgst -sha256 -binary | base64 -w0; }
lastsign() { # FIELD path of the last asymmetricSign body, as JSON
  "$PY" - "$FK/requests.jsonl" "$1" <<'EOF'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if "asymmetricSign" in l]
b = json.loads(rs[-1]["body"])
for p in sys.argv[2].split("."):
    b = b.get(p, "absent") if isinstance(b, dict) else "absent"
print(json.dumps(b))
EOF
}
crc32c_of() { # CRC32C of the SHA-256 of the manifest of ARTIFACT
  tar -xOf "$1" manifest | openssl dgst -sha256 -binary | "$PY" -c '
import sys
crc = 0xFFFFFFFF
for b in sys.stdin.buffer.read():
    crc ^= b
    for _ in range(8):
        crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
print(crc ^ 0xFFFFFFFF)'
}
signs() { requests '"asymmetricSign" in r["path"]'; }
tokens() { requests 'r["path"] == "/token"'; }

# --- 1. happy path
for kt in rsa ec; do
  a=$(fresh "$kt"); clearlog
  run "$MSIG" sign --gcp-kms-key "$(key $kt)" "$a"
  is "$rc" 0 "$kt: sign exits 0"; [ "$rc" = 0 ] || diag "$err"
  verify_indep "$a" "$FK/pub-$kt.pem"; ok $? "$kt: mender-artifact validate -k accepts it"
  sig=$(sig_of "$a")
  is "$(printf %s "$sig" | base64 -d | wc -c)" "$([ $kt = rsa ] && echo 256 || echo 64)" \
     "$kt: signature length (ECDSA DER converted to 64-byte r||s)"
  # --- 2. request shape
  is "$(lastsign digest.sha256)" "\"$(digest_b64 "$a")\"" "$kt: digest.sha256 is the manifest's SHA-256"
  is "$(lastsign digestCrc32c)" "\"$(crc32c_of "$a")\"" "$kt: digestCrc32c is its CRC32C, as a string"
  is "$(lastsign data)" '"absent"' "$kt: no data field"
  is "$(tokens)" 1 "$kt: one token exchange for public key and signature"
  is "$(requests 'r["headers"].get("host") == "cloudkms.googleapis.com"')" 2 "$kt: requests carry the production host name"
  is "$("$PY" -c 'import json,sys; print(len({r["client_port"] for r in map(json.loads, open(sys.argv[1])) if "cloudkms" in r["headers"]["host"]}))' "$FK/requests.jsonl")" 1 \
     "$kt: public key and signature over one kept-alive connection"
done
is "$(requests '"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in r["body"]')" 1 \
   "token request: jwt-bearer grant (the fake checked RS256, iss, aud, scope, exp)"

# --- several signatures in one process (as several artifacts in one run): one token, one
# connection to Cloud KMS, also across a second opening of the key
clearlog
run "$MSIG_BUILD_DIR/tests/kms/kms_multi" "gcpkms:$(key ec)" 3 kms.connect-to="$CT" kms.ssl-cert-file="$FK/ca.pem" \
    gcpkms.credentials="$FK/gcp-sa.json"
is "$out" "signed 4" "four signatures in one process"; [ "$rc" = 0 ] || diag "$err"
is "$(signs)" 4 "four sign requests"
is "$(tokens)" 1 "one token exchange for all of them"
is "$("$PY" -c 'import json,sys; print(len({r["client_port"] for r in map(json.loads, open(sys.argv[1])) if "cloudkms" in r["headers"]["host"]}))' "$FK/requests.jsonl")" 1 \
   "one kept-alive connection for every Cloud KMS request"

# --- 3. verification
clearlog
run "$MSIG" validate --gcp-kms-key "$(key rsa)" "$W/rsa.mender"
is "$rc" 0 "validate --gcp-kms-key: exit 0"
is "$(signs)" 0 "validate: no sign request"
run "$MSIG" read --gcp-kms-key "$(key ec)" "$W/ec.mender"
is "$rc" 0 "read --gcp-kms-key: exit 0"
clearlog
run "$MSIG" validate -k "$FK/pub-ec.pem" "$W/ec.mender"
is "$rc" 0 "validate -k: exit 0"
is "$(requests True)" 0 "validate -k contacts no service"

# --- 4. unsupported algorithms
for kt in pss:RSA_SIGN_PSS_2048_SHA256 p384:EC_SIGN_P384_SHA384; do
  a=$(fresh "${kt%%:*}"); sum=$(sha256sum <"$a"); clearlog
  run "$MSIG" sign --gcp-kms-key "$(key "${kt%%:*}")" "$a"
  is "$rc" 1 "${kt%%:*}: refused"
  like "$err" "cryptoKeys/${kt%%:*}/cryptoKeyVersions/1 has algorithm ${kt#*:}" "${kt%%:*}: names key and algorithm"
  is "$(signs)" 0 "${kt%%:*}: no sign request"
  is "$(sha256sum <"$a")" "$sum" "${kt%%:*}: unchanged"
done

# --- 5. settings and authentication
a=$(fresh auth); sum=$(sha256sum <"$a"); clearlog
run "$MSIG" sign --gcp-kms-key "projects/p/keyRings/r" "$a"
like "$err" "--gcp-kms-key needs a key version projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N" "bad resource name explained"
is "$(requests True)" 0 "bad resource name: no network"
run env GOOGLE_APPLICATION_CREDENTIALS="$TMPD/none.json" "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
like "$err" "cannot open the credentials file $TMPD/none.json" "missing credentials file named"
"$PY" - "$FK/gcp-sa.json" "$TMPD/wrong-sa.json" <<'EOF'
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
sa = json.load(open(sys.argv[1]))
sa["private_key"] = rsa.generate_private_key(65537, 2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode()
json.dump(sa, open(sys.argv[2], "w"))
EOF
run env GOOGLE_APPLICATION_CREDENTIALS="$TMPD/wrong-sa.json" "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
is "$rc" 1 "wrong service-account key: refused"
like "$err" "invalid_grant: Invalid JWT Signature." "wrong key: Google's own error text"
printf '{"type": "external_account"}' >"$TMPD/ext.json"
run env GOOGLE_APPLICATION_CREDENTIALS="$TMPD/ext.json" "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
like "$err" "has type external_account: only service_account and authorized_user" "unsupported credential type named"
is "$(sha256sum <"$a")" "$sum" "auth failures: unchanged"
clearlog
faults '[{"match": "asymmetricSign", "count": 1, "kind": "expire"}]'
run "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
is "$rc" 0 "expired token: one refresh, then signed"
is "$(tokens)" 2 "expired token: a second token exchange"
a=$(fresh auth2); sum=$(sha256sum <"$a")
faults '[{"match": "publicKey", "count": 3, "kind": "status", "status": 401}]'
run "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
is "$rc" 1 "second 401: refused"
like "$err" "HTTP 401" "second 401: final"
faults '[{"match": "publicKey", "count": 3, "kind": "status", "status": 403, "body": {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "Permission cloudkms.cryptoKeyVersions.viewPublicKey denied"}}}]'
run "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
like "$err" "HTTP 403: PERMISSION_DENIED: Permission cloudkms.cryptoKeyVersions.viewPublicKey denied" "403: Google's status and message"
nofaults
run "$MSIG" sign --gcp-kms-key "$KR/nokey/cryptoKeyVersions/1" "$a"
like "$err" "HTTP 404: NOT_FOUND: CryptoKeyVersion" "unknown key: not found with Google's text"
is "$(sha256sum <"$a")" "$sum" "refusals: unchanged"
clearlog
run env -u GOOGLE_APPLICATION_CREDENTIALS GCE_METADATA_HOST="127.0.0.1:$P_META" "$MSIG" sign --gcp-kms-key "$(key ec)" "$a"
is "$rc" 0 "no credentials file: token from the metadata server"; [ "$rc" = 0 ] || diag "$err"
is "$(requests 'r["headers"].get("metadata-flavor") == "Google"')" 1 "metadata: Metadata-Flavor: Google sent"
verify_indep "$a" "$FK/pub-ec.pem"; ok $? "metadata: artifact verifies"

a=$(fresh user); clearlog
run env GOOGLE_APPLICATION_CREDENTIALS="$FK/gcp-user.json" "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
is "$rc" 0 "authorized_user credentials: refresh-token grant, signed"; [ "$rc" = 0 ] || diag "$err"
is "$(requests '"grant_type=refresh_token" in r["body"]')" 1 "authorized_user: one refresh_token grant"
"$PY" -c 'import json,sys; u=json.load(open(sys.argv[1])); u["refresh_token"]="1//revoked"; json.dump(u, open(sys.argv[2],"w"))' \
  "$FK/gcp-user.json" "$TMPD/revoked.json"
run env GOOGLE_APPLICATION_CREDENTIALS="$TMPD/revoked.json" "$MSIG" sign --gcp-kms-key "$(key rsa)" "$W/user.mender" -f
like "$err" "invalid_grant: Bad Request" "revoked refresh token: Google's error text"

mkdir -p "$HOME/.config/gcloud" "$TMPD/sdk"
cp "$FK/gcp-user.json" "$HOME/.config/gcloud/application_default_credentials.json"
clearlog
run env -u GOOGLE_APPLICATION_CREDENTIALS "$MSIG" validate --gcp-kms-key "$(key rsa)" "$W/rsa.mender"
is "$rc" 0 "gcloud's well-known file in HOME is used"; [ "$rc" = 0 ] || diag "$err"
is "$(requests '"grant_type=refresh_token" in r["body"]')" 1 "well-known file: its refresh-token grant"
cp "$TMPD/revoked.json" "$TMPD/sdk/application_default_credentials.json"
run env -u GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_CONFIG="$TMPD/sdk" "$MSIG" validate --gcp-kms-key "$(key rsa)" "$W/rsa.mender"
like "$err" "invalid_grant" "CLOUDSDK_CONFIG's file comes before HOME's"
rm -rf "$HOME/.config"

# --- 6. TLS
a=$(fresh tls); sum=$(sha256sum <"$a")
run env SSL_CERT_FILE="$FK/other-ca.pem" MSIG_LOG_LEVEL=debug "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
like "$err" "TLS with https://oauth2.googleapis.com/token failed" "wrong CA: TLS error names the host"
unlike "$err" "attempt 2" "wrong CA: not retried"
run env -u SSL_CERT_FILE "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
like "$err" "TLS with https://oauth2.googleapis.com/token failed" "system trust alone does not know the test CA"
run env MSIG_KMS_CONNECT_TO="oauth2.googleapis.com:443:127.0.0.1:$P_EXPIRED" "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
like "$err" "expired" "expired certificate refused"
is "$(sha256sum <"$a")" "$sum" "TLS failures: unchanged"

# --- 7. retries
a=$(fresh retry); clearlog
faults '[{"match": "asymmetricSign", "count": 2, "kind": "status", "status": 429, "retry_after": 1}]'
run "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
is "$rc" 0 "429 + Retry-After twice, then OK"
is "$(signs)" 3 "429: three sign requests"
a=$(fresh unavail); sum=$(sha256sum <"$a"); clearlog
faults '[{"match": "asymmetricSign", "count": 10, "kind": "status", "status": 503}]'
run "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
like "$err" "answered HTTP 503 after 4 attempts" "503 until exhausted: unavailable after 4 tries"
is "$(signs)" 4 "503: four sign requests (3 retries)"
is "$(sha256sum <"$a")" "$sum" "503: unchanged"
clearlog
faults '[{"match": "asymmetricSign", "count": 10, "kind": "status", "status": 400}]'
run "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a"
is "$(signs)" 1 "400: not retried"
nofaults

# --- 8. integrity: CRC32C
a=$(fresh crc); clearlog
faults '[{"match": "asymmetricSign", "count": 1, "kind": "badcrc"}]'
run "$MSIG" sign --gcp-kms-key "$(key ec)" "$a"
is "$rc" 0 "one CRC mismatch: retried once and signed"
is "$(signs)" 2 "CRC mismatch: two sign requests"
a=$(fresh crc2); sum=$(sha256sum <"$a")
faults '[{"match": "asymmetricSign", "count": 2, "kind": "badcrc"}]'
run "$MSIG" sign --gcp-kms-key "$(key ec)" "$a"
like "$err" "the signature's CRC32C does not match signatureCrc32c (after 2 attempts)" "two CRC mismatches: refused"
faults '[{"match": "asymmetricSign", "count": 2, "kind": "noverify"}]'
run "$MSIG" sign --gcp-kms-key "$(key ec)" "$a"
like "$err" "did not confirm the digest's CRC32C (verifiedDigestCrc32c)" "verifiedDigestCrc32c false: refused"
is "$(sha256sum <"$a")" "$sum" "integrity failures: unchanged"
nofaults

# --- 9. secrets
all=$TMPD/all.txt; : >"$all"
MSIG_LOG_LEVEL=debug "$MSIG" sign -f --gcp-kms-key "$(key rsa)" "$W/rsa.mender" >>"$all" 2>&1
MSIG_LOG_LEVEL=debug "$MSIG" validate --gcp-kms-key "$(key ec)" "$W/ec.mender" >>"$all" 2>&1
env GOOGLE_APPLICATION_CREDENTIALS="$TMPD/wrong-sa.json" MSIG_LOG_LEVEL=debug "$MSIG" sign --gcp-kms-key "$(key rsa)" "$a" >>"$all" 2>&1
like "$(cat "$all")" "debug: kms: POST https://oauth2.googleapis.com/token" "debug output was produced"
leak=0
while read -r t; do grep -qF "$t" "$all" && leak=1; done <"$FK/issued-tokens"
is "$leak" 0 "no access token the fake issued appears in any output"
! grep -q "eyJhbGciOi" "$all"; ok $? "no JWT assertion appears in any output"
keyline=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["private_key"].splitlines()[3])' "$FK/gcp-sa.json")
! grep -qF "$keyline" "$all"; ok $? "no part of the service-account key appears"
! grep -q "PRIVATE KEY" "$all"; ok $? "no private-key marker appears"
env GOOGLE_APPLICATION_CREDENTIALS="$FK/gcp-user.json" MSIG_LOG_LEVEL=debug "$MSIG" validate --gcp-kms-key "$(key rsa)" "$W/rsa.mender" >>"$all" 2>&1
for f in refresh_token client_secret; do
  v=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$FK/gcp-user.json" "$f")
  ! grep -qF "$v" "$all"; ok $? "the authorized user's $f appears in no output"
done

# --- the fake answers python3-google-auth's service-account flow
if ! has_module google.auth; then skip "python3-google-auth is not installed" "python3-google-auth against the fake"; else
run "$PY" - "$FK" "$P_HTTPS" <<'EOF'
import json, sys, urllib3
from google.oauth2 import service_account
import google.auth.transport.urllib3 as gurl
d, port = sys.argv[1:3]
info = json.load(open(d + "/gcp-sa.json"))
info["token_uri"] = "https://127.0.0.1:%s/token" % port
creds = service_account.Credentials.from_service_account_info(
    info, scopes=["https://www.googleapis.com/auth/cloudkms"])
creds.refresh(gurl.Request(urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=d + "/ca.pem")))
assert creds.token.startswith("ya29."), creds.token[:5]
print("google-auth ok")
EOF
is "$out" "google-auth ok" "python3-google-auth gets a token from the fake"; [ "$rc" = 0 ] || diag "$err"

fi

done_testing
