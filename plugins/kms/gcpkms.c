/* gcpkms.c -- Google Cloud KMS asymmetric keys ("gcpkms:projects/.../cryptoKeyVersions/N";
 * kms.md section 2), over the REST v1 API. Credentials: a service-account or authorized-user
 * file (GOOGLE_APPLICATION_CREDENTIALS), else the GCE metadata server. CRC32C checksums go
 * both ways, as mender-artifact checks them. */
#include "kms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#define CRED_MAX (64 * 1024)
#define SCOPE "https://www.googleapis.com/auth/cloudkms"

struct gcp {
    char *cred; /* credentials file, or NULL for the metadata server */
    char *name; /* the CryptoKeyVersion resource */
    char *endpoint;
    char *identity; /* token cache key */
};

static void gcp_close(struct kms_key *k)
{
    struct gcp *g = k->svc_data;

    if (g == NULL)
        return;
    free(g->cred);
    free(g->name);
    free(g->endpoint);
    free(g->identity);
    free(g);
}

/* projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V, no empty part. */
static int valid_name(const char *s)
{
    static const char *const fixed[] = { "projects", "locations", "keyRings", "cryptoKeys",
                                         "cryptoKeyVersions" };
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(fixed[i]), m;

        if (strncmp(s, fixed[i], n) != 0 || s[n] != '/')
            return 0;
        s += n + 1;
        m = strcspn(s, "/?#% \t");
        if (m == 0)
            return 0;
        s += m;
        if (i < 4 && *s++ != '/')
            return 0;
    }
    return *s == '\0';
}

static int read_file(struct kms_key *k, const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    *out = NULL;
    if (f == NULL)
        return msigu_error(k->inst->host, MSIG_E_NOT_FOUND,
                           "cannot open the credentials file %s "
                           "(GOOGLE_APPLICATION_CREDENTIALS)",
                           path);
    buf = malloc(CRED_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return MSIG_E_NOMEM;
    }
    n = fread(buf, 1, CRED_MAX + 1, f);
    fclose(f);
    if (n > CRED_MAX) {
        explicit_bzero(buf, CRED_MAX + 1);
        free(buf);
        return msigu_error(k->inst->host, MSIG_E_INVALID,
                           "credentials file %s is larger than %d bytes", path, CRED_MAX);
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

/* header.claims.signature, RS256 with the service account's key (kms.md section 2.4). */
static int make_jwt(struct kms_key *k, const char *pem, const char *kid, const char *iss,
                    const char *aud, char **out)
{
    time_t now = time(NULL);
    json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT", "kid", kid ? kid : "");
    json_t *cl = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", iss, "scope", SCOPE, "aud", aud,
                           "iat", (json_int_t)now, "exp", (json_int_t)now + 3600);
    char *h = hdr ? json_dumps(hdr, JSON_COMPACT) : NULL;
    char *c = cl ? json_dumps(cl, JSON_COMPACT) : NULL;
    char *hb = NULL, *cb = NULL;
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *input = NULL, *sb = NULL;
    uint8_t sig[1024];
    size_t slen = sizeof(sig);
    int rc = MSIG_E_NOMEM;

    *out = NULL;
    if (h != NULL)
        msigu_b64url_encode(k->inst->host, (uint8_t *)h, strlen(h), &hb);
    if (c != NULL)
        msigu_b64url_encode(k->inst->host, (uint8_t *)c, strlen(c), &cb);
    if (!hb || !cb || !md || asprintf(&input, "%s.%s", hb, cb) < 0) {
        input = NULL;
        goto out;
    }
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, sig, &slen, (uint8_t *)input, strlen(input)) != 1) {
        rc = msigu_error(k->inst->host, MSIG_E_INVALID,
                         "the service account's private_key is not a "
                         "usable RSA key");
        goto out;
    }
    if (msigu_b64url_encode(k->inst->host, sig, slen, &sb) != 0 ||
        asprintf(out, "%s.%s", input, sb) < 0) {
        *out = NULL;
        goto out;
    }
    rc = 0;
out:
    json_decref(hdr);
    json_decref(cl);
    free(h);
    free(c);
    msigu_strfree(k->inst->host, hb);
    msigu_strfree(k->inst->host, cb);
    free(input);
    msigu_strfree(k->inst->host, sb);
    BIO_free(bio);
    EVP_PKEY_free(key);
    EVP_MD_CTX_free(md);
    return rc;
}

static int token_reply(struct kms_key *k, struct gcp *g, json_t *reply, struct kms_token **t)
{
    const char *at = json_string_value(json_object_get(reply, "access_token"));
    json_int_t exp = json_integer_value(json_object_get(reply, "expires_in"));

    if (at == NULL)
        return msigu_error(k->inst->host, MSIG_E_AUTH,
                           "the token endpoint answered without an "
                           "access_token");
    return kms_token_store(k->inst, g->identity, at, exp > 0 ? (long)exp : 300, t);
}

static int token_from_file(struct kms_key *k, struct gcp *g, const char *path, struct kms_token **t)
{
    char *text = NULL, *jwt = NULL, *form = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL;
    json_t *cred = NULL, *reply = NULL;
    const char *type, *uri;
    int rc = read_file(k, path, &text);

    if (rc != 0)
        return rc;
    cred = json_loads(text, 0, NULL);
    kms_secret_free(text);
    type = json_string_value(json_object_get(cred, "type"));
    uri = json_string_value(json_object_get(cred, "token_uri"));
    if (uri == NULL)
        uri = "https://oauth2.googleapis.com/token";
    if (type == NULL) {
        rc = msigu_error(k->inst->host, MSIG_E_INVALID,
                         "credentials file %s is not JSON with a type", path);
    } else if (strcmp(type, "service_account") == 0) {
        const char *pem = json_string_value(json_object_get(cred, "private_key"));
        const char *iss = json_string_value(json_object_get(cred, "client_email"));
        const char *kid = json_string_value(json_object_get(cred, "private_key_id"));

        if (pem == NULL || iss == NULL)
            rc = msigu_error(k->inst->host, MSIG_E_INVALID,
                             "service-account file %s lacks private_key "
                             "or client_email",
                             path);
        else if ((rc = make_jwt(k, pem, kid, iss, uri, &jwt)) == 0 &&
                 (rc = msigu_http_escape(k->inst->http, jwt, &e1)) == 0 &&
                 asprintf(&form,
                          "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type"
                          "%%3Ajwt-bearer&assertion=%s",
                          e1) < 0)
            rc = MSIG_E_NOMEM, form = NULL;
    } else if (strcmp(type, "authorized_user") == 0) {
        const char *id = json_string_value(json_object_get(cred, "client_id"));
        const char *sec = json_string_value(json_object_get(cred, "client_secret"));
        const char *rt = json_string_value(json_object_get(cred, "refresh_token"));

        if (!id || !sec || !rt)
            rc = msigu_error(k->inst->host, MSIG_E_INVALID,
                             "authorized-user file %s lacks client_id, "
                             "client_secret or refresh_token",
                             path);
        else if (msigu_http_escape(k->inst->http, id, &e1) ||
                 msigu_http_escape(k->inst->http, sec, &e2) ||
                 msigu_http_escape(k->inst->http, rt, &e3) ||
                 asprintf(&form,
                          "grant_type=refresh_token&client_id=%s&client_secret=%s&"
                          "refresh_token=%s",
                          e1, e2, e3) < 0)
            rc = MSIG_E_NOMEM, form = NULL;
    } else {
        rc = msigu_error(k->inst->host, MSIG_E_INVALID,
                         "credentials file %s has type %s: only "
                         "service_account and authorized_user are supported",
                         path, type);
    }
    if (rc == 0 && form != NULL)
        rc = kms_form_call(k, uri, NULL, form, "get a Google access token", &reply);
    if (rc == 0)
        rc = token_reply(k, g, reply, t);
    kms_secret_free(form);
    kms_secret_free(jwt);
    msigu_http_strfree(e1);
    msigu_http_strfree(e2);
    msigu_http_strfree(e3);
    kms_json_wipe(reply, "access_token");
    json_decref(reply);
    kms_json_wipe(cred, "private_key");
    kms_json_wipe(cred, "client_secret");
    kms_json_wipe(cred, "refresh_token");
    json_decref(cred);
    return rc;
}

static int token_from_metadata(struct kms_key *k, struct gcp *g, struct kms_token **t)
{
    const char *host = kms_param(k->inst, "gcpkms.metadata-host");
    const char *hdrs[] = { "Metadata-Flavor: Google", "Accept: application/json", NULL };
    struct msigu_http_req req = { "GET", NULL, hdrs, NULL, 0, MSIGU_HTTP_F_METADATA };
    struct msigu_http_reply rep = { 0 };
    char *url = NULL;
    json_t *reply = NULL;
    int rc;

    if (asprintf(&url, "http://%s/computeMetadata/v1/instance/service-accounts/default/token",
                 host ? host : "metadata.google.internal") < 0)
        return MSIG_E_NOMEM;
    req.url = url;
    rc = msigu_http_set_opts(k->inst->http, &k->http);
    if (rc == 0)
        rc = msigu_http_call(k->inst->http, &req,
                             "get a token from the GCE metadata server "
                             "(no GOOGLE_APPLICATION_CREDENTIALS)",
                             &rep);
    if (rc == 0 && rep.status != 200)
        rc = msigu_http_status_error(k->inst->http, &req, &rep,
                                     "get a token from the GCE "
                                     "metadata server");
    if (rc == 0)
        reply = json_incref(rep.json);
    msigu_http_reply_free(&rep);
    if (rc == 0)
        rc = token_reply(k, g, reply, t);
    kms_json_wipe(reply, "access_token");
    json_decref(reply);
    free(url);
    return rc;
}

static int get_token(struct kms_key *k, struct kms_token **t)
{
    struct gcp *g = k->svc_data;

    *t = kms_token_find(k->inst, g->identity);
    if (*t != NULL)
        return 0;
    msigu_log(k->inst->host, MSIG_LOG_DEBUG, "getting a Google access token (%s)", g->identity);
    return g->cred ? token_from_file(k, g, g->cred, t) : token_from_metadata(k, g, t);
}

/* Application Default Credentials, in order (section 2.4): GOOGLE_APPLICATION_CREDENTIALS,
 * the well-known file of gcloud ($CLOUDSDK_CONFIG, else $HOME/.config/gcloud), else NULL for
 * the metadata server. */
static int find_credentials(struct kms_key *k, char **out)
{
    const char *cred = kms_param(k->inst, "gcpkms.credentials");
    const char *dir = kms_param(k->inst, "gcpkms.cloudsdk-config");
    const char *home = kms_param(k->inst, "gcpkms.home");
    char *p = NULL;

    *out = NULL;
    if (cred != NULL) {
        *out = strdup(cred);
        return *out ? 0 : MSIG_E_NOMEM;
    }
    if (dir != NULL
            ? asprintf(&p, "%s/application_default_credentials.json", dir) < 0
            : home != NULL &&
                  asprintf(&p, "%s/.config/gcloud/application_default_credentials.json", home) < 0)
        return MSIG_E_NOMEM;
    if (p != NULL && access(p, F_OK) == 0)
        *out = p;
    else
        free(p);
    return 0;
}

/* One authorised request; a 401 drops the cached token and is tried once more. */
static int gcp_call(struct kms_key *k, const char *method, const char *url, const json_t *body,
                    const char *what, json_t **out)
{
    return kms_bearer_call(k, get_token, method, url, body, what, out);
}

static const char *const accepted[] = {
    "RSA_SIGN_PKCS1_2048_SHA256",
    "RSA_SIGN_PKCS1_3072_SHA256",
    "RSA_SIGN_PKCS1_4096_SHA256",
    "EC_SIGN_P256_SHA256",
    NULL,
};

static int gcp_open(struct kms_key *k, const char *name, uint32_t flags)
{
    const char *ep = kms_param(k->inst, "gcpkms.endpoint");
    const char *host = kms_param(k->inst, "gcpkms.metadata-host");
    struct gcp *g;
    json_t *reply = NULL;
    char *url = NULL;
    const char *pem, *alg, *crc;
    EVP_PKEY *pub = NULL;
    int rc, ok = 0;

    (void)flags;
    snprintf(k->what, sizeof(k->what), "Cloud KMS key %s", name);
    if (!valid_name(name))
        return msigu_error(k->inst->host, MSIG_E_INVALID,
                           "--gcp-kms-key needs a key version "
                           "projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N, "
                           "got '%s'",
                           name);
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return MSIG_E_NOMEM;
    k->svc_data = g;
    if ((rc = kms_http_setup(k, NULL)) || (rc = find_credentials(k, &g->cred)))
        return rc;
    if (kms_param(k->inst, "kms.timeout-ms") == NULL)
        k->http.timeout_ms = 60000;
    g->name = strdup(name);
    g->endpoint = strdup(ep ? ep : "https://cloudkms.googleapis.com");
    if (!g->name || !g->endpoint ||
        asprintf(&g->identity, "%s%s", g->cred ? "file:" : "metadata:",
                 g->cred ? g->cred
                 : host  ? host
                         : "") < 0 ||
        asprintf(&url, "%s/v1/%s/publicKey", g->endpoint, name) < 0) {
        g->identity = NULL;
        return MSIG_E_NOMEM;
    }
    rc = gcp_call(k, "GET", url, NULL, "get the Cloud KMS public key", &reply);
    free(url);
    if (rc != 0)
        goto out;
    pem = json_string_value(json_object_get(reply, "pem"));
    alg = json_string_value(json_object_get(reply, "algorithm"));
    crc = json_string_value(json_object_get(reply, "pemCrc32c"));
    if (pem == NULL || alg == NULL) {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                         "%s: the public key reply lacks pem or algorithm", k->what);
        goto out;
    }
    if (crc != NULL && strtoull(crc, NULL, 10) != kms_crc32c((const uint8_t *)pem, strlen(pem))) {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                         "%s: the public key's CRC32C does not match "
                         "pemCrc32c %s",
                         k->what, crc);
        goto out;
    }
    for (int i = 0; accepted[i]; i++)
        ok |= strcmp(alg, accepted[i]) == 0;
    if (!ok) {
        rc = msigu_error(k->inst->host, MSIG_E_KEY,
                         "Cloud KMS key %s has algorithm %s: only "
                         "RSA_SIGN_PKCS1_{2048,3072,4096}_SHA256 and EC_SIGN_P256_SHA256 can sign "
                         "Mender artifacts",
                         name, alg);
        goto out;
    }
    rc = msigu_pubkey_parse(k->inst->host, pem, strlen(pem), k->what, &pub);
    if (rc == 0)
        rc = kms_key_set_public(k, pub);
out:
    json_decref(reply);
    return rc;
}

/* The signature's checks (section 2.3); 1 when the reply was damaged in transit. */
static int damaged(struct kms_key *k, const json_t *reply, const uint8_t *s, size_t len,
                   const char **why)
{
    const char *crc = json_string_value(json_object_get(reply, "signatureCrc32c"));

    (void)k;
    if (!json_is_true(json_object_get(reply, "verifiedDigestCrc32c"))) {
        *why = "the service did not confirm the digest's CRC32C (verifiedDigestCrc32c)";
        return 1;
    }
    if (crc == NULL || strtoull(crc, NULL, 10) != kms_crc32c(s, len)) {
        *why = "the signature's CRC32C does not match signatureCrc32c";
        return 1;
    }
    return 0;
}

static int gcp_sign(struct kms_key *k, const uint8_t digest[32], uint8_t *sig, size_t cap,
                    size_t *sig_len, uint32_t *sig_fmt)
{
    struct gcp *g = k->svc_data;
    char *d = NULL, *url = NULL, crc[16];
    json_t *body = NULL;
    int rc = MSIG_E_NOMEM;

    snprintf(crc, sizeof(crc), "%u", kms_crc32c(digest, 32));
    if (msigu_b64_encode(k->inst->host, digest, 32, &d) == 0)
        body = json_pack("{s:{s:s}, s:s}", "digest", "sha256", d, "digestCrc32c", crc);
    msigu_strfree(k->inst->host, d);
    if (body == NULL || asprintf(&url, "%s/v1/%s:asymmetricSign", g->endpoint, g->name) < 0) {
        json_decref(body);
        return MSIG_E_NOMEM;
    }
    /* A CRC mismatch is tried once more, then refused (mender-artifact does the same). */
    for (int i = 0; i < 2; i++) {
        json_t *reply = NULL;
        const char *s, *why = NULL;
        uint8_t raw[1024];
        size_t rlen = 0;

        rc = gcp_call(k, "POST", url, body, "sign with Cloud KMS", &reply);
        if (rc != 0)
            break;
        s = json_string_value(json_object_get(reply, "signature"));
        if (s == NULL ||
            msigu_b64_decode(k->inst->host, s, strlen(s), raw, sizeof(raw), &rlen) != 0) {
            rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                             "%s: the sign reply has no base64 signature", k->what);
        } else if (damaged(k, reply, raw, rlen, &why)) {
            rc = msigu_error(k->inst->host, MSIG_E_FAILED, "%s: %s (after %d attempts)", k->what,
                             why, i + 1);
            msigu_log(k->inst->host, MSIG_LOG_DEBUG, "%s: %s", k->what, why);
            json_decref(reply);
            continue;
        } else {
            *sig_fmt = k->key_type == MSIG_KEY_RSA ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_DER;
            rc = kms_put_sig(k, raw, rlen, sig, cap, sig_len);
        }
        json_decref(reply);
        break;
    }
    json_decref(body);
    free(url);
    return rc;
}

const struct kms_service kms_gcpkms = { "gcpkms", gcp_open, gcp_sign, gcp_close };
