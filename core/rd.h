/* rd.h -- the reader's internals (private), shared by its stage modules:
 *   rdouter.c   the outer tar walk: the source and its I/O stage, one function per state
 *               of the entry grammar (spec §1.2), version, manifest, signature, the end checks
 *   rdinner.c   an inner tar (header.tar, data/NNNN.tar) over a decoder (zdec.c), with the
 *               decode stage that runs outer reads and decompression on a worker thread
 *   rdheader.c  the header entries, one function per state of header.tar's order
 *   rddata.c    the payload files of a data entry
 *   rdjson.c    the JSON and header-string rules the header entries use
 *   rdtar.c     what the tar walks share: libarchive checked against the strict tar layer
 *   reader.c    the public API
 *
 * The outer tar is parsed by libarchive (tar formats only, no filters: compression is chosen
 * by entry name, never by magic bytes, spec §8), behind the strict tar layer (targuard.c).
 * Payload bytes are hashed while they stream and are never held in memory; everything kept
 * in memory (version, manifests, signature, JSON headers) has a hard size cap.
 *
 * Threads (msig_ctx_threads > 1): the I/O stage reads a regular file ahead; for each data
 * entry, the decode stage (a worker) reads the outer tar and decompresses, while the calling
 * thread parses the inner tar, hashes, and calls the file handler and progress. Each stage
 * hands on exactly the results the calling thread would have got itself (pipe.h), so results,
 * messages and callbacks do not depend on the thread count. */
#ifndef MSIGI_RD_H
#define MSIGI_RD_H

#include <stddef.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "artifact.h"
#include "ctx.h"
#include "manifest.h"
#include "pipe.h"
#include "targuard.h"
#include "zdec.h"

#define MSIGI_RD_IOBUF (256u * 1024u)
/* Decompressed bytes are asked for in pieces this large: a whole gzip member as msig writes
 * it (512 KiB of output) then decodes straight into the buffer (zdec.c). */
#define MSIGI_RD_DECBUF (512u * 1024u)
#define MSIGI_RD_MAX_JSON_BYTES (1u << 20)
#define MSIGI_RD_MAX_PAYLOADS 16u
#define MSIGI_RD_MAX_NAME 4096u
/* Pipeline stages (msig_ctx_threads > 1): slots of MSIGI_RD_IOBUF bytes (I/O) and
 * MSIGI_RD_DECBUF bytes (decoded) between threads. */
#define MSIGI_RD_IO_SLOTS 4u
#define MSIGI_RD_DEC_SLOTS 4u

struct msig_reader {
    struct msig_ctx *ctx;
    const struct msig_pubkeys *keys;
    uint32_t flags; /* MSIG_READ_F_* */
    msig_file_fn *file_fn;
    void *file_user;
};

struct msigi_rd;

/* One compressed outer entry being read: outer archive -> (hash) -> decoder -> inner tar. */
struct msigi_rd_zsrc {
    struct msigi_rd *rd;
    EVP_MD_CTX *md; /* hash of the compressed bytes, or NULL */
    int failed;     /* the outer read failed (message in ctx) */
};

struct msigi_rd_inner {
    struct msigi_rd_zsrc zs;
    struct msigi_zdec *dec;
    struct msigi_targuard guard; /* the strict tar layer in front of libarchive */
    struct archive *a;
    uint8_t *buf;   /* decompressed bytes handed to libarchive */
    uint8_t *obuf;  /* file data read out of libarchive */
    int dec_failed; /* decoder error (message in ctx) */
    /* Decode stage (threads > 1): a worker runs the outer reads and the decoder, the calling
     * thread the inner tar, the hashes and the callbacks. */
    struct msigi_pipe *pipe;
    struct msig_ctx wctx; /* the worker's errors, taken over in stream order */
};

/* The states of the outer walk (rdouter.c), in the order of the grammar. */
enum msigi_rd_state {
    MSIGI_RD_VERSION,
    MSIGI_RD_MANIFEST,
    MSIGI_RD_AFTER_MANIFEST,
    MSIGI_RD_AFTER_SIG,
    MSIGI_RD_AFTER_AUG,
    MSIGI_RD_AFTER_HEADER,
    MSIGI_RD_DATA
};

struct msigi_rd {
    struct msig_ctx *ctx;
    struct msig_reader *r;
    const char *name; /* artifact name for messages */
    msig_read_fn *src;
    void *src_user;
    uint8_t *inbuf;
    int src_failed;
    struct msigi_targuard guard; /* the strict tar layer in front of libarchive */
    uint64_t done, total;        /* progress: bytes read of the artifact (total 0: unknown) */
    struct archive *outer;
    struct msig_artifact *art;
    struct msigi_manifest man;
    uint8_t *manifest_raw;
    size_t manifest_len;
    int zfamily; /* compression of header and data, from the header's name */
    const char *ext;
    int have_augment; /* manifest-augment seen */
    char seen[1024];  /* names so far, for structure messages */
    unsigned outer_count;
    enum msigi_rd_state state;
    int last_data_index;
    char outer_msg[512];   /* why the outer stream failed under a decoder */
    int threads;           /* msig_ctx_threads */
    int io_stage_ok;       /* the source is a regular file: reads may run ahead */
    struct msigi_pipe *io; /* I/O stage, or NULL */
    struct msig_ctx *octx; /* where outer-stream errors go: ctx, or a worker's */
    int on_worker;         /* the outer stream is being read by a decode worker */
    uint64_t reported;     /* progress reported so far */
};

/* rdouter.c: reads and checks a whole artifact from src (total: its size, 0 if unknown;
 * io_stage_ok: src is a regular file, which the I/O stage may read ahead). */
int msigi_rd_stream(struct msig_reader *r, msig_read_fn *src, void *src_user, const char *name,
                    uint64_t total, int io_stage_ok, struct msig_artifact **out);
/* rdouter.c: progress to the application, from the calling thread, never backwards. */
void msigi_rd_progress(struct msigi_rd *rd, uint64_t done);

/* rdinner.c: an inner tar over a decoder of the current outer entry. md (or NULL) hashes the
 * compressed bytes; staged: decompress on a worker thread when threads > 1. */
int msigi_rd_inner_open(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *what,
                        EVP_MD_CTX *md, int staged);
void msigi_rd_inner_close(struct msigi_rd_inner *in);
/* The error of the inner archive: the decoder's or the outer stream's own message first. */
int msigi_rd_inner_error(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *what,
                         const char *doing);
/* After the inner tar's end: the compressed stream must end cleanly, with nothing after it. */
int msigi_rd_inner_drain(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *what);
/* The current inner entry into memory (at most MSIGI_RD_MAX_JSON_BYTES). */
int msigi_rd_inner_read_small(struct msigi_rd *rd, struct msigi_rd_inner *in,
                              struct archive_entry *e, const char *what, uint8_t **out,
                              size_t *out_len);

/* rdheader.c: header.tar<EXT> (augment 0) or header-augment.tar<EXT> (augment 1). */
int msigi_rd_header(struct msigi_rd *rd, const char *entry_name, int augment);
/* rddata.c: data/NNNN.tar<EXT> of payload idx. */
int msigi_rd_data(struct msigi_rd *rd, const char *entry_name, int idx);

/* rdtar.c */
int msigi_rd_sha256_init(struct msig_ctx *ctx, EVP_MD_CTX **md);
void msigi_rd_sha256_hex(EVP_MD_CTX *md, char out[65]);
/* "NNNN" (exactly four digits) as a number, or -1. */
int msigi_rd_index4(const char *s, size_t len);
/* libarchive and the strict tar layer must have seen the same entry (name and size). */
int msigi_rd_same_entry(struct msigi_rd *rd, struct msigi_targuard *g, struct archive_entry *e,
                        const char *what);
/* Exactly size bytes of the current entry of a into buf: the count read (less at a premature
 * end), or -1 when the archive reports an error. */
la_ssize_t msigi_rd_read_exact(struct archive *a, uint8_t *buf, size_t size);

/* rdjson.c: JSON text (depth-capped) parsed, with the parser's message on error. */
int msigi_rd_json(struct msigi_rd *rd, const uint8_t *buf, size_t len, const char *what,
                  json_t **out);
/* Refuses keys of obj not in the NULL-terminated list. */
int msigi_rd_only_keys(struct msigi_rd *rd, json_t *obj, const char *what,
                       const char *const *allowed);
/* The printable-text rule (text.c) and the length cap for a header string. */
int msigi_rd_check_string(struct msigi_rd *rd, json_t *v, const char *what, const char *field);
/* Every key and string value of a provides, depends or clears object, nested lists too. */
int msigi_rd_check_strings(struct msigi_rd *rd, json_t *v, const char *what, const char *field);
/* A list of checked strings appended to out. */
int msigi_rd_string_list(struct msigi_rd *rd, json_t *arr, const char *what, const char *field,
                         int need_nonempty, struct msigi_strv *out);
/* Deep merge of src into dst (objects only); a type conflict is an error. */
int msigi_rd_merge_json(struct msigi_rd *rd, json_t *dst, json_t *src, const char *what);

#endif
