/* p11token.c -- the one token a URI selects, its read-only session, and the login: PIN
 * order (URI pin-value, URI pin-source, parameter pkcs11.pin, the host's sources and prompt),
 * the token's PIN flags honoured, a wrong PIN never retried. */
#include "p11.h"

#include <stdio.h>
#include <string.h>

#include "plugin_util.h"

/* ------------------------------------------------------------------ small helpers */

void p11_str(char *dst, size_t cap, const CK_UTF8CHAR *src, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    memcpy(dst, src, n);
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
        n--;
    dst[n] = '\0';
}

const char *p11_rv_text(CK_RV rv, char *buf, size_t cap)
{
    const char *s = p11_kit_strerror(rv);

    snprintf(buf, cap, "%s (0x%lx)", s != NULL && *s ? s : "error", (unsigned long)rv);
    return buf;
}

int p11_rv_code(CK_RV rv)
{
    switch (rv) {
    case CKR_HOST_MEMORY:
        return MSIG_E_NOMEM;
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
        return MSIG_E_PIN_INCORRECT;
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
        return MSIG_E_PIN_LOCKED;
    case CKR_USER_NOT_LOGGED_IN:
        return MSIG_E_AUTH;
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
        return MSIG_E_DEVICE;
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
        return MSIG_E_UNSUPPORTED;
    case CKR_FUNCTION_CANCELED:
        return MSIG_E_CANCELLED;
    default:
        return MSIG_E_FAILED;
    }
}

void p11_token_fill(struct p11_token *t, CK_FUNCTION_LIST *mod, CK_SLOT_ID slot,
                    const CK_TOKEN_INFO *info)
{
    memset(t, 0, sizeof(*t));
    t->mod = mod;
    t->slot = slot;
    t->info = *info;
    p11_str(t->label, sizeof(t->label), info->label, sizeof(info->label));
    p11_str(t->serial, sizeof(t->serial), info->serialNumber, sizeof(info->serialNumber));
    p11_str(t->manufacturer, sizeof(t->manufacturer), info->manufacturerID,
            sizeof(info->manufacturerID));
    p11_str(t->model, sizeof(t->model), info->model, sizeof(info->model));
    p11_module_name(mod, t->module, sizeof(t->module));
}

void p11_token_describe(const struct p11_token *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "token '%s' (serial %s, module %s)", t->label,
             t->serial[0] ? t->serial : "none", t->module);
}

/* ------------------------------------------------------------------ token choice */

/* The tokens of one module that the URI matches, appended to out[*n]. */
static void module_tokens(struct p11_key *k, CK_FUNCTION_LIST *mod, struct p11_token *out,
                          size_t *n)
{
    CK_SLOT_ID slots[P11_MAX_TOKENS], want = p11_kit_uri_get_slot_id(k->uri);
    CK_ULONG count = P11_MAX_TOKENS;
    CK_INFO minfo;
    CK_SLOT_INFO sinfo;
    CK_TOKEN_INFO tinfo;
    char name[64];

    if (k->mods.only != NULL) {
        p11_module_name(mod, name, sizeof(name));
        if (strcmp(name, k->mods.only) != 0)
            return;
    }
    if (mod->C_GetInfo(&minfo) != CKR_OK || !p11_kit_uri_match_module_info(k->uri, &minfo))
        return;
    if (mod->C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK)
        return;
    for (CK_ULONG i = 0; i < count && *n < P11_MAX_TOKENS; i++) {
        if (want != (CK_SLOT_ID)-1 && slots[i] != want)
            continue;
        if (mod->C_GetSlotInfo(slots[i], &sinfo) != CKR_OK ||
            !p11_kit_uri_match_slot_info(k->uri, &sinfo) ||
            mod->C_GetTokenInfo(slots[i], &tinfo) != CKR_OK ||
            !p11_kit_uri_match_token_info(k->uri, &tinfo) || !(tinfo.flags & CKF_TOKEN_INITIALIZED))
            continue;
        p11_token_fill(&out[(*n)++], mod, slots[i], &tinfo);
    }
}

/* Of several tokens, those that show a public object (key or certificate) the URI names
 * without a login are moved to the front; returns how many do (1: that one is chosen). */
static size_t narrow(struct p11_key *k, struct p11_token *t, size_t n)
{
    size_t hits = 0;

    for (size_t i = 0; i < n; i++) {
        k->tok = t[i];
        if (p11_session_open(k) != 0)
            continue;
        if (p11_key_public(k) == 0) {
            struct p11_token keep = t[hits];
            t[hits] = t[i];
            t[i] = keep;
            hits++;
        }
        p11_key_forget_public(k);
        k->tok.mod->C_CloseSession(k->session);
        k->have_session = 0;
    }
    return hits;
}

static int list_tokens(const struct p11_token *t, size_t n, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        char d[160];

        p11_token_describe(&t[i], d, sizeof(d));
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? "; " : "", d);
    }
    return (int)n;
}

/* All tokens (for the "no token matches" message): what the user could have meant. */
static void all_tokens(struct p11_key *k, char *buf, size_t cap)
{
    CK_FUNCTION_LIST *one[2];
    CK_FUNCTION_LIST *const *mods = p11_modules_list(&k->mods, one);
    struct p11_token *t = msigu_alloc(k->host, sizeof(*t) * P11_MAX_TOKENS);
    P11KitUri *any = p11_kit_uri_new(), *keep = k->uri;
    size_t n = 0;

    buf[0] = '\0';
    if (t != NULL && any != NULL) {
        k->uri = any;
        for (size_t i = 0; mods[i] != NULL; i++)
            module_tokens(k, mods[i], t, &n);
        k->uri = keep;
        list_tokens(t, n, buf, cap);
    }
    p11_kit_uri_free(any);
    msigu_free(k->host, t, t ? sizeof(*t) * P11_MAX_TOKENS : 0);
}

int p11_token_select(struct p11_key *k)
{
    CK_FUNCTION_LIST *one[2];
    CK_FUNCTION_LIST *const *mods = p11_modules_list(&k->mods, one);
    struct p11_token *t = msigu_alloc(k->host, sizeof(*t) * P11_MAX_TOKENS);
    size_t n = 0, pick = 0, hits = 0;
    char list[1024];
    int rc = 0;

    if (t == NULL)
        return MSIG_E_NOMEM;
    for (size_t i = 0; mods[i] != NULL; i++)
        module_tokens(k, mods[i], t, &n);
    if (n == 0) {
        all_tokens(k, list, sizeof(list));
        rc = msigu_error(k->host, MSIG_E_NOT_FOUND,
                         "no token matches (modules: %s; tokens "
                         "present: %s)",
                         k->mods.how, list[0] ? list : "none");
    } else if (n > 1 && (hits = narrow(k, t, n)) != 1) {
        list_tokens(t, hits > 1 ? hits : n, list, sizeof(list));
        rc = msigu_error(k->host, MSIG_E_INVALID,
                         "the URI matches %zu tokens%s: %s; add "
                         "token= or serial= to choose one",
                         hits > 1 ? hits : n, hits > 1 ? " that hold such a key" : "", list);
    }
    if (rc == 0)
        k->tok = t[pick];
    msigu_free(k->host, t, sizeof(*t) * P11_MAX_TOKENS);
    return rc;
}

int p11_session_open(struct p11_key *k)
{
    char d[160], rvs[80];
    CK_RV rv = k->tok.mod->C_OpenSession(k->tok.slot, CKF_SERIAL_SESSION, NULL, NULL, &k->session);

    if (rv != CKR_OK) {
        p11_token_describe(&k->tok, d, sizeof(d));
        return msigu_error(k->host, p11_rv_code(rv), "cannot open a session on %s: %s", d,
                           p11_rv_text(rv, rvs, sizeof(rvs)));
    }
    k->have_session = 1;
    return 0;
}

/* ------------------------------------------------------------------ login */

/* The token's flags now (they change with every wrong PIN). */
static CK_FLAGS token_flags(struct p11_key *k)
{
    CK_TOKEN_INFO info;

    if (k->tok.mod->C_GetTokenInfo(k->tok.slot, &info) != CKR_OK)
        return k->tok.info.flags;
    k->tok.info.flags = info.flags;
    return info.flags;
}

static int get_pin(struct p11_key *k, CK_FLAGS flags, struct msigu_secret *pin)
{
    const char *value = p11_kit_uri_get_pin_value(k->uri);
    const char *source = p11_kit_uri_get_pin_source(k->uri);
    char label[80];
    struct msig_pin_request req = { .struct_size = sizeof(req),
                                    .key_spec = k->spec,
                                    .label = label };
    int rc;

    if (source != NULL && source[0] == '|')
        return msigu_error(k->host, MSIG_E_INVALID,
                           "pin-source '%s' runs a command: msig "
                           "reads PINs from files only (file:PATH or a path)",
                           source);
    if (value == NULL && source == NULL)
        msigu_param(k->host, "pkcs11.pin", &value);
    snprintf(label, sizeof(label), "PIN for token '%s'", k->tok.label);
    if (flags & CKF_USER_PIN_COUNT_LOW)
        req.flags |= MSIG_PIN_F_COUNT_LOW;
    if (flags & CKF_USER_PIN_FINAL_TRY)
        req.flags |= MSIG_PIN_F_FINAL_TRY;
    rc = msigu_secret_get(k->host, value, source, &req, k->open_flags, pin);
    if (rc == MSIG_E_PIN_REQUIRED)
        return msigu_error(k->host, rc,
                           "token '%s' needs its PIN and none was given "
                           "(pin-value or pin-source in the URI, MSIG_PKCS11_PIN, "
                           "--passphrase-file, MSIG_KEY_PASSPHRASE) and there is no terminal "
                           "to ask on",
                           k->tok.label);
    return rc;
}

/* Refuses what the token's flags say cannot or should not be tried. */
static int login_allowed(struct p11_key *k, CK_FLAGS flags, const char *tok)
{
    int brave = 0;

    if (flags & CKF_USER_PIN_LOCKED)
        return msigu_error(k->host, MSIG_E_PIN_LOCKED,
                           "the user PIN of %s is locked (unlock "
                           "it with the security officer PIN)",
                           tok);
    if (flags & CKF_USER_PIN_TO_BE_CHANGED)
        return msigu_error(k->host, MSIG_E_AUTH,
                           "the user PIN of %s must be changed before "
                           "it can be used",
                           tok);
    if (msigu_param_bool(k->host, "pkcs11.final-try", 0, &brave) != 0)
        return MSIG_E_INVALID;
    if ((flags & CKF_USER_PIN_FINAL_TRY) && !brave)
        return msigu_error(k->host, MSIG_E_PIN_LOCKED,
                           "%s allows one more PIN try before it "
                           "locks: msig does not risk it (log in once with the token's own "
                           "tool, or set pkcs11.final-try=yes)",
                           tok);
    if (flags & CKF_USER_PIN_COUNT_LOW)
        msigu_log(k->host, MSIG_LOG_WARN, "%s reports wrong PINs since the last login", tok);
    return 0;
}

static int login_failed(struct p11_key *k, CK_RV rv, const char *tok)
{
    CK_FLAGS f = token_flags(k);
    char rvs[80];
    const char *left = (f & CKF_USER_PIN_LOCKED)      ? "; the PIN is now locked"
                       : (f & CKF_USER_PIN_FINAL_TRY) ? "; one try is left before it locks"
                       : (f & CKF_USER_PIN_COUNT_LOW) ? "; the token counts wrong PINs"
                                                      : "";

    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE)
        return msigu_error(k->host,
                           (f & CKF_USER_PIN_LOCKED) ? MSIG_E_PIN_LOCKED : MSIG_E_PIN_INCORRECT,
                           "wrong PIN for %s (not tried again)%s", tok, left);
    if (rv == CKR_PIN_LOCKED)
        return msigu_error(k->host, MSIG_E_PIN_LOCKED, "the user PIN of %s is locked", tok);
    return msigu_error(k->host, p11_rv_code(rv), "login to %s failed: %s", tok,
                       p11_rv_text(rv, rvs, sizeof(rvs)));
}

int p11_login(struct p11_key *k)
{
    CK_FLAGS flags = token_flags(k);
    char tok[160];
    CK_RV rv;
    int rc;

    if (k->logged_in)
        return 0;
    if (!(flags & CKF_LOGIN_REQUIRED)) {
        k->logged_in = 1;
        return 0;
    }
    p11_token_describe(&k->tok, tok, sizeof(tok));
    if ((rc = login_allowed(k, flags, tok)) != 0)
        return rc;
    if (flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
        msigu_log(k->host, MSIG_LOG_WARN, "enter the PIN of %s on its PIN pad", tok);
        rv = k->tok.mod->C_Login(k->session, CKU_USER, NULL, 0);
    } else {
        if ((rc = get_pin(k, flags, &k->pin)) != 0)
            return rc;
        rv = k->tok.mod->C_Login(k->session, CKU_USER, (CK_UTF8CHAR *)k->pin.buf,
                                 (CK_ULONG)k->pin.len);
    }
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        msigu_secret_wipe(k->host, &k->pin);
        return login_failed(k, rv, tok);
    }
    msigu_log(k->host, MSIG_LOG_INFO, "logged in to %s", tok);
    k->logged_in = 1;
    return 0;
}

int p11_login_context(struct p11_key *k)
{
    char tok[160];
    CK_RV rv;
    int rc;

    p11_token_describe(&k->tok, tok, sizeof(tok));
    if (token_flags(k) & CKF_PROTECTED_AUTHENTICATION_PATH) {
        msigu_log(k->host, MSIG_LOG_WARN,
                  "enter the PIN of %s on its PIN pad to confirm the "
                  "signature",
                  tok);
        rv = k->tok.mod->C_Login(k->session, CKU_CONTEXT_SPECIFIC, NULL, 0);
    } else {
        if (k->pin.buf == NULL && (rc = get_pin(k, token_flags(k), &k->pin)) != 0)
            return rc;
        rv = k->tok.mod->C_Login(k->session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)k->pin.buf,
                                 (CK_ULONG)k->pin.len);
    }
    if (rv != CKR_OK)
        return login_failed(k, rv, tok);
    return 0;
}
