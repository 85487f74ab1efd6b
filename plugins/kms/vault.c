/* vault.c -- HashiCorp Vault transit keys ("vault:NAME"; kms.md section 1). The sign request
 * names every field whose Vault default would give a signature Mender refuses: PKCS#1 v1.5
 * (default PSS), prehashed (default: hash the input again), JWS marshaling for ECDSA (default
 * ASN.1, also accepted but converted), and the key version (default: the latest). */
#include "kms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vault {
    char *addr, *mount;
    char *base; /* {addr}/v1/{mount} */
    char *sign_url;
    char *token_hdr; /* "X-Vault-Token: ..." wiped on close */
    char *ns_hdr;
    const char *hdrs[4];
    long version;
};

static void vault_close(struct kms_key *k)
{
    struct vault *v = k->svc_data;

    if (v == NULL)
        return;
    free(v->addr);
    free(v->mount);
    free(v->base);
    free(v->sign_url);
    kms_secret_free(v->token_hdr);
    free(v->ns_hdr);
    free(v);
}

static int parse_version(struct kms_key *k, const char *s, long *out)
{
    char *end = NULL;

    if (strcmp(s, "latest") == 0) {
        *out = 0;
        return 0;
    }
    *out = strtol(s, &end, 10);
    if (end == s || *end != '\0' || *out < 1)
        return msigu_error(k->inst->host, MSIG_E_INVALID,
                           "VAULT_KEY_VERSION '%s' is not a version "
                           "number (1, 2, ...) or 'latest'",
                           s);
    return 0;
}

/* Type, signing support, version and public key from the key's description (section 1.2). */
static int vault_check_key(struct kms_key *k, struct vault *v, const json_t *data, const char *name)
{
    const char *type = json_string_value(json_object_get(data, "type"));
    const json_t *keys = json_object_get(data, "keys");
    const json_t *ver;
    const char *pem;
    char vs[32];
    EVP_PKEY *pub = NULL;
    int rc;

    if (type == NULL || !json_is_object(keys))
        return msigu_error(k->inst->host, MSIG_E_FAILED,
                           "%s: the key description has no type or keys", k->what);
    if (strcmp(type, "ecdsa-p256") != 0 && strcmp(type, "rsa-2048") != 0 &&
        strcmp(type, "rsa-3072") != 0 && strcmp(type, "rsa-4096") != 0)
        return msigu_error(k->inst->host, MSIG_E_KEY,
                           "Vault key %s has type %s: only rsa-2048, "
                           "rsa-3072, rsa-4096 and ecdsa-p256 can sign Mender artifacts",
                           name, type);
    if (json_is_false(json_object_get(data, "supports_signing")))
        return msigu_error(k->inst->host, MSIG_E_KEY, "Vault key %s (%s) does not support signing",
                           name, type);
    if (v->version == 0) {
        json_int_t l = json_integer_value(json_object_get(data, "latest_version"));
        if (l < 1)
            return msigu_error(k->inst->host, MSIG_E_FAILED,
                               "%s: no latest_version in the key "
                               "description",
                               k->what);
        v->version = (long)l;
    }
    snprintf(vs, sizeof(vs), "%ld", v->version);
    ver = json_object_get(keys, vs);
    if (ver == NULL)
        return msigu_error(k->inst->host, MSIG_E_NOT_FOUND,
                           "Vault key %s has no version %ld "
                           "(VAULT_KEY_VERSION)",
                           name, v->version);
    pem = json_string_value(json_object_get(ver, "public_key"));
    if (pem == NULL)
        return msigu_error(k->inst->host, MSIG_E_FAILED, "%s: version %ld has no public_key",
                           k->what, v->version);
    snprintf(k->what, sizeof(k->what), "Vault key %s (version %ld)", name, v->version);
    rc = msigu_pubkey_parse(k->inst->host, pem, strlen(pem), k->what, &pub);
    return rc ? rc : kms_key_set_public(k, pub);
}

/* The settings every request needs: address, token, mount, namespace, transport. */
static int vault_settings(struct kms_key *k, struct vault *v)
{
    const char *addr = kms_param(k->inst, "vault.agent-addr");
    const char *token, *mount, *ns = kms_param(k->inst, "vault.namespace");
    const char *cert = kms_param(k->inst, "vault.client-cert");
    const char *key = kms_param(k->inst, "vault.client-key");
    size_t alen;
    int rc;

    /* VAULT_AGENT_ADDR wins over VAULT_ADDR, as in the Vault Go client. */
    if (addr == NULL)
        addr = kms_param(k->inst, "vault.addr");
    if ((cert == NULL) != (key == NULL))
        return msigu_error(k->inst->host, MSIG_E_INVALID,
                           "VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go "
                           "together (only %s is set)",
                           cert ? "VAULT_CLIENT_CERT" : "VAULT_CLIENT_KEY");

    if ((rc = kms_param_req(k->inst, "vault.token", "VAULT_TOKEN", &token)) ||
        (rc = kms_param_req(k->inst, "vault.mount-path", "VAULT_MOUNT_PATH", &mount)))
        return rc;
    if (addr == NULL)
        addr = "https://127.0.0.1:8200";
    alen = strlen(addr);
    while (alen > 0 && addr[alen - 1] == '/')
        alen--;
    if ((rc = kms_http_setup(k, "vault.cacert")))
        return rc;
    kms_http_ca_dir(k, "vault.capath");
    if (kms_param(k->inst, "kms.max-retries") == NULL)
        k->http.max_retries = 2; /* VAULT_MAX_RETRIES default of the Go client */
    k->http.retry_412 = 1;
    if (kms_param(k->inst, "kms.timeout-ms") == NULL)
        k->http.timeout_ms = 60000; /* VAULT_CLIENT_TIMEOUT default */
    k->http.client_cert = cert;
    k->http.client_key = key;
    v->token_hdr = kms_header("X-Vault-Token", token);
    v->ns_hdr = ns ? kms_header("X-Vault-Namespace", ns) : NULL;
    v->addr = strndup(addr, alen);
    v->mount = strdup(mount);
    /* The mount may be nested ("team/transit"): its slashes stay. */
    if (v->token_hdr == NULL || (ns && v->ns_hdr == NULL) || !v->addr || !v->mount ||
        asprintf(&v->base, "%s/v1/%s", v->addr, mount) < 0) {
        v->base = NULL;
        return MSIG_E_NOMEM;
    }
    v->hdrs[0] = v->token_hdr;
    v->hdrs[1] = "X-Vault-Request: true";
    v->hdrs[2] = v->ns_hdr;
    v->hdrs[3] = NULL;
    return 0;
}

static int vault_open(struct kms_key *k, const char *name, uint32_t flags)
{
    const char *ver = kms_param(k->inst, "vault.key-version");
    struct vault *v;
    char *ename = NULL, *url = NULL;
    json_t *reply = NULL;
    int rc;

    (void)flags;
    snprintf(k->what, sizeof(k->what), "Vault key %s", name);
    if (name[0] == '\0')
        return msigu_error(k->inst->host, MSIG_E_INVALID, "no Vault transit key name given");
    v = calloc(1, sizeof(*v));
    if (v == NULL)
        return MSIG_E_NOMEM;
    k->svc_data = v;
    if ((rc = vault_settings(k, v)) || (rc = parse_version(k, ver ? ver : "1", &v->version)))
        return rc;
    if (msigu_http_escape(k->inst->http, name, &ename) != 0 ||
        asprintf(&url, "%s/keys/%s", v->base, ename) < 0 ||
        asprintf(&v->sign_url, "%s/sign/%s/sha2-256", v->base, ename) < 0) {
        v->sign_url = NULL;
        rc = MSIG_E_NOMEM;
        goto out;
    }
    rc = kms_json_call(k, "GET", url, v->hdrs, NULL, "read Vault key", &reply, NULL);
    if (rc == MSIG_E_NOT_FOUND)
        rc = msigu_error(k->inst->host, rc, "Vault has no transit key %s under mount %s at %s",
                         name, v->mount, v->addr);
    if (rc == 0)
        rc = vault_check_key(k, v, json_object_get(reply, "data"), name);
out:
    json_decref(reply);
    free(url);
    msigu_http_strfree(ename);
    return rc;
}

/* One listed key: its type from the key's description. */
static int list_one(struct kms_key *k, struct vault *v, const char *name, msig_key_list_fn *cb,
                    void *cb_data)
{
    struct msig_key_entry e = {
        sizeof(e), 0,    0,   MSIG_KEYINFO_F_HARDWARE | MSIG_KEYINFO_F_REMOTE, NULL, v->addr,
        name,      NULL, NULL
    };
    char *ename = NULL, *url = NULL, *spec = NULL, detail[256], id[32];
    json_t *reply = NULL;
    const json_t *data;
    const char *type;
    int rc;

    if (msigu_http_escape(k->inst->http, name, &ename) != 0 ||
        asprintf(&url, "%s/keys/%s", v->base, ename) < 0 || asprintf(&spec, "vault:%s", name) < 0) {
        url = spec = NULL;
        rc = MSIG_E_NOMEM;
        goto out;
    }
    rc = kms_json_call(k, "GET", url, v->hdrs, NULL, "read Vault key", &reply, NULL);
    if (rc != 0)
        goto out;
    data = json_object_get(reply, "data");
    type = json_string_value(json_object_get(data, "type"));
    type = type ? type : "unknown";
    if (strncmp(type, "rsa-", 4) == 0) {
        e.key_type = MSIG_KEY_RSA;
        e.bits = (uint32_t)strtoul(type + 4, NULL, 10);
    } else if (strcmp(type, "ecdsa-p256") == 0) {
        e.key_type = MSIG_KEY_EC_P256, e.bits = 256;
    } else if (strcmp(type, "ecdsa-p384") == 0) {
        e.key_type = MSIG_KEY_EC_P384, e.bits = 384;
    }
    snprintf(id, sizeof(id), "%lld",
             (long long)json_integer_value(json_object_get(data, "latest_version")));
    snprintf(detail, sizeof(detail), "Vault type %s, mount %s, latest version %s%s", type, v->mount,
             id,
             e.key_type == MSIG_KEY_RSA || e.key_type == MSIG_KEY_EC_P256
                 ? ""
                 : " (cannot sign Mender artifacts)");
    e.spec = spec;
    e.id = id;
    e.detail = detail;
    rc = cb(cb_data, &e);
out:
    json_decref(reply);
    free(url);
    free(spec);
    msigu_http_strfree(ename);
    return rc;
}

int kms_vault_list(struct kms_key *k, const char *rest, msig_key_list_fn *cb, void *cb_data)
{
    struct vault *v = calloc(1, sizeof(*v));
    json_t *reply = NULL, *name;
    char *url = NULL;
    size_t i;
    int rc;

    if (v == NULL)
        return MSIG_E_NOMEM;
    k->svc_data = v;
    snprintf(k->what, sizeof(k->what), "Vault keys");
    if ((rc = vault_settings(k, v)))
        return rc;
    if (rest[0] != '\0')
        return list_one(k, v, rest, cb, cb_data);
    if (asprintf(&url, "%s/keys?list=true", v->base) < 0)
        return MSIG_E_NOMEM;
    rc = kms_json_call(k, "GET", url, v->hdrs, NULL, "list Vault keys", &reply, NULL);
    free(url);
    if (rc == MSIG_E_NOT_FOUND) /* Vault answers 404 for an empty list */
        return 0;
    json_array_foreach (json_object_get(json_object_get(reply, "data"), "keys"), i, name) {
        if (rc == 0 && json_is_string(name))
            rc = list_one(k, v, json_string_value(name), cb, cb_data);
    }
    json_decref(reply);
    return rc;
}

static int vault_sign(struct kms_key *k, const uint8_t digest[32], uint8_t *sig, size_t cap,
                      size_t *sig_len, uint32_t *sig_fmt)
{
    struct vault *v = k->svc_data;
    int rsa = k->key_type == MSIG_KEY_RSA;
    char *in = NULL;
    json_t *body = NULL, *reply = NULL;
    const char *s, *c1, *c2;
    uint8_t raw[1024];
    size_t rlen = 0;
    char prefix[40];
    int rc;

    if (msigu_b64_encode(k->inst->host, digest, 32, &in) != 0)
        return MSIG_E_NOMEM;
    body = json_pack("{s:s, s:b, s:I}", "input", in, "prehashed", 1, "key_version",
                     (json_int_t)v->version);
    msigu_strfree(k->inst->host, in);
    if (body == NULL ||
        json_object_set_new(body, rsa ? "signature_algorithm" : "marshaling_algorithm",
                            json_string(rsa ? "pkcs1v15" : "jws")) != 0) {
        json_decref(body);
        return MSIG_E_NOMEM;
    }
    rc = kms_json_call(k, "POST", v->sign_url, v->hdrs, body, "sign with Vault", &reply, NULL);
    json_decref(body);
    if (rc != 0)
        return rc;
    s = json_string_value(json_object_get(json_object_get(reply, "data"), "signature"));
    c1 = s ? strchr(s, ':') : NULL;
    c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    snprintf(prefix, sizeof(prefix), "vault:v%ld:", v->version);
    if (c2 == NULL) {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                         "%s: the sign reply has no signature of the form "
                         "vault:vN:...",
                         k->what);
    } else if ((size_t)(c2 + 1 - s) != strlen(prefix) || strncmp(s, prefix, strlen(prefix))) {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED,
                         "%s: Vault signed with another key version "
                         "(signature prefix '%.*s', expected '%s')",
                         k->what, (int)(c2 + 1 - s), s, prefix);
    } else if (msigu_b64_decode(k->inst->host, c2 + 1, strlen(c2 + 1), raw, sizeof(raw), &rlen) !=
               0) {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED, "%s: the signature is not base64", k->what);
    } else if (rsa ? rlen != (k->bits + 7) / 8 : rlen != 64) {
        rc = msigu_error(k->inst->host, MSIG_E_FAILED, "%s: signature of %zu bytes, expected %u",
                         k->what, rlen, rsa ? (k->bits + 7) / 8 : 64u);
    } else {
        *sig_fmt = rsa ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_RAW;
        rc = kms_put_sig(k, raw, rlen, sig, cap, sig_len);
    }
    json_decref(reply);
    return rc;
}

const struct kms_service kms_vault = { "vault", vault_open, vault_sign, vault_close };
