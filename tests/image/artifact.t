#!/usr/bin/env bash
# tests/image/artifact.t -- cp, install, rm, cat and modify on rootfs-image artifacts written
# by mender-artifact 3.9.0 with each compression, run by msig and by mender-artifact on copies
# of the same input: the files in the edited payloads (debugfs), e2fsck -fn, the header
# (mender-artifact read), the compression kept, and mender-artifact validate -k accepting
# msig's re-signed output; without a key the signature is dropped with a warning.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/imglib.sh"
need mender-artifact tar python3

KEY=$MSIG_INTEROP/keys/rsa2048-private-trad.pem
PUB=$MSIG_INTEROP/keys/rsa2048-public.pem
readinfo=$MSIG_SOURCE_DIR/tests/interop/readinfo.py
R=$TMPD/rootfs.ext4
mkext4 "$R" 8M
echo payload-file >"$TMPD/f"
chmod 0644 "$TMPD/f"
echo CERT >"$TMPD/server.crt"

# payload ARTIFACT DIR: extracts the rootfs image of ARTIFACT into DIR (with mender-artifact's
# own dump? 3.9.0 has none: tar and the compression tools).
payload() {
  rm -rf "$2" && mkdir -p "$2"
  tar -xf "$1" -C "$2" 2>/dev/null && tar -xf "$2"/data/0000.tar* -C "$2" 2>/dev/null ||
    (cd "$2" && case $(ls data) in
      *.gz) gzip -dc data/0000.tar.gz | tar -x ;;
      *.xz) xz -dc data/0000.tar.xz | tar -x ;;
      *) tar -xf data/0000.tar ;;
    esac) 2>/dev/null
  echo "$2/rootfs.ext4"
}
names() { tar -tf "$1" | tr '\n' ' '; }

for comp in none gzip lzma; do
  A=$TMPD/$comp.mender
  mender-artifact write rootfs-image -t dev -n release-1 -f "$R" --compression "$comp" -k "$KEY" \
    -o "$A" >/dev/null 2>&1 || bail "mender-artifact write $comp"
  for step in "cp $TMPD/f IMG:/etc/new" "install -m 0700 $TMPD/f IMG:/usr/bin/tool" \
    "rm IMG:/d/e/f/g" "install -d IMG:/opt/dir" \
    "modify -n release-2 -u https://new.example.com -t TENANT -c $TMPD/server.crt"; do
    cp "$A" "$TMPD/m.mender"
    cp "$A" "$TMPD/a.mender"
    args=${step//IMG/$TMPD/m.mender}
    [ "${step%% *}" = modify ] && args="$step $TMPD/m.mender"
    run "$MSIG" $args -k "$KEY"
    is "$rc" 0 "$comp: msig $step: exit 0" || diag "$err"
    args=${step//IMG/$TMPD/a.mender}
    [ "${step%% *}" = modify ] && args="$step $TMPD/a.mender"
    run mender-artifact $args
    is "$rc" 0 "$comp: mender-artifact $step: exit 0" || diag "$err"
    run mender-artifact validate -k "$PUB" "$TMPD/m.mender"
    is "$rc" 0 "$comp: $step: mender-artifact validate -k accepts msig's output" || diag "$out $err"
    is "$(names "$TMPD/m.mender")" "$(names "$A")" "$comp: $step: the same entries (compression kept)"
    pm=$(payload "$TMPD/m.mender" "$TMPD/pm")
    pa=$(payload "$TMPD/a.mender" "$TMPD/pa")
    fsck_ok "$pm" "$comp: $step"
    same=0
    for p in /etc/new /usr/bin/tool /etc/mender/mender.conf /etc/mender/artifact_info /etc/mender/server.crt /etc/hostname; do
      [ "$(icat "$pm" $p | sha256sum)" = "$(icat "$pa" $p | sha256sum)" ] || { same=1; diag "$p differs"; }
      # mender-artifact replaces artifact_info by a file of mode 0600; msig keeps the file's own.
      [ $p = /etc/mender/artifact_info ] && continue
      [ "$(istat "$pm" $p)" = "$(istat "$pa" $p)" ] || { same=1; diag "$p: $(istat "$pm" $p) vs $(istat "$pa" $p)"; }
    done
    [ "${step%% *}" = modify ] &&
      is "$(istat "$pm" /etc/mender/artifact_info)" "0644 0 0 " "$comp: modify -n keeps artifact_info's mode"
    [ "$(debugfs -R 'ls /' "$pm" 2>/dev/null | tr -s ' ')" = "$(debugfs -R 'ls /' "$pa" 2>/dev/null | tr -s ' ')" ] ||
      { same=1; diag "the root directories differ"; }
    is "$same" 0 "$comp: $step: the same files as mender-artifact's edit"
    got=$(mender-artifact read "$TMPD/m.mender" 2>/dev/null | python3 "$readinfo" - | grep -v checksum)
    want=$(mender-artifact read "$TMPD/a.mender" 2>/dev/null | python3 "$readinfo" - | grep -v checksum)
    is "$got" "$want" "$comp: $step: the same header as mender-artifact's"
    run mender-artifact read "$TMPD/m.mender"
    like "$out" "rootfs-image.checksum: $(sha256sum <"$pm" | cut -d' ' -f1)" \
      "$comp: $step: rootfs-image.checksum is the edited payload's"
  done
done

# rm -r of a directory that is not empty (3.9.0's own rm -r fails there: "directory not empty").
cp "$TMPD/gzip.mender" "$TMPD/r.mender"
run "$MSIG" rm -r -k "$KEY" "$TMPD/r.mender:/d"
is "$rc" 0 "rm -r of a tree in an artifact: exit 0" || diag "$err"
pm=$(payload "$TMPD/r.mender" "$TMPD/pr")
run debugfs -R "stat /d" "$pm"
like "$err" "not found" "rm -r: the tree is gone from the payload"
fsck_ok "$pm" "rm -r in an artifact"

# Without a key: the signature is dropped, with a warning.
cp "$TMPD/gzip.mender" "$TMPD/u.mender"
run "$MSIG" cp "$TMPD/f" "$TMPD/u.mender:/etc/new"
is "$rc" 0 "unsigned cp: exit 0"
like "$err" "was signed; the edited artifact is not" "unsigned cp: the warning"
run mender-artifact read "$TMPD/u.mender"
like "$out" "Signature: no signature" "unsigned cp: no signature"

# --compression changes it; zstd (which 3.9.0 cannot read) round-trips through msig.
run "$MSIG" rm --compression lzma "$TMPD/u.mender:/etc/new"
is "$(names "$TMPD/u.mender")" "version manifest header.tar.xz data/0000.tar.xz " "--compression lzma"
run "$MSIG" --compression gzip cp "$TMPD/f" "$TMPD/u.mender:/etc/g"
is "$(names "$TMPD/u.mender")" "version manifest header.tar.gz data/0000.tar.gz " "the global --compression gzip"
run "$MSIG" cp --compression zstd_best -k "$KEY" "$TMPD/f" "$TMPD/u.mender:/etc/z"
is "$(names "$TMPD/u.mender")" "version manifest manifest.sig header.tar.zst data/0000.tar.zst " "--compression zstd_best"
run "$MSIG" cp -k "$KEY" "$TMPD/f" "$TMPD/u.mender:/etc/z2"
is "$(names "$TMPD/u.mender")" "version manifest manifest.sig header.tar.zst data/0000.tar.zst " "a zstd artifact stays zstd"
run "$MSIG" validate -k "$PUB" "$TMPD/u.mender"
is "$rc" 0 "msig validate accepts the zstd output" || diag "$err"
run "$MSIG" cat "$TMPD/u.mender:/etc/z2"
is "$out" "payload-file" "cat reads the zstd artifact's file"

# modify's header flags, compared with mender-artifact's.
cp "$TMPD/gzip.mender" "$TMPD/h1.mender"
cp "$TMPD/gzip.mender" "$TMPD/h2.mender"
printf '#!/bin/sh\nexit 0\n' >"$TMPD/ArtifactInstall_Enter_01_x"
hflags=(-N release-0 -N release-00 -g grp -G g1 -G g2 -p rootfs-image.version:v9 -p extra:1
  -d dep:x --clears-provides foo.* --delete-clears-provides rootfs_image_checksum)
# -s (newer than 3.9.0) only for msig.
run "$MSIG" modify "${hflags[@]}" -s "$TMPD/ArtifactInstall_Enter_01_x" -k "$KEY" "$TMPD/h1.mender"
is "$rc" 0 "modify with the header flags: exit 0" || diag "$err"
run mender-artifact modify "${hflags[@]}" "$TMPD/h2.mender"
is "$rc" 0 "mender-artifact modify with the header flags: exit 0" || diag "$err"
got=$(mender-artifact read "$TMPD/h1.mender" 2>/dev/null | python3 "$readinfo" - | grep -v checksum)
want=$(mender-artifact read "$TMPD/h2.mender" 2>/dev/null | python3 "$readinfo" - | grep -v checksum)
is "$got" "$want" "modify header flags: the same header as mender-artifact's"
run mender-artifact read "$TMPD/h1.mender"
like "$out" "ArtifactInstall_Enter_01_x" "modify -s: the script is in the artifact"
like "$out" '"foo.*"' "modify --clears-provides: added"
unlike "$out" '"rootfs_image_checksum"' "modify --delete-clears-provides: removed"
run mender-artifact validate -k "$PUB" "$TMPD/h1.mender"
is "$rc" 0 "modify header flags: mender-artifact validate -k accepts it"

# A module-image: the header changes, the payload stays.
echo app >"$TMPD/app.bin"
"$MSIG" write module-image -T app -t dev -n mod-1 -f "$TMPD/app.bin" -o "$TMPD/mod.mender" --no-progress
run "$MSIG" modify -n mod-2 --compression none -k "$KEY" "$TMPD/mod.mender"
is "$rc" 0 "modify -n of a module-image: exit 0" || diag "$err"
run mender-artifact read "$TMPD/mod.mender"
like "$out" "Name: mod-2" "modify -n of a module-image: the new name"
like "$out" "app.bin" "modify of a module-image: the payload file is kept"
is "$(names "$TMPD/mod.mender")" "version manifest manifest.sig header.tar data/0000.tar " "modify --compression none of a module-image"
printf '{"app":{"port":8080}}' >"$TMPD/meta.json"
run "$MSIG" modify --name mod-3 -m "$TMPD/meta.json" -p app.version:2 "$TMPD/mod.mender"
is "$rc" 0 "modify --name -m -p of a module-image: exit 0" || diag "$err"
run "$MSIG" read --json "$TMPD/mod.mender"
like "$out" '"name": "mod-3"' "modify --name (the deprecated alias): the new name"
like "$out" '"port": 8080' "modify -m: the new meta-data"
like "$out" '"app.version": "2"' "modify -p: the new provides"
run "$MSIG" modify -u https://x "$TMPD/mod.mender"
is "$rc" 1 "modify -u of a module-image: exit 1"
like "$err" "the payload is of type 'app', not a rootfs-image" "modify -u of a module-image: message"
run "$MSIG" modify -m "$TMPD/meta.json" "$TMPD/gzip.mender"
is "$rc" 1 "modify -m of a rootfs-image: exit 1"
like "$err" "only a module-image payload has meta-data" "modify -m of a rootfs-image: message"

# modify -n of every artifact of the interop corpus that msig accepts (payloads that are no
# ext4 filesystem get the header change only, as with mender-artifact): re-signed, valid, renamed;
# augmented artifacts are refused with a message, unchanged.
while IFS=$'\t' read -r file kind expect _; do
  [ "$kind" = valid ] && [ "$expect" = accept ] || continue
  cp "$MSIG_INTEROP/$file" "$TMPD/c.mender"
  snap "$TMPD/c.mender"
  run "$MSIG" modify -n renamed -k "$KEY" "$TMPD/c.mender"
  if "$MSIG" read --json "$MSIG_INTEROP/$file" 2>/dev/null | grep -q '"augmented": true'; then
    like "$err" "modifying augmented artifacts is not supported" "$file: augmented, refused"
    unchanged "$TMPD/c.mender" "$file"
    continue
  fi
  if [ "$file" = rootfs-ext4-rsa3072.mender ]; then
    # An ext4 payload without /etc/mender: refused, as by mender-artifact ("The directory:
    # /etc/mender does not exist in the image").
    is "$rc" 1 "$file: modify -n without /etc/mender: exit 1"
    like "$err" "the directory /etc/mender does not exist in the image" "$file: modify -n without /etc/mender: message"
    unchanged "$TMPD/c.mender" "$file"
    continue
  fi
  is "$rc" 0 "$file: modify -n: exit 0" || { diag "$err"; continue; }
  run "$MSIG" validate -k "$PUB" "$TMPD/c.mender"
  is "$rc" 0 "$file: the modified artifact validates with the new key" || diag "$err"
  run "$MSIG" read --json "$TMPD/c.mender"
  like "$out" '"name": "renamed"' "$file: the new name"
done <"$MSIG_INTEROP/index.tsv"

ls -A "$T" | grep -q .
is "$?" 1 "no temporary is left in TMPDIR"
done_testing
