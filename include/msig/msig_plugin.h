/* msig_plugin.h -- signer plugin ABI, version 1.1.
 *
 * The only header a plugin author needs (it includes msig_types.h for the shared codes and
 * identifiers). Uses only <stdint.h>/<stddef.h> types. Build a plugin with one line:
 *     cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags msig-plugin) my.c -o my.so
 * and install it into `pkg-config --variable=pluginsdir msig`.
 *
 * THE CONTRACT, in the order a plugin meets it:
 *
 * Loading. The host loads every "*.so" file of the plugins directory (other names are
 * ignored; group- or world-writable files and directories are refused), then the files given
 * explicitly. It calls msig_plugin_entry_v1(), which must have no side effects and return a
 * static descriptor. It checks abi_major == 1, struct_size >= MSIG_PLUGIN_SIZE_1_0, the name
 * and schemes, and the required operations, before anything else of the plugin runs.
 * A file that is loaded twice (found by the scan and given explicitly) is loaded once.
 *
 * Names and schemes: [a-z0-9-]+, 1 to 64 characters; a scheme is written without its colon
 * ("vendorhsm" serves "vendorhsm:..." specs). Two plugins may not share a name or a scheme.
 *
 * Versions. A plugin built against a newer 1.x header loads on an older 1.x host: the host
 * copies only the part of the descriptor it knows, so operations appended after its minor
 * are simply not called. The plugin sees which host services exist through
 * host->struct_size (test with MSIG_HAS_FIELD before calling a service newer than 1.0) and
 * which minor the host speaks through host->abi_minor; it may refuse in instance_new with
 * MSIG_E_ABI and a set_error message. The host never passes flag bits newer than the
 * plugin's abi_minor.
 *
 * Instances. A loaded file has one instance in the process, shared by every msig context
 * that uses it and reference-counted: instance_new runs lazily, once, at the first key_open
 * or key_list of any context; instance_free runs when the last context that used the plugin
 * is freed and no key of it is open (at process exit otherwise, never if
 * MSIG_PLUGIN_F_NO_UNLOAD asks that the file stay loaded). Read per-key settings in
 * key_open, not in instance_new: parameters belong to the context that makes the call.
 *
 * Threads. Without MSIG_PLUGIN_F_THREADSAFE the host holds one lock per instance around
 * every call into the plugin (instance_new and instance_free included), so the plugin is
 * never entered twice at once, even from several contexts in several threads. With the
 * flag, calls on different key handles may run concurrently (never two on one handle); the
 * plugin protects its instance state itself. The core itself signs one key at a time; an
 * application with several contexts in several threads may run them in parallel.
 * Host services: log_msg, mem_alloc and mem_free may be called from any thread at any time
 * while the instance lives. set_error, get_param and get_pin may be called only on the
 * thread of a host call into the plugin, during that call (they act for the context that
 * made it). A plugin may run threads of its own; from them it calls only log_msg.
 * After fork() a child must not use handles opened in the parent; the host opens keys
 * anew in the child.
 *
 * Errors. Every operation returns 0 or a negative MSIG_E_* code (see msig_types.h for which
 * code fits which situation and which a plugin may return). The return value decides; the
 * code given to set_error is only informative. The message given to set_error is copied at
 * once (up to 1023 bytes; control characters are escaped before the user sees them); the
 * last one set during a call wins. The host prefixes it with what it was doing and who was
 * asked: "key SPEC (plugin NAME): MESSAGE", so a message must not repeat the plugin's name
 * or the spec. A plugin that returns an error without set_error gets the generic text of
 * the code ("key SPEC (plugin NAME): key not found").
 *
 * Secrets. PINs, passphrases and tokens are never logged, never put in a message, and
 * wiped (a volatile-safe wipe, e.g. explicit_bzero) on every path once used.
 */
#ifndef MSIG_PLUGIN_H
#define MSIG_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig_types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MSIG_PLUGIN_ABI_MAJOR 1
#define MSIG_PLUGIN_ABI_MINOR 1
#define MSIG_PLUGIN_ENTRY_SYMBOL "msig_plugin_entry_v1"

#if defined(_WIN32)
#define MSIG_PLUGIN_EXPORT __declspec(dllexport)
#else
#define MSIG_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Does a size-prefixed struct, as sized by whoever filled it, hold FIELD? */
#define MSIG_HAS_FIELD(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* Limits the host enforces (bytes). A larger signature or public key is refused. */
#define MSIG_HOST_SIG_MAX 16384u     /* signature buffer, and max_sig_len */
#define MSIG_HOST_PUB_DER_MAX 65536u /* SubjectPublicKeyInfo, and pub_der_len */
#define MSIG_HOST_PIN_MAX 256u       /* PIN buffer the host's prompt fills, NUL included */

/* Offered by the core; valid from instance_new() until instance_free().
 * Every service takes host->host_data as its first argument. */
struct msig_host {
    uint32_t struct_size; /* sizeof at host build time: check with MSIG_HAS_FIELD */
    uint16_t abi_major;
    uint16_t abi_minor; /* the minor the host speaks */
    void *host_data;    /* hand back unchanged */

    /* A finished line without newline; no format string crosses the boundary. Lines of
     * level INFO and DEBUG reach the user only when asked for (MSIG_LOG_LEVEL=debug in the
     * CLI); control characters are escaped. Any thread. */
    void (*log_msg)(void *host_data, int level, const char *msg);
    /* Detail for the error the current call is about to return; see "Errors" above. */
    void (*set_error)(void *host_data, int code, const char *msg);
    /* Memory counted and failure-injected by the host. mem_alloc returns uninitialised
     * memory (NULL on failure or len 0); mem_free wipes len bytes, then frees;
     * mem_free(h, NULL, 0) does nothing. Any thread. */
    void *(*mem_alloc)(void *host_data, size_t len);
    void (*mem_free)(void *host_data, void *ptr, size_t len);
    /* A parameter by full name, namespace included ("vendorhsm.slot"). A plugin sees only
     * its own namespace: the plugin's name, or one of its schemes, then a dot; any other
     * name gives MSIG_E_NOT_FOUND. Returns 0 and sets *value (a NUL-terminated string owned
     * by the host, valid until instance_free), MSIG_E_NOT_FOUND when unset (*value = NULL),
     * MSIG_E_INVALID for a NULL argument. The user sets parameters with
     * "msig --plugin-param NAME=VALUE"; names a plugin lists in params (1.1) are checked
     * there, so list every name you read. */
    int (*get_param)(void *host_data, const char *key, const char **value);
    /* Asks the host for a PIN, in this order: the host's generic sources (the CLI's
     * --passphrase-file, then MSIG_KEY_PASSPHRASE), then a prompt on the terminal, which
     * shows req->label (or key_spec), tries_left when non-zero, and a warning for
     * MSIG_PIN_F_FINAL_TRY. Plugin-specific sources (a pin-value in a URI, a parameter)
     * come before this call and are the plugin's business. Writes at most pin_cap - 1 bytes
     * and a NUL into pin (never NULL when pin_cap > 0), sets *pin_len (NUL excluded), and
     * returns 0; or MSIG_E_PIN_REQUIRED when there is no source and no prompt is possible
     * (no terminal, or the key was opened with MSIG_KEY_OPEN_F_NO_PROMPT), MSIG_E_CANCELLED
     * when the user declined. The plugin owns pin and wipes it after use. The host never
     * asks again by itself: after MSIG_E_PIN_INCORRECT the plugin returns the error. */
    int (*get_pin)(void *host_data, const struct msig_pin_request *req, char *pin, size_t pin_cap,
                   size_t *pin_len);
    /* 1.2+ services are appended here. */
};

/* Filled by key_info(). key_type, bits and sig_schemes may be left 0 ("unknown"): the core
 * derives type and size from the public key and refuses a key_info that contradicts it. */
struct msig_key_info {
    uint32_t struct_size; /* set by the core; fill only what it covers */
    uint32_t key_type;    /* MSIG_KEY_* */
    uint32_t bits;
    uint32_t sig_schemes; /* MSIG_SIG_* this key can produce */
    uint32_t flags;       /* MSIG_KEYINFO_F_* */
    size_t max_sig_len;   /* 0: the host's default (the RSA modulus size, 72 for ECDSA
                                  P-256); at most MSIG_HOST_SIG_MAX */
    size_t pub_der_len;   /* 0: the host starts with 16384; at most
                                  MSIG_HOST_PUB_DER_MAX */
};
/* flags: MSIG_KEYINFO_F_* (msig_types.h) */

#define MSIG_PLUGIN_F_THREADSAFE (1u << 0) /* distinct keys may run in parallel */
#define MSIG_PLUGIN_F_NO_UNLOAD (1u << 1)  /* core must not dlclose */

struct msig_plugin {
    uint32_t struct_size;       /* sizeof at plugin build time */
    uint16_t abi_major;         /* MSIG_PLUGIN_ABI_MAJOR */
    uint16_t abi_minor;         /* MSIG_PLUGIN_ABI_MINOR at build time */
    const char *name;           /* unique, [a-z0-9-]+ */
    const char *version;        /* free text, shown by "msig plugins" */
    const char *const *schemes; /* NULL-terminated, without colon, e.g. "pkcs11" */
    uint64_t flags;             /* MSIG_PLUGIN_F_* */

    /* Creates the instance (see "Instances"). host stays valid until instance_free. */
    int (*instance_new)(const struct msig_host *host, void **inst);
    void (*instance_free)(void *inst);

    /* Opens a key. spec is the whole spec, scheme included ("vendorhsm:/k.pem"); a bare
     * path given to the CLI reaches the file plugin as "file:PATH". flags: MSIG_KEY_OPEN_F_*;
     * with MSIG_KEY_OPEN_F_NO_PROMPT the host's get_pin never prompts (it still answers
     * from its non-interactive sources). Unknown flag bits: MSIG_E_UNSUPPORTED. On success
     * *key is non-NULL. */
    int (*key_open)(void *inst, const char *spec, uint32_t flags, void **key);
    /* Cannot fail; the handle is not used again. */
    void (*key_close)(void *key);
    /* The capability query; see struct msig_key_info. */
    int (*key_info)(void *key, struct msig_key_info *info);
    /* The public key as DER SubjectPublicKeyInfo. cap is pub_der_len from key_info (16384
     * when 0). buf is never NULL; *len is cap on entry. Too small: return
     * MSIG_E_BUFFER_TOO_SMALL with the size needed in *len (the host retries once). The core
     * believes this key, not key_info: it refuses RSA below 2048 bits and any curve but
     * P-256, and checks every signature against it. */
    int (*key_public_der)(void *key, uint8_t *buf, size_t cap, size_t *len);
    /* Signs a digest. scheme: one MSIG_SIG_* bit (MSIG_SIG_RSA_PKCS1_SHA256 or
     * MSIG_SIG_ECDSA_SHA256); digest: the SHA-256 of the message, digest_len 32 (for RSA
     * the plugin builds the DigestInfo itself, or uses a mechanism that does). sig is never
     * NULL; cap is max_sig_len (or the host's default), at least 72; *sig_len is cap and
     * *sig_fmt is MSIG_SIGFMT_NATIVE on entry. Set *sig_len to the bytes written and
     * *sig_fmt: RSA gives MSIG_SIGFMT_NATIVE; ECDSA gives MSIG_SIGFMT_ECDSA_RAW (r||s,
     * 64 bytes) or MSIG_SIGFMT_ECDSA_DER, which the host converts to the 64-byte r||s that
     * Mender stores (strict DER only). Too small: MSIG_E_BUFFER_TOO_SMALL with *sig_len set
     * to the size needed (one retry). The host verifies every signature with the public key
     * before it uses it. */
    int (*sign_digest)(void *key, uint32_t scheme, const uint8_t *digest, size_t digest_len,
                       uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt);
    /* Optional (NULL): signs the message itself (the host hashes nothing), for keys that
     * set MSIG_KEYINFO_F_PREFER_MESSAGE. Buffers as for sign_digest. */
    int (*sign_message)(void *key, uint32_t scheme, const uint8_t *msg, size_t msg_len,
                        uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt);

    /* ---- ABI 1.1 ---- */

    /* Optional (NULL): lists the signing keys that spec matches ("pkcs11:" alone lists
     * every token's keys), calling cb once per key with a filled struct msig_key_entry
     * (struct_size set to the plugin's sizeof; strings valid during the call only).
     * flags: MSIG_KEY_OPEN_F_*; a listing that needs a login asks get_pin like key_open.
     * Returns 0 (also when nothing matches), an error, or the first non-zero value cb
     * returned. Shown by "msig keys SPEC". */
    int (*key_list)(void *inst, const char *spec, uint32_t flags, msig_key_list_fn *cb,
                    void *cb_data);
    /* Optional (NULL): NULL-terminated list of the full parameter names the plugin reads
     * ("vendorhsm.slot"). When set, the host refuses any other name in the plugin's
     * namespace, with the list in the message. */
    const char *const *params;
    /* 1.2+ members are appended here; the core checks struct_size first. */
};

#define MSIG_PLUGIN_SIZE_1_0 (offsetof(struct msig_plugin, sign_message) + sizeof(void (*)(void)))
#define MSIG_PLUGIN_SIZE_1_1 (offsetof(struct msig_plugin, params) + sizeof(const char *const *))

typedef const struct msig_plugin *msig_plugin_entry_fn(void);

/* One source file, two link modes:
 *   module:   exports msig_plugin_entry_v1
 *   built-in: defines msig_plugin_<id>_entry_v1 for the core's static table */
#ifdef MSIG_PLUGIN_BUILTIN
#define MSIG_PLUGIN_DEFINE(id, desc)                             \
    const struct msig_plugin *msig_plugin_##id##_entry_v1(void); \
    const struct msig_plugin *msig_plugin_##id##_entry_v1(void)  \
    {                                                            \
        return &(desc);                                          \
    }
#else
#define MSIG_PLUGIN_DEFINE(id, desc)                                         \
    MSIG_PLUGIN_EXPORT const struct msig_plugin *msig_plugin_entry_v1(void); \
    MSIG_PLUGIN_EXPORT const struct msig_plugin *msig_plugin_entry_v1(void)  \
    {                                                                        \
        return &(desc);                                                      \
    }
#endif

#ifdef __cplusplus
}
#endif
#endif /* MSIG_PLUGIN_H */
