/* loader.h -- the plugin loader (private): the registered plugins of a context, their lazily
 * created instances, the host-services table each instance sees, and the calls into plugin
 * ops (with the per-instance lock and the plugin's set_error detail copied into the context).
 * Also struct msig_key, since a key is a plugin handle plus what the core learnt about it. */
#ifndef MSIG_LOADER_H
#define MSIG_LOADER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <msig/msig.h>
#include <msig/msig_plugin.h>

#define MSIGI_PLUGIN_ERRMAX 1024

struct msigi_hostparam {
    struct msigi_hostparam *next;
    char *key;
    char *value;
};

struct msigi_plugin {
    struct msig_ctx *ctx;
    struct msig_plugin desc;          /* zeroed, then min(struct_size, sizeof) copied */
    char *file;                       /* NULL for built-ins */
    void *dl;                         /* dlopen handle, NULL for built-ins */
    struct msig_host host;            /* host_data points back at this struct */
    void *inst;
    int inst_ready;
    size_t open_keys;
    pthread_mutex_t op_lock;          /* held around ops unless MSIG_PLUGIN_F_THREADSAFE */
    int no_prompt;                    /* set during a key_open with MSIG_KEY_OPEN_F_NO_PROMPT */
    int err_code;                     /* set_error detail of the current call */
    char err[MSIGI_PLUGIN_ERRMAX];
    struct msigi_hostparam *params;   /* copies handed out by get_param, freed with the inst */
};

struct msig_key {
    struct msig_ctx *ctx;
    struct msigi_plugin *plugin;
    void *handle;
    char *spec;                       /* what the plugin gets: "scheme:rest" */
    char *label;                      /* what the user gave, for messages */
    struct msig_key_info info;        /* as the plugin filled it, type and bits checked */
    uint32_t key_type;                /* MSIG_KEY_*, from the public key */
    uint32_t bits;
    EVP_PKEY *pub;                    /* from key_public_der, for the self-check */
};

/* Finds the plugin whose scheme list holds the scheme of spec ("scheme:rest"); NULL if the
 * spec has no scheme or no plugin claims it. */
struct msigi_plugin *msigi_loader_find_scheme(struct msig_ctx *ctx, const char *spec);
/* Finds a plugin by name, or NULL. */
struct msigi_plugin *msigi_loader_find_name(struct msig_ctx *ctx, const char *name);
/* Creates the plugin's instance if it has none yet (instance_new). */
int msigi_loader_instance(struct msig_ctx *ctx, struct msigi_plugin *p);

/* Around every plugin op: takes the op lock (unless thread-safe) and clears the set_error
 * slot; msigi_loader_call_end releases it and turns a non-zero rc into a context error
 * "what: <plugin detail or strerror>" with a known MSIG_E_* code (unknown -> MSIG_E_FAILED). */
void msigi_loader_call_begin(struct msigi_plugin *p);
int msigi_loader_call_end(struct msigi_plugin *p, int rc, const char *what);

#endif
