/* sign.c -- msig sign FILE: inserts manifest.sig without recompressing (spec section 12). */
#include "common.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"output-path", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},
    KEY_LONGOPTS,
    {NULL, 0, NULL, 0},
};

int cmd_sign(struct cli *cli, int argc, char **argv)
{
    struct keyopts keys;
    struct msig_key *key = NULL;
    const char *in, *out_path = NULL;
    uint32_t flags = 0;
    int opt, rc, status = EXIT_PARAMS;

    memset(&keys, 0, sizeof(keys));
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":hk:o:f", long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            status = cli_bad_option("sign", argv, optopt, opt);
            goto out;
        }
        switch (opt) {
        case 'h':
            fputs("Usage: msig sign FILE (-k PRIVKEY | --key-pkcs11 URI | ...) [-o OUT] [-f]\n"
                  "  -o, --output-path OUT  write the signed artifact there (default: in place)\n"
                  "  -f, --force            replace an existing signature\n", stdout);
            status = 0;
            goto out;
        case 'o':
            out_path = optarg;
            break;
        case 'f':
            flags |= MSIG_SIGN_F_FORCE;
            break;
        default:
            if (keyopts_handle(&keys, opt, optarg) < 0) {
                status = cli_usage_error("out of memory");
                goto out;
            }
        }
    }
    if (keyopts_count(&keys) == 0) {
        status = cli_usage_error("Missing signing key; please provide a signing key parameter");
        goto out;
    }
    if (optind >= argc) {
        status = cli_usage_error("sign: nothing specified; give the artifact file to sign");
        goto out;
    }
    if (argc - optind > 1) {
        status = cli_usage_error("sign: only one artifact file can be signed, got '%s' too",
                                 argv[optind + 1]);
        goto out;
    }
    in = argv[optind];
    status = keyopts_open_signing(cli, &keys, &key);
    if (status != 0)
        goto out;
    rc = msig_artifact_sign_file(cli->ctx, key, in, out_path ? out_path : in, flags);
    if (rc == MSIG_E_EXISTS) {
        fprintf(stderr, "%s: Artifact already signed, refusing to re-sign. "
                "Use force option to override\n", in);
        status = EXIT_FAIL;
        goto out;
    }
    if (rc != 0) {
        cli_report(cli, rc, in);
        status = EXIT_FAIL;
        goto out;
    }
    status = 0;
out:
    msig_key_close(key);
    keyopts_free(&keys);
    return status;
}
