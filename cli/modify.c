/* modify.c -- msig modify [flags] PATHSPEC: changes the Mender client settings inside a
 * rootfs (server URI, tenant token, server certificate, verification key, artifact_info) and,
 * for an artifact, its header (name, depends, provides, groups, scripts, meta-data, clears),
 * then rebuilds and signs it in one step. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define MENDER_CONF "/etc/mender/mender.conf"
#define ARTIFACT_INFO "/etc/mender/artifact_info"
#define SERVER_CERT "/etc/mender/server.crt"
#define VERIFY_KEY "/etc/mender/artifact-verify-key.pem"
#define MENDER_CONF_MAX (1024 * 1024) /* bytes of mender.conf msig reads */

enum {
    OPT_NAME = OPT_T_END + 1,
    OPT_CLEARS,
    OPT_DELETE_CLEARS,
};

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "server-uri", required_argument, NULL, 'u' },
    { "server-cert", required_argument, NULL, 'c' },
    { "verification-key", required_argument, NULL, 'v' },
    { "artifact-name", required_argument, NULL, 'n' },
    { "name", required_argument, NULL, OPT_NAME },
    { "tenant-token", required_argument, NULL, 't' },
    { "artifact-name-depends", required_argument, NULL, 'N' },
    { "provides-group", required_argument, NULL, 'g' },
    { "depends-groups", required_argument, NULL, 'G' },
    { "script", required_argument, NULL, 's' },
    { "provides", required_argument, NULL, 'p' },
    { "depends", required_argument, NULL, 'd' },
    { "meta-data", required_argument, NULL, 'm' },
    { "clears-provides", required_argument, NULL, OPT_CLEARS },
    { "delete-clears-provides", required_argument, NULL, OPT_DELETE_CLEARS },
    TARGET_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

struct mods {
    const char *server_uri, *server_cert, *verify_key, *name, *tenant_token, *group, *meta;
    struct strlist name_depends, depends_groups, scripts, provides, depends, clears, del_clears;
    int header_edits; /* flags that need an artifact */
    const char *first_header_flag;
};

static void usage(FILE *f)
{
    fputs("Usage: msig modify [flags] FILE\n\n"
          "Modifies an artifact with a rootfs-image payload, an ext4 image or a disk image (both\n"
          "root filesystems): the Mender client settings in its root filesystem and, for an\n"
          "artifact, its header. The artifact is rebuilt with its own compression and signed\n"
          "with the key flags given; without one it is written unsigned (with a warning when it\n"
          "was signed). A module-image or bootstrap artifact takes the header flags only.\n\n"
          "  -h, --help                     this help\n"
          "  -u, --server-uri URI           ServerURL in /etc/mender/mender.conf (the other\n"
          "                                 fields are kept)\n"
          "  -t, --tenant-token TOKEN       TenantToken in /etc/mender/mender.conf\n"
          "  -c, --server-cert FILE         installed as /etc/mender/server.crt\n"
          "  -v, --verification-key FILE    installed as /etc/mender/artifact-verify-key.pem\n"
          "  -n, --artifact-name NAME       the artifact name, in the header and in\n"
          "                                 /etc/mender/artifact_info\n"
          "  --name NAME                    deprecated alias of --artifact-name\n"
          "  -N, --artifact-name-depends N  replaces the artifact-name depends (repeatable)\n"
          "  -g, --provides-group G         replaces the provided group\n"
          "  -G, --depends-groups G         replaces the depended-on groups (repeatable)\n"
          "  -s, --script FILE              adds a state script (repeatable)\n"
          "  -p, --provides KEY:VALUE       replaces the type-info provides (repeatable)\n"
          "  -d, --depends KEY:VALUE        replaces the type-info depends (repeatable)\n"
          "  -m, --meta-data FILE           replaces the payload's meta-data (module-image)\n"
          "  --clears-provides PATTERN      adds a clears_artifact_provides entry (repeatable)\n"
          "  --delete-clears-provides PAT   removes that clears_artifact_provides entry\n"
          "                                 (repeatable)\n"
          "  (default of every flag: that part is left as it is)\n",
          f);
    target_opts_help(f);
    fputs("\nExit status: 0 modified; 1 error (the input is unchanged).\n", f);
}

static int collect(struct mods *m, int opt, const char *arg, const char *flag)
{
    struct strlist *l = NULL;

    switch (opt) {
    case 'u':
        m->server_uri = arg;
        return 0;
    case 'c':
        m->server_cert = arg;
        return 0;
    case 'v':
        m->verify_key = arg;
        return 0;
    case 'n':
    case OPT_NAME:
        m->name = arg;
        return 0;
    case 't':
        m->tenant_token = arg;
        return 0;
    case 'g':
        m->group = arg;
        break;
    case 'm':
        m->meta = arg;
        break;
    case 'N':
        l = &m->name_depends;
        break;
    case 'G':
        l = &m->depends_groups;
        break;
    case 's':
        l = &m->scripts;
        break;
    case 'p':
        l = &m->provides;
        break;
    case 'd':
        l = &m->depends;
        break;
    case OPT_CLEARS:
        l = &m->clears;
        break;
    case OPT_DELETE_CLEARS:
        l = &m->del_clears;
        break;
    default:
        return 1;
    }
    if (m->header_edits++ == 0)
        m->first_header_flag = flag;
    return l != NULL ? strlist_add(l, arg) : 0;
}

static void mods_free(struct mods *m)
{
    struct strlist *lists[] = { &m->name_depends, &m->depends_groups, &m->scripts,   &m->provides,
                                &m->depends,      &m->clears,         &m->del_clears };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        strlist_free(lists[i]);
}

/* ---------------------------------------------------------------- the root filesystem */

/* An unnamed in-memory file holding len bytes of s, for extfs_put. */
static int mem_file(const char *s, size_t len)
{
    int fd = memfd_create("msig-modify", MFD_CLOEXEC);

    if (fd >= 0 && (write(fd, s, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        fprintf(stderr, "msig modify: cannot hold a file in memory: %s\n", strerror(errno));
    return fd;
}

/* Sets key in mender.conf of fs, keeping its other fields (written as mender-artifact writes
 * it: compact, keys sorted). */
static int set_conf(struct target *t, struct extfs *fs, const char *key, const char *value)
{
    static const struct extfs_attr keep = { 0 };
    char *buf = malloc(MENDER_CONF_MAX), *out = NULL;
    json_t *conf = NULL;
    json_error_t jerr;
    size_t len;
    int fd = -1, status = EXIT_FAIL;

    if (buf == NULL)
        goto out;
    if (extfs_read_small(fs, MENDER_CONF, buf, MENDER_CONF_MAX, &len) != 0) {
        fprintf(stderr, "msig modify: %s\n", extfs_error(fs));
        goto out;
    }
    conf = json_loadb(buf, len, 0, &jerr);
    if (conf == NULL || !json_is_object(conf)) {
        if (conf != NULL)
            fprintf(stderr, "msig modify: %s: %s is not a JSON object\n", t->path, MENDER_CONF);
        else
            fprintf(stderr, "msig modify: %s: %s is not valid JSON: %s (line %d)\n", t->path,
                    MENDER_CONF, jerr.text, jerr.line);
        goto out;
    }
    if (json_object_set_new(conf, key, json_string(value)) != 0 ||
        (out = json_dumps(conf, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
        fprintf(stderr, "msig modify: %s: setting %s failed (is it valid UTF-8?)\n", MENDER_CONF,
                key);
        goto out;
    }
    fd = mem_file(out, strlen(out));
    if (fd >= 0 && extfs_put(fs, MENDER_CONF, fd, &keep) != 0)
        fprintf(stderr, "msig modify: %s\n", extfs_error(fs));
    else if (fd >= 0)
        status = 0;
out:
    if (fd >= 0)
        close(fd);
    free(out);
    json_decref(conf);
    free(buf);
    return status;
}

/* Installs the host file src as dst (a new file gets src's permission bits). */
static int put_host_file(struct extfs *fs, const char *what, const char *src, const char *dst)
{
    struct extfs_attr attr = { 0 };
    struct stat st;
    int fd = open(src, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "msig modify: invalid %s: %s: %s\n", what, src,
                fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return EXIT_FAIL;
    }
    attr.mode = st.st_mode & 0777;
    rc = extfs_put(fs, dst, fd, &attr);
    close(fd);
    if (rc != 0) {
        fprintf(stderr, "msig modify: %s\n", extfs_error(fs));
        return EXIT_FAIL;
    }
    return 0;
}

static int put_artifact_info(struct extfs *fs, const char *name)
{
    static const struct extfs_attr keep = { 0 };
    char *text = NULL;
    int fd, rc = -1;

    if (asprintf(&text, "artifact_name=%s", name) < 0)
        return EXIT_FAIL;
    fd = mem_file(text, strlen(text));
    if (fd >= 0)
        rc = extfs_put(fs, ARTIFACT_INFO, fd, &keep);
    if (fd >= 0 && rc != 0)
        fprintf(stderr, "msig modify: %s\n", extfs_error(fs));
    if (fd >= 0)
        close(fd);
    free(text);
    return rc == 0 ? 0 : EXIT_FAIL;
}

/* The rootfs changes, in mender-artifact's order, on every filesystem of the target. */
static int rootfs_step(void *user, struct target *t, struct extfs *fs[2], size_t n,
                       const char *inner)
{
    const struct mods *m = user;

    (void)inner;
    for (size_t i = 0; i < n; i++) {
        if (m->server_uri && set_conf(t, fs[i], "ServerURL", m->server_uri) != 0)
            return EXIT_FAIL;
        if (m->server_cert &&
            put_host_file(fs[i], "server certificate", m->server_cert, SERVER_CERT) != 0)
            return EXIT_FAIL;
        if (m->verify_key &&
            put_host_file(fs[i], "verification key", m->verify_key, VERIFY_KEY) != 0)
            return EXIT_FAIL;
        if (m->tenant_token && set_conf(t, fs[i], "TenantToken", m->tenant_token) != 0)
            return EXIT_FAIL;
        if (m->name && put_artifact_info(fs[i], m->name) != 0)
            return EXIT_FAIL;
    }
    return 0;
}

/* ---------------------------------------------------------------- the header */

static void replace_list(struct args *a, const char *flag, const struct strlist *l)
{
    if (l->n == 0)
        return;
    args_drop(a, flag);
    for (size_t i = 0; i < l->n; i++) {
        args_add(a, flag);
        args_add(a, l->v[i]);
    }
}

static void add_list(struct args *a, const char *flag, const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        args_add(a, flag);
        args_add(a, l->v[i]);
    }
}

static int header_edit(void *user, struct args *a)
{
    const struct mods *m = user;

    if (m->name != NULL) {
        args_drop(a, "--artifact-name");
        args_add(a, "--artifact-name");
        args_add(a, m->name);
    }
    replace_list(a, "--artifact-name-depends", &m->name_depends);
    replace_list(a, "--depends-groups", &m->depends_groups);
    if (m->group != NULL) {
        args_drop(a, "--provides-group");
        args_add(a, "--provides-group");
        args_add(a, m->group);
    }
    add_list(a, "--script", &m->scripts);
    replace_list(a, "--depends", &m->depends);
    replace_list(a, "--provides", &m->provides);
    if (m->meta != NULL) {
        if (a->n > 1 && strcmp(a->v[1], "module-image") != 0) {
            fprintf(stderr, "msig modify: -m/--meta-data: only a module-image payload has "
                            "meta-data\n");
            return EXIT_PARAMS;
        }
        args_drop(a, "--meta-data");
        args_add(a, "--meta-data");
        args_add(a, m->meta);
    }
    add_list(a, "--clears-provides", &m->clears);
    for (size_t i = 0; i < m->del_clears.n; i++)
        args_drop_value(a, "--clears-provides", m->del_clears.v[i], 0);
    return a->failed ? EXIT_FAIL : 0;
}

/* ---------------------------------------------------------------- the command */

static int modify(struct cli *cli, struct mods *m, struct target_opts *o, const char *path)
{
    struct target t;
    struct extfs *fs[2];
    char inner[4096];
    size_t n = 0;
    int rootfs_edits = m->server_uri || m->server_cert || m->verify_key || m->tenant_token;
    int status = target_open(cli, "modify", path, o, &t);

    if (status != 0)
        goto out;
    if (t.kind != TARGET_ARTIFACT && m->header_edits) {
        status = cli_usage_error("modify: `--%s` argument must be used with an Artifact",
                                 m->first_header_flag);
        goto out;
    }
    /* -n on an artifact whose payload holds no ext4 filesystem (a module-image, a bootstrap
     * artifact, a raw rootfs-image) changes the header only, as mender-artifact does. */
    if (rootfs_edits || (m->name && target_payload_is_fs(&t))) {
        status = target_fs(&t, "/etc/mender", 1, fs, &n, inner, sizeof(inner));
        if (status == 0)
            status = rootfs_step(m, &t, fs, n, inner);
        if (target_fs_close(&t, fs, n, status == 0) != 0)
            status = EXIT_FAIL;
        n = 0;
        if (status != 0)
            goto out;
    }
    o->edit = header_edit;
    o->edit_user = m;
    status = target_commit(cli, &t, o);
out:
    target_fs_close(&t, fs, n, 0);
    target_close(&t);
    return status;
}

int cmd_modify(struct cli *cli, int argc, char **argv)
{
    struct target_opts o = { .writable = 1 };
    struct keyopts keys = { 0 };
    struct mods m;
    int opt, idx, status;

    memset(&m, 0, sizeof(m));
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":hu:c:v:n:t:N:g:G:s:p:d:m:k:", long_opts, &idx)) !=
           -1) {
        const char *flag = NULL;
        int k;

        if (opt == 'h') {
            usage(stdout);
            status = 0;
            goto out;
        }
        for (size_t i = 0; long_opts[i].name != NULL && flag == NULL; i++)
            if (long_opts[i].val == opt)
                flag = long_opts[i].name;
        k = collect(&m, opt, optarg, flag);
        if (k < 0) {
            status = cli_usage_error("out of memory");
            goto out;
        }
        if (k == 1 && (k = target_opt(&o, &keys, opt, optarg)) != 1) {
            status = k < 0 ? EXIT_PARAMS : cli_bad_option("modify", argv, optopt, opt, long_opts);
            goto out;
        }
    }
    status = target_opts_done(cli, &o, &keys);
    if (status != 0)
        goto out;
    if (argc - optind == 0) {
        status = cli_usage_error("modify: Nothing specified, nothing will be modified. Maybe you "
                                 "wanted to say 'artifacts read <pathspec>'?");
        goto out;
    }
    if (argc - optind > 1) {
        status = cli_usage_error("modify: one FILE is modified at a time, got '%s' too",
                                 argv[optind + 1]);
        goto out;
    }
    status = modify(cli, &m, &o, argv[optind]);
out:
    mods_free(&m);
    keyopts_free(&keys);
    target_opts_free(&o);
    return status;
}
