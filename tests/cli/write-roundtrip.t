#!/usr/bin/env bash
# tests/cli/write-roundtrip.t -- `msig write` of every payload kind in every compression,
# checked with `msig validate`/`msig read` and with the real mender-artifact 3.9.0
# (which cannot read zstd). Also: -o - equals the file output, SOURCE_DATE_EPOCH makes
# writes byte-identical, and signing while writing verifies with both tools.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
have_ma=0
command -v mender-artifact >/dev/null 2>&1 && have_ma=1

IN=$TMPD/in
OUT=$TMPD/out
mkdir -p "$IN/scripts" "$OUT"
mkdata "$IN/rootfs.ext4" 20000
mkdata "$IN/app.bin" 5000 app
mkdata "$IN/config.json" 300 cfg
mkdata "$IN/aug.bin" 700 aug
printf '#!/bin/sh\nexit 0\n' >"$IN/scripts/ArtifactInstall_Enter_01_first"
printf '#!/bin/sh\nexit 0\n' >"$IN/scripts/ArtifactCommit_Leave_02_second"
chmod 755 "$IN/scripts/"*
printf '{"service":"demo","ports":[80,443],"nested":{"a":"b"}}\n' >"$IN/meta.json"
printf '{"aug":true}\n' >"$IN/aug-meta.json"
PRIV=$MSIG_INTEROP/keys/rsa2048-private-trad.pem
PUB=$MSIG_INTEROP/keys/rsa2048-public.pem
PRIV_EC=$MSIG_INTEROP/keys/p256-private-trad.pem
PUB_EC=$MSIG_INTEROP/keys/p256-public.pem
rootfs_sum=$(sha256sum "$IN/rootfs.ext4" | cut -d' ' -f1)
export SOURCE_DATE_EPOCH=1700000000

write_kind() { # write_kind KIND COMP OUTFILE [extra args]
  local kind=$1 comp=$2 o=$3
  shift 3
  case "$kind" in
  rootfs) run "$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -n "rootfs-$comp" \
            -t dev1 -t dev2 --compression "$comp" -o "$o" "$@" ;;
  module) run "$MSIG" write module-image -T my-mod -f "$IN/app.bin" -f "$IN/config.json" \
            -m "$IN/meta.json" -s "$IN/scripts" -n "module-$comp" -c dev1 \
            -p mod.key:mv -d mod.dep:dv -N rel-0 -g grp1 -G grp0 --clears-provides x.y \
            --augment-type aug-mod --augment-file "$IN/aug.bin" \
            --augment-provides aug.key:av --augment-depends aug.dep:ad \
            --augment-meta-data "$IN/aug-meta.json" --compression "$comp" -o "$o" "$@" ;;
  bootstrap) run "$MSIG" write bootstrap-artifact -n "bootstrap-$comp" -t dev1 \
            -p boot.key:bv --clears-provides boot.* --compression "$comp" -o "$o" "$@" ;;
  esac
}

for comp in none gzip lzma zstd_fastest zstd_fast zstd_better zstd_best; do
  for kind in rootfs module bootstrap; do
    a=$OUT/$kind-$comp.mender
    write_kind "$kind" "$comp" "$a"
    is "$rc" 0 "$kind/$comp: write exits 0" || diag "$err"
    is "$out" "" "$kind/$comp: write prints nothing on stdout"
    run "$MSIG" validate "$a"
    is "$rc" 0 "$kind/$comp: msig validate exits 0" || diag "$err"
    is "$out" "Artifact file '$a' validated successfully" "$kind/$comp: msig validate message"
    run "$MSIG" read "$a"
    is "$rc" 0 "$kind/$comp: msig read exits 0" || diag "$err"
    like "$out" "Mender Artifact:
  Name: $kind-$comp
  Format: mender
  Version: 3
  Signature: no signature" "$kind/$comp: msig read header"
    case "$kind" in
    rootfs)
      like "$out" "  Compatible types: [dev1, dev2]" "$kind/$comp: read device types"
      like "$out" "  - Type: rootfs-image" "$kind/$comp: read type"
      like "$out" "      rootfs-image.checksum: $rootfs_sum
      rootfs-image.version: rootfs-$comp" "$kind/$comp: read provides, sorted"
      like "$out" "    Clears Provides: [artifact_group, rootfs_image_checksum, rootfs-image.*]" \
        "$kind/$comp: read default clears"
      like "$out" "      - checksum: $rootfs_sum
        modified: " "$kind/$comp: read file checksum"
      like "$out" "        name: rootfs.ext4
        size: 20000" "$kind/$comp: read file name and size"
      ;;
    module)
      like "$out" "  Provides group: grp1
  Depends on one of artifact(s): [rel-0]
  Depends on one of group(s): [grp0]
  State scripts:
    - " "$kind/$comp: read header-info fields"
      like "$out" "    - ArtifactInstall_Enter_01_first" "$kind/$comp: read lists script 1"
      like "$out" "    - ArtifactCommit_Leave_02_second" "$kind/$comp: read lists script 2"
      # augmented: the augment type names the module that installs it, as mender-artifact shows
      like "$out" "  - Type: aug-mod" "$kind/$comp: read type (augmented)"
      like "$out" "      aug.key: av" "$kind/$comp: read augmented provide"
      like "$out" "      mod.key: mv" "$kind/$comp: read provide"
      like "$out" "      mod.dep: dv" "$kind/$comp: read depend"
      like "$out" "    Metadata:
      {" "$kind/$comp: read meta-data block"
      like "$out" '        "service": "demo"' "$kind/$comp: read meta-data indented"
      like "$out" "        name: app.bin" "$kind/$comp: read file app.bin"
      like "$out" "        name: config.json" "$kind/$comp: read file config.json"
      like "$out" "        name: aug.bin" "$kind/$comp: read augment file"
      ;;
    bootstrap)
      like "$out" "  - Type: Empty type" "$kind/$comp: read bootstrap type"
      like "$out" "      boot.key: bv" "$kind/$comp: read bootstrap provide"
      like "$out" "    Files: []" "$kind/$comp: read bootstrap has no files"
      ;;
    esac
    run "$MSIG" read --json "$a"
    is "$rc" 0 "$kind/$comp: msig read --json exits 0"
    like "$out" "$kind-$comp" "$kind/$comp: read --json names the artifact"
    case "$comp" in zstd*) continue ;; esac
    if [ $have_ma -eq 0 ]; then
      skip "mender-artifact not installed" "$kind/$comp: mender-artifact validate"
      skip "mender-artifact not installed" "$kind/$comp: mender-artifact read"
      continue
    fi
    run mender-artifact validate "$a"
    is "$rc" 0 "$kind/$comp: mender-artifact validate exits 0" || diag "$err"
    run mender-artifact read --no-progress "$a"
    is "$rc" 0 "$kind/$comp: mender-artifact read exits 0" || diag "$err"
    like "$out" "Name: $kind-$comp" "$kind/$comp: mender-artifact read shows the name"
  done
done

# rootfs-image as format version 2
a=$OUT/rootfs-v2.mender
run "$MSIG" write rootfs-image -v 2 -f "$IN/rootfs.ext4" -n rootfs-v2 -t dev1 -o "$a"
is "$rc" 0 "v2: write exits 0" || diag "$err"
run "$MSIG" read "$a"
like "$out" "  Version: 2" "v2: msig read shows version 2"
if [ $have_ma -eq 1 ]; then
  run mender-artifact validate "$a"
  is "$rc" 0 "v2: mender-artifact validate exits 0" || diag "$err"
else
  skip "mender-artifact not installed" "v2: mender-artifact validate"
fi

# Signing while writing, RSA and P-256, checked by both tools.
for k in rsa ec; do
  if [ $k = rsa ]; then priv=$PRIV pub=$PUB; else priv=$PRIV_EC pub=$PUB_EC; fi
  for kind in rootfs module bootstrap; do
    a=$OUT/signed-$k-$kind.mender
    write_kind "$kind" gzip "$a" -k "$priv"
    is "$rc" 0 "signed $k/$kind: write -k exits 0" || diag "$err"
    run "$MSIG" validate -k "$pub" "$a"
    is "$rc" 0 "signed $k/$kind: msig validate -k exits 0" || diag "$err"
    run "$MSIG" validate "$a"
    is "$rc" 4 "signed $k/$kind: msig validate without key exits 4"
    is "$(printf '%s\n' "$err" | grep -v '^warning: ')" "missing verifier" "signed $k/$kind: missing verifier"
    run "$MSIG" read -k "$pub" "$a"
    like "$out" "  Signature: signed and verified correctly" "signed $k/$kind: msig read -k verifies"
    if [ $have_ma -eq 1 ]; then
      run mender-artifact validate -k "$pub" "$a"
      is "$rc" 0 "signed $k/$kind: mender-artifact validate -k exits 0" || diag "$err"
    else
      skip "mender-artifact not installed" "signed $k/$kind: mender-artifact validate -k"
    fi
  done
done

# -o - writes the same bytes as a file (SOURCE_DATE_EPOCH is set).
write_kind rootfs gzip "$OUT/file-rootfs.mender"
"$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -n rootfs-gzip -t dev1 -t dev2 --compression gzip \
  -o - >"$OUT/stdout-rootfs.mender" 2>"$OUT/stdout.err"
is "$?" 0 "-o -: exit code 0"
cmp -s "$OUT/file-rootfs.mender" "$OUT/stdout-rootfs.mender"
ok $? "-o - writes the same bytes as -o FILE"
run "$MSIG" validate "$OUT/stdout-rootfs.mender"
is "$rc" 0 "-o - output validates"

# Reproducible: two writes with the same SOURCE_DATE_EPOCH are byte-identical, also after
# the payload files' mtimes change (to later than SOURCE_DATE_EPOCH: mtimes are clamped).
for kind in rootfs module bootstrap; do
  write_kind "$kind" gzip "$OUT/rep1-$kind.mender"
  touch -d '2031-02-03 04:05:06' "$IN/"*.bin "$IN/rootfs.ext4" "$IN/scripts/"*
  write_kind "$kind" gzip "$OUT/rep2-$kind.mender"
  cmp -s "$OUT/rep1-$kind.mender" "$OUT/rep2-$kind.mender"
  ok $? "$kind: SOURCE_DATE_EPOCH makes two writes byte-identical"
done

# Global --compression before the command, and a command-level one overriding it.
run "$MSIG" --compression lzma write rootfs-image -f "$IN/rootfs.ext4" -n g -t dev1 -o "$OUT/g1.mender"
is "$(tar -tf "$OUT/g1.mender" | tr '\n' ' ')" "version manifest header.tar.xz data/0000.tar.xz " \
  "global --compression lzma is used"
run "$MSIG" --compression lzma write rootfs-image -f "$IN/rootfs.ext4" -n g -t dev1 \
  --compression none -o "$OUT/g2.mender"
is "$(tar -tf "$OUT/g2.mender" | tr '\n' ' ')" "version manifest header.tar data/0000.tar " \
  "command-level --compression overrides the global one"

# Default output name: artifact.mender in the working directory.
mkdir -p "$OUT/cwd"
(cd "$OUT/cwd" && "$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -n d -t dev1 >/dev/null 2>&1)
[ -f "$OUT/cwd/artifact.mender" ]; ok $? "default output is artifact.mender"

# Flags after the positional kind and in any order (getopt permutation), -c long form.
run "$MSIG" write module-image --artifact-name perm -o "$OUT/perm.mender" --compatible-types dev1 \
  --type t --file "$IN/app.bin" --no-progress
is "$rc" 0 "long flags in any order" || diag "$err"

# --software-* after -p wins; -p after --software-* wins.
run "$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -n sw -t dev1 -p rootfs-image.version:user \
  --software-version 9.9 -o "$OUT/sw1.mender"
run "$MSIG" read "$OUT/sw1.mender"
like "$out" "rootfs-image.version: 9.9" "--software-version after -p wins"
run "$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -n sw -t dev1 --software-version 9.9 \
  -p rootfs-image.version:user -o "$OUT/sw2.mender"
run "$MSIG" read "$OUT/sw2.mender"
like "$out" "rootfs-image.version: user" "-p after --software-version wins"

# Size warning goes to stderr as "warning: ...", the write still succeeds.
run "$MSIG" write rootfs-image -f "$IN/rootfs.ext4" -n w -t dev1 --warn-artifact-size 1KB \
  -o "$OUT/warn.mender"
is "$rc" 0 "--warn-artifact-size: write succeeds"
like "$err" "warning: " "--warn-artifact-size: warning on stderr"

done_testing
