#!/usr/bin/env bash
# tests/cli/write-errors.t -- every parameter error of `msig write`: message, exit code 1,
# and no output file left behind (nor the default artifact.mender in the working directory).
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi

IN=$TMPD/in
OUT=$TMPD/out
mkdir -p "$IN" "$OUT"
mkdata "$IN/rootfs.ext4" 4096
mkdata "$IN/app.bin" 1000 app
mkdata "$IN/sub-app.bin" 10 sub
mkdir -p "$IN/sub" && cp "$IN/app.bin" "$IN/sub/app.bin"
printf '#!/bin/sh\nexit 0\n' >"$IN/ArtifactInstall_Enter_01_ok"
printf '#!/bin/sh\nexit 0\n' >"$IN/a.txt"
printf '[1, 2]\n' >"$IN/array.json"
printf '{"a": ' >"$IN/broken.json"
KEY=$MSIG_INTEROP/keys/rsa2048-private-trad.pem
KEY2=$MSIG_INTEROP/keys/p256-private-trad.pem
cd "$OUT" || bail "cannot cd to $OUT"

# nothing_written NAME: the output directory (also the working directory) is still empty.
nothing_written() {
  local left
  left=$(ls -A "$OUT")
  is "$left" "" "$1: no output file left"
}
# fails_with CODE SUBSTRING NAME: last run exited CODE and stderr contains SUBSTRING.
fails_with() {
  is "$rc" "$1" "$3: exit code $1"
  like "$err" "$2" "$3: message"
  nothing_written "$3"
}

R=("$MSIG" write rootfs-image -f "$IN/rootfs.ext4")

run "${R[@]}" -t dev -o "$OUT/a.mender"
fails_with 1 "artifact-name" "missing -n"

run "${R[@]}" -n rel-1 -o "$OUT/a.mender"
fails_with 1 "compatible-types" "missing -t and -c"

run "${R[@]}" -n rel-1 -t dev -c dev2 -o "$OUT/a.mender"
fails_with 1 "mutually exclusive" "-t together with -c"

run "$MSIG" write rootfs-image -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "-f/--file" "rootfs-image without -f"

run "${R[@]}" -f "$IN/app.bin" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "exactly one" "rootfs-image with two -f"

run "$MSIG" write module-image -n rel-1 -t dev -f "$IN/app.bin" -o "$OUT/a.mender"
fails_with 1 "-T/--type" "module-image without -T"

run "${R[@]}" -n rel-1 -t dev -p novalue -o "$OUT/a.mender"
fails_with 1 "argument must have a delimiting colon" "-p without colon"

run "${R[@]}" -n rel-1 -t dev -d novalue -o "$OUT/a.mender"
fails_with 1 "argument must have a delimiting colon" "-d without colon"

run "$MSIG" write module-image -T m -n rel-1 -t dev --augment-type a --augment-provides x -o "$OUT/a.mender"
fails_with 1 "argument must have a delimiting colon" "--augment-provides without colon"

run "${R[@]}" -n "rel 1" -t dev -o "$OUT/a.mender"
fails_with 1 "whitespace is not allowed in the artifact-name" "name with a space"

run "${R[@]}" -n "rel	1" -t dev -o "$OUT/a.mender"
fails_with 1 "whitespace is not allowed in the artifact-name" "name with a tab"

run "${R[@]}" -n rel-1 -t dev -v 1 -o "$OUT/a.mender"
fails_with 1 "Artifact version 1 is not supported" "-v 1"

run "${R[@]}" -n rel-1 -t dev -v 4 -o "$OUT/a.mender"
fails_with 1 "Artifact version 4 is not supported" "-v 4"

run "$MSIG" write module-image -T m -n rel-1 -t dev -v 2 -o "$OUT/a.mender"
fails_with 1 "version 2" "module-image -v 2"

run "${R[@]}" -n rel-1 -t dev --compression bogus -o "$OUT/a.mender"
fails_with 1 "compressor 'bogus' is not supported" "bad --compression"

run "$MSIG" --compression zstd write rootfs-image -f "$IN/rootfs.ext4" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "compressor 'zstd' is not supported" "bad global --compression"

run "${R[@]}" -n rel-1 -t dev -k "$KEY" -k "$KEY2" -o "$OUT/a.mender"
fails_with 1 "too many signing keys given" "two -k"

run "${R[@]}" -n rel-1 -t dev -k "$KEY" --gcp-kms-key projects/p/k -o "$OUT/a.mender"
fails_with 1 "too many signing keys given" "-k and --gcp-kms-key"

run "${R[@]}" -n rel-1 -t dev --key-pkcs11 "pkcs11:token=x" --azure-key k -o "$OUT/a.mender"
fails_with 1 "too many signing keys given" "--key-pkcs11 and --azure-key"

# External signers without their plugin (none in an empty plugin directory): a clear
# message, no output. With a built-in plugin the open still fails (no credentials here).
mkdir -p "$TMPD/noplugins"
for f in gcp-kms-key:gcp vault-transit-key:vault azure-key:azure \
         keyfactor-signserver-worker:signserver key-pkcs11:pkcs11; do
  MSIG_PLUGIN_PATH=$TMPD/noplugins run "${R[@]}" -n rel-1 -t dev "--${f%%:*}" "pkcs11:x" -o "$OUT/a.mender"
  fails_with 1 "${f#*:}" "--${f%%:*} without a plugin or credentials"
done

run "$MSIG" write rootfs-image -f "$IN/nonexistent.ext4" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "nonexistent.ext4" "missing payload file"

run "$MSIG" write module-image -T m -f "$IN/app.bin" -f "$IN/missing.bin" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "missing.bin" "missing module payload file"

run "${R[@]}" -n rel-1 -t dev -k "$IN/no-such-key.pem" -o "$OUT/a.mender"
fails_with 1 "no-such-key.pem" "signing key file missing"

run "${R[@]}" -n rel-1 -t dev -k "$IN/rootfs.ext4" -o "$OUT/a.mender"
fails_with 1 "rootfs.ext4" "signing key file is not a key"

run "${R[@]}" -n rel-1 -t dev --bogus-flag -o "$OUT/a.mender"
fails_with 1 "flag provided but not defined: --bogus-flag" "unknown long flag"

run "${R[@]}" -n rel-1 -t dev -X -o "$OUT/a.mender"
fails_with 1 "flag provided but not defined: -X" "unknown short flag"

run "${R[@]}" -n rel-1 -t dev -o
fails_with 1 "needs an argument" "-o without its argument"

run "$MSIG" write bootstrap-artifact -n rel-1 -t dev -f "$IN/app.bin" -o "$OUT/a.mender"
fails_with 1 "flag provided but not defined" "bootstrap-artifact with -f"


run "${R[@]}" -n rel-1 -t dev --max-artifact-size 10XB -o "$OUT/a.mender"
fails_with 1 "invalid size" "bad --max-artifact-size"

run "${R[@]}" -n rel-1 -t dev --warn-artifact-size lots -o "$OUT/a.mender"
fails_with 1 "invalid size" "bad --warn-artifact-size"

run "${R[@]}" -n rel-1 -t dev --max-artifact-size 1KB -o "$OUT/a.mender"
is "$rc" 1 "artifact above --max-artifact-size: exit code 1"
[ -n "$err" ]; ok $? "artifact above --max-artifact-size: message"
nothing_written "artifact above --max-artifact-size"

run "$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -n rel-1 -t dev -s "$IN/a.txt" -o "$OUT/a.mender"
fails_with 1 "a.txt" "bad state script name"

run "$MSIG" write module-image -T m -f "$IN/app.bin" -f "$IN/sub/app.bin" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "app.bin" "same basename twice"

run "$MSIG" write module-image -T m -m "$IN/array.json" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "array.json" "meta-data not a JSON object"

run "$MSIG" write module-image -T m -m "$IN/broken.json" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "broken.json" "meta-data not valid JSON"

run "$MSIG" write module-image -T m -m "$IN/none.json" -n rel-1 -t dev -o "$OUT/a.mender"
fails_with 1 "none.json" "meta-data file missing"

run "$MSIG" write module-image -T m -n rel-1 -t dev --augment-file "$IN/app.bin" -o "$OUT/a.mender"
fails_with 1 "--augment-type" "--augment-file without --augment-type"

# The default output name must not appear either.
run "$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -t dev
fails_with 1 "artifact-name" "missing -n with the default output path"

# Without a kind, the kinds (exit 0, as mender-artifact); a flag before the kind is an error.
run "$MSIG" write
is "$rc" 0 "write without a kind: exit 0 (as mender-artifact)"
like "$out" "rootfs-image" "write without a kind: lists the kinds"
run "$MSIG" write -n x rootfs-image
fails_with 1 "before the artifact kind" "write with a flag before the kind"

run "$MSIG" write floppy-image -n a -t b
fails_with 1 "unknown artifact kind" "write with an unknown kind"

done_testing
