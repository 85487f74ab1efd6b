/* write.c -- msig write rootfs-image | module-image | bootstrap-artifact. */
#include "common.h"
#include "snapshot.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K_R (1u << 0) /* rootfs-image */
#define K_M (1u << 1) /* module-image */
#define K_B (1u << 2) /* bootstrap-artifact */
#define K_ALL (K_R | K_M | K_B)

enum {
    OPT_LEGACY_CHECKSUM = OPT_KEYS_END + 1,
    OPT_NO_CHECKSUM_PROVIDE,
    OPT_NO_PROGRESS,
    OPT_CLEARS,
    OPT_NO_DEFAULT_CLEARS,
    OPT_COMPRESSION,
    OPT_NO_DEFAULT_SW,
    OPT_SW_NAME,
    OPT_SW_VERSION,
    OPT_SW_FS,
    OPT_MAX_SIZE,
    OPT_WARN_SIZE,
    OPT_AUG_TYPE,
    OPT_AUG_FILE,
    OPT_AUG_PROVIDES,
    OPT_AUG_DEPENDS,
    OPT_AUG_META,
    OPT_TMP,
};

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "file", required_argument, NULL, 'f' },
    { "device-type", required_argument, NULL, 't' },
    { "compatible-types", required_argument, NULL, 'c' },
    { "artifact-name", required_argument, NULL, 'n' },
    { "output-path", required_argument, NULL, 'o' },
    { "version", required_argument, NULL, 'v' },
    { "script", required_argument, NULL, 's' },
    { "ssh-args", required_argument, NULL, 'S' },
    { "artifact-name-depends", required_argument, NULL, 'N' },
    { "provides-group", required_argument, NULL, 'g' },
    { "depends-groups", required_argument, NULL, 'G' },
    { "depends", required_argument, NULL, 'd' },
    { "provides", required_argument, NULL, 'p' },
    { "type", required_argument, NULL, 'T' },
    { "meta-data", required_argument, NULL, 'm' },
    { "legacy-rootfs-image-checksum", no_argument, NULL, OPT_LEGACY_CHECKSUM },
    { "no-checksum-provide", no_argument, NULL, OPT_NO_CHECKSUM_PROVIDE },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
    { "clears-provides", required_argument, NULL, OPT_CLEARS },
    { "no-default-clears-provides", no_argument, NULL, OPT_NO_DEFAULT_CLEARS },
    { "compression", required_argument, NULL, OPT_COMPRESSION },
    { "no-default-software-version", no_argument, NULL, OPT_NO_DEFAULT_SW },
    { "software-name", required_argument, NULL, OPT_SW_NAME },
    { "software-version", required_argument, NULL, OPT_SW_VERSION },
    { "software-filesystem", required_argument, NULL, OPT_SW_FS },
    { "max-artifact-size", required_argument, NULL, OPT_MAX_SIZE },
    { "warn-artifact-size", required_argument, NULL, OPT_WARN_SIZE },
    { "augment-type", required_argument, NULL, OPT_AUG_TYPE },
    { "augment-file", required_argument, NULL, OPT_AUG_FILE },
    { "augment-provides", required_argument, NULL, OPT_AUG_PROVIDES },
    { "augment-depends", required_argument, NULL, OPT_AUG_DEPENDS },
    { "augment-meta-data", required_argument, NULL, OPT_AUG_META },
    { "tmp", required_argument, NULL, OPT_TMP },
    THREADS_LONGOPT,
    KEY_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

/* Which payload kinds accept an option (by getopt return value). */
static unsigned allowed(int opt)
{
    switch (opt) {
    case 'h':
    case 't':
    case 'c':
    case 'n':
    case 'o':
    case 'v':
    case 'N':
    case 'g':
    case 'G':
    case 'd':
    case 'p':
    case OPT_NO_PROGRESS:
    case OPT_TMP:
    case OPT_THREADS:
    case OPT_CLEARS:
    case OPT_COMPRESSION:
    case 'k':
    case OPT_KEY_PKCS11:
    case OPT_GCP_KMS_KEY:
    case OPT_VAULT_KEY:
    case OPT_AZURE_KEY:
    case OPT_SIGNSERVER:
    case OPT_PASSPHRASE_FILE:
    case OPT_KEY_PROVIDER:
    case OPT_KEY_PROVIDER_PATH:
    case OPT_KEY_PROVIDER_CONF:
        return K_ALL;
    case 'f':
    case 's':
    case OPT_NO_DEFAULT_CLEARS:
    case OPT_NO_DEFAULT_SW:
    case OPT_SW_NAME:
    case OPT_SW_VERSION:
    case OPT_SW_FS:
    case OPT_MAX_SIZE:
    case OPT_WARN_SIZE:
        return K_R | K_M;
    case 'S':
    case OPT_LEGACY_CHECKSUM:
    case OPT_NO_CHECKSUM_PROVIDE:
        return K_R;
    case 'T':
    case 'm':
    case OPT_AUG_TYPE:
    case OPT_AUG_FILE:
    case OPT_AUG_PROVIDES:
    case OPT_AUG_DEPENDS:
    case OPT_AUG_META:
        return K_M;
    default:
        return 0;
    }
}

struct wopts {
    int no_progress;
    unsigned kind_bit;
    int kind;
    const char *kind_name;
    struct strlist files, devices, compat, scripts, name_depends, depends_groups;
    struct strlist provides, depends, clears, aug_files, aug_provides, aug_depends;
    struct strlist ssh_args; /* -S, one ssh argument each */
    const char *name, *output, *version, *group, *type, *meta, *compression;
    const char *sw_name, *sw_version, *sw_fs, *max_size, *warn_size;
    const char *aug_type, *aug_meta;
    uint32_t flags;
    long seq, last_p, last_sw;
    struct keyopts keys;
};

static void write_usage(const char *kind_name, FILE *f)
{
    int boot = strcmp(kind_name, "bootstrap-artifact") == 0;
    int rootfs = strcmp(kind_name, "rootfs-image") == 0;

    fprintf(f, "Usage: msig write %s [flags]\n\n", kind_name);
    fputs("  -n, --artifact-name NAME       the artifact name (required)\n"
          "  -c, --compatible-types TYPE    a compatible device type (repeatable, at least one)\n"
          "  -t, --device-type TYPE         the same as -c\n"
          "  -o, --output-path PATH         the output file (default: artifact.mender; - is\n"
          "                                 standard output); never an input, a device or a FIFO\n"
          "  -v, --version N                the format version (default: 3; 2 only for\n"
          "                                 rootfs-image)\n"
          "  -N, --artifact-name-depends N  depends on this artifact name (repeatable)\n"
          "  -g, --provides-group G         provides this artifact group\n"
          "  -G, --depends-groups G         depends on this artifact group (repeatable)\n"
          "  -p, --provides KEY:VALUE       a type-info provide (repeatable)\n"
          "  -d, --depends KEY:VALUE        a type-info depend (repeatable)\n"
          "  --clears-provides PATTERN      a provide the update clears (repeatable)\n"
          "  --compression ID               none, gzip (default), lzma, zstd_fastest,\n"
          "                                 zstd_fast, zstd_better, zstd_best\n"
          "  --no-progress                  no progress line (default: shown on a terminal)\n"
          "  -h, --help                     this help\n"
          "  --tmp DIR                      the temporary directory for -o - (default: TMPDIR,\n"
          "                                 else /tmp)\n" THREADS_HELP,
          f);
    if (!boot)
        fputs("  -f, --file FILE                a payload file (rootfs-image: exactly one, or\n"
              "                                 ssh://USER@HOST[:PORT] for a snapshot of the\n"
              "                                 device's root filesystem, taken over ssh)\n"
              "  -s, --script FILE|DIR          a state script, or a directory of them\n"
              "                                 (repeatable)\n"
              "  --no-default-clears-provides   leave out the default clears-provides\n"
              "  --no-default-software-version  leave out the software-version provide\n"
              "  --software-name NAME           the software-version provide's name (default:\n"
              "                                 the payload type)\n"
              "  --software-version VERSION     its value (default: the artifact name)\n"
              "  --software-filesystem FS       its filesystem (default: rootfs-image)\n"
              "  --max-artifact-size SIZE       fail above SIZE (B, KB, MB, GB, TB; powers of\n"
              "                                 1000; default: no limit)\n"
              "  --warn-artifact-size SIZE      warn above SIZE (default: no warning)\n",
              f);
    if (rootfs)
        fputs("  --legacy-rootfs-image-checksum also provide rootfs_image_checksum\n"
              "  --no-checksum-provide          no rootfs-image.checksum provide\n"
              "  -S, --ssh-args ARG             an argument for ssh when -f is "
              "ssh://USER@HOST[:PORT]\n"
              "                                 (repeatable; one argument each)\n",
              f);
    if (strcmp(kind_name, "module-image") == 0)
        fputs("  -T, --type TYPE                the payload type: the update module (required)\n"
              "  -m, --meta-data FILE           a JSON object, the payload's meta-data\n"
              "  --augment-type TYPE            the augmented payload type\n"
              "  --augment-file FILE            an augmented payload file (repeatable)\n"
              "  --augment-provides KEY:VALUE   an augmented provide (repeatable)\n"
              "  --augment-depends KEY:VALUE    an augmented depend (repeatable)\n"
              "  --augment-meta-data FILE       augmented meta-data (JSON object)\n"
              "                                 (augmented parts are not signed)\n",
              f);
    fputc('\n', f);
    keyopts_help(f, 1);
    fputs("\nExit status: 0 written; 1 error (nothing is written).\n", f);
}

static int collect(struct wopts *o, int opt, const char *arg)
{
    struct strlist *l = NULL;

    o->seq++;
    switch (opt) {
    case 'f':
        l = &o->files;
        break;
    case 't':
        l = &o->devices;
        break;
    case 'c':
        l = &o->compat;
        break;
    case 's':
        l = &o->scripts;
        break;
    case 'N':
        l = &o->name_depends;
        break;
    case 'G':
        l = &o->depends_groups;
        break;
    case 'p':
        l = &o->provides;
        o->last_p = o->seq;
        break;
    case 'd':
        l = &o->depends;
        break;
    case OPT_CLEARS:
        l = &o->clears;
        break;
    case OPT_AUG_FILE:
        l = &o->aug_files;
        break;
    case OPT_AUG_PROVIDES:
        l = &o->aug_provides;
        break;
    case OPT_AUG_DEPENDS:
        l = &o->aug_depends;
        break;
    case 'n':
        o->name = arg;
        return 0;
    case 'o':
        o->output = arg;
        return 0;
    case 'v':
        o->version = arg;
        return 0;
    case 'g':
        o->group = arg;
        return 0;
    case 'T':
        o->type = arg;
        return 0;
    case 'm':
        o->meta = arg;
        return 0;
    case 'S':
        return strlist_add(&o->ssh_args, arg);
    case OPT_NO_PROGRESS:
        o->no_progress = 1;
        return 0;
    case OPT_TMP:
        /* mender-artifact 4.4's temporary directory: here for standard output (-o -); the
         * output itself is built beside its target. */
        return setenv("TMPDIR", arg, 1) == 0 ? 0 : -1;
    case OPT_COMPRESSION:
        o->compression = arg;
        return 0;
    case OPT_LEGACY_CHECKSUM:
        o->flags |= MSIG_WRITE_F_LEGACY_CHECKSUM;
        return 0;
    case OPT_NO_CHECKSUM_PROVIDE:
        o->flags |= MSIG_WRITE_F_NO_CHECKSUM_PROVIDE;
        return 0;
    case OPT_NO_DEFAULT_CLEARS:
        o->flags |= MSIG_WRITE_F_NO_DEFAULT_CLEARS;
        return 0;
    case OPT_NO_DEFAULT_SW:
        o->flags |= MSIG_WRITE_F_NO_DEFAULT_SW_VERSION;
        return 0;
    case OPT_SW_NAME:
        o->sw_name = arg;
        o->last_sw = o->seq;
        return 0;
    case OPT_SW_VERSION:
        o->sw_version = arg;
        o->last_sw = o->seq;
        return 0;
    case OPT_SW_FS:
        o->sw_fs = arg;
        o->last_sw = o->seq;
        return 0;
    case OPT_MAX_SIZE:
        o->max_size = arg;
        return 0;
    case OPT_WARN_SIZE:
        o->warn_size = arg;
        return 0;
    case OPT_AUG_TYPE:
        o->aug_type = arg;
        return 0;
    case OPT_AUG_META:
        o->aug_meta = arg;
        return 0;
    default:
        break;
    }
    if (l == NULL)
        return keyopts_handle(&o->keys, opt, arg) < 0 ? -2 : 0; /* -2: already said why */
    return strlist_add(l, arg);
}

static void wopts_free(struct wopts *o)
{
    struct strlist *lists[] = { &o->files,     &o->devices,      &o->compat,
                                &o->scripts,   &o->name_depends, &o->depends_groups,
                                &o->provides,  &o->depends,      &o->clears,
                                &o->aug_files, &o->aug_provides, &o->aug_depends,
                                &o->ssh_args };
    size_t i;

    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        strlist_free(lists[i]);
    keyopts_free(&o->keys);
}

/* Checks the parameters that need no library call. Returns 0 or an exit code. */
static int check_params(struct cli *cli, struct wopts *o)
{
    size_t i;
    char *key = NULL;
    const char *val;
    const struct strlist *kv[] = { &o->provides, &o->depends, &o->aug_provides, &o->aug_depends };
    static const char *const kv_flag[] = { "-p/--provides", "-d/--depends", "--augment-provides",
                                           "--augment-depends" };
    uint64_t size;
    int comp;

    if (o->name == NULL)
        return cli_usage_error("write %s: missing required flag -n/--artifact-name", o->kind_name);
    for (i = 0; o->name[i] != '\0'; i++)
        if (isspace((unsigned char)o->name[i]))
            return cli_usage_error("whitespace is not allowed in the artifact-name: '%s'", o->name);
    if (o->devices.n > 0 && o->compat.n > 0)
        return cli_usage_error("write %s: -t/--device-type and -c/--compatible-types are "
                               "mutually exclusive",
                               o->kind_name);
    if (o->devices.n == 0 && o->compat.n == 0)
        return cli_usage_error("write %s: missing required flag -c/--compatible-types "
                               "(or -t/--device-type)",
                               o->kind_name);
    if (o->kind == MSIG_PAYLOAD_ROOTFS) {
        if (o->files.n != 1)
            return cli_usage_error("write rootfs-image: %s",
                                   o->files.n == 0 ? "missing required flag -f/--file"
                                                   : "exactly one -f/--file is needed");
    }
    if (o->kind == MSIG_PAYLOAD_MODULE && o->type == NULL)
        return cli_usage_error("write module-image: missing required flag -T/--type");
    if (o->aug_type == NULL &&
        (o->aug_files.n || o->aug_provides.n || o->aug_depends.n || o->aug_meta))
        return cli_usage_error("write module-image: the --augment-* flags need "
                               "--augment-type");
    if (o->version != NULL) {
        if (strcmp(o->version, "3") != 0 && strcmp(o->version, "2") != 0)
            return cli_usage_error("Artifact version %s is not supported", o->version);
        if (strcmp(o->version, "2") == 0 && o->kind != MSIG_PAYLOAD_ROOTFS)
            return cli_usage_error("write %s: artifact version 2 is only supported for "
                                   "rootfs-image",
                                   o->kind_name);
    }
    for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        size_t j;

        for (j = 0; j < kv[i]->n; j++) {
            if (split_kv(kv[i]->v[j], &key, &val) != 0)
                return cli_usage_error("%s '%s': argument must have a delimiting colon", kv_flag[i],
                                       kv[i]->v[j]);
            free(key);
        }
    }
    if (o->compression == NULL)
        o->compression = cli->compression ? cli->compression : "gzip";
    if (msig_compression_from_name(o->compression, &comp) != 0)
        return cli_usage_error("compressor '%s' is not supported: invalid compressor id: %s",
                               o->compression, o->compression);
    if (o->max_size != NULL && parse_size(o->max_size, &size) != 0)
        return cli_usage_error("--max-artifact-size: invalid size '%s' (use a number with "
                               "B, KB, MB, GB or TB)",
                               o->max_size);
    if (o->warn_size != NULL && parse_size(o->warn_size, &size) != 0)
        return cli_usage_error("--warn-artifact-size: invalid size '%s' (use a number with "
                               "B, KB, MB, GB or TB)",
                               o->warn_size);
    if (keyopts_count(&o->keys) > 1)
        return keyopts_too_many(&o->keys);
    return 0;
}

typedef int kv_setter(struct msig_writer *w, const char *key, const char *value);

static int add_kvs(struct cli *cli, struct msig_writer *w, const struct strlist *l, kv_setter *fn)
{
    size_t i;
    char *key;
    const char *val;
    int rc;

    for (i = 0; i < l->n; i++) {
        if (split_kv(l->v[i], &key, &val) != 0)
            return cli_usage_error("'%s': argument must have a delimiting colon", l->v[i]);
        rc = fn(w, key, val);
        free(key);
        if (rc != 0) {
            cli_report(cli, rc, l->v[i]);
            return EXIT_FAIL;
        }
    }
    return 0;
}

typedef int str_setter(struct msig_writer *w, const char *s);

static int add_strs(struct cli *cli, struct msig_writer *w, const struct strlist *l, str_setter *fn)
{
    size_t i;
    int rc;

    for (i = 0; i < l->n; i++) {
        rc = fn(w, l->v[i]);
        if (rc != 0) {
            cli_report(cli, rc, l->v[i]);
            return EXIT_FAIL;
        }
    }
    return 0;
}

/* Fills the writer from the options; returns 0 or an exit code after printing. */
static int setup(struct cli *cli, struct wopts *o, struct msig_writer *w)
{
    int comp = MSIG_COMPRESS_GZIP, rc, st;
    uint64_t max = 0, warn = 0;

#define TRY(call, subject)                  \
    do {                                    \
        rc = (call);                        \
        if (rc != 0) {                      \
            cli_report(cli, rc, (subject)); \
            return EXIT_FAIL;               \
        }                                   \
    } while (0)
#define TRYST(call)    \
    do {               \
        st = (call);   \
        if (st != 0)   \
            return st; \
    } while (0)

    TRY(msig_writer_set_name(w, o->name), o->name);
    TRYST(add_strs(cli, w, o->devices.n ? &o->devices : &o->compat, msig_writer_add_device_type));
    if (o->type != NULL)
        TRY(msig_writer_set_payload_type(w, o->type), o->type);
    if (o->version != NULL)
        TRY(msig_writer_set_format_version(w, atoi(o->version)), NULL);
    TRY(msig_compression_from_name(o->compression, &comp), o->compression);
    TRY(msig_writer_set_compression(w, comp), o->compression);
    TRYST(add_strs(cli, w, &o->files, msig_writer_add_file));
    TRYST(add_strs(cli, w, &o->scripts, msig_writer_add_script));
    TRYST(add_kvs(cli, w, &o->provides, msig_writer_add_provide));
    TRYST(add_kvs(cli, w, &o->depends, msig_writer_add_depend));
    TRYST(add_strs(cli, w, &o->clears, msig_writer_add_clears_provides));
    TRYST(add_strs(cli, w, &o->name_depends, msig_writer_add_depends_artifact_name));
    if (o->group != NULL)
        TRY(msig_writer_set_provides_group(w, o->group), o->group);
    TRYST(add_strs(cli, w, &o->depends_groups, msig_writer_add_depends_group));
    if (o->meta != NULL)
        TRY(msig_writer_set_meta_data_file(w, o->meta), o->meta);
    if (o->sw_name || o->sw_version || o->sw_fs)
        TRY(msig_writer_set_software(w, o->sw_name, o->sw_version, o->sw_fs), NULL);
    /* mender-artifact: a --software-* flag after the last -p overrides a -p of that key. */
    if (o->last_sw > o->last_p)
        o->flags |= MSIG_WRITE_F_SOFTWARE_WINS;
    msig_writer_set_flags(w, o->flags);
    if (o->max_size != NULL)
        (void)parse_size(o->max_size, &max);
    if (o->warn_size != NULL)
        (void)parse_size(o->warn_size, &warn);
    msig_writer_set_size_limits(w, max, warn);
    if (o->aug_type != NULL) {
        TRY(msig_writer_set_augment_type(w, o->aug_type), o->aug_type);
        TRYST(add_strs(cli, w, &o->aug_files, msig_writer_add_augment_file));
        TRYST(add_kvs(cli, w, &o->aug_provides, msig_writer_add_augment_provide));
        TRYST(add_kvs(cli, w, &o->aug_depends, msig_writer_add_augment_depend));
        if (o->aug_meta != NULL)
            TRY(msig_writer_set_augment_meta_data_file(w, o->aug_meta), o->aug_meta);
    }
#undef TRY
#undef TRYST
    return 0;
}

/* The device's rootfs-image.* provides of a snapshot, where nothing else sets the key. */
static int add_device_provides(struct cli *cli, struct msig_writer *w, const struct snapshot *snap)
{
    for (size_t i = 0; i < snap->nprovides; i++) {
        const char *line = snap->provides[i], *eq = strchr(line, '=');
        char key[1024];
        if ((size_t)(eq - line) >= sizeof(key))
            continue;
        memcpy(key, line, (size_t)(eq - line));
        key[eq - line] = '\0';
        int rc = msig_writer_add_default_provide(w, key, eq + 1);
        if (rc != 0) {
            cli_report(cli, rc, "the device's show-provides");
            return EXIT_FAIL;
        }
    }
    return 0;
}

int cmd_write(struct cli *cli, int argc, char **argv)
{
    struct wopts o;
    struct msig_writer *w = NULL;
    struct msig_key *key = NULL;
    struct snapshot snap = { 0 };
    const char *shortopts;
    int opt, rc, status = EXIT_PARAMS;

    memset(&o, 0, sizeof(o));
    if (argc < 2 || argv[1][0] == '-') {
        /* As mender-artifact: without a kind, the kinds (exit 0). */
        if (argc >= 2 && strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0 &&
            strcmp(argv[1], "-help") != 0)
            return cli_usage_error("write: flag %s before the artifact kind: give "
                                   "rootfs-image, module-image or bootstrap-artifact first",
                                   argv[1]);
        fputs("Usage: msig write KIND [flags]   (msig write KIND --help for the flags)\n\n"
              "Kinds:\n"
              "  bootstrap-artifact  an artifact with an empty payload\n"
              "  module-image        an artifact for an update module\n"
              "  rootfs-image        an artifact containing a root filesystem image\n",
              stdout);
        return 0;
    }
    o.kind_name = argv[1];
    if (strcmp(argv[1], "rootfs-image") == 0) {
        o.kind = MSIG_PAYLOAD_ROOTFS;
        o.kind_bit = K_R;
        shortopts = ":hf:t:c:n:o:v:s:S:N:g:G:d:p:k:";
    } else if (strcmp(argv[1], "module-image") == 0) {
        o.kind = MSIG_PAYLOAD_MODULE;
        o.kind_bit = K_M;
        shortopts = ":hf:t:c:n:o:v:s:N:g:G:d:p:k:T:m:";
    } else if (strcmp(argv[1], "bootstrap-artifact") == 0) {
        o.kind = MSIG_PAYLOAD_BOOTSTRAP;
        o.kind_bit = K_B;
        shortopts = ":ht:c:n:o:v:N:g:G:d:p:k:";
    } else {
        return cli_usage_error("write: unknown artifact kind '%s' (rootfs-image, "
                               "module-image or bootstrap-artifact)",
                               argv[1]);
    }

    argc--;
    argv++;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, shortopts, long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':' || (allowed(opt) & o.kind_bit) == 0) {
            if (opt != '?' && opt != ':')
                status = cli_usage_error("write %s: flag provided but not defined: %s", o.kind_name,
                                         argv[optind - 1]);
            else
                status = cli_bad_option("write", argv, optopt, opt, long_opts);
            goto out;
        }
        if (opt == 'h') {
            write_usage(o.kind_name, stdout);
            status = 0;
            goto out;
        }
        if (opt == OPT_THREADS) {
            if ((status = cli_threads_opt(cli, "write", optarg)) != 0)
                goto out;
            status = EXIT_PARAMS;
            continue;
        }
        int crc = collect(&o, opt, optarg);
        if (crc != 0) {
            status = crc == -2 ? EXIT_PARAMS : cli_usage_error("out of memory");
            goto out;
        }
    }
    if (optind < argc) {
        status = cli_usage_error("write %s: unexpected argument '%s'", o.kind_name, argv[optind]);
        goto out;
    }
    status = check_params(cli, &o);
    if (status != 0)
        goto out;
    if (o.output == NULL)
        o.output = "artifact.mender";
    if (o.no_progress || strcmp(o.output, "-") == 0)
        cli_progress_off(cli);

    if (o.kind == MSIG_PAYLOAD_ROOTFS && strncmp(o.files.v[0], "ssh://", 6) == 0) {
        status = snapshot_take(cli, o.files.v[0], &o.ssh_args,
                               strcmp(o.output, "-") == 0 ? stderr : stdout, &snap);
        if (status != 0)
            goto out;
        o.files.v[0] = snap.path;
    }
    status = EXIT_FAIL;
    rc = msig_writer_new(cli->ctx, o.kind, &w);
    if (rc != 0) {
        cli_report(cli, rc, NULL);
        goto out;
    }
    status = setup(cli, &o, w);
    if (status == 0)
        status = add_device_provides(cli, w, &snap);
    if (status != 0)
        goto out;
    status = keyopts_open_signing(cli, &o.keys, &key);
    if (status != 0)
        goto out;
    if (key != NULL || cli->rebuild_key != NULL) {
        rc = msig_writer_set_key(w, key != NULL ? key : cli->rebuild_key);
        if (rc != 0) {
            cli_report(cli, rc, NULL);
            status = EXIT_FAIL;
            goto out;
        }
    }
    rc = msig_writer_write(w, o.output);
    if (rc != 0) {
        cli_report(cli, rc, strcmp(o.output, "-") == 0 ? "standard output" : o.output);
        status = EXIT_FAIL;
        goto out;
    }
    status = 0;
out:
    msig_writer_free(w);
    msig_key_close(key);
    snapshot_free(&snap);
    wopts_free(&o);
    return status;
}
