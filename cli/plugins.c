/* plugins.c -- msig plugins: lists the signer plugins known to the context. */
#include "common.h"

#include <stdio.h>
#include <string.h>

int cmd_plugins(struct cli *cli, int argc, char **argv)
{
    size_t i, j, n;
    int rc;

    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            fputs("Usage: msig [--plugin FILE]... plugins\n"
                  "Lists the signer plugins: built-in ones, those in the plugin directory\n"
                  "(MSIG_PLUGIN_PATH overrides it) and those given with --plugin.\n", stdout);
            return 0;
        }
        return cli_usage_error("plugins: unexpected argument '%s'", argv[1]);
    }
    n = msig_ctx_plugin_count(cli->ctx);
    for (i = 0; i < n; i++) {
        struct msig_plugin_info info;

        memset(&info, 0, sizeof(info));
        info.struct_size = sizeof(info);
        rc = msig_ctx_plugin_info(cli->ctx, i, &info);
        if (rc != 0) {
            cli_report(cli, rc, "plugin list");
            return EXIT_FAIL;
        }
        printf("%s %s\n", info.name ? info.name : "?", info.version ? info.version : "?");
        printf("  file: %s\n", info.file ? info.file : "?");
        printf("  schemes:");
        for (j = 0; info.schemes != NULL && info.schemes[j] != NULL; j++)
            printf("%s %s", j ? "," : "", info.schemes[j]);
        printf("\n  abi: %u.%u\n", (unsigned)info.abi_major, (unsigned)info.abi_minor);
    }
    return 0;
}
