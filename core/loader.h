/* loader.h -- the plugin loader (private). Plugins are loaded once per process and shared,
 * reference-counted, by every context that registers them (struct msigi_plugin is opaque
 * outside loader.c and plugcall.c). Every call into a plugin goes through the typed wrappers
 * below (plugcall.c), which own the per-instance lock, the NO_PROMPT flag, the
 * BUFFER_TOO_SMALL retry, and the translation of plugin results into context errors.
 * Also struct msig_key, since a key is a plugin handle plus what the core learnt about it. */
#ifndef MSIG_LOADER_H
#define MSIG_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <msig/msig.h>
#include <msig/msig_plugin.h>

struct msigi_plugin; /* opaque */

struct msig_key {
    struct msig_ctx *ctx;
    struct msigi_plugin *plugin; /* holds a reference while the key is open */
    void *handle;
    char *spec;                /* what the plugin gets: "scheme:rest" */
    char *label;               /* what the user gave, for messages */
    uint32_t open_flags;       /* MSIG_KEY_OPEN_F_*, also used for sign-time PINs */
    struct msig_key_info info; /* as the plugin filled it, type and bits checked */
    uint32_t key_type;         /* MSIG_KEY_*, from the public key */
    uint32_t bits;
    EVP_PKEY *pub; /* from key_public_der, for the self-check */
};

/* ---- lookup (loader.c) */

/* The plugin registered in ctx whose scheme list holds the scheme of spec ("scheme:rest");
 * NULL if the spec has no scheme or no plugin of ctx claims it. */
struct msigi_plugin *msigi_loader_find_scheme(struct msig_ctx *ctx, const char *spec);
/* Does spec start like a scheme, "[a-z0-9-]+:"? Returns the scheme length, else 0. */
size_t msigi_loader_scheme_len(const char *spec);
/* Sets the context error for a spec whose scheme no plugin serves, naming the plugins that
 * were refused at load time with their reasons. Returns MSIG_E_UNSUPPORTED. */
int msigi_loader_no_scheme(struct msig_ctx *ctx, const char *spec, const char *label);

const char *msigi_plugin_name(const struct msigi_plugin *p);
void msigi_plugin_ref(struct msigi_plugin *p);
void msigi_plugin_unref(struct msigi_plugin *p);

/* ---- calls (plugcall.c). label names the key in messages ("key LABEL (plugin NAME): ...").
 * Each returns 0 or a negative code with the context error set. */

int msigi_plug_key_open(struct msig_ctx *ctx, struct msig_key *key);
/* Fills key->info (struct_size set, fields the plugin did not know left 0). */
int msigi_plug_key_info(struct msig_ctx *ctx, struct msig_key *key);
/* The public key as DER (msigi_malloc'd *der), at most MSIG_HOST_PUB_DER_MAX bytes. */
int msigi_plug_public_der(struct msig_ctx *ctx, struct msig_key *key, uint8_t **der,
                          size_t *der_len);
/* Signs: sign_message when the key prefers it and the plugin has it and msg is given, else
 * sign_digest over digest. *sig is msigi_malloc'd; *fmt is what the plugin said. */
int msigi_plug_sign(struct msig_ctx *ctx, struct msig_key *key, uint32_t scheme, const uint8_t *msg,
                    size_t msg_len, const uint8_t digest[static 32], size_t cap, uint8_t **sig,
                    size_t *sig_len, uint32_t *fmt);
/* Will msigi_plug_sign need the message (the key signs messages only)? */
int msigi_plug_wants_message(const struct msig_key *key);
void msigi_plug_key_close(struct msig_key *key);
/* key_list, entries normalised to this core's struct msig_key_entry. */
int msigi_plug_key_list(struct msig_ctx *ctx, struct msigi_plugin *p, const char *spec,
                        uint32_t flags, msig_key_list_fn *cb, void *user);

#endif
