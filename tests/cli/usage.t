#!/usr/bin/env bash
# tests/cli/usage.t -- global flags, the command table, unknown commands and flags, the
# image commands' usage errors, and `msig plugins`.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi

run "$MSIG" --version
is "$rc" 0 "--version: exit 0"
like "$out" "msig version " "--version: text"
like "$out" "(mender-artifact compatible)" "--version: compatibility note"
run "$MSIG" -v
is "$rc" 0 "-v: exit 0"
like "$out" "msig version " "-v: text"

run "$MSIG" -h
is "$rc" 0 "-h: exit 0"
like "$out" "Usage: msig" "-h: usage on stdout"
like "$out" "modify, cp, cat, install and rm edit the ext4 root filesystem" "-h: says what the image commands edit"
run "$MSIG" --help
is "$rc" 0 "--help: exit 0"

run "$MSIG"
is "$rc" 1 "no command: exit 1"
like "$err" "Usage: msig" "no command: usage on stderr"

run "$MSIG" frobnicate
is "$rc" 1 "unknown command: exit 1"
like "$err" "unknown command 'frobnicate'" "unknown command: message"
like "$err" "Usage: msig" "unknown command: usage on stderr"
is "$out" "" "unknown command: nothing on stdout"

run "$MSIG" --bogus read x
is "$rc" 1 "unknown global flag: exit 1"
like "$err" "flag provided but not defined: --bogus" "unknown global flag: message"

run "$MSIG" --compression
is "$rc" 1 "--compression without a value: exit 1"

run "$MSIG" modify "$TMPD/missing.mender"
is "$rc" 1 "modify of a missing file: exit 1"
is "$err" "msig modify: File [$TMPD/missing.mender] does not exist." "modify of a missing file: message"
run "$MSIG" modify
is "$rc" 1 "modify without a file: exit 1"
like "$err" "Nothing specified, nothing will be modified" "modify without a file: message"
for c in cat rm; do
  run "$MSIG" "$c" x.mender
  is "$rc" 1 "$c without ':/path': exit 1"
  is "$err" "msig: $c: failed to parse image path \"x.mender\" (want FILE:/path)" "$c without ':/path': message"
  run "$MSIG" "$c" x.mender:
  like "$err" "please enter a path into the image" "$c with an empty path: message"
  run "$MSIG" "$c" a b
  is "$rc" 1 "$c with two arguments: exit 1"
  like "$err" "got 2 arguments, wants one" "$c with two arguments: message"
done
run "$MSIG" cp a
is "$rc" 1 "cp with one argument: exit 1"
like "$err" "got 1 arguments, wants two" "cp with one argument: message"
run "$MSIG" cp a b
is "$rc" 1 "cp without an image: exit 1"
like "$err" "no artifact or image given" "cp without an image: message"
run "$MSIG" install a b
is "$rc" 1 "install without -m: exit 1"
like "$err" "file permissions need to be set with -m MODE" "install without -m: message"
run "$MSIG" install -m 9z a b
is "$rc" 1 "install -m 9z: exit 1"
like "$err" "invalid -m value \"9z\"" "install -m 9z: message"
run "$MSIG" install -d a b
like "$err" "wrong number of arguments, got 2" "install -d with two arguments: message"
run "$MSIG" rm --compression foo x:/a
is "$rc" 1 "rm --compression foo: exit 1"
like "$err" "compressor 'foo' is not supported" "rm --compression foo: message"
run "$MSIG" cp -k a -k b x y:/z
like "$err" "too many signing keys given" "cp with two keys: message"

for c in read validate sign dump plugins modify cp cat install rm; do
  run "$MSIG" "$c" --help
  is "$rc" 0 "$c --help: exit 0"
  like "$out" "Usage: msig" "$c --help: usage"
done
# msig help COMMAND is msig COMMAND --help.
for c in validate sign read "write rootfs-image"; do
  run "$MSIG" $c --help
  want=$out
  run "$MSIG" help $c
  is "$out" "$want" "msig help $c is msig $c --help"
done
run "$MSIG" help
like "$out" "Commands:" "msig help: the command list"
# Long flags with one dash, Go style, as mender-artifact and Mender's own scripts write them.
run "$MSIG" write rootfs-image -artifact-name go-style -device-type dev -file /etc/hostname \
  -output-path "$TMPD/go.mender" -compression none
is "$rc" 0 "write with -artifact-name/-device-type/-file/-output-path (one dash)" || diag "$err"
run "$MSIG" read "$TMPD/go.mender"
like "$out" "Name: go-style" "the one-dash flags took effect"
run "$MSIG" write rootfs-image -n short -t dev -f /etc/hostname -o "$TMPD/short.mender"
is "$rc" 0 "short flags still work" || diag "$err"
run "$MSIG" write rootfs-image -n t -t dev -f /etc/hostname --tmp "$TMPD/none" -o -
like "$err" "cannot create a temporary file in $TMPD/none" "--tmp DIR is the temporary directory"

# An unknown flag that looks like a typo names the nearest valid one.
run "$MSIG" validate --no-augmnt x.mender
is "$rc" 1 "a mistyped flag is a usage error (exit 1)"
like "$err" "flag provided but not defined: --no-augmnt (did you mean --no-augment?)" "and suggests the flag"
run "$MSIG" sign --frce x.mender
like "$err" "(did you mean --force?)" "sign: the nearest flag"
run "$MSIG" read --zzzzzzzz x.mender
unlike "$err" "did you mean" "nothing is suggested when nothing is near"

# Every flag a command accepts (its getopt table in cli/, the key flags included) is in its
# --help, with the exit status.
flags_of() { # flags_of FILE: the long option names of a command's source, with --
  { sed -n 's/^ *{ *"\([a-z0-9-]*\)", *\(no\|required\)_argument.*/--\1/p' "$MSIG_SOURCE_DIR/cli/$1.c"
    sed -n 's/^ *{"\([a-z0-9-]*\)", *\(no\|required\)_argument.*/--\1/p' "$MSIG_SOURCE_DIR/cli/common.h"
  } | sort -u
}
for c in validate read sign dump; do
  help=$("$MSIG" $c --help)
  missing=$(for f in $(flags_of $c); do [[ $help == *"$f"* ]] || echo "$f"; done | tr '\n' ' ')
  is "$missing" "" "$c --help lists every flag it accepts"
  like "$help" "Exit status" "$c --help gives the exit status"
done
help=$(for k in rootfs-image module-image bootstrap-artifact; do "$MSIG" write $k --help; done)
missing=$(for f in $(flags_of write); do [[ $help == *"$f"* ]] || echo "$f"; done | tr '\n' ' ')
is "$missing" "" "write KIND --help, over the kinds, lists every flag write accepts"
like "$("$MSIG" write module-image --help)" "default: artifact.mender" "write --help gives the defaults"
[ "$(flags_of write | wc -l)" -gt 30 ]
ok $? "the flag check reads the option tables ($(flags_of write | wc -l) write flags)"

run "$MSIG" write rootfs-image --help
is "$rc" 0 "write rootfs-image --help: exit 0"
like "$out" "--artifact-name" "write rootfs-image --help: flags"

run "$MSIG" plugins
is "$rc" 0 "plugins: exit 0" || diag "$err"
like "$out" "file" "plugins: lists the built-in file signer"
like "$out" "abi: 1." "plugins: shows the ABI version"
run "$MSIG" --plugin "$TMPD/no-such-plugin.so" plugins
is "$rc" 1 "--plugin with a missing file: exit 1"
like "$err" "no-such-plugin.so" "--plugin with a missing file: names the file"
run "$MSIG" plugins extra
is "$rc" 1 "plugins with an argument: exit 1"

done_testing
