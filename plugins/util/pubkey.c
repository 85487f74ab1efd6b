/* pubkey.c -- public keys in the forms services hand them out (PEM, DER, X.509, JWK) as
 * EVP_PKEY, and base64 on OpenSSL's codec (msigu_evp). Inputs are bounded. */
#include "pubkey.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "plugin_util.h"

#define PUBKEY_IN_MAX (64 * 1024)

static EVP_PKEY *decode_public(const void *data, size_t len)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = data;
    size_t left = len;
    OSSL_DECODER_CTX *dc =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL, NULL);

    if (dc != NULL && !OSSL_DECODER_from_data(dc, &p, &left)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dc);
    return pkey;
}

static EVP_PKEY *decode_cert(const void *data, size_t len)
{
    const unsigned char *p = data;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIO *b = NULL;
    EVP_PKEY *pkey;

    if (x == NULL && (b = BIO_new_mem_buf(data, (int)len)) != NULL)
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    pkey = x != NULL ? X509_get_pubkey(x) : NULL;
    X509_free(x);
    BIO_free(b);
    return pkey;
}

int msigu_pubkey_parse(const struct msig_host *host, const void *data, size_t len, const char *what,
                       EVP_PKEY **out)
{
    *out = NULL;
    if (len == 0 || len > PUBKEY_IN_MAX)
        return msigu_error(host, MSIG_E_KEY,
                           "%s: a public key of %zu bytes (1 to %d "
                           "allowed)",
                           what, len, PUBKEY_IN_MAX);
    *out = decode_public(data, len);
    if (*out == NULL)
        *out = decode_cert(data, len);
    ERR_clear_error();
    if (*out == NULL)
        return msigu_error(host, MSIG_E_KEY, "%s: not a public key or certificate (PEM or DER)",
                           what);
    return 0;
}

/* A base64url JWK member as a big-endian number of at most cap bytes. */
static int jwk_bytes(const json_t *jwk, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    size_t n = s != NULL ? strlen(s) : 0;

    if (s == NULL || n == 0 || n / 4 * 3 > cap + 2)
        return -1;
    return msigu_b64_decode(NULL, s, n, buf, cap, len) == 0 ? 0 : -1;
}

static int jwk_rsa(const json_t *jwk, OSSL_PARAM_BLD *bld, BIGNUM **n, BIGNUM **e)
{
    uint8_t a[1024], b[16];
    size_t alen = 0, blen = 0;

    if (jwk_bytes(jwk, "n", a, sizeof(a), &alen) || jwk_bytes(jwk, "e", b, sizeof(b), &blen))
        return -1;
    *n = BN_bin2bn(a, (int)alen, NULL);
    *e = BN_bin2bn(b, (int)blen, NULL);
    if (*n == NULL || *e == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *e))
        return -1;
    return 0;
}

/* pt belongs to the caller: OSSL_PARAM_BLD keeps the pointer until OSSL_PARAM_BLD_to_param. */
static int jwk_ec(const json_t *jwk, OSSL_PARAM_BLD *bld, uint8_t pt[65])
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    uint8_t x[40], y[40];
    size_t xlen = 0, ylen = 0;

    if (crv == NULL || strcmp(crv, "P-256") != 0 || jwk_bytes(jwk, "x", x, sizeof(x), &xlen) ||
        jwk_bytes(jwk, "y", y, sizeof(y), &ylen) || xlen != 32 || ylen != 32)
        return -1;
    pt[0] = 4;
    memcpy(pt + 1, x, 32);
    memcpy(pt + 33, y, 32);
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 65))
        return -1;
    return 0;
}

int msigu_pubkey_from_jwk_obj(const struct msig_host *host, const json_t *jwk, const char *what,
                              EVP_PKEY **out)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    int rsa = kty != NULL && strncmp(kty, "RSA", 3) == 0, bad;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = NULL;
    BIGNUM *n = NULL, *e = NULL;
    uint8_t point[65];

    *out = NULL;
    bad = bld == NULL || (rsa ? jwk_rsa(jwk, bld, &n, &e) : jwk_ec(jwk, bld, point));
    if (!bad) {
        params = OSSL_PARAM_BLD_to_param(bld);
        pc = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
        bad = params == NULL || pc == NULL || EVP_PKEY_fromdata_init(pc) <= 0 ||
              EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, params) <= 0;
    }
    BN_free(n);
    BN_free(e);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    if (bad)
        return msigu_error(host, MSIG_E_KEY,
                           "%s: a JWK that is not a valid RSA or EC P-256 "
                           "public key (kty %s)",
                           what, kty != NULL ? kty : "missing");
    return 0;
}

int msigu_pubkey_from_jwk(const struct msig_host *host, const char *json, size_t len,
                          const char *what, EVP_PKEY **out)
{
    json_error_t jerr;
    json_t *obj;
    int rc;

    *out = NULL;
    if (len > PUBKEY_IN_MAX)
        return msigu_error(host, MSIG_E_KEY, "%s: a JWK of %zu bytes (at most %d allowed)", what,
                           len, PUBKEY_IN_MAX);
    obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return msigu_error(host, MSIG_E_KEY, "%s: the JWK is not a JSON object (%s)", what,
                           obj == NULL ? jerr.text : "another JSON type");
    }
    rc = msigu_pubkey_from_jwk_obj(host, obj, what, out);
    json_decref(obj);
    return rc;
}

/* ------------------------------------------------------------------ base64 */

static int b64_encode(const struct msig_host *host, const uint8_t *in, size_t len, int url,
                      char **out)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *s;
    int n;

    *out = NULL;
    if (len > (size_t)1 << 28)
        return msigu_error(host, MSIG_E_INVALID, "%zu bytes are too many to encode", len);
    if ((s = msigu_alloc(host, cap)) == NULL)
        return MSIG_E_NOMEM;
    n = EVP_EncodeBlock((unsigned char *)s, in, (int)len);
    if (url) {
        for (int i = 0; i < n; i++)
            s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
        while (n > 0 && s[n - 1] == '=')
            n--;
    }
    /* msigu_strfree frees strlen + 1: keep the rest of the buffer zero for the wipe. */
    memset(s + n, 0, cap - (size_t)n);
    if ((size_t)n + 1 != cap) {
        char *t = msigu_strdup(host, s);
        msigu_free(host, s, cap);
        s = t;
        if (s == NULL)
            return MSIG_E_NOMEM;
    }
    *out = s;
    return 0;
}

int msigu_b64url_encode(const struct msig_host *host, const uint8_t *in, size_t len, char **out)
{
    return b64_encode(host, in, len, 1, out);
}

int msigu_b64_encode(const struct msig_host *host, const uint8_t *in, size_t len, char **out)
{
    return b64_encode(host, in, len, 0, out);
}

/* Copies the alphabet part of in into t as standard base64 and checks what follows is at
 * most two '='. Returns the number of characters, or -1. */
static long b64_normalise(const char *in, size_t len, char *t)
{
    size_t n = 0, i, pad = 0;

    for (i = 0; i < len && in[i] != '='; i++) {
        char c = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -1;
        t[n++] = c;
    }
    for (; i < len; i++)
        if (in[i] != '=' || ++pad > 2)
            return -1;
    return n % 4 == 1 ? -1 : (long)n;
}

int msigu_b64_decode(const struct msig_host *host, const char *in, size_t len, uint8_t *out,
                     size_t cap, size_t *out_len)
{
    uint8_t tmp[3];
    char quad[4];
    long n;
    size_t o = 0, pad;
    char *t;

    *out_len = 0;
    if (len > (size_t)1 << 28 || (t = OPENSSL_malloc(len + 1)) == NULL)
        return msigu_error(host, MSIG_E_NOMEM, "cannot decode %zu base64 characters", len);
    n = b64_normalise(in, len, t);
    for (long i = 0; n >= 0 && i < n; i += 4) {
        size_t k = (size_t)(n - i) < 4 ? (size_t)(n - i) : 4;

        memcpy(quad, t + i, k);
        for (pad = 0; k + pad < 4; pad++)
            quad[k + pad] = '=';
        if (EVP_DecodeBlock(tmp, (unsigned char *)quad, 4) != 3 || o + 3 - pad > cap) {
            n = -2;
            break;
        }
        memcpy(out + o, tmp, 3 - pad);
        o += 3 - pad;
    }
    OPENSSL_clear_free(t, len + 1);
    OPENSSL_cleanse(tmp, sizeof(tmp));
    if (n == -2 && o + 3 > cap)
        return msigu_error(host, MSIG_E_BUFFER_TOO_SMALL,
                           "base64 data longer than the %zu "
                           "bytes expected",
                           cap);
    if (n < 0)
        return msigu_error(host, MSIG_E_INVALID, "not base64 or base64url (%zu characters)", len);
    *out_len = o;
    return 0;
}
