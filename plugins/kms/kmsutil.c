/* kmsutil.c -- what the four KMS services share: messages, parameters, the Mender key policy,
 * public keys in the services' forms, base64, CRC32C, JSON requests and the token cache. */
#include "kms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

const char *kms_param(const struct kms_inst *inst, const char *name)
{
    const char *v = NULL;

    return msigu_param(inst->host, name, &v) == 0 ? v : NULL;
}

int kms_param_req(const struct kms_inst *inst, const char *name, const char *env,
                  const char **value)
{
    *value = kms_param(inst, name);
    if (*value == NULL)
        return msigu_error(inst->host, MSIG_E_INVALID, "%s is not set (parameter %s)", env, name);
    return 0;
}

static int param_long(const struct kms_inst *inst, const char *name, long min, long max, long *out)
{
    uint64_t v = 0;
    int rc = msigu_param_uint(inst->host, name, (uint64_t)min, (uint64_t)max, (uint64_t)*out, &v);

    if (rc == 0)
        *out = (long)v;
    return rc;
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
    unsigned char *der = NULL;
    int rc = msigu_evp_policy(k->inst->host, pub, k->what, &k->key_type, &k->bits);
    int len = rc == 0 ? i2d_PUBKEY(pub, &der) : 0;

    if (rc == 0 && len <= 0)
        rc = msigu_error(k->inst->host, MSIG_E_FAILED, "%s: cannot encode the public key", k->what);
    if (rc != 0) {
        EVP_PKEY_free(pub);
        return rc;
    }
    k->pub = pub;
    k->pub_der = der;
    k->pub_der_len = (size_t)len;
    return 0;
}

/* ------------------------------------------------------------------ encodings */

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
        rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                         "%s: %s answered HTTP %ld with a body that is not "
                         "a JSON object",
                         what, u, rep->status);
        msigu_http_reply_free(rep);
        return rc;
    }
    *out = json_incref(rep->json);
    msigu_http_reply_free(rep);
    return 0;
}

int kms_json_call(struct kms_key *k, const char *method, const char *url,
                  const char *const *headers, const json_t *body, const char *what, json_t **out,
                  long *status)
{
    const char *hdrs[16];
    size_t n = 0;
    char *text = NULL;
    struct msigu_http_reply rep;
    struct msigu_http_req req = { method, url, hdrs, NULL, 0, 0 };
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
    struct msigu_http_req req = { "POST", url, hdrs, form, strlen(form), 0 };
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

int kms_token_store(struct kms_inst *inst, const char *identity, const char *value, long expires_in,
                    struct kms_token **out)
{
    struct kms_token *t = &inst->tokens[0];

    for (int i = 0; i < KMS_TOKENS; i++) {
        if (inst->tokens[i].identity == NULL || strcmp(inst->tokens[i].identity, identity) == 0) {
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

int kms_bearer_call(struct kms_key *k, kms_token_fn *get_token, const char *method, const char *url,
                    const json_t *body, const char *what, json_t **out)
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
            msigu_log(k->inst->host, MSIG_LOG_DEBUG, "access token refused; getting a new one");
            kms_token_drop(t);
            continue;
        }
        return rc;
    }
}
