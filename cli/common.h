/* common.h -- shared state and helpers of the msig command-line tool.
 * The CLI uses only the public API in <msig/msig.h>. */
#ifndef MSIG_CLI_COMMON_H
#define MSIG_CLI_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include <msig/msig.h>

/* Exit codes, as mender-artifact, except that invalid parameters exit 1 (it exits 0). */
#define EXIT_PARAMS 1
#define EXIT_FAIL 1
#define EXIT_CREATE 2 /* mender-artifact 3.9.0 errArtifactCreate (write -f ssh://) */
#define EXIT_OPEN 3
#define EXIT_INVALID 4

struct cli {
    struct msig_ctx *ctx;
    const char *compression;      /* global --compression, or NULL */
    const char *prog;             /* "msig" */
    const char *passphrase_file;  /* --passphrase-file of the command, for the PIN callback */
    char *env_passphrase;         /* MSIG_KEY_PASSPHRASE, read once and removed from the
                                 environment (pin.c); wiped at exit */
    int log_level;                /* highest MSIG_LOG_* shown (MSIG_LOG_LEVEL) */
    struct msig_key *rebuild_key; /* an editing command's open signing key, which write
                                        signs with when it has no key flag (borrowed) */
    const char **plugin_files;    /* --plugin FILE..., loaded with the directory scan */
    size_t nplugin_files;
    int plugins_loaded;              /* cli_load_plugins ran */
    int progress_on, progress_drawn; /* progress.c */
    double progress_start, progress_last, progress_delay;
};

/* The progress line (progress.c): on when standard error is a terminal; commands turn it
 * off for --no-progress and for output meant for programs. */
void cli_progress_init(struct cli *cli);
void cli_progress_off(struct cli *cli);
/* Clears the line (before a message, and at the end). */
void cli_progress_clear(struct cli *cli);
/* A report of the CLI's own work (a snapshot being received); total 0 when unknown. */
void cli_progress_report(struct cli *cli, uint64_t done, uint64_t total);
/* Starts the clock again for the next phase (rate and time left). */
void cli_progress_restart(struct cli *cli);

typedef int cmd_fn(struct cli *cli, int argc, char **argv);

struct cmd {
    const char *name;
    cmd_fn *run;
    const char *summary;
};

int cmd_write(struct cli *cli, int argc, char **argv);
int cmd_read(struct cli *cli, int argc, char **argv);
int cmd_validate(struct cli *cli, int argc, char **argv);
int cmd_sign(struct cli *cli, int argc, char **argv);
int cmd_dump(struct cli *cli, int argc, char **argv);
int cmd_plugins(struct cli *cli, int argc, char **argv);
int cmd_keys(struct cli *cli, int argc, char **argv);
int cmd_modify(struct cli *cli, int argc, char **argv);
int cmd_cp(struct cli *cli, int argc, char **argv);
int cmd_cat(struct cli *cli, int argc, char **argv);
int cmd_install(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);

/* Usage / parameter error: prints "msig: <msg>" on stderr; returns EXIT_PARAMS. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints prefix, the message and a newline on stderr; returns code. */
int cli_vfail(int code, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Prints the library's message for rc (last error, else the generic text) on stderr.
 * When subject is given and the message does not mention it, "subject: " comes first. */
void cli_report(struct cli *cli, int rc, const char *subject);
/* The message cli_report would print (static buffer). */
const char *cli_message(struct cli *cli, int rc, const char *subject);
/* getopt error for the option that was just rejected; returns EXIT_PARAMS. */
struct option;
/* An unknown flag (with the nearest long option of opts when it looks like a typo) or a
 * missing argument. Returns EXIT_PARAMS. */
int cli_bad_option(const char *cmd, char **argv, int optopt_val, int ret,
                   const struct option *opts);

/* A growable list of borrowed strings. */
struct strlist {
    const char **v;
    size_t n, cap;
};
int strlist_add(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

/* Key sources given on the command line, in order (keyopts.c). */
#define KEYOPTS_MAX 32
struct keysrc {
    const char *flag;  /* "key", "key-pkcs11", ... (for messages) */
    const char *value; /* as given */
    char *spec;        /* the spec for msig_key_open; owned */
};
struct keyopts {
    struct keysrc src[KEYOPTS_MAX];
    size_t n;
    const char *passphrase_file;
    char providers[512];       /* --key-provider NAME, comma-joined in order */
    const char *provider_path; /* --key-provider-path DIR */
    const char *provider_conf; /* --key-provider-conf FILE */
};
/* Long option ids shared by every command that takes key flags. */
enum {
    OPT_KEY_PKCS11 = 1000,
    OPT_GCP_KMS_KEY,
    OPT_VAULT_KEY,
    OPT_AZURE_KEY,
    OPT_SIGNSERVER,
    OPT_PASSPHRASE_FILE,
    OPT_KEY_PROVIDER,
    OPT_KEY_PROVIDER_PATH,
    OPT_KEY_PROVIDER_CONF,
    OPT_KEYS_END
};
/* getopt_long entries for the key flags (needs <getopt.h>). */
#define KEY_LONGOPTS                                                                \
    { "key", required_argument, NULL, 'k' },                                        \
        { "key-pkcs11", required_argument, NULL, OPT_KEY_PKCS11 },                  \
        { "gcp-kms-key", required_argument, NULL, OPT_GCP_KMS_KEY },                \
        { "vault-transit-key", required_argument, NULL, OPT_VAULT_KEY },            \
        { "azure-key", required_argument, NULL, OPT_AZURE_KEY },                    \
        { "keyfactor-signserver-worker", required_argument, NULL, OPT_SIGNSERVER }, \
        { "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },        \
        { "key-provider", required_argument, NULL, OPT_KEY_PROVIDER },              \
        { "key-provider-path", required_argument, NULL, OPT_KEY_PROVIDER_PATH },    \
    {                                                                               \
        "key-provider-conf", required_argument, NULL, OPT_KEY_PROVIDER_CONF         \
    }
/* --threads N, taken by write, sign, validate and read (id above every command's own). */
#define OPT_THREADS 1900
#define THREADS_LONGOPT                                 \
    {                                                   \
        "threads", required_argument, NULL, OPT_THREADS \
    }
#define THREADS_HELP                                                                         \
    "  --threads N                    worker threads for compression, decompression and\n"   \
    "                                 hashing (default: 0, every CPU this process may run\n" \
    "                                 on); the output is the same for every N\n"
/* Parses N (0 to 256) and sets it on the context; 0, or EXIT_PARAMS after saying why. */
int cli_threads_opt(struct cli *cli, const char *cmd, const char *arg);
/* The key flags' help (signing: the signing key; else verification keys). */
void keyopts_help(FILE *f, int signing);
/* Handles -k and the OPT_* key options; returns 1 if opt was a key option, 0 if not,
 * negative (after printing why) when the flag cannot be taken. */
int keyopts_handle(struct keyopts *k, int opt, const char *arg);
void keyopts_free(struct keyopts *k);
/* Prints "too many signing keys given: [...]"; returns EXIT_PARAMS. */
int keyopts_too_many(const struct keyopts *k);
/* Number of sources given (every -k counts). */
size_t keyopts_count(const struct keyopts *k);
/* MSIG_KEY_OPEN_F_NO_PROMPT when no prompt is possible (no terminal), else 0. */
uint32_t cli_open_flags(void);
/* For signing: exactly one source; opens it. Returns 0, or an exit code after printing. */
int keyopts_open_signing(struct cli *cli, struct keyopts *k, struct msig_key **key);
/* For verifying: any number of sources, in order (the first that verifies wins): -k FILE
 * is a public key file, -k SCHEME:REST and the other key flags open a plugin key whose
 * public half verifies. Builds *keys (NULL when none given); the opened plugin keys are
 * kept in *opened (keyopts_close_opened). Returns 0, or an exit code after printing. */
struct opened_keys {
    struct msig_key *key[KEYOPTS_MAX];
    size_t n;
};
int keyopts_open_verify(struct cli *cli, struct keyopts *k, struct msig_pubkeys **keys,
                        struct opened_keys *opened);
void keyopts_close_opened(struct opened_keys *opened);
/* Is the scheme of spec ("scheme:rest") served by a loaded plugin? */
int cli_scheme_served(struct cli *cli, const char *spec);
/* Loads the external plugins (the directory scan, then the --plugin files) the first time a
 * command needs one: a key spec with a scheme, msig plugins, msig keys, --plugin-param.
 * Commands that open no plugin key never load p11-kit, libcurl and the rest. 0, or
 * EXIT_FAIL after saying why (a --plugin file that cannot be loaded). */
int cli_load_plugins(struct cli *cli);
/* Whether a key spec may name an external plugin's key: "scheme:..." other than "file:"
 * (a path, with no ':' before its first '/', is the built-in file plugin's). */
int cli_spec_needs_plugins(const char *spec);

/* Parses "KEY:VALUE" into a new key string (caller frees) and a pointer into arg. */
/* write(2) until done: 0, or -1 with errno. */
int cli_write_all(int fd, const void *buf, size_t len);
int split_kv(const char *arg, char **key, const char **value);
/* Parses a size with optional unit B/KB/MB/GB/TB (powers of 1000). 0 ok, -1 bad. */
int parse_size(const char *s, uint64_t *out);

/* Callbacks (pin.c). user is the struct cli. Log lines: errors and warnings as
 * "warning: <msg>", info and debug lines when MSIG_LOG_LEVEL=info|debug (or MSIG_VERBOSE). */
void cli_log(void *user, int level, const char *msg);
/* The PIN order for every key: --passphrase-file, then MSIG_KEY_PASSPHRASE, then a prompt
 * on the terminal (never without one, never with MSIG_PIN_F_NO_PROMPT). */
int cli_pin(void *user, const struct msig_pin_request *req, char *buf, size_t cap, size_t *len);
/* Reads MSIG_KEY_PASSPHRASE and MSIG_LOG_LEVEL once, removes the passphrase from the
 * environment (so no child process inherits it). */
void cli_pin_init(struct cli *cli);
void cli_pin_fini(struct cli *cli);
/* Sets plugin parameters from the environment (envparams.c table). 0 or an exit code. */
int cli_env_params(struct cli *cli);

#endif
