/* http.c -- HTTPS calls for the cloud KMS plugins (see http.h for the policy). */
#include "http.h"

#include "plugin_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define RETRY_AFTER_CAP_MS 30000L
#define BACKOFF_BASE_MS 500L
#define BACKOFF_CAP_MS 8000L

struct msigu_http {
    const struct msig_host *host;
    CURL *curl;
    struct msigu_http_opts o;
    char *ca_file, *ssl_cert_file, *connect_to, *client_cert, *client_key; /* owned copies */
    char *ca_dir, *ssl_cert_dir;
    /* per call */
    char *buf;
    size_t len, cap, max;
    int too_big;
    long retry_after_ms;
    char errbuf[CURL_ERROR_SIZE];
};

int msigu_http_new(const struct msig_host *host, struct msigu_http **out)
{
    struct msigu_http *h;

    *out = NULL;
    /* Thread-safe and idempotent in libcurl >= 7.84; never paired with cleanup, since other
     * code in the process may use libcurl too. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        host->set_error(host->host_data, MSIG_E_FAILED, "libcurl initialisation failed");
        return MSIG_E_FAILED;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return MSIG_E_NOMEM;
    h->host = host;
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        free(h);
        host->set_error(host->host_data, MSIG_E_NOMEM, "cannot create a libcurl handle");
        return MSIG_E_NOMEM;
    }
    *out = h;
    return 0;
}

static void strset(char **dst, const char *src)
{
    free(*dst);
    *dst = src != NULL && src[0] != '\0' ? strdup(src) : NULL;
}

void msigu_http_free(struct msigu_http *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    if (h->buf != NULL) {
        explicit_bzero(h->buf, h->cap);
        free(h->buf);
    }
    strset(&h->ca_file, NULL);
    strset(&h->ssl_cert_file, NULL);
    strset(&h->ca_dir, NULL);
    strset(&h->ssl_cert_dir, NULL);
    strset(&h->connect_to, NULL);
    strset(&h->client_cert, NULL);
    strset(&h->client_key, NULL);
    free(h);
}

int msigu_http_set_opts(struct msigu_http *h, const struct msigu_http_opts *o)
{
    h->o = *o;
    strset(&h->ca_file, o->ca_file);
    strset(&h->ssl_cert_file, o->ssl_cert_file);
    strset(&h->connect_to, o->connect_to);
    strset(&h->client_cert, o->client_cert);
    strset(&h->client_key, o->client_key);
    strset(&h->ca_dir, o->ca_dir);
    strset(&h->ssl_cert_dir, o->ssl_cert_dir);
    if ((o->ca_file && o->ca_file[0] && !h->ca_file) ||
        (o->connect_to && o->connect_to[0] && !h->connect_to))
        return MSIG_E_NOMEM;
    h->o.ca_file = h->ca_file;
    h->o.ssl_cert_file = h->ssl_cert_file;
    h->o.connect_to = h->connect_to;
    h->o.client_cert = h->client_cert;
    h->o.client_key = h->client_key;
    h->o.ca_dir = h->ca_dir;
    h->o.ssl_cert_dir = h->ssl_cert_dir;
    return 0;
}

/* ------------------------------------------------------------------ callbacks */

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    struct msigu_http *h = user;
    size_t add = size * n;

    if (h->len + add > h->max) {
        h->too_big = 1;
        return 0;
    }
    if (h->len + add + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        char *nb;

        while (cap < h->len + add + 1)
            cap *= 2;
        nb = malloc(cap);
        if (nb == NULL)
            return 0;
        if (h->buf != NULL) {
            memcpy(nb, h->buf, h->len);
            explicit_bzero(h->buf, h->cap);
            free(h->buf);
        }
        h->buf = nb;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, add);
    h->len += add;
    h->buf[h->len] = '\0';
    return add;
}

/* Retry-After: delta-seconds or an HTTP date. */
static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    struct msigu_http *h = user;
    size_t len = size * n;
    char line[256];

    if (len >= sizeof(line) || len < 12 || strncasecmp(data, "Retry-After:", 12) != 0)
        return len;
    memcpy(line, data + 12, len - 12);
    line[len - 12] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    {
        const char *v = line + strspn(line, " \t");
        char *end = NULL;
        long s = strtol(v, &end, 10);

        if (end != v && *end == '\0' && s >= 0) {
            h->retry_after_ms = s > RETRY_AFTER_CAP_MS / 1000 ? RETRY_AFTER_CAP_MS : s * 1000;
        } else {
            time_t t = curl_getdate(v, NULL);
            time_t now = time(NULL);

            if (t != (time_t)-1)
                h->retry_after_ms =
                    t <= now ? 0
                             : (t - now > RETRY_AFTER_CAP_MS / 1000 ? RETRY_AFTER_CAP_MS
                                                                    : (long)(t - now) * 1000);
        }
    }
    return len;
}

static int add_anchors(X509_STORE *store, const char *file)
{
    return file == NULL || X509_STORE_load_file(store, file) == 1;
}

/* A hashed directory (openssl rehash) is looked up during verification. */
static int add_anchor_dir(X509_STORE *store, const char *dir)
{
    return dir == NULL || X509_STORE_load_path(store, dir) == 1;
}

/* Extra trust anchors on top of libcurl's default bundle (CURLOPT_CAINFO would replace it). */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *user)
{
    struct msigu_http *h = user;
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);

    (void)curl;
    if (!add_anchors(store, h->o.ca_file) || !add_anchors(store, h->o.ssl_cert_file) ||
        !add_anchor_dir(store, h->o.ca_dir) || !add_anchor_dir(store, h->o.ssl_cert_dir))
        return CURLE_SSL_CACERT_BADFILE;
    return CURLE_OK;
}

/* ------------------------------------------------------------------ one attempt */

static struct curl_slist *make_headers(const struct msigu_http_req *req)
{
    struct curl_slist *l = NULL, *t;

    /* curl adds "Expect: 100-continue" to larger POSTs; the fakes and services need none. */
    t = curl_slist_append(l, "Expect:");
    if (t == NULL)
        return NULL;
    l = t;
    for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
        t = curl_slist_append(l, req->headers[i]);
        if (t == NULL) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = t;
    }
    return l;
}

/* Header lines carry tokens: wiped before they are freed. */
static void free_headers(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p != NULL; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

static CURLcode attempt(struct msigu_http *h, const struct msigu_http_req *req,
                        struct curl_slist *hdrs, long *status)
{
    CURL *c = h->curl;
    int metadata = (req->flags & MSIGU_HTTP_F_METADATA) != 0;
    struct curl_slist *ct = NULL;
    CURLcode rc;

    /* Reset keeps the connection cache: the next call to the same host reuses it. */
    curl_easy_reset(c);
    h->len = 0;
    h->too_big = 0;
    h->retry_after_ms = -1;
    h->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, metadata ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h);
    /* A cached CA store would skip the callback that adds the extra anchors. */
    curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     metadata ? 2000L
                              : (h->o.connect_timeout_ms ? h->o.connect_timeout_ms : 10000L));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.timeout_ms ? h->o.timeout_ms : 30000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "msig-kms/1");
    if (metadata)
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (h->o.client_cert != NULL) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, h->o.client_cert);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        if (h->o.client_key != NULL)
            curl_easy_setopt(c, CURLOPT_SSLKEY, h->o.client_key);
    }
    if (h->o.connect_to != NULL) {
        char *copy = strdup(h->o.connect_to), *save = NULL;

        if (copy == NULL)
            return CURLE_OUT_OF_MEMORY;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            struct curl_slist *t = curl_slist_append(ct, tok);
            if (t == NULL) {
                free(copy);
                curl_slist_free_all(ct);
                return CURLE_OUT_OF_MEMORY;
            }
            ct = t;
        }
        free(copy);
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
    }
    if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(req->body ? req->body_len : 0));
    }
    rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    /* The options point at ct; clear them before it goes. */
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(ct);
    return rc;
}

static int retryable_status(const struct msigu_http *h, long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504 || (s == 412 && h->o.retry_412);
}

static int retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
        return 1;
    default:
        return 0;
    }
}

/* A TLS alert from the peer (a refused client certificate shows as one at the first read
 * under TLS 1.3) is a TLS failure, not a connection problem: never retried. */
static int tls_alert(const struct msigu_http *h, CURLcode rc)
{
    return (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) && strstr(h->errbuf, "alert");
}

static int tls_error(CURLcode rc)
{
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
           rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM ||
           rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_INVALIDCERTSTATUS ||
           rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_CIPHER;
}

/* Full jitter: a random wait in [0, min(cap, base * 2^n)]. */
static long backoff_ms(unsigned n)
{
    long ceil = BACKOFF_BASE_MS << (n > 4 ? 4 : n);
    uint32_t r = 0;

    if (ceil > BACKOFF_CAP_MS)
        ceil = BACKOFF_CAP_MS;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint32_t)time(NULL);
    return (long)(r % (uint32_t)(ceil + 1));
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
}

const char *msigu_http_url_shown(const char *url, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", (int)strcspn(url, "?#"), url);
    return buf;
}

static int transport_error(struct msigu_http *h, const struct msigu_http_req *req, const char *what,
                           CURLcode rc, unsigned attempts)
{
    char u[512];
    const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);

    msigu_http_url_shown(req->url, u, sizeof(u));
    if (h->too_big)
        return msigu_error(h->host, MSIG_E_FAILED, "%s: reply from %s is larger than %zu bytes",
                           what, u, h->max);
    if (tls_error(rc)) {
        /* A refused client certificate shows as an alert from the server during the
         * handshake or at the first read. */
        if (h->o.client_cert != NULL && (strstr(why, "alert") || strstr(why, "certificate "
                                                                             "required")))
            return msigu_error(h->host, MSIG_E_AUTH,
                               "%s: %s refused the TLS client certificate %s: %s", what, u,
                               h->o.client_cert, why);
        return msigu_error(h->host, MSIG_E_FAILED, "%s: TLS with %s failed: %s", what, u, why);
    }
    if (tls_alert(h, rc) && h->o.client_cert != NULL)
        return msigu_error(h->host, MSIG_E_AUTH, "%s: %s refused the TLS client certificate %s: %s",
                           what, u, h->o.client_cert, why);
    if (tls_alert(h, rc))
        return msigu_error(h->host, MSIG_E_FAILED, "%s: TLS with %s failed: %s", what, u, why);
    if (retryable_curl(rc))
        return msigu_error(h->host, MSIG_E_UNAVAILABLE, "%s: %s unreachable after %u attempt%s: %s",
                           what, u, attempts, attempts == 1 ? "" : "s", why);
    return msigu_error(h->host, MSIG_E_FAILED, "%s: request to %s failed: %s", what, u, why);
}

int msigu_http_call(struct msigu_http *h, const struct msigu_http_req *req, const char *what,
                    struct msigu_http_reply *rep)
{
    struct curl_slist *hdrs = make_headers(req);
    unsigned n = 0, max = h->o.max_retries;
    long start = now_ms(), deadline = h->o.deadline_ms ? h->o.deadline_ms : 120000;
    char u[512];
    CURLcode rc;
    long status = 0;
    int ret;

    memset(rep, 0, sizeof(*rep));
    if (hdrs == NULL)
        return MSIG_E_NOMEM;
    /* Tokens and digests never travel in clear; only metadata servers speak plain HTTP. */
    if (strncasecmp(req->url, "https://", 8) != 0 && !(req->flags & MSIGU_HTTP_F_METADATA)) {
        free_headers(hdrs);
        return msigu_error(h->host, MSIG_E_INVALID,
                           "%s: %s is not an https:// URL (plain HTTP is refused)", what,
                           msigu_http_url_shown(req->url, u, sizeof(u)));
    }
    h->max = h->o.reply_max ? h->o.reply_max : MSIGU_HTTP_REPLY_MAX;
    msigu_http_url_shown(req->url, u, sizeof(u));
    for (;;) {
        long wait;

        n++;
        rc = attempt(h, req, hdrs, &status);
        /* A TLS failure is retried by nobody: the same certificate fails the same way. */
        if (rc == CURLE_OK)
            msigu_log(h->host, MSIG_LOG_DEBUG, "%s %s: HTTP %ld, %zu bytes (attempt %u)",
                      req->method, u, status, h->len, n);
        else
            msigu_log(h->host, MSIG_LOG_DEBUG, "%s %s: %s (attempt %u)", req->method, u,
                      h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc), n);
        if (rc == CURLE_OK ? !retryable_status(h, status)
                           : (!retryable_curl(rc) || h->too_big || tls_alert(h, rc)))
            break;
        if (n > max)
            break;
        wait = rc == CURLE_OK && h->retry_after_ms >= 0 ? h->retry_after_ms : backoff_ms(n - 1);
        if (now_ms() - start + wait > deadline) {
            msigu_log(h->host, MSIG_LOG_DEBUG, "%s %s: no retry, the %ld ms deadline would pass",
                      req->method, u, deadline);
            break;
        }
        msigu_log(h->host, MSIG_LOG_DEBUG, "%s %s: retrying in %ld ms", req->method, u, wait);
        sleep_ms(wait);
    }
    free_headers(hdrs);
    rep->attempts = n;
    if (rc != CURLE_OK) {
        ret = transport_error(h, req, what, rc, n);
        goto out;
    }
    rep->status = status;
    rep->len = h->len;
    rep->body = malloc(h->len + 1);
    if (rep->body == NULL) {
        ret = MSIG_E_NOMEM;
        goto out;
    }
    if (h->len)
        memcpy(rep->body, h->buf, h->len);
    rep->body[h->len] = '\0';
    rep->json = json_loadb(rep->body, rep->len, JSON_REJECT_DUPLICATES, NULL);
    if (retryable_status(h, status)) {
        ret = msigu_http_status_error(h, req, rep, what);
        msigu_http_reply_free(rep);
        goto out;
    }
    ret = 0;
out:
    if (h->buf != NULL)
        explicit_bzero(h->buf, h->cap);
    h->len = 0;
    return ret;
}

void msigu_http_reply_free(struct msigu_http_reply *rep)
{
    if (rep->body != NULL) {
        explicit_bzero(rep->body, rep->len);
        free(rep->body);
    }
    json_decref(rep->json);
    memset(rep, 0, sizeof(*rep));
}

/* ------------------------------------------------------------------ errors */

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

const char *msigu_http_error_text(const json_t *json, char *buf, size_t cap)
{
    const json_t *err = json_object_get(json, "error");
    const json_t *errs = json_object_get(json, "errors");

    buf[0] = '\0';
    if (json_is_array(errs)) { /* Vault */
        size_t i, off = 0;
        json_t *v;

        json_array_foreach (errs, i, v) {
            if (json_is_string(v) && off < cap)
                off += (size_t)snprintf(buf + off, cap - off, "%s%s", off ? "; " : "",
                                        json_string_value(v));
        }
    } else if (json_is_object(err)) { /* Google, Azure */
        const char *code = jstr(err, "status") ? jstr(err, "status") : jstr(err, "code");
        const char *msg = jstr(err, "message");
        snprintf(buf, cap, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
    } else if (json_is_string(err)) { /* OAuth, SignServer */
        const char *d = jstr(json, "error_description");
        snprintf(buf, cap, "%s%s%s", json_string_value(err), d ? ": " : "", d ? d : "");
    }
    return buf;
}

int msigu_http_status_error(struct msigu_http *h, const struct msigu_http_req *req,
                            const struct msigu_http_reply *rep, const char *what)
{
    char u[512], text[512];
    long s = rep->status;
    int code;

    if (s == 401 || s == 403)
        code = MSIG_E_AUTH;
    else if (s == 404)
        code = MSIG_E_NOT_FOUND;
    else if (s == 400 || s == 409 || s == 422)
        code = MSIG_E_INVALID;
    else if (retryable_status(h, s) || s >= 500)
        code = s == 501 ? MSIG_E_FAILED : MSIG_E_UNAVAILABLE;
    else
        code = MSIG_E_FAILED;
    msigu_http_url_shown(req->url, u, sizeof(u));
    msigu_http_error_text(rep->json, text, sizeof(text));
    if (code == MSIG_E_UNAVAILABLE)
        return msigu_error(h->host, code, "%s: %s answered HTTP %ld after %u attempt%s%s%s", what,
                           u, s, rep->attempts, rep->attempts == 1 ? "" : "s", text[0] ? ": " : "",
                           text);
    return msigu_error(h->host, code, "%s: %s answered HTTP %ld%s%s", what, u, s,
                       text[0] ? ": " : "", text);
}

int msigu_http_escape(struct msigu_http *h, const char *s, char **out)
{
    *out = curl_easy_escape(h->curl, s, 0);
    return *out ? 0 : MSIG_E_NOMEM;
}

void msigu_http_strfree(char *s)
{
    if (s != NULL)
        explicit_bzero(s, strlen(s));
    curl_free(s);
}
