# tests/image/imglib.sh -- helpers for the image command tests (sourced after tests/lib.sh).
# Every test runs msig with TMPDIR=$T (a private directory) so that a leftover temporary
# shows up; mkrootfs makes the ext4 tree the tests edit.
need mkfs.ext4 debugfs e2fsck sha256sum

T=$TMPD/tmp
mkdir -p "$T"
export TMPDIR=$T

# mkrootfs DIR: a small root filesystem tree with Mender's files, links and a nested tree.
mkrootfs() {
  mkdir -p "$1/etc/mender" "$1/usr/bin" "$1/d/e/f" "$1/empty"
  printf '{"ServerURL":"https://old.example.com","InventoryPollIntervalSeconds":1800}' \
    >"$1/etc/mender/mender.conf"
  printf 'artifact_name=release-1' >"$1/etc/mender/artifact_info"
  echo host-1 >"$1/etc/hostname"
  chmod 0600 "$1/etc/hostname"
  ln -s /etc/hostname "$1/usr/bin/abs-link"
  ln -s ../../.. "$1/usr/bin/up"
  ln -s /nonexistent "$1/usr/bin/dangling"
  echo g >"$1/d/e/f/g"
  echo h >"$1/d/e/h"
}

# mkext4 IMAGE SIZE [DIR]: an ext4 image made from DIR (default: a fresh mkrootfs tree).
mkext4() {
  local dir=${3:-$TMPD/tree.$$.$RANDOM}
  [ -d "$dir" ] || mkrootfs "$dir"
  mkfs.ext4 -q -F -d "$dir" "$1" "$2" >/dev/null 2>&1
}

# icat IMAGE PATH: the file as debugfs reads it (the independent reader).
icat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
# istat IMAGE PATH: "mode uid gid" as debugfs shows them.
istat() {
  debugfs -R "stat $2" "$1" 2>/dev/null |
    sed -n 's/.*Mode: *\(0[0-7]*\).*/\1/p; s/^User: *\([0-9]*\) *Group: *\([0-9]*\).*/\1 \2/p' | tr '\n' ' '
}
# fsck_ok IMAGE NAME: e2fsck -fn finds nothing to fix.
fsck_ok() {
  run e2fsck -fn "$1"
  is "$rc" 0 "$2: e2fsck -fn passes" || diag "$out"
}

# snap FILE: remembers FILE's bytes; unchanged FILE NAME: they are the same and no temporary
# is left beside FILE or in TMPDIR.
snap() { _snap=$(sha256sum <"$1"); }
unchanged() {
  is "$(sha256sum <"$1")" "$_snap" "$2: the input is byte-identical"
  is "$(ls -A "$T"; ls -A "$(dirname "$1")" | grep -E '^\..*msig|msig-' || true)" "" "$2: no temporary is left"
}

# The Mender disk layout of the disk image tests, in 512-byte sectors: boot 2048+8192,
# rootfs A 10240+16384, rootfs B 26624+16384, data 43008+16384.
starts=(2048 10240 26624 43008)
# mkdisk_parts FILE dos|gpt BOOT ROOTFS_A ROOTFS_B DATA: a 40 MiB disk image of those four.
mkdisk_parts() {
  rm -f "$1" && truncate -s 40M "$1"
  printf 'label: %s\nstart=2048, size=8192\nstart=10240, size=16384\nstart=26624, size=16384\nstart=43008, size=16384\n' "$2" |
    sfdisk -q "$1" >/dev/null 2>&1 || bail "sfdisk $2"
  local i=0 f
  for f in "$3" "$4" "$5" "$6"; do
    dd if="$f" of="$1" seek=${starts[$i]} conv=notrunc status=none
    i=$((i + 1))
  done
}
