/* keyopts.c -- the key flags of write, sign, validate and read: -k and the external key
 * flags (--key-pkcs11, --gcp-kms-key, ...) kept in the order given, mapped to key specs, and
 * opened for signing (exactly one) or verification (any number, first that verifies wins). */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The external key flags and the plugin scheme each maps to. */
static const struct {
    int opt;
    const char *scheme;
    const char *flag;
} key_flags[] = {
    { OPT_KEY_PKCS11, "pkcs11", "key-pkcs11" },
    { OPT_GCP_KMS_KEY, "gcpkms", "gcp-kms-key" },
    { OPT_VAULT_KEY, "vault", "vault-transit-key" },
    { OPT_AZURE_KEY, "azurekv", "azure-key" },
    { OPT_SIGNSERVER, "signserver", "keyfactor-signserver-worker" },
};

/* "scheme:arg", or arg when it already starts with "scheme:". */
static char *scheme_spec(const char *scheme, const char *arg)
{
    size_t n = strlen(scheme);
    size_t len = n + strlen(arg) + 2;
    char *spec = malloc(len);
    if (spec == NULL)
        return NULL;
    if (strncmp(arg, scheme, n) == 0 && arg[n] == ':')
        snprintf(spec, len, "%s", arg);
    else
        snprintf(spec, len, "%s:%s", scheme, arg);
    return spec;
}

static int add_src(struct keyopts *k, const char *flag, const char *value, char *spec)
{
    if (spec == NULL) {
        cli_usage_error("out of memory");
        return -1;
    }
    if (k->n >= KEYOPTS_MAX) {
        free(spec);
        cli_usage_error("more than %d key flags given", KEYOPTS_MAX);
        return -1;
    }
    k->src[k->n].flag = flag;
    k->src[k->n].value = value;
    k->src[k->n].spec = spec;
    k->n++;
    return 1;
}

int keyopts_handle(struct keyopts *k, int opt, const char *arg)
{
    if (opt == 'k')
        return add_src(k, "key", arg, strdup(arg));
    if (opt == OPT_PASSPHRASE_FILE) {
        k->passphrase_file = arg;
        return 1;
    }
    if (opt == OPT_KEY_PROVIDER) {
        size_t used = strlen(k->providers);
        if (used + strlen(arg) + 2 > sizeof(k->providers) || strchr(arg, ',') != NULL) {
            cli_usage_error("--key-provider %s: one provider name per flag, at most %zu "
                            "characters in all",
                            arg, sizeof(k->providers) - 1);
            return -1;
        }
        snprintf(k->providers + used, sizeof(k->providers) - used, "%s%s", used ? "," : "", arg);
        return 1;
    }
    if (opt == OPT_KEY_PROVIDER_PATH || opt == OPT_KEY_PROVIDER_CONF) {
        *(opt == OPT_KEY_PROVIDER_PATH ? &k->provider_path : &k->provider_conf) = arg;
        return 1;
    }
    for (size_t i = 0; i < sizeof(key_flags) / sizeof(key_flags[0]); i++) {
        if (key_flags[i].opt == opt)
            return add_src(k, key_flags[i].flag, arg, scheme_spec(key_flags[i].scheme, arg));
    }
    return 0;
}

void keyopts_free(struct keyopts *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->src[i].spec);
    k->n = 0;
}

size_t keyopts_count(const struct keyopts *k)
{
    return k->n;
}

int keyopts_too_many(const struct keyopts *k)
{
    fputs("msig: too many signing keys given: [", stderr);
    for (size_t i = 0; i < k->n; i++)
        fprintf(stderr, "%s%s", i ? " " : "", k->src[i].flag);
    fputs("]\n", stderr);
    return EXIT_PARAMS;
}

int cli_scheme_served(struct cli *cli, const char *spec)
{
    if (cli_spec_needs_plugins(spec) && cli_load_plugins(cli) != 0)
        return 0;
    size_t n = msig_ctx_plugin_count(cli->ctx);
    size_t len = strcspn(spec, ":");
    if (spec[len] != ':')
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct msig_plugin_info info;
        memset(&info, 0, sizeof(info));
        info.struct_size = sizeof(info);
        if (msig_ctx_plugin_info(cli->ctx, i, &info) != 0)
            continue;
        for (size_t j = 0; info.schemes != NULL && info.schemes[j] != NULL; j++)
            if (strlen(info.schemes[j]) == len && strncmp(info.schemes[j], spec, len) == 0)
                return 1;
    }
    return 0;
}

uint32_t cli_open_flags(void)
{
    if (!isatty(STDIN_FILENO) || access("/dev/tty", R_OK | W_OK) != 0)
        return MSIG_KEY_OPEN_F_NO_PROMPT;
    return 0;
}

/* With --key-provider (or --key-provider-conf), every -k names a key of those providers: its
 * spec becomes "ossl:VALUE" and the flags become the ossl plugin's parameters. */
static int apply_providers(struct cli *cli, struct keyopts *k)
{
    const struct {
        const char *param, *value;
    } set[] = { { "ossl.provider", k->providers[0] ? k->providers : NULL },
                { "ossl.provider_path", k->provider_path },
                { "ossl.conf", k->provider_conf } };

    if (!k->providers[0] && !k->provider_conf) {
        if (k->provider_path)
            return cli_usage_error("--key-provider-path needs --key-provider NAME");
        return 0;
    }
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        if (set[i].value != NULL && msig_ctx_set_param(cli->ctx, set[i].param, set[i].value)) {
            cli_report(cli, MSIG_E_INVALID, NULL);
            return EXIT_FAIL;
        }
    }
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->src[i].flag, "key") != 0 || strncmp(k->src[i].spec, "ossl:", 5) == 0)
            continue;
        char *spec = scheme_spec("ossl", k->src[i].value);
        if (spec == NULL)
            return cli_usage_error("out of memory");
        free(k->src[i].spec);
        k->src[i].spec = spec;
    }
    return 0;
}

static int open_one(struct cli *cli, const struct keysrc *s, struct msig_key **key)
{
    if (cli_spec_needs_plugins(s->spec) && cli_load_plugins(cli) != 0)
        return EXIT_FAIL;
    int rc = msig_key_open(cli->ctx, s->spec, cli_open_flags(), key);
    if (rc != 0) {
        *key = NULL;
        /* The library names the key itself, with any pin-value hidden: no prefix here. */
        fprintf(stderr, "%s\n", cli_message(cli, rc, NULL));
        return EXIT_FAIL;
    }
    return 0;
}

int keyopts_open_signing(struct cli *cli, struct keyopts *k, struct msig_key **key)
{
    *key = NULL;
    if (k->n > 1)
        return keyopts_too_many(k);
    if (k->n == 0)
        return 0;
    cli->passphrase_file = k->passphrase_file;
    /* An output (-o) may never replace the passphrase file. */
    if (k->passphrase_file && msig_ctx_add_input(cli->ctx, k->passphrase_file) != 0)
        return cli_usage_error("out of memory");
    int rc = apply_providers(cli, k);
    return rc != 0 ? rc : open_one(cli, &k->src[0], key);
}

/* -k VALUE for verification: a public key file, unless VALUE has the scheme of a loaded
 * plugin other than "file", or looks like "scheme:" and names no file (then the library
 * says that no plugin serves the scheme). */
static int is_plugin_key(struct cli *cli, const struct keysrc *s)
{
    if (strcmp(s->flag, "key") != 0)
        return 1;
    if (strcmp(s->spec, s->value) != 0)
        return 1; /* a provider key (--key-provider made the spec ossl:VALUE) */
    if (strncmp(s->value, "file:", 5) == 0)
        return 0;
    if (cli_scheme_served(cli, s->value))
        return 1;
    size_t n = strspn(s->value, "abcdefghijklmnopqrstuvwxyz0123456789-");
    return n > 0 && s->value[n] == ':' && access(s->value, F_OK) != 0;
}

static int add_verifier(struct cli *cli, struct msig_pubkeys *set, const struct keysrc *s,
                        struct opened_keys *opened)
{
    int rc;
    if (!is_plugin_key(cli, s)) {
        const char *path = strncmp(s->value, "file:", 5) == 0 ? s->value + 5 : s->value;
        rc = msig_pubkeys_add_file(set, path);
        if (rc != 0)
            fprintf(stderr, "%s\n", cli_message(cli, rc, s->value));
        return rc != 0 ? EXIT_FAIL : 0;
    }
    struct msig_key *key = NULL;
    rc = open_one(cli, s, &key);
    if (rc != 0)
        return rc;
    opened->key[opened->n++] = key;
    rc = msig_pubkeys_add_key(set, key);
    if (rc != 0)
        fprintf(stderr, "%s\n", cli_message(cli, rc, NULL));
    return rc != 0 ? EXIT_FAIL : 0;
}

int keyopts_open_verify(struct cli *cli, struct keyopts *k, struct msig_pubkeys **keys,
                        struct opened_keys *opened)
{
    struct msig_pubkeys *set = NULL;
    *keys = NULL;
    opened->n = 0;
    if (k->n == 0)
        return 0;
    cli->passphrase_file = k->passphrase_file;
    int rc = apply_providers(cli, k);
    if (rc != 0)
        return rc;
    rc = msig_pubkeys_new(cli->ctx, &set);
    if (rc != 0) {
        cli_report(cli, rc, NULL);
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < k->n; i++) {
        rc = add_verifier(cli, set, &k->src[i], opened);
        if (rc != 0) {
            msig_pubkeys_free(set);
            keyopts_close_opened(opened);
            return rc;
        }
    }
    *keys = set;
    return 0;
}

void keyopts_close_opened(struct opened_keys *opened)
{
    for (size_t i = 0; i < opened->n; i++)
        msig_key_close(opened->key[i]);
    opened->n = 0;
}

void keyopts_help(FILE *f, int signing)
{
    if (signing)
        fputs("Signing key (one of):\n"
              "  -k, --key FILE|SPEC            private key file (PEM or DER: RSA >= 2048 bits or\n"
              "                                 EC P-256), or a plugin key spec scheme:rest\n",
              f);
    else
        fputs("Verification keys (any number, tried in order; the first that verifies wins):\n"
              "  -k, --key FILE|SPEC            public key file (PEM or DER), or a plugin key\n"
              "                                 spec scheme:rest whose public half verifies\n",
              f);
    fputs("  --key-pkcs11 URI               a key on a PKCS#11 token (RFC 7512 URI)\n"
          "  --gcp-kms-key NAME             a Google Cloud KMS key version\n"
          "  --vault-transit-key KEY        a HashiCorp Vault transit key\n"
          "  --azure-key KEY                an Azure Key Vault key\n"
          "  --keyfactor-signserver-worker WORKER  a Keyfactor SignServer worker\n"
          "  --key-provider NAME            every -k is a key of this OpenSSL provider\n"
          "                                 (repeatable; e.g. tpm2 -k handle:0x81000001)\n"
          "  --key-provider-path DIR        where the providers are (default: OpenSSL's)\n"
          "  --key-provider-conf FILE       an OpenSSL config that loads the providers\n"
          "  --passphrase-file FILE         passphrase or PIN, first line (default:\n"
          "                                 MSIG_KEY_PASSPHRASE, else a prompt on a terminal)\n",
          f);
}
