/* targuard.h -- the strict tar layer: every byte of a tar stream (the artifact, header.tar,
 * each data tar) passes through msigi_tg_feed before libarchive sees it, so a header that
 * msig does not accept never reaches libarchive's parser, and nothing in a header can make
 * anyone allocate more than the caps below. Accepted: regular files and directories, in ustar
 * (magic "ustar\0" version "00"), PAX (x records, well formed, capped, no NUL) or GNU (magic
 * "ustar  \0", long names 'L'); the end is two zero blocks, or the end of the stream.
 * Refused, with the offset and the entry's name: global and volume headers, hard and symbolic
 * links, sparse entries of every form, a PAX path and a GNU long name on one entry, a lone
 * zero block followed by data, a bad checksum, mixed magic and version, v7 headers.
 * The layer also records each entry's name and size, so that the reader can check that
 * libarchive saw the same (msigi_tg_next). */
#ifndef MSIGI_TARGUARD_H
#define MSIGI_TARGUARD_H

#include <stddef.h>
#include <stdint.h>

#define MSIGI_TG_PAX_MAX 65536u /* bytes of PAX extended header data per entry */
#define MSIGI_TG_NAME_MAX 4096u /* bytes of a name (GNU long name, PAX path) */
#define MSIGI_TG_QUEUE 1024u    /* entries seen ahead of libarchive */

struct msigi_tg_entry {
    uint64_t name_hash;
    uint64_t size;
};

struct msigi_targuard {
    int state;        /* TG_* in targuard.c */
    uint64_t off;     /* stream offset of the next byte */
    uint64_t hdr_off; /* offset of the current header block */
    uint8_t block[512];
    size_t have;   /* bytes of block (or ext) collected */
    uint64_t left; /* data or padding bytes still to pass */
    uint8_t *ext;  /* PAX data or GNU long name being collected */
    size_t ext_len, ext_cap;
    char ext_type;              /* 'x' or 'L' */
    char *pax_path, *long_name; /* pending for the next entry */
    int pax_size_set;
    uint64_t pax_size;
    struct msigi_tg_entry q[MSIGI_TG_QUEUE];
    size_t q_head, q_len;
    char msg[600]; /* why the stream was refused */
};

void msigi_tg_init(struct msigi_targuard *g);
/* Checks the next n bytes of the stream. 0, or -1 with g->msg set. */
int msigi_tg_feed(struct msigi_targuard *g, const uint8_t *p, size_t n);
/* At the end of the stream: -1 (g->msg) when it ends inside a header or its extensions. */
int msigi_tg_finish(struct msigi_targuard *g);
/* The next entry the layer accepted, in order: 0, or -1 when there is none. */
int msigi_tg_next(struct msigi_targuard *g, struct msigi_tg_entry *out);
/* The hash msigi_tg_next reports for a name (trailing slashes ignored). */
uint64_t msigi_tg_name_hash(const char *name, size_t len);
void msigi_tg_free(struct msigi_targuard *g);

#endif
