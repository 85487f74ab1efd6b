/* plugins.c -- loading the external plugins when a command first needs one, and msig
 * plugins: lists the signer plugins known to the context, and the files the directory scan
 * refused. */
#include "common.h"

#include <stdio.h>
#include <string.h>

static void print_plugin(const struct msig_plugin_info *info)
{
    char b1[512], b2[1024];
    printf("%s %s\n", info->name ? info->name : "?",
           msig_text_escape(info->version ? info->version : "?", b1, sizeof(b1)));
    printf("  file: %s\n", msig_text_escape(info->file ? info->file : "?", b2, sizeof(b2)));
    printf("  schemes:");
    for (size_t j = 0; info->schemes != NULL && info->schemes[j] != NULL; j++)
        printf("%s %s", j ? "," : "", info->schemes[j]);
    printf("\n  abi: %u.%u\n", (unsigned)info->abi_major, (unsigned)info->abi_minor);
    if (info->params != NULL && info->params[0] != NULL) {
        printf("  parameters:");
        for (size_t j = 0; info->params[j] != NULL; j++)
            printf("%s %s", j ? "," : "", msig_text_escape(info->params[j], b1, sizeof(b1)));
        printf("\n");
    }
    printf("  lists keys: %s\n", info->can_list ? "yes (msig keys SPEC)" : "no");
}

int cli_load_plugins(struct cli *cli)
{
    if (cli->plugins_loaded)
        return 0;
    cli->plugins_loaded = 1;
    int rc = msig_ctx_enable_plugins(cli->ctx, NULL);
    if (rc != 0)
        fprintf(stderr, "warning: %s\n", cli_message(cli, rc, "external plugins"));
    for (size_t c = 0; c < cli->nplugin_files; c++) {
        rc = msig_ctx_load_plugin(cli->ctx, cli->plugin_files[c]);
        if (rc != 0) {
            cli_report(cli, rc, cli->plugin_files[c]);
            return EXIT_FAIL;
        }
    }
    return 0;
}

int cli_spec_needs_plugins(const char *spec)
{
    size_t n = strcspn(spec, ":/");
    return spec[n] == ':' && !(n == 4 && strncmp(spec, "file", 4) == 0);
}

int cmd_plugins(struct cli *cli, int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            fputs("Usage: msig [--plugin FILE]... plugins\n"
                  "Lists the signer plugins: built-in ones, those in the plugin directory\n"
                  "(*.so files; MSIG_PLUGIN_PATH overrides the directory) and those given\n"
                  "with --plugin, then the files the directory scan refused, with why.\n",
                  stdout);
            return 0;
        }
        return cli_usage_error("plugins: unexpected argument '%s'", argv[1]);
    }
    if (cli_load_plugins(cli) != 0)
        return EXIT_FAIL;
    size_t n = msig_ctx_plugin_count(cli->ctx);
    for (size_t i = 0; i < n; i++) {
        struct msig_plugin_info info;
        memset(&info, 0, sizeof(info));
        info.struct_size = sizeof(info);
        int rc = msig_ctx_plugin_info(cli->ctx, i, &info);
        if (rc != 0) {
            cli_report(cli, rc, "plugin list");
            return EXIT_FAIL;
        }
        print_plugin(&info);
    }
    n = msig_ctx_refused_count(cli->ctx);
    for (size_t i = 0; i < n; i++) {
        const char *file = NULL, *why = NULL;
        char b[2048];
        if (msig_ctx_refused_info(cli->ctx, i, &file, &why) == 0)
            printf("refused: %s\n", msig_text_escape(why, b, sizeof(b)));
    }
    return 0;
}
