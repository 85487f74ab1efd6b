/* read.c -- msig read FILE: prints the header in the newest (4.x, YAML-compatible)
 * mender-artifact format (spec section 13). */
#include "common.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { OPT_NO_PROGRESS = OPT_KEYS_END + 1, OPT_JSON };

/* Everything the text form prints goes through here: text from the artifact (names, types,
 * provides, meta-data, file names) has its control, bidi and separator characters escaped,
 * line by line, so that it cannot rewrite what the terminal shows (the Signature: line). */
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    char text[16384], safe[4 * sizeof(text) + 1];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    for (char *line = text, *nl; line != NULL; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        fputs(msig_text_escape(line, safe, sizeof(safe)), stdout);
        if (nl != NULL)
            fputc('\n', stdout);
    }
}

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
    { "json", no_argument, NULL, OPT_JSON },
    THREADS_LONGOPT,
    KEY_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

static const char *signature_text(int state)
{
    switch (state) {
    case MSIG_SIGNATURE_NONE:
        return "no signature";
    case MSIG_SIGNATURE_UNCHECKED:
        return "signed but no key for verification provided; "
               "please use `-k` option for providing verification key";
    case MSIG_SIGNATURE_VERIFIED:
        return "signed and verified correctly";
    default:
        return "signed; verification using provided key failed";
    }
}

/* A YAML flow list "[a, b]". */
static void print_flow(const char *const *list)
{
    size_t i;

    putchar('[');
    for (i = 0; list != NULL && list[i] != NULL; i++)
        out("%s%s", i ? ", " : "", list[i]);
    putchar(']');
}

static void newline_indent(const char *prefix, int depth)
{
    int i;

    putchar('\n');
    out("%s", prefix);
    for (i = 0; i < depth; i++)
        out("%s", "  ");
}

/* Prints compact JSON with a 2-space indent and prefix on every line (like Go's
 * json.Indent); "{}" and "[]" stay on one line. */
static void print_json_pretty(const char *json, const char *prefix)
{
    int depth = 0, in_str = 0, esc = 0;
    const char *p;

    out("%s", prefix);
    for (p = json; *p != '\0'; p++) {
        char c = *p;

        if (in_str) {
            putchar(c);
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        switch (c) {
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            break;
        case '"':
            in_str = 1;
            putchar(c);
            break;
        case '{':
        case '[': {
            const char *q = p + 1;

            while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                q++;
            if (*q == (c == '{' ? '}' : ']')) {
                out("%c%c", c, *q);
                p = q;
                break;
            }
            putchar(c);
            newline_indent(prefix, ++depth);
            break;
        }
        case '}':
        case ']':
            newline_indent(prefix, --depth);
            putchar(c);
            break;
        case ',':
            putchar(c);
            newline_indent(prefix, depth);
            break;
        case ':':
            out("%s", ": ");
            break;
        default:
            putchar(c);
        }
    }
    putchar('\n');
}

static int cmp_pair(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;

    return strcmp(x[0], y[0]);
}

/* Prints a key/value map ({k0, v0, ..., NULL}) sorted by key, or "{}". */
static void print_map(const char *title, const char *const *kv)
{
    size_t n = 0, i;
    const char **copy;

    while (kv != NULL && kv[2 * n] != NULL)
        n++;
    if (n == 0) {
        out("    %s: {}\n", title);
        return;
    }
    out("    %s:\n", title);
    copy = malloc(2 * n * sizeof(*copy));
    if (copy == NULL) {
        for (i = 0; i < n; i++)
            out("      %s: %s\n", kv[2 * i], kv[2 * i + 1]);
        return;
    }
    memcpy(copy, kv, 2 * n * sizeof(*copy));
    qsort(copy, n, 2 * sizeof(*copy), cmp_pair);
    for (i = 0; i < n; i++)
        out("      %s: %s\n", copy[2 * i], copy[2 * i + 1]);
    free(copy);
}

/* Go Time.String() in local time, whole seconds: "2006-01-02 15:04:05 -0700 MST". */
static void format_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
        snprintf(buf, cap, "%lld", (long long)t);
}

static void print_report(const struct msig_artifact *art)
{
    const char *const *scripts = msig_artifact_scripts(art);
    const char *group = msig_artifact_provides_group(art);
    int version = msig_artifact_format_version(art);
    size_t p, i, np = msig_artifact_payload_count(art);

    out("Mender Artifact:\n");
    out("  Name: %s\n", msig_artifact_name(art) ? msig_artifact_name(art) : "");
    out("  Format: %s\n", msig_artifact_format(art) ? msig_artifact_format(art) : "mender");
    out("  Version: %d\n", version);
    out("  Signature: %s\n", signature_text(msig_artifact_signature(art)));
    out("  Compatible types: ");
    print_flow(msig_artifact_devices(art));
    putchar('\n');
    if (version >= 3) {
        out("  Provides group: %s\n", group ? group : "");
        out("  Depends on one of artifact(s): ");
        print_flow(msig_artifact_depends_names(art));
        out("\n  Depends on one of group(s): ");
        print_flow(msig_artifact_depends_groups(art));
        putchar('\n');
    }
    if (scripts == NULL || scripts[0] == NULL) {
        out("  State scripts: []\n");
    } else {
        out("  State scripts:\n");
        for (i = 0; scripts[i] != NULL; i++)
            out("    - %s\n", scripts[i]);
    }
    out("\nUpdates:\n");
    for (p = 0; p < np; p++) {
        const char *type = msig_artifact_payload_type(art, p);
        const char *meta = msig_artifact_payload_meta_data(art, p);
        size_t nf = msig_artifact_payload_file_count(art, p);

        /* A bootstrap (null type) payload prints "Empty type", as every mender-artifact. */
        out("  - Type: %s\n", type ? type : "Empty type");
        print_map("Provides", msig_artifact_payload_provides(art, p));
        print_map("Depends", msig_artifact_payload_depends(art, p));
        out("    Clears Provides: ");
        print_flow(msig_artifact_payload_clears(art, p));
        putchar('\n');
        if (meta == NULL || strcmp(meta, "{}") == 0 || meta[0] == '\0') {
            out("    Metadata: {}\n");
        } else {
            out("    Metadata:\n");
            print_json_pretty(meta, "      ");
        }
        if (nf == 0) {
            out("    Files: []\n");
            continue;
        }
        out("    Files:\n");
        for (i = 0; i < nf; i++) {
            const struct msig_file_info *f = msig_artifact_payload_file(art, p, i);
            char when[64];

            if (f == NULL)
                continue;
            format_time(f->mtime, when, sizeof(when));
            out("      - checksum: %s\n", f->checksum ? f->checksum : "");
            out("        modified: %s\n", when);
            out("        name: %s\n", f->name ? f->name : "");
            out("        size: %llu\n", (unsigned long long)f->size);
        }
    }
}

static void read_usage(FILE *f)
{
    fputs("Usage: msig read FILE [key flags] [--json] [--no-progress] [--threads N]\n\n"
          "Prints the header of an artifact (the newest mender-artifact layout). A signature\n"
          "problem does not fail read: it shows on the Signature: line.\n\n"
          "  -h, --help                     this help\n"
          "  --json                         print JSON (ASCII) instead\n"
          "  --no-progress                  no progress line (default: shown on a "
          "terminal)\n" THREADS_HELP "\n",
          f);
    keyopts_help(f, 0);
    fputs("\nExit status: 0 read; 1 error.\n", f);
}

int cmd_read(struct cli *cli, int argc, char **argv)
{
    struct keyopts keys;
    struct msig_pubkeys *pub = NULL;
    struct opened_keys opened = { 0 };
    struct msig_reader *r = NULL;
    struct msig_artifact *art = NULL;
    const char *path;
    char *json = NULL;
    int opt, rc, as_json = 0, status = EXIT_PARAMS;

    memset(&keys, 0, sizeof(keys));
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":hk:", long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            status = cli_bad_option("read", argv, optopt, opt, long_opts);
            goto out;
        }
        if (opt == 'h') {
            read_usage(stdout);
            status = 0;
            goto out;
        }
        if (opt == OPT_NO_PROGRESS) {
            cli_progress_off(cli);
            continue;
        }
        if (opt == OPT_THREADS) {
            if ((status = cli_threads_opt(cli, "read", optarg)) != 0)
                goto out;
            status = EXIT_PARAMS;
            continue;
        }
        if (opt == OPT_JSON) {
            as_json = 1;
            cli_progress_off(cli); /* output for programs: nothing else on the terminal */
            continue;
        }
        if (keyopts_handle(&keys, opt, optarg) < 0) {
            status = EXIT_PARAMS; /* keyopts_handle said why */
            goto out;
        }
    }
    if (optind >= argc) {
        status = cli_usage_error("read: nothing specified, nothing read; give an artifact file");
        goto out;
    }
    if (argc - optind > 1) {
        status = cli_usage_error("read: only one artifact file can be read, got '%s' too",
                                 argv[optind + 1]);
        goto out;
    }
    path = argv[optind];
    status = keyopts_open_verify(cli, &keys, &pub, &opened);
    if (status != 0)
        goto out;

    status = EXIT_FAIL;
    rc = msig_reader_new(cli->ctx, &r);
    if (rc != 0) {
        cli_report(cli, rc, NULL);
        goto out;
    }
    msig_reader_set_pubkeys(r, pub);
    rc = msig_reader_read_path(r, path, &art);
    if (rc != 0) {
        cli_report(cli, rc, path);
        goto out;
    }
    if (art == NULL) {
        fprintf(stderr, "%s: no artifact was read\n", path);
        goto out;
    }
    if (as_json) {
        rc = msig_artifact_to_json(art, &json);
        if (rc != 0) {
            cli_report(cli, rc, path);
            goto out;
        }
        out("%s", json); /* JSON: non-ASCII and controls are \\u escapes */
        fputc('\n', stdout);
    } else {
        print_report(art);
    }
    status = 0;
out:
    msig_string_free(json);
    msig_artifact_free(art);
    msig_reader_free(r);
    msig_pubkeys_free(pub);
    keyopts_close_opened(&opened);
    keyopts_free(&keys);
    return status;
}
