/* validate.c -- msig validate FILE: structure, checksums and signature (spec section 11). */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_NO_AUGMENT = OPT_KEYS_END + 1 };

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "no-augment", no_argument, NULL, OPT_NO_AUGMENT },
    THREADS_LONGOPT,
    KEY_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

int cmd_validate(struct cli *cli, int argc, char **argv)
{
    struct keyopts keys;
    struct msig_pubkeys *pub = NULL;
    struct opened_keys opened = { 0 };
    struct msig_reader *r = NULL;
    struct msig_artifact *art = NULL;
    char *read_msg = NULL;
    const char *path, *msg;
    int opt, rc, fd = -1, status = EXIT_PARAMS;
    uint32_t read_flags = 0;

    memset(&keys, 0, sizeof(keys));
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":hk:", long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            status = cli_bad_option("validate", argv, optopt, opt, long_opts);
            goto out;
        }
        if (opt == 'h') {
            fputs("Usage: msig validate FILE [key flags] [--no-augment] [--threads N]\n\n"
                  "Checks the structure, every checksum and, with keys, the signature.\n\n"
                  "  -h, --help                     this help\n"
                  "  --no-augment                   with keys, refuse augmented parts (the\n"
                  "                                 signature does not cover them; default:\n"
                  "                                 accepted with a warning)\n" THREADS_HELP "\n",
                  stdout);
            keyopts_help(stdout, 0);
            fputs("\nExit status: 0 valid; 1 bad parameters; 3 cannot open; 4 invalid artifact or\n"
                  "signature (also: missing signature, missing verifier).\n",
                  stdout);
            status = 0;
            goto out;
        }
        if (opt == OPT_THREADS) {
            if ((status = cli_threads_opt(cli, "validate", optarg)) != 0)
                goto out;
            status = EXIT_PARAMS;
            continue;
        }
        if (opt == OPT_NO_AUGMENT) {
            read_flags |= MSIG_READ_F_NO_AUGMENT;
            continue;
        }
        if (keyopts_handle(&keys, opt, optarg) < 0) {
            status = EXIT_PARAMS; /* keyopts_handle said why */
            goto out;
        }
    }
    if (optind >= argc) {
        /* mender-artifact prints the same text but exits 0; msig exits 1. */
        fputs("Nothing specified, nothing validated. \n"
              "Maybe you wanted to say 'artifacts validate <pathspec>'?\n",
              stderr);
        goto out;
    }
    if (argc - optind > 1) {
        status = cli_usage_error("validate: only one artifact file can be validated, "
                                 "got '%s' too",
                                 argv[optind + 1]);
        goto out;
    }
    path = argv[optind];
    /* A key that cannot be used is a parameter error (mender-artifact exits 0 here). */
    status = keyopts_open_verify(cli, &keys, &pub, &opened);
    if (status != 0)
        goto out;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "Can not open artifact: %s: %s\n", path, strerror(errno));
        status = EXIT_OPEN;
        goto out;
    }
    status = EXIT_FAIL;
    rc = msig_reader_new(cli->ctx, &r);
    if (rc != 0) {
        cli_report(cli, rc, NULL);
        goto out;
    }
    msig_reader_set_pubkeys(r, pub);
    msig_reader_set_flags(r, read_flags);
    rc = msig_reader_read_fd(r, fd, path, &art);
    if (rc != 0)
        read_msg = strdup(cli_message(cli, rc, NULL));
    rc = msig_artifact_verdict(cli->ctx, rc, art, pub != NULL && msig_pubkeys_count(pub) > 0);
    if (rc != 0) {
        if (rc == MSIG_E_NO_SIGNATURE)
            msg = "missing signature";
        else if (rc == MSIG_E_NO_VERIFIER)
            msg = "missing verifier";
        else if (msig_ctx_last_error(cli->ctx)[0] != '\0')
            msg = msig_ctx_last_error(cli->ctx);
        else if (read_msg != NULL)
            msg = read_msg;
        else
            msg = cli_message(cli, rc, NULL);
        fprintf(stderr, "%s\n", msg);
        status = EXIT_INVALID;
        goto out;
    }
    printf("Artifact file '%s' validated successfully\n", path);
    status = 0;
out:
    if (fd >= 0)
        close(fd);
    free(read_msg);
    msig_artifact_free(art);
    msig_reader_free(r);
    msig_pubkeys_free(pub);
    keyopts_close_opened(&opened);
    keyopts_free(&keys);
    return status;
}
