/* common.c -- helpers shared by the msig subcommands: messages, key flags, parsing. */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("msig: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_PARAMS;
}

const char *cli_message(struct cli *cli, int rc, const char *subject)
{
    static char buf[4096];
    const char *msg = cli->ctx ? msig_ctx_last_error(cli->ctx) : "";

    if (msg == NULL || msg[0] == '\0')
        msg = msig_strerror(rc);
    if (msg == NULL || msg[0] == '\0')
        msg = "unknown error";
    if (subject != NULL && subject[0] != '\0' && strstr(msg, subject) == NULL)
        snprintf(buf, sizeof(buf), "%s: %s", subject, msg);
    else
        snprintf(buf, sizeof(buf), "%s", msg);
    return buf;
}

void cli_report(struct cli *cli, int rc, const char *subject)
{
    fprintf(stderr, "%s\n", cli_message(cli, rc, subject));
}

int cli_bad_option(const char *cmd, char **argv, int optopt_val, int ret)
{
    const char *arg = argv[optind - 1];

    if (ret == ':') {
        if (optopt_val > 0 && optopt_val < 256)
            return cli_usage_error("%s: flag -%c needs an argument", cmd, optopt_val);
        return cli_usage_error("%s: flag %s needs an argument", cmd, arg);
    }
    if (optopt_val > 0 && optopt_val < 256)
        return cli_usage_error("%s: flag provided but not defined: -%c", cmd, optopt_val);
    return cli_usage_error("%s: flag provided but not defined: %s", cmd, arg);
}

int strlist_add(struct strlist *l, const char *s)
{
    if (l->n + 1 >= l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL)
            return MSIG_E_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
    return 0;
}

void strlist_free(struct strlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---------------------------------------------------------------- keys */

static int add_spec(struct keyopts *k, const char *scheme, const char *flag, const char *arg)
{
    size_t len = strlen(scheme) + strlen(arg) + 2;
    char *spec;
    int rc;

    if (k->n_owned >= sizeof(k->owned) / sizeof(k->owned[0]))
        return MSIG_E_LIMIT;
    /* A value that already carries the scheme ("pkcs11:token=x") is kept as it is. */
    if (strncmp(arg, scheme, strlen(scheme)) == 0 && arg[strlen(scheme)] == ':')
        len = strlen(arg) + 1;
    spec = malloc(len);
    if (spec == NULL)
        return MSIG_E_NOMEM;
    if (strncmp(arg, scheme, strlen(scheme)) == 0 && arg[strlen(scheme)] == ':')
        memcpy(spec, arg, len);
    else
        snprintf(spec, len, "%s:%s", scheme, arg);
    k->owned[k->n_owned++] = spec;
    rc = strlist_add(&k->specs, spec);
    if (rc == 0)
        rc = strlist_add(&k->flags, flag);
    return rc;
}

/* The external key flags and the plugin scheme each maps to. */
static const struct {
    int opt;
    const char *scheme;
    const char *flag;
} key_flags[] = {
    {OPT_KEY_PKCS11, "pkcs11", "key-pkcs11"},
    {OPT_GCP_KMS_KEY, "gcpkms", "gcp-kms-key"},
    {OPT_VAULT_KEY, "vault", "vault-transit-key"},
    {OPT_AZURE_KEY, "azurekv", "azure-key"},
    {OPT_SIGNSERVER, "signserver", "keyfactor-signserver-worker"},
};

int keyopts_handle(struct keyopts *k, int opt, const char *arg)
{
    int rc;
    size_t i;

    if (opt == 'k') {
        rc = strlist_add(&k->files, arg);
        if (rc == 0)
            rc = strlist_add(&k->flags, "key");
        return rc ? rc : 1;
    }
    if (opt == OPT_PASSPHRASE_FILE) {
        k->passphrase_file = arg;
        return 1;
    }
    for (i = 0; i < sizeof(key_flags) / sizeof(key_flags[0]); i++) {
        if (key_flags[i].opt == opt) {
            rc = add_spec(k, key_flags[i].scheme, key_flags[i].flag, arg);
            return rc ? rc : 1;
        }
    }
    return 0;
}

void keyopts_free(struct keyopts *k)
{
    size_t i;

    for (i = 0; i < k->n_owned; i++)
        free(k->owned[i]);
    k->n_owned = 0;
    strlist_free(&k->files);
    strlist_free(&k->specs);
    strlist_free(&k->flags);
}

size_t keyopts_count(const struct keyopts *k)
{
    return k->files.n + k->specs.n;
}

int keyopts_too_many(const struct keyopts *k)
{
    size_t i;

    fputs("msig: too many signing keys given: [", stderr);
    for (i = 0; i < k->flags.n; i++)
        fprintf(stderr, "%s%s", i ? " " : "", k->flags.v[i]);
    fputs("]\n", stderr);
    return EXIT_PARAMS;
}

/* Reads the first line of a passphrase file into a malloc'd string. read(2) rather than stdio,
 * so that no library buffer keeps a copy; every copy made here is wiped. */
static int read_passphrase_file(const char *path, char **out)
{
    char buf[1024];
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *out = NULL;
    if (fd < 0) {
        cli_usage_error("cannot read passphrase file %s: %s", path, strerror(errno));
        return -1;
    }
    while (n < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    *out = strdup(buf);
    explicit_bzero(buf, sizeof(buf));
    return *out ? 0 : -1;
}

static int set_passphrase(struct cli *cli, const struct keyopts *k)
{
    char *pass = NULL;
    const char *env = getenv("MSIG_KEY_PASSPHRASE");
    int rc = 0;

    if (k->passphrase_file != NULL) {
        if (read_passphrase_file(k->passphrase_file, &pass) != 0)
            return EXIT_PARAMS;
        rc = msig_ctx_set_param(cli->ctx, "file.passphrase", pass);
        explicit_bzero(pass, strlen(pass));
        free(pass);
    } else if (env != NULL) {
        rc = msig_ctx_set_param(cli->ctx, "file.passphrase", env);
    }
    if (rc != 0) {
        cli_report(cli, rc, "file.passphrase");
        return EXIT_FAIL;
    }
    return 0;
}

/* Is a plugin for the scheme of spec ("gcpkms:...") loaded? The library takes a spec with
 * an unknown scheme as a file path, which would give a misleading "cannot open key file"
 * for --gcp-kms-key and friends when their plugin is missing. */
static int scheme_available(struct cli *cli, const char *spec)
{
    size_t i, j, n = msig_ctx_plugin_count(cli->ctx);
    size_t len = strcspn(spec, ":");

    for (i = 0; i < n; i++) {
        struct msig_plugin_info info;

        memset(&info, 0, sizeof(info));
        info.struct_size = sizeof(info);
        if (msig_ctx_plugin_info(cli->ctx, i, &info) != 0)
            continue;
        for (j = 0; info.schemes != NULL && info.schemes[j] != NULL; j++)
            if (strlen(info.schemes[j]) == len && strncmp(info.schemes[j], spec, len) == 0)
                return 1;
    }
    return 0;
}

static int open_spec(struct cli *cli, const struct keyopts *k, const char *spec,
                     struct msig_key **key)
{
    size_t i;

    *key = NULL;
    if (scheme_available(cli, spec))
        return 0;
    for (i = 0; i < k->flags.n; i++)
        if (strcmp(k->flags.v[i], "key") != 0)
            break;
    return cli_usage_error("--%s: no signer plugin for the '%.*s' scheme is loaded (see "
                           "'msig plugins'; MSIG_PLUGIN_PATH or --plugin FILE add plugins)",
                           i < k->flags.n ? k->flags.v[i] : "key", (int)strcspn(spec, ":"),
                           spec);
}

/* -k takes a path, or a "scheme:rest" spec of a loaded plugin (e.g. "example:key-1"); any
 * other value with a colon in it is a path and gets the explicit "file:" scheme. */
static char *file_spec(struct cli *cli, const char *path)
{
    size_t len = strlen(path) + 6;
    char *spec = malloc(len);

    if (spec == NULL)
        return NULL;
    if (strchr(path, ':') != NULL && !scheme_available(cli, path))
        snprintf(spec, len, "file:%s", path);
    else
        snprintf(spec, len, "%s", path);
    return spec;
}

int keyopts_open_signing(struct cli *cli, struct keyopts *k, struct msig_key **key)
{
    const char *shown;
    char *spec = NULL;
    int rc;

    *key = NULL;
    if (keyopts_count(k) > 1)
        return keyopts_too_many(k);
    if (keyopts_count(k) == 0)
        return 0;
    rc = set_passphrase(cli, k);
    if (rc != 0)
        return rc;
    if (k->files.n == 1) {
        spec = file_spec(cli, k->files.v[0]);
        if (spec == NULL)
            return cli_usage_error("out of memory");
        shown = k->files.v[0];
    } else {
        shown = k->specs.v[0];
        rc = open_spec(cli, k, shown, key);
        if (rc != 0)
            return rc;
    }
    rc = msig_key_open(cli->ctx, spec ? spec : k->specs.v[0], 0, key);
    free(spec);
    if (rc != 0) {
        *key = NULL;
        fprintf(stderr, "%s\n", cli_message(cli, rc, shown));
        return EXIT_FAIL;
    }
    return 0;
}

int keyopts_open_verify(struct cli *cli, struct keyopts *k, struct msig_pubkeys **keys,
                        struct msig_key **opened)
{
    struct msig_pubkeys *set = NULL;
    size_t i;
    int rc;

    *keys = NULL;
    *opened = NULL;
    if (keyopts_count(k) == 0)
        return 0;
    if (k->specs.n > 1 || (k->specs.n == 1 && k->files.n > 0))
        return keyopts_too_many(k);
    rc = msig_pubkeys_new(cli->ctx, &set);
    if (rc != 0) {
        cli_report(cli, rc, NULL);
        return EXIT_FAIL;
    }
    for (i = 0; i < k->files.n; i++) {
        rc = msig_pubkeys_add_file(set, k->files.v[i]);
        if (rc != 0) {
            fprintf(stderr, "%s\n", cli_message(cli, rc, k->files.v[i]));
            msig_pubkeys_free(set);
            return EXIT_FAIL;
        }
    }
    if (k->specs.n == 1) {
        rc = set_passphrase(cli, k);
        if (rc != 0) {
            msig_pubkeys_free(set);
            return rc;
        }
        rc = open_spec(cli, k, k->specs.v[0], opened);
        if (rc != 0) {
            msig_pubkeys_free(set);
            return rc;
        }
        rc = msig_key_open(cli->ctx, k->specs.v[0], 0, opened);
        if (rc == 0)
            rc = msig_pubkeys_add_key(set, *opened);
        if (rc != 0) {
            fprintf(stderr, "%s\n", cli_message(cli, rc, k->specs.v[0]));
            msig_pubkeys_free(set);
            msig_key_close(*opened);
            *opened = NULL;
            return EXIT_FAIL;
        }
    }
    *keys = set;
    return 0;
}

/* ---------------------------------------------------------------- parsing */

int split_kv(const char *arg, char **key, const char **value)
{
    const char *colon = strchr(arg, ':');

    *key = NULL;
    if (colon == NULL)
        return -1;
    *key = strndup(arg, (size_t)(colon - arg));
    if (*key == NULL)
        return -1;
    *value = colon + 1;
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mul;
    } units[] = {
        {"", 1}, {"B", 1}, {"KB", 1000ull}, {"MB", 1000000ull},
        {"GB", 1000000000ull}, {"TB", 1000000000000ull},
    };
    char *end = NULL;
    unsigned long long v;
    size_t i;

    if (s == NULL || !isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    while (*end == ' ')
        end++;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].mul)
                return -1;
            *out = (uint64_t)v * units[i].mul;
            return 0;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------- callbacks */

void cli_log(void *user, int level, const char *msg)
{
    (void)user;
    if (level == MSIG_LOG_WARN || level == MSIG_LOG_ERROR)
        fprintf(stderr, "warning: %s\n", msg);
    else if (getenv("MSIG_VERBOSE") != NULL)
        fprintf(stderr, "%s\n", msg);
}

int cli_pin(void *user, const struct msig_pin_request *req, char *buf, size_t cap, size_t *len)
{
    struct termios old, noecho;
    int fd, echo_off = 0, rc = MSIG_E_PIN_REQUIRED;
    size_t n = 0;
    char c;

    (void)user;
    *len = 0;
    if (!isatty(STDIN_FILENO) || cap == 0)
        return MSIG_E_PIN_REQUIRED;
    fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return MSIG_E_PIN_REQUIRED;
    dprintf(fd, "%sPIN or passphrase for %s%s%s: ",
            (req->flags & MSIG_PIN_F_RETRY) ? "Wrong; " : "",
            req->key_spec ? req->key_spec : "key", req->label ? " " : "",
            req->label ? req->label : "");
    if (tcgetattr(fd, &old) == 0) {
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(fd, TCSAFLUSH, &noecho) == 0;
    }
    for (;;) {
        ssize_t r = read(fd, &c, 1);

        if (r <= 0) {
            rc = MSIG_E_CANCELLED;
            break;
        }
        if (c == '\n' || c == '\r') {
            rc = 0;
            break;
        }
        if (n + 1 < cap)
            buf[n++] = c;
    }
    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &old);
    dprintf(fd, "\n");
    close(fd);
    c = 0;
    if (rc != 0) {
        explicit_bzero(buf, cap);
        return rc;
    }
    buf[n] = '\0';
    *len = n;
    return 0;
}
