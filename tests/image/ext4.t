#!/usr/bin/env bash
# tests/image/ext4.t -- cat, cp (both ways), install, rm and modify on bare ext4 images made
# with mkfs.ext4 -d: the files read back with debugfs, e2fsck -fn after every edit, the same
# edits by mender-artifact 3.9.0 on a copy give the same files; paths stay inside the image.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/imglib.sh"
need mender-artifact

I=$TMPD/rootfs.img
mkdir -p "$TMPD/tree"
mkrootfs "$TMPD/tree"
echo keep >"$TMPD/tree/etc/keep"
mkext4 "$I" 8M "$TMPD/tree"
# Extended attributes, set with debugfs: on a file no command touches and on one cp replaces.
debugfs -w -R "ea_set /etc/keep user.msig untouched" "$I" >/dev/null 2>&1
debugfs -w -R "ea_set /etc/hostname user.msig replaced" "$I" >/dev/null 2>&1
keep_before=$(debugfs -R "stat /etc/keep" "$I" 2>/dev/null)
like "$keep_before" 'user.msig (9) = "untouched"' "the untouched file has its extended attribute"

run "$MSIG" cat "$I:/etc/hostname"
is "$rc" 0 "cat: exit 0"
is "$out" "host-1" "cat: the file"
run "$MSIG" cat "$I:/usr/bin/abs-link"
is "$out" "host-1" "cat: an absolute symbolic link is followed inside the image"
run "$MSIG" cat "$I:/usr/bin/up/etc/hostname"
is "$out" "host-1" "cat: a link to ../../.. stops at the image root"
run "$MSIG" cat "$I:/../../../etc/hostname"
is "$out" "host-1" "cat: .. at the root stays at the root"
run "$MSIG" cat "$I://etc//mender/../hostname"
is "$out" "host-1" "cat: // and .. inside the path"
run mender-artifact cat "$I:/etc/hostname"
is "$out" "host-1" "mender-artifact cat reads the same file"

# cp into the image: a new file, an existing one (keeps mode and owner), a directory target.
mkdata "$TMPD/blob" 300000 blob
chmod 0640 "$TMPD/blob"
cp "$I" "$TMPD/ma.img"
snap "$I"
run "$MSIG" cp "$TMPD/blob" "$I:/usr/bin/blob"
is "$rc" 0 "cp in: exit 0" || diag "$err"
is "$(icat "$I" /usr/bin/blob | sha256sum)" "$(sha256sum <"$TMPD/blob")" "cp in: debugfs reads the same bytes"
is "$(istat "$I" /usr/bin/blob)" "0640 0 0 " "cp in: a new file gets the host mode and owner 0:0"
fsck_ok "$I" "cp in"
run mender-artifact cp "$TMPD/blob" "$TMPD/ma.img:/usr/bin/blob"
is "$rc" 0 "mender-artifact cp in: exit 0" || diag "$err"
is "$(icat "$TMPD/ma.img" /usr/bin/blob | sha256sum)" "$(icat "$I" /usr/bin/blob | sha256sum)" \
  "cp in: the same file as mender-artifact's"
ls -A "$TMPD" | grep -q '^\.rootfs\.img\.msig-'
is "$?" 1 "cp in: no work copy is left beside the image"
echo new-host >"$TMPD/hn"
run "$MSIG" cp "$TMPD/hn" "$I:/etc/hostname"
is "$(icat "$I" /etc/hostname)" "new-host" "cp over an existing file: the new data"
is "$(istat "$I" /etc/hostname)" "0600 0 0 " "cp over an existing file: mode 0600 kept"
run "$MSIG" cp "$TMPD/hn" "$I:/usr/bin/abs-link"
is "$(icat "$I" /etc/hostname)" "new-host" "cp over a symbolic link writes its target inside the image"
run "$MSIG" cp "$TMPD/hn" "$I:/d/"
is "$(icat "$I" /d/hn)" "new-host" "cp to DIR/: the host file's name"
echo from-stdin | "$MSIG" cp - "$I:/etc/stdin" && is "$(icat "$I" /etc/stdin)" "from-stdin" "cp - reads standard input"
fsck_ok "$I" "cp over files"

# cp out of the image.
run "$MSIG" cp "$I:/usr/bin/blob" "$TMPD/out"
is "$rc" 0 "cp out: exit 0" || diag "$err"
is "$(sha256sum <"$TMPD/out")" "$(sha256sum <"$TMPD/blob")" "cp out: the bytes"
is "$(stat -c %a "$TMPD/out")" "640" "cp out: the image file's mode"
mkdir "$TMPD/outdir"
run "$MSIG" cp "$I:/etc/hostname" "$TMPD/outdir"
is "$(cat "$TMPD/outdir/hostname")" "new-host" "cp out into a directory: the file's name"
run mender-artifact cp "$TMPD/ma.img:/usr/bin/blob" "$TMPD/ma-out"
is "$(sha256sum <"$TMPD/ma-out")" "$(sha256sum <"$TMPD/out")" "cp out: the same as mender-artifact's"

# install.
run "$MSIG" install -m 0755 "$TMPD/hn" "$I:/usr/bin/tool"
is "$rc" 0 "install -m 0755: exit 0" || diag "$err"
is "$(istat "$I" /usr/bin/tool)" "0755 0 0 " "install -m 0755: mode 0755"
run mender-artifact install -m 0755 "$TMPD/hn" "$TMPD/ma.img:/usr/bin/tool"
is "$(istat "$TMPD/ma.img" /usr/bin/tool)" "$(istat "$I" /usr/bin/tool)" "install: the same mode and owner as mender-artifact's"
is "$(icat "$TMPD/ma.img" /usr/bin/tool)" "$(icat "$I" /usr/bin/tool)" "install: the same bytes as mender-artifact's"
run "$MSIG" install -m 0600 "$TMPD/hn" "$I:/usr/bin/tool"
is "$(istat "$I" /usr/bin/tool)" "0600 0 0 " "install over an existing file sets the mode"
run "$MSIG" install -m 755 "$TMPD/hn" "$I:/usr/bin/dec"
run mender-artifact install -m 755 "$TMPD/hn" "$TMPD/ma.img:/usr/bin/dec"
is "$(istat "$I" /usr/bin/dec)" "$(istat "$TMPD/ma.img" /usr/bin/dec)" "install -m 755 (decimal, as Go reads it): the same mode as mender-artifact's"
run "$MSIG" install -d "$I:/opt/a/b"
is "$rc" 0 "install -d: exit 0" || diag "$err"
run debugfs -R "stat /opt/a/b" "$I"
like "$out" "Type: directory" "install -d: the directory and its parents exist"
run "$MSIG" install -d "$I:/opt/a"
is "$rc" 0 "install -d of an existing directory: exit 0"
fsck_ok "$I" "install"

# rm.
run "$MSIG" rm "$I:/usr/bin/tool"
is "$rc" 0 "rm: exit 0" || diag "$err"
run debugfs -R "stat /usr/bin/tool" "$I"
like "$err" "not found" "rm: the file is gone"
run "$MSIG" rm "$I:/usr/bin/abs-link"
is "$(icat "$I" /etc/hostname)" "new-host" "rm of a link removes the link, not its target"
run "$MSIG" rm "$I:/empty"
is "$rc" 0 "rm of an empty directory without -r: exit 0"
run "$MSIG" rm -r "$I:/d"
is "$rc" 0 "rm -r: exit 0" || diag "$err"
run debugfs -R "ls /" "$I"
unlike "$out" " d " "rm -r: the tree is gone"
fsck_ok "$I" "rm"
run mender-artifact rm "$TMPD/ma.img:/usr/bin/tool"
is "$rc" 0 "mender-artifact rm: exit 0"

# A directory that outgrows its block (1 KiB blocks here): it is expanded.
G=$TMPD/grow.img
mkext4 "$G" 8M
fails=0
for i in $(seq 1 60); do
  "$MSIG" cp "$TMPD/hn" "$G:/etc/a-file-with-a-rather-long-name-$i" 2>/dev/null || fails=$((fails + 1))
  "$MSIG" install -d "$G:/many/a-directory-with-a-long-name-$i" 2>/dev/null || fails=$((fails + 1))
done
is "$fails" 0 "60 files and 60 directories added one by one"
is "$(icat "$G" /etc/a-file-with-a-rather-long-name-60)" "new-host" "the last file is there"
fsck_ok "$G" "a grown directory"
run "$MSIG" rm -r "$G:/many"
fsck_ok "$G" "rm -r of a grown directory tree"

# modify: mender.conf keeps its other fields; artifact_info; certificate and key.
echo CERT >"$TMPD/server.crt"
run "$MSIG" modify -u https://new.example.com -t TENANT -n release-2 -c "$TMPD/server.crt" \
  -v "$MSIG_INTEROP/keys/p256-public.pem" "$I"
is "$rc" 0 "modify: exit 0" || diag "$err"
run mender-artifact modify -u https://new.example.com -t TENANT -n release-2 -c "$TMPD/server.crt" \
  -v "$MSIG_INTEROP/keys/p256-public.pem" "$TMPD/ma.img"
is "$rc" 0 "mender-artifact modify: exit 0" || diag "$err"
for f in /etc/mender/mender.conf /etc/mender/artifact_info /etc/mender/server.crt /etc/mender/artifact-verify-key.pem; do
  is "$(icat "$I" $f)" "$(icat "$TMPD/ma.img" $f)" "modify: $f as mender-artifact writes it"
done
is "$(icat "$I" /etc/mender/mender.conf)" \
  '{"InventoryPollIntervalSeconds":1800,"ServerURL":"https://new.example.com","TenantToken":"TENANT"}' \
  "modify: mender.conf keeps its other fields"
fsck_ok "$I" "modify"
# Long flags with one dash, as mender-artifact (Go) takes them.
run "$MSIG" modify -server-uri https://one-dash.example.com "$I"
is "$rc" 0 "modify -server-uri (one dash): exit 0" || diag "$err"
like "$(icat "$I" /etc/mender/mender.conf)" '"ServerURL":"https://one-dash.example.com"' "modify -server-uri: written"
run "$MSIG" modify -N other "$I"
is "$rc" 1 "modify -N on an image: exit 1"
like "$err" '`--artifact-name-depends` argument must be used with an Artifact' "modify -N on an image: message"

# Nothing else changed: the untouched file's inode (mode, owner, times, xattrs) is as it was;
# the replaced file kept its extended attribute.
is "$(debugfs -R "stat /etc/keep" "$I" 2>/dev/null)" "$keep_before" "a file no command named is unchanged (stat, times, xattrs)"
like "$(debugfs -R "ea_list /etc/hostname" "$I" 2>/dev/null)" "user.msig (8) = \"replaced\"" \
  "cp over a file keeps its extended attributes"

ls -A "$T" | grep -q .
is "$?" 1 "no temporary is left in TMPDIR"
done_testing
