/* pkcs11.c -- the pkcs11 signer plugin: RFC 7512 URIs (p11-kit's parser), keys on PKCS#11
 * tokens through p11-kit, no OpenSSL engine. key_open selects the token and reads the public
 * half without a login (so validate and read need no PIN); the first signature logs in. A
 * key opened before fork() is opened again in the child. */
#include "p11.h"

#include <string.h>
#include <unistd.h>

#include "evpsign.h"
#include "plugin_util.h"

static int p11_instance_new(const struct msig_host *host, void **out)
{
    struct p11_inst *inst;

    if (!MSIG_HAS_FIELD(host, struct msig_host, get_pin))
        return MSIG_E_ABI;
    if ((inst = msigu_zalloc(host, sizeof(*inst))) == NULL)
        return MSIG_E_NOMEM;
    inst->host = host;
    *out = inst;
    return 0;
}

static void p11_instance_free(void *p)
{
    struct p11_inst *inst = p;

    if (inst != NULL)
        msigu_free(inst->host, inst, sizeof(*inst));
}

/* Parses the URI; refuses what RFC 7512 says matches nothing. */
static int parse_uri(struct p11_key *k, const char *spec)
{
    int rc;

    if ((k->uri = p11_kit_uri_new()) == NULL)
        return MSIG_E_NOMEM;
    rc = p11_kit_uri_parse(spec, P11_KIT_URI_FOR_ANY, k->uri);
    if (rc != P11_KIT_URI_OK)
        return msigu_error(k->host, MSIG_E_INVALID, "not a valid PKCS#11 URI (RFC 7512): %s",
                           p11_kit_uri_message(rc));
    if (p11_kit_uri_any_unrecognized(k->uri))
        return msigu_error(k->host, MSIG_E_INVALID,
                           "the URI has an attribute p11-kit does not "
                           "know (RFC 7512 path attributes: token, manufacturer, serial, model, "
                           "library-*, slot-*, object, id, type; query: module-path, "
                           "module-name, pin-value, pin-source)");
    return 0;
}

/* Everything up to a usable public key: modules, token, session, public half. */
static int key_setup(struct p11_key *k)
{
    int rc = p11_modules_open(k);

    if (rc == 0)
        rc = p11_token_select(k);
    if (rc == 0)
        rc = p11_session_open(k);
    if (rc == 0 && (rc = p11_key_public(k)) == MSIG_E_NOT_FOUND) {
        /* No public object: the private key's own attributes, which needs a login. */
        rc = p11_login(k);
        if (rc == 0)
            rc = p11_key_private(k);
    }
    if (rc == 0)
        p11_key_mechanisms(k);
    k->pid = getpid();
    return rc;
}

/* Closes sessions and modules. In a forked child the parent's handles are only dropped:
 * p11-kit skips the finalisation that belongs to the parent. */
static void key_teardown(struct p11_key *k)
{
    int mine = k->pid == getpid();

    if (k->have_session && mine)
        k->tok.mod->C_CloseSession(k->session);
    k->have_session = k->logged_in = k->have_priv = 0;
    p11_modules_close(k->host, &k->mods);
    p11_key_forget_public(k);
    msigu_secret_wipe(k->host, &k->pin);
}

static void p11_key_close(void *p)
{
    struct p11_key *k = p;

    if (k == NULL)
        return;
    key_teardown(k);
    p11_kit_uri_free(k->uri);
    msigu_strfree(k->host, k->spec);
    msigu_free(k->host, k, sizeof(*k));
}

static int p11_key_open(void *pinst, const char *spec, uint32_t flags, void **out)
{
    struct p11_inst *inst = pinst;
    const struct msig_host *h = inst->host;
    struct p11_key *k;
    int rc;

    *out = NULL;
    if (flags & ~(uint32_t)MSIG_KEY_OPEN_F_NO_PROMPT)
        return msigu_error(h, MSIG_E_UNSUPPORTED, "unknown key_open flags 0x%x", (unsigned)flags);
    if ((k = msigu_zalloc(h, sizeof(*k))) == NULL)
        return MSIG_E_NOMEM;
    k->inst = inst;
    k->host = h;
    k->open_flags = flags;
    k->spec = msigu_strdup(h, spec); /* wiped at close: it may hold a pin-value */
    rc = k->spec != NULL ? parse_uri(k, spec) : MSIG_E_NOMEM;
    if (rc == 0)
        rc = key_setup(k);
    if (rc != 0) {
        p11_key_close(k);
        return rc;
    }
    *out = k;
    return 0;
}

static int p11_key_info(void *p, struct msig_key_info *info)
{
    struct p11_key *k = p;
    uint32_t flags = MSIG_KEYINFO_F_HARDWARE;

    /* The token hashes itself when that is what it offers (or all it offers). */
    if (k->key_type == MSIG_KEY_RSA ? k->rsa_combined : (!k->ec_raw && k->ec_combined))
        flags |= MSIG_KEYINFO_F_PREFER_MESSAGE;
    return msigu_evp_key_info(k->pub, k->key_type, k->bits, flags, info);
}

static int p11_key_public_der(void *p, uint8_t *buf, size_t cap, size_t *len)
{
    struct p11_key *k = p;

    *len = k->pub_der_len;
    if (cap < k->pub_der_len)
        return MSIG_E_BUFFER_TOO_SMALL;
    memcpy(buf, k->pub_der, k->pub_der_len);
    return 0;
}

/* Ready to sign: re-opened after fork(), logged in, the private key found. */
static int key_ready(struct p11_key *k)
{
    int rc;

    if (k->pid != getpid()) {
        msigu_log(k->host, MSIG_LOG_DEBUG, "opened in another process: opening the key again");
        key_teardown(k);
        if ((rc = key_setup(k)) != 0)
            return rc;
    }
    if ((rc = p11_login(k)) != 0)
        return rc;
    return k->have_priv ? 0 : p11_key_private(k);
}

static int p11_sign_digest(void *p, uint32_t scheme, const uint8_t *digest, size_t digest_len,
                           uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    struct p11_key *k = p;
    int rc = key_ready(k);

    return rc != 0 ? rc : p11_sign(k, 0, scheme, digest, digest_len, sig, cap, sig_len, sig_fmt);
}

static int p11_sign_message(void *p, uint32_t scheme, const uint8_t *msg, size_t msg_len,
                            uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    struct p11_key *k = p;
    int rc = key_ready(k);

    return rc != 0 ? rc : p11_sign(k, 1, scheme, msg, msg_len, sig, cap, sig_len, sig_fmt);
}

/* key_list: every token the URI matches, its public keys, without a login. */
static int p11_key_list(void *pinst, const char *spec, uint32_t flags, msig_key_list_fn *cb,
                        void *cb_data)
{
    struct p11_inst *inst = pinst;
    struct p11_key k = { .inst = inst, .host = inst->host, .open_flags = flags };
    CK_FUNCTION_LIST *one[2];
    CK_SLOT_ID slots[P11_MAX_TOKENS];
    CK_TOKEN_INFO ti;
    int rc = parse_uri(&k, spec);

    if (rc == 0)
        rc = p11_modules_open(&k);
    CK_FUNCTION_LIST *const *mods = rc == 0 ? p11_modules_list(&k.mods, one) : one;
    for (size_t m = 0; rc == 0 && mods[m] != NULL; m++) {
        CK_ULONG n = P11_MAX_TOKENS;

        if (mods[m]->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
            continue;
        for (CK_ULONG i = 0; rc == 0 && i < n; i++) {
            if (mods[m]->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
                !p11_kit_uri_match_token_info(k.uri, &ti) || !(ti.flags & CKF_TOKEN_INITIALIZED))
                continue;
            p11_token_fill(&k.tok, mods[m], slots[i], &ti);
            if (p11_session_open(&k) != 0)
                continue;
            rc = p11_list_token(&k, &k.tok, cb, cb_data);
            mods[m]->C_CloseSession(k.session);
            k.have_session = 0;
        }
    }
    p11_modules_close(k.host, &k.mods);
    p11_kit_uri_free(k.uri);
    return rc;
}

static const char *const p11_schemes[] = { "pkcs11", NULL };
static const char *const p11_params[] = { "pkcs11.module", "pkcs11.module-path", "pkcs11.pin",
                                          "pkcs11.final-try", NULL };

static const struct msig_plugin p11_plugin = {
    .struct_size = sizeof(struct msig_plugin),
    .abi_major = MSIG_PLUGIN_ABI_MAJOR,
    .abi_minor = MSIG_PLUGIN_ABI_MINOR,
    .name = "pkcs11",
    .version = "1.0 (p11-kit " MSIG_P11KIT_VERSION ")",
    .schemes = p11_schemes,
    .flags = 0,
    .instance_new = p11_instance_new,
    .instance_free = p11_instance_free,
    .key_open = p11_key_open,
    .key_close = p11_key_close,
    .key_info = p11_key_info,
    .key_public_der = p11_key_public_der,
    .sign_digest = p11_sign_digest,
    .sign_message = p11_sign_message,
    .key_list = p11_key_list,
    .params = p11_params,
};

MSIG_PLUGIN_DEFINE(pkcs11, p11_plugin)
