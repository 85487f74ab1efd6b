/* evpsign.c -- the Mender key policy, key_info, the public key and digest signing for keys
 * held in an OpenSSL EVP_PKEY (msigu_evp). */
#include "evpsign.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "plugin_util.h"

/* "what: " or "" */
#define WHAT(w) \
    ((w) != NULL && (w)[0] != '\0' ? (w) : ""), ((w) != NULL && (w)[0] != '\0' ? ": " : "")

static int policy_ec(const struct msig_host *host, EVP_PKEY *pkey, const char *what,
                     uint32_t *key_type, uint32_t *bits)
{
    char group[64];
    size_t glen = 0;

    if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen))
        snprintf(group, sizeof(group), "(unknown)");
    if (strcmp(group, "prime256v1") != 0)
        return msigu_error(host, MSIG_E_KEY,
                           "%s%sEC key on curve %s refused: Mender ECDSA "
                           "signatures need P-256 (prime256v1)",
                           WHAT(what), group);
    *key_type = MSIG_KEY_EC_P256;
    *bits = 256;
    return 0;
}

int msigu_evp_policy(const struct msig_host *host, EVP_PKEY *pkey, const char *what,
                     uint32_t *key_type, uint32_t *bits)
{
    const char *t;
    int n;

    if (EVP_PKEY_is_a(pkey, "RSA-PSS"))
        return msigu_error(host, MSIG_E_KEY,
                           "%s%sRSA-PSS keys are not supported: Mender "
                           "verifies RSA PKCS#1 v1.5 signatures",
                           WHAT(what));
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        n = EVP_PKEY_get_bits(pkey);
        if (n < 2048)
            return msigu_error(host, MSIG_E_KEY,
                               "%s%sRSA key of %d bits refused: at least "
                               "2048 bits are required",
                               WHAT(what), n);
        *key_type = MSIG_KEY_RSA;
        *bits = (uint32_t)n;
        return 0;
    }
    if (EVP_PKEY_is_a(pkey, "EC"))
        return policy_ec(host, pkey, what, key_type, bits);
    t = EVP_PKEY_get0_type_name(pkey);
    return msigu_error(host, MSIG_E_KEY,
                       "%s%s%s keys are not supported: Mender Artifacts are "
                       "signed with RSA (>= 2048 bits) or ECDSA P-256",
                       WHAT(what), t != NULL ? t : "unknown");
}

int msigu_evp_key_info(EVP_PKEY *pkey, uint32_t key_type, uint32_t bits, uint32_t extra_flags,
                       struct msig_key_info *info)
{
    int der_len = i2d_PUBKEY(pkey, NULL);

    if (!MSIG_HAS_FIELD(info, struct msig_key_info, pub_der_len))
        return MSIG_E_ABI;
    if (der_len <= 0)
        return MSIG_E_FAILED;
    info->key_type = key_type;
    info->bits = bits;
    info->sig_schemes =
        key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    info->flags = extra_flags;
    info->max_sig_len = (size_t)EVP_PKEY_get_size(pkey);
    info->pub_der_len = (size_t)der_len;
    return 0;
}

int msigu_evp_public_der(const struct msig_host *host, EVP_PKEY *pkey, uint8_t *buf, size_t cap,
                         size_t *len)
{
    int n = i2d_PUBKEY(pkey, NULL);
    unsigned char *p = buf;

    if (n <= 0)
        return msigu_error(host, MSIG_E_FAILED, "cannot encode the public key as DER");
    *len = (size_t)n;
    if (cap < (size_t)n)
        return MSIG_E_BUFFER_TOO_SMALL;
    if (i2d_PUBKEY(pkey, &p) != n)
        return msigu_error(host, MSIG_E_FAILED, "cannot encode the public key as DER");
    return 0;
}

const char *msigu_ossl_error(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();

    buf[0] = '\0';
    if (e != 0)
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

static int sign_fail(const struct msig_host *host, const char *step)
{
    char err[256];

    return msigu_error(host, MSIG_E_FAILED, "%s: %s", step, msigu_ossl_error(err, sizeof(err)));
}

/* The context for a PKCS#1 v1.5 or ECDSA SHA-256 signature of a digest. */
static int sign_setup(const struct msig_host *host, EVP_PKEY_CTX *pc, int rsa)
{
    if (EVP_PKEY_sign_init(pc) != 1)
        return sign_fail(host, "cannot start signing");
    if (rsa && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1)
        return sign_fail(host, "cannot select PKCS#1 v1.5 padding");
    if (EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) != 1)
        return sign_fail(host, "cannot select SHA-256");
    return 0;
}

int msigu_evp_sign_digest(const struct msig_host *host, EVP_PKEY *pkey, OSSL_LIB_CTX *libctx,
                          const char *propq, uint32_t scheme, const uint8_t *digest,
                          size_t digest_len, uint8_t *sig, size_t cap, size_t *sig_len,
                          uint32_t *sig_fmt)
{
    int rsa = EVP_PKEY_is_a(pkey, "RSA");
    uint32_t want = rsa ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    size_t need = (size_t)EVP_PKEY_get_size(pkey), n = cap;
    EVP_PKEY_CTX *pc;
    int rc;

    if (scheme != want)
        return msigu_error(host, MSIG_E_UNSUPPORTED,
                           "signature scheme 0x%x does not fit this "
                           "%s key",
                           (unsigned)scheme, rsa ? "RSA" : "EC");
    if (digest_len != 32)
        return msigu_error(host, MSIG_E_INVALID, "a digest of %zu bytes: SHA-256 needs 32",
                           digest_len);
    if (cap < need) {
        *sig_len = need;
        return MSIG_E_BUFFER_TOO_SMALL;
    }
    pc = EVP_PKEY_CTX_new_from_pkey(libctx, pkey, propq);
    if (pc == NULL)
        return sign_fail(host, "cannot set up signing");
    rc = sign_setup(host, pc, rsa);
    if (rc == 0 && EVP_PKEY_sign(pc, sig, &n, digest, digest_len) != 1)
        rc = sign_fail(host, "signing failed");
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    if (rc != 0)
        return rc;
    *sig_len = n;
    *sig_fmt = rsa ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_DER;
    return 0;
}
