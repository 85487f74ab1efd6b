/* recipe.c -- taking an artifact apart, and the `write` command line that rebuilds it
 * (spec section 14). Shared by dump and the editing commands. */
#include "recipe.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void args_add(struct args *a, const char *s)
{
    char *copy;

    if (a->failed)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof(*v));

        if (v == NULL) {
            a->failed = 1;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    copy = strdup(s);
    if (copy == NULL) {
        a->failed = 1;
        return;
    }
    a->v[a->n++] = copy;
}

void args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

const char *args_value(const struct args *a, const char *flag)
{
    for (size_t i = 0; i + 1 < a->n; i++)
        if (strcmp(a->v[i], flag) == 0)
            return a->v[i + 1];
    return NULL;
}

/* Removes count words at i. */
static void args_cut(struct args *a, size_t i, size_t count)
{
    for (size_t k = 0; k < count; k++)
        free(a->v[i + k]);
    memmove(a->v + i, a->v + i + count, (a->n - i - count) * sizeof(*a->v));
    a->n -= count;
}

void args_drop_value(struct args *a, const char *flag, const char *value, int prefix)
{
    size_t i = 0;

    while (i + 1 < a->n) {
        int hit = strcmp(a->v[i], flag) == 0 &&
                  (value == NULL || (prefix ? strncmp(a->v[i + 1], value, strlen(value)) == 0
                                            : strcmp(a->v[i + 1], value) == 0));
        if (hit)
            args_cut(a, i, 2);
        else
            i++;
    }
}

void args_drop(struct args *a, const char *flag)
{
    args_drop_value(a, flag, NULL, 0);
}

void args_drop_flag(struct args *a, const char *flag)
{
    size_t i = 0;

    while (i < a->n) {
        if (strcmp(a->v[i], flag) == 0)
            args_cut(a, i, 1);
        else
            i++;
    }
}

/* mkdir -p; returns 0 or -1 with a message printed. */
int unpack_make_dirs(const char *dir)
{
    char buf[PATH_MAX];
    size_t i, len = strlen(dir);

    if (len == 0 || len >= sizeof(buf)) {
        fprintf(stderr, "%s: invalid directory name\n", dir);
        return -1;
    }
    memcpy(buf, dir, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "cannot create directory %s: %s\n", buf, strerror(errno));
            return -1;
        }
        buf[i] = dir[i];
    }
    return 0;
}

/* Is buf all zero bytes? */
static int all_zero(const unsigned char *buf, size_t len)
{
    return len > 0 && buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0;
}

/* Writes buf, or skips over it (a hole) when it is all zeros. */
static int write_or_skip(int fd, const void *buf, size_t len)
{
    if (len >= 4096 && all_zero(buf, len))
        return lseek(fd, (off_t)len, SEEK_CUR) < 0 ? -1 : 0;
    return cli_write_all(fd, buf, len);
}

int unpack_on_file(void *user, const struct msig_file_event *ev, const void *data, size_t len,
                   int last)
{
    struct unpack *d = user;
    const char *dir;

    if (data == NULL && len == 0 && !last) {
        dir = ev->kind == MSIG_FILE_SCRIPT ? d->scripts_dir : d->files_dir;
        if (dir == NULL || (ev->kind == MSIG_FILE_PAYLOAD && ev->payload != 0))
            return 0;
        if (ev->name == NULL || ev->name[0] == '\0' || strchr(ev->name, '/') != NULL ||
            strcmp(ev->name, ".") == 0 || strcmp(ev->name, "..") == 0) {
            fprintf(stderr, "refusing to dump a file named '%s'\n", ev->name ? ev->name : "");
            return MSIG_E_FORMAT;
        }
        if ((size_t)snprintf(d->final, sizeof(d->final), "%s/%s", dir, ev->name) >=
                sizeof(d->final) ||
            (size_t)snprintf(d->tmp, sizeof(d->tmp), "%s/.%s.XXXXXX", dir, ev->name) >=
                sizeof(d->tmp)) {
            fprintf(stderr, "%s/%s: path too long\n", dir, ev->name);
            return MSIG_E_LIMIT;
        }
        d->fd = mkstemp(d->tmp);
        if (d->fd < 0) {
            fprintf(stderr, "cannot create %s: %s\n", d->tmp, strerror(errno));
            return MSIG_E_IO;
        }
        d->mode = ev->mode & 0777;
        d->size = 0;
        return 0;
    }
    if (d->fd < 0)
        return 0;
    if (len > 0 && write_or_skip(d->fd, data, len) != 0) {
        fprintf(stderr, "writing %s: %s\n", d->final, strerror(errno));
        return MSIG_E_IO;
    }
    d->size += len;
    if (!last)
        return 0;
    /* A trailing hole is only a seek: the size is set here. */
    if (ftruncate(d->fd, (off_t)d->size) != 0 || fchmod(d->fd, d->mode ? d->mode : 0644) != 0 ||
        close(d->fd) != 0) {
        fprintf(stderr, "writing %s: %s\n", d->final, strerror(errno));
        d->fd = -1;
        return MSIG_E_IO;
    }
    d->fd = -1;
    if (rename(d->tmp, d->final) != 0) {
        fprintf(stderr, "cannot rename %s to %s: %s\n", d->tmp, d->final, strerror(errno));
        unlink(d->tmp);
        return MSIG_E_IO;
    }
    d->tmp[0] = '\0';
    args_add(&d->created, d->final);
    return d->created.failed ? MSIG_E_NOMEM : 0;
}

/* Removes everything this unpack created. */
void unpack_undo(struct unpack *d)
{
    size_t i;

    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    if (d->tmp[0] != '\0')
        unlink(d->tmp);
    for (i = 0; i < d->created.n; i++)
        unlink(d->created.v[i]);
}

void unpack_free(struct unpack *d)
{
    size_t i;

    for (i = 0; i < d->created.n; i++)
        free(d->created.v[i]);
    free(d->created.v);
}

/* ---------------------------------------------------------------- command line */

static void arg_path(struct args *a, const char *dir, const char *name)
{
    char buf[PATH_MAX];

    if (dir == NULL || dir[0] == '\0')
        args_add(a, name);
    else {
        snprintf(buf, sizeof(buf), "%s/%s", dir, name);
        args_add(a, buf);
    }
}

static void arg_list(struct args *a, const char *flag, const char *const *list)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != NULL; i++) {
        args_add(a, flag);
        args_add(a, list[i]);
    }
}

static void arg_kv(struct args *a, const char *flag, const char *const *kv)
{
    char buf[4096];
    size_t i;

    for (i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2) {
        snprintf(buf, sizeof(buf), "%s:%s", kv[i], kv[i + 1]);
        args_add(a, flag);
        args_add(a, buf);
    }
}

/* Builds `write ...` for the artifact. 3.9.0 prints --device-type (newest prints
 * --compatible-types); msig follows 3.9.0 so the line also works with that version. */
void recipe_cmdline(struct args *a, const struct msig_artifact *art, const char *files_dir,
                    const char *scripts_dir, const char *meta_dir)
{
    const char *type = msig_artifact_payload_count(art) ? msig_artifact_payload_type(art, 0) : NULL;
    const char *group = msig_artifact_provides_group(art);
    const char *const *scripts = msig_artifact_scripts(art);
    int bootstrap = type == NULL;
    size_t i, nf;

    args_add(a, "write");
    args_add(a, bootstrap ? "bootstrap-artifact" : "module-image");
    args_add(a, "--artifact-name");
    args_add(a, msig_artifact_name(art) ? msig_artifact_name(art) : "");
    arg_list(a, "--device-type", msig_artifact_devices(art));
    if (group != NULL && group[0] != '\0') {
        args_add(a, "--provides-group");
        args_add(a, group);
    }
    arg_list(a, "--artifact-name-depends", msig_artifact_depends_names(art));
    arg_list(a, "--depends-groups", msig_artifact_depends_groups(art));
    /* Only what was dumped: -s, -m and -f name files that exist after this dump. */
    if (!bootstrap && scripts_dir != NULL) {
        for (i = 0; scripts != NULL && scripts[i] != NULL; i++) {
            args_add(a, "--script");
            arg_path(a, scripts_dir, scripts[i]);
        }
    }
    if (!bootstrap) {
        args_add(a, "--type");
        args_add(a, type);
    }
    if (msig_artifact_payload_count(art) == 0)
        return;
    arg_kv(a, "--provides", msig_artifact_payload_provides(art, 0));
    arg_kv(a, "--depends", msig_artifact_payload_depends(art, 0));
    if (!bootstrap) {
        /* The provides and clears are listed in full, so the defaults must stay off. */
        args_add(a, "--no-default-software-version");
        args_add(a, "--no-default-clears-provides");
        if (meta_dir != NULL && msig_artifact_payload_meta_data(art, 0) != NULL) {
            args_add(a, "--meta-data");
            arg_path(a, meta_dir, "0000.meta-data");
        }
        nf = files_dir != NULL ? msig_artifact_payload_file_count(art, 0) : 0;
        for (i = 0; i < nf; i++) {
            const struct msig_file_info *f = msig_artifact_payload_file(art, 0, i);

            if (f == NULL || f->name == NULL)
                continue;
            /* The API gives the augmented section merged (no augment type of its own),
             * so augmented files are recreated as plain payload files. */
            args_add(a, "--file");
            arg_path(a, files_dir, f->name);
        }
    }
    arg_list(a, "--clears-provides", msig_artifact_payload_clears(art, 0));
}

int recipe_write_meta(const struct msig_artifact *art, const char *dir)
{
    const char *meta =
        msig_artifact_payload_count(art) ? msig_artifact_payload_meta_data(art, 0) : NULL;
    char path[PATH_MAX];
    FILE *f;

    if (meta == NULL)
        return 0;
    snprintf(path, sizeof(path), "%s/0000.meta-data", dir);
    f = fopen(path, "w");
    if (f == NULL || fprintf(f, "%s\n", meta) < 0 || fclose(f) != 0) {
        fprintf(stderr, "writing %s: %s\n", path, strerror(errno));
        if (f != NULL)
            unlink(path);
        return -1;
    }
    return 0;
}
