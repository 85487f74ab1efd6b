/* manifest.h -- the checksum lists `manifest` and `manifest-augment` (private).
 * Parsing is strict: every line is <64 lowercase hex><two spaces><name>\n, names are unique,
 * the last line ends with \n, no blank lines, no CR. That is the canonical form, whose bytes
 * equal the re-serialisation every Mender verifier computes (spec §3.3, §4.1). */
#ifndef MSIG_MANIFEST_H
#define MSIG_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

#define MSIGI_MANIFEST_MAX_BYTES (4u << 20)
#define MSIGI_MANIFEST_MAX_LINES 65536u

struct msigi_mline {
    char *name;
    size_t lineno;
    char hex[65];
    int augment;  /* from manifest-augment */
    int consumed; /* matched by an entry of the artifact */
};

struct msigi_manifest {
    struct msigi_mline *lines;
    size_t count;
    size_t cap;
    struct msigi_mline **by_name; /* sorted view for lookups, rebuilt by each parse */
};

/* Parses buf (the entry's bytes) and appends its lines; `what` names the entry for messages.
 * Duplicate names (also across manifest and manifest-augment) are errors. Lookups and the
 * duplicate check use a sorted index, so a large manifest costs O(n log n). */
int msigi_manifest_parse(struct msig_ctx *ctx, struct msigi_manifest *m, const uint8_t *buf,
                         size_t len, const char *what, int augment);
struct msigi_mline *msigi_manifest_find(struct msigi_manifest *m, const char *name);
void msigi_manifest_clear(struct msigi_manifest *m);

/* Lowercase hex of a SHA-256 digest. */
void msigi_hex(const uint8_t *bin, size_t len, char *out);

#endif
