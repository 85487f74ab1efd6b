/* wstate.h -- the writer's state, shared by the stages of a write (private).
 *
 * A write runs as a pipeline (writer.c drives it):
 *   1. writer.c   checks every setting, payload name and state script;
 *   2. wdata.c    streams the payload files, each read once, into the inner data tar and
 *                 its compressor, written to a scratch file, with the SHA-256 of every file
 *                 computed on the way (hasher.c, on its own thread);
 *   3. wheader.c  builds the type-info maps (they need the rootfs checksum) and the
 *                 compressed header tar(s) in memory;
 *   4. wouter.c   builds the manifest(s), then writes the outer tar: version, manifest,
 *                 manifest.sig, header, and the data entry copied from the scratch file.
 * The data must be compressed before the manifest and header are known, and the artifact
 * puts them first: the scratch file holds the compressed data, so the payload is read and
 * hashed once. wtar.c is the libarchive glue of the inner tars. */
#ifndef MSIGI_WSTATE_H
#define MSIGI_WSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include <msig/msig.h>

#include "strv.h"

#define MSIGI_W_IO_BUF (128u * 1024) /* payload read buffer (MSIGI_HASHER_NBUF of them) */
#define MSIGI_W_OUTER_MODE 0644u     /* outer header.tar / data entries */
#define MSIGI_W_STREAM_MODE 0600u    /* in-memory entries, as mender-artifact */

struct msig_writer {
    struct msig_ctx *ctx;
    int kind;
    char *name;
    char *payload_type;
    char *provides_group;
    char *meta_path;
    char *aug_type;
    char *aug_meta_path;
    char *sw_name;
    char *sw_version;
    char *sw_fs;
    struct msigi_strv devices;
    struct msigi_strv files;
    struct msigi_strv scripts;
    struct msigi_strv clears;
    struct msigi_strv dep_names;
    struct msigi_strv dep_groups;
    struct msigi_strv aug_files;
    json_t *provides;
    json_t *default_provides; /* only where nothing else sets the key */
    json_t *depends;
    json_t *aug_provides;
    json_t *aug_depends;
    int compression;
    int version;
    uint32_t flags;
    uint64_t max_size;
    uint64_t warn_size;
    struct msig_key *key;
};

struct payload {
    const char *path; /* borrowed from the writer */
    const char *base; /* points into path */
    int augment;
    uint64_t size;
    char hex[65];
};

struct script {
    char *path;
    const char *base; /* points into path */
};

struct membuf {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max;
    int overflow;
};

struct wstate {
    struct msig_writer *w;
    struct msig_ctx *ctx;
    uint64_t done, total; /* progress: payload bytes streamed, of all payloads */
    const char *ext;      /* "", ".gz", ".xz", ".zst" */
    int have_epoch;
    int64_t epoch;
    int64_t now;
    struct payload *pl;
    size_t npl;
    size_t nmain; /* payloads before the augment files */
    struct script *sc;
    size_t nsc;
    char *meta; /* re-serialised meta-data or NULL */
    size_t meta_len;
    char *aug_meta;
    size_t aug_meta_len;
    json_t *provides; /* final type-info maps */
    struct msigi_strv clears;
    struct membuf hdr;
    struct membuf hdr_aug;
    char *manifest;
    size_t manifest_len;
    char *manifest_aug;
    size_t manifest_aug_len;
    char *sig;
    size_t sig_len;
};

/* wtar.c: a libarchive writer whose output goes through an encoder. */
struct msigi_zenc;
struct msigi_lasink {
    struct msigi_zenc *enc;
    int failed;
    int discard; /* msigi_wtar_close_failed: drop what is written */
};
int msigi_wtar_open(struct wstate *s, struct archive **out, struct msigi_lasink *ls);
/* Ends a writer after a failure, keeping the context's error; archive_write_free follows. */
void msigi_wtar_close_failed(struct archive *a, struct msigi_lasink *ls);
/* The error of a failed archive call: the encoder's text when it failed underneath. */
int msigi_wtar_fail(struct wstate *s, struct archive *a, struct msigi_lasink *ls, const char *what);
int msigi_wtar_add_mem(struct wstate *s, struct archive *a, struct msigi_lasink *ls,
                       const char *name, const void *data, size_t len);
/* Mode, mtime and owner of a file-backed entry (clamped with SOURCE_DATE_EPOCH). */
void msigi_wtar_file_meta(struct wstate *s, struct archive_entry *e, const struct stat *st);
/* Reads up to len bytes, retrying on EINTR and short reads; returns the count or -1. */
ssize_t msigi_w_read_full(int fd, void *buf, size_t len);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void msigi_w_hex(const uint8_t *d, size_t n, char *out);

/* wdata.c: stage 2. Streams every payload into the compressed data tar, written to fd;
 * sets each payload's size and hex checksum, and *size to the bytes written. */
int msigi_wdata_write(struct wstate *s, int fd, uint64_t *size);

/* wheader.c: stage 3. */
int msigi_wheader_type_maps(struct wstate *s);
/* Builds header.tar<EXT> (augment = 0) or header-augment.tar<EXT> into mb. */
int msigi_wheader_build(struct wstate *s, int augment, struct membuf *mb);

/* wouter.c: stage 4. */
int msigi_wouter_manifests(struct wstate *s, const char *version, size_t version_len);
/* The outer tar to out_fd (named `what` in messages); the data entry's data_size bytes are
 * copied from data_fd (offset 0). *written: bytes of the whole artifact. */
int msigi_wouter_write(struct wstate *s, int out_fd, const char *what, const char *version,
                       size_t vlen, int data_fd, uint64_t data_size, uint64_t *written);

#endif
