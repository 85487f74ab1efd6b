/* keys.c -- signing keys: route a "scheme:rest" spec to its plugin, open the key, learn its
 * type from the public key the plugin hands back, and apply the key policy (RSA >= 2048 bits
 * or EC P-256) whatever the plugin says. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ctx.h"
#include "loader.h"
#include "signer.h"
#include "sigfmt.h"

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
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = msigi_plug_public_der(ctx, key, &der, &len);
    if (rc != 0)
        return rc;
    const unsigned char *q = der;
    key->pub = d2i_PUBKEY(NULL, &q, (long)len);
    if (!key->pub || (size_t)(q - der) != len) {
        ERR_clear_error();
        rc = msigi_err(ctx, MSIG_E_KEY,
                       "key %s (plugin %s): reading its public key: the "
                       "plugin returned %zu bytes that are not a DER SubjectPublicKeyInfo",
                       key->label, msigi_plugin_name(key->plugin), len);
    }
    msigi_free(der);
    return rc;
}

/* The plugin for spec, and the spec it gets: a spec without a scheme of a loaded plugin is a
 * file path ("file:" added), unless it looks like "scheme:..." and no such file exists, which
 * is a scheme no plugin serves. */
static int route_spec(struct msig_ctx *ctx, struct msig_key *key, const char *spec)
{
    struct msigi_plugin *p = msigi_loader_find_scheme(ctx, spec);
    if (p) {
        key->spec = msigi_strdup(spec);
    } else {
        if (msigi_loader_scheme_len(spec) && access(spec, F_OK) != 0) {
            char *label = msigi_spec_label(spec);
            int rc = msigi_loader_no_scheme(ctx, spec, label ? label : "(spec)");
            msigi_free(label);
            return rc;
        }
        p = msigi_loader_find_scheme(ctx, "file:");
        if (!p)
            return msigi_err(ctx, MSIG_E_UNSUPPORTED,
                             "key %s: no plugin handles this scheme "
                             "and the file plugin is not available",
                             spec);
        size_t n = strlen(spec);
        key->spec = msigi_malloc(n + 6);
        if (key->spec)
            snprintf(key->spec, n + 6, "file:%s", spec);
    }
    key->label = msigi_spec_label(spec);
    if (!key->spec || !key->label)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory opening key %s", spec);
    msigi_plugin_ref(p);
    key->plugin = p;
    return 0;
}

/* After key_open: what the plugin says must agree with what the public key shows. */
static int check_key(struct msig_ctx *ctx, struct msig_key *key)
{
    int rc = msigi_plug_key_info(ctx, key);
    if (rc == 0)
        rc = load_public(ctx, key);
    if (rc == 0)
        rc = classify_pub(ctx, key);
    if (rc != 0)
        return rc;
    const char *pname = msigi_plugin_name(key->plugin);
    /* key_type and bits 0 mean "not known to the plugin"; otherwise they must agree. */
    if ((key->info.key_type && key->info.key_type != key->key_type) ||
        (key->info.bits && key->info.bits != key->bits))
        return msigi_err(ctx, MSIG_E_KEY,
                         "key %s (plugin %s): the plugin says key type %u "
                         "with %u bits, its public key is type %u with %u bits",
                         key->label, pname, (unsigned)key->info.key_type, (unsigned)key->info.bits,
                         (unsigned)key->key_type, (unsigned)key->bits);
    uint32_t need =
        key->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    if (key->info.sig_schemes && !(key->info.sig_schemes & need))
        return msigi_err(ctx, MSIG_E_KEY,
                         "key %s (plugin %s): the key cannot make %s "
                         "signatures",
                         key->label, pname,
                         key->key_type == MSIG_KEY_RSA ? "RSA PKCS#1 v1.5 SHA-256"
                                                       : "ECDSA SHA-256");
    return 0;
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
    if (!key)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory opening key %s", spec);
    key->ctx = ctx;
    key->open_flags = flags;
    rc = route_spec(ctx, key, spec);
    if (rc == 0)
        rc = msigi_plug_key_open(ctx, key);
    if (rc == 0)
        rc = check_key(ctx, key);
    if (rc == 0) {
        *out = key;
        key = NULL; /* transferred */
    }
    msig_key_close(key);
    return rc;
}

void msig_key_close(struct msig_key *key)
{
    if (!key)
        return;
    if (key->plugin) {
        msigi_plug_key_close(key);
        msigi_plugin_unref(key->plugin);
    }
    EVP_PKEY_free(key->pub);
    msigi_free(key->spec);
    msigi_free(key->label);
    msigi_free(key);
}

int msig_key_public_der(struct msig_key *key, uint8_t *buf, size_t cap, size_t *len)
{
    if (!key || !len)
        return MSIG_E_INVALID;
    int n = i2d_PUBKEY(key->pub, NULL);
    if (n <= 0) {
        ERR_clear_error();
        return msigi_err(key->ctx, MSIG_E_FAILED, "key %s: cannot encode its public key",
                         key->label);
    }
    *len = (size_t)n;
    if (!buf)
        return 0;
    if (cap < (size_t)n)
        return msigi_err(key->ctx, MSIG_E_BUFFER_TOO_SMALL,
                         "key %s: the public key needs %d "
                         "bytes, the buffer has %zu",
                         key->label, n, cap);
    unsigned char *q = buf;
    i2d_PUBKEY(key->pub, &q);
    return 0;
}

int msig_key_list(struct msig_ctx *ctx, const char *spec, uint32_t flags, msig_key_list_fn *cb,
                  void *user)
{
    if (!ctx)
        return MSIG_E_INVALID;
    if (!spec || !*spec || !cb)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_key_list: no key spec or callback given");
    msigi_err_clear(ctx);
    if (flags & ~(uint32_t)MSIG_KEY_OPEN_F_NO_PROMPT)
        return msigi_err(ctx, MSIG_E_UNSUPPORTED, "msig_key_list: unknown flags 0x%x",
                         (unsigned)flags);
    struct msigi_plugin *p = msigi_loader_find_scheme(ctx, spec);
    if (p)
        return msigi_plug_key_list(ctx, p, spec, flags, cb, user);
    if (msigi_loader_scheme_len(spec) && access(spec, F_OK) != 0) {
        char *label = msigi_spec_label(spec);
        int rc = msigi_loader_no_scheme(ctx, spec, label ? label : "(spec)");
        msigi_free(label);
        return rc;
    }
    p = msigi_loader_find_scheme(ctx, "file:");
    if (!p)
        return msigi_err(ctx, MSIG_E_UNSUPPORTED, "key %s: the file plugin is not available", spec);
    size_t n = strlen(spec) + 6;
    char *fs = msigi_malloc(n);
    if (!fs)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory listing %s", spec);
    snprintf(fs, n, "file:%s", spec);
    int rc = msigi_plug_key_list(ctx, p, fs, flags, cb, user);
    msigi_free(fs);
    return rc;
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

const char *msigi_key_file(const struct msig_key *key)
{
    return key && key->spec && strncmp(key->spec, "file:", 5) == 0 ? key->spec + 5 : NULL;
}
