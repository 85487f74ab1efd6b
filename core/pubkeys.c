/* pubkeys.c -- verification key sets: SubjectPublicKeyInfo (PEM or DER) and PKCS#1
 * "RSA PUBLIC KEY" files, or the public half of an open signing key. Unlike mender-artifact,
 * which ignores an unusable -k file and exits 0, every unusable input is an error here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctx.h"
#include "loader.h"
#include "sigfmt.h"

#define KEYFILE_MAX (1024 * 1024)

int msig_pubkeys_new(struct msig_ctx *ctx, struct msig_pubkeys **keys)
{
    if (!ctx)
        return MSIG_E_INVALID;
    if (!keys)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_pubkeys_new: keys is NULL");
    *keys = msigi_calloc(1, sizeof(**keys));
    if (!*keys)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory creating a key set");
    (*keys)->ctx = ctx;
    return 0;
}

void msig_pubkeys_free(struct msig_pubkeys *keys)
{
    if (!keys)
        return;
    for (size_t i = 0; i < keys->count; i++) {
        EVP_PKEY_free(keys->keys[i].pkey);
        msigi_free(keys->keys[i].label);
    }
    msigi_free(keys->keys);
    msigi_free(keys);
}

size_t msig_pubkeys_count(const struct msig_pubkeys *keys)
{
    return keys ? keys->count : 0;
}

/* Takes ownership of pkey (freed on failure too). */
static int add_pkey(struct msig_pubkeys *keys, EVP_PKEY *pkey, const char *label)
{
    struct msig_ctx *ctx = keys->ctx;
    int rc = 0;
    char *l = NULL;

    if (keys->count >= MSIGI_PUBKEYS_MAX) {
        rc = msigi_err(ctx, MSIG_E_LIMIT, "public key %s: more than %d keys", label,
                       MSIGI_PUBKEYS_MAX);
        goto out;
    }
    if (!EVP_PKEY_is_a(pkey, "RSA") && !EVP_PKEY_is_a(pkey, "EC")) {
        char desc[80];
        msigi_sigfmt_describe(pkey, desc, sizeof(desc));
        rc = msigi_err(ctx, MSIG_E_KEY,
                       "public key %s: %s keys are not supported: Mender signatures use RSA or "
                       "ECDSA P-256",
                       label, desc);
        goto out;
    }
    struct msigi_pubkey *grown = msigi_realloc(keys->keys, (keys->count + 1) * sizeof(*keys->keys));
    if (!grown) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "public key %s: out of memory", label);
        goto out;
    }
    keys->keys = grown;
    l = msigi_strdup(label);
    if (!l) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "public key %s: out of memory", label);
        goto out;
    }
    keys->keys[keys->count].pkey = pkey;
    keys->keys[keys->count].label = l;
    keys->count++;
    pkey = NULL; /* transferred */
    l = NULL;
out:
    EVP_PKEY_free(pkey);
    msigi_free(l);
    return rc;
}

static EVP_PKEY *decode_spki(const uint8_t *der, size_t len)
{
    const unsigned char *q = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &q, (long)len);
    if (pkey && (size_t)(q - der) != len) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static EVP_PKEY *decode_rsa_pkcs1(const uint8_t *der, size_t len)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dc = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "type-specific", "RSA",
                                                         EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    const unsigned char *q = der;
    size_t left = len;
    if (!dc || !OSSL_DECODER_from_data(dc, &q, &left) || left != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dc);
    return pkey;
}

static int is_private_der(const uint8_t *der, size_t len)
{
    const unsigned char *q = der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &q, (long)len);
    int yes = pkey != NULL;
    EVP_PKEY_free(pkey);
    return yes;
}

static int parse_pem(struct msig_pubkeys *keys, const void *buf, size_t len, const char *label,
                     EVP_PKEY **pkey)
{
    struct msig_ctx *ctx = keys->ctx;
    int rc = 0;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    BIO *bio = BIO_new_mem_buf(buf, (int)len);

    if (!bio) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "public key %s: out of memory", label);
        goto out;
    }
    /* Only the first PEM block counts, as in mender-artifact. */
    if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
        rc = msigi_err(ctx, MSIG_E_KEY, "public key %s: damaged PEM data", label);
        goto out;
    }
    if (strcmp(name, "PUBLIC KEY") == 0) {
        *pkey = decode_spki(data, (size_t)dlen);
    } else if (strcmp(name, "RSA PUBLIC KEY") == 0) {
        *pkey = decode_rsa_pkcs1(data, (size_t)dlen);
    } else if (strstr(name, "PRIVATE KEY")) {
        rc = msigi_err(ctx, MSIG_E_KEY,
                       "public key %s: this is a private key (%s); verification needs the "
                       "public key (BEGIN PUBLIC KEY)",
                       label, name);
        goto out;
    } else {
        rc = msigi_err(ctx, MSIG_E_KEY,
                       "public key %s: the first PEM block is \"%s\", expected \"PUBLIC KEY\" "
                       "or \"RSA PUBLIC KEY\"",
                       label, name);
        goto out;
    }
    if (!*pkey)
        rc = msigi_err(ctx, MSIG_E_KEY, "public key %s: damaged %s block", label, name);
out:
    if (data)
        OPENSSL_cleanse(data, (size_t)dlen);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);
    return rc;
}

int msig_pubkeys_add_mem(struct msig_pubkeys *keys, const void *buf, size_t len, const char *label)
{
    int rc = 0;
    EVP_PKEY *pkey = NULL;

    if (!keys)
        return MSIG_E_INVALID;
    struct msig_ctx *ctx = keys->ctx;
    if (!label)
        label = "(memory)";
    if (!buf || len == 0) {
        rc = msigi_err(ctx, MSIG_E_KEY, "public key %s: empty", label);
        goto out;
    }
    if (len > KEYFILE_MAX) {
        rc = msigi_err(ctx, MSIG_E_LIMIT,
                       "public key %s: %zu bytes, more than a key file can "
                       "be (limit %d)",
                       label, len, KEYFILE_MAX);
        goto out;
    }
    if (memmem(buf, len, "-----BEGIN ", 11)) {
        rc = parse_pem(keys, buf, len, label, &pkey);
        if (rc != 0)
            goto out;
    } else {
        pkey = decode_spki(buf, len);
        if (!pkey)
            pkey = decode_rsa_pkcs1(buf, len);
        if (!pkey && is_private_der(buf, len)) {
            rc = msigi_err(ctx, MSIG_E_KEY,
                           "public key %s: this is a private key (DER); "
                           "verification needs the public key",
                           label);
            goto out;
        }
        if (!pkey) {
            rc = msigi_err(ctx, MSIG_E_KEY,
                           "public key %s: not a public key (neither PEM nor "
                           "DER SubjectPublicKeyInfo or PKCS#1 RSA)",
                           label);
            goto out;
        }
    }
    rc = add_pkey(keys, pkey, label);
    pkey = NULL; /* transferred */
out:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    return rc;
}

int msig_pubkeys_add_file(struct msig_pubkeys *keys, const char *path)
{
    int rc = 0;
    FILE *f = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;

    if (!keys)
        return MSIG_E_INVALID;
    struct msig_ctx *ctx = keys->ctx;
    if (!path || !*path)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_pubkeys_add_file: no path given");
    const char *slash = strrchr(path, '/');
    const char *label = slash && slash[1] ? slash + 1 : path;
    f = fopen(path, "rb");
    if (!f) {
        rc = msigi_err(ctx, MSIG_E_IO, "public key %s: cannot open %s: %s", label, path,
                       strerror(errno));
        goto out;
    }
    buf = msigi_malloc(KEYFILE_MAX + 1);
    if (!buf) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "public key %s: out of memory", label);
        goto out;
    }
    len = fread(buf, 1, KEYFILE_MAX + 1, f);
    if (ferror(f)) {
        rc = msigi_err(ctx, MSIG_E_IO, "public key %s: cannot read %s: %s", label, path,
                       strerror(errno));
        goto out;
    }
    if (len > KEYFILE_MAX) {
        rc = msigi_err(ctx, MSIG_E_LIMIT, "public key %s: larger than %d bytes, not a key file",
                       label, KEYFILE_MAX);
        goto out;
    }
    if (len == 0) {
        rc = msigi_err(ctx, MSIG_E_KEY, "public key %s: empty file %s", label, path);
        goto out;
    }
    rc = msig_pubkeys_add_mem(keys, buf, len, label);
out:
    if (f)
        fclose(f);
    msigi_free(buf);
    return rc;
}

int msig_pubkeys_add_key(struct msig_pubkeys *keys, struct msig_key *key)
{
    if (!keys)
        return MSIG_E_INVALID;
    if (!key || !key->pub)
        return msigi_err(keys->ctx, MSIG_E_INVALID, "msig_pubkeys_add_key: no key");
    if (!EVP_PKEY_up_ref(key->pub))
        return msigi_err(keys->ctx, MSIG_E_FAILED, "key %s: cannot reference its public key",
                         key->label);
    return add_pkey(keys, key->pub, key->label);
}
