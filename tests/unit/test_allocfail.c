/* test_allocfail.c -- every allocation failure, one at a time (fail allocation 1, 2, ... N
 * through the core's allocator hook), in msig_key_open, msig_artifact_verify_fd and
 * msig_writer_write: each run either succeeds or fails with a message, never crashes (ASan
 * builds also check for leaks), and a failed write leaves no file behind. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msig/msig.h>

#include "ctx.h"
#include "tap.h"

#define MAX_RUNS 20000

static char interop[1024], tmpdir[] = "/tmp/test_allocfail.XXXXXX";

/* Runs op with allocation n failing, for n = 1.. until a run never reaches the failure.
 * Returns the number of failing runs; *bad counts runs that failed without a message. */
static long sweep(struct msig_ctx *ctx, int (*op)(struct msig_ctx *, void *), void *arg, long *bad,
                  long *crashless)
{
    long n, failed = 0;

    for (n = 1; n < MAX_RUNS; n++) {
        msigi_alloc_fail_after(n);
        int rc = op(ctx, arg);
        long left = msigi_alloc_fail_left();
        msigi_alloc_fail_after(0);
        if (left > 0) { /* the n-th allocation never happened: done */
            if (rc != 0)
                (*bad)++;
            break;
        }
        if (rc != 0) {
            failed++;
            if (msig_ctx_last_error(ctx)[0] == '\0')
                (*bad)++;
        }
    }
    *crashless = n;
    return failed;
}

static int op_key(struct msig_ctx *ctx, void *arg)
{
    struct msig_key *k = NULL;
    int rc = msig_key_open(ctx, arg, MSIG_KEY_OPEN_F_NO_PROMPT, &k);
    msig_key_close(k);
    return rc;
}

struct verify_arg {
    const char *path;
    struct msig_pubkeys *keys;
};

static int op_verify(struct msig_ctx *ctx, void *arg)
{
    struct verify_arg *v = arg;
    int fd = open(v->path, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? MSIG_E_IO : msig_artifact_verify_fd(ctx, fd, v->path, v->keys, NULL);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d != NULL && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d != NULL)
        closedir(d);
    return n;
}

static int leftovers;

static int op_write(struct msig_ctx *ctx, void *arg)
{
    char out[1100], payload[1100];
    struct msig_writer *w = NULL;
    struct msig_key *k = NULL;
    int rc;

    (void)arg;
    snprintf(out, sizeof(out), "%s/out/a.mender", tmpdir);
    snprintf(payload, sizeof(payload), "%s/payload", tmpdir);
    rc = msig_writer_new(ctx, MSIG_PAYLOAD_ROOTFS, &w);
    if (rc == 0)
        rc = msig_writer_set_name(w, "rel-1");
    if (rc == 0)
        rc = msig_writer_add_device_type(w, "dev");
    if (rc == 0)
        rc = msig_writer_add_file(w, payload);
    if (rc == 0)
        rc = msig_key_open(ctx, arg, MSIG_KEY_OPEN_F_NO_PROMPT, &k);
    if (rc == 0)
        rc = msig_writer_set_key(w, k);
    if (rc == 0)
        rc = msig_writer_write(w, out);
    msig_writer_free(w);
    msig_key_close(k);
    snprintf(out, sizeof(out), "%s/out", tmpdir);
    if (rc != 0 && dir_entries(out) != 0)
        leftovers++;
    if (rc == 0) {
        snprintf(out, sizeof(out), "%s/out/a.mender", tmpdir);
        unlink(out);
    }
    return rc;
}

/* The write sweep over the payload file as it is now: every failing run an error with a
 * message, none leaving a file in the output directory. */
static void sweep_write(struct msig_ctx *ctx, char *key, const char *what)
{
    long bad = 0, runs = 0;
    leftovers = 0;
    long failed = sweep(ctx, op_write, key, &bad, &runs);
    ok(failed > 0 && bad == 0,
       "%s: %ld failing allocations, each an error with a message (%ld runs)", what, failed, runs);
    is_int(leftovers, 0, "%s: no failing run leaves a file in the output directory", what);
}

int main(void)
{
    struct msig_ctx *ctx = NULL;
    const char *env = getenv("MSIG_INTEROP");
    char key[1200], pub[1200], art[1200], path[1200];
    long bad = 0, runs = 0, failed;

    snprintf(interop, sizeof(interop), "%s", env ? env : "../shared/interop");
    if (msig_ctx_new(&ctx) != 0 || mkdtemp(tmpdir) == NULL)
        bail("set-up failed");
    snprintf(key, sizeof(key), "file:%s/keys/p256-private-pkcs8.pem", interop);
    snprintf(pub, sizeof(pub), "%s/keys/rsa3072-public.pem", interop);
    snprintf(art, sizeof(art), "%s/module-augmented-rsa3072.mender", interop);

    failed = sweep(ctx, op_key, key, &bad, &runs);
    ok(failed > 0 && bad == 0,
       "msig_key_open: %ld failing allocations, each an error with a "
       "message (%ld runs)",
       failed, runs);

    struct verify_arg v = { art, NULL };
    if (msig_pubkeys_new(ctx, &v.keys) != 0 || msig_pubkeys_add_file(v.keys, pub) != 0)
        bail("pubkeys: %s", msig_ctx_last_error(ctx));
    bad = 0;
    failed = sweep(ctx, op_verify, &v, &bad, &runs);
    ok(failed > 0 && bad == 0,
       "msig_artifact_verify_fd: %ld failing allocations, each an error "
       "with a message (%ld runs)",
       failed, runs);
    msig_pubkeys_free(v.keys);

    snprintf(path, sizeof(path), "%s/out", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/payload", tmpdir);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs("payload bytes\n", f) < 0 || fclose(f) != 0)
        bail("payload");
    sweep_write(ctx, key, "msig_writer_write");

    /* 3 MiB of zero bytes: whole gzip chunks of zeros, whose member is kept for reuse. */
    f = fopen(path, "w");
    if (f == NULL || ftruncate(fileno(f), 3 * 1024 * 1024) != 0 || fclose(f) != 0)
        bail("zero payload");
    sweep_write(ctx, key, "msig_writer_write of zero chunks");

    snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
    if (system(path) != 0)
        diag("cannot remove %s", tmpdir);
    msig_ctx_free(ctx);
    return done_testing();
}
