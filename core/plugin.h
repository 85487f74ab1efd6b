/* plugin.h -- struct msigi_plugin, shared by loader.c (registration, lifetime) and plugcall.c
 * (calls and host services) only. The rest of core sees the opaque type of loader.h. */
#ifndef MSIG_PLUGIN_PRIV_H
#define MSIG_PLUGIN_PRIV_H

#include <pthread.h>
#include <sys/types.h>

#include "loader.h"

#define MSIGI_PLUGIN_ERRMAX 1024

struct msigi_hostparam {
    struct msigi_hostparam *next;
    char *key;
    char *value;
};

/* One per loaded plugin file (or built-in entry) in the process. */
struct msigi_plugin {
    struct msigi_plugin *next;     /* process registry */
    struct msig_plugin desc;       /* zeroed, then min(struct_size, sizeof) copied */
    msig_plugin_entry_fn *builtin; /* identity of a built-in */
    char *file;                    /* real path; NULL for built-ins */
    dev_t dev;                     /* identity of a file */
    ino_t ino;
    void *dl;              /* dlopen handle, NULL for built-ins */
    struct msig_host host; /* host_data points back at this struct */
    size_t refs;           /* contexts and open keys holding it */
    void *inst;
    int inst_ready;
    pthread_mutex_t op_lock;        /* held around calls unless MSIG_PLUGIN_F_THREADSAFE */
    pthread_mutex_t param_lock;     /* guards params */
    struct msigi_hostparam *params; /* copies handed out by get_param */
    struct msig_ctx *log_ctx;       /* where lines from the plugin's own threads go */
};

/* plugcall.c: the host-services table of p; creates the instance when needed (under the
 * loader's registry lock, taken by the caller). */
void msigi_plugcall_init_host(struct msigi_plugin *p);
int msigi_plugcall_instance(struct msig_ctx *ctx, struct msigi_plugin *p);
void msigi_plugcall_instance_free(struct msigi_plugin *p);
/* Forgets ctx as a log destination of p's own threads. */
void msigi_plugcall_forget_ctx(struct msigi_plugin *p, struct msig_ctx *ctx);

/* loader.c: the registry lock (instance creation and reference counts). */
void msigi_loader_lock(void);
void msigi_loader_unlock(void);

#endif
