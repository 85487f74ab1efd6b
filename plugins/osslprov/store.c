/* store.c -- the OSSL_STORE loader for "msig:SPEC" URIs: SPEC is any msig key spec
 * (file:/k.pem, pkcs11:token=...;object=..., vault:KEY, a vendor plugin's scheme). The key
 * is opened with msig_key_open; PINs and passphrases come from the application's passphrase
 * callback (openssl's -passin). The result is one private key, passed by reference. */
#include "prov.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>
#include <openssl/x509.h>

struct store_ctx {
    struct prov_ctx *pc;
    char *spec;
    int done;
};

static void *st_open(void *provctx, const char *uri)
{
    struct store_ctx *s;

    if (uri == NULL || strncmp(uri, "msig:", 5) != 0 || uri[5] == '\0') {
        prov_error(PROV_R_ARG, "not an msig: URI (msig:SPEC, e.g. msig:pkcs11:token=t;object=k)");
        return NULL;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL || (s->spec = strdup(uri + 5)) == NULL) {
        free(s);
        return NULL;
    }
    s->pc = provctx;
    return s;
}

static int st_set_params(void *vs, const OSSL_PARAM params[])
{
    (void)vs, (void)params;
    return 1;
}

static const OSSL_PARAM *st_settable(void *provctx)
{
    static const OSSL_PARAM p[] = { OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL), OSSL_PARAM_END };

    (void)provctx;
    return p;
}

/* msig's PIN callback answered by the application's passphrase callback. */
struct pin_bridge {
    OSSL_PASSPHRASE_CALLBACK *cb;
    void *arg;
};

static int pin_cb(void *user, const struct msig_pin_request *req, char *buf, size_t cap,
                  size_t *len)
{
    struct pin_bridge *b = user;
    char info[256];
    OSSL_PARAM p[2];

    if (b->cb == NULL || cap < 2)
        return MSIG_E_PIN_REQUIRED;
    snprintf(info, sizeof(info), "%s", req->label != NULL ? req->label : req->key_spec);
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PASSPHRASE_PARAM_INFO, info, strlen(info));
    p[1] = OSSL_PARAM_construct_end();
    /* No answer (no -passin, no terminal) is a missing PIN, which the plugin explains. */
    if (!b->cb(buf, cap - 1, len, p, b->arg))
        return MSIG_E_PIN_REQUIRED;
    buf[*len] = '\0';
    return 0;
}

/* Signs a fixed digest once while the application's passphrase callback is there: a plugin
 * that logs in at the first signature (PKCS#11) asks for its PIN now, and a wrong PIN fails
 * the load, not a later signature that has no callback to ask. The result is checked by
 * libmsig against the public key, like every signature. */
static int unlock(struct store_ctx *s, struct prov_key *k)
{
    static const uint8_t probe[32] = { 0x6d, 0x73, 0x69, 0x67 };
    uint8_t sig[16384];
    size_t len = 0;
    int rc = msig_key_sign_digest(
        k->key, k->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256,
        probe, sizeof(probe), MSIG_SIGOUT_DER, sig, sizeof(sig), &len);

    if (rc != 0)
        prov_error(PROV_R_KEY, "%s", msig_ctx_last_error(s->pc->mctx));
    return rc;
}

/* Opens the key and builds its public half in the provider's library context. */
static struct prov_key *open_key(struct store_ctx *s, struct pin_bridge *b)
{
    struct prov_key *k = calloc(1, sizeof(*k));
    unsigned char der[16384];
    const unsigned char *p = der;
    size_t len = 0;
    int rc;

    if (k == NULL)
        return NULL;
    k->pc = s->pc;
    k->refs = 1;
    msig_ctx_set_pin_callback(s->pc->mctx, pin_cb, b);
    rc = msig_key_open(s->pc->mctx, s->spec, b->cb ? 0 : MSIG_KEY_OPEN_F_NO_PROMPT, &k->key);
    if (rc == 0)
        rc = msig_key_describe(k->key, &k->key_type, &k->bits);
    if (rc == 0)
        rc = msig_key_public_der(k->key, der, sizeof(der), &len);
    if (rc != 0)
        prov_error(PROV_R_KEY, "%s", msig_ctx_last_error(s->pc->mctx));
    if (rc == 0 && (k->pub = d2i_PUBKEY_ex(NULL, &p, (long)len, s->pc->libctx, NULL)) == NULL) {
        prov_error(PROV_R_INTERNAL, "cannot decode the public key of %s", s->spec);
        rc = MSIG_E_FAILED;
    }
    if (rc == 0)
        rc = unlock(s, k);
    msig_ctx_set_pin_callback(s->pc->mctx, NULL, NULL);
    if (rc != 0) {
        if (k->key != NULL)
            msig_key_close(k->key);
        free(k);
        return NULL;
    }
    return k;
}

static int st_load(void *vs, OSSL_CALLBACK *object_cb, void *object_cbarg,
                   OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    struct store_ctx *s = vs;
    struct pin_bridge b = { pw_cb, pw_cbarg };
    struct prov_key *k;
    int type = OSSL_OBJECT_PKEY, ok;
    OSSL_PARAM params[4];

    if (s->done)
        return 0;
    s->done = 1;
    pthread_mutex_lock(&s->pc->lock);
    k = open_key(s, &b);
    pthread_mutex_unlock(&s->pc->lock);
    if (k == NULL)
        return 0;
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE,
                                                 k->key_type == MSIG_KEY_RSA ? "RSA" : "EC", 0);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &k, sizeof(k));
    params[3] = OSSL_PARAM_construct_end();
    ok = object_cb(params, object_cbarg);
    prov_key_unref(k); /* the key management holds its own reference now */
    return ok;
}

static int st_eof(void *vs)
{
    return ((struct store_ctx *)vs)->done;
}

static int st_close(void *vs)
{
    struct store_ctx *s = vs;

    if (s != NULL) {
        free(s->spec);
        free(s);
    }
    return 1;
}

const OSSL_DISPATCH prov_store_functions[] = {
    { OSSL_FUNC_STORE_OPEN, (void (*)(void))st_open },
    { OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))st_settable },
    { OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))st_set_params },
    { OSSL_FUNC_STORE_LOAD, (void (*)(void))st_load },
    { OSSL_FUNC_STORE_EOF, (void (*)(void))st_eof },
    { OSSL_FUNC_STORE_CLOSE, (void (*)(void))st_close },
    { 0, NULL }
};
