/* sigfmt.c -- signature encodings: ECDSA DER <-> r||s, the base64 layer of manifest.sig
 * (Go StdEncoding rules, so we accept and reject what mender-artifact does), and
 * verification of one signature with one key in the Mender encodings. */
#include "sigfmt.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "ctx.h"

#define P256_FIELD_LEN 32

int msigi_sigfmt_der_to_raw(const uint8_t *der, size_t der_len,
                            uint8_t raw[static MSIGI_P256_RAW_LEN])
{
    int rc = MSIG_E_FORMAT;
    ECDSA_SIG *sig = NULL;
    unsigned char *re = NULL;
    const unsigned char *p = der;

    if (!der || der_len == 0 || der_len > 1024)
        goto out;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!sig || (size_t)(p - der) != der_len)
        goto out;
    /* Strict DER: the canonical re-encoding must give the same bytes (no long-form or
     * padded lengths, no superfluous leading zeros). */
    int re_len = i2d_ECDSA_SIG(sig, &re);
    if (re_len <= 0 || (size_t)re_len != der_len || memcmp(re, der, der_len) != 0)
        goto out;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_is_negative(r) || BN_is_negative(s) || BN_num_bytes(r) > P256_FIELD_LEN ||
        BN_num_bytes(s) > P256_FIELD_LEN)
        goto out;
    if (BN_bn2binpad(r, raw, P256_FIELD_LEN) != P256_FIELD_LEN ||
        BN_bn2binpad(s, raw + P256_FIELD_LEN, P256_FIELD_LEN) != P256_FIELD_LEN)
        goto out;
    rc = 0;
out:
    OPENSSL_free(re);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return rc;
}

int msigi_sigfmt_raw_to_der(const uint8_t raw[static MSIGI_P256_RAW_LEN], uint8_t **der,
                            size_t *der_len)
{
    int rc = MSIG_E_FORMAT;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, P256_FIELD_LEN, NULL);
    BIGNUM *s = BN_bin2bn(raw + P256_FIELD_LEN, P256_FIELD_LEN, NULL);
    unsigned char *enc = NULL;

    *der = NULL;
    *der_len = 0;
    if (!sig || !r || !s) {
        rc = MSIG_E_NOMEM;
        goto out;
    }
    if (!ECDSA_SIG_set0(sig, r, s))
        goto out;
    r = s = NULL; /* transferred */
    int n = i2d_ECDSA_SIG(sig, &enc);
    if (n <= 0)
        goto out;
    *der = msigi_malloc((size_t)n);
    if (!*der) {
        rc = MSIG_E_NOMEM;
        goto out;
    }
    memcpy(*der, enc, (size_t)n);
    *der_len = (size_t)n;
    rc = 0;
out:
    OPENSSL_free(enc);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return rc;
}

int msigi_sigfmt_b64_encode(const uint8_t *in, size_t in_len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (in_len > (size_t)1 << 20)
        return MSIG_E_LIMIT;
    size_t cap = 4 * ((in_len + 2) / 3) + 1;
    char *buf = msigi_malloc(cap);
    if (!buf)
        return MSIG_E_NOMEM;
    int n = EVP_EncodeBlock((unsigned char *)buf, in, (int)in_len);
    buf[n] = '\0';
    *out = buf;
    *out_len = (size_t)n;
    return 0;
}

static int b64_value(uint8_t c)
{
    /* Only used to classify bytes; the decoding itself is EVP_DecodeBlock's. */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static int is_nl(uint8_t c)
{
    return c == '\r' || c == '\n';
}

/* Checks the text the way Go's StdEncoding.Decode does (non-strict mode) and collects the
 * alphabet characters and padding into clean[]. Returns 0 or MSIG_E_FORMAT with *bad. */
static int b64_scan(const uint8_t *in, size_t n, uint8_t *clean, size_t *clean_len, size_t *bad)
{
    size_t si = 0, cl = 0;
    for (;;) {
        size_t j;
        for (j = 0; j < 4; j++) {
            if (si == n) {
                if (j == 0) {
                    *clean_len = cl;
                    return 0;
                }
                *bad = si - j; /* missing padding */
                return MSIG_E_FORMAT;
            }
            uint8_t c = in[si++];
            if (b64_value(c)) {
                clean[cl++] = c;
                continue;
            }
            if (is_nl(c)) {
                j--;
                continue;
            }
            if (c != '=' || j < 2) {
                *bad = si - 1;
                return MSIG_E_FORMAT;
            }
            /* Padding: the end of the data. */
            clean[cl++] = '=';
            if (j == 2) {
                while (si < n && is_nl(in[si]))
                    si++;
                if (si == n) {
                    *bad = n;
                    return MSIG_E_FORMAT;
                }
                if (in[si] != '=') {
                    *bad = si - 1;
                    return MSIG_E_FORMAT;
                }
                clean[cl++] = '=';
                si++;
            }
            while (si < n && is_nl(in[si]))
                si++;
            if (si < n) {
                *bad = si; /* trailing garbage */
                return MSIG_E_FORMAT;
            }
            *clean_len = cl;
            return 0;
        }
    }
}

int msigi_sigfmt_b64_decode(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                            size_t *bad_offset)
{
    int rc = 0;
    uint8_t *clean = NULL, *buf = NULL;
    size_t clean_len = 0;

    *out = NULL;
    *out_len = 0;
    *bad_offset = 0;
    if (in_len > (size_t)1 << 20)
        return MSIG_E_LIMIT;
    clean = msigi_malloc(in_len + 1);
    buf = msigi_malloc(in_len / 4 * 3 + 3);
    if (!clean || !buf) {
        rc = MSIG_E_NOMEM;
        goto out;
    }
    rc = b64_scan(in, in_len, clean, &clean_len, bad_offset);
    if (rc != 0)
        goto out;
    size_t pad = 0;
    if (clean_len > 0 && clean[clean_len - 1] == '=')
        pad++;
    if (clean_len > 1 && clean[clean_len - 2] == '=')
        pad++;
    int n = clean_len ? EVP_DecodeBlock(buf, clean, (int)clean_len) : 0;
    if (n < 0 || (size_t)n < pad) {
        *bad_offset = 0;
        rc = MSIG_E_FORMAT;
        goto out;
    }
    *out = buf;
    *out_len = (size_t)n - pad;
    buf = NULL; /* transferred */
out:
    msigi_free(clean);
    msigi_free(buf);
    return rc;
}

int msigi_sigfmt_is_p256(EVP_PKEY *pkey)
{
    char group[64];
    size_t len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC"))
        return 0;
    if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len))
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

void msigi_sigfmt_describe(EVP_PKEY *pkey, char *buf, size_t cap)
{
    char group[64];
    size_t len = 0;
    if (EVP_PKEY_is_a(pkey, "RSA-PSS"))
        snprintf(buf, cap, "RSA-PSS %d", EVP_PKEY_get_bits(pkey));
    else if (EVP_PKEY_is_a(pkey, "RSA"))
        snprintf(buf, cap, "RSA %d", EVP_PKEY_get_bits(pkey));
    else if (msigi_sigfmt_is_p256(pkey))
        snprintf(buf, cap, "EC P-256");
    else if (EVP_PKEY_is_a(pkey, "EC") && EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len))
        snprintf(buf, cap, "EC %s", group);
    else
        snprintf(buf, cap, "%s",
                 EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey)
                                               : "unknown key type");
    ERR_clear_error();
}

/* Verifies over a SHA-256 digest computed beforehand (msg is the 32-byte digest). */
static int prehashed_verify(EVP_PKEY *pkey, const uint8_t *digest, size_t digest_len,
                            const uint8_t *sig, size_t sig_len, char *why, size_t why_cap)
{
    int rc = MSIG_E_SIGNATURE;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!pc) {
        snprintf(why, why_cap, "out of memory");
        rc = MSIG_E_NOMEM;
        goto out;
    }
    if (EVP_PKEY_verify_init(pc) != 1 || EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) != 1) {
        snprintf(why, why_cap, "cannot set up SHA-256 verification with this key");
        goto out;
    }
    if (EVP_PKEY_verify(pc, sig, sig_len, digest, digest_len) != 1) {
        snprintf(why, why_cap, "verification error");
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    return rc;
}

static int message_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                          size_t sig_len, char *why, size_t why_cap)
{
    int rc = MSIG_E_SIGNATURE;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) {
        snprintf(why, why_cap, "out of memory");
        rc = MSIG_E_NOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1) {
        snprintf(why, why_cap, "cannot set up SHA-256 verification with this key");
        goto out;
    }
    if (EVP_DigestVerify(md, sig, sig_len, msg, msg_len) != 1) {
        snprintf(why, why_cap, "verification error");
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return rc;
}

typedef int verify_fn(EVP_PKEY *pkey, const uint8_t *data, size_t len, const uint8_t *sig,
                      size_t sig_len, char *why, size_t why_cap);

static int verify_encoded(EVP_PKEY *pkey, verify_fn *digest_verify, const uint8_t *msg,
                          size_t msg_len, const uint8_t *sig, size_t sig_len, char *why,
                          size_t why_cap)
{
    int rc = MSIG_E_SIGNATURE;
    uint8_t *der = NULL;
    size_t der_len = 0;

    why[0] = '\0';
    if (EVP_PKEY_is_a(pkey, "RSA") && !EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        int k = EVP_PKEY_get_size(pkey);
        if (k <= 0 || sig_len != (size_t)k) {
            snprintf(why, why_cap, "signature is %zu bytes, RSA-%d needs %d", sig_len,
                     EVP_PKEY_get_bits(pkey), k);
            goto out;
        }
        rc = digest_verify(pkey, msg, msg_len, sig, sig_len, why, why_cap);
        goto out;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        if (!msigi_sigfmt_is_p256(pkey)) {
            char desc[80];
            msigi_sigfmt_describe(pkey, desc, sizeof(desc));
            snprintf(why, why_cap, "%s keys are not supported (ECDSA needs P-256)", desc);
            goto out;
        }
        if (sig_len == MSIGI_P256_RAW_LEN) {
            rc = msigi_sigfmt_raw_to_der(sig, &der, &der_len);
            if (rc != 0) {
                snprintf(why, why_cap, "cannot convert the 64-byte r||s signature to DER");
                rc = rc == MSIG_E_NOMEM ? rc : MSIG_E_SIGNATURE;
                goto out;
            }
            rc = digest_verify(pkey, msg, msg_len, der, der_len, why, why_cap);
            goto out;
        }
        uint8_t raw[MSIGI_P256_RAW_LEN];
        if (msigi_sigfmt_der_to_raw(sig, sig_len, raw) != 0) {
            snprintf(why, why_cap,
                     "signature is %zu bytes, neither 64-byte r||s nor DER ECDSA for P-256",
                     sig_len);
            goto out;
        }
        rc = digest_verify(pkey, msg, msg_len, sig, sig_len, why, why_cap);
        goto out;
    }
    char desc[80];
    msigi_sigfmt_describe(pkey, desc, sizeof(desc));
    snprintf(why, why_cap, "%s keys are not supported", desc);
out:
    msigi_free(der);
    return rc;
}

int msigi_sigfmt_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len, char *why, size_t why_cap)
{
    return verify_encoded(pkey, message_verify, msg, msg_len, sig, sig_len, why, why_cap);
}

int msigi_sigfmt_verify_digest(EVP_PKEY *pkey, const uint8_t digest[static 32], const uint8_t *sig,
                               size_t sig_len, char *why, size_t why_cap)
{
    return verify_encoded(pkey, prehashed_verify, digest, 32, sig, sig_len, why, why_cap);
}
