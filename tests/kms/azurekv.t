#!/usr/bin/env bash
# tests/kms/azurekv.t -- --azure-key against the fake Entra ID + Key Vault (fakekms.py),
# reached as https://testvault.vault.azure.net and https://login.microsoftonline.com through
# MSIG_KMS_CONNECT_TO: kms.md 5.3 cases 1-9 for Azure Key Vault.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/kmslib.sh"

SECRET=$(cat "$FK/azure-secret")
CT="login.microsoftonline.com:443:127.0.0.1:$P_HTTPS,testvault.vault.azure.net:443:127.0.0.1:$P_HTTPS"
export KEY_VAULT_NAME=testvault AZURE_TENANT_ID=tenant-1 AZURE_CLIENT_ID=client-1
export AZURE_CLIENT_SECRET=$SECRET SSL_CERT_FILE=$FK/ca.pem MSIG_KMS_CONNECT_TO=$CT
VER=0123456789abcdef0123456789abcdef
digest_b64url() { tar -xOf "$1" manifest | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='; }
lastsign() {
  "$PY" - "$FK/requests.jsonl" "$1" <<'EOF'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if "/sign?" in l]
print(json.loads(rs[-1]["body"]).get(sys.argv[2], "absent"))
EOF
}
signs() { requests '"/sign?" in r["path"]'; }
tokens() { requests 'r["path"].endswith("/oauth2/v2.0/token")'; }

# --- 1. happy path (RSA, and EC-HSM P-256)
for kt in rsa:RS256 ec:ES256; do
  k=${kt%%:*}; a=$(fresh "$k"); clearlog
  run "$MSIG" sign --azure-key "$k" "$a"
  is "$rc" 0 "$k: sign exits 0"; [ "$rc" = 0 ] || diag "$err"
  verify_indep "$a" "$FK/pub-$k.pem"; ok $? "$k: mender-artifact validate -k accepts it"
  is "$(sig_of "$a" | base64 -d | wc -c)" "$([ $k = rsa ] && echo 256 || echo 64)" "$k: signature length"
  # --- 2. request shape
  is "$(lastsign alg)" "${kt#*:}" "$k: alg ${kt#*:}"
  is "$(lastsign value)" "$(digest_b64url "$a")" "$k: value is the manifest's SHA-256, base64url"
  is "$(requests '"/keys/'$k'/'$VER'/sign?api-version=7.5" in r["path"]')" 1 "$k: the version from kid, api-version=7.5"
  is "$(tokens)" 1 "$k: one token for key and signature"
  is "$(requests '"scope=https%3A%2F%2Fvault.azure.net%2F.default" in r["body"] and "grant_type=client_credentials" in r["body"]')" 1 \
     "$k: client-credentials grant with the vault scope"
done

# --- several signatures in one process: one token, one connection to the vault
clearlog
run "$MSIG_BUILD_DIR/tests/kms/kms_multi" azurekv:rsa 3 kms.connect-to="$CT" kms.ssl-cert-file="$FK/ca.pem" \
    azurekv.vault-name=testvault azurekv.tenant-id=tenant-1 azurekv.client-id=client-1 azurekv.client-secret="$SECRET"
is "$out" "signed 4" "four signatures in one process"; [ "$rc" = 0 ] || diag "$err"
is "$(tokens)" 1 "one token for all of them"
is "$("$PY" -c 'import json,sys; print(len({r["client_port"] for r in map(json.loads, open(sys.argv[1])) if "vault.azure.net" in r["headers"]["host"]}))' "$FK/requests.jsonl")" 1 \
   "one kept-alive connection to the vault"

# --- 3. verification
clearlog
run "$MSIG" validate --azure-key rsa "$W/rsa.mender"
is "$rc" 0 "validate --azure-key: exit 0"
is "$(signs)" 0 "validate: no sign request"
run "$MSIG" read --azure-key ec "$W/ec.mender"
is "$rc" 0 "read --azure-key: exit 0"
run env KEY_VAULT_KEY_VERSION=$VER "$MSIG" validate --azure-key ec "$W/ec.mender"
is "$rc" 0 "KEY_VAULT_KEY_VERSION given: exit 0"
clearlog
run "$MSIG" validate -k "$FK/pub-rsa.pem" "$W/rsa.mender"
is "$(requests True)" 0 "validate -k contacts no service"

# --- 4. refused keys
for kt in "p384:has type EC P-384" "oct:has type oct-HSM" "disabled:is disabled"; do
  k=${kt%%:*}; a=$(fresh "$k"); sum=$(sha256sum <"$a"); clearlog
  run "$MSIG" sign --azure-key "$k" "$a"
  is "$rc" 1 "$k: refused"
  like "$err" "Azure key $k ${kt#*:}" "$k: names key and reason"
  is "$(signs)" 0 "$k: no sign request"
  is "$(sha256sum <"$a")" "$sum" "$k: unchanged"
done

# --- 5. settings and authentication
a=$(fresh auth); sum=$(sha256sum <"$a")
for v in KEY_VAULT_NAME AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET; do
  clearlog
  run env -u "$v" "$MSIG" sign --azure-key rsa "$a"
  like "$err" "$v is not set" "no $v: named"
  is "$(requests True)" 0 "no $v: no network"
done
run env KEY_VAULT_NAME=-bad "$MSIG" sign --azure-key rsa "$a"
like "$err" "KEY_VAULT_NAME '-bad' is not a vault name" "bad vault name refused"
run env AZURE_CLIENT_SECRET=wrong "$MSIG" sign --azure-key rsa "$a"
is "$rc" 1 "wrong client secret: refused"
like "$err" "invalid_client: AADSTS7000215: Invalid client secret provided." "wrong secret: Entra ID's own text"
run "$MSIG" sign --azure-key nokey "$a"
like "$err" "vault testvault has no key nokey" "unknown key: not found"
is "$(sha256sum <"$a")" "$sum" "refusals: unchanged"
clearlog
faults '[{"match": "/sign?", "count": 1, "kind": "expire"}]'
run "$MSIG" sign --azure-key rsa "$a"
is "$rc" 0 "expired token: one refresh, then signed"
is "$(tokens)" 2 "expired token: a second token request"
a=$(fresh auth2)
faults '[{"match": "GET /keys/", "count": 3, "kind": "status", "status": 401}]'
run "$MSIG" sign --azure-key rsa "$a"
like "$err" "HTTP 401" "second 401: final"
faults '[{"match": "GET /keys/", "count": 3, "kind": "status", "status": 403, "body": {"error": {"code": "Forbidden", "message": "Caller is not authorized to perform action on resource."}}}]'
run "$MSIG" sign --azure-key rsa "$a"
like "$err" "HTTP 403: Forbidden: Caller is not authorized" "403: Azure's code and message"
nofaults
run env AZURE_AUTHORITY_HOST="https://127.0.0.1:$P_HTTPS" MSIG_KMS_CONNECT_TO="testvault.vault.azure.net:443:127.0.0.1:$P_HTTPS" "$MSIG" sign --azure-key ec "$a"
is "$rc" 0 "AZURE_AUTHORITY_HOST points at another token endpoint"

# --- managed identity: IMDS, and App Service's IDENTITY_ENDPOINT (plain HTTP on loopback)
a=$(fresh mi); clearlog
run env -u AZURE_TENANT_ID -u AZURE_CLIENT_ID -u AZURE_CLIENT_SECRET \
    "$MSIG" --plugin-param azurekv.imds-host="127.0.0.1:$P_META" sign --azure-key ec "$a"
is "$rc" 0 "no client secret: IMDS managed identity"; [ "$rc" = 0 ] || diag "$err"
is "$(requests 'r["headers"].get("metadata") == "true" and "resource=https%3A%2F%2Fvault.azure.net" in r["path"]')" 1 "IMDS: Metadata: true and the vault resource"
verify_indep "$a" "$FK/pub-ec.pem"; ok $? "IMDS: artifact verifies"
IDH=$(cat "$FK/identity-header")
run env -u AZURE_TENANT_ID -u AZURE_CLIENT_ID -u AZURE_CLIENT_SECRET IDENTITY_ENDPOINT="http://127.0.0.1:$P_META/msi/token" \
    IDENTITY_HEADER="$IDH" MSIG_LOG_LEVEL=debug "$MSIG" sign -f --azure-key rsa "$a"
is "$rc" 0 "IDENTITY_ENDPOINT + IDENTITY_HEADER: App Service managed identity"; [ "$rc" = 0 ] || diag "$err"
unlike "$err" "$IDH" "IDENTITY_HEADER never shown"
run env -u AZURE_TENANT_ID -u AZURE_CLIENT_ID -u AZURE_CLIENT_SECRET IDENTITY_ENDPOINT="http://127.0.0.1:$P_META/msi/token" \
    IDENTITY_HEADER=wrong "$MSIG" sign -f --azure-key rsa "$a"
like "$err" "get a managed-identity token: http://127.0.0.1:$P_META/msi/token answered HTTP 400: invalid_request" "wrong IDENTITY_HEADER: the endpoint's text"

# --- msig keys azurekv: lists the vault's keys
run "$MSIG" keys azurekv:
is "$rc" 0 "msig keys azurekv: exit 0"; [ "$rc" = 0 ] || diag "$err"
like "$out" "azurekv:rsa" "keys: lists rsa"
like "$out" "type: RSA, 2048 bits" "keys: RSA size from the JWK"
like "$out" "Azure type EC-HSM P-256" "keys: EC-HSM P-256"
like "$out" "Azure type EC P-384 (cannot sign Mender artifacts)" "keys: P-384 marked"
like "$out" "id: $VER" "keys: the version from kid"
run "$MSIG" keys azurekv:ec
is "$(printf '%s\n' "$out" | grep -c '^azurekv:')" 1 "keys azurekv:NAME: that key only"

# --- 6. TLS
a=$(fresh tls); sum=$(sha256sum <"$a")
run env SSL_CERT_FILE="$FK/other-ca.pem" MSIG_LOG_LEVEL=debug "$MSIG" sign --azure-key rsa "$a"
like "$err" "TLS with https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token failed" "wrong CA: TLS error"
unlike "$err" "attempt 2" "wrong CA: not retried"
run env KEY_VAULT_NAME=othervault MSIG_KMS_CONNECT_TO="$CT,othervault.vault.azure.net:443:127.0.0.1:$P_HTTPS" "$MSIG" sign --azure-key rsa "$a"
like "$err" "TLS with https://othervault.vault.azure.net/keys/rsa failed" "host-name mismatch: TLS error"
is "$(sha256sum <"$a")" "$sum" "TLS failures: unchanged"

# --- 7. retries
a=$(fresh retry); clearlog
faults '[{"match": "/sign?", "count": 2, "kind": "status", "status": 429, "retry_after": 1}]'
run "$MSIG" sign --azure-key ec "$a"
is "$rc" 0 "429 + Retry-After twice, then OK"
is "$(signs)" 3 "429: three sign requests"
a=$(fresh unavail); sum=$(sha256sum <"$a"); clearlog
faults '[{"match": "/sign?", "count": 10, "kind": "status", "status": 500}]'
run "$MSIG" sign --azure-key ec "$a"
like "$err" "answered HTTP 500 after 4 attempts" "500 until exhausted: unavailable"
is "$(sha256sum <"$a")" "$sum" "500: unchanged"
clearlog
faults '[{"match": "/sign?", "count": 10, "kind": "status", "status": 404}]'
run "$MSIG" sign --azure-key ec "$a"
is "$(signs)" 1 "404: not retried"
nofaults

# --- 8. integrity: a wrong signature is caught by the self-check
faults '[{"match": "/sign?", "count": 1, "kind": "badsig"}]'
run "$MSIG" sign --azure-key ec "$a"
like "$err" "does not verify" "wrong signature: refused by the self-check"
faults '[{"match": "/sign?", "count": 1, "kind": "badjson"}]'
run "$MSIG" sign --azure-key ec "$a"
like "$err" "not a JSON object" "malformed JSON refused"
is "$(sha256sum <"$a")" "$sum" "integrity failures: unchanged"
nofaults

# --- 9. secrets
all=$TMPD/all.txt; : >"$all"
MSIG_LOG_LEVEL=debug "$MSIG" sign -f --azure-key rsa "$W/rsa.mender" >>"$all" 2>&1
MSIG_LOG_LEVEL=debug "$MSIG" validate --azure-key ec "$W/ec.mender" >>"$all" 2>&1
env AZURE_CLIENT_SECRET=wrong MSIG_LOG_LEVEL=debug "$MSIG" sign --azure-key rsa "$a" >>"$all" 2>&1
like "$(cat "$all")" "debug: kms: POST https://login.microsoftonline.com" "debug output was produced"
! grep -qF "$SECRET" "$all"; ok $? "the client secret appears in no output"
leak=0
while read -r t; do grep -qF "$t" "$all" && leak=1; done <"$FK/issued-tokens"
is "$leak" 0 "no access token appears in any output"

done_testing
