/* ossl.c -- the ossl signer plugin: "ossl:URI" opens URI (handle:0x81000001, object:FILE, a
 * TSS2 PEM file, a provider's own URI) with OSSL_STORE in a private library context, with the
 * providers of the parameters ossl.provider, ossl.provider_path, ossl.conf. Signing is pinned
 * to the provider that holds the key (property query "?provider=NAME", or ossl.propquery),
 * so a default-provider implementation never receives a key it cannot use. Passwords and TPM
 * auth values come through the host's PIN sources. The key object (and so any transient TPM
 * object) lives only while the key is open. */
#include "ossl.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include <openssl/ui.h>

#include "evpsign.h"
#include "plugin_util.h"
#include "secret.h"

struct oinst {
    const struct msig_host *host;
};

struct okey {
    const struct msig_host *host;
    struct ossl_ctx ctx;
    EVP_PKEY *pkey;
    char propq[300];
    uint32_t key_type, bits;
    int had_password; /* the store asked for one (a wrong one shows at signing) */
    char uri[1024];
};

/* The password callback of the store: the host's sources (no plugin-specific one). */
struct pass_state {
    const struct msig_host *host;
    const char *uri;
    uint32_t flags;
    int asked, rc;
};

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    struct pass_state *st = u;
    struct msig_pin_request req = { .struct_size = sizeof(req),
                                    .key_spec = st->uri,
                                    .label = "password or auth value of the provider key" };
    size_t len = 0;

    (void)rwflag;
    st->asked = 1;
    st->rc = msigu_secret_copy(st->host, NULL, NULL, &req, st->flags, buf,
                               size > 0 ? (size_t)size : 0, &len);
    return st->rc == 0 ? (int)len : -1;
}

static int oinst_new(const struct msig_host *host, void **out)
{
    struct oinst *i;

    if (!MSIG_HAS_FIELD(host, struct msig_host, get_pin))
        return MSIG_E_ABI;
    if ((i = msigu_zalloc(host, sizeof(*i))) == NULL)
        return MSIG_E_NOMEM;
    i->host = host;
    *out = i;
    return 0;
}

static void oinst_free(void *p)
{
    struct oinst *i = p;

    if (i != NULL)
        msigu_free(i->host, i, sizeof(*i));
}

/* Exactly one private key from the store at k->uri. */
static int store_load(struct okey *k, uint32_t flags)
{
    struct pass_state st = { .host = k->host, .uri = k->uri, .flags = flags };
    UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(pass_cb, 0);
    const char *pq = NULL;
    OSSL_STORE_CTX *sc;
    char err[256];
    int n = 0;

    msigu_param(k->host, "ossl.propquery", &pq);
    sc = ui ? OSSL_STORE_open_ex(k->uri, k->ctx.libctx, pq, ui, &st, NULL, NULL, NULL) : NULL;
    if (sc != NULL)
        OSSL_STORE_expect(sc, OSSL_STORE_INFO_PKEY);
    while (sc != NULL && !OSSL_STORE_eof(sc)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(sc);
        if (info == NULL && OSSL_STORE_error(sc))
            break;
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) {
            if (n++ == 0)
                k->pkey = OSSL_STORE_INFO_get1_PKEY(info);
        }
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(sc);
    UI_destroy_method(ui);
    msigu_ossl_error(err, sizeof(err));
    if (k->pkey != NULL && n > 1)
        return msigu_error(k->host, MSIG_E_INVALID, "%s holds %d private keys: name one", k->uri,
                           n);
    k->had_password = st.asked;
    if (k->pkey != NULL)
        return 0;
    if (st.asked && st.rc != 0)
        return msigu_error(k->host, st.rc,
                           "the key %s needs a password or auth value and none "
                           "was given (--passphrase-file, MSIG_KEY_PASSPHRASE, or a terminal)",
                           k->uri);
    if (st.asked)
        return msigu_error(k->host, MSIG_E_PIN_INCORRECT,
                           "wrong password or auth value for "
                           "the key %s%s%s",
                           k->uri, err[0] ? ": " : "", err);
    return msigu_error(k->host, MSIG_E_NOT_FOUND,
                       "no private key found at %s with the providers "
                       "loaded%s%s",
                       k->uri, err[0] ? ": " : "", err);
}

static void okey_close(void *p)
{
    struct okey *k = p;

    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey); /* tpm2-openssl flushes the key's transient object here */
    ossl_ctx_close(&k->ctx);
    msigu_free(k->host, k, sizeof(*k));
}

static int okey_open(void *pinst, const char *spec, uint32_t flags, void **out)
{
    struct oinst *inst = pinst;
    const char *uri = msigu_spec_rest(spec, "ossl"), *pq = NULL;
    const OSSL_PROVIDER *holder;
    struct okey *k;
    int rc;

    *out = NULL;
    if (flags & ~(uint32_t)MSIG_KEY_OPEN_F_NO_PROMPT)
        return msigu_error(inst->host, MSIG_E_UNSUPPORTED, "unknown key_open flags 0x%x",
                           (unsigned)flags);
    if (uri == NULL || *uri == '\0' || strlen(uri) >= sizeof(k->uri))
        return msigu_error(inst->host, MSIG_E_INVALID,
                           "give the key as ossl:URI (an OSSL_STORE "
                           "URI such as handle:0x81000001 or a key file)");
    if ((k = msigu_zalloc(inst->host, sizeof(*k))) == NULL)
        return MSIG_E_NOMEM;
    k->host = inst->host;
    snprintf(k->uri, sizeof(k->uri), "%s", uri);
    rc = ossl_ctx_open(k->host, &k->ctx);
    if (rc == 0)
        rc = store_load(k, flags);
    if (rc == 0)
        rc = msigu_evp_policy(k->host, k->pkey, NULL, &k->key_type, &k->bits);
    if (rc != 0) {
        okey_close(k);
        return rc;
    }
    holder = EVP_PKEY_get0_provider(k->pkey);
    if (msigu_param(k->host, "ossl.propquery", &pq) == 0)
        snprintf(k->propq, sizeof(k->propq), "%s", pq);
    else if (holder != NULL)
        snprintf(k->propq, sizeof(k->propq), "?provider=%s", OSSL_PROVIDER_get0_name(holder));
    *out = k;
    return 0;
}

static int okey_info(void *p, struct msig_key_info *info)
{
    struct okey *k = p;

    /* The provider hashes: restricted TPM keys sign only what the TPM hashed itself. */
    return msigu_evp_key_info(k->pkey, k->key_type, k->bits, MSIG_KEYINFO_F_PREFER_MESSAGE, info);
}

static int okey_public_der(void *p, uint8_t *buf, size_t cap, size_t *len)
{
    struct okey *k = p;

    return msigu_evp_public_der(k->host, k->pkey, buf, cap, len);
}

static int okey_sign_digest(void *p, uint32_t scheme, const uint8_t *digest, size_t digest_len,
                            uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    struct okey *k = p;

    return msigu_evp_sign_digest(k->host, k->pkey, k->ctx.libctx, k->propq, scheme, digest,
                                 digest_len, sig, cap, sig_len, sig_fmt);
}

/* EVP_DigestSign through the key's provider: SHA-256, PKCS#1 v1.5 for RSA. */
static int okey_sign_message(void *p, uint32_t scheme, const uint8_t *msg, size_t msg_len,
                             uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    struct okey *k = p;
    int rsa = k->key_type == MSIG_KEY_RSA;
    uint32_t want = rsa ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    size_t need = (size_t)EVP_PKEY_get_size(k->pkey), n = cap;
    EVP_MD_CTX *md;
    EVP_PKEY_CTX *pc = NULL;
    char err[256];
    int ok;

    if (scheme != want)
        return msigu_error(k->host, MSIG_E_UNSUPPORTED,
                           "signature scheme 0x%x does not fit "
                           "this %s key",
                           (unsigned)scheme, rsa ? "RSA" : "EC");
    if (cap < need) {
        *sig_len = need;
        return MSIG_E_BUFFER_TOO_SMALL;
    }
    md = EVP_MD_CTX_new();
    ok = md != NULL && EVP_DigestSignInit_ex(md, &pc, "SHA256", k->ctx.libctx,
                                             k->propq[0] ? k->propq : NULL, k->pkey, NULL) == 1;
    if (ok && rsa)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1;
    ok = ok && EVP_DigestSign(md, sig, &n, msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok && k->had_password)
        return msigu_error(k->host, MSIG_E_PIN_INCORRECT,
                           "the provider refused to sign with "
                           "%s: wrong password or auth value? (%s)",
                           k->uri, msigu_ossl_error(err, sizeof(err)));
    if (!ok)
        return msigu_error(k->host, MSIG_E_DEVICE, "signing with %s failed: %s", k->uri,
                           msigu_ossl_error(err, sizeof(err)));
    *sig_len = n;
    *sig_fmt = rsa ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_DER;
    return 0;
}

static const char *const o_schemes[] = { "ossl", NULL };
static const char *const o_params[] = { "ossl.provider", "ossl.provider_path", "ossl.propquery",
                                        "ossl.conf", NULL };

static const struct msig_plugin o_plugin = {
    .struct_size = sizeof(struct msig_plugin),
    .abi_major = MSIG_PLUGIN_ABI_MAJOR,
    .abi_minor = MSIG_PLUGIN_ABI_MINOR,
    .name = "ossl",
    .version = "1.0 (" OPENSSL_VERSION_TEXT ")",
    .schemes = o_schemes,
    .flags = 0,
    .instance_new = oinst_new,
    .instance_free = oinst_free,
    .key_open = okey_open,
    .key_close = okey_close,
    .key_info = okey_info,
    .key_public_der = okey_public_der,
    .sign_digest = okey_sign_digest,
    .sign_message = okey_sign_message,
    .key_list = NULL,
    .params = o_params,
};

MSIG_PLUGIN_DEFINE(ossl, o_plugin)
