#!/usr/bin/python3
"""fakekms.py DIR -- loopback fakes of HashiCorp Vault transit, Google OAuth + Cloud KMS (+ GCE
metadata), Microsoft Entra ID + Azure Key Vault and Keyfactor SignServer, for the msig KMS
plugin tests (kms.md section 5). Tests only; Debian's python3 and python3-cryptography.

At start it makes, in DIR: a per-run test CA (ca.pem), a server certificate for 127.0.0.1,
localhost and the production host names, an expired server certificate, a client CA and a
client certificate/key for SignServer mTLS, real signing keys (public halves exported as
pub-*.pem), a Google service-account file (gcp-sa.json), the Vault token (vault-token) and
the Azure client secret (azure-secret). It listens on 127.0.0.1 with kernel-chosen ports and
writes them to DIR/ready.json last.

Faults: DIR/faults.json, read on every request, is a list of
  {"match": "substring of METHOD PATH", "count": N, "kind": K, ...}
K: "status" (with "status" and optional "retry_after", "body"), "slow" ("seconds"),
"badjson", "big", "close", "badsig", "badcrc", "noverify", "wrongver", "expire" (drops every
issued token, then answers 401). Each use decrements count; the file is rewritten.
Every request is appended to DIR/requests.jsonl (method, path, header names, body);
secret header values are stored only as SHA-256 hashes."""

import base64, datetime, hashlib, http.server, json, os, secrets, socket, ssl, sys
import threading, time, urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

D = sys.argv[1]
LOCK = threading.Lock()
SECRET_HEADERS = ("authorization", "x-vault-token", "x-identity-header")

def b64(b): return base64.b64encode(b).decode()
def b64url(b): return base64.urlsafe_b64encode(b).decode().rstrip("=")
def unb64(s):
    s = s.replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)

def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF

def pem_pub(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()

def write(name, data, mode=0o600):
    p = os.path.join(D, name)
    with open(p, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)
    os.chmod(p, mode)
    return p

# ------------------------------------------------------------------ PKI

def name(cn): return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

def cert(subject_key, subject, issuer_key, issuer, sans=None, ca=False, days=(-1, 30)):
    now = datetime.datetime.utcnow()
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
         .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now + datetime.timedelta(days=days[0]))
         .not_valid_after(now + datetime.timedelta(days=days[1])))
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if sans:
        alt = [x509.IPAddress(__import__("ipaddress").ip_address(s)) if s[0].isdigit()
               else x509.DNSName(s) for s in sans]
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return b.sign(issuer_key, hashes.SHA256())

def cpem(c): return c.public_bytes(serialization.Encoding.PEM).decode()
def kpem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()

SANS = ["127.0.0.1", "localhost", "cloudkms.googleapis.com", "oauth2.googleapis.com",
        "login.microsoftonline.com", "testvault.vault.azure.net", "signserver.test",
        "vault.test"]
ca_key = ec.generate_private_key(ec.SECP256R1())
ca = cert(ca_key, "msig test CA", ca_key, "msig test CA", ca=True)
write("ca.pem", cpem(ca), 0o644)
other_key = ec.generate_private_key(ec.SECP256R1())
write("other-ca.pem", cpem(cert(other_key, "other CA", other_key, "other CA", ca=True)), 0o644)
srv_key = ec.generate_private_key(ec.SECP256R1())
write("server.pem", cpem(cert(srv_key, "fake kms", ca_key, "msig test CA", SANS)) + kpem(srv_key))
write("expired.pem", cpem(cert(srv_key, "fake kms", ca_key, "msig test CA", SANS,
                               days=(-30, -1))) + kpem(srv_key))
cli_ca_key = ec.generate_private_key(ec.SECP256R1())
cli_ca = cert(cli_ca_key, "client CA", cli_ca_key, "client CA", ca=True)
write("client-ca.pem", cpem(cli_ca), 0o644)
cli_key = ec.generate_private_key(ec.SECP256R1())
write("client.pem", cpem(cert(cli_key, "signer client", cli_ca_key, "client CA")))
write("client.key", kpem(cli_key))
bad_key = ec.generate_private_key(ec.SECP256R1())
write("badclient.pem", cpem(cert(bad_key, "stranger", bad_key, "stranger")) + kpem(bad_key))

# ------------------------------------------------------------------ keys and secrets

RSA1 = rsa.generate_private_key(65537, 2048)
RSA2 = rsa.generate_private_key(65537, 2048)
EC1 = ec.generate_private_key(ec.SECP256R1())
P384 = ec.generate_private_key(ec.SECP384R1())
write("pub-rsa.pem", pem_pub(RSA1), 0o644)
write("pub-rsa2.pem", pem_pub(RSA2), 0o644)
write("pub-ec.pem", pem_pub(EC1), 0o644)

VAULT_TOKEN = "hvs.fakevault" + secrets.token_hex(12)
write("vault-token", VAULT_TOKEN)
SA_KEY = rsa.generate_private_key(65537, 2048)
SA_EMAIL = "signer@msig-test.iam.gserviceaccount.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"
write("gcp-sa.json", json.dumps({
    "type": "service_account", "project_id": "msig-test", "private_key_id": "k1",
    "private_key": kpem(SA_KEY), "client_email": SA_EMAIL, "client_id": "1",
    "token_uri": TOKEN_URI}))
AZ_TENANT, AZ_CLIENT = "tenant-1", "client-1"
AZ_SECRET = "azsecret-" + secrets.token_hex(12)
write("azure-secret", AZ_SECRET)
AZ_IDENTITY_HEADER = "idh-" + secrets.token_hex(12)
write("identity-header", AZ_IDENTITY_HEADER)
GCP_REFRESH = "1//fakerefresh" + secrets.token_hex(12)
write("gcp-user.json", json.dumps({
    "type": "authorized_user", "client_id": "user-client.apps.googleusercontent.com",
    "client_secret": "gcpsecret-" + secrets.token_hex(8), "refresh_token": GCP_REFRESH}))

TOKENS = {}   # access token -> (service, expiry)

def issue(service, ttl=3600):
    t = "ya29.fake" + secrets.token_hex(16) if service == "gcp" else "eyJfake" + secrets.token_hex(16)
    TOKENS[t] = (service, time.time() + ttl)
    with LOCK, open(os.path.join(D, "issued-tokens"), "a") as f:   # for the tests' secret grep
        f.write(t + "\n")
    return t

VAULT_KEYS = {
    "rsa": ("rsa-2048", {1: RSA1, 2: RSA2}),
    "ec": ("ecdsa-p256", {1: EC1}),
    "p384": ("ecdsa-p384", {1: P384}),
    "aes": ("aes256-gcm96", {1: None}),
}
GCP_KEYS = {"rsa": ("RSA_SIGN_PKCS1_2048_SHA256", RSA1), "ec": ("EC_SIGN_P256_SHA256", EC1),
            "pss": ("RSA_SIGN_PSS_2048_SHA256", RSA1), "p384": ("EC_SIGN_P384_SHA384", P384)}
AZ_KEYS = {"rsa": ("RSA", RSA1, True), "ec": ("EC-HSM", EC1, True), "p384": ("EC", P384, True),
           "oct": ("oct-HSM", None, True), "disabled": ("RSA", RSA1, False)}
SS_WORKERS = {"rsa": RSA1, "ec": EC1, "nohash": RSA1}
ss_cert = {}
for w, k in SS_WORKERS.items():
    ss_cert[w] = cert(k, "signer " + w, ca_key, "msig test CA").public_bytes(
        serialization.Encoding.DER)

# ------------------------------------------------------------------ faults and log

def take_fault(line):
    p = os.path.join(D, "faults.json")
    with LOCK:
        try:
            with open(p) as f:
                faults = json.load(f)
        except (OSError, ValueError):
            return None
        for flt in faults:
            if flt.get("count", 0) > 0 and flt.get("match", "") in line:
                flt["count"] -= 1
                with open(p + ".tmp", "w") as f:
                    json.dump(faults, f)
                os.replace(p + ".tmp", p)
                return flt
    return None

def record(h, body):
    hdrs = {}
    for k, v in h.headers.items():
        hdrs[k.lower()] = ("sha256:" + hashlib.sha256(v.encode()).hexdigest()
                           if k.lower() in SECRET_HEADERS else v)
    entry = {"port": h.server.server_port, "client_port": h.client_address[1],
             "method": h.command, "path": h.path,
             "headers": hdrs, "body": body.decode("latin-1")}
    with LOCK, open(os.path.join(D, "requests.jsonl"), "a") as f:
        f.write(json.dumps(entry) + "\n")

class Reply(Exception):
    def __init__(self, status, obj, headers=None):
        self.status, self.obj, self.headers = status, obj, headers or {}

def sign_digest(key, digest, der=True):
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    s = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    if der:
        return s
    r, s2 = utils.decode_dss_signature(s)
    return r.to_bytes(32, "big") + s2.to_bytes(32, "big")

# ------------------------------------------------------------------ services

def vault(h, path, body):
    tok = h.headers.get("X-Vault-Token")
    if tok != VAULT_TOKEN:
        raise Reply(403, {"errors": ["permission denied"]})
    parts = path.split("/")          # '', 'v1', mount, op, name, [hash]
    if (len(parts) == 4 and parts[2] == "transit" and parts[3] == "keys"
            and (h.command == "LIST" or "list=true" in h.path)):
        raise Reply(200, {"data": {"keys": sorted(VAULT_KEYS)}})
    if len(parts) < 5 or parts[2] != "transit" or parts[4] not in VAULT_KEYS:
        raise Reply(404, {"errors": []})
    kname = parts[4]
    ktype, versions = VAULT_KEYS[kname]
    if h.command == "GET" and parts[3] == "keys":
        keys = {}
        for v, k in versions.items():
            keys[str(v)] = ({"creation_time": "2024-01-01T00:00:00Z", "name": ktype,
                             "public_key": pem_pub(k)} if k else 1704067200)
        raise Reply(200, {"data": {"type": ktype, "latest_version": max(versions),
                                   "min_decryption_version": 1,
                                   "supports_signing": ktype != "aes256-gcm96",
                                   "name": kname, "keys": keys}})
    if h.command == "POST" and parts[3] == "sign":
        req = json.loads(body)
        hash_alg = parts[5] if len(parts) > 5 else req.get("hash_algorithm", "sha2-256")
        ver = req.get("key_version", max(versions))
        if ver not in versions or ktype == "aes256-gcm96":
            raise Reply(400, {"errors": ["invalid key version or key type"]})
        key = versions[ver]
        data = base64.b64decode(req["input"])
        if not req.get("prehashed", False):     # Vault's default: the input is hashed
            data = hashlib.sha256(data).digest()
        if hash_alg != "sha2-256" or len(data) != 32:
            raise Reply(400, {"errors": ["bad hash or input"]})
        if isinstance(key, rsa.RSAPrivateKey):
            if req.get("signature_algorithm", "pss") == "pkcs1v15":
                sig = key.sign(data, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
            else:                               # Vault's default
                sig = key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()),
                                                 padding.PSS.MAX_LENGTH),
                               utils.Prehashed(hashes.SHA256()))
            enc = b64(sig)
        elif req.get("marshaling_algorithm", "asn1") == "jws":
            enc = b64url(sign_digest(key, data, der=False))
        else:
            enc = b64(sign_digest(key, data))
        if h.fault and h.fault["kind"] == "wrongver":
            ver += 1
        if h.fault and h.fault["kind"] == "badsig":
            enc = b64url(os.urandom(64)) if not isinstance(key, rsa.RSAPrivateKey) else b64(os.urandom(256))
        raise Reply(200, {"data": {"signature": "vault:v%d:%s" % (ver, enc), "key_version": ver}})
    raise Reply(405, {"errors": ["unsupported operation"]})

def check_bearer(h, service, challenge=None):
    auth = h.headers.get("Authorization", "")
    t = TOKENS.get(auth[7:]) if auth.startswith("Bearer ") else None
    if t is None or t[0] != service or t[1] < time.time():
        hdr = {"WWW-Authenticate": challenge} if challenge else {}
        if service == "gcp":
            raise Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                        "message": "Request had invalid authentication "
                                                   "credentials."}}, hdr)
        raise Reply(401, {"error": {"code": "Unauthorized", "message": "AKV10000: Request is "
                                    "missing a Bearer or PoP token."}}, hdr)

def google_token(h, body):
    form = urllib.parse.parse_qs(body.decode())
    grant = form.get("grant_type", [""])[0]
    if grant == "refresh_token":
        user = json.load(open(os.path.join(D, "gcp-user.json")))
        if (form.get("refresh_token") != [GCP_REFRESH] or form.get("client_id") != [user["client_id"]]
                or form.get("client_secret") != [user["client_secret"]]):
            raise Reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        raise Reply(200, {"access_token": issue("gcp"), "expires_in": 3599, "token_type": "Bearer",
                          "scope": "https://www.googleapis.com/auth/cloud-platform"})
    if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        raise Reply(400, {"error": "unsupported_grant_type", "error_description": grant})
    try:
        hdr_b, claims_b, sig_b = form["assertion"][0].split(".")
        hdr, claims = json.loads(unb64(hdr_b)), json.loads(unb64(claims_b))
        SA_KEY.public_key().verify(unb64(sig_b), (hdr_b + "." + claims_b).encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    now = time.time()
    # aud must name the endpoint that was called, as Google checks it.
    aud = "https://%s/token" % h.headers.get("Host", "").replace(":443", "")
    if (hdr.get("alg") != "RS256" or claims.get("iss") != SA_EMAIL or claims.get("aud") != aud
            or "cloudkms" not in claims.get("scope", "") and "cloud-platform" not in claims.get("scope", "")
            or not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0))
            or claims["exp"] - claims["iat"] > 3600):
        raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT claims."})
    raise Reply(200, {"access_token": issue("gcp"), "expires_in": 3599, "token_type": "Bearer"})

def gcp_kms(h, path, body):
    check_bearer(h, "gcp")
    rest = path[len("/v1/"):]
    if rest.endswith("/publicKey") and h.command == "GET":
        name, op = rest[:-len("/publicKey")], "pub"
    elif rest.endswith(":asymmetricSign") and h.command == "POST":
        name, op = rest[:-len(":asymmetricSign")], "sign"
    else:
        raise Reply(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "no method"}})
    seg = name.split("/")
    if (len(seg) != 10 or seg[0] != "projects" or seg[6] != "cryptoKeys" or seg[7] not in GCP_KEYS
            or seg[9] != "1"):
        raise Reply(404, {"error": {"code": 404, "status": "NOT_FOUND",
                                    "message": "CryptoKeyVersion %s not found." % name}})
    alg, key = GCP_KEYS[seg[7]]
    if op == "pub":
        pem = pem_pub(key)
        raise Reply(200, {"pem": pem, "algorithm": alg, "pemCrc32c": str(crc32c(pem.encode())),
                          "name": name, "protectionLevel": "HSM"})
    req = json.loads(body)
    digest = base64.b64decode(req["digest"]["sha256"])
    if len(digest) != 32:
        raise Reply(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                    "message": "digest length"}})
    verified = "digestCrc32c" in req
    if verified and int(req["digestCrc32c"]) != crc32c(digest):
        raise Reply(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                    "message": "The checksum in field digest_crc32c did not match"}})
    sig = sign_digest(key, digest)
    crc = crc32c(sig)
    if h.fault and h.fault["kind"] == "badcrc":
        crc ^= 1
    if h.fault and h.fault["kind"] == "noverify":
        verified = False
    raise Reply(200, {"signature": b64(sig), "signatureCrc32c": str(crc),
                      "verifiedDigestCrc32c": verified, "name": name, "protectionLevel": "HSM"})

def azure_token(h, path, body):
    form = urllib.parse.parse_qs(body.decode())
    tenant = path.split("/")[1]
    if (tenant != AZ_TENANT or form.get("grant_type") != ["client_credentials"]
            or form.get("client_id") != [AZ_CLIENT] or form.get("client_secret") != [AZ_SECRET]):
        raise Reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215: "
                          "Invalid client secret provided.", "error_codes": [7000215]})
    if form.get("scope") != ["https://vault.azure.net/.default"]:
        raise Reply(400, {"error": "invalid_scope", "error_description": "AADSTS70011: bad scope"})
    raise Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                      "access_token": issue("azure")})

def azure_kv(h, path, body, query):
    check_bearer(h, "azure", 'Bearer authorization="https://login.microsoftonline.com/%s", '
                 'resource="https://vault.azure.net"' % AZ_TENANT)
    if "api-version" not in query:
        raise Reply(400, {"error": {"code": "BadParameter", "message": "api-version missing"}})
    seg = path.split("/")[2:]        # name, [version], [sign]
    if path in ("/keys", "/keys/") and h.command == "GET":
        raise Reply(200, {"value": [{"kid": "https://testvault.vault.azure.net/keys/" + n,
                                     "attributes": {"enabled": AZ_KEYS[n][2]}}
                                    for n in sorted(AZ_KEYS)], "nextLink": None})
    if not seg or seg[0] not in AZ_KEYS:
        raise Reply(404, {"error": {"code": "KeyNotFound", "message": "A key with (name/id) %s "
                                    "was not found in this key vault." % (seg[0] if seg else "")}})
    kty, key, enabled = AZ_KEYS[seg[0]]
    version = "0123456789abcdef0123456789abcdef"
    kid = "https://testvault.vault.azure.net/keys/%s/%s" % (seg[0], version)
    if len(seg) > 1 and seg[1] != version:
        raise Reply(404, {"error": {"code": "KeyNotFound", "message": "version not found"}})
    if h.command == "GET" and len(seg) <= 2:
        jwk = {"kid": kid, "kty": kty, "key_ops": ["sign", "verify"]}
        if key is None:
            jwk["key_ops"] = ["encrypt", "decrypt"]
        elif isinstance(key, rsa.RSAPrivateKey):
            n = key.public_key().public_numbers()
            jwk.update(n=b64url(n.n.to_bytes(256, "big")), e=b64url(n.e.to_bytes(3, "big")))
        else:
            n = key.public_key().public_numbers()
            size = (key.curve.key_size + 7) // 8
            jwk.update(crv="P-256" if size == 32 else "P-384",
                       x=b64url(n.x.to_bytes(size, "big")), y=b64url(n.y.to_bytes(size, "big")))
        raise Reply(200, {"key": jwk, "attributes": {"enabled": enabled}})
    if h.command == "POST" and len(seg) == 3 and seg[2] == "sign":
        req = json.loads(body)
        value = unb64(req["value"])
        want = "RS256" if kty.startswith("RSA") else "ES256"
        if len(value) != 32 or req.get("alg") != want:
            raise Reply(400, {"error": {"code": "BadParameter", "message": "bad alg or value"}})
        sig = sign_digest(key, value, der=False)
        if h.fault and h.fault["kind"] == "badsig":
            sig = os.urandom(len(sig))
        raise Reply(200, {"kid": kid, "value": b64url(sig)})
    raise Reply(405, {"error": {"code": "MethodNotAllowed", "message": "no"}})

def signserver(h, path, body):
    seg = path.split("/")     # '', signserver, rest, v1, workers, W, process
    if len(seg) != 7 or seg[1:5] != ["signserver", "rest", "v1", "workers"] or seg[6] != "process":
        raise Reply(404, {"error": "Not found"})
    if h.headers.get("X-Keyfactor-Requested-With") is None:
        raise Reply(403, {"error": "The X-Keyfactor-Requested-With header is required"})
    w = urllib.parse.unquote(seg[5])
    if w not in SS_WORKERS:
        raise Reply(404, {"error": "No such worker: %s" % w})
    req = json.loads(body)
    md = req.get("metaData", {})
    if w == "nohash" or md.get("USING_CLIENTSUPPLIED_HASH") != "true":
        raise Reply(400, {"error": "Client-side hashing is not enabled for this worker"})
    if md.get("CLIENTSIDE_HASHDIGESTALGORITHM") != "SHA-256" or req.get("encoding") != "BASE64":
        raise Reply(400, {"error": "Hash algorithm not accepted"})
    digest = base64.b64decode(req["data"])
    if len(digest) != 32:
        raise Reply(400, {"error": "Wrong digest length"})
    sig = sign_digest(SS_WORKERS[w], digest)
    raise Reply(200, {"data": b64(sig), "signerCertificate": b64(ss_cert[w]),
                      "requestId": "1", "archiveId": "a1", "metaData": {}})

def azure_identity(h, path, query):
    if path == "/msi/token":                         # App Service IDENTITY_ENDPOINT
        ok = (h.headers.get("X-IDENTITY-HEADER") == AZ_IDENTITY_HEADER
              and query.get("api-version") == ["2019-08-01"])
    else:                                            # IMDS
        ok = h.headers.get("Metadata") == "true" and query.get("api-version") == ["2018-02-01"]
    if not ok or query.get("resource") != ["https://vault.azure.net"]:
        raise Reply(400, {"error": "invalid_request", "error_description": "Required metadata "
                          "header not specified or wrong parameters"})
    now = int(time.time())
    raise Reply(200, {"access_token": issue("azure"), "expires_in": "3599",
                      "expires_on": str(now + 3599), "resource": "https://vault.azure.net",
                      "token_type": "Bearer"})

def metadata(h, path):
    u = urllib.parse.urlsplit(h.path)
    if path in ("/metadata/identity/oauth2/token", "/msi/token"):
        return azure_identity(h, path, urllib.parse.parse_qs(u.query))
    if h.headers.get("Metadata-Flavor") != "Google":
        raise Reply(403, {"error": "Missing Metadata-Flavor:Google header"})
    if path == "/computeMetadata/v1/instance/service-accounts/default/token":
        raise Reply(200, {"access_token": issue("gcp"), "expires_in": 3599, "token_type": "Bearer"})
    raise Reply(404, {"error": "not found"})

# ------------------------------------------------------------------ HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        # The handshake runs here, per connection. When it fails (a client certificate the
        # server refuses), OpenSSL has queued its alert: half-close and drain what the client
        # sends, so that it reads the alert instead of a connection reset, as from a real server.
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                try:
                    self.request.shutdown(socket.SHUT_WR)
                    self.request.settimeout(2)
                    while self.request.recv(4096):
                        pass
                except OSError:
                    pass
                raise
        super().setup()

    def log_message(self, fmt, *args):
        pass

    def route(self, body):
        u = urllib.parse.urlsplit(self.path)
        path, query = u.path, urllib.parse.parse_qs(u.query)
        host = self.headers.get("Host", "").split(":")[0]
        if self.server.kind == "metadata":
            return metadata(self, path)
        if self.server.kind == "signserver":    # the mTLS port: SignServer, and Vault with TLS
            if path.startswith("/v1/"):           # client authentication
                return vault(self, path, body)
            return signserver(self, path, body)
        if path == "/token":
            return google_token(self, body)
        if path.endswith("/oauth2/v2.0/token"):
            return azure_token(self, path, body)
        if path.startswith("/v1/projects/"):
            return gcp_kms(self, path, body)
        if path.startswith("/v1/"):
            return vault(self, path, body)
        if path.startswith("/keys") or host.endswith("vault.azure.net"):
            return azure_kv(self, path, body, query)
        raise Reply(404, {"error": "unknown path"})

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        record(self, body)
        self.fault = take_fault(self.command + " " + self.path)
        f = self.fault or {}
        kind = f.get("kind")
        if kind == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "slow":
            time.sleep(f.get("seconds", 5))
        if kind == "expire":
            TOKENS.clear()
        if kind == "status":
            hdr = {"Retry-After": str(f["retry_after"])} if "retry_after" in f else {}
            return self.send(f["status"], f.get("body", {"errors": ["injected fault"],
                             "error": {"code": f["status"], "message": "injected fault"}}), hdr)
        try:
            self.route(body)
            raise Reply(500, {"error": "no reply"})
        except Reply as r:
            if kind == "badjson":
                return self.send_raw(r.status, b'{"data": {"signature": ', r.headers)
            if kind == "big":
                return self.send_raw(200, b'{"pad": "' + b"x" * (3 << 20) + b'"}', {})
            self.send(r.status, r.obj, r.headers)

    def send(self, status, obj, headers):
        self.send_raw(status, json.dumps(obj).encode(), headers)

    def send_raw(self, status, data, headers):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            pass

    def do_GET(self):
        self.handle_one()

    def do_POST(self):
        self.handle_one()

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ctx = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ctx is not None:
            sock = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass

def serve(kind, certfile=None, client_ca=None):
    s = Server(("127.0.0.1", 0), Handler)
    s.kind = kind
    if certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(D, certfile))
        ctx.set_alpn_protocols(["http/1.1"])
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(os.path.join(D, client_ca))
        s.ctx = ctx
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s.server_port

ports = {"https": serve("https", "server.pem"), "expired": serve("https", "expired.pem"),
         "signserver": serve("signserver", "server.pem", "client-ca.pem"),
         "metadata": serve("metadata")}
ports["pid"] = os.getpid()
with open(os.path.join(D, "ready.json.tmp"), "w") as f:
    json.dump(ports, f)
os.replace(os.path.join(D, "ready.json.tmp"), os.path.join(D, "ready.json"))
while True:
    time.sleep(3600)
