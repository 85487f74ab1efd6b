/* envparams.c -- environment variables that set plugin parameters. Plugins never read the
 * environment (plugin-abi.md D.1.7): the CLI maps each variable to a parameter here, in one
 * table. A variable that is set is passed on whether or not its plugin is loaded. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

static const struct {
    const char *env;
    const char *param;
} env_params[] = {
    /* PKCS#11 (plugins/pkcs11) */
    { "MSIG_PKCS11_PIN", "pkcs11.pin" },
    { "PKCS11_MODULE_PATH", "pkcs11.module-path" },
    /* Cloud KMS (plugins/kms), the variables mender-artifact reads */
    { "SSL_CERT_FILE", "kms.ssl-cert-file" },
    { "SSL_CERT_DIR", "kms.ssl-cert-dir" },
    { "MSIG_KMS_CONNECT_TO", "kms.connect-to" },
    { "VAULT_ADDR", "vault.addr" },
    { "VAULT_TOKEN", "vault.token" },
    { "VAULT_MOUNT_PATH", "vault.mount-path" },
    { "VAULT_KEY_VERSION", "vault.key-version" },
    { "VAULT_CACERT", "vault.cacert" },
    { "VAULT_CAPATH", "vault.capath" },
    { "VAULT_NAMESPACE", "vault.namespace" },
    { "VAULT_AGENT_ADDR", "vault.agent-addr" },
    { "VAULT_CLIENT_CERT", "vault.client-cert" },
    { "VAULT_CLIENT_KEY", "vault.client-key" },
    { "GOOGLE_APPLICATION_CREDENTIALS", "gcpkms.credentials" },
    { "GCE_METADATA_HOST", "gcpkms.metadata-host" },
    { "CLOUDSDK_CONFIG", "gcpkms.cloudsdk-config" },
    { "HOME", "gcpkms.home" },
    { "KEY_VAULT_NAME", "azurekv.vault-name" },
    { "KEY_VAULT_KEY_VERSION", "azurekv.key-version" },
    { "AZURE_TENANT_ID", "azurekv.tenant-id" },
    { "AZURE_CLIENT_ID", "azurekv.client-id" },
    { "AZURE_CLIENT_SECRET", "azurekv.client-secret" },
    { "AZURE_AUTHORITY_HOST", "azurekv.authority-host" },
    { "IDENTITY_ENDPOINT", "azurekv.identity-endpoint" },
    { "IDENTITY_HEADER", "azurekv.identity-header" },
    { "SIGNSERVER_HOSTNAME", "signserver.hostname" },
    { "SIGNSERVER_CLIENT_CERT_PATH", "signserver.client-cert" },
    { "SIGNSERVER_CLIENT_CERT_KEY_PATH", "signserver.client-key" },
    { "SIGNSERVER_CA_CERT_PATH", "signserver.ca-cert" },
};

int cli_env_params(struct cli *cli)
{
    for (size_t i = 0; i < sizeof(env_params) / sizeof(env_params[0]); i++) {
        const char *v = getenv(env_params[i].env);
        if (v == NULL)
            continue;
        int rc = msig_ctx_set_param(cli->ctx, env_params[i].param, v);
        if (rc != 0) {
            cli_report(cli, rc, env_params[i].env);
            return EXIT_FAIL;
        }
    }
    return 0;
}
