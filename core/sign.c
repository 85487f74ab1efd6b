/* sign.c -- the sign flow (hash, plugin signs, convert to the Mender encoding, verify with
 * the key's own public key, base64) and manifest.sig verification against a key set. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ctx.h"
#include "loader.h"
#include "signer.h"
#include "sigfmt.h"

#define SIG_MAX 16384
#define SHA256_LEN 32

/* Calls the plugin's sign op with a buffer of cap bytes; one retry when the plugin says
 * MSIG_E_BUFFER_TOO_SMALL with a larger size. *sig is msigi_malloc'd. */
static int plugin_sign(struct msig_ctx *ctx, struct msig_key *key, uint32_t scheme,
                       const uint8_t *msg, size_t msg_len, const uint8_t *digest, size_t cap,
                       uint8_t **sig, size_t *sig_len, uint32_t *fmt)
{
    int rc = 0;
    struct msigi_plugin *p = key->plugin;
    uint8_t *buf = NULL;
    int use_msg = p->desc.sign_message &&
                  (key->info.flags & MSIG_KEYINFO_F_PREFER_MESSAGE);
    char what[200];
    snprintf(what, sizeof(what), "signing with key %s (plugin %s)", key->label, p->desc.name);

    *sig = NULL;
    *sig_len = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (cap > SIG_MAX) {
            rc = msigi_err(ctx, MSIG_E_LIMIT, "%s: signature buffer of %zu bytes needed "
                           "(limit %d)", what, cap, SIG_MAX);
            goto out;
        }
        msigi_free(buf);
        buf = msigi_calloc(1, cap);
        if (!buf) {
            rc = msigi_err(ctx, MSIG_E_NOMEM, "%s: out of memory", what);
            goto out;
        }
        size_t len = cap;
        *fmt = MSIG_SIGFMT_NATIVE;
        msigi_loader_call_begin(p);
        if (use_msg)
            rc = p->desc.sign_message(key->handle, scheme, msg, msg_len, buf, cap, &len, fmt);
        else
            rc = p->desc.sign_digest(key->handle, scheme, digest, SHA256_LEN, buf, cap, &len,
                                     fmt);
        if (rc == MSIG_E_BUFFER_TOO_SMALL && attempt == 0 && len > cap) {
            msigi_loader_call_end(p, 0, what);
            cap = len;
            continue;
        }
        rc = msigi_loader_call_end(p, rc, what);
        if (rc != 0)
            goto out;
        if (len > cap || len == 0) {
            rc = msigi_err(ctx, MSIG_E_ABI, "%s: plugin reported a %zu-byte signature in a "
                           "%zu-byte buffer", what, len, cap);
            goto out;
        }
        *sig = buf;
        *sig_len = len;
        buf = NULL; /* transferred */
        goto out;
    }
out:
    msigi_free(buf);
    return rc;
}

int msigi_sign_manifest(struct msig_ctx *ctx, struct msig_key *key, const uint8_t *msg,
                        size_t msg_len, char **b64, size_t *b64_len)
{
    int rc = 0;
    uint8_t digest[SHA256_LEN];
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    uint8_t raw[MSIGI_P256_RAW_LEN];
    const uint8_t *final = NULL;
    size_t final_len = 0;
    uint32_t fmt = MSIG_SIGFMT_NATIVE;

    if (!ctx)
        return MSIG_E_INVALID;
    if (!key || !msg || !b64 || !b64_len)
        return msigi_err(ctx, MSIG_E_INVALID, "msigi_sign_manifest: bad argument");
    *b64 = NULL;
    *b64_len = 0;
    const char *pname = key->plugin->desc.name;
    if (EVP_Digest(msg, msg_len, digest, NULL, EVP_sha256(), NULL) != 1) {
        rc = msigi_err(ctx, MSIG_E_FAILED, "SHA-256 of the manifest failed");
        goto out;
    }
    uint32_t scheme;
    size_t want, cap;
    if (key->key_type == MSIG_KEY_RSA) {
        scheme = MSIG_SIG_RSA_PKCS1_SHA256;
        want = (size_t)EVP_PKEY_get_size(key->pub);
        cap = want;
    } else {
        scheme = MSIG_SIG_ECDSA_SHA256;
        want = MSIGI_P256_RAW_LEN;
        cap = 72; /* the longest DER ECDSA-Sig-Value for P-256 */
    }
    if (key->info.max_sig_len > cap)
        cap = key->info.max_sig_len;
    rc = plugin_sign(ctx, key, scheme, msg, msg_len, digest, cap, &sig, &sig_len, &fmt);
    if (rc != 0)
        goto out;

    if (key->key_type == MSIG_KEY_RSA) {
        if (fmt != MSIG_SIGFMT_NATIVE) {
            rc = msigi_err(ctx, MSIG_E_SIGNATURE, "signature from %s: format %u given for an "
                           "RSA signature (expected native)", pname, (unsigned)fmt);
            goto out;
        }
        /* Mender (Go rsa.VerifyPKCS1v15) needs exactly k bytes; a short one is a plugin
         * bug, not something to pad over. */
        if (sig_len != want) {
            rc = msigi_err(ctx, MSIG_E_SIGNATURE, "signature from %s is %zu bytes, RSA-%u "
                           "needs %zu", pname, sig_len, (unsigned)key->bits, want);
            goto out;
        }
        final = sig;
        final_len = sig_len;
    } else if (fmt == MSIG_SIGFMT_ECDSA_DER) {
        if (msigi_sigfmt_der_to_raw(sig, sig_len, raw) != 0) {
            rc = msigi_err(ctx, MSIG_E_SIGNATURE, "signature from %s: %zu bytes that are not "
                           "a DER ECDSA P-256 signature", pname, sig_len);
            goto out;
        }
        final = raw;
        final_len = sizeof(raw);
    } else if (fmt == MSIG_SIGFMT_ECDSA_RAW) {
        if (sig_len != MSIGI_P256_RAW_LEN) {
            rc = msigi_err(ctx, MSIG_E_SIGNATURE, "signature from %s: raw r||s of %zu bytes, "
                           "P-256 needs 64", pname, sig_len);
            goto out;
        }
        final = sig;
        final_len = sig_len;
    } else {
        rc = msigi_err(ctx, MSIG_E_SIGNATURE, "signature from %s: format %u given for an ECDSA "
                       "signature (expected DER or raw)", pname, (unsigned)fmt);
        goto out;
    }

    char why[256];
    rc = msigi_sigfmt_verify(key->pub, msg, msg_len, final, final_len, why, sizeof(why));
    if (rc == MSIG_E_NOMEM) {
        rc = msigi_err(ctx, rc, "out of memory checking the signature");
        goto out;
    }
    if (rc != 0) {
        rc = msigi_err(ctx, MSIG_E_SIGNATURE,
                       "signature from %s does not verify with its own public key (%s)", pname,
                       why);
        goto out;
    }
    rc = msigi_sigfmt_b64_encode(final, final_len, b64, b64_len);
    if (rc != 0)
        rc = msigi_err(ctx, rc, "out of memory encoding the signature");
out:
    msigi_free(sig);
    msigi_wipe(digest, sizeof(digest));
    return rc;
}

int msigi_verify_manifest(struct msig_ctx *ctx, const struct msig_pubkeys *keys,
                          const uint8_t *msg, size_t msg_len, const uint8_t *sig_text,
                          size_t sig_text_len, int *which)
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
        rc = msigi_sigfmt_verify(keys->keys[i].pkey, msg, msg_len, sig, sig_len, why,
                                 sizeof(why));
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
