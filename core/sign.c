/* sign.c -- the sign flow (hash, plugin signs, convert to the Mender encoding, verify with
 * the key's own public key, base64) and manifest.sig verification against a key set. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ctx.h"
#include "loader.h"
#include "signer.h"
#include "sigfmt.h"

#define SHA256_LEN 32

/* Converts what the plugin returned to the Mender form (RSA: exactly modulus-length bytes;
 * ECDSA P-256: 64 bytes r||s) into out (cap MSIG_HOST_SIG_MAX). */
static int to_mender_form(struct msig_ctx *ctx, const struct msig_key *key, const char *pname,
                          const uint8_t *sig, size_t sig_len, uint32_t fmt, uint8_t *out,
                          size_t *out_len)
{
    if (key->key_type == MSIG_KEY_RSA) {
        size_t want = (size_t)EVP_PKEY_get_size(key->pub);
        if (fmt != MSIG_SIGFMT_NATIVE)
            return msigi_err(ctx, MSIG_E_SIGNATURE,
                             "signature from %s: format %u given for "
                             "an RSA signature (expected native)",
                             pname, (unsigned)fmt);
        /* Mender (Go rsa.VerifyPKCS1v15) needs exactly k bytes; a short one is a plugin
         * bug, not something to pad over. */
        if (sig_len != want)
            return msigi_err(ctx, MSIG_E_SIGNATURE,
                             "signature from %s is %zu bytes, RSA-%u "
                             "needs %zu",
                             pname, sig_len, (unsigned)key->bits, want);
        memcpy(out, sig, sig_len);
        *out_len = sig_len;
        return 0;
    }
    if (fmt == MSIG_SIGFMT_ECDSA_DER) {
        if (msigi_sigfmt_der_to_raw(sig, sig_len, out) != 0)
            return msigi_err(ctx, MSIG_E_SIGNATURE,
                             "signature from %s: %zu bytes that are "
                             "not a DER ECDSA P-256 signature",
                             pname, sig_len);
    } else if (fmt == MSIG_SIGFMT_ECDSA_RAW) {
        if (sig_len != MSIGI_P256_RAW_LEN)
            return msigi_err(ctx, MSIG_E_SIGNATURE,
                             "signature from %s: raw r||s of %zu "
                             "bytes, P-256 needs 64",
                             pname, sig_len);
        memcpy(out, sig, sig_len);
    } else {
        return msigi_err(ctx, MSIG_E_SIGNATURE,
                         "signature from %s: format %u given for an "
                         "ECDSA signature (expected DER or raw)",
                         pname, (unsigned)fmt);
    }
    *out_len = MSIGI_P256_RAW_LEN;
    return 0;
}

/* The one signing path: the plugin signs (digest, or msg when the key wants the message),
 * the result is converted to the Mender form and verified with the key's public key. */
static int sign_checked(struct msig_ctx *ctx, struct msig_key *key, const uint8_t *msg,
                        size_t msg_len, const uint8_t digest[static SHA256_LEN],
                        uint8_t out[static MSIG_HOST_SIG_MAX], size_t *out_len)
{
    const char *pname = msigi_plugin_name(key->plugin);
    uint32_t scheme =
        key->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    size_t cap = key->key_type == MSIG_KEY_RSA ? (size_t)EVP_PKEY_get_size(key->pub) : 72;
    if (key->info.max_sig_len > cap)
        cap = key->info.max_sig_len;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    uint32_t fmt = MSIG_SIGFMT_NATIVE;
    int rc = msigi_plug_sign(ctx, key, scheme, msg, msg_len, digest, cap, &sig, &sig_len, &fmt);
    if (rc == 0)
        rc = to_mender_form(ctx, key, pname, sig, sig_len, fmt, out, out_len);
    msigi_free(sig);
    if (rc != 0)
        return rc;
    char why[256];
    rc = msigi_sigfmt_verify_digest(key->pub, digest, out, *out_len, why, sizeof(why));
    if (rc == MSIG_E_NOMEM)
        return msigi_err(ctx, rc, "out of memory checking the signature");
    if (rc != 0)
        return msigi_err(ctx, MSIG_E_SIGNATURE,
                         "signature from %s does not verify with its "
                         "own public key (%s)",
                         pname, why);
    return 0;
}

int msigi_sign_manifest(struct msig_ctx *ctx, struct msig_key *key, const uint8_t *msg,
                        size_t msg_len, char **b64, size_t *b64_len)
{
    uint8_t digest[SHA256_LEN];
    uint8_t out[MSIG_HOST_SIG_MAX];
    size_t out_len = 0;

    if (!ctx)
        return MSIG_E_INVALID;
    if (!key || !msg || !b64 || !b64_len)
        return msigi_err(ctx, MSIG_E_INVALID, "msigi_sign_manifest: bad argument");
    *b64 = NULL;
    *b64_len = 0;
    if (EVP_Digest(msg, msg_len, digest, NULL, EVP_sha256(), NULL) != 1)
        return msigi_err(ctx, MSIG_E_FAILED, "SHA-256 of the manifest failed");
    int rc = sign_checked(ctx, key, msg, msg_len, digest, out, &out_len);
    if (rc == 0) {
        rc = msigi_sigfmt_b64_encode(out, out_len, b64, b64_len);
        if (rc != 0)
            rc = msigi_err(ctx, rc, "out of memory encoding the signature");
    }
    msigi_wipe(digest, sizeof(digest));
    return rc;
}

/* Puts sig into the caller's buffer, or says how much is needed. */
static int deliver(struct msig_ctx *ctx, const struct msig_key *key, const uint8_t *sig, size_t len,
                   uint8_t *buf, size_t cap, size_t *out_len)
{
    *out_len = len;
    if (!buf || cap < len)
        return msigi_err(ctx, MSIG_E_BUFFER_TOO_SMALL,
                         "key %s: the signature needs %zu bytes, "
                         "the buffer has %zu",
                         key->label, len, buf ? cap : 0);
    memcpy(buf, sig, len);
    return 0;
}

int msig_key_sign_digest(struct msig_key *key, uint32_t scheme, const uint8_t *digest,
                         size_t digest_len, uint32_t out_form, uint8_t *sig, size_t cap,
                         size_t *sig_len)
{
    if (!key || !sig_len)
        return MSIG_E_INVALID;
    struct msig_ctx *ctx = key->ctx;
    msigi_err_clear(ctx);
    *sig_len = 0;
    uint32_t fits =
        key->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    if (!digest || digest_len != SHA256_LEN)
        return msigi_err(ctx, MSIG_E_INVALID,
                         "key %s: a SHA-256 digest of 32 bytes is needed "
                         "(got %zu bytes)",
                         key->label, digest ? digest_len : 0);
    if (scheme != fits)
        return msigi_err(ctx, MSIG_E_UNSUPPORTED,
                         "key %s: signature scheme 0x%x does not fit "
                         "this %s key",
                         key->label, (unsigned)scheme,
                         key->key_type == MSIG_KEY_RSA ? "RSA" : "EC P-256");
    if (out_form != MSIG_SIGOUT_RAW && out_form != MSIG_SIGOUT_DER)
        return msigi_err(ctx, MSIG_E_INVALID, "key %s: unknown signature form %u", key->label,
                         (unsigned)out_form);
    uint8_t out[MSIG_HOST_SIG_MAX];
    size_t out_len = 0;
    int rc = sign_checked(ctx, key, NULL, 0, digest, out, &out_len);
    if (rc != 0)
        return rc;
    if (key->key_type == MSIG_KEY_RSA || out_form == MSIG_SIGOUT_RAW)
        return deliver(ctx, key, out, out_len, sig, cap, sig_len);
    uint8_t *der = NULL;
    size_t der_len = 0;
    rc = msigi_sigfmt_raw_to_der(out, &der, &der_len);
    if (rc != 0)
        return msigi_err(ctx, rc, "key %s: cannot encode the signature as DER", key->label);
    rc = deliver(ctx, key, der, der_len, sig, cap, sig_len);
    msigi_free(der);
    return rc;
}

int msigi_verify_manifest(struct msig_ctx *ctx, const struct msig_pubkeys *keys, const uint8_t *msg,
                          size_t msg_len, const uint8_t *sig_text, size_t sig_text_len, int *which)
{
    int rc = 0;
    uint8_t *sig = NULL;
    size_t sig_len = 0, bad = 0;
    char *report = NULL;

    if (!ctx)
        return MSIG_E_INVALID;
    if (!keys || !msg || (!sig_text && sig_text_len) || !which)
        return msigi_err(ctx, MSIG_E_INVALID, "msigi_verify_manifest: bad argument");
    *which = -1;
    if (keys->count == 0) {
        rc = msigi_err(ctx, MSIG_E_NO_VERIFIER, "signature verification failed: no key given");
        goto out;
    }
    rc = msigi_sigfmt_b64_decode(sig_text ? sig_text : (const uint8_t *)"", sig_text_len, &sig,
                                 &sig_len, &bad);
    if (rc == MSIG_E_FORMAT) {
        rc = msigi_err(ctx, MSIG_E_SIGNATURE,
                       "error decoding signature: illegal base64 data at input byte %zu", bad);
        goto out;
    }
    if (rc != 0) {
        rc = msigi_err(ctx, rc, "error decoding signature: %s", msig_strerror(rc));
        goto out;
    }
    size_t cap = 64 + keys->count * 400;
    report = msigi_malloc(cap);
    if (!report) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory verifying the signature");
        goto out;
    }
    size_t used = (size_t)snprintf(report, cap, "signature verification failed:");
    for (size_t i = 0; i < keys->count; i++) {
        char why[256], desc[80];
        rc = msigi_sigfmt_verify(keys->keys[i].pkey, msg, msg_len, sig, sig_len, why, sizeof(why));
        if (rc == 0) {
            *which = (int)i;
            goto out;
        }
        if (rc == MSIG_E_NOMEM) {
            rc = msigi_err(ctx, rc, "out of memory verifying the signature");
            goto out;
        }
        msigi_sigfmt_describe(keys->keys[i].pkey, desc, sizeof(desc));
        if (used < cap)
            used += (size_t)snprintf(report + used, cap - used, "%s key %zu (%s, %s): %s",
                                     i ? ";" : "", i + 1, keys->keys[i].label, desc, why);
    }
    rc = msigi_err(ctx, MSIG_E_SIGNATURE, "%s", report);
out:
    msigi_free(sig);
    msigi_free(report);
    return rc;
}
