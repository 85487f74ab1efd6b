/* secret.c -- a PIN or passphrase from the plugin's own sources, else the host's, wiped on
 * every path (msigu_base). */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "plugin_util.h"

static int secret_alloc(const struct msig_host *host, struct msigu_secret *s)
{
    s->cap = MSIGU_SECRET_MAX + 3; /* a file's trailing "\r\n", and the NUL */
    s->len = 0;
    s->buf = msigu_alloc(host, s->cap);
    if (s->buf == NULL) {
        s->cap = 0;
        return msigu_error(host, MSIG_E_NOMEM, "cannot allocate %d bytes for a secret",
                           MSIGU_SECRET_MAX + 3);
    }
    s->buf[0] = '\0';
    return 0;
}

int msigu_secret_set(const struct msig_host *host, const char *value, size_t len,
                     struct msigu_secret *out)
{
    int rc;

    if (len > MSIGU_SECRET_MAX)
        return msigu_error(host, MSIG_E_INVALID,
                           "a secret of %zu bytes is longer than the "
                           "%d bytes allowed",
                           len, MSIGU_SECRET_MAX);
    if ((rc = secret_alloc(host, out)) != 0)
        return rc;
    memcpy(out->buf, value, len);
    out->buf[len] = '\0';
    out->len = len;
    return 0;
}

/* A pin-source: "file:" URI or a path; the content without one trailing newline. */
static int secret_from_file(const struct msig_host *host, const char *src, struct msigu_secret *out)
{
    const char *path = strncmp(src, "file://", 7) == 0 ? src + 7
                       : strncmp(src, "file:", 5) == 0 ? src + 5
                                                       : src;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc, e;
    ssize_t n = 0, r;

    if (fd < 0) {
        e = errno;
        return msigu_error(host, e == ENOENT ? MSIG_E_NOT_FOUND : MSIG_E_IO,
                           "cannot open the PIN file %s: %s", path, strerror(e));
    }
    if ((rc = secret_alloc(host, out)) != 0) {
        close(fd);
        return rc;
    }
    do {
        r = read(fd, out->buf + n, out->cap - 1 - (size_t)n);
        n += r > 0 ? r : 0;
    } while (r > 0 && (size_t)n < out->cap - 1);
    if (r > 0) {
        char more;
        r = read(fd, &more, 1);
    }
    e = errno;
    close(fd);
    if (r >= 0 && n > 0 && out->buf[n - 1] == '\n' && --n > 0 && out->buf[n - 1] == '\r')
        n--;
    if (r != 0 || n > MSIGU_SECRET_MAX) {
        msigu_secret_wipe(host, out);
        if (r >= 0)
            return msigu_error(host, MSIG_E_INVALID,
                               "the PIN file %s is longer than %d "
                               "bytes",
                               path, MSIGU_SECRET_MAX);
        return msigu_error(host, MSIG_E_IO, "cannot read the PIN file %s: %s", path, strerror(e));
    }
    out->buf[n] = '\0';
    out->len = (size_t)n;
    return 0;
}

int msigu_secret_get(const struct msig_host *host, const char *plugin_value,
                     const char *plugin_file, const struct msig_pin_request *req,
                     uint32_t open_flags, struct msigu_secret *out)
{
    int rc;

    (void)open_flags; /* the host already knows: get_pin never prompts under NO_PROMPT */
    memset(out, 0, sizeof(*out));
    if (plugin_value != NULL)
        return msigu_secret_set(host, plugin_value, strlen(plugin_value), out);
    if (plugin_file != NULL)
        return secret_from_file(host, plugin_file, out);
    if ((rc = secret_alloc(host, out)) != 0)
        return rc;
    rc = host->get_pin(host->host_data, req, out->buf, out->cap, &out->len);
    if (rc != 0 || out->len >= out->cap) {
        msigu_secret_wipe(host, out);
        return rc != 0 ? rc : MSIG_E_FAILED;
    }
    out->buf[out->len] = '\0';
    return 0;
}

int msigu_secret_copy(const struct msig_host *host, const char *plugin_value,
                      const char *plugin_file, const struct msig_pin_request *req,
                      uint32_t open_flags, char *buf, size_t cap, size_t *len)
{
    struct msigu_secret s;
    int rc = msigu_secret_get(host, plugin_value, plugin_file, req, open_flags, &s);

    *len = 0;
    if (rc == 0 && s.len >= cap)
        rc = MSIG_E_BUFFER_TOO_SMALL;
    if (rc == 0) {
        memcpy(buf, s.buf, s.len);
        *len = s.len;
    }
    msigu_secret_wipe(host, &s);
    return rc;
}

void msigu_secret_wipe(const struct msig_host *host, struct msigu_secret *s)
{
    if (s->buf != NULL) {
        OPENSSL_cleanse(s->buf, s->cap);
        msigu_free(host, s->buf, s->cap);
    }
    s->buf = NULL;
    s->len = 0;
    s->cap = 0;
}
