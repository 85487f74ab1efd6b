/* test_probe.c -- msig_artifact_probe_compression: artifacts written with each compression
 * give it back (zstd levels as zstd_fast); a file that is no tar, a tar without a header
 * entry, a missing file and NULL arguments are refused with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msig/msig.h>

#include "tap.h"

static char tmpd[] = "/tmp/msig-test-probe-XXXXXX";

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = f != NULL && fwrite(data, 1, len, f) == len ? 0 : -1;

    if (f != NULL && fclose(f) != 0)
        rc = -1;
    return rc;
}

/* Writes a module-image artifact with compression comp to path. */
static int make_artifact(struct msig_ctx *ctx, const char *payload, int comp, const char *path)
{
    struct msig_writer *w = NULL;
    int rc = msig_writer_new(ctx, MSIG_PAYLOAD_MODULE, &w);

    if (rc == 0)
        rc = msig_writer_set_name(w, "probe-1");
    if (rc == 0)
        rc = msig_writer_add_device_type(w, "dev");
    if (rc == 0)
        rc = msig_writer_set_payload_type(w, "app");
    if (rc == 0)
        rc = msig_writer_add_file(w, payload);
    if (rc == 0)
        rc = msig_writer_set_compression(w, comp);
    if (rc == 0)
        rc = msig_writer_write(w, path);
    msig_writer_free(w);
    return rc;
}

int main(void)
{
    static const struct {
        int comp, want;
    } cases[] = {
        { MSIG_COMPRESS_NONE, MSIG_COMPRESS_NONE },
        { MSIG_COMPRESS_GZIP, MSIG_COMPRESS_GZIP },
        { MSIG_COMPRESS_LZMA, MSIG_COMPRESS_LZMA },
        { MSIG_COMPRESS_ZSTD_FASTEST, MSIG_COMPRESS_ZSTD_FAST },
        { MSIG_COMPRESS_ZSTD_BEST, MSIG_COMPRESS_ZSTD_FAST },
    };
    struct msig_ctx *ctx = NULL;
    char payload[256], art[256], path[256];
    int comp = -1;

    if (mkdtemp(tmpd) == NULL || msig_ctx_new(&ctx) != 0)
        bail("setup");
    snprintf(payload, sizeof(payload), "%s/app.bin", tmpd);
    if (write_file(payload, "payload", 7) != 0)
        bail("payload");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(art, sizeof(art), "%s/a%zu.mender", tmpd, i);
        is_int(make_artifact(ctx, payload, cases[i].comp, art), 0,
               "/probe/write/%d: the artifact is written", cases[i].comp);
        comp = -1;
        is_int(msig_artifact_probe_compression(ctx, art, &comp), 0, "/probe/%d: found",
               cases[i].comp);
        is_int(comp, cases[i].want, "/probe/%d: the compression", cases[i].comp);
        unlink(art);
    }

    snprintf(path, sizeof(path), "%s/noise", tmpd);
    if (write_file(path, "this is not a tar archive at all, only some words", 48) != 0)
        bail("noise");
    is_int(msig_artifact_probe_compression(ctx, path, &comp), MSIG_E_FORMAT, "/probe/not-tar");
    like(msig_ctx_last_error(ctx), "noise", "/probe/not-tar: the message names the file");
    unlink(path);

    /* A tar that holds a payload file only: no header entry. */
    snprintf(path, sizeof(path), "%s/plain.tar", tmpd);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "tar -cf %s -C %s app.bin", path, tmpd);
    if (system(cmd) != 0)
        bail("tar");
    is_int(msig_artifact_probe_compression(ctx, path, &comp), MSIG_E_FORMAT, "/probe/no-header");
    like(msig_ctx_last_error(ctx), "not a Mender artifact", "/probe/no-header: the message");
    unlink(path);

    snprintf(path, sizeof(path), "%s/missing", tmpd);
    is_int(msig_artifact_probe_compression(ctx, path, &comp), MSIG_E_IO, "/probe/missing");
    like(msig_ctx_last_error(ctx), "cannot open", "/probe/missing: the message");
    is_int(msig_artifact_probe_compression(ctx, NULL, &comp), MSIG_E_INVALID, "/probe/null-path");
    is_int(msig_artifact_probe_compression(ctx, payload, NULL), MSIG_E_INVALID, "/probe/null-out");

    unlink(payload);
    rmdir(tmpd);
    msig_ctx_free(ctx);
    return done_testing();
}
