/* pin.c -- the CLI's callbacks into the library: log lines (with a level chosen by
 * MSIG_LOG_LEVEL) and the one PIN order for every key, built-in or plugin: --passphrase-file,
 * then MSIG_KEY_PASSPHRASE (read once at start and removed from the environment), then a
 * prompt on the terminal. Secrets are read without stdio buffers and wiped after use. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

static int parse_level(const char *s)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    if (s == NULL || *s == '\0')
        return MSIG_LOG_WARN;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return MSIG_LOG_WARN;
    fprintf(stderr,
            "warning: MSIG_LOG_LEVEL=%s is not error, warn, info or debug; using "
            "warn\n",
            s);
    return MSIG_LOG_WARN;
}

void cli_pin_init(struct cli *cli)
{
    char *env = getenv("MSIG_KEY_PASSPHRASE");
    if (env != NULL) {
        cli->env_passphrase = strdup(env);
        explicit_bzero(env, strlen(env));
        unsetenv("MSIG_KEY_PASSPHRASE");
    }
    cli->log_level = parse_level(getenv("MSIG_LOG_LEVEL"));
    if (getenv("MSIG_VERBOSE") != NULL && cli->log_level < MSIG_LOG_INFO)
        cli->log_level = MSIG_LOG_INFO;
    /* The TPM software stack (under tpm2-openssl) writes its own WARNING/ERROR lines to
     * standard error; msig reports the failure itself, so they show only with debug. */
    if (cli->log_level < MSIG_LOG_DEBUG)
        setenv("TSS2_LOG", "all+NONE", 0);
}

void cli_pin_fini(struct cli *cli)
{
    if (cli->env_passphrase != NULL) {
        explicit_bzero(cli->env_passphrase, strlen(cli->env_passphrase));
        free(cli->env_passphrase);
        cli->env_passphrase = NULL;
    }
}

void cli_log(void *user, int level, const char *msg)
{
    struct cli *cli = user;
    int max = cli != NULL ? cli->log_level : MSIG_LOG_WARN;
    if (level > max)
        return;
    if (cli != NULL)
        cli_progress_clear(cli);
    if (level <= MSIG_LOG_WARN)
        fprintf(stderr, "warning: %s\n", msg);
    else
        fprintf(stderr, "%s: %s\n", level == MSIG_LOG_INFO ? "info" : "debug", msg);
}

/* The first line of a passphrase file into buf (NUL-terminated). */
static int from_file(const char *path, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "msig: cannot read passphrase file %s: %s\n", path, strerror(errno));
        return MSIG_E_CANCELLED;
    }
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    n = strcspn(buf, "\r\n");
    explicit_bzero(buf + n, cap - n);
    *len = n;
    return 0;
}

static int from_string(const char *s, char *buf, size_t cap, size_t *len)
{
    size_t n = strlen(s);
    if (n + 1 > cap)
        return MSIG_E_BUFFER_TOO_SMALL;
    memcpy(buf, s, n + 1);
    *len = n;
    return 0;
}

static void show_request(int fd, const struct msig_pin_request *req)
{
    const char *who = req->label != NULL && req->label[0] ? req->label : req->key_spec;
    if (req->flags & MSIG_PIN_F_FINAL_TRY)
        dprintf(fd, "Warning: one more wrong PIN locks the token.\n");
    else if (req->flags & MSIG_PIN_F_COUNT_LOW)
        dprintf(fd, "Warning: wrong PINs were entered before.\n");
    dprintf(fd, "%sPIN or passphrase for %s", (req->flags & MSIG_PIN_F_RETRY) ? "Wrong; " : "",
            who != NULL ? who : "key");
    if (req->tries_left > 0)
        dprintf(fd, " (%u tries left)", (unsigned)req->tries_left);
    dprintf(fd, ": ");
}

static int prompt(const struct msig_pin_request *req, char *buf, size_t cap, size_t *len)
{
    struct termios old, noecho;
    int echo_off = 0, rc = MSIG_E_CANCELLED;
    size_t n = 0;
    char c = 0;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return MSIG_E_PIN_REQUIRED;
    show_request(fd, req);
    if (tcgetattr(fd, &old) == 0) {
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(fd, TCSAFLUSH, &noecho) == 0;
    }
    while (read(fd, &c, 1) == 1) {
        if (c == '\n' || c == '\r') {
            rc = 0;
            break;
        }
        if (n + 1 < cap)
            buf[n++] = c;
    }
    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &old);
    dprintf(fd, "\n");
    close(fd);
    c = 0;
    buf[n] = '\0';
    *len = n;
    return rc;
}

int cli_pin(void *user, const struct msig_pin_request *req, char *buf, size_t cap, size_t *len)
{
    const struct cli *cli = user;
    int rc;
    *len = 0;
    if (cap == 0)
        return MSIG_E_PIN_REQUIRED;
    if (cli->passphrase_file != NULL)
        rc = from_file(cli->passphrase_file, buf, cap, len);
    else if (cli->env_passphrase != NULL)
        rc = from_string(cli->env_passphrase, buf, cap, len);
    else if ((req->flags & MSIG_PIN_F_NO_PROMPT) || !isatty(STDIN_FILENO))
        rc = MSIG_E_PIN_REQUIRED;
    else
        rc = prompt(req, buf, cap, len);
    if (rc != 0) {
        explicit_bzero(buf, cap);
        *len = 0;
    }
    return rc;
}
