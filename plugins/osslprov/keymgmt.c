/* keymgmt.c -- RSA and EC key management for keys of the msig provider. A key from the store
 * ("msig:SPEC") holds the msig key, which signs, and its public half (in the provider's
 * private library context), which answers every question about the key. Only the public half
 * is ever exported: OpenSSL then signs through this provider, never elsewhere. A public key
 * imported from another provider works too (verification only). */
#include "prov.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

struct prov_key *prov_key_ref(struct prov_key *k)
{
    if (k != NULL)
        __atomic_add_fetch(&k->refs, 1, __ATOMIC_SEQ_CST);
    return k;
}

void prov_key_unref(struct prov_key *k)
{
    if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_SEQ_CST) > 0)
        return;
    if (k->key != NULL) {
        pthread_mutex_lock(&k->pc->lock);
        msig_key_close(k->key);
        pthread_mutex_unlock(&k->pc->lock);
    }
    EVP_PKEY_free(k->pub);
    free(k);
}

static void *km_new(void *provctx)
{
    struct prov_key *k = calloc(1, sizeof(*k));

    if (k != NULL) {
        k->pc = provctx;
        k->refs = 1;
    }
    return k;
}

static void km_free(void *kd)
{
    prov_key_unref(kd);
}

/* The store hands over a reference: a pointer to a key it made (and no longer owns). */
static void *km_load(const void *ref, size_t size)
{
    struct prov_key *k = NULL;

    if (ref == NULL || size != sizeof(k))
        return NULL;
    memcpy(&k, ref, sizeof(k));
    return prov_key_ref(k);
}

static int km_has(const void *kd, int selection)
{
    const struct prov_key *k = kd;

    if (k == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && k->key == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) && k->pub == NULL)
        return 0;
    return 1;
}

static int km_match(const void *a, const void *b, int selection)
{
    const struct prov_key *x = a, *y = b;

    (void)selection;
    return x->pub != NULL && y->pub != NULL && EVP_PKEY_eq(x->pub, y->pub) == 1;
}

static int km_get_params(void *kd, OSSL_PARAM params[])
{
    struct prov_key *k = kd;
    OSSL_PARAM *p;

    if (k == NULL || k->pub == NULL)
        return 0;
    /* The default digest is the one Mender uses (and the only one msig signs with). */
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, "SHA256"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MANDATORY_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, "SHA256"))
        return 0;
    for (p = params; p != NULL && p->key != NULL; p++) {
        if (strcmp(p->key, OSSL_PKEY_PARAM_DEFAULT_DIGEST) == 0 ||
            strcmp(p->key, OSSL_PKEY_PARAM_MANDATORY_DIGEST) == 0)
            continue;
        OSSL_PARAM one[2] = { *p, OSSL_PARAM_END };
        if (EVP_PKEY_get_params(k->pub, one) == 1)
            *p = one[0];
    }
    return 1;
}

static const OSSL_PARAM *km_gettable(const char *type, void *provctx)
{
    static const OSSL_PARAM rsa[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_END
    };
    static const OSSL_PARAM ec[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END
    };

    (void)provctx;
    return strcmp(type, "RSA") == 0 ? rsa : ec;
}

static const OSSL_PARAM *km_rsa_gettable(void *provctx)
{
    return km_gettable("RSA", provctx);
}
static const OSSL_PARAM *km_ec_gettable(void *provctx)
{
    return km_gettable("EC", provctx);
}

/* Only the public half (and domain parameters) leaves the provider. */
static int km_export(void *kd, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
    struct prov_key *k = kd;

    if (k == NULL || k->pub == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
        return 0;
    return EVP_PKEY_export(k->pub, selection, cb, cbarg);
}

static const OSSL_PARAM *km_export_types(const char *type, int selection)
{
    static const OSSL_PARAM rsa[] = { OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
                                      OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
                                      OSSL_PARAM_END };
    static const OSSL_PARAM ec[] = { OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
                                     OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
                                     OSSL_PARAM_END };

    if (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)
        return NULL;
    return strcmp(type, "RSA") == 0 ? rsa : ec;
}

static const OSSL_PARAM *km_rsa_export_types(int s)
{
    return km_export_types("RSA", s);
}
static const OSSL_PARAM *km_ec_export_types(int s)
{
    return km_export_types("EC", s);
}

/* A public key from another provider (verification only). */
static int km_import(void *kd, int selection, const OSSL_PARAM params[], const char *type)
{
    struct prov_key *k = kd;
    OSSL_PARAM *copy;
    EVP_PKEY_CTX *c;
    int ok;

    if (k == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
        return 0;
    copy = OSSL_PARAM_dup(params); /* EVP_PKEY_fromdata takes them non-const */
    c = EVP_PKEY_CTX_new_from_name(k->pc->libctx, type, NULL);
    ok = copy != NULL && c != NULL && EVP_PKEY_fromdata_init(c) == 1 &&
         EVP_PKEY_fromdata(c, &k->pub, EVP_PKEY_PUBLIC_KEY, copy) == 1;
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(copy);
    if (ok)
        k->key_type = strcmp(type, "RSA") == 0 ? MSIG_KEY_RSA : MSIG_KEY_EC_P256;
    return ok;
}

static int km_rsa_import(void *kd, int s, const OSSL_PARAM p[])
{
    return km_import(kd, s, p, "RSA");
}
static int km_ec_import(void *kd, int s, const OSSL_PARAM p[])
{
    return km_import(kd, s, p, "EC");
}

static const char *km_rsa_opname(int op)
{
    return op == OSSL_OP_SIGNATURE ? "RSA" : NULL;
}
static const char *km_ec_opname(int op)
{
    return op == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define KM_COMMON                                                        \
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_new },                   \
        { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free },             \
        { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))km_load },             \
        { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has },               \
        { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match },           \
        { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params }, \
    {                                                                    \
        OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export              \
    }

const OSSL_DISPATCH prov_rsa_keymgmt_functions[] = {
    KM_COMMON,
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))km_rsa_gettable },
    { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))km_rsa_export_types },
    { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_rsa_import },
    { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))km_rsa_export_types },
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))km_rsa_opname },
    { 0, NULL }
};

const OSSL_DISPATCH prov_ec_keymgmt_functions[] = {
    KM_COMMON,
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))km_ec_gettable },
    { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))km_ec_export_types },
    { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_ec_import },
    { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))km_ec_export_types },
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))km_ec_opname },
    { 0, NULL }
};
