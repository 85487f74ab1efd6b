#!/usr/bin/env bash
# tests/image/disk.t -- disk images with a partition table (MBR and GPT made with sfdisk):
# msig addresses the partitions as mender-artifact 3.9.0 does (writes to both root
# filesystems, /data/... in the data partition, /uboot/... in the boot partition); the
# partitions read back with debugfs, e2fsck -fn each, the same files as mender-artifact's edit.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/imglib.sh"
need sfdisk mender-artifact parted dd

mkrootfs "$TMPD/root"
mkdir -p "$TMPD/dataroot" && echo data-file >"$TMPD/dataroot/df"
mkdir -p "$TMPD/bootroot" && echo boot-file >"$TMPD/bootroot/bf"
mkext4 "$TMPD/boot.ext4" 4M "$TMPD/bootroot"
mkext4 "$TMPD/ra.ext4" 8M "$TMPD/root"
mkext4 "$TMPD/rb.ext4" 8M "$TMPD/root"
mkext4 "$TMPD/data.ext4" 8M "$TMPD/dataroot"
mkdisk() { # mkdisk FILE dos|gpt [BOOTIMAGE [ROOTFS_B]]
  mkdisk_parts "$1" "$2" "${3:-$TMPD/boot.ext4}" "$TMPD/ra.ext4" "${4:-$TMPD/rb.ext4}" "$TMPD/data.ext4"
}
part() { # part DISK N OUT: partition N (1-4) as a file
  dd if="$1" of="$3" skip=${starts[$(($2 - 1))]} count=$([ "$2" = 1 ] && echo 8192 || echo 16384) status=none
}

for label in dos gpt; do
  D=$TMPD/disk-$label.$([ $label = gpt ] && echo uefiimg || echo sdimg)
  mkdisk "$D" $label
  run "$MSIG" cat "$D:/etc/hostname"
  is "$out" "host-1" "$label: cat reads the first root filesystem"
  run "$MSIG" cat "$D:/data/df"
  is "$out" "data-file" "$label: cat /data/... reads the data partition"
  run "$MSIG" cat "$D:/uboot/bf"
  is "$out" "boot-file" "$label: cat /uboot/... reads the boot partition"
  cp "$D" "$TMPD/ma.sdimg"
  echo new >"$TMPD/f"
  ok=0
  for step in "cp $TMPD/f IMG:/etc/new" "install -m 0750 $TMPD/f IMG:/usr/bin/tool" "rm IMG:/d/e/h" \
    "cp $TMPD/f IMG:/data/new" "cp $TMPD/f IMG:/uboot/new" "install -d IMG:/opt/x"; do
    run "$MSIG" ${step//IMG/$D}
    is "$rc" 0 "$label: msig $step: exit 0" || diag "$err"
    run mender-artifact ${step//IMG/$TMPD/ma.sdimg}
    is "$rc" 0 "$label: mender-artifact $step: exit 0" || diag "$err"
  done
  run "$MSIG" modify -u https://new.example.com -n release-2 "$D"
  is "$rc" 0 "$label: modify: exit 0" || diag "$err"
  run mender-artifact modify -u https://new.example.com -n release-2 "$TMPD/ma.sdimg"
  is "$rc" 0 "$label: mender-artifact modify: exit 0" || diag "$err"
  for n in 1 2 3 4; do
    part "$D" $n "$TMPD/pm"
    part "$TMPD/ma.sdimg" $n "$TMPD/pa"
    fsck_ok "$TMPD/pm" "$label: partition $n"
    same=0
    for p in /etc/new /usr/bin/tool /d/e/h /new /df /bf /etc/mender/mender.conf /etc/mender/artifact_info; do
      [ "$(icat "$TMPD/pm" $p | sha256sum)" = "$(icat "$TMPD/pa" $p | sha256sum)" ] || { same=1; diag "$p differs"; }
    done
    for p in /etc/new /usr/bin/tool; do
      [ "$(istat "$TMPD/pm" $p)" = "$(istat "$TMPD/pa" $p)" ] || { same=1; diag "$p: $(istat "$TMPD/pm" $p) vs $(istat "$TMPD/pa" $p)"; }
    done
    for p in / /opt; do
      [ "$(debugfs -R "ls $p" "$TMPD/pm" 2>/dev/null | tr -s ' ')" = "$(debugfs -R "ls $p" "$TMPD/pa" 2>/dev/null | tr -s ' ')" ] ||
        { same=1; diag "ls $p differs"; }
    done
    is "$same" 0 "$label: partition $n: the same files as mender-artifact's edit"
  done
  echo from-stdin | "$MSIG" cp - "$D:/etc/stdin"
  part "$D" 3 "$TMPD/pm"
  is "$(icat "$TMPD/pm" /etc/new)" "new" "$label: root filesystem B got the file too"
  is "$(icat "$TMPD/pm" /etc/stdin)" "from-stdin" "$label: cp - writes standard input to root filesystem B too"
  part "$D" 2 "$TMPD/pm"
  is "$(icat "$TMPD/pm" /etc/stdin)" "from-stdin" "$label: cp - writes standard input to root filesystem A"
  is "$(sfdisk -d "$D" | sed "s|$D|X|")" "$(sfdisk -d "$TMPD/ma.sdimg" | sed "s|$TMPD/ma.sdimg|X|")" \
    "$label: the partition table is unchanged"
done

# A FAT boot partition goes to mtools (tests/image/fat.t has the rest); the root filesystems
# are still edited through libext2fs. Then the errors: an empty root filesystem B; not four
# partitions.
need mkfs.vfat mtype
rm -f "$TMPD/boot.vfat" && truncate -s 4M "$TMPD/boot.vfat" && mkfs.vfat "$TMPD/boot.vfat" >/dev/null 2>&1
D=$TMPD/fat.sdimg
mkdisk "$D" dos "$TMPD/boot.vfat"
run "$MSIG" cp "$TMPD/f" "$D:/uboot/x"
is "$rc" 0 "a FAT boot partition: cp /uboot/x: exit 0" || diag "$err"
is "$(HOME=/dev/null mtype -i "$D@@$((2048 * 512))" ::/x)" "new" "a FAT boot partition: mtype reads the file"
run "$MSIG" cp "$TMPD/f" "$D:/etc/x"
is "$rc" 0 "a FAT boot partition: the root filesystems are still edited" || diag "$err"
D=$TMPD/emptyb.sdimg
mkdisk "$D" dos
dd if=/dev/zero of="$D" seek=26624 count=16384 conv=notrunc status=none
run "$MSIG" cp "$TMPD/f" "$D:/etc/only-a"
is "$rc" 0 "an empty root filesystem B is left out (as mender-artifact does)" || diag "$err"
part "$D" 2 "$TMPD/pm"
is "$(icat "$TMPD/pm" /etc/only-a)" "new" "an empty root filesystem B: A has the file"
# A root filesystem that claims more blocks than its partition holds.
mkext4 "$TMPD/r12.ext4" 12M "$TMPD/root"
D=$TMPD/over.sdimg
mkdisk "$D" dos "$TMPD/boot.ext4" "$TMPD/r12.ext4"
snap "$D"
run "$MSIG" cp "$TMPD/f" "$D:/etc/x"
is "$rc" 1 "a filesystem larger than its partition: exit 1"
like "$err" "partition 3: the filesystem (12582912 bytes) is larger than its partition (8388608 bytes)" \
  "a filesystem larger than its partition: message"
unchanged "$D" "a filesystem larger than its partition"
D=$TMPD/two.img
rm -f "$D" && truncate -s 20M "$D"
printf 'label: dos\nstart=2048, size=8192\nstart=10240, size=16384\n' | sfdisk -q "$D" >/dev/null 2>&1
snap "$D"
run "$MSIG" cat "$D:/etc/hostname"
is "$rc" 1 "two partitions: exit 1"
like "$err" "2 partitions found, 4 needed" "two partitions: message"
run "$MSIG" cp "$TMPD/f" "$D:/etc/x"
unchanged "$D" "two partitions"

done_testing
