/* http.h -- HTTPS calls for the cloud KMS plugins, on libcurl and jansson. Part of plugins/util
 * (static PIC library msigu_http); only the KMS plugins link it.
 *
 * Policy, in one place: HTTPS only (plain HTTP only for a request that says it goes to a
 * link-local metadata server, and then without proxy); peer and host-name verification always
 * on; extra trust anchors (a service CA file, SSL_CERT_FILE) are added to libcurl's default
 * bundle; connect and total timeouts; proxies from libcurl's usual environment variables;
 * CONNECT_TO entries (libcurl syntax HOST:PORT:CONNECT_HOST:CONNECT_PORT, comma-separated);
 * an optional client certificate and key for mutual TLS; bounded retries with backoff on
 * 429, 5xx and connection errors, honouring Retry-After, never on other 4xx or TLS failures;
 * a cap on the reply size; the service's own error text taken from its JSON reply.
 * One handle per plugin instance: the connection is kept alive between calls.
 * Header values and bodies are never logged (they carry tokens and secrets); debug lines
 * show the method, the URL without its query and the status. */
#ifndef MSIGU_HTTP_H
#define MSIGU_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <msig/msig_plugin.h>

#define MSIGU_HTTP_REPLY_MAX (1024u * 1024u) /* default cap on a reply body */

/* Settings of the transport, read per key by the plugin (strings borrowed, may be NULL). */
struct msigu_http_opts {
    const char *ca_file;       /* service-specific trust anchors (VAULT_CACERT, ...) */
    const char *ssl_cert_file; /* SSL_CERT_FILE: more trust anchors */
    const char *ca_dir;        /* service-specific hashed CA directory (VAULT_CAPATH) */
    const char *ssl_cert_dir;  /* SSL_CERT_DIR: a hashed directory of more anchors */
    const char *connect_to;    /* "H:P:CH:CP[,H:P:CH:CP...]" */
    const char *client_cert;   /* PEM client certificate (may hold the key too) */
    const char *client_key;    /* PEM private key of client_cert */
    long connect_timeout_ms;   /* 0: 10000 */
    long timeout_ms;           /* per attempt; 0: 30000 */
    unsigned max_retries;      /* further attempts after the first */
    unsigned retry_412;        /* Vault: 412 is retried too */
    size_t reply_max;          /* 0: MSIGU_HTTP_REPLY_MAX */
    long deadline_ms;          /* no retry would end past this, from the first try; 0: 120000 */
};

#define MSIGU_HTTP_F_METADATA (1u << 0) /* plain http:// allowed, no proxy, 2 s connect */

struct msigu_http_req {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;           /* POST body, or NULL */
    size_t body_len;
    uint32_t flags; /* MSIGU_HTTP_F_* */
};

struct msigu_http_reply {
    long status; /* HTTP status of the last attempt */
    char *body;  /* NUL-terminated; freed (wiped) by msigu_http_reply_free */
    size_t len;
    json_t *json; /* parsed body when it is JSON, else NULL */
    unsigned attempts;
};

struct msigu_http;

/* A handle for one plugin instance. MSIG_E_NOMEM or MSIG_E_FAILED with set_error. */
int msigu_http_new(const struct msig_host *host, struct msigu_http **out);
void msigu_http_free(struct msigu_http *h);
/* Sets the options for the next calls (copied). */
int msigu_http_set_opts(struct msigu_http *h, const struct msigu_http_opts *o);

/* Runs one request with the retry policy. Returns 0 with any HTTP status in rep (the caller
 * decides what the status means, see msigu_http_status_error), or, with set_error: MSIG_E_
 * UNAVAILABLE (connection failures, timeouts, 429/5xx after every retry), MSIG_E_FAILED (TLS
 * verification failed, reply too big, other transport error), MSIG_E_AUTH (client
 * certificate refused). what names the operation in messages ("read key k1"). */
int msigu_http_call(struct msigu_http *h, const struct msigu_http_req *req, const char *what,
                    struct msigu_http_reply *rep);
void msigu_http_reply_free(struct msigu_http_reply *rep);

/* The one table from a non-2xx HTTP status to MSIG_E_*: 401/403 AUTH, 404 NOT_FOUND,
 * 400/409/422 INVALID, 429/5xx UNAVAILABLE, other FAILED. Sets the error with what, the
 * status, the URL without query and the service's own text; returns the code. */
int msigu_http_status_error(struct msigu_http *h, const struct msigu_http_req *req,
                            const struct msigu_http_reply *rep, const char *what);
/* The service's error text from a JSON reply (Vault errors[], Google/Azure error.message and
 * error.status/code, OAuth error/error_description, SignServer error), into buf. */
const char *msigu_http_error_text(const json_t *json, char *buf, size_t cap);
/* The URL without query string and fragment, into buf. */
const char *msigu_http_url_shown(const char *url, char *buf, size_t cap);
/* Percent-escapes s for a path segment or form value; *out freed with msigu_http_strfree. */
int msigu_http_escape(struct msigu_http *h, const char *s, char **out);
void msigu_http_strfree(char *s);

#endif
