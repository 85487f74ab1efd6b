/* keys.c -- msig keys SPEC: lists the signing keys a key spec matches, through the plugin
 * that serves the spec's scheme ("msig keys pkcs11:" lists every token's keys), so that a
 * user can find the spec to sign with. */
#include "common.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(uint32_t t)
{
    switch (t) {
    case MSIG_KEY_RSA:
        return "RSA";
    case MSIG_KEY_EC_P256:
        return "EC P-256";
    case MSIG_KEY_EC_P384:
        return "EC P-384";
    case MSIG_KEY_ED25519:
        return "Ed25519";
    default:
        return "unknown type";
    }
}

static int print_entry(void *user, const struct msig_key_entry *e)
{
    size_t *count = user;
    char b[2048];
    printf("%s\n", msig_text_escape(e->spec, b, sizeof(b)));
    if (e->token != NULL)
        printf("  token: %s\n", msig_text_escape(e->token, b, sizeof(b)));
    if (e->label != NULL)
        printf("  label: %s\n", msig_text_escape(e->label, b, sizeof(b)));
    if (e->id != NULL)
        printf("  id: %s\n", msig_text_escape(e->id, b, sizeof(b)));
    if (e->bits != 0)
        printf("  type: %s, %u bits\n", type_name(e->key_type), (unsigned)e->bits);
    else
        printf("  type: %s\n", type_name(e->key_type));
    if (e->detail != NULL)
        printf("  detail: %s\n", msig_text_escape(e->detail, b, sizeof(b)));
    (*count)++;
    return 0;
}

static int usage(FILE *f)
{
    fputs("Usage: msig keys SPEC\n"
          "Lists the signing keys that SPEC matches, one block per key: the spec that opens\n"
          "it, then token, label, id, type and size as the plugin knows them. SPEC is a key\n"
          "spec or its scheme alone (\"pkcs11:\" lists the keys of every token; a key file\n"
          "path lists that key). PINs come from --passphrase-file, MSIG_KEY_PASSPHRASE or a\n"
          "prompt on the terminal.\n"
          "  --passphrase-file FILE  PIN or passphrase, if the listing needs a login\n"
          "Exit codes: 0 listed (also when nothing matched), 1 error.\n",
          f);
    return f == stdout ? 0 : EXIT_PARAMS;
}

int cmd_keys(struct cli *cli, int argc, char **argv)
{
    const char *spec = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(stdout);
        if (strcmp(argv[i], "--passphrase-file") == 0 && i + 1 < argc)
            cli->passphrase_file = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("keys: flag provided but not defined: %s", argv[i]);
        else if (spec != NULL)
            return cli_usage_error("keys: one SPEC only (got '%s' and '%s')", spec, argv[i]);
        else
            spec = argv[i];
    }
    if (spec == NULL) {
        cli_usage_error("keys: no SPEC given");
        return usage(stderr);
    }
    size_t count = 0;
    if (cli_load_plugins(cli) != 0)
        return EXIT_FAIL;
    int rc = msig_key_list(cli->ctx, spec, cli_open_flags(), print_entry, &count);
    if (rc != 0) {
        cli_report(cli, rc, spec);
        return EXIT_FAIL;
    }
    if (count == 0)
        fprintf(stderr, "msig: no signing key matches %s\n", spec);
    return 0;
}
