/* azurekv.c -- Azure Key Vault keys ("azurekv:NAME"; kms.md section 3). Credentials: client
 * secret at the Entra ID token endpoint (AZURE_TENANT_ID, AZURE_CLIENT_ID,
 * AZURE_CLIENT_SECRET). Without a configured version the one in the key's kid is used, so the
 * sign call and the public key refer to the same version. */
#include "kms.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct azure {
    char *key_url; /* {vault}/keys/{name}/{version} */
    char *api;     /* api-version */
    char *token_url;
    char *identity;
    char *mi_url; /* managed identity: the token URL (plain HTTP, no proxy) */
    char *mi_hdr; /* "Metadata: true" or "X-IDENTITY-HEADER: ..." (wiped) */
    int rsa;
};

static void azure_close(struct kms_key *k)
{
    struct azure *a = k->svc_data;

    if (a == NULL)
        return;
    free(a->key_url);
    free(a->api);
    free(a->token_url);
    free(a->identity);
    free(a->mi_url);
    kms_secret_free(a->mi_hdr);
    free(a);
}

/* mender-artifact's rule: ^[a-zA-Z](-?[a-zA-Z0-9]+)*$, 3 to 24 characters. */
static int valid_vault_name(const char *s)
{
    size_t n = strlen(s);

    if (n < 3 || n > 24 || !isalpha((unsigned char)s[0]) || s[n - 1] == '-')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || (s[i] == '-' && s[i - 1] != '-')))
            return 0;
    return 1;
}

/* Managed identity (section 3.4, item 4): App Service's IDENTITY_ENDPOINT, else IMDS.
 * expires_in comes as a string of digits there. */
static int managed_token(struct kms_key *k, struct azure *a, struct kms_token **t)
{
    const char *hdrs[] = { a->mi_hdr, "Accept: application/json", NULL };
    struct msigu_http_req req = { "GET", a->mi_url, hdrs, NULL, 0, MSIGU_HTTP_F_METADATA };
    struct msigu_http_reply rep = { 0 };
    const json_t *e;
    const char *at;
    long exp = 300;
    int rc = msigu_http_set_opts(k->inst->http, &k->http);

    if (rc == 0)
        rc = msigu_http_call(k->inst->http, &req,
                             "get a managed-identity token (no "
                             "AZURE_CLIENT_SECRET credentials are set)",
                             &rep);
    if (rc != 0)
        return rc;
    if (rep.status != 200) {
        rc = msigu_http_status_error(k->inst->http, &req, &rep, "get a managed-identity token");
        msigu_http_reply_free(&rep);
        return rc;
    }
    at = json_string_value(json_object_get(rep.json, "access_token"));
    e = json_object_get(rep.json, "expires_in");
    if (json_is_string(e))
        exp = strtol(json_string_value(e), NULL, 10);
    else if (json_is_integer(e))
        exp = (long)json_integer_value(e);
    if (at == NULL)
        rc = msigu_error(k->inst->host, MSIG_E_AUTH,
                         "the managed-identity endpoint answered without "
                         "an access_token");
    else
        rc = kms_token_store(k->inst, a->identity, at, exp > 0 ? exp : 300, t);
    kms_json_wipe(rep.json, "access_token");
    msigu_http_reply_free(&rep);
    return rc;
}

static int get_token(struct kms_key *k, struct kms_token **t)
{
    struct azure *a = k->svc_data;
    const char *id = kms_param(k->inst, "azurekv.client-id");
    const char *sec = kms_param(k->inst, "azurekv.client-secret");
    char *e1 = NULL, *e2 = NULL, *form = NULL;
    json_t *reply = NULL;
    const char *at;
    json_int_t exp;
    int rc;

    *t = kms_token_find(k->inst, a->identity);
    if (*t != NULL)
        return 0;
    if (a->mi_url != NULL)
        return managed_token(k, a, t);
    if (msigu_http_escape(k->inst->http, id, &e1) || msigu_http_escape(k->inst->http, sec, &e2) ||
        asprintf(&form,
                 "grant_type=client_credentials&client_id=%s&client_secret=%s&scope="
                 "https%%3A%%2F%%2Fvault.azure.net%%2F.default",
                 e1, e2) < 0) {
        form = NULL;
        rc = MSIG_E_NOMEM;
        goto out;
    }
    rc = kms_form_call(k, a->token_url, NULL, form, "get an Entra ID access token", &reply);
    if (rc != 0)
        goto out;
    at = json_string_value(json_object_get(reply, "access_token"));
    exp = json_integer_value(json_object_get(reply, "expires_in"));
    if (at == NULL)
        rc = msigu_error(k->inst->host, MSIG_E_AUTH, "Entra ID answered without an access_token");
    else
        rc = kms_token_store(k->inst, a->identity, at, exp > 0 ? (long)exp : 300, t);
out:
    kms_secret_free(form);
    msigu_http_strfree(e1);
    msigu_http_strfree(e2);
    kms_json_wipe(reply, "access_token");
    json_decref(reply);
    return rc;
}

/* One authorised request; a 401 drops the cached token and is tried once more. */
static int azure_call(struct kms_key *k, const char *method, const char *url, const json_t *body,
                      const char *what, json_t **out)
{
    return kms_bearer_call(k, get_token, method, url, body, what, out);
}

/* No client-secret settings at all: the managed identity of the machine running msig. */
static int managed_settings(struct kms_key *k, struct azure *a)
{
    const char *ep = kms_param(k->inst, "azurekv.identity-endpoint");
    const char *hdr = kms_param(k->inst, "azurekv.identity-header");
    const char *imds = kms_param(k->inst, "azurekv.imds-host");
    int rc = kms_http_setup(k, NULL);

    if (rc != 0)
        return rc;
    if (ep != NULL && hdr != NULL) {
        if (asprintf(&a->mi_url,
                     "%s?api-version=2019-08-01&resource=https%%3A%%2F%%2F"
                     "vault.azure.net",
                     ep) < 0)
            a->mi_url = NULL;
        a->mi_hdr = kms_header("X-IDENTITY-HEADER", hdr);
    } else {
        if (asprintf(&a->mi_url,
                     "http://%s/metadata/identity/oauth2/token?api-version="
                     "2018-02-01&resource=https%%3A%%2F%%2Fvault.azure.net",
                     imds ? imds : "169.254.169.254") < 0)
            a->mi_url = NULL;
        a->mi_hdr = strdup("Metadata: true");
    }
    if (a->mi_url == NULL || a->mi_hdr == NULL || asprintf(&a->identity, "mi|%s", a->mi_url) < 0) {
        a->identity = NULL;
        return MSIG_E_NOMEM;
    }
    msigu_log(k->inst->host, MSIG_LOG_DEBUG,
              "no AZURE_TENANT_ID, AZURE_CLIENT_ID or AZURE_CLIENT_SECRET: "
              "using the managed identity");
    return 0;
}

static int azure_settings(struct kms_key *k, struct azure *a, const char **vault)
{
    const char *tenant, *id, *sec, *api = kms_param(k->inst, "azurekv.api-version");
    const char *auth = kms_param(k->inst, "azurekv.authority-host");
    size_t alen;
    int rc;

    if ((rc = kms_param_req(k->inst, "azurekv.vault-name", "KEY_VAULT_NAME", vault)))
        return rc;
    if (!valid_vault_name(*vault))
        return msigu_error(k->inst->host, MSIG_E_INVALID,
                           "KEY_VAULT_NAME '%s' is not a vault name (3 "
                           "to 24 letters, digits and single hyphens, starting with a letter)",
                           *vault);
    tenant = kms_param(k->inst, "azurekv.tenant-id");
    id = kms_param(k->inst, "azurekv.client-id");
    sec = kms_param(k->inst, "azurekv.client-secret");
    a->api = strdup(api ? api : "7.5");
    if (a->api == NULL)
        return MSIG_E_NOMEM;
    if (tenant == NULL && id == NULL && sec == NULL)
        return managed_settings(k, a);
    if ((rc = kms_param_req(k->inst, "azurekv.tenant-id", "AZURE_TENANT_ID", &tenant)) ||
        (rc = kms_param_req(k->inst, "azurekv.client-id", "AZURE_CLIENT_ID", &id)) ||
        (rc = kms_param_req(k->inst, "azurekv.client-secret", "AZURE_CLIENT_SECRET", &sec)))
        return rc;
    if (auth == NULL)
        auth = "https://login.microsoftonline.com";
    alen = strlen(auth);
    while (alen > 0 && auth[alen - 1] == '/')
        alen--;
    if (asprintf(&a->token_url, "%.*s/%s/oauth2/v2.0/token", (int)alen, auth, tenant) < 0 ||
        asprintf(&a->identity, "%s|%s", a->token_url, id) < 0) {
        a->token_url = a->identity = NULL;
        return MSIG_E_NOMEM;
    }
    return kms_http_setup(k, NULL);
}

/* The JWK's type and state (section 3.2): RS256 for RSA, ES256 for P-256, nothing else. */
static int azure_check(struct kms_key *k, struct azure *a, const json_t *reply, const char *name)
{
    const json_t *jwk = json_object_get(reply, "key");
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const json_t *ops = json_object_get(jwk, "key_ops"), *op;
    const json_t *attr = json_object_get(reply, "attributes");
    EVP_PKEY *pub = NULL;
    size_t i;
    int sign = 0, rc;

    if (kty == NULL)
        return msigu_error(k->inst->host, MSIG_E_FAILED, "%s: the key reply has no key.kty",
                           k->what);
    if (strcmp(kty, "RSA") == 0 || strcmp(kty, "RSA-HSM") == 0) {
        a->rsa = 1;
    } else if ((strcmp(kty, "EC") == 0 || strcmp(kty, "EC-HSM") == 0) && crv &&
               strcmp(crv, "P-256") == 0) {
        a->rsa = 0;
    } else {
        return msigu_error(k->inst->host, MSIG_E_KEY,
                           "Azure key %s has type %s%s%s: only RSA and EC "
                           "P-256 keys can sign Mender artifacts",
                           name, kty, crv ? " " : "", crv ? crv : "");
    }
    json_array_foreach (ops, i, op)
        sign |= json_is_string(op) && strcmp(json_string_value(op), "sign") == 0;
    if (!sign)
        return msigu_error(k->inst->host, MSIG_E_KEY,
                           "Azure key %s (%s) does not allow the sign "
                           "operation (key_ops)",
                           name, kty);
    if (json_is_false(json_object_get(attr, "enabled")))
        return msigu_error(k->inst->host, MSIG_E_KEY, "Azure key %s is disabled", name);
    rc = msigu_pubkey_from_jwk_obj(k->inst->host, jwk, k->what, &pub);
    return rc ? rc : kms_key_set_public(k, pub);
}

static int azure_open(struct kms_key *k, const char *name, uint32_t flags)
{
    const char *ver = kms_param(k->inst, "azurekv.key-version");
    const char *vurl = kms_param(k->inst, "azurekv.vault-url"), *vault, *kid;
    struct azure *a;
    char *ename = NULL, *base = NULL, *url = NULL;
    json_t *reply = NULL;
    int rc;

    (void)flags;
    snprintf(k->what, sizeof(k->what), "Azure key %s", name);
    if (name[0] == '\0')
        return msigu_error(k->inst->host, MSIG_E_INVALID, "no Azure key name given");
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return MSIG_E_NOMEM;
    k->svc_data = a;
    if ((rc = azure_settings(k, a, &vault)))
        return rc;
    if (msigu_http_escape(k->inst->http, name, &ename) ||
        (vurl ? asprintf(&base, "%s/keys/%s", vurl, ename)
              : asprintf(&base, "https://%s.vault.azure.net/keys/%s", vault, ename)) < 0 ||
        asprintf(&url, "%s%s%s?api-version=%s", base, ver ? "/" : "", ver ? ver : "", a->api) < 0) {
        base = url = NULL;
        rc = MSIG_E_NOMEM;
        goto out;
    }
    rc = azure_call(k, "GET", url, NULL, "get the Azure key", &reply);
    if (rc == MSIG_E_NOT_FOUND)
        rc = msigu_error(k->inst->host, rc, "vault %s has no key %s%s%s", vault, name,
                         ver ? " version " : "", ver ? ver : "");
    if (rc != 0)
        goto out;
    kid = json_string_value(json_object_get(json_object_get(reply, "key"), "kid"));
    if (ver == NULL)
        ver = kid && strrchr(kid, '/') ? strrchr(kid, '/') + 1 : NULL;
    if (ver == NULL || ver[0] == '\0') {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                         "%s: the key reply has no kid with a version", k->what);
        goto out;
    }
    snprintf(k->what, sizeof(k->what), "Azure key %s (version %s)", name, ver);
    if (asprintf(&a->key_url, "%s/%s", base, ver) < 0) {
        a->key_url = NULL;
        rc = MSIG_E_NOMEM;
        goto out;
    }
    rc = azure_check(k, a, reply, name);
out:
    json_decref(reply);
    msigu_http_strfree(ename);
    free(base);
    free(url);
    return rc;
}

static int azure_sign(struct kms_key *k, const uint8_t digest[32], uint8_t *sig, size_t cap,
                      size_t *sig_len, uint32_t *sig_fmt)
{
    struct azure *a = k->svc_data;
    char *v = NULL, *url = NULL;
    json_t *body = msigu_b64url_encode(k->inst->host, digest, 32, &v) == 0
                       ? json_pack("{s:s, s:s}", "alg", a->rsa ? "RS256" : "ES256", "value", v)
                       : NULL;
    json_t *reply = NULL;
    const char *s;
    uint8_t raw[1024];
    size_t rlen = 0;
    int rc;

    msigu_strfree(k->inst->host, v);
    if (body == NULL || asprintf(&url, "%s/sign?api-version=%s", a->key_url, a->api) < 0) {
        json_decref(body);
        return MSIG_E_NOMEM;
    }
    rc = azure_call(k, "POST", url, body, "sign with Azure Key Vault", &reply);
    json_decref(body);
    free(url);
    if (rc != 0)
        return rc;
    s = json_string_value(json_object_get(reply, "value"));
    if (s == NULL || msigu_b64_decode(k->inst->host, s, strlen(s), raw, sizeof(raw), &rlen) != 0)
        rc = msigu_error(k->inst->host, MSIG_E_FAILED, "%s: the sign reply has no base64url value",
                         k->what);
    else if (a->rsa ? rlen != (k->bits + 7) / 8 : rlen != 64)
        rc = msigu_error(k->inst->host, MSIG_E_FAILED, "%s: signature of %zu bytes, expected %u",
                         k->what, rlen, a->rsa ? (k->bits + 7) / 8 : 64u);
    else {
        *sig_fmt = a->rsa ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_RAW;
        rc = kms_put_sig(k, raw, rlen, sig, cap, sig_len);
    }
    json_decref(reply);
    return rc;
}

/* One listed key: its type from GET key. */
static int list_one(struct kms_key *k, struct azure *a, const char *vault, const char *name,
                    msig_key_list_fn *cb, void *cb_data)
{
    const char *vurl = kms_param(k->inst, "azurekv.vault-url");
    struct msig_key_entry e = {
        sizeof(e), 0,    0,   MSIG_KEYINFO_F_HARDWARE | MSIG_KEYINFO_F_REMOTE, NULL, vault,
        name,      NULL, NULL
    };
    char *ename = NULL, *url = NULL, *spec = NULL, detail[256];
    const json_t *jwk;
    const char *kty, *crv, *kid;
    json_t *reply = NULL;
    int rc;

    if (msigu_http_escape(k->inst->http, name, &ename) ||
        (vurl ? asprintf(&url, "%s/keys/%s?api-version=%s", vurl, ename, a->api)
              : asprintf(&url, "https://%s.vault.azure.net/keys/%s?api-version=%s", vault, ename,
                         a->api)) < 0 ||
        asprintf(&spec, "azurekv:%s", name) < 0) {
        url = spec = NULL;
        rc = MSIG_E_NOMEM;
        goto out;
    }
    rc = azure_call(k, "GET", url, NULL, "get the Azure key", &reply);
    if (rc != 0)
        goto out;
    jwk = json_object_get(reply, "key");
    kty = json_string_value(json_object_get(jwk, "kty"));
    crv = json_string_value(json_object_get(jwk, "crv"));
    kid = json_string_value(json_object_get(jwk, "kid"));
    if (kty && strncmp(kty, "RSA", 3) == 0) {
        const char *n = json_string_value(json_object_get(jwk, "n"));
        uint8_t mod[1024];
        size_t len = 0, z = 0;

        e.key_type = MSIG_KEY_RSA;
        if (n && msigu_b64_decode(k->inst->host, n, strlen(n), mod, sizeof(mod), &len) == 0) {
            while (z < len && mod[z] == 0)
                z++;
            e.bits = (uint32_t)((len - z) * 8);
        }
    } else if (crv && strcmp(crv, "P-256") == 0) {
        e.key_type = MSIG_KEY_EC_P256, e.bits = 256;
    } else if (crv && strcmp(crv, "P-384") == 0) {
        e.key_type = MSIG_KEY_EC_P384, e.bits = 384;
    }
    e.id = kid && strrchr(kid, '/') ? strrchr(kid, '/') + 1 : NULL;
    snprintf(detail, sizeof(detail), "Azure type %s%s%s%s", kty ? kty : "unknown", crv ? " " : "",
             crv ? crv : "",
             e.key_type == MSIG_KEY_RSA || e.key_type == MSIG_KEY_EC_P256
                 ? ""
                 : " (cannot sign Mender artifacts)");
    e.spec = spec;
    e.detail = detail;
    rc = cb(cb_data, &e);
out:
    json_decref(reply);
    free(url);
    free(spec);
    msigu_http_strfree(ename);
    return rc;
}

int kms_azure_list(struct kms_key *k, const char *rest, msig_key_list_fn *cb, void *cb_data)
{
    const char *vurl = kms_param(k->inst, "azurekv.vault-url"), *vault, *kid;
    struct azure *a = calloc(1, sizeof(*a));
    json_t *reply = NULL, *item;
    char *url = NULL;
    size_t i;
    int rc;

    if (a == NULL)
        return MSIG_E_NOMEM;
    k->svc_data = a;
    snprintf(k->what, sizeof(k->what), "Azure keys");
    if ((rc = azure_settings(k, a, &vault)))
        return rc;
    if (rest[0] != '\0')
        return list_one(k, a, vault, rest, cb, cb_data);
    /* One page (25 keys by default); nextLink is not followed. */
    if ((vurl
             ? asprintf(&url, "%s/keys?api-version=%s", vurl, a->api)
             : asprintf(&url, "https://%s.vault.azure.net/keys?api-version=%s", vault, a->api)) < 0)
        return MSIG_E_NOMEM;
    rc = azure_call(k, "GET", url, NULL, "list Azure keys", &reply);
    free(url);
    json_array_foreach (json_object_get(reply, "value"), i, item) {
        kid = json_string_value(json_object_get(item, "kid"));
        if (rc == 0 && kid && strrchr(kid, '/'))
            rc = list_one(k, a, vault, strrchr(kid, '/') + 1, cb, cb_data);
    }
    json_decref(reply);
    return rc;
}

const struct kms_service kms_azurekv = { "azurekv", azure_open, azure_sign, azure_close };
