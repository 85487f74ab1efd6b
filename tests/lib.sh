# tests/lib.sh -- TAP helpers for the shell tests (*.t). Source it first:
#   . "$(dirname "$0")/../lib.sh"
# Environment (set by CTest and tests/run-prove): MSIG (the CLI), MSIG_SOURCE_DIR,
# MSIG_BUILD_DIR, MSIG_INTEROP (../shared/interop beside the source tree).
set -u

: "${MSIG_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${MSIG_BUILD_DIR:=$MSIG_SOURCE_DIR/build}"
: "${MSIG:=$MSIG_BUILD_DIR/cli/msig}"
: "${MSIG_INTEROP:=$MSIG_SOURCE_DIR/../shared/interop}"
export MSIG MSIG_SOURCE_DIR MSIG_BUILD_DIR MSIG_INTEROP

_tap_n=0
_tap_fail=0
_tap_plan=""

plan() { _tap_plan=$1; echo "1..$1"; }
diag() { local l; while IFS= read -r l; do echo "# $l"; done <<<"$*"; }

ok() { # ok COND_RC NAME
  _tap_n=$((_tap_n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"; else echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
  return "$1"
}
is() { # is GOT WANT NAME
  if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "  got: '$1'"; diag " want: '$2'"; return 1; fi
}
like() { # like GOT SUBSTRING NAME
  case "$1" in *"$2"*) ok 0 "$3" ;; *) ok 1 "$3"; diag "  got: '$1'"; diag " want it to contain: '$2'"; return 1 ;; esac
}
unlike() { # unlike GOT SUBSTRING NAME
  case "$1" in *"$2"*) ok 1 "$3"; diag "  got: '$1'"; diag " want it NOT to contain: '$2'"; return 1 ;; *) ok 0 "$3" ;; esac
}
skip() { # skip REASON NAME -- in CI (CI=true) a test that cannot run fails instead
  _tap_n=$((_tap_n + 1))
  if [ "${CI:-}" = "true" ]; then
    echo "not ok $_tap_n - $2 (cannot run in CI: $1)"; _tap_fail=$((_tap_fail + 1))
  else
    echo "ok $_tap_n - $2 # SKIP $1"
  fi
}
bail() { echo "Bail out! $*"; exit 255; }

# run CMD...: runs a command, sets $out (stdout), $err (stderr) and $rc.
run() {
  local o e
  o=$(mktemp) e=$(mktemp)
  "$@" >"$o" 2>"$e"
  rc=$?
  out=$(cat "$o") err=$(cat "$e")
  rm -f "$o" "$e"
  return 0
}

# need TOOL...: bail out (fail) when a tool the test needs is missing.
need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || bail "required tool '$t' is not installed"
  done
}

# A scratch directory removed at exit.
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/msig-test.XXXXXX")
_tap_cleanup() { rm -rf "$TMPD"; }
trap _tap_cleanup EXIT

# Deterministic pseudo-random file: mkdata PATH SIZE_BYTES [SEED]
mkdata() {
  openssl enc -aes-128-ctr -nosalt -pass "pass:${3:-msig}" -pbkdf2 -iter 1 \
    -in /dev/zero 2>/dev/null | head -c "$2" >"$1"
}

done_testing() {
  if [ -z "$_tap_plan" ]; then echo "1..$_tap_n"; elif [ "$_tap_plan" -ne "$_tap_n" ]; then
    echo "# planned $_tap_plan tests but ran $_tap_n"; exit 1; fi
  [ "$_tap_fail" -eq 0 ]
  exit $?
}
