/* main.c -- msig: a drop-in for mender-artifact. Global flags and the command table. */
#include "common.h"
#include "target.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct cmd commands[] = {
    { "write", cmd_write,
      "write rootfs-image|module-image|bootstrap-artifact: create an artifact" },
    { "read", cmd_read, "read FILE: show the header of an artifact" },
    { "validate", cmd_validate, "validate FILE: check structure, checksums and signature" },
    { "sign", cmd_sign, "sign FILE: add a signature to an existing artifact" },
    { "dump", cmd_dump, "dump FILE: extract files, scripts and meta-data" },
    { "plugins", cmd_plugins, "plugins: list the signer plugins" },
    { "keys", cmd_keys, "keys SPEC: list the signing keys a key spec matches (e.g. pkcs11:)" },
    { "modify", cmd_modify,
      "modify FILE: change an artifact or image (server, keys, name, header)" },
    { "cp", cmd_cp, "cp SRC DST: copy a file into or out of an artifact or image" },
    { "cat", cmd_cat, "cat FILE:/path: write a file of an artifact or image to standard output" },
    { "install", cmd_install, "install -m MODE HOSTFILE FILE:/path, or -d FILE:/dir" },
    { "rm", cmd_rm, "rm [-r] FILE:/path: remove a file or directory from an artifact or image" },
};

static void usage(FILE *f)
{
    size_t i;

    fputs("Usage: msig [--compression ID] [--plugin FILE]... [--plugin-param NAME=VALUE]... "
          "COMMAND [ARGS]\n"
          "       msig -h|--help | -v|--version\n\n"
          "Writes, reads, signs and validates Mender Artifacts (mender-artifact compatible).\n\n"
          "Commands:\n",
          f);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nmodify, cp, cat, install and rm edit the ext4 root filesystem of a rootfs-image\n"
          "artifact, an ext4 image or a disk image (.sdimg, .uefiimg, any MBR or GPT image).\n\n"
          "Global flags:\n"
          "  --compression ID  default compression for write: none, gzip, lzma,\n"
          "                    zstd_fastest, zstd_fast, zstd_better, zstd_best\n"
          "  --plugin FILE     load one more signer plugin (repeatable)\n"
          "  --plugin-param NAME=VALUE\n"
          "                    set a plugin parameter, e.g. example.command=... (repeatable)\n"
          "Run 'msig COMMAND --help' (or 'msig help COMMAND') for the flags of a command.\n"
          "Long flags may also be written with one dash (-artifact-name), as mender-artifact\n"
          "accepts them.\n",
          f);
}

/* Plugin parameters given with --plugin-param, checked against the loaded plugins. */
static int set_params(struct cli *cli, const struct strlist *params)
{
    for (size_t c = 0; c < params->n; c++) {
        char name[256];
        const char *eq = strchr(params->v[c], '=');
        int rc = snprintf(name, sizeof(name), "%.*s", (int)(eq - params->v[c]), params->v[c]);
        if (rc < 0 || (size_t)rc >= sizeof(name))
            return cli_usage_error("--plugin-param: name too long: %.40s...", params->v[c]);
        rc = msig_ctx_check_param(cli->ctx, name);
        if (rc == 0)
            rc = msig_ctx_set_param(cli->ctx, name, eq + 1);
        if (rc != 0) {
            fprintf(stderr, "msig: --plugin-param: %s\n", cli_message(cli, rc, NULL));
            return EXIT_PARAMS;
        }
    }
    return 0;
}

/* The context: callbacks, the plugins to load (cli_load_plugins), parameters from the
 * environment, then from --plugin-param. */
static int setup(struct cli *cli, const struct strlist *plugins, const struct strlist *params)
{
    int rc = msig_ctx_new(&cli->ctx);
    if (rc != 0) {
        fprintf(stderr, "msig: cannot create context: %s\n", msig_strerror(rc));
        return EXIT_FAIL;
    }
    msig_ctx_set_log(cli->ctx, cli_log, cli);
    cli_progress_init(cli);
    msig_ctx_set_pin_callback(cli->ctx, cli_pin, cli);
    cli->plugin_files = plugins->v;
    cli->nplugin_files = plugins->n;
    /* --plugin-param is checked against the plugins, and a --plugin file that does not load
     * is an error at once; otherwise plugins load when a command first needs one. */
    if ((plugins->n > 0 || params->n > 0) && cli_load_plugins(cli) != 0)
        return EXIT_FAIL;
    rc = cli_env_params(cli);
    return rc != 0 ? rc : set_params(cli, params);
}

/* A signal that ends msig first removes the named temporary files it is writing (on
 * filesystems without anonymous ones), then ends msig as the signal would. */
static void on_fatal_signal(int sig)
{
    msig_temp_cleanup();
    target_signal_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
        sigaction(sigs[k], &sa, NULL);
}

int main(int argc, char **argv)
{
    struct cli cli = { .prog = "msig", .log_level = MSIG_LOG_WARN };
    struct strlist plugins = { 0 };
    struct strlist params = { 0 };
    const struct cmd *cmd = NULL;
    int i, status = EXIT_FAIL;
    size_t c;

    cli_pin_init(&cli);
    catch_signals();
    /* Global flags come before the command. */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            status = 0;
            goto out;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            printf("msig version %s (mender-artifact compatible)\n", msig_version());
            status = 0;
            goto out;
        } else if (strcmp(a, "--compression") == 0 || strcmp(a, "--plugin") == 0) {
            if (i + 1 >= argc) {
                status = cli_usage_error("flag %s needs an argument", a);
                goto out;
            }
            if (a[2] == 'c')
                cli.compression = argv[++i];
            else if (strlist_add(&plugins, argv[++i]) != 0)
                goto out;
        } else if (strncmp(a, "--compression=", 14) == 0) {
            cli.compression = a + 14;
        } else if (strncmp(a, "--plugin=", 9) == 0) {
            if (strlist_add(&plugins, a + 9) != 0)
                goto out;
        } else if (strcmp(a, "--plugin-param") == 0 || strncmp(a, "--plugin-param=", 15) == 0) {
            const char *v = a[14] == '=' ? a + 15 : (i + 1 < argc ? argv[++i] : NULL);
            if (v == NULL || strchr(v, '=') == NULL || v[0] == '=') {
                status = cli_usage_error("--plugin-param needs NAME=VALUE (e.g. "
                                         "--plugin-param vault.addr=http://127.0.0.1:8200)");
                goto out;
            }
            if (strlist_add(&params, v) != 0)
                goto out;
        } else if (a[0] == '-') {
            status = cli_usage_error("flag provided but not defined: %s", a);
            usage(stderr);
            goto out;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        status = EXIT_PARAMS;
        goto out;
    }
    /* msig help [COMMAND] is msig [COMMAND] --help. */
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 >= argc) {
            usage(stdout);
            status = 0;
            goto out;
        }
        /* "help A B" becomes "A B --help": the words shift down over "help". */
        static char help_flag[] = "--help";
        for (int k = i; k + 1 < argc; k++)
            argv[k] = argv[k + 1];
        argv[argc - 1] = help_flag;
    }
    for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            cmd = &commands[c];
    if (cmd == NULL) {
        cli_usage_error("unknown command '%s'", argv[i]);
        usage(stderr);
        status = EXIT_PARAMS;
        goto out;
    }

    status = setup(&cli, &plugins, &params);
    if (status != 0)
        goto out;
    status = cmd->run(&cli, argc - i, argv + i);
    cli_progress_clear(&cli);
out:
    strlist_free(&plugins);
    strlist_free(&params);
    msig_ctx_free(cli.ctx);
    cli_pin_fini(&cli);
    if (fflush(stdout) != 0 && status == 0) {
        perror("msig: writing standard output");
        status = EXIT_FAIL;
    }
    return status;
}
