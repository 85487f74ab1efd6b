#!/usr/bin/env bash
# tests/image/errors.t -- every error a user can reach with cat, cp, install, rm and modify,
# on an ext4 image and on an artifact: the message, exit 1, the input byte-identical and no
# temporary left (beside the input or in TMPDIR).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/imglib.sh"

I=$TMPD/img/rootfs.ext4
mkdir -p "$TMPD/img"
mkext4 "$I" 4M
echo data >"$TMPD/f"
KEY=$MSIG_INTEROP/keys/rsa2048-private-trad.pem
A=$TMPD/img/a.mender
"$MSIG" write rootfs-image -t dev -n r1 -f "$I" -k "$KEY" -o "$A" --no-progress

# fails NAME MESSAGE TARGET CMD...: exit 1, MESSAGE in stderr, TARGET unchanged.
fails() {
  local name=$1 msg=$2 target=$3
  shift 3
  snap "$target"
  run "$@"
  is "$rc" 1 "$name: exit 1" || diag "$err"
  like "$err" "$msg" "$name: message"
  unchanged "$target" "$name"
}

for X in "$I" "$A"; do
  k=${X##*.}
  fails "$k: cp into a missing directory" "the directory /nodir/sub does not exist in the image" "$X" \
    "$MSIG" cp "$TMPD/f" "$X:/nodir/sub/f"
  fails "$k: cp through a file" "/etc/hostname is not a directory in the image" "$X" \
    "$MSIG" cp "$TMPD/f" "$X:/etc/hostname/f"
  fails "$k: cat of a missing file" "the file /etc/nope does not exist in the image" "$X" \
    "$MSIG" cat "$X:/etc/nope"
  fails "$k: cat of a directory" "/etc is a directory, not a file" "$X" "$MSIG" cat "$X:/etc"
  fails "$k: cp over a directory" "/etc/mender is a directory, not a file" "$X" \
    "$MSIG" cp "$TMPD/f" "$X:/etc/mender"
  fails "$k: cp out of a missing file" "the file /x does not exist in the image" "$X" \
    "$MSIG" cp "$X:/x" "$TMPD/out"
  is "$(ls "$TMPD" | grep -c '^out')" 0 "$k: cp out of a missing file writes nothing on the host"
  fails "$k: cp over a dangling link" "/usr/bin/dangling is a symbolic link to a file that does not exist in the image" "$X" \
    "$MSIG" cp "$TMPD/f" "$X:/usr/bin/dangling"
  fails "$k: rm of a missing file" "the file /etc/nope does not exist in the image" "$X" \
    "$MSIG" rm "$X:/etc/nope"
  fails "$k: rm of a full directory without -r" "/d is a directory that is not empty (use -r)" "$X" \
    "$MSIG" rm "$X:/d"
  fails "$k: rm of the root" "refusing to remove the root" "$X" "$MSIG" rm -r "$X:/"
  fails "$k: install -d over a file" "/etc/hostname exists in the image and is not a directory" "$X" \
    "$MSIG" install -d "$X:/etc/hostname/x"
  fails "$k: a relative path" "the path inside the image must start with '/'" "$X" \
    "$MSIG" cat "$X:etc/hostname"
  mkdata "$TMPD/big" 6000000 big
  fails "$k: the filesystem is full" "the filesystem is full" "$X" "$MSIG" cp "$TMPD/big" "$X:/big"
  fails "$k: a missing host file" "$TMPD/missing: No such file or directory" "$X" \
    "$MSIG" cp "$TMPD/missing" "$X:/etc/x"
  fails "$k: modify -c with a missing certificate" "invalid server certificate: $TMPD/missing" "$X" \
    "$MSIG" modify -c "$TMPD/missing" "$X"
done

# mender.conf that is not JSON, and one that is missing.
mkdir -p "$TMPD/bad/etc/mender"
printf 'not json' >"$TMPD/bad/etc/mender/mender.conf"
B=$TMPD/img/bad.ext4
mkext4 "$B" 4M "$TMPD/bad"
fails "modify -u with a broken mender.conf" "/etc/mender/mender.conf is not valid JSON" "$B" \
  "$MSIG" modify -u https://x "$B"
rm "$TMPD/bad/etc/mender/mender.conf"
mkext4 "$B" 4M "$TMPD/bad"
fails "modify -t without mender.conf" "the file /etc/mender/mender.conf does not exist in the image" "$B" \
  "$MSIG" modify -t token "$B"

# Not a filesystem; a filesystem that needs e2fsck.
mkdata "$TMPD/img/noise.img" 100000 noise
fails "cat of a file that is no filesystem" "noise.img: neither an ext2/ext3/ext4 nor a FAT filesystem" "$TMPD/img/noise.img" \
  "$MSIG" cat "$TMPD/img/noise.img:/etc/hostname"
D=$TMPD/img/dirty.ext4
cp "$I" "$D"
debugfs -w -R "ssv state 0" "$D" >/dev/null 2>&1
fails "cp into a filesystem that is not clean" "the filesystem is not clean (state 0x0); run e2fsck -f on it first" "$D" \
  "$MSIG" cp "$TMPD/f" "$D:/etc/f"

# Artifacts: a module-image has no filesystem; a signing key that cannot be used; a broken
# artifact; the boot and data partitions are not in an artifact.
M=$TMPD/img/module.mender
"$MSIG" write module-image -T app -t dev -n m1 -f "$TMPD/f" -o "$M" --no-progress
fails "cat in a module-image" "the payload is of type 'app', not a rootfs-image" "$M" \
  "$MSIG" cat "$M:/f"
fails "modify -u of a module-image" "not a rootfs-image: only a rootfs-image holds a filesystem" "$M" \
  "$MSIG" modify -u https://x "$M"
fails "cp with a missing signing key" "$TMPD/nokey.pem" "$A" "$MSIG" cp -k "$TMPD/nokey.pem" "$TMPD/f" "$A:/etc/f"
fails "cp with a public key for signing" "public" "$A" \
  "$MSIG" cp -k "$MSIG_INTEROP/keys/rsa2048-public.pem" "$TMPD/f" "$A:/etc/f"
fails "cat of /data in an artifact" "a Mender artifact does not contain a data partition" "$A" \
  "$MSIG" cat "$A:/data/x"
C=$TMPD/img/corrupt.mender
"$MSIG" write rootfs-image -t dev -n r1 -f "$I" --compression none -o "$C" --no-progress
python3 - "$C" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.find(b'host-1')
b[i] ^= 1
open(p, 'wb').write(b)
PY
fails "cp into an artifact whose payload checksum is wrong" "checksum" "$C" \
  "$MSIG" cp "$TMPD/f" "$C:/etc/f"
fails "--tmp that does not exist" "cannot create a temporary directory in $TMPD/none" "$A" \
  "$MSIG" cp --tmp "$TMPD/none" "$TMPD/f" "$A:/etc/f"

done_testing
