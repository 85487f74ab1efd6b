/* kms.c -- the "kms" signer plugin: descriptor, instance, and the key operations every
 * service shares. One module serves the four schemes so that libcurl is initialised once and
 * one HTTP handle (kept-alive connections) and one token cache serve every key. */
#include "kms.h"

#include <stdlib.h>
#include <string.h>

static const struct kms_service *const services[] = {
    &kms_vault,
    &kms_gcpkms,
    &kms_azurekv,
    &kms_signserver,
};

static int kms_instance_new(const struct msig_host *host, void **out)
{
    struct kms_inst *inst;
    int rc;

    if (!MSIG_HAS_FIELD(host, struct msig_host, get_param)) {
        if (MSIG_HAS_FIELD(host, struct msig_host, set_error))
            host->set_error(host->host_data, MSIG_E_ABI, "host table too small");
        return MSIG_E_ABI;
    }
    inst = calloc(1, sizeof(*inst));
    if (inst == NULL)
        return MSIG_E_NOMEM;
    inst->host = host;
    rc = msigu_http_new(host, &inst->http);
    if (rc != 0) {
        free(inst);
        return rc;
    }
    *out = inst;
    return 0;
}

static void kms_instance_free(void *p)
{
    struct kms_inst *inst = p;

    if (inst == NULL)
        return;
    for (int i = 0; i < KMS_TOKENS; i++)
        kms_token_drop(&inst->tokens[i]);
    msigu_http_free(inst->http);
    free(inst);
}

static void kms_key_close(void *p)
{
    struct kms_key *k = p;

    if (k == NULL)
        return;
    if (k->svc && k->svc->close)
        k->svc->close(k);
    EVP_PKEY_free(k->pub);
    OPENSSL_free(k->pub_der);
    free(k);
}

static int kms_key_open(void *p, const char *spec, uint32_t flags, void **out)
{
    struct kms_inst *inst = p;
    const struct kms_service *svc = NULL;
    size_t len = strcspn(spec, ":");
    struct kms_key *k;
    int rc;

    *out = NULL;
    if (flags & ~(uint32_t)MSIG_KEY_OPEN_F_NO_PROMPT)
        return msigu_error(inst->host, MSIG_E_UNSUPPORTED, "unknown key-open flags 0x%x", flags);
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (strlen(services[i]->scheme) == len && strncmp(spec, services[i]->scheme, len) == 0)
            svc = services[i];
    if (svc == NULL || spec[len] != ':')
        return msigu_error(inst->host, MSIG_E_UNSUPPORTED, "scheme not served by this plugin");
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return MSIG_E_NOMEM;
    k->inst = inst;
    k->svc = svc;
    rc = svc->open(k, spec + len + 1, flags);
    if (rc == 0 && k->pub == NULL)
        rc = msigu_error(inst->host, MSIG_E_FAILED, "%s: no public key", k->what);
    if (rc != 0) {
        kms_key_close(k);
        return rc;
    }
    msigu_log(inst->host, MSIG_LOG_DEBUG, "%s: %s key of %u bits", k->what,
              k->key_type == MSIG_KEY_RSA ? "RSA" : "EC P-256", k->bits);
    *out = k;
    return 0;
}

static int kms_key_info(void *p, struct msig_key_info *info)
{
    struct kms_key *k = p;

    if (MSIG_HAS_FIELD(info, struct msig_key_info, key_type))
        info->key_type = k->key_type;
    if (MSIG_HAS_FIELD(info, struct msig_key_info, bits))
        info->bits = k->bits;
    if (MSIG_HAS_FIELD(info, struct msig_key_info, sig_schemes))
        info->sig_schemes =
            k->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    if (MSIG_HAS_FIELD(info, struct msig_key_info, flags))
        info->flags = MSIG_KEYINFO_F_HARDWARE | MSIG_KEYINFO_F_REMOTE;
    if (MSIG_HAS_FIELD(info, struct msig_key_info, max_sig_len))
        info->max_sig_len = k->key_type == MSIG_KEY_RSA ? (k->bits + 7) / 8 : 72;
    if (MSIG_HAS_FIELD(info, struct msig_key_info, pub_der_len))
        info->pub_der_len = k->pub_der_len;
    return 0;
}

static int kms_key_public_der(void *p, uint8_t *buf, size_t cap, size_t *len)
{
    struct kms_key *k = p;

    *len = k->pub_der_len;
    if (cap < k->pub_der_len)
        return MSIG_E_BUFFER_TOO_SMALL;
    memcpy(buf, k->pub_der, k->pub_der_len);
    return 0;
}

static int kms_sign_digest(void *p, uint32_t scheme, const uint8_t *digest, size_t digest_len,
                           uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    struct kms_key *k = p;
    uint32_t want = k->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    int rc;

    if (scheme != want)
        return msigu_error(k->inst->host, MSIG_E_UNSUPPORTED,
                           "%s cannot make signature scheme 0x%x", k->what, scheme);
    if (digest_len != 32)
        return msigu_error(k->inst->host, MSIG_E_INVALID, "digest of %zu bytes (SHA-256 has 32)",
                           digest_len);
    rc = k->svc->sign(k, digest, sig, cap, sig_len, sig_fmt);
    if (rc != 0 && rc != MSIG_E_BUFFER_TOO_SMALL) {
        explicit_bzero(sig, cap);
        *sig_len = 0;
    }
    return rc;
}

static int kms_key_list(void *p, const char *spec, uint32_t flags, msig_key_list_fn *cb,
                        void *cb_data)
{
    struct kms_inst *inst = p;
    struct kms_key *k;
    int rc;

    (void)flags;
    if (strncmp(spec, "vault:", 6) != 0 && strncmp(spec, "azurekv:", 8) != 0)
        return msigu_error(inst->host, MSIG_E_UNSUPPORTED,
                           "only Vault and Azure Key Vault keys can be "
                           "listed (vault:, azurekv:, or with a key name)");
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return MSIG_E_NOMEM;
    k->inst = inst;
    k->svc = spec[0] == 'v' ? &kms_vault : &kms_azurekv;
    rc = spec[0] == 'v' ? kms_vault_list(k, spec + 6, cb, cb_data)
                        : kms_azure_list(k, spec + 8, cb, cb_data);
    kms_key_close(k);
    return rc;
}

static const char *const schemes[] = { "vault", "gcpkms", "azurekv", "signserver", NULL };

/* Every parameter read, with the variable the CLI maps onto it (cli/envparams.c). */
static const char *const params[] = {
    "kms.ssl-cert-file", /* SSL_CERT_FILE */
    "kms.ssl-cert-dir",  /* SSL_CERT_DIR */
    "kms.connect-to",    /* MSIG_KMS_CONNECT_TO */
    "kms.timeout-ms",
    "kms.connect-timeout-ms",
    "kms.max-retries",
    "kms.deadline-ms",
    "vault.addr",             /* VAULT_ADDR */
    "vault.token",            /* VAULT_TOKEN */
    "vault.mount-path",       /* VAULT_MOUNT_PATH */
    "vault.key-version",      /* VAULT_KEY_VERSION */
    "vault.cacert",           /* VAULT_CACERT */
    "vault.capath",           /* VAULT_CAPATH */
    "vault.namespace",        /* VAULT_NAMESPACE */
    "vault.agent-addr",       /* VAULT_AGENT_ADDR */
    "vault.client-cert",      /* VAULT_CLIENT_CERT */
    "vault.client-key",       /* VAULT_CLIENT_KEY */
    "gcpkms.credentials",     /* GOOGLE_APPLICATION_CREDENTIALS */
    "gcpkms.metadata-host",   /* GCE_METADATA_HOST */
    "gcpkms.cloudsdk-config", /* CLOUDSDK_CONFIG (gcloud's well-known ADC file) */
    "gcpkms.home",            /* HOME (~/.config/gcloud/application_default_credentials.json) */
    "gcpkms.endpoint",
    "azurekv.vault-name",        /* KEY_VAULT_NAME */
    "azurekv.key-version",       /* KEY_VAULT_KEY_VERSION */
    "azurekv.tenant-id",         /* AZURE_TENANT_ID */
    "azurekv.client-id",         /* AZURE_CLIENT_ID */
    "azurekv.client-secret",     /* AZURE_CLIENT_SECRET */
    "azurekv.authority-host",    /* AZURE_AUTHORITY_HOST */
    "azurekv.identity-endpoint", /* IDENTITY_ENDPOINT (App Service managed identity) */
    "azurekv.identity-header",   /* IDENTITY_HEADER */
    "azurekv.imds-host",         /* IMDS address (default 169.254.169.254) */
    "azurekv.vault-url",
    "azurekv.api-version",
    "signserver.hostname",    /* SIGNSERVER_HOSTNAME */
    "signserver.client-cert", /* SIGNSERVER_CLIENT_CERT_PATH */
    "signserver.client-key",  /* SIGNSERVER_CLIENT_CERT_KEY_PATH */
    "signserver.ca-cert",     /* SIGNSERVER_CA_CERT_PATH */
    "signserver.signer-cert",
    NULL,
};

static const struct msig_plugin kms_plugin = {
    .struct_size = sizeof(struct msig_plugin),
    .abi_major = MSIG_PLUGIN_ABI_MAJOR,
    .abi_minor = MSIG_PLUGIN_ABI_MINOR,
    .name = "kms",
    .version = "1.0",
    .schemes = schemes,
    /* libcurl and OpenSSL keep process-wide state: never unload. */
    .flags = MSIG_PLUGIN_F_NO_UNLOAD,
    .instance_new = kms_instance_new,
    .instance_free = kms_instance_free,
    .key_open = kms_key_open,
    .key_close = kms_key_close,
    .key_info = kms_key_info,
    .key_public_der = kms_key_public_der,
    .sign_digest = kms_sign_digest,
    .sign_message = NULL,
    .key_list = kms_key_list,
    .params = params,
};

MSIG_PLUGIN_DEFINE(kms, kms_plugin)
