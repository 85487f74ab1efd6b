#!/usr/bin/env bash
# tests/kms/vault.t -- --vault-transit-key against the fake Vault (fakekms.py): kms.md 5.3
# cases 1-9 for Vault, key versions, namespace, and python3-hvac answered by the fake.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/kmslib.sh"

TOKEN=$(cat "$FK/vault-token")
venv() {
  export VAULT_ADDR=https://127.0.0.1:$P_HTTPS VAULT_TOKEN=$TOKEN VAULT_MOUNT_PATH=transit
  export VAULT_CACERT=$FK/ca.pem
  unset VAULT_KEY_VERSION VAULT_NAMESPACE
}
venv
digest_b64() { tar -xOf "$1" manifest | openssl dgst -sha256 -binary | base64 -w0; }
# body FIELD: a field of the last sign request's JSON body
body() {
  "$PY" - "$FK/requests.jsonl" "$1" <<'EOF'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if '"POST"' in l and "/sign/" in l]
b = json.loads(rs[-1]["body"])
print(json.dumps(b.get(sys.argv[2])) if sys.argv[2] in b else "absent")
EOF
}
signs() { requests 'r["method"] == "POST" and "/sign/" in r["path"]'; }

# --- 1. happy path, RSA and ECDSA, checked by mender-artifact with the exported keys
for kt in rsa ec; do
  a=$(fresh "$kt"); clearlog
  run "$MSIG" sign --vault-transit-key "$kt" "$a"
  is "$rc" 0 "$kt: sign exits 0"; [ "$rc" = 0 ] || diag "$err"
  verify_indep "$a" "$FK/pub-$kt.pem"; ok $? "$kt: mender-artifact validate -k accepts it"
  sig=$(sig_of "$a")
  unlike "$sig" $'\n' "$kt: manifest.sig has no newline"
  is "$(printf %s "$sig" | base64 -d | wc -c)" "$([ $kt = rsa ] && echo 256 || echo 64)" \
     "$kt: signature length (ECDSA as 64-byte r||s)"
  [ "$kt" = rsa ] && is "${#sig}" 344 "rsa: padded base64 of 256 bytes"
  [ "$kt" = ec ] && is "${#sig}" 88 "ec: padded base64 of 64 bytes"
  # --- 2. request shape: only the digest, every field Vault would otherwise default
  is "$(body input)" "\"$(digest_b64 "$a")\"" "$kt: input is the manifest's SHA-256"
  is "$(body prehashed)" true "$kt: prehashed=true"
  is "$(body key_version)" 1 "$kt: key_version=1 (mender-artifact's default)"
  is "$(requests '"/sign/'$kt'/sha2-256" in r["path"]')" 1 "$kt: hash algorithm in the path"
  is "$(requests '"x-vault-request" in r["headers"]')" 2 "$kt: X-Vault-Request on both requests"
done
is "$(body signature_algorithm)" absent "ec: no signature_algorithm"
is "$(body marshaling_algorithm)" '"jws"' "ec: marshaling_algorithm=jws"
a=$(fresh rsa2); "$MSIG" sign --vault-transit-key rsa "$a" 2>/dev/null
is "$(body signature_algorithm)" '"pkcs1v15"' "rsa: signature_algorithm=pkcs1v15"
is "$(body marshaling_algorithm)" absent "rsa: no marshaling_algorithm"
is "$(requests 'len(r["body"]) > 400')" 0 "no request carries more than a digest"

# --- 3. verification through the service, and offline with -k
signed=$W/rsa.mender; clearlog
run "$MSIG" validate --vault-transit-key rsa "$signed"
is "$rc" 0 "validate --vault-transit-key: exit 0"; [ "$rc" = 0 ] || diag "$err"
is "$(signs)" 0 "validate: no sign request"
run "$MSIG" read --vault-transit-key rsa "$signed"
is "$rc" 0 "read --vault-transit-key: exit 0"
run "$MSIG" validate --vault-transit-key ec "$signed"
is "$rc" 4 "validate with another key: invalid (exit 4)"
clearlog
run "$MSIG" validate -k "$FK/pub-rsa.pem" "$signed"
is "$rc" 0 "validate -k PUB.pem: exit 0"
is "$(requests True)" 0 "validate -k PUB.pem contacts no service"

# --- the three write commands sign through the service too
mkdata "$TMPD/rootfs.img" 100000
mkdata "$TMPD/app.bin" 5000 app
run "$MSIG" write rootfs-image -f "$TMPD/rootfs.img" -n kms-rootfs -t dev1 -o "$W/w-rootfs.mender" --vault-transit-key ec
is "$rc" 0 "write rootfs-image --vault-transit-key: exit 0"; [ "$rc" = 0 ] || diag "$err"
verify_indep "$W/w-rootfs.mender" "$FK/pub-ec.pem"; ok $? "write rootfs-image: mender-artifact validates it"
run "$MSIG" write module-image -T my-mod -f "$TMPD/app.bin" -n kms-mod -c dev1 -o "$W/w-module.mender" --vault-transit-key rsa
is "$rc" 0 "write module-image --vault-transit-key: exit 0"
verify_indep "$W/w-module.mender" "$FK/pub-rsa.pem"; ok $? "write module-image: mender-artifact validates it"
run "$MSIG" write bootstrap-artifact -n kms-boot -t dev1 -o "$W/w-boot.mender" --vault-transit-key rsa
is "$rc" 0 "write bootstrap-artifact --vault-transit-key: exit 0"
verify_indep "$W/w-boot.mender" "$FK/pub-rsa.pem"; ok $? "write bootstrap-artifact: mender-artifact validates it"
run "$MSIG" write bootstrap-artifact -n kms-boot -t dev1 -o "$W/w-refused.mender" --vault-transit-key p384
is "$rc" 1 "write with a refused key: exit 1"
ok "$([ ! -e "$W/w-refused.mender" ]; echo $?)" "write with a refused key: nothing written"

# --- 4. unsupported keys refused before any sign request, naming key and type
for kt in p384:ecdsa-p384 aes:aes256-gcm96; do
  a=$(fresh "${kt%%:*}"); sum=$(sha256sum <"$a"); clearlog
  run "$MSIG" sign --vault-transit-key "${kt%%:*}" "$a"
  is "$rc" 1 "${kt%%:*}: refused"
  like "$err" "Vault key ${kt%%:*} has type ${kt#*:}" "${kt%%:*}: names the key and its type"
  is "$(signs)" 0 "${kt%%:*}: no sign request was made"
  is "$(sha256sum <"$a")" "$sum" "${kt%%:*}: artifact unchanged"
done

# --- 5. settings and authentication
a=$(fresh auth); sum=$(sha256sum <"$a")
for v in VAULT_TOKEN VAULT_MOUNT_PATH; do
  clearlog
  run env -u "$v" "$MSIG" sign --vault-transit-key rsa "$a"
  is "$rc" 1 "no $v: refused"
  like "$err" "$v is not set" "no $v: names the variable"
  is "$(requests True)" 0 "no $v: no network"
done
run env VAULT_TOKEN=hvs.wrong "$MSIG" sign --vault-transit-key rsa "$a"
is "$rc" 1 "bad token: refused"
like "$err" "HTTP 403: permission denied" "bad token: Vault's own error text"
is "$(sha256sum <"$a")" "$sum" "auth failures: artifact unchanged"
run "$MSIG" sign --vault-transit-key nosuch "$a"
like "$err" "Vault has no transit key nosuch under mount transit" "unknown key: not found"
clearlog
run env VAULT_ADDR="http://127.0.0.1:$P_HTTPS" "$MSIG" sign --vault-transit-key rsa "$a"
like "$err" "http://127.0.0.1:$P_HTTPS/v1/transit/keys/rsa is not an https:// URL (plain HTTP is refused)" "http:// VAULT_ADDR refused"
is "$(requests True)" 0 "http:// VAULT_ADDR: nothing sent"
run env VAULT_KEY_VERSION=x "$MSIG" sign --vault-transit-key rsa "$a"
like "$err" "VAULT_KEY_VERSION 'x' is not a version number" "bad VAULT_KEY_VERSION named"

# --- versions and namespace
a=$(fresh v2)
run env VAULT_KEY_VERSION=2 "$MSIG" sign --vault-transit-key rsa "$a"
is "$rc" 0 "VAULT_KEY_VERSION=2: signed"
verify_indep "$a" "$FK/pub-rsa2.pem"; ok $? "VAULT_KEY_VERSION=2: signed with version 2's key"
is "$(body key_version)" 2 "VAULT_KEY_VERSION=2: key_version=2 sent"
a=$(fresh latest)
run env VAULT_KEY_VERSION=latest "$MSIG" sign --vault-transit-key rsa "$a"
verify_indep "$a" "$FK/pub-rsa2.pem"; ok $? "VAULT_KEY_VERSION=latest: the latest version (2)"
run env VAULT_KEY_VERSION=3 "$MSIG" sign --vault-transit-key rsa "$W/v2.mender" -f
like "$err" "Vault key rsa has no version 3" "missing version: not found"
clearlog
run env VAULT_NAMESPACE=team-a "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$(requests 'r["headers"].get("x-vault-namespace") == "team-a"')" 1 "VAULT_NAMESPACE sent as X-Vault-Namespace"

# --- VAULT_AGENT_ADDR, and Vault behind TLS client authentication
run env VAULT_ADDR=https://127.0.0.1:1 VAULT_AGENT_ADDR="https://127.0.0.1:$P_HTTPS" "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$rc" 0 "VAULT_AGENT_ADDR takes precedence over VAULT_ADDR"
run env VAULT_ADDR="https://127.0.0.1:$P_SS" VAULT_CLIENT_CERT="$FK/client.pem" VAULT_CLIENT_KEY="$FK/client.key" \
    "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$rc" 0 "VAULT_CLIENT_CERT/VAULT_CLIENT_KEY: mutual TLS"; [ "$rc" = 0 ] || diag "$err"
run env VAULT_ADDR="https://127.0.0.1:$P_SS" VAULT_CLIENT_CERT="$FK/client.pem" "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
like "$err" "VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together (only VAULT_CLIENT_CERT is set)" "client cert without key refused"
run env VAULT_ADDR="https://127.0.0.1:$P_SS" "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$rc" 1 "mTLS Vault without a client certificate: refused"

# --- 6. TLS: wrong CA, host-name mismatch, expired certificate: no retry
a=$(fresh tls); sum=$(sha256sum <"$a")
clearlog
run env VAULT_CACERT="$FK/other-ca.pem" MSIG_LOG_LEVEL=debug "$MSIG" sign --vault-transit-key rsa "$a"
is "$rc" 1 "wrong CA: refused"
like "$err" "TLS with https://127.0.0.1:$P_HTTPS/v1/transit/keys/rsa failed" "wrong CA: TLS error names the URL"
unlike "$err" "attempt 2" "wrong CA: not retried"
run env VAULT_ADDR="https://wrong.test:$P_HTTPS" MSIG_KMS_CONNECT_TO="wrong.test:$P_HTTPS:127.0.0.1:$P_HTTPS" "$MSIG" sign --vault-transit-key rsa "$a"
like "$err" "TLS with https://wrong.test:$P_HTTPS" "host-name mismatch: TLS error"
like "$err" "wrong.test" "host-name mismatch: names the host"
run env VAULT_ADDR="https://vault.test:$P_HTTPS" MSIG_KMS_CONNECT_TO="vault.test:$P_HTTPS:127.0.0.1:$P_HTTPS" "$MSIG" sign --vault-transit-key rsa "$W/v2.mender" -f
is "$rc" 0 "MSIG_KMS_CONNECT_TO: production name checked, loopback reached"
run env VAULT_ADDR="https://127.0.0.1:$P_EXPIRED" MSIG_LOG_LEVEL=debug "$MSIG" sign --vault-transit-key rsa "$a"
like "$err" "expired" "expired server certificate: TLS error says expired"
unlike "$err" "attempt 2" "expired: not retried"
run env VAULT_CACERT= SSL_CERT_FILE="$FK/ca.pem" "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$rc" 0 "SSL_CERT_FILE adds the trust anchor"
mkdir -p "$TMPD/cadir"; cp "$FK/ca.pem" "$TMPD/cadir/"; openssl rehash "$TMPD/cadir" 2>/dev/null
run env VAULT_CACERT= VAULT_CAPATH="$TMPD/cadir" "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$rc" 0 "VAULT_CAPATH (hashed directory) adds the trust anchor"; [ "$rc" = 0 ] || diag "$err"
run env VAULT_CACERT= SSL_CERT_DIR="$TMPD/cadir" "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$rc" 0 "SSL_CERT_DIR adds the trust anchor"
run env VAULT_CACERT= "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
like "$err" "TLS with" "without any of them the test CA is unknown"
is "$(sha256sum <"$a")" "$sum" "TLS failures: artifact unchanged"

# --- 7. retries
a=$(fresh retry); clearlog
faults '[{"match": "POST /v1/transit/sign", "count": 2, "kind": "status", "status": 429, "retry_after": 1}]'
run env MSIG_LOG_LEVEL=debug "$MSIG" sign --vault-transit-key rsa "$a"
is "$rc" 0 "429 + Retry-After twice, then OK"
is "$(signs)" 3 "429: three sign requests"
like "$err" "retrying in 1000 ms" "429: waited Retry-After"
a=$(fresh unavail); sum=$(sha256sum <"$a"); clearlog
faults '[{"match": "GET /v1/transit/keys", "count": 10, "kind": "status", "status": 503}]'
run "$MSIG" sign --vault-transit-key rsa "$a"
is "$rc" 1 "503 until exhausted: refused"
like "$err" "answered HTTP 503 after 3 attempts" "503: service unavailable after 3 tries (VAULT_MAX_RETRIES 2)"
is "$(requests True)" 3 "503: three requests"
is "$(sha256sum <"$a")" "$sum" "503: artifact unchanged"
clearlog
faults '[{"match": "GET /v1/transit/keys", "count": 10, "kind": "status", "status": 503, "retry_after": 2}]'
run env MSIG_LOG_LEVEL=debug "$MSIG" --plugin-param kms.deadline-ms=3000 sign --vault-transit-key rsa "$a"
like "$err" "no retry, the 3000 ms deadline would pass" "kms.deadline-ms bounds the retries"
is "$(requests True)" 2 "deadline: one retry fitted, the next did not"
for st in 400 403 404; do
  clearlog
  faults '[{"match": "GET /v1/transit/keys", "count": 5, "kind": "status", "status": '$st'}]'
  run "$MSIG" sign --vault-transit-key rsa "$a"
  is "$(requests True)" 1 "$st: not retried"
  case $st in 404) like "$err" "no transit key rsa" "$st: says not found" ;;
    *) like "$err" "HTTP $st" "$st: status in the message" ;; esac
done
clearlog
faults '[{"match": "GET /v1/transit/keys", "count": 5, "kind": "slow", "seconds": 3}]'
run "$MSIG" --plugin-param kms.timeout-ms=500 --plugin-param kms.max-retries=1 sign --vault-transit-key rsa "$a"
is "$rc" 1 "slow reply: timed out"
like "$err" "unreachable after 2 attempts" "timeout: retried within kms.max-retries"
like "$err" "timed out" "timeout: says so"
nofaults; clearlog
faults '[{"match": "GET /v1/transit/keys", "count": 1, "kind": "close"}]'
run "$MSIG" sign --vault-transit-key rsa "$W/latest.mender" -f
is "$rc" 0 "connection closed once: retried and signed"

# --- 8. integrity
a=$(fresh integ); sum=$(sha256sum <"$a")
faults '[{"match": "POST /v1/transit/sign", "count": 1, "kind": "wrongver"}]'
run "$MSIG" sign --vault-transit-key rsa "$a"
like "$err" "Vault signed with another key version (signature prefix 'vault:v2:', expected 'vault:v1:')" "version prefix mismatch refused"
faults '[{"match": "POST /v1/transit/sign", "count": 1, "kind": "badsig"}]'
run "$MSIG" sign --vault-transit-key rsa "$a"
is "$rc" 1 "wrong signature: refused"
like "$err" "does not verify" "wrong signature: the self-check catches it"
faults '[{"match": "POST /v1/transit/sign", "count": 1, "kind": "badjson"}]'
run "$MSIG" sign --vault-transit-key rsa "$a"
like "$err" "not a JSON object" "malformed JSON refused"
faults '[{"match": "GET /v1/transit/keys", "count": 1, "kind": "big"}]'
run "$MSIG" sign --vault-transit-key rsa "$a"
like "$err" "larger than 1048576 bytes" "oversized reply refused"
is "$(sha256sum <"$a")" "$sum" "integrity failures: artifact unchanged"
is "$(ls "$W" | grep -c -v '\.mender$')" 0 "no temporary files left"
nofaults

# --- msig keys vault: lists the mount's keys with their types
run "$MSIG" keys vault:
is "$rc" 0 "msig keys vault: exit 0"; [ "$rc" = 0 ] || diag "$err"
like "$out" "vault:rsa" "keys: lists rsa"
like "$out" "type: RSA, 2048 bits" "keys: RSA type and size"
like "$out" "type: EC P-256, 256 bits" "keys: EC type"
like "$out" "Vault type aes256-gcm96, mount transit, latest version 1 (cannot sign Mender artifacts)" "keys: a key that cannot sign is marked"
run "$MSIG" keys vault:ec
is "$(printf '%s\n' "$out" | grep -c '^vault:')" 1 "keys vault:NAME: that key only"
run env -u VAULT_TOKEN "$MSIG" keys vault:
like "$err" "VAULT_TOKEN is not set" "keys without a token: named"
run "$MSIG" plugins
like "$out" "vault.token" "msig plugins lists the kms parameters"
run "$MSIG" --plugin-param vault.tokn=x keys vault:
is "$rc" 1 "a misspelt parameter is refused"

# --- 412 (Vault Enterprise eventual consistency) is retried
clearlog
faults '[{"match": "GET /v1/transit/keys/rsa", "count": 1, "kind": "status", "status": 412}]'
run "$MSIG" validate --vault-transit-key rsa "$W/rsa.mender"
is "$rc" 0 "412 once: retried, then OK"
is "$(requests True)" 2 "412: two requests"
nofaults

# --- 9. secrets never in any output at the highest log level
all=$TMPD/all.txt; : >"$all"
for args in "sign --vault-transit-key rsa $W/rsa.mender -f" "validate --vault-transit-key ec $W/ec.mender" \
            "read --vault-transit-key rsa $W/rsa.mender"; do
  # shellcheck disable=SC2086
  MSIG_LOG_LEVEL=debug "$MSIG" $args >>"$all" 2>&1
done
env VAULT_CACERT="$FK/other-ca.pem" MSIG_LOG_LEVEL=debug "$MSIG" sign --vault-transit-key rsa "$a" >>"$all" 2>&1
like "$(cat "$all")" "debug: kms: GET" "debug output was produced"
! grep -qF "$TOKEN" "$all"; ok $? "the Vault token appears in no output"
! grep -qF "$TOKEN" "$FK/requests.jsonl"; ok $? "the fake's log holds only the token's hash"

# --- the fake answers python3-hvac (so it speaks Vault's protocol)
if ! has_module hvac; then skip "python3-hvac is not installed" "python3-hvac against the fake"; else
run "$PY" - "$FK" "$P_HTTPS" "$TOKEN" <<'EOF'
import base64, hashlib, sys, hvac
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils
d, port, token = sys.argv[1:4]
c = hvac.Client(url="https://127.0.0.1:%s" % port, token=token, verify=d + "/ca.pem")
k = c.secrets.transit.read_key(name="rsa", mount_point="transit")["data"]
assert k["type"] == "rsa-2048", k["type"]
dg = hashlib.sha256(b"hello").digest()
r = c.secrets.transit.sign_data(name="rsa", hash_input=base64.b64encode(dg).decode(), key_version=1,
                                hash_algorithm="sha2-256", prehashed=True,
                                signature_algorithm="pkcs1v15", mount_point="transit")
sig = base64.b64decode(r["data"]["signature"].split(":")[2])
pub = serialization.load_pem_public_key(k["keys"]["1"]["public_key"].encode())
pub.verify(sig, dg, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
print("hvac ok")
EOF
is "$out" "hvac ok" "python3-hvac reads the key and signs through the fake"; [ "$rc" = 0 ] || diag "$err"

fi

done_testing
