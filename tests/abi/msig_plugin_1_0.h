/* msig_plugin_1_0.h -- FROZEN copy of include/msig/msig_plugin.h as of ABI 1.0. Never edit:
 * tests/abi/test_abi_layout.c checks that the current header keeps this layout and values. */
#ifndef MSIG_PLUGIN_1_0_H
#define MSIG_PLUGIN_1_0_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MSIG_PLUGIN_ABI_MAJOR 1
#define MSIG_PLUGIN_ABI_MINOR 0
#define MSIG_PLUGIN_ENTRY_SYMBOL "msig_plugin_entry_v1"

#if defined(_WIN32)
#  define MSIG_PLUGIN_EXPORT __declspec(dllexport)
#else
#  define MSIG_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Results: 0 or negative. Append-only; values never change. */
enum {
    MSIG_OK                 =   0,
    MSIG_E_FAILED           =  -1,  /* anything not listed below */
    MSIG_E_NOMEM            =  -2,
    MSIG_E_INVALID          =  -3,  /* bad argument or malformed key spec */
    MSIG_E_UNSUPPORTED      =  -4,  /* scheme, flag or operation */
    MSIG_E_NOT_FOUND        =  -5,  /* key, token or parameter */
    MSIG_E_BUFFER_TOO_SMALL =  -6,  /* *len holds the size needed */
    MSIG_E_PIN_REQUIRED     =  -7,  /* no PIN and prompting not allowed */
    MSIG_E_PIN_INCORRECT    =  -8,
    MSIG_E_PIN_LOCKED       =  -9,
    MSIG_E_CANCELLED        = -10,  /* user declined */
    MSIG_E_DEVICE           = -11,  /* token or TPM missing or failing */
    MSIG_E_AUTH             = -12,  /* remote credentials missing/refused */
    MSIG_E_UNAVAILABLE      = -13,  /* service unreachable; retry may work */
    MSIG_E_ABI              = -14,  /* version or layout mismatch */
    /* Codes below are returned by the core API. Of these, plugins may return only
     * MSIG_E_IO (key file unreadable) and MSIG_E_KEY (key type, size or form refused). */
    MSIG_E_IO               = -15,  /* reading or writing a file or stream failed */
    MSIG_E_FORMAT           = -16,  /* malformed or inconsistent artifact */
    MSIG_E_CHECKSUM         = -17,  /* a checksum does not match the manifest */
    MSIG_E_SIGNATURE        = -18,  /* signature present but not verified by any key */
    MSIG_E_NO_SIGNATURE     = -19,  /* keys given, artifact unsigned ("missing signature") */
    MSIG_E_NO_VERIFIER      = -20,  /* signed, no key given ("missing verifier") */
    MSIG_E_LIMIT            = -21,  /* a size or count limit was exceeded */
    MSIG_E_VERSION          = -22,  /* unsupported artifact format version */
    MSIG_E_EXISTS           = -23,  /* already signed, or the target exists */
    MSIG_E_KEY              = -24   /* key unusable: type, size or form refused */
};

enum { MSIG_LOG_ERROR = 0, MSIG_LOG_WARN, MSIG_LOG_INFO, MSIG_LOG_DEBUG };

#define MSIG_KEY_RSA      1u
#define MSIG_KEY_EC_P256  2u
#define MSIG_KEY_EC_P384  3u
#define MSIG_KEY_ED25519  4u

#define MSIG_SIG_RSA_PKCS1_SHA256  (1u << 0)   /* what mender-artifact writes */
#define MSIG_SIG_RSA_PSS_SHA256    (1u << 1)
#define MSIG_SIG_ECDSA_SHA256      (1u << 2)   /* core stores r||s */
#define MSIG_SIG_ED25519           (1u << 3)

#define MSIG_SIGFMT_NATIVE     0u   /* RSA or Ed25519 bytes as-is */
#define MSIG_SIGFMT_ECDSA_DER  1u
#define MSIG_SIGFMT_ECDSA_RAW  2u   /* r||s, each padded to field size */

/* Does a size-prefixed struct, as sized by whoever filled it, hold FIELD? */
#define MSIG_HAS_FIELD(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

struct msig_pin_request {
    uint32_t    struct_size;
    uint32_t    flags;         /* MSIG_PIN_F_* */
    uint32_t    tries_left;    /* 0 when unknown */
    const char *key_spec;
    const char *label;         /* token or key label; may be NULL */
};
#define MSIG_PIN_F_RETRY      (1u << 0)
#define MSIG_PIN_F_FINAL_TRY  (1u << 1)

/* Offered by the core; valid from instance_new() until instance_free(). */
struct msig_host {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    void    *host_data;        /* hand back unchanged */

    void  (*log_msg)(void *host_data, int level, const char *msg);
    void  (*set_error)(void *host_data, int code, const char *msg);
    void *(*mem_alloc)(void *host_data, size_t len);
    void  (*mem_free)(void *host_data, void *ptr, size_t len); /* wipes */
    int   (*get_param)(void *host_data, const char *key, const char **value);
    int   (*get_pin)(void *host_data, const struct msig_pin_request *req,
                     char *pin, size_t pin_cap, size_t *pin_len);
    /* 1.1+ services are appended here. */
};

/* Filled by key_info(). key_type, bits and sig_schemes may be left 0 ("unknown"): the core
 * derives type and size from the public key and refuses a key_info that contradicts it. */
struct msig_key_info {
    uint32_t struct_size;      /* set by the core */
    uint32_t key_type;         /* MSIG_KEY_* */
    uint32_t bits;
    uint32_t sig_schemes;      /* MSIG_SIG_* this key can produce */
    uint32_t flags;            /* MSIG_KEYINFO_F_* */
    size_t   max_sig_len;
    size_t   pub_der_len;      /* SubjectPublicKeyInfo, DER */
};
#define MSIG_KEYINFO_F_HARDWARE  (1u << 0)   /* key cannot leave the device */
#define MSIG_KEYINFO_F_REMOTE    (1u << 1)   /* each signature is a network call */
/* The key wants the whole message: the core calls sign_message (when the plugin has one)
 * instead of sign_digest. For tokens that only offer combined hash-and-sign mechanisms. */
#define MSIG_KEYINFO_F_PREFER_MESSAGE (1u << 2)

#define MSIG_KEY_OPEN_F_NO_PROMPT  (1u << 0) /* batch mode: never get_pin */

#define MSIG_PLUGIN_F_THREADSAFE   (1u << 0) /* distinct keys may run in parallel */
#define MSIG_PLUGIN_F_NO_UNLOAD    (1u << 1) /* core must not dlclose */

struct msig_plugin {
    uint32_t           struct_size;   /* sizeof at plugin build time */
    uint16_t           abi_major;
    uint16_t           abi_minor;
    const char        *name;          /* unique, [a-z0-9-]+ */
    const char        *version;
    const char *const *schemes;       /* NULL-terminated, e.g. "pkcs11" */
    uint64_t           flags;         /* MSIG_PLUGIN_F_* */

    int  (*instance_new)(const struct msig_host *host, void **inst);
    void (*instance_free)(void *inst);

    int  (*key_open)(void *inst, const char *spec, uint32_t flags, void **key);
    void (*key_close)(void *key);
    int  (*key_info)(void *key, struct msig_key_info *info);
    int  (*key_public_der)(void *key, uint8_t *buf, size_t cap, size_t *len);
    int  (*sign_digest)(void *key, uint32_t scheme,
                        const uint8_t *digest, size_t digest_len,
                        uint8_t *sig, size_t cap, size_t *sig_len,
                        uint32_t *sig_fmt);
    /* Optional (NULL): schemes that sign the message itself. */
    int  (*sign_message)(void *key, uint32_t scheme,
                         const uint8_t *msg, size_t msg_len,
                         uint8_t *sig, size_t cap, size_t *sig_len,
                         uint32_t *sig_fmt);
    /* 1.1+ ops are appended here; the core checks struct_size first. */
};

#define MSIG_PLUGIN_SIZE_1_0 \
    (offsetof(struct msig_plugin, sign_message) + sizeof(void (*)(void)))

typedef const struct msig_plugin *msig_plugin_entry_fn(void);

/* One source file, two link modes:
 *   module:   exports msig_plugin_entry_v1
 *   built-in: defines msig_plugin_<id>_entry_v1 for the core's static table */
#ifdef MSIG_PLUGIN_BUILTIN
#  define MSIG_PLUGIN_DEFINE(id, desc)                                   \
     const struct msig_plugin *msig_plugin_##id##_entry_v1(void);        \
     const struct msig_plugin *msig_plugin_##id##_entry_v1(void)         \
     { return &(desc); }
#else
#  define MSIG_PLUGIN_DEFINE(id, desc)                                   \
     MSIG_PLUGIN_EXPORT const struct msig_plugin *msig_plugin_entry_v1(void); \
     MSIG_PLUGIN_EXPORT const struct msig_plugin *msig_plugin_entry_v1(void)  \
     { return &(desc); }
#endif

#ifdef __cplusplus
}
#endif
#endif /* MSIG_PLUGIN_1_0_H */
