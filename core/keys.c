/* keys.c -- signing keys: route a "scheme:rest" spec to its plugin, open the key, learn its
 * type from the public key the plugin hands back, and apply the key policy (RSA >= 2048 bits
 * or EC P-256) whatever the plugin says. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ctx.h"
#include "loader.h"
#include "sigfmt.h"

#define PUB_DER_MAX 65536
#define PUB_DER_DEFAULT 16384

/* What the core derives from the public key and refuses. */
static int classify_pub(struct msig_ctx *ctx, struct msig_key *key)
{
    char desc[80];
    msigi_sigfmt_describe(key->pub, desc, sizeof(desc));
    if (EVP_PKEY_is_a(key->pub, "RSA") && !EVP_PKEY_is_a(key->pub, "RSA-PSS")) {
        int bits = EVP_PKEY_get_bits(key->pub);
        if (bits < 2048)
            return msigi_err(ctx, MSIG_E_KEY,
                             "key %s: RSA key of %d bits refused: at least 2048 bits are "
                             "required",
                             key->label, bits);
        key->key_type = MSIG_KEY_RSA;
        key->bits = (uint32_t)bits;
        return 0;
    }
    if (msigi_sigfmt_is_p256(key->pub)) {
        key->key_type = MSIG_KEY_EC_P256;
        key->bits = 256;
        return 0;
    }
    return msigi_err(ctx, MSIG_E_KEY,
                     "key %s: %s keys are not supported: Mender signatures use RSA (>= 2048 "
                     "bits) or ECDSA P-256",
                     key->label, desc);
}

static int load_public(struct msig_ctx *ctx, struct msig_key *key)
{
    int rc = 0;
    struct msigi_plugin *p = key->plugin;
    size_t cap = key->info.pub_der_len ? key->info.pub_der_len : PUB_DER_DEFAULT;
    uint8_t *buf = NULL;
    char what[160];
    snprintf(what, sizeof(what), "key %s: reading its public key", key->label);

    for (int attempt = 0; attempt < 2; attempt++) {
        if (cap > PUB_DER_MAX) {
            rc = msigi_err(ctx, MSIG_E_LIMIT, "%s: plugin %s needs %zu bytes (limit %d)", what,
                           p->desc.name, cap, PUB_DER_MAX);
            goto out;
        }
        msigi_free(buf);
        buf = msigi_malloc(cap);
        if (!buf) {
            rc = msigi_err(ctx, MSIG_E_NOMEM, "%s: out of memory", what);
            goto out;
        }
        size_t len = cap;
        msigi_loader_call_begin(p);
        rc = p->desc.key_public_der(key->handle, buf, cap, &len);
        if (rc == MSIG_E_BUFFER_TOO_SMALL && attempt == 0 && len > cap) {
            msigi_loader_call_end(p, 0, what);
            cap = len;
            continue;
        }
        rc = msigi_loader_call_end(p, rc, what);
        if (rc != 0)
            goto out;
        if (len > cap) {
            rc = msigi_err(ctx, MSIG_E_ABI, "%s: plugin %s reported %zu bytes in a %zu-byte "
                           "buffer", what, p->desc.name, len, cap);
            goto out;
        }
        const unsigned char *q = buf;
        key->pub = d2i_PUBKEY(NULL, &q, (long)len);
        if (!key->pub || (size_t)(q - buf) != len) {
            ERR_clear_error();
            rc = msigi_err(ctx, MSIG_E_KEY,
                           "%s: plugin %s returned %zu bytes that are not a DER "
                           "SubjectPublicKeyInfo",
                           what, p->desc.name, len);
            goto out;
        }
        rc = 0;
        goto out;
    }
out:
    msigi_free(buf);
    return rc;
}

int msig_key_open(struct msig_ctx *ctx, const char *spec, uint32_t flags, struct msig_key **out)
{
    int rc = 0;
    struct msig_key *key = NULL;

    if (!ctx)
        return MSIG_E_INVALID;
    if (!spec || !*spec || !out)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_key_open: no key spec given");
    *out = NULL;
    msigi_err_clear(ctx);
    if (flags & ~(uint32_t)MSIG_KEY_OPEN_F_NO_PROMPT)
        return msigi_err(ctx, MSIG_E_UNSUPPORTED, "msig_key_open: unknown flags 0x%x",
                         (unsigned)flags);
    key = msigi_calloc(1, sizeof(*key));
    if (!key) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory opening key %s", spec);
        goto out;
    }
    key->ctx = ctx;
    struct msigi_plugin *p = msigi_loader_find_scheme(ctx, spec);
    if (p) {
        key->spec = msigi_strdup(spec);
    } else {
        /* No known scheme: a file path, as with mender-artifact -k FILE. */
        p = msigi_loader_find_scheme(ctx, "file:");
        if (!p) {
            rc = msigi_err(ctx, MSIG_E_UNSUPPORTED,
                           "key %s: no plugin handles this scheme and the file plugin is not "
                           "available",
                           spec);
            goto out;
        }
        size_t n = strlen(spec);
        key->spec = msigi_malloc(n + 6);
        if (key->spec)
            snprintf(key->spec, n + 6, "file:%s", spec);
    }
    key->label = msigi_strdup(spec);
    if (!key->spec || !key->label) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory opening key %s", spec);
        goto out;
    }
    key->plugin = p;
    rc = msigi_loader_instance(ctx, p);
    if (rc != 0)
        goto out;

    char what[200];
    snprintf(what, sizeof(what), "key %s", key->label);
    msigi_loader_call_begin(p);
    p->no_prompt = (flags & MSIG_KEY_OPEN_F_NO_PROMPT) != 0;
    void *h = NULL;
    rc = p->desc.key_open(p->inst, key->spec, flags, &h);
    p->no_prompt = 0;
    rc = msigi_loader_call_end(p, rc, what);
    if (rc != 0)
        goto out;
    if (!h) {
        rc = msigi_err(ctx, MSIG_E_ABI, "%s: plugin %s returned success and no key handle",
                       what, p->desc.name);
        goto out;
    }
    key->handle = h;
    p->open_keys++;

    key->info.struct_size = sizeof(key->info);
    msigi_loader_call_begin(p);
    rc = p->desc.key_info(key->handle, &key->info);
    key->info.struct_size = sizeof(key->info);
    rc = msigi_loader_call_end(p, rc, what);
    if (rc != 0)
        goto out;
    rc = load_public(ctx, key);
    if (rc != 0)
        goto out;
    rc = classify_pub(ctx, key);
    if (rc != 0)
        goto out;
    /* key_type and bits 0 mean "not known to the plugin"; otherwise they must agree. */
    if ((key->info.key_type && key->info.key_type != key->key_type) ||
        (key->info.bits && key->info.bits != key->bits)) {
        rc = msigi_err(ctx, MSIG_E_KEY,
                       "%s: plugin %s says key type %u with %u bits, its public key is type "
                       "%u with %u bits",
                       what, p->desc.name, (unsigned)key->info.key_type,
                       (unsigned)key->info.bits, (unsigned)key->key_type,
                       (unsigned)key->bits);
        goto out;
    }
    uint32_t need = key->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256
                                                  : MSIG_SIG_ECDSA_SHA256;
    if (key->info.sig_schemes && !(key->info.sig_schemes & need)) {
        rc = msigi_err(ctx, MSIG_E_KEY, "%s: the key cannot make %s signatures", what,
                       key->key_type == MSIG_KEY_RSA ? "RSA PKCS#1 v1.5 SHA-256"
                                                     : "ECDSA SHA-256");
        goto out;
    }
    *out = key;
    key = NULL; /* transferred */
out:
    msig_key_close(key);
    return rc;
}

void msig_key_close(struct msig_key *key)
{
    if (!key)
        return;
    if (key->handle) {
        struct msigi_plugin *p = key->plugin;
        msigi_loader_call_begin(p);
        p->desc.key_close(key->handle);
        msigi_loader_call_end(p, 0, "key_close");
        p->open_keys--;
    }
    EVP_PKEY_free(key->pub);
    msigi_free(key->spec);
    msigi_free(key->label);
    msigi_free(key);
}

int msig_key_describe(struct msig_key *key, uint32_t *key_type, uint32_t *bits)
{
    if (!key)
        return MSIG_E_INVALID;
    if (key_type)
        *key_type = key->key_type;
    if (bits)
        *bits = key->bits;
    return 0;
}
