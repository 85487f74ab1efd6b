/* msig_types.h -- the vocabulary shared by the embedding API (msig.h) and the plugin ABI
 * (msig_plugin.h): result codes, log levels, key and signature identifiers, the PIN request
 * and the key-list entry. Uses only <stdint.h>/<stddef.h> types. Everything here is part of
 * plugin ABI major 1: values never change, structs only grow at the end. */
#ifndef MSIG_TYPES_H
#define MSIG_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results: 0 or negative. Append-only; values never change.
 *
 * A plugin may return the codes from MSIG_E_FAILED to MSIG_E_ABI, plus MSIG_E_IO and
 * MSIG_E_KEY. Any other value (a core-only code such as MSIG_E_CHECKSUM, a positive value,
 * or a code this host does not know) is reported to the user as MSIG_E_FAILED together with
 * the value the plugin returned. Which code for which situation:
 *   MSIG_E_INVALID      the spec or an argument is malformed (bad URI, bad parameter value)
 *   MSIG_E_UNSUPPORTED  a flag, scheme or operation the plugin does not offer
 *   MSIG_E_NOT_FOUND    the key, token, object, file or parameter named does not exist
 *                       (a key file that does not exist: NOT_FOUND; one that exists but
 *                       cannot be read: IO)
 *   MSIG_E_IO           a key file exists but reading it failed (permission, I/O error)
 *   MSIG_E_KEY          the key exists but its type, size or form is refused
 *   MSIG_E_PIN_REQUIRED a PIN is needed and none could be had (no source, no prompt)
 *   MSIG_E_PIN_INCORRECT / MSIG_E_PIN_LOCKED   as the token says; never retried by the host
 *   MSIG_E_CANCELLED    the user declined the prompt
 *   MSIG_E_DEVICE       token, TPM or card missing, removed or failing
 *   MSIG_E_AUTH         remote credentials missing or refused
 *   MSIG_E_UNAVAILABLE  a service is unreachable or overloaded (after the plugin's retries)
 *   MSIG_E_BUFFER_TOO_SMALL  the output buffer is too small; *len holds the size needed
 *   MSIG_E_ABI          a version or layout mismatch (for example a host that is too old)
 *   MSIG_E_NOMEM, MSIG_E_FAILED  out of memory; anything else */
enum {
    MSIG_OK = 0,
    MSIG_E_FAILED = -1, /* anything not listed below */
    MSIG_E_NOMEM = -2,
    MSIG_E_INVALID = -3,          /* bad argument or malformed key spec */
    MSIG_E_UNSUPPORTED = -4,      /* scheme, flag or operation */
    MSIG_E_NOT_FOUND = -5,        /* key, token or parameter */
    MSIG_E_BUFFER_TOO_SMALL = -6, /* *len holds the size needed */
    MSIG_E_PIN_REQUIRED = -7,     /* no PIN and prompting not allowed */
    MSIG_E_PIN_INCORRECT = -8,
    MSIG_E_PIN_LOCKED = -9,
    MSIG_E_CANCELLED = -10,   /* user declined */
    MSIG_E_DEVICE = -11,      /* token or TPM missing or failing */
    MSIG_E_AUTH = -12,        /* remote credentials missing/refused */
    MSIG_E_UNAVAILABLE = -13, /* service unreachable; retry may work */
    MSIG_E_ABI = -14,         /* version or layout mismatch */
    /* Codes below are returned by the core API. Of these, plugins may return only
     * MSIG_E_IO (key file unreadable) and MSIG_E_KEY (key type, size or form refused). */
    MSIG_E_IO = -15,           /* reading or writing a file or stream failed */
    MSIG_E_FORMAT = -16,       /* malformed or inconsistent artifact */
    MSIG_E_CHECKSUM = -17,     /* a checksum does not match the manifest */
    MSIG_E_SIGNATURE = -18,    /* signature present but not verified by any key */
    MSIG_E_NO_SIGNATURE = -19, /* keys given, artifact unsigned ("missing signature") */
    MSIG_E_NO_VERIFIER = -20,  /* signed, no key given ("missing verifier") */
    MSIG_E_LIMIT = -21,        /* a size or count limit was exceeded */
    MSIG_E_VERSION = -22,      /* unsupported artifact format version */
    MSIG_E_EXISTS = -23,       /* already signed, or the target exists */
    MSIG_E_KEY = -24           /* key unusable: type, size or form refused */
};

/* Log levels, most severe first. */
enum { MSIG_LOG_ERROR = 0, MSIG_LOG_WARN, MSIG_LOG_INFO, MSIG_LOG_DEBUG };

/* Key types */
#define MSIG_KEY_RSA 1u
#define MSIG_KEY_EC_P256 2u
#define MSIG_KEY_EC_P384 3u
#define MSIG_KEY_ED25519 4u

/* Signature schemes (a bit set where several are meant) */
#define MSIG_SIG_RSA_PKCS1_SHA256 (1u << 0) /* what mender-artifact writes */
#define MSIG_SIG_RSA_PSS_SHA256 (1u << 1)
#define MSIG_SIG_ECDSA_SHA256 (1u << 2) /* core stores r||s */
#define MSIG_SIG_ED25519 (1u << 3)

/* Signature encodings */
#define MSIG_SIGFMT_NATIVE 0u /* RSA or Ed25519 bytes as-is */
#define MSIG_SIGFMT_ECDSA_DER \
    1u /* ECDSA-Sig-Value, DER (what OpenSSL and PKCS#11 URIs
                                       through engines produce) */
#define MSIG_SIGFMT_ECDSA_RAW \
    2u /* r||s, each left-padded to the field size (64 bytes for
                                       P-256; what Mender stores) */

/* Key-open flags (msig_key_open and the plugin's key_open) */
#define MSIG_KEY_OPEN_F_NO_PROMPT (1u << 0) /* batch mode: no interactive prompt */

#define MSIG_KEYINFO_F_HARDWARE (1u << 0) /* key cannot leave the device */
#define MSIG_KEYINFO_F_REMOTE (1u << 1)   /* each signature is a network call */
/* The key wants the whole message: for artifacts the core calls sign_message (when the
 * plugin has one) instead of sign_digest. For tokens whose best mechanism hashes itself.
 * msig_key_sign_digest has only a digest and still calls sign_digest, which such a plugin
 * may refuse with MSIG_E_UNSUPPORTED. */
#define MSIG_KEYINFO_F_PREFER_MESSAGE (1u << 2)

/* A request for a PIN, passphrase or auth value. The host shows label (or key_spec) and,
 * when set, tries_left and the final-try warning to the user. */
struct msig_pin_request {
    uint32_t struct_size; /* sizeof as known to whoever filled it */
    uint32_t flags;       /* MSIG_PIN_F_* */
    uint32_t tries_left;  /* 0 when unknown */
    const char *key_spec; /* the key concerned, never NULL */
    const char *label;    /* token or key label; may be NULL */
};
#define MSIG_PIN_F_RETRY (1u << 0)     /* an earlier PIN was wrong (a user-driven retry) */
#define MSIG_PIN_F_FINAL_TRY (1u << 1) /* one more wrong PIN locks the token */
#define MSIG_PIN_F_COUNT_LOW (1u << 2) /* the token says wrong PINs were entered (1.1) */
/* Set by the host in the request it hands to the application's PIN callback (msig.h) when
 * the key was opened with MSIG_KEY_OPEN_F_NO_PROMPT: answer from non-interactive sources
 * only, never prompt. Plugins do not set it. (1.1) */
#define MSIG_PIN_F_NO_PROMPT (1u << 3)

/* One key found by a key listing (plugin key_list, msig_key_list). Strings are valid only
 * during the callback that receives the entry; the receiver copies what it keeps. Any
 * string but spec may be NULL. */
struct msig_key_entry {
    uint32_t struct_size; /* sizeof as known to whoever filled it */
    uint32_t key_type;    /* MSIG_KEY_*, 0 when unknown */
    uint32_t bits;        /* 0 when unknown */
    uint32_t flags;       /* MSIG_KEYINFO_F_* of msig_plugin.h */
    const char *spec;     /* a spec that opens exactly this key, scheme included */
    const char *token;    /* token, device or service (token label, vault address) */
    const char *label;    /* object label or key name */
    const char *id;       /* object id in lowercase hex, or a version */
    const char *detail;   /* free text: serial, manufacturer, key state */
};
/* Receives one entry; a non-zero return stops the listing with that code. */
typedef int msig_key_list_fn(void *user, const struct msig_key_entry *entry);

#ifdef __cplusplus
}
#endif
#endif /* MSIG_TYPES_H */
