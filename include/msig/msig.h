/* msig.h -- public API of libmsig: write, read, sign and validate Mender Artifacts.
 *
 * Thread rules: a struct msig_ctx and every object made from it (writer, reader, key,
 * public-key set, artifact) is used by one thread at a time. Different contexts are
 * independent and may be used from different threads at once.
 *
 * Errors: every function that can fail returns 0 or a negative MSIG_E_* code (listed in
 * msig_types.h, shared with the plugin ABI). The text that says what went wrong, where and
 * with which values is in msig_ctx_last_error(ctx) until the next call on that context.
 *
 * Ownership: whoever creates an object frees it; every _free/_close accepts NULL.
 * Strings returned by getters live as long as the object they come from.
 */
#ifndef MSIG_H
#define MSIG_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig_types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MSIG_API __attribute__((visibility("default")))
#define MSIG_WUR __attribute__((warn_unused_result))
#else
#define MSIG_API
#define MSIG_WUR
#endif

#define MSIG_VERSION_MAJOR 0
#define MSIG_VERSION_MINOR 1
#define MSIG_VERSION_PATCH 0
#define MSIG_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- context */

struct msig_ctx;

/* Log levels are MSIG_LOG_* from msig_types.h. msg is a finished line without newline. */
typedef void msig_log_fn(void *user, int level, const char *msg);

/* Asks the user for a PIN or passphrase. Write at most cap-1 bytes into buf, set *len,
 * return 0; or return MSIG_E_CANCELLED / MSIG_E_PIN_REQUIRED. The caller wipes buf. */
typedef int msig_pin_fn(void *user, const struct msig_pin_request *req, char *buf, size_t cap,
                        size_t *len);

/* Creates a context. External plugin loading is off until msig_ctx_enable_plugins(). */
MSIG_API MSIG_WUR int msig_ctx_new(struct msig_ctx **ctx);
MSIG_API void msig_ctx_free(struct msig_ctx *ctx);

/* Detail text of the last failure on ctx ("" if none). Valid until the next call on ctx. */
MSIG_API const char *msig_ctx_last_error(const struct msig_ctx *ctx);
/* Generic static text for a code. */
MSIG_API const char *msig_strerror(int code);
/* Library version string, e.g. "0.1.0". */
MSIG_API const char *msig_version(void);
/* s made safe to show on a terminal, into buf (cap bytes, always terminated; cut before the
 * first character that does not fit): every character that the header text rule refuses
 * becomes an escape, "\\x1b" for C0 controls, DEL, C1 controls and bytes that are not
 * well-formed UTF-8, "\\u202e" for the bidi controls and the line and paragraph separators.
 * NULL s is "". Returns buf ("" when buf is NULL or cap is 0). Thread-safe; no context. */
MSIG_API const char *msig_text_escape(const char *s, char *buf, size_t cap);

/* Receives warnings and informational lines (default: none are shown). */
MSIG_API void msig_ctx_set_log(struct msig_ctx *ctx, msig_log_fn *fn, void *user);
/* Progress of long operations (reading and validating, writing, signing): done of total
 * bytes (total 0 when unknown), called often from the thread of the call, and once more with
 * done == total at the end; the application decides how often to show it. */
typedef void msig_progress_fn(void *user, uint64_t done, uint64_t total);
MSIG_API void msig_ctx_set_progress(struct msig_ctx *ctx, msig_progress_fn *fn, void *user);
/* Worker threads for compression, decompression and hashing: 0 (the default) means every
 * CPU this process may run on (the affinity mask), 1 does all work on the calling thread.
 * Output bytes do not depend on it. MSIG_E_INVALID above MSIG_THREADS_MAX. */
#define MSIG_THREADS_MAX 256
MSIG_API MSIG_WUR int msig_ctx_set_threads(struct msig_ctx *ctx, int threads);
/* The thread count operations use: the value set, or the CPUs available when it is 0. */
MSIG_API int msig_ctx_threads(const struct msig_ctx *ctx);
/* Prompt used by signers that need a PIN or passphrase (default: none, batch mode). The
 * request carries MSIG_PIN_F_NO_PROMPT when the key was opened with
 * MSIG_KEY_OPEN_F_NO_PROMPT: then answer only from non-interactive sources (a file, the
 * environment) or return MSIG_E_PIN_REQUIRED. The callback may be called from any thread
 * that uses a context, and the log callback also from a plugin's own threads. */
MSIG_API void msig_ctx_set_pin_callback(struct msig_ctx *ctx, msig_pin_fn *fn, void *user);
/* Namespaced parameter for plugins, e.g. "file.passphrase", "vault.addr". The value is
 * copied; a NULL value removes the key. Values are wiped when replaced or freed. */
MSIG_API MSIG_WUR int msig_ctx_set_param(struct msig_ctx *ctx, const char *key, const char *value);

/* A file that no output may replace (outputs that are the same file as an input are refused
 * before anything is written; the library knows its own inputs: payloads, scripts,
 * meta-data, the key file; an application adds others, such as a passphrase file). */
MSIG_API MSIG_WUR int msig_ctx_add_input(struct msig_ctx *ctx, const char *path);
/* Removes the named temporary files msig is writing right now (only where the filesystem
 * has no anonymous temporary files). Async-signal-safe: for SIGINT/SIGTERM handlers. */
MSIG_API void msig_temp_cleanup(void);
/* A named scratch file for work an application hands to msig by name (a device snapshot, an
 * unpacked payload): DIR/PREFIXxxxxxx (dir NULL: TMPDIR, else /tmp), mode 0600, open
 * read-write and close-on-exec in *fd. msig_temp_cleanup removes it until msig_temp_remove,
 * which unlinks it and frees path (the caller closes fd). */
MSIG_API MSIG_WUR int msig_temp_file(struct msig_ctx *ctx, const char *dir, const char *prefix,
                                     int *fd, char **path);
MSIG_API void msig_temp_remove(char *path);

/* Enables loading of external plugins. dir: the plugin directory to scan, or NULL for the
 * installed one (MSIG_PLUGIN_PATH in the environment overrides it). */
MSIG_API MSIG_WUR int msig_ctx_enable_plugins(struct msig_ctx *ctx, const char *dir);
/* Loads one external plugin file (needs msig_ctx_enable_plugins first). */
MSIG_API MSIG_WUR int msig_ctx_load_plugin(struct msig_ctx *ctx, const char *path);

struct msig_plugin_info {
    uint32_t struct_size; /* set by the caller to sizeof(struct msig_plugin_info) */
    const char *name;
    const char *version;
    const char *file;           /* "(built-in)" for built-in plugins */
    const char *const *schemes; /* NULL-terminated */
    uint32_t abi_major;
    uint32_t abi_minor;
    const char *const *params; /* parameter names it declares (NULL-terminated, may be
                                      empty: then it takes any name in its namespace) */
    int can_list;              /* it can list keys (msig_key_list) */
};
/* Plugins known to ctx (built-in plus loaded): index 0..count-1. */
MSIG_API size_t msig_ctx_plugin_count(struct msig_ctx *ctx);
MSIG_API MSIG_WUR int msig_ctx_plugin_info(struct msig_ctx *ctx, size_t index,
                                           struct msig_plugin_info *info);

/* Plugin files that the directory scan refused (wrong ABI, unsafe permissions, ...), with
 * the reason, for messages: index 0..count-1. Strings live as long as ctx. */
MSIG_API size_t msig_ctx_refused_count(struct msig_ctx *ctx);
MSIG_API MSIG_WUR int msig_ctx_refused_info(struct msig_ctx *ctx, size_t index, const char **file,
                                            const char **why);
/* Checks a parameter name against the loaded plugins: 0 when a plugin owns its namespace
 * ("NAME." or "SCHEME.") and, if that plugin declares its parameter names, declares it;
 * else MSIG_E_NOT_FOUND with a message that lists the valid names. */
MSIG_API MSIG_WUR int msig_ctx_check_param(struct msig_ctx *ctx, const char *name);

/* ---------------------------------------------------------------- keys */

struct msig_key;     /* a signing key held by a plugin */
struct msig_pubkeys; /* an ordered set of verification keys */

/* Opens a signing key from a "scheme:rest" spec ("file:/path.pem", "pkcs11:...");
 * a spec without a known scheme is taken as a file path. */
MSIG_API MSIG_WUR int msig_key_open(struct msig_ctx *ctx, const char *spec, uint32_t flags,
                                    struct msig_key **key);
MSIG_API void msig_key_close(struct msig_key *key);
/* Key type (MSIG_KEY_*) and size in bits. */
MSIG_API MSIG_WUR int msig_key_describe(struct msig_key *key, uint32_t *key_type, uint32_t *bits);
/* The key's public half as DER SubjectPublicKeyInfo (the key the core checked: RSA >= 2048
 * bits or EC P-256). buf may be NULL to learn the size in *len; too small a cap gives
 * MSIG_E_BUFFER_TOO_SMALL with the size needed in *len. */
MSIG_API MSIG_WUR int msig_key_public_der(struct msig_key *key, uint8_t *buf, size_t cap,
                                          size_t *len);

/* Signature forms for msig_key_sign_digest */
#define MSIG_SIGOUT_RAW 0u /* RSA: the signature; ECDSA: 64 bytes r||s (Mender's form) */
#define MSIG_SIGOUT_DER 1u /* RSA: the signature; ECDSA: DER ECDSA-Sig-Value (OpenSSL's) */
/* Signs a SHA-256 digest with the key, through the same path as artifact signing (the
 * plugin signs, the core converts and verifies the result with the public key). scheme is
 * MSIG_SIG_RSA_PKCS1_SHA256 or MSIG_SIG_ECDSA_SHA256 and must fit the key; digest_len is 32.
 * A cap too small gives MSIG_E_BUFFER_TOO_SMALL with the size needed in *sig_len (at most
 * 72 bytes for ECDSA DER, the modulus size for RSA). */
MSIG_API MSIG_WUR int msig_key_sign_digest(struct msig_key *key, uint32_t scheme,
                                           const uint8_t *digest, size_t digest_len,
                                           uint32_t out_form, uint8_t *sig, size_t cap,
                                           size_t *sig_len);
/* Lists the signing keys a spec matches, through the plugin that serves its scheme (ABI 1.1
 * key_list): cb gets one entry per key. flags: MSIG_KEY_OPEN_F_*. MSIG_E_UNSUPPORTED when
 * the plugin cannot list keys. */
MSIG_API MSIG_WUR int msig_key_list(struct msig_ctx *ctx, const char *spec, uint32_t flags,
                                    msig_key_list_fn *cb, void *user);

MSIG_API MSIG_WUR int msig_pubkeys_new(struct msig_ctx *ctx, struct msig_pubkeys **keys);
MSIG_API void msig_pubkeys_free(struct msig_pubkeys *keys);
/* Adds a public key: SubjectPublicKeyInfo PEM or DER, or PKCS#1 RSA public key. */
MSIG_API MSIG_WUR int msig_pubkeys_add_file(struct msig_pubkeys *keys, const char *path);
MSIG_API MSIG_WUR int msig_pubkeys_add_mem(struct msig_pubkeys *keys, const void *buf, size_t len,
                                           const char *label);
/* Adds the public half of a signing key (PKCS#11 token, KMS) as verifier. */
MSIG_API MSIG_WUR int msig_pubkeys_add_key(struct msig_pubkeys *keys, struct msig_key *key);
MSIG_API size_t msig_pubkeys_count(const struct msig_pubkeys *keys);

/* ---------------------------------------------------------------- writing */

#define MSIG_PAYLOAD_ROOTFS 1    /* write rootfs-image */
#define MSIG_PAYLOAD_MODULE 2    /* write module-image */
#define MSIG_PAYLOAD_BOOTSTRAP 3 /* write bootstrap-artifact (empty payload) */

#define MSIG_COMPRESS_NONE 0
#define MSIG_COMPRESS_GZIP 1
#define MSIG_COMPRESS_LZMA 2 /* .xz */
#define MSIG_COMPRESS_ZSTD_FASTEST 3
#define MSIG_COMPRESS_ZSTD_FAST 4
#define MSIG_COMPRESS_ZSTD_BETTER 5
#define MSIG_COMPRESS_ZSTD_BEST 6

/* Parses a mender-artifact compression id ("none", "gzip", "lzma", "zstd_fast", ...). */
MSIG_API MSIG_WUR int msig_compression_from_name(const char *name, int *compression);
/* The compression (MSIG_COMPRESS_*) an existing artifact file uses, from the names of its
 * outer tar entries (header.tar.gz, data/0000.tar.xz); nothing is decompressed or checked.
 * zstd streams keep no level: they give MSIG_COMPRESS_ZSTD_FAST. MSIG_E_FORMAT when path is
 * not a tar holding a header.tar entry. */
MSIG_API MSIG_WUR int msig_artifact_probe_compression(struct msig_ctx *ctx, const char *path,
                                                      int *compression);

/* Writer flags (msig_writer_set_flags, OR-ed). */
#define MSIG_WRITE_F_NO_DEFAULT_CLEARS (1u << 0)     /* --no-default-clears-provides */
#define MSIG_WRITE_F_NO_DEFAULT_SW_VERSION (1u << 1) /* --no-default-software-version */
#define MSIG_WRITE_F_NO_CHECKSUM_PROVIDE (1u << 2)   /* --no-checksum-provide */
#define MSIG_WRITE_F_LEGACY_CHECKSUM (1u << 3)       /* --legacy-rootfs-image-checksum */
#define MSIG_WRITE_F_SOFTWARE_WINS (1u << 4)         /* --software-* overrides a -p of the key */
#define MSIG_WRITE_F_FORCE_OVERWRITE (1u << 5)       /* reserved */

struct msig_writer;

MSIG_API MSIG_WUR int msig_writer_new(struct msig_ctx *ctx, int payload_kind,
                                      struct msig_writer **w);
MSIG_API void msig_writer_free(struct msig_writer *w);

MSIG_API MSIG_WUR int msig_writer_set_name(struct msig_writer *w, const char *artifact_name);
MSIG_API MSIG_WUR int msig_writer_add_device_type(struct msig_writer *w, const char *dev);
MSIG_API MSIG_WUR int msig_writer_set_payload_type(struct msig_writer *w, const char *type);
/* Payload file (path on disk); its basename is its name in the artifact. */
MSIG_API MSIG_WUR int msig_writer_add_file(struct msig_writer *w, const char *path);
/* State script file, or a directory whose files are all added. */
MSIG_API MSIG_WUR int msig_writer_add_script(struct msig_writer *w, const char *path);
MSIG_API MSIG_WUR int msig_writer_add_provide(struct msig_writer *w, const char *key,
                                              const char *value);
/* A provide that applies only where no other provide sets the key (neither the
 * application's nor the software version or checksum msig adds): what a device reports it
 * has, for an artifact made from its snapshot. */
MSIG_API MSIG_WUR int msig_writer_add_default_provide(struct msig_writer *w, const char *key,
                                                      const char *value);
MSIG_API MSIG_WUR int msig_writer_add_depend(struct msig_writer *w, const char *key,
                                             const char *value);
MSIG_API MSIG_WUR int msig_writer_add_clears_provides(struct msig_writer *w, const char *pat);
MSIG_API MSIG_WUR int msig_writer_add_depends_artifact_name(struct msig_writer *w,
                                                            const char *name);
MSIG_API MSIG_WUR int msig_writer_set_provides_group(struct msig_writer *w, const char *g);
MSIG_API MSIG_WUR int msig_writer_add_depends_group(struct msig_writer *w, const char *g);
/* Meta-data: a file holding one JSON object. */
MSIG_API MSIG_WUR int msig_writer_set_meta_data_file(struct msig_writer *w, const char *path);
MSIG_API MSIG_WUR int msig_writer_set_software(struct msig_writer *w, const char *name,
                                               const char *version, const char *filesystem);
MSIG_API MSIG_WUR int msig_writer_set_compression(struct msig_writer *w, int compression);
/* Format version 3 (default) or 2 (rootfs-image only). */
MSIG_API MSIG_WUR int msig_writer_set_format_version(struct msig_writer *w, int version);
MSIG_API void msig_writer_set_flags(struct msig_writer *w, uint32_t flags);
/* Output is refused (and removed) above max bytes; a warning is logged above warn bytes.
 * 0 disables the check. */
MSIG_API void msig_writer_set_size_limits(struct msig_writer *w, uint64_t max, uint64_t warn);
/* Augmented section (module-image only). */
MSIG_API MSIG_WUR int msig_writer_set_augment_type(struct msig_writer *w, const char *type);
MSIG_API MSIG_WUR int msig_writer_add_augment_file(struct msig_writer *w, const char *path);
MSIG_API MSIG_WUR int msig_writer_add_augment_provide(struct msig_writer *w, const char *key,
                                                      const char *value);
MSIG_API MSIG_WUR int msig_writer_add_augment_depend(struct msig_writer *w, const char *key,
                                                     const char *value);
MSIG_API MSIG_WUR int msig_writer_set_augment_meta_data_file(struct msig_writer *w,
                                                             const char *path);
/* Signs while writing. The key stays owned by the caller and must outlive the write. */
MSIG_API MSIG_WUR int msig_writer_set_key(struct msig_writer *w, struct msig_key *key);

/* Writes the artifact to path ("-" = standard output). The file is written under a
 * temporary name in the same directory and renamed at the end: on failure nothing is left.
 * With SOURCE_DATE_EPOCH in the environment the output is reproducible. */
MSIG_API MSIG_WUR int msig_writer_write(struct msig_writer *w, const char *path);

/* ---------------------------------------------------------------- reading */

typedef long long msig_ssize;
/* Reads up to len bytes; returns the count, 0 at end, or -1 on error (errno set). */
typedef msig_ssize msig_read_fn(void *user, void *buf, size_t len);
/* Writes all len bytes; returns 0 or -1 (errno set). */
typedef int msig_write_fn(void *user, const void *buf, size_t len);

#define MSIG_FILE_PAYLOAD 1 /* a file of data/NNNN.tar */
#define MSIG_FILE_SCRIPT 2  /* a state script from the header */

struct msig_file_event {
    uint32_t struct_size;
    uint32_t kind;    /* MSIG_FILE_* */
    uint32_t payload; /* payload index for MSIG_FILE_PAYLOAD */
    uint32_t mode;
    const char *name; /* basename */
    uint64_t size;
    int64_t mtime;
};
/* Called for each file: begin (data NULL, len 0, once), data chunks, then end
 * (data NULL, len 0, last != 0). A non-zero return aborts reading with that code. */
typedef int msig_file_fn(void *user, const struct msig_file_event *ev, const void *data, size_t len,
                         int last);

struct msig_reader;
struct msig_artifact;

MSIG_API MSIG_WUR int msig_reader_new(struct msig_ctx *ctx, struct msig_reader **r);
MSIG_API void msig_reader_free(struct msig_reader *r);
/* Verification keys (borrowed; must outlive the read). NULL or an empty set = no key. */
MSIG_API void msig_reader_set_pubkeys(struct msig_reader *r, const struct msig_pubkeys *keys);
/* Reader flags (msig_reader_set_flags). */
/* With verification keys set, refuse an artifact that has augmented parts (manifest-augment,
 * header-augment): they are not covered by the signature. Without keys it changes nothing. */
#define MSIG_READ_F_NO_AUGMENT (1u << 0)
MSIG_API void msig_reader_set_flags(struct msig_reader *r, uint32_t flags);
/* Receives payload files and scripts while they are read and checked. A file's checksum is
 * only known good when its end event arrives. The handler (like the progress callback) is
 * called from the thread that called msig_reader_read_*, in stream order, whatever
 * msig_ctx_threads says. */
MSIG_API void msig_reader_set_file_handler(struct msig_reader *r, msig_file_fn *fn, void *user);

/* Reads and checks a whole artifact: structure, every checksum, and the signature when
 * keys are set. Returns 0 when the artifact is well-formed and all checksums match;
 * otherwise a negative code, with *art still set (when the header could be parsed) so that
 * what was read can be shown. The signature verdict is separate: see
 * msig_artifact_signature() and msig_artifact_verdict(). name is used in messages. */
MSIG_API MSIG_WUR int msig_reader_read_path(struct msig_reader *r, const char *path,
                                            struct msig_artifact **art);
MSIG_API MSIG_WUR int msig_reader_read_fd(struct msig_reader *r, int fd, const char *name,
                                          struct msig_artifact **art);
/* With msig_ctx_threads > 1 the reader decompresses on a worker thread, and fn is then called
 * from that thread (never from two threads at once). read_fd reads a regular file ahead of
 * use on a worker thread; other descriptors are read as they are needed. Results, messages
 * and callbacks are the same for every thread count. */
MSIG_API MSIG_WUR int msig_reader_read_cb(struct msig_reader *r, msig_read_fn *fn, void *user,
                                          const char *name, struct msig_artifact **art);

/* One-call check for update agents: reads and checks the artifact and applies the full
 * verdict (structure and checksums, then signature, then "missing signature" when keys are
 * given and the artifact is unsigned, then "missing verifier" when it is signed and no key
 * is given). Returns 0 only if the artifact may be installed. */
MSIG_API MSIG_WUR int msig_artifact_verify_fd(struct msig_ctx *ctx, int fd, const char *name,
                                              const struct msig_pubkeys *keys,
                                              struct msig_artifact **art);

MSIG_API void msig_artifact_free(struct msig_artifact *art);

/* Signature states */
#define MSIG_SIGNATURE_NONE 0      /* no manifest.sig */
#define MSIG_SIGNATURE_UNCHECKED 1 /* signed, no key given */
#define MSIG_SIGNATURE_VERIFIED 2  /* signed and verified by one of the keys */
#define MSIG_SIGNATURE_FAILED 3    /* signed, no key verified it */

/* Applies the verdict precedence to a read result: rc from the reader, then the signature,
 * then missing signature/verifier. Returns 0 or a code; sets the context error text. */
MSIG_API MSIG_WUR int msig_artifact_verdict(struct msig_ctx *ctx, int read_rc,
                                            const struct msig_artifact *art, int have_keys);

MSIG_API int msig_artifact_format_version(const struct msig_artifact *art);
MSIG_API const char *msig_artifact_format(const struct msig_artifact *art);
MSIG_API const char *msig_artifact_name(const struct msig_artifact *art);
MSIG_API int msig_artifact_signature(const struct msig_artifact *art);
/* Why verification failed (MSIG_SIGNATURE_FAILED), else "". */
MSIG_API const char *msig_artifact_signature_error(const struct msig_artifact *art);
/* Index of the key that verified (MSIG_SIGNATURE_VERIFIED), else -1. */
MSIG_API int msig_artifact_signature_key(const struct msig_artifact *art);
/* NULL-terminated string lists. */
MSIG_API const char *const *msig_artifact_devices(const struct msig_artifact *art);
MSIG_API const char *msig_artifact_provides_group(const struct msig_artifact *art); /* or NULL */
MSIG_API const char *const *msig_artifact_depends_names(const struct msig_artifact *art);
MSIG_API const char *const *msig_artifact_depends_groups(const struct msig_artifact *art);
MSIG_API const char *const *msig_artifact_scripts(const struct msig_artifact *art);
MSIG_API int msig_artifact_augmented(const struct msig_artifact *art);

MSIG_API size_t msig_artifact_payload_count(const struct msig_artifact *art);
/* Payload type (the augmented type when the payload is augmented); NULL for an empty
 * (bootstrap) payload. */
MSIG_API const char *msig_artifact_payload_type(const struct msig_artifact *art, size_t p);
/* Key/value lists, merged with the augmented section. NULL-terminated arrays of
 * alternating key, value: { k0, v0, k1, v1, ..., NULL }. Depends values that are lists
 * come as compact JSON text ("[\"a\",\"b\"]"). */
MSIG_API const char *const *msig_artifact_payload_provides(const struct msig_artifact *art,
                                                           size_t p);
MSIG_API const char *const *msig_artifact_payload_depends(const struct msig_artifact *art,
                                                          size_t p);
MSIG_API const char *const *msig_artifact_payload_clears(const struct msig_artifact *art, size_t p);
/* Meta-data as compact JSON object text, or NULL when there is none. */
MSIG_API const char *msig_artifact_payload_meta_data(const struct msig_artifact *art, size_t p);

struct msig_file_info {
    const char *name;
    uint64_t size;
    int64_t mtime; /* inner tar mtime, seconds since the epoch */
    uint32_t mode;
    const char *checksum; /* 64 lowercase hex digits */
    int augmented;        /* listed in manifest-augment */
};
MSIG_API size_t msig_artifact_payload_file_count(const struct msig_artifact *art, size_t p);
MSIG_API const struct msig_file_info *msig_artifact_payload_file(const struct msig_artifact *art,
                                                                 size_t p, size_t i);
/* The whole header as one JSON document (what `msig read --json` prints). The caller
 * frees *json with msig_string_free(). */
MSIG_API MSIG_WUR int msig_artifact_to_json(const struct msig_artifact *art, char **json);
MSIG_API void msig_string_free(char *s);

/* ---------------------------------------------------------------- signing */

#define MSIG_SIGN_F_FORCE (1u << 0) /* replace an existing manifest.sig */

/* Signs an existing artifact without decompressing anything: copies the outer tar and
 * inserts manifest.sig after manifest. in_path and out_path may be the same (default);
 * the output is written to a temporary file in the target directory and renamed; the mode
 * of the input is kept. On failure the input is untouched and no output remains. */
MSIG_API MSIG_WUR int msig_artifact_sign_file(struct msig_ctx *ctx, struct msig_key *key,
                                              const char *in_path, const char *out_path,
                                              uint32_t flags);
/* The same, streaming from a read callback to a write callback. */
MSIG_API MSIG_WUR int msig_artifact_sign_stream(struct msig_ctx *ctx, struct msig_key *key,
                                                msig_read_fn *rd, void *rd_user, msig_write_fn *wr,
                                                void *wr_user, uint32_t flags);

#ifdef __cplusplus
}
#endif
#endif /* MSIG_H */
