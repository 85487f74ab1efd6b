/* kmsutil.c -- what the four KMS services share: messages, parameters, the Mender key policy,
 * public keys in the services' forms, base64, CRC32C, JSON requests and the token cache. */
#include "kms.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int kms_fail(const struct kms_inst *inst, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    inst->host->set_error(inst->host->host_data, code, msg);
    return code;
}

void kms_log(const struct kms_inst *inst, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    inst->host->log_msg(inst->host->host_data, level, msg);
}

const char *kms_param(const struct kms_inst *inst, const char *name)
{
    const char *v = NULL;

    if (inst->host->get_param(inst->host->host_data, name, &v) != 0 || v == NULL ||
        v[0] == '\0')
        return NULL;
    return v;
}

int kms_param_req(const struct kms_inst *inst, const char *name, const char *env,
                  const char **value)
{
    *value = kms_param(inst, name);
    if (*value == NULL)
        return kms_fail(inst, MSIG_E_INVALID, "%s is not set (parameter %s)", env, name);
    return 0;
}

static int param_long(const struct kms_inst *inst, const char *name, long min, long max,
                      long *out)
{
    const char *v = kms_param(inst, name);
    char *end = NULL;
    long n;

    if (v == NULL)
        return 0;
    n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < min || n > max)
        return kms_fail(inst, MSIG_E_INVALID, "parameter %s: '%s' is not a number from %ld "
                        "to %ld", name, v, min, max);
    *out = n;
    return 0;
}

int kms_http_setup(struct kms_key *k, const char *ca_param)
{
    const struct kms_inst *inst = k->inst;
    long retries = 3;
    int rc;

    k->http.ca_file = ca_param ? kms_param(inst, ca_param) : NULL;
    k->http.ssl_cert_file = kms_param(inst, "kms.ssl-cert-file");
    k->http.ssl_cert_dir = kms_param(inst, "kms.ssl-cert-dir");
    k->http.connect_to = kms_param(inst, "kms.connect-to");
    if ((rc = param_long(inst, "kms.timeout-ms", 100, 600000, &k->http.timeout_ms)) ||
        (rc = param_long(inst, "kms.connect-timeout-ms", 100, 600000,
                         &k->http.connect_timeout_ms)) ||
        (rc = param_long(inst, "kms.max-retries", 0, 10, &retries)) ||
        (rc = param_long(inst, "kms.deadline-ms", 100, 3600000, &k->http.deadline_ms)))
        return rc;
    k->http.max_retries = (unsigned)retries;
    return 0;
}

void kms_http_ca_dir(struct kms_key *k, const char *dir_param)
{
    k->http.ca_dir = kms_param(k->inst, dir_param);
}

/* ------------------------------------------------------------------ keys */

int kms_key_set_public(struct kms_key *k, EVP_PKEY *pub)
{
    int id = EVP_PKEY_get_base_id(pub);
    int bits = EVP_PKEY_get_bits(pub);
    unsigned char *der = NULL;
    int len;

    if (id == EVP_PKEY_RSA && bits >= 2048) {
        k->key_type = MSIG_KEY_RSA;
    } else if (id == EVP_PKEY_EC) {
        char curve[64] = "";
        size_t clen = 0;

        EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                       &clen);
        if (strcmp(curve, "prime256v1") != 0) {
            EVP_PKEY_free(pub);
            return kms_fail(k->inst, MSIG_E_KEY, "%s is an EC key on curve %s: only P-256 "
                            "(ECDSA with SHA-256) is accepted", k->what, curve);
        }
        k->key_type = MSIG_KEY_EC_P256;
    } else {
        const char *t = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_RSA_PSS ? "RSA-PSS"
                                                                              : OBJ_nid2sn(id);
        EVP_PKEY_free(pub);
        return kms_fail(k->inst, MSIG_E_KEY, "%s is a %d-bit %s key: only RSA of 2048 bits "
                        "or more (PKCS#1 v1.5) and EC P-256 are accepted", k->what, bits,
                        t ? t : "unknown");
    }
    len = i2d_PUBKEY(pub, &der);
    if (len <= 0) {
        EVP_PKEY_free(pub);
        return kms_fail(k->inst, MSIG_E_FAILED, "%s: cannot encode the public key", k->what);
    }
    k->pub = pub;
    k->bits = (uint32_t)bits;
    k->pub_der = der;
    k->pub_der_len = (size_t)len;
    return 0;
}

int kms_pubkey_pem(const struct kms_inst *inst, const char *pem, size_t len, const char *what,
                   EVP_PKEY **out)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x;

    *out = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    if (*out == NULL && b != NULL) {
        ERR_clear_error();
        BIO_reset(b);
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (x != NULL)
            *out = X509_get_pubkey(x);
        X509_free(x);
    }
    BIO_free(b);
    ERR_clear_error();
    if (*out == NULL)
        return kms_fail(inst, MSIG_E_FAILED, "%s: the service returned a public key that is "
                        "not a PEM public key or certificate", what);
    return 0;
}

int kms_pubkey_der_cert(const struct kms_inst *inst, const uint8_t *der, size_t len,
                        const char *what, EVP_PKEY **out)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);

    *out = x ? X509_get_pubkey(x) : NULL;
    X509_free(x);
    if (*out == NULL)
        return kms_fail(inst, MSIG_E_FAILED, "%s: the signer certificate is not a DER X.509 "
                        "certificate", what);
    return 0;
}

/* A b64url JWK member as a big-endian number. */
static int jwk_bytes(const json_t *jwk, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
    const char *s = json_string_value(json_object_get(jwk, name));

    return s ? kms_unb64(s, strlen(s), buf, cap, len) : -1;
}

int kms_pubkey_jwk(const struct kms_inst *inst, const json_t *jwk, const char *what,
                   EVP_PKEY **out)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    uint8_t a[1024], b[1024];
    size_t alen = 0, blen = 0;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    int rc = MSIG_E_FAILED, rsa = kty && strncmp(kty, "RSA", 3) == 0;

    *out = NULL;
    if (bld == NULL)
        goto out;
    if (rsa) {
        if (jwk_bytes(jwk, "n", a, sizeof(a), &alen) || jwk_bytes(jwk, "e", b, sizeof(b), &blen))
            goto bad;
        n = BN_bin2bn(a, (int)alen, NULL);
        e = BN_bin2bn(b, (int)blen, NULL);
        if (!n || !e || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
            goto out;
    } else {
        uint8_t pt[1 + 2 * 66];

        if (jwk_bytes(jwk, "x", a, sizeof(a), &alen) || jwk_bytes(jwk, "y", b, sizeof(b), &blen) ||
            alen != 32 || blen != 32)
            goto bad;
        pt[0] = 4;
        memcpy(pt + 1, a, 32);
        memcpy(pt + 33, b, 32);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 65))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto bad;
    rc = 0;
    goto out;
bad:
    rc = kms_fail(inst, MSIG_E_FAILED, "%s: the service returned a JWK that is not a valid "
                  "RSA or P-256 public key", what);
out:
    BN_free(n);
    BN_free(e);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* ------------------------------------------------------------------ encodings */

char *kms_b64(const uint8_t *in, size_t len, int url)
{
    char *s = malloc(4 * ((len + 2) / 3) + 1);
    int n;

    if (s == NULL)
        return NULL;
    n = EVP_EncodeBlock((unsigned char *)s, in, (int)len);
    if (url) {
        for (int i = 0; i < n; i++)
            s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
        while (n > 0 && s[n - 1] == '=')
            s[--n] = '\0';
    }
    return s;
}

int kms_unb64(const char *in, size_t inlen, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = 0, pad = 0, i;
    int bad = 0;
    char *t = malloc(inlen + 4);
    uint8_t *tmp = NULL;
    int r;

    if (t == NULL)
        return -1;
    for (i = 0; i < inlen && in[i] != '='; i++) {
        char c = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            break;
        t[n++] = c;
    }
    /* What is left may only be padding, at most two characters of it. */
    for (size_t seen = 0; i < inlen; i++)
        bad |= in[i] != '=' || ++seen > 2;
    if (bad || n % 4 == 1) {
        free(t);
        return -1;
    }
    while (n % 4) {
        t[n++] = '=';
        pad++;
    }
    tmp = malloc(n / 4 * 3 + 1);
    r = tmp ? EVP_DecodeBlock(tmp, (unsigned char *)t, (int)n) : -1;
    free(t);
    /* EVP_DecodeBlock counts the padding it was given as zero bytes. */
    if (r < 0 || (size_t)r < pad || (size_t)r - pad > cap) {
        free(tmp);
        return -1;
    }
    *out_len = (size_t)r - pad;
    memcpy(out, tmp, *out_len);
    free(tmp);
    return 0;
}

uint32_t kms_crc32c(const uint8_t *p, size_t len)
{
    static uint32_t table[256];
    static int ready;
    uint32_t crc = 0xFFFFFFFFu;

    /* Castagnoli, reflected polynomial 0x82F63B78. The table is the same for every thread, so
     * a race computes identical values. */
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int j = 0; j < 8; j++)
                c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
            table[i] = c;
        }
        ready = 1;
    }
    while (len--)
        crc = table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

int kms_put_sig(const struct kms_key *k, const uint8_t *s, size_t len, uint8_t *sig, size_t cap,
                size_t *sig_len)
{
    if (len > cap) {
        *sig_len = len;
        return MSIG_E_BUFFER_TOO_SMALL;
    }
    (void)k;
    memcpy(sig, s, len);
    *sig_len = len;
    return 0;
}

/* ------------------------------------------------------------------ requests */

char *kms_header(const char *name, const char *value)
{
    char *s = NULL;

    if (asprintf(&s, "%s: %s", name, value) < 0)
        return NULL;
    return s;
}

void kms_secret_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void kms_json_wipe(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *c = json_string_value(v);
    char *w;

    /* jansson hands out its own buffer as const; the value is dropped right after, so
     * writing zeros into it is safe (and json_string_set would free it unwiped). */
    if (c == NULL)
        return;
    memcpy(&w, &c, sizeof(w));
    explicit_bzero(w, json_string_length(v));
}

static int finish_reply(struct kms_key *k, const struct msigu_http_req *req,
                        struct msigu_http_reply *rep, const char *what, json_t **out)
{
    char u[512];
    int rc;

    if (rep->status < 200 || rep->status > 299) {
        rc = msigu_http_status_error(k->inst->http, req, rep, what);
        msigu_http_reply_free(rep);
        return rc;
    }
    if (!json_is_object(rep->json)) {
        msigu_http_url_shown(req->url, u, sizeof(u));
        rc = kms_fail(k->inst, MSIG_E_FAILED, "%s: %s answered HTTP %ld with a body that is not "
                      "a JSON object", what, u, rep->status);
        msigu_http_reply_free(rep);
        return rc;
    }
    *out = json_incref(rep->json);
    msigu_http_reply_free(rep);
    return 0;
}

int kms_json_call(struct kms_key *k, const char *method, const char *url,
                  const char *const *headers, const json_t *body, const char *what,
                  json_t **out, long *status)
{
    const char *hdrs[16];
    size_t n = 0;
    char *text = NULL;
    struct msigu_http_reply rep;
    struct msigu_http_req req = {method, url, hdrs, NULL, 0, 0};
    int rc;

    *out = NULL;
    if (status)
        *status = 0;
    for (size_t i = 0; headers && headers[i] && n < 12; i++)
        hdrs[n++] = headers[i];
    hdrs[n++] = "Accept: application/json";
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            return MSIG_E_NOMEM;
        hdrs[n++] = "Content-Type: application/json";
        req.body = text;
        req.body_len = strlen(text);
    }
    hdrs[n] = NULL;
    rc = msigu_http_set_opts(k->inst->http, &k->http);
    if (rc == 0)
        rc = msigu_http_call(k->inst->http, &req, what, &rep);
    kms_secret_free(text);
    if (rc != 0)
        return rc;
    if (status)
        *status = rep.status;
    return finish_reply(k, &req, &rep, what, out);
}

int kms_form_call(struct kms_key *k, const char *url, const char *const *headers, char *form,
                  const char *what, json_t **out)
{
    const char *hdrs[8];
    size_t n = 0;
    struct msigu_http_reply rep;
    struct msigu_http_req req = {"POST", url, hdrs, form, strlen(form), 0};
    int rc;

    for (size_t i = 0; headers && headers[i] && n < 5; i++)
        hdrs[n++] = headers[i];
    hdrs[n++] = "Accept: application/json";
    hdrs[n++] = "Content-Type: application/x-www-form-urlencoded";
    hdrs[n] = NULL;
    *out = NULL;
    rc = msigu_http_set_opts(k->inst->http, &k->http);
    if (rc == 0)
        rc = msigu_http_call(k->inst->http, &req, what, &rep);
    explicit_bzero(form, strlen(form));
    if (rc != 0)
        return rc;
    /* A token endpoint refusing the client answers 400 or 401: either is an auth failure. */
    if (rep.status == 400)
        rep.status = 401;
    return finish_reply(k, &req, &rep, what, out);
}

/* ------------------------------------------------------------------ tokens */

struct kms_token *kms_token_find(struct kms_inst *inst, const char *identity)
{
    time_t now = time(NULL);

    for (int i = 0; i < KMS_TOKENS; i++) {
        struct kms_token *t = &inst->tokens[i];
        if (t->identity && strcmp(t->identity, identity) == 0) {
            if (t->expires > now)
                return t;
            kms_token_drop(t);
        }
    }
    return NULL;
}

void kms_token_drop(struct kms_token *t)
{
    kms_secret_free(t->identity);
    kms_secret_free(t->value);
    memset(t, 0, sizeof(*t));
}

int kms_token_store(struct kms_inst *inst, const char *identity, const char *value,
                    long expires_in, struct kms_token **out)
{
    struct kms_token *t = &inst->tokens[0];

    for (int i = 0; i < KMS_TOKENS; i++) {
        if (inst->tokens[i].identity == NULL ||
            strcmp(inst->tokens[i].identity, identity) == 0) {
            t = &inst->tokens[i];
            break;
        }
    }
    kms_token_drop(t);
    t->identity = strdup(identity);
    t->value = strdup(value);
    if (t->identity == NULL || t->value == NULL) {
        kms_token_drop(t);
        return MSIG_E_NOMEM;
    }
    t->expires = time(NULL) + (expires_in > 120 ? expires_in - 60 : expires_in / 2);
    *out = t;
    return 0;
}

int kms_bearer_call(struct kms_key *k, kms_token_fn *get_token, const char *method,
                    const char *url, const json_t *body, const char *what, json_t **out)
{
    for (int i = 0;; i++) {
        struct kms_token *t;
        char *auth = NULL;
        const char *hdrs[2];
        long status = 0;
        int rc = get_token(k, &t);

        if (rc != 0)
            return rc;
        if (asprintf(&auth, "Authorization: Bearer %s", t->value) < 0)
            return MSIG_E_NOMEM;
        hdrs[0] = auth;
        hdrs[1] = NULL;
        rc = kms_json_call(k, method, url, hdrs, body, what, out, &status);
        kms_secret_free(auth);
        if (rc == MSIG_E_AUTH && status == 401 && i == 0) {
            kms_log(k->inst, MSIG_LOG_DEBUG, "access token refused; getting a new one");
            kms_token_drop(t);
            continue;
        }
        return rc;
    }
}
