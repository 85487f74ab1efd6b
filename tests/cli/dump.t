#!/usr/bin/env bash
# tests/cli/dump.t -- `msig dump`: extracted files and scripts equal the inputs, meta-data
# as JSON, --print-cmdline recreates an equivalent artifact, --print0-cmdline on a
# bootstrap artifact (mender-artifact 3.9.0 panics there), and failures leave nothing.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi

IN=$TMPD/in
D=$TMPD/d
mkdir -p "$IN/scripts" "$D"
mkdata "$IN/app.bin" 5000 app
mkdata "$IN/config.json" 300 cfg
: >"$IN/empty.bin"
printf '#!/bin/sh\nexit 0\n' >"$IN/scripts/ArtifactInstall_Enter_01_first"
chmod 755 "$IN/scripts/ArtifactInstall_Enter_01_first"
printf '{"b":2,"a":"x"}\n' >"$IN/meta.json"
A=$TMPD/mod.mender
export SOURCE_DATE_EPOCH=1700000000

run "$MSIG" write module-image -T my-mod -f "$IN/app.bin" -f "$IN/config.json" -f "$IN/empty.bin" \
  -m "$IN/meta.json" -s "$IN/scripts" -n mod-1 -t dev1 -t dev2 -p k1:v1 -d d1:w1 -g grp \
  -N rel-0 -G g0 --clears-provides c.* -o "$A"
is "$rc" 0 "write the module artifact" || diag "$err"

run "$MSIG" dump "$A" --files "$D/files" --scripts "$D/scripts" --meta-data "$D/meta" --print-cmdline
is "$rc" 0 "dump: exit 0" || diag "$err"
for f in app.bin config.json empty.bin; do
  cmp -s "$IN/$f" "$D/files/$f"; ok $? "dump: $f equals the input"
done
cmp -s "$IN/scripts/ArtifactInstall_Enter_01_first" "$D/scripts/ArtifactInstall_Enter_01_first"
ok $? "dump: script equals the input"
[ -x "$D/scripts/ArtifactInstall_Enter_01_first" ]; ok $? "dump: script keeps its mode"
is "$(cat "$D/meta/0000.meta-data")" '{"a":"x","b":2}' "dump: meta-data JSON (compact, sorted)"
is "$(ls -A "$D/files" | tr '\n' ' ')" "app.bin config.json empty.bin " "dump: no temp files left"
cmd=$out
like "$cmd" "write module-image --artifact-name mod-1 --device-type dev1 --device-type dev2" \
  "print-cmdline: starts like mender-artifact 3.9.0"
like "$cmd" "--type my-mod" "print-cmdline: payload type"
like "$cmd" "--file $D/files/app.bin" "print-cmdline: file paths inside --files"
like "$cmd" "--meta-data $D/meta/0000.meta-data" "print-cmdline: meta-data path"
like "$cmd" "--script $D/scripts/ArtifactInstall_Enter_01_first" "print-cmdline: script path"
like "$cmd" "--provides k1:v1" "print-cmdline: provides"
like "$cmd" "--depends d1:w1" "print-cmdline: depends"

# Recreate from the printed command line: same header.
eval "set -- $cmd"
run "$MSIG" "$@" -o "$TMPD/again.mender"
is "$rc" 0 "print-cmdline: the command line runs" || diag "$err"
run "$MSIG" read "$A"
first=$(printf '%s\n' "$out" | grep -v 'modified:')
run "$MSIG" read "$TMPD/again.mender"
second=$(printf '%s\n' "$out" | grep -v 'modified:')
is "$second" "$first" "print-cmdline: the recreated artifact reads the same"

"$MSIG" dump --print0-cmdline "$A" >"$TMPD/argv0.raw"
is "$?" 0 "print0-cmdline: exit 0"
tr '\0' '\n' <"$TMPD/argv0.raw" >"$TMPD/argv0"
is "$(head -n 3 "$TMPD/argv0" | tr '\n' ' ')" "write module-image --artifact-name " \
  "print0-cmdline: NUL-separated arguments"

# Bootstrap: no crash, a bootstrap-artifact command line.
run "$MSIG" write bootstrap-artifact -n boot-1 -t dev1 -p a.b:c -o "$TMPD/boot.mender"
is "$rc" 0 "write bootstrap" || diag "$err"
"$MSIG" dump --print0-cmdline "$TMPD/boot.mender" >"$TMPD/boot0.raw"
is "$?" 0 "bootstrap print0-cmdline: exit 0 (mender-artifact 3.9.0 panics)"
is "$(tr '\0' ' ' <"$TMPD/boot0.raw" | cut -d' ' -f1-4)" "write bootstrap-artifact --artifact-name boot-1" \
  "bootstrap print0-cmdline: NUL-separated bootstrap-artifact line"
run "$MSIG" dump --print-cmdline "$TMPD/boot.mender"
like "$out" "write bootstrap-artifact --artifact-name boot-1 --device-type dev1" \
  "bootstrap print-cmdline: bootstrap-artifact"
like "$out" "--provides a.b:c" "bootstrap print-cmdline: provides"

# Failures: nothing is left in the target directories.
cp "$A" "$TMPD/trunc.mender"
truncate -s $(( $(stat -c %s "$A") - 1500 )) "$TMPD/trunc.mender"
sum=$(sha256sum <"$TMPD/trunc.mender")
run "$MSIG" dump "$TMPD/trunc.mender" --files "$D/f2" --scripts "$D/s2" --meta-data "$D/m2"
is "$rc" 1 "dump truncated: exit 1"
[ -n "$err" ]; ok $? "dump truncated: message"
is "$(ls -A "$D/f2" "$D/s2" "$D/m2" 2>/dev/null | grep -v ':$' | grep -v '^$')" "" \
  "dump truncated: no files left"
is "$(sha256sum <"$TMPD/trunc.mender")" "$sum" "dump truncated: input unchanged"

run "$MSIG" dump "$TMPD/missing.mender" --files "$D/f3"
is "$rc" 1 "dump missing file: exit 1"
like "$err" "missing.mender" "dump missing file: names the file"
run "$MSIG" dump
is "$rc" 1 "dump without a file: exit 1"
run "$MSIG" dump --bogus "$A"
is "$rc" 1 "dump unknown flag: exit 1"
like "$err" "flag provided but not defined: --bogus" "dump unknown flag: message"

# --print-cmdline names only what was dumped: with --files alone, no -s or -m that would
# point at files that do not exist; the printed command rebuilds a valid artifact.
mkdir -p "$TMPD/only-files" && cd "$TMPD/only-files" || bail "cd"
run "$MSIG" dump "$MSIG_INTEROP/module-options-rsa3072.mender" --files f --print-cmdline
is "$rc" 0 "dump --files --print-cmdline"
unlike "$out" "--script" "no --script without --scripts"
unlike "$out" "--meta-data" "no --meta-data without --meta-data"
like "$out" "--file f/app.bin" "the dumped file is named"
eval "set -- $out"
run "$MSIG" "$@" -o rebuilt.mender
is "$rc" 0 "the printed command runs" || diag "$err"
run "$MSIG" validate rebuilt.mender
is "$rc" 0 "and writes a valid artifact" || diag "$err"
cd - >/dev/null || true

done_testing
