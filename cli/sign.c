/* sign.c -- msig sign FILE...: inserts manifest.sig without recompressing (spec section 12).
 * Several files are signed with one key opening (one token login), each replaced in place
 * atomically; the first failure stops the run, so a wrong PIN is never tried twice. */
#include "common.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "output-path", required_argument, NULL, 'o' },
    { "force", no_argument, NULL, 'f' },
    THREADS_LONGOPT,
    KEY_LONGOPTS,
    { NULL, 0, NULL, 0 },
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
    while ((opt = getopt_long_only(argc, argv, ":hk:o:f", long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            status = cli_bad_option("sign", argv, optopt, opt, long_opts);
            goto out;
        }
        switch (opt) {
        case 'h':
            fputs(
                "Usage: msig sign FILE... [key flags] [-o OUT] [-f] [--threads N]\n\n"
                "Adds a signature to an artifact without recompressing it. Several FILEs are\n"
                "signed in place with one opening of the key (one PIN); the first failure "
                "stops.\n\n"
                "  -h, --help                     this help\n"
                "  -o, --output-path OUT          write the signed artifact there (only with one\n"
                "                                 FILE; - is standard output; default: in place,\n"
                "                                 locked against a concurrent sign)\n"
                "  -f, --force                    replace an existing signature (default: "
                "refuse)\n" THREADS_HELP "\n",
                stdout);
            keyopts_help(stdout, 1);
            fputs("\nExit status: 0 signed; 1 error (the input is unchanged).\n", stdout);
            status = 0;
            goto out;
        case 'o':
            out_path = optarg;
            break;
        case 'f':
            flags |= MSIG_SIGN_F_FORCE;
            break;
        case OPT_THREADS:
            if ((status = cli_threads_opt(cli, "sign", optarg)) != 0)
                goto out;
            status = EXIT_PARAMS;
            break;
        default:
            if (keyopts_handle(&keys, opt, optarg) < 0) {
                status = EXIT_PARAMS; /* keyopts_handle said why */
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
    if (argc - optind > 1 && out_path) {
        status = cli_usage_error("sign: -o/--output-path takes one artifact file, got %d",
                                 argc - optind);
        goto out;
    }
    if (out_path && strcmp(out_path, "-") == 0)
        cli_progress_off(cli);
    status = keyopts_open_signing(cli, &keys, &key);
    if (status != 0)
        goto out;
    for (int i = optind; i < argc; i++) {
        in = argv[i];
        rc = msig_artifact_sign_file(cli->ctx, key, in, out_path ? out_path : in, flags);
        if (rc == MSIG_E_EXISTS) {
            fprintf(stderr,
                    "%s: Artifact already signed, refusing to re-sign. "
                    "Use force option to override\n",
                    in);
        } else if (rc != 0) {
            cli_report(cli, rc, in);
        }
        if (rc != 0) {
            if (i > optind)
                fprintf(stderr,
                        "sign: stopped at %s: %d of %d files were signed, the rest "
                        "are unchanged\n",
                        in, i - optind, argc - optind);
            status = EXIT_FAIL;
            goto out;
        }
    }
    status = 0;
out:
    msig_key_close(key);
    keyopts_free(&keys);
    return status;
}
