/* signserver.c -- Keyfactor SignServer PlainSigner workers ("signserver:WORKER"; kms.md
 * section 4), REST API with mutual TLS. The digest is sent with client-side hashing metadata.
 * SignServer has no public-key call: the signer certificate comes from the reply to a
 * signature of SHA-256("") at open (as mender-artifact does), or from signserver.signer-cert. */
#include "kms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct signserver {
    char *url;
};

static void ss_close(struct kms_key *k)
{
    struct signserver *s = k->svc_data;

    if (s == NULL)
        return;
    free(s->url);
    free(s);
}

/* One process call; *out is the reply object. */
static int ss_process(struct kms_key *k, const uint8_t digest[32], json_t **out)
{
    struct signserver *s = k->svc_data;
    /* SignServer's REST API refuses requests without it (CSRF protection). */
    const char *hdrs[] = { "X-Keyfactor-Requested-With: XMLHttpRequest", NULL };
    char *d = NULL;
    json_t *body = msigu_b64_encode(k->inst->host, digest, 32, &d) == 0
                       ? json_pack("{s:s, s:s, s:{s:s, s:s}}", "data", d, "encoding", "BASE64",
                                   "metaData", "USING_CLIENTSUPPLIED_HASH", "true",
                                   "CLIENTSIDE_HASHDIGESTALGORITHM", "SHA-256")
                       : NULL;
    int rc;

    msigu_strfree(k->inst->host, d);
    if (body == NULL)
        return MSIG_E_NOMEM;
    rc = kms_json_call(k, "POST", s->url, hdrs, body, "sign with SignServer", out, NULL);
    json_decref(body);
    return rc;
}

static int ss_signer_cert(struct kms_key *k, const char *worker)
{
    const char *path = kms_param(k->inst, "signserver.signer-cert");
    static const uint8_t empty_sha256[32] = { 0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                              0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                              0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                              0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55 };
    EVP_PKEY *pub = NULL;
    json_t *reply = NULL;
    const char *c;
    uint8_t *der = NULL;
    size_t dlen = 0;
    int rc;

    if (path != NULL) {
        FILE *f = fopen(path, "rb");
        char buf[65536];
        size_t n;

        if (f == NULL)
            return msigu_error(k->inst->host, MSIG_E_NOT_FOUND,
                               "cannot open the signer certificate %s", path);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        rc = msigu_pubkey_parse(k->inst->host, buf, n, k->what, &pub);
        return rc ? rc : kms_key_set_public(k, pub);
    }
    rc = ss_process(k, empty_sha256, &reply);
    if (rc == MSIG_E_NOT_FOUND)
        rc = msigu_error(k->inst->host, rc, "SignServer has no worker %s", worker);
    if (rc != 0)
        return rc;
    c = json_string_value(json_object_get(reply, "signerCertificate"));
    if (c == NULL || (der = malloc(strlen(c))) == NULL ||
        msigu_b64_decode(k->inst->host, c, strlen(c), der, strlen(c), &dlen) != 0)
        rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                         "%s: the reply has no base64 signerCertificate", k->what);
    else
        rc = msigu_pubkey_parse(k->inst->host, der, dlen, k->what, &pub);
    free(der);
    json_decref(reply);
    return rc ? rc : kms_key_set_public(k, pub);
}

static int ss_open(struct kms_key *k, const char *worker, uint32_t flags)
{
    const char *host, *cert;
    struct signserver *s;
    char *ew = NULL;
    int rc;

    (void)flags;
    snprintf(k->what, sizeof(k->what), "SignServer worker %s", worker);
    if (worker[0] == '\0')
        return msigu_error(k->inst->host, MSIG_E_INVALID, "no SignServer worker name given");
    if ((rc = kms_param_req(k->inst, "signserver.hostname", "SIGNSERVER_HOSTNAME", &host)) ||
        (rc = kms_param_req(k->inst, "signserver.client-cert", "SIGNSERVER_CLIENT_CERT_PATH",
                            &cert)))
        return rc;
    /* The scheme is always https; a given one is dropped, as mender-artifact does. */
    if (strncmp(host, "https://", 8) == 0)
        host += 8;
    else if (strncmp(host, "http://", 7) == 0)
        host += 7;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return MSIG_E_NOMEM;
    k->svc_data = s;
    if ((rc = kms_http_setup(k, "signserver.ca-cert")))
        return rc;
    if (kms_param(k->inst, "kms.timeout-ms") == NULL)
        k->http.timeout_ms = 10000; /* the SignServer Go SDK's default */
    k->http.client_cert = cert;
    k->http.client_key = kms_param(k->inst, "signserver.client-key");
    if (msigu_http_escape(k->inst->http, worker, &ew) != 0 ||
        asprintf(&s->url, "https://%.*s/signserver/rest/v1/workers/%s/process",
                 (int)strcspn(host, "/"), host, ew) < 0) {
        s->url = NULL;
        msigu_http_strfree(ew);
        return MSIG_E_NOMEM;
    }
    msigu_http_strfree(ew);
    return ss_signer_cert(k, worker);
}

static int ss_sign(struct kms_key *k, const uint8_t digest[32], uint8_t *sig, size_t cap,
                   size_t *sig_len, uint32_t *sig_fmt)
{
    json_t *reply = NULL;
    const char *d;
    uint8_t raw[1024];
    size_t rlen = 0;
    int rc = ss_process(k, digest, &reply);

    if (rc != 0)
        return rc;
    d = json_string_value(json_object_get(reply, "data"));
    if (d == NULL || msigu_b64_decode(k->inst->host, d, strlen(d), raw, sizeof(raw), &rlen) != 0) {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED, "%s: the reply has no base64 data", k->what);
    } else {
        /* NONEwithECDSA workers return DER, converted by the host to Mender's r||s. */
        *sig_fmt = k->key_type == MSIG_KEY_RSA ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_DER;
        rc = kms_put_sig(k, raw, rlen, sig, cap, sig_len);
    }
    json_decref(reply);
    return rc;
}

const struct kms_service kms_signserver = { "signserver", ss_open, ss_sign, ss_close };
