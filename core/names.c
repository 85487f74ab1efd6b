/* names.c -- the name rules for payload files and state scripts. */
#include "names.h"

#include <string.h>

static const char *const STATES[] = { "ArtifactInstall",        "ArtifactReboot",
                                      "ArtifactCommit",         "ArtifactRollback",
                                      "ArtifactRollbackReboot", "ArtifactFailure" };
static const char *const ACTIONS[] = { "_Enter_", "_Leave_", "_Error_" };

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int msigi_name_payload_ok(const char *base)
{
    size_t n = strlen(base);
    if (n == 0 || n > MSIGI_NAME_MAX || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = base[i];
        if (!(is_letter(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == ','))
            return 0;
    }
    return 1;
}

/* Length of "_<Action>_NN" at p (9), or 0 when p does not start with one. */
static size_t action_at(const char *p)
{
    for (size_t i = 0; i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++)
        if (strncmp(p, ACTIONS[i], 7) == 0 && is_digit(p[7]) && is_digit(p[8]))
            return 9;
    return 0;
}

static int known_state(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(STATES) / sizeof(STATES[0]); i++)
        if (strlen(STATES[i]) == len && memcmp(STATES[i], s, len) == 0)
            return 1;
    return 0;
}

int msigi_name_script(const char *base, const char **state, size_t *state_len)
{
    if (!msigi_name_payload_ok(base))
        return MSIGI_SCRIPT_BAD_NAME;
    /* The group ([A-Za-z]+) ends where a run of letters ends ('_' is no letter), and the
     * leftmost match starts where the first run that is followed by an action starts. */
    for (const char *p = base; *p;) {
        if (!is_letter(*p)) {
            p++;
            continue;
        }
        const char *run = p;
        while (is_letter(*p))
            p++;
        size_t alen = action_at(p);
        if (alen == 0)
            continue;
        if (p[alen] != '\0' && p[alen] != '_')
            return MSIGI_SCRIPT_BAD_NAME;
        if (!known_state(run, (size_t)(p - run))) {
            if (state)
                *state = run;
            if (state_len)
                *state_len = (size_t)(p - run);
            return MSIGI_SCRIPT_BAD_STATE;
        }
        return MSIGI_SCRIPT_OK;
    }
    return MSIGI_SCRIPT_BAD_NAME;
}
