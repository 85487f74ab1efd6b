/* test_abi_layout.c -- ABI 1.0 layout guard. Built twice: against the frozen copy
 * (tests/abi/msig_plugin_1_0.h) and against the current include/msig/msig_plugin.h. The
 * numbers below are the 1.0 layout; both builds must satisfy them, so any change to the
 * current header that moves a member or renumbers a constant fails to compile. */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#ifdef MSIG_ABI_FROZEN
#include "msig_plugin_1_0.h"
#define WHICH "frozen 1.0 header"
#elif defined(MSIG_ABI_EMBEDDER)
/* An embedder includes msig.h only: it gets the shared vocabulary of msig_types.h, and not
 * the plugin ABI (struct msig_host and friends). */
#include <msig/msig.h>
#ifdef MSIG_PLUGIN_ABI_MAJOR
#error "msig.h must not pull in msig_plugin.h"
#endif
#define WHICH "msig.h (embedder view)"
#else
#include <msig/msig_plugin.h>
#define WHICH "current header"
#endif

#include "tap.h"

#define OFF(t, m, v) _Static_assert(offsetof(struct t, m) == (v), #t "." #m " moved")
#define SIZE(t, v) _Static_assert(sizeof(struct t) >= (v), #t " shrank")
#define P (sizeof(void *))
#define ALIGN_UP(x, a) (((x) + (a)-1) / (a) * (a))

/* msig_pin_request */
OFF(msig_pin_request, struct_size, 0);
OFF(msig_pin_request, flags, 4);
OFF(msig_pin_request, tries_left, 8);
OFF(msig_pin_request, key_spec, ALIGN_UP(12, P));
OFF(msig_pin_request, label, ALIGN_UP(12, P) + P);

#ifndef MSIG_ABI_EMBEDDER
/* msig_host */
OFF(msig_host, struct_size, 0);
OFF(msig_host, abi_major, 4);
OFF(msig_host, abi_minor, 6);
OFF(msig_host, host_data, 8);
OFF(msig_host, log_msg, 8 + P);
OFF(msig_host, set_error, 8 + 2 * P);
OFF(msig_host, mem_alloc, 8 + 3 * P);
OFF(msig_host, mem_free, 8 + 4 * P);
OFF(msig_host, get_param, 8 + 5 * P);
OFF(msig_host, get_pin, 8 + 6 * P);

/* msig_key_info */
OFF(msig_key_info, struct_size, 0);
OFF(msig_key_info, key_type, 4);
OFF(msig_key_info, bits, 8);
OFF(msig_key_info, sig_schemes, 12);
OFF(msig_key_info, flags, 16);
OFF(msig_key_info, max_sig_len, ALIGN_UP(20, P));
OFF(msig_key_info, pub_der_len, ALIGN_UP(20, P) + P);

/* msig_plugin: flags is uint64_t, aligned as the platform aligns it (4 on i386, 8 elsewhere). */
#define PF ALIGN_UP(8 + 3 * P, alignof(uint64_t))
OFF(msig_plugin, struct_size, 0);
OFF(msig_plugin, abi_major, 4);
OFF(msig_plugin, abi_minor, 6);
OFF(msig_plugin, name, 8);
OFF(msig_plugin, version, 8 + P);
OFF(msig_plugin, schemes, 8 + 2 * P);
OFF(msig_plugin, flags, PF);
OFF(msig_plugin, instance_new, ALIGN_UP(PF + 8, P));
OFF(msig_plugin, instance_free, ALIGN_UP(PF + 8, P) + P);
OFF(msig_plugin, key_open, ALIGN_UP(PF + 8, P) + 2 * P);
OFF(msig_plugin, key_close, ALIGN_UP(PF + 8, P) + 3 * P);
OFF(msig_plugin, key_info, ALIGN_UP(PF + 8, P) + 4 * P);
OFF(msig_plugin, key_public_der, ALIGN_UP(PF + 8, P) + 5 * P);
OFF(msig_plugin, sign_digest, ALIGN_UP(PF + 8, P) + 6 * P);
OFF(msig_plugin, sign_message, ALIGN_UP(PF + 8, P) + 7 * P);
_Static_assert(MSIG_PLUGIN_SIZE_1_0 == ALIGN_UP(PF + 8, P) + 8 * P, "MSIG_PLUGIN_SIZE_1_0 changed");
SIZE(msig_plugin, MSIG_PLUGIN_SIZE_1_0);

#endif /* !MSIG_ABI_EMBEDDER */

#if !defined(MSIG_ABI_FROZEN) && !defined(MSIG_ABI_EMBEDDER)
/* 1.1: members appended after sign_message. */
OFF(msig_plugin, key_list, ALIGN_UP(PF + 8, P) + 8 * P);
OFF(msig_plugin, params, ALIGN_UP(PF + 8, P) + 9 * P);
_Static_assert(MSIG_PLUGIN_SIZE_1_1 == ALIGN_UP(PF + 8, P) + 10 * P, "MSIG_PLUGIN_SIZE_1_1");
_Static_assert(MSIG_PLUGIN_ABI_MINOR >= 1, "minor");
#endif
#ifndef MSIG_ABI_FROZEN
/* 1.1: msig_key_entry (msig_types.h) and the new PIN flags. */
OFF(msig_key_entry, struct_size, 0);
OFF(msig_key_entry, key_type, 4);
OFF(msig_key_entry, bits, 8);
OFF(msig_key_entry, flags, 12);
OFF(msig_key_entry, spec, 16);
OFF(msig_key_entry, token, 16 + P);
OFF(msig_key_entry, label, 16 + 2 * P);
OFF(msig_key_entry, id, 16 + 3 * P);
OFF(msig_key_entry, detail, 16 + 4 * P);
_Static_assert(MSIG_PIN_F_COUNT_LOW == 4 && MSIG_PIN_F_NO_PROMPT == 8, "1.1 PIN flags");
#endif

#if UINTPTR_MAX == UINT64_MAX
/* LP64 numbers spelled out. */
_Static_assert(sizeof(struct msig_pin_request) == 32, "LP64 pin_request size");
#ifndef MSIG_ABI_EMBEDDER
_Static_assert(sizeof(struct msig_key_info) == 40, "LP64 key_info size");
_Static_assert(offsetof(struct msig_host, get_pin) == 56, "LP64 host.get_pin");
_Static_assert(MSIG_PLUGIN_SIZE_1_0 == 104, "LP64 MSIG_PLUGIN_SIZE_1_0");
#endif
#else
/* ILP32 (i386: flags at 20; arm: 24). */
#ifndef MSIG_ABI_EMBEDDER
_Static_assert(offsetof(struct msig_host, get_pin) == 32, "ILP32 host.get_pin");
_Static_assert(offsetof(struct msig_key_info, pub_der_len) == 24, "ILP32 key_info");
#endif
#endif

/* Constants keep their values. */
#ifndef MSIG_ABI_EMBEDDER
_Static_assert(MSIG_PLUGIN_ABI_MAJOR == 1, "major");
#endif
_Static_assert(MSIG_E_FAILED == -1 && MSIG_E_NOMEM == -2 && MSIG_E_INVALID == -3 &&
                   MSIG_E_UNSUPPORTED == -4 && MSIG_E_NOT_FOUND == -5 &&
                   MSIG_E_BUFFER_TOO_SMALL == -6 && MSIG_E_PIN_REQUIRED == -7 &&
                   MSIG_E_PIN_INCORRECT == -8 && MSIG_E_PIN_LOCKED == -9 &&
                   MSIG_E_CANCELLED == -10 && MSIG_E_DEVICE == -11 && MSIG_E_AUTH == -12 &&
                   MSIG_E_UNAVAILABLE == -13 && MSIG_E_ABI == -14 && MSIG_E_IO == -15 &&
                   MSIG_E_FORMAT == -16 && MSIG_E_CHECKSUM == -17 && MSIG_E_SIGNATURE == -18 &&
                   MSIG_E_NO_SIGNATURE == -19 && MSIG_E_NO_VERIFIER == -20 && MSIG_E_LIMIT == -21 &&
                   MSIG_E_VERSION == -22 && MSIG_E_EXISTS == -23 && MSIG_E_KEY == -24,
               "error codes renumbered");
_Static_assert(MSIG_LOG_ERROR == 0 && MSIG_LOG_WARN == 1 && MSIG_LOG_INFO == 2 &&
                   MSIG_LOG_DEBUG == 3,
               "log levels");
_Static_assert(MSIG_KEY_RSA == 1 && MSIG_KEY_EC_P256 == 2 && MSIG_KEY_EC_P384 == 3 &&
                   MSIG_KEY_ED25519 == 4,
               "key types");
_Static_assert(MSIG_SIG_RSA_PKCS1_SHA256 == 1 && MSIG_SIG_RSA_PSS_SHA256 == 2 &&
                   MSIG_SIG_ECDSA_SHA256 == 4 && MSIG_SIG_ED25519 == 8,
               "sig schemes");
_Static_assert(MSIG_SIGFMT_NATIVE == 0 && MSIG_SIGFMT_ECDSA_DER == 1 && MSIG_SIGFMT_ECDSA_RAW == 2,
               "sig formats");
_Static_assert(MSIG_KEYINFO_F_HARDWARE == 1 && MSIG_KEYINFO_F_REMOTE == 2 &&
                   MSIG_KEYINFO_F_PREFER_MESSAGE == 4,
               "key info flags");
_Static_assert(MSIG_KEY_OPEN_F_NO_PROMPT == 1 && MSIG_PIN_F_RETRY == 1 && MSIG_PIN_F_FINAL_TRY == 2,
               "flags");
#ifndef MSIG_ABI_EMBEDDER
_Static_assert(MSIG_PLUGIN_F_THREADSAFE == 1 && MSIG_PLUGIN_F_NO_UNLOAD == 2, "plugin flags");
#endif

int main(void)
{
#ifdef MSIG_ABI_EMBEDDER
    struct msig_key_entry e = { .struct_size = sizeof(e) };
    plan(2);
    ok(1, "/abi/%s vocabulary and constants (static asserts)", WHICH);
    ok(e.spec == NULL, "/abi/%s msig_key_entry usable without the plugin header", WHICH);
    return exit_status();
#else
    /* The checks above run at compile time; this records that this build passed them and
     * that MSIG_HAS_FIELD works on a 1.0-sized host table. */
    struct msig_host h = { .struct_size = (uint32_t)(offsetof(struct msig_host, get_pin) +
                                                     sizeof(h.get_pin)) };
    plan(3);
    ok(1, "/abi/%s layout and constants (static asserts)", WHICH);
    ok(MSIG_HAS_FIELD(&h, struct msig_host, get_pin), "/abi/%s MSIG_HAS_FIELD last 1.0 member",
       WHICH);
    h.struct_size = (uint32_t)offsetof(struct msig_host, get_pin);
    ok(!MSIG_HAS_FIELD(&h, struct msig_host, get_pin), "/abi/%s MSIG_HAS_FIELD short table", WHICH);
    return exit_status();
#endif
}
