#!/usr/bin/env bash
# tests/image/memory.t -- memory stays flat whatever the image size: the peak RSS of cp into a
# 2 GiB ext4 image and into an artifact with a 512 MiB rootfs is within a few MiB of the same
# edit on 16 MiB ones (GNU time's %M); the work copies keep the holes of sparse images.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/imglib.sh"
need /usr/bin/time du

mkrootfs "$TMPD/root"
mkdata "$TMPD/blob" 1048576 blob
rss() { # rss CMD...: peak RSS in KiB; the command must succeed
  /usr/bin/time -f %M -o "$TMPD/rss" "$@" >/dev/null 2>"$TMPD/err" || { diag "$(cat "$TMPD/err")"; echo 0; return; }
  cat "$TMPD/rss"
}

mkext4 "$TMPD/small.ext4" 16M "$TMPD/root"
mkext4 "$TMPD/big.ext4" 2G "$TMPD/root"
small=$(rss "$MSIG" cp "$TMPD/blob" "$TMPD/small.ext4:/blob")
big=$(rss "$MSIG" cp "$TMPD/blob" "$TMPD/big.ext4:/blob")
diag "peak RSS: 16 MiB image $small KiB, 2 GiB image $big KiB"
ok "$([ "$small" -gt 0 ] && [ "$big" -gt 0 ] && [ "$big" -lt $((small + 8192)) ] && echo 0 || echo 1)" \
  "cp into a 2 GiB image needs at most 8 MiB more memory than into a 16 MiB one"
is "$(icat "$TMPD/big.ext4" /blob | sha256sum)" "$(sha256sum <"$TMPD/blob")" "the 2 GiB image has the file"
used=$(du -k "$TMPD/big.ext4" | cut -f1)
ok "$([ "$used" -lt 204800 ] && echo 0 || echo 1)" "the edited 2 GiB image stays sparse ($used KiB allocated)"
fsck_ok "$TMPD/big.ext4" "2 GiB image"

mkext4 "$TMPD/r512.ext4" 512M "$TMPD/root"
"$MSIG" write rootfs-image -t dev -n r1 -f "$TMPD/small.ext4" -o "$TMPD/small.mender" --no-progress
"$MSIG" write rootfs-image -t dev -n r1 -f "$TMPD/r512.ext4" -o "$TMPD/big.mender" --no-progress
small=$(rss "$MSIG" cp "$TMPD/blob" "$TMPD/small.mender:/blob2")
big=$(rss "$MSIG" cp "$TMPD/blob" "$TMPD/big.mender:/blob2")
diag "peak RSS: artifact with a 16 MiB rootfs $small KiB, with a 512 MiB rootfs $big KiB"
ok "$([ "$small" -gt 0 ] && [ "$big" -gt 0 ] && [ "$big" -lt $((small + 16384)) ] && echo 0 || echo 1)" \
  "cp into an artifact with a 512 MiB rootfs needs at most 16 MiB more memory than with 16 MiB"
"$MSIG" cat "$TMPD/big.mender:/blob2" >"$TMPD/back"
is "$(sha256sum <"$TMPD/back")" "$(sha256sum <"$TMPD/blob")" "the big artifact has the file"
# SIGTERM while the artifact is taken apart: the input is unchanged, nothing is left.
snap "$TMPD/big.mender"
"$MSIG" cp "$TMPD/blob" "$TMPD/big.mender:/blob3" 2>/dev/null &
pid=$!
for _ in $(seq 1 400); do [ -n "$(ls -A "$T")" ] && break; sleep 0.05; done
kill -TERM $pid 2>/dev/null
wait $pid
is "$?" 143 "cp killed with SIGTERM while it works: ended by the signal"
unchanged "$TMPD/big.mender" "cp killed with SIGTERM"

ls -A "$T" | grep -q .
is "$?" 1 "no temporary is left in TMPDIR"
done_testing
