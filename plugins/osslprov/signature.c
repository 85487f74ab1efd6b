/* signature.c -- RSA PKCS#1 v1.5 and ECDSA, with SHA-256, for keys of the msig provider.
 * Signing goes through msig_key_sign_digest (the plugin signs, libmsig checks the result with
 * the public key); ECDSA comes out as DER, as OpenSSL expects. Verification uses the public
 * half in the provider's private library context. Digests other than SHA-256 are refused:
 * Mender signs nothing else, and the plugins' keys may allow nothing else. */
#include "prov.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

struct sig_ctx {
    struct prov_ctx *pc;
    struct prov_key *k;
    int ecdsa;
    EVP_MD_CTX *md; /* digest_sign/digest_verify: SHA-256 so far */
};

static void *sig_newctx(void *provctx, const char *propq, int ecdsa)
{
    struct sig_ctx *c = calloc(1, sizeof(*c));

    (void)propq;
    if (c != NULL) {
        c->pc = provctx;
        c->ecdsa = ecdsa;
    }
    return c;
}

static void *sig_rsa_newctx(void *provctx, const char *propq)
{
    return sig_newctx(provctx, propq, 0);
}
static void *sig_ec_newctx(void *provctx, const char *propq)
{
    return sig_newctx(provctx, propq, 1);
}

static void sig_freectx(void *vc)
{
    struct sig_ctx *c = vc;

    if (c == NULL)
        return;
    prov_key_unref(c->k);
    EVP_MD_CTX_free(c->md);
    free(c);
}

static void *sig_dupctx(void *vc)
{
    struct sig_ctx *c = vc, *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    *d = *c;
    d->k = prov_key_ref(c->k);
    d->md = NULL;
    if (c->md != NULL &&
        ((d->md = EVP_MD_CTX_new()) == NULL || !EVP_MD_CTX_copy_ex(d->md, c->md))) {
        sig_freectx(d);
        return NULL;
    }
    return d;
}

static int md_ok(const char *mdname)
{
    return mdname == NULL || *mdname == '\0' || strcasecmp(mdname, "SHA256") == 0 ||
           strcasecmp(mdname, "SHA2-256") == 0 || strcasecmp(mdname, "SHA-256") == 0;
}

static int sig_set_ctx_params(void *vc, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p;
    const char *s = NULL;
    int pad = 0;

    (void)vc;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || !md_ok(s))) {
        prov_error(PROV_R_ARG, "digest %s: msig keys sign SHA-256 only", s ? s : "?");
        return 0;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
        if (p->data_type == OSSL_PARAM_UTF8_STRING
                ? !OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
                      strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15)
                : !OSSL_PARAM_get_int(p, &pad) || pad != RSA_PKCS1_PADDING) {
            prov_error(PROV_R_ARG, "RSA padding: msig keys sign with PKCS#1 v1.5 only");
            return 0;
        }
    }
    return 1;
}

static const OSSL_PARAM *sig_settable(void *vc, void *provctx)
{
    static const OSSL_PARAM p[] = { OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
                                    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
                                    OSSL_PARAM_END };

    (void)vc, (void)provctx;
    return p;
}

/* AlgorithmIdentifier DER of sha256WithRSAEncryption and ecdsa-with-SHA256 (for X.509, CMS). */
static const unsigned char algid_rsa[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                           0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
static const unsigned char algid_ec[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                          0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };

static int sig_get_ctx_params(void *vc, OSSL_PARAM params[])
{
    struct sig_ctx *c = vc;
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) != NULL &&
        !OSSL_PARAM_set_octet_string(p, c->ecdsa ? algid_ec : algid_rsa,
                                     c->ecdsa ? sizeof(algid_ec) : sizeof(algid_rsa)))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, "SHA256"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL && !c->ecdsa &&
        !OSSL_PARAM_set_utf8_string(p, OSSL_PKEY_RSA_PAD_MODE_PKCSV15))
        return 0;
    return 1;
}

static const OSSL_PARAM *sig_gettable(void *vc, void *provctx)
{
    static const OSSL_PARAM p[] = {
        OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0), OSSL_PARAM_END
    };

    (void)vc, (void)provctx;
    return p;
}

static int sig_init(void *vc, void *kd, const OSSL_PARAM params[], int need_private)
{
    struct sig_ctx *c = vc;
    struct prov_key *k = kd;

    if (k == NULL || k->pub == NULL || (need_private && k->key == NULL)) {
        prov_error(PROV_R_KEY, "%s",
                   need_private ? "the key has no msig signer (a public key "
                                  "only)"
                                : "no key");
        return 0;
    }
    if ((k->key_type == MSIG_KEY_RSA) == c->ecdsa) {
        prov_error(PROV_R_KEY, "a %s key for %s", c->ecdsa ? "RSA" : "EC",
                   c->ecdsa ? "ECDSA" : "RSA");
        return 0;
    }
    prov_key_unref(c->k);
    c->k = prov_key_ref(k);
    return sig_set_ctx_params(c, params);
}

static int sig_sign_init(void *vc, void *kd, const OSSL_PARAM p[])
{
    return sig_init(vc, kd, p, 1);
}
static int sig_verify_init(void *vc, void *kd, const OSSL_PARAM p[])
{
    return sig_init(vc, kd, p, 0);
}

/* The signature of a 32-byte SHA-256 digest, through libmsig and the plugin. */
static int sig_sign(void *vc, unsigned char *sig, size_t *siglen, size_t sigsize,
                    const unsigned char *tbs, size_t tbslen)
{
    struct sig_ctx *c = vc;
    size_t max = (size_t)EVP_PKEY_get_size(c->k->pub);
    int rc;

    if (sig == NULL) {
        *siglen = max;
        return 1;
    }
    if (tbslen != 32) {
        prov_error(PROV_R_ARG, "a digest of %zu bytes: msig keys sign SHA-256 digests (32)",
                   tbslen);
        return 0;
    }
    pthread_mutex_lock(&c->pc->lock);
    rc = msig_key_sign_digest(c->k->key,
                              c->ecdsa ? MSIG_SIG_ECDSA_SHA256 : MSIG_SIG_RSA_PKCS1_SHA256, tbs,
                              tbslen, MSIG_SIGOUT_DER, sig, sigsize, siglen);
    if (rc != 0)
        prov_error(PROV_R_SIGN, "%s", msig_ctx_last_error(c->pc->mctx));
    pthread_mutex_unlock(&c->pc->lock);
    return rc == 0;
}

static int sig_verify(void *vc, const unsigned char *sig, size_t siglen, const unsigned char *tbs,
                      size_t tbslen)
{
    struct sig_ctx *c = vc;
    EVP_PKEY_CTX *v = EVP_PKEY_CTX_new_from_pkey(c->pc->libctx, c->k->pub, NULL);
    int ok = v != NULL && EVP_PKEY_verify_init(v) == 1 &&
             (c->ecdsa || EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PADDING) == 1) &&
             EVP_PKEY_CTX_set_signature_md(v, EVP_sha256()) == 1 &&
             EVP_PKEY_verify(v, sig, siglen, tbs, tbslen) == 1;

    EVP_PKEY_CTX_free(v);
    return ok;
}

static int digest_init(struct sig_ctx *c, const char *mdname)
{
    EVP_MD *md;
    int ok;

    if (!md_ok(mdname)) {
        prov_error(PROV_R_ARG, "digest %s: msig keys sign SHA-256 only", mdname);
        return 0;
    }
    EVP_MD_CTX_free(c->md);
    md = EVP_MD_fetch(c->pc->libctx, "SHA256", NULL);
    c->md = EVP_MD_CTX_new();
    ok = md != NULL && c->md != NULL && EVP_DigestInit_ex(c->md, md, NULL) == 1;
    EVP_MD_free(md);
    return ok;
}

static int sig_dsign_init(void *vc, const char *mdname, void *kd, const OSSL_PARAM p[])
{
    return sig_sign_init(vc, kd, p) && digest_init(vc, mdname);
}

static int sig_dverify_init(void *vc, const char *mdname, void *kd, const OSSL_PARAM p[])
{
    return sig_verify_init(vc, kd, p) && digest_init(vc, mdname);
}

static int sig_dupdate(void *vc, const unsigned char *data, size_t len)
{
    struct sig_ctx *c = vc;

    return c->md != NULL && EVP_DigestUpdate(c->md, data, len) == 1;
}

static int sig_dsign_final(void *vc, unsigned char *sig, size_t *siglen, size_t sigsize)
{
    struct sig_ctx *c = vc;
    unsigned char dg[32];
    unsigned int n = 0;

    if (sig == NULL)
        return sig_sign(vc, NULL, siglen, sigsize, NULL, 0);
    if (c->md == NULL || EVP_DigestFinal_ex(c->md, dg, &n) != 1)
        return 0;
    return sig_sign(vc, sig, siglen, sigsize, dg, n);
}

static int sig_dverify_final(void *vc, const unsigned char *sig, size_t siglen)
{
    struct sig_ctx *c = vc;
    unsigned char dg[32];
    unsigned int n = 0;

    if (c->md == NULL || EVP_DigestFinal_ex(c->md, dg, &n) != 1)
        return 0;
    return sig_verify(vc, sig, siglen, dg, n);
}

#define SIG_COMMON                                                                      \
    { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_freectx },                       \
        { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dupctx },                     \
        { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))sig_sign_init },               \
        { OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))sig_sign },                         \
        { OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))sig_verify_init },           \
        { OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))sig_verify },                     \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))sig_dsign_init },       \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))sig_dupdate },        \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))sig_dsign_final },     \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))sig_dverify_init },   \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, (void (*)(void))sig_dupdate },      \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, (void (*)(void))sig_dverify_final }, \
        { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))sig_get_ctx_params },     \
        { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))sig_gettable },      \
        { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))sig_set_ctx_params },     \
    {                                                                                   \
        OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))sig_settable           \
    }

const OSSL_DISPATCH prov_rsa_signature_functions[] = {
    { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_rsa_newctx }, SIG_COMMON, { 0, NULL }
};
const OSSL_DISPATCH prov_ecdsa_signature_functions[] = {
    { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_ec_newctx }, SIG_COMMON, { 0, NULL }
};
