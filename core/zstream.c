/* zstream.c -- the compression names, ids, families and entry-name suffixes.
 * The encoders are in zenc.c, the decoders in zdec.c. */
#include "zstream.h"

#include <string.h>

#include "ctx.h"

/* ------------------------------------------------------------------ names and ids */

static const struct {
    const char *name;
    int id;
} compressors[] = {
    { "none", MSIG_COMPRESS_NONE },           { "gzip", MSIG_COMPRESS_GZIP },
    { "lzma", MSIG_COMPRESS_LZMA },           { "zstd_fastest", MSIG_COMPRESS_ZSTD_FASTEST },
    { "zstd_fast", MSIG_COMPRESS_ZSTD_FAST }, { "zstd_better", MSIG_COMPRESS_ZSTD_BETTER },
    { "zstd_best", MSIG_COMPRESS_ZSTD_BEST },
};

int msigi_z_compression_from_name(struct msig_ctx *ctx, const char *name, int *compression)
{
    if (!name || !compression)
        return msigi_err(ctx, MSIG_E_INVALID, "compressor name or result is NULL");
    for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
        if (strcmp(name, compressors[i].name) == 0) {
            *compression = compressors[i].id;
            return 0;
        }
    }
    /* The text mender-artifact prints for an unknown id. */
    return msigi_err(ctx, MSIG_E_INVALID,
                     "compressor '%s' is not supported: invalid compressor id: %s", name, name);
}

const char *msigi_z_compression_name(int compression)
{
    for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++)
        if (compressors[i].id == compression)
            return compressors[i].name;
    return NULL;
}

int msig_compression_from_name(const char *name, int *compression)
{
    return msigi_z_compression_from_name(NULL, name, compression);
}

int msigi_z_family(int compression)
{
    switch (compression) {
    case MSIG_COMPRESS_NONE:
        return MSIGI_Z_NONE;
    case MSIG_COMPRESS_GZIP:
        return MSIGI_Z_GZIP;
    case MSIG_COMPRESS_LZMA:
        return MSIGI_Z_XZ;
    case MSIG_COMPRESS_ZSTD_FASTEST:
    case MSIG_COMPRESS_ZSTD_FAST:
    case MSIG_COMPRESS_ZSTD_BETTER:
    case MSIG_COMPRESS_ZSTD_BEST:
        return MSIGI_Z_ZSTD;
    default:
        return -1;
    }
}

const char *msigi_z_suffix(int family)
{
    switch (family) {
    case MSIGI_Z_GZIP:
        return ".gz";
    case MSIGI_Z_XZ:
        return ".xz";
    case MSIGI_Z_ZSTD:
        return ".zst";
    default:
        return "";
    }
}

static int has_suffix(const char *name, size_t n, const char *suffix)
{
    size_t s = strlen(suffix);
    return n > s && memcmp(name + n - s, suffix, s) == 0;
}

int msigi_z_family_from_name(const char *name, size_t *base_len)
{
    static const int families[] = { MSIGI_Z_GZIP, MSIGI_Z_XZ, MSIGI_Z_ZSTD };
    size_t n = name ? strlen(name) : 0;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        const char *suffix = msigi_z_suffix(families[i]);
        if (has_suffix(name, n, suffix)) {
            if (base_len)
                *base_len = n - strlen(suffix);
            return families[i];
        }
    }
    if (base_len)
        *base_len = n;
    return MSIGI_Z_NONE;
}
