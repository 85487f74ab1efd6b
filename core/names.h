/* names.h -- the name rules for payload files and state scripts (private), the one home of
 * both: the writer refuses what breaks them before it writes, the reader refuses artifacts
 * that break them. */
#ifndef MSIGI_NAMES_H
#define MSIGI_NAMES_H

#include <stddef.h>

#define MSIGI_NAME_MAX 255u /* bytes of a payload file or script basename */

/* A basename allowed for a payload file (spec §7, ^[\w\-.,]+$): 1 to MSIGI_NAME_MAX bytes of
 * ASCII letters, digits and "_-.,", and not "." or "..". 1 if allowed, else 0. */
int msigi_name_payload_ok(const char *base);

#define MSIGI_SCRIPT_OK 0
#define MSIGI_SCRIPT_BAD_NAME 1  /* not <State>_<Enter|Leave|Error>_<NN>[_<label>] */
#define MSIGI_SCRIPT_BAD_STATE 2 /* the form is right, the state is not one of the six */

/* The state-script name rule (spec §5.6): the basename is a payload-file name that holds
 * <State>_<Enter|Leave|Error>_<NN>, found as mender-artifact finds it (the leftmost match of
 * ([A-Za-z]+)_(Enter|Leave|Error)_[0-9][0-9]), followed by the end or by "_<label>", and
 * State is ArtifactInstall, ArtifactReboot, ArtifactCommit, ArtifactRollback,
 * ArtifactRollbackReboot or ArtifactFailure. Returns MSIGI_SCRIPT_*; for BAD_STATE, *state
 * and *state_len (either may be NULL) give the state that was found. */
int msigi_name_script(const char *base, const char **state, size_t *state_len);

#endif
