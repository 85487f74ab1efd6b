/* secret.h -- PINs, passphrases and tokens held by a plugin: one place that gets them in the
 * documented order and wipes them on every path. Part of plugins/util (msigu_base). */
#ifndef MSIGU_SECRET_H
#define MSIGU_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig_plugin.h>

#define MSIGU_SECRET_MAX 1024

/* A secret in host memory; len excludes the NUL that always follows. */
struct msigu_secret {
    char *buf;
    size_t len;
    size_t cap;
};

/* Gets a PIN or passphrase, in this order:
 *   1. plugin_value, when not NULL (a parameter, a URI's pin-value): copied;
 *   2. plugin_file, when not NULL (a pin-source path, or a "file:" URI): its content, one
 *      trailing "\n" or "\r\n" stripped, at most MSIGU_SECRET_MAX bytes;
 *   3. host->get_pin(req), which tries the host's generic sources and, unless open_flags has
 *      MSIG_KEY_OPEN_F_NO_PROMPT or no terminal is there, a prompt.
 * Returns 0 with *out filled, or the host's code (MSIG_E_PIN_REQUIRED, MSIG_E_CANCELLED), or
 * MSIG_E_NOT_FOUND/MSIG_E_IO for an unreadable plugin_file (message names the file, never the
 * content). *out is wiped and freed by msigu_secret_wipe. */
int msigu_secret_get(const struct msig_host *host, const char *plugin_value,
                     const char *plugin_file, const struct msig_pin_request *req,
                     uint32_t open_flags, struct msigu_secret *out);
/* msigu_secret_get into a caller's buffer of cap bytes (for callbacks that fill one, such as
 * OpenSSL's passphrase callbacks): *len bytes, no NUL; MSIG_E_BUFFER_TOO_SMALL when the
 * secret does not fit. The intermediate copy is wiped. */
int msigu_secret_copy(const struct msig_host *host, const char *plugin_value,
                      const char *plugin_file, const struct msig_pin_request *req,
                      uint32_t open_flags, char *buf, size_t cap, size_t *len);
/* Copies a secret (for tokens read from a reply); 0 or MSIG_E_NOMEM. */
int msigu_secret_set(const struct msig_host *host, const char *value, size_t len,
                     struct msigu_secret *out);
/* Wipes and frees; safe on a zeroed or already wiped secret. */
void msigu_secret_wipe(const struct msig_host *host, struct msigu_secret *s);

#endif
