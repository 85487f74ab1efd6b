#!/usr/bin/env bash
# tests/image/fat.t -- a FAT boot partition of a disk image (MBR and GPT made with sfdisk, the
# FAT made with mkfs.vfat and filled with mcopy): cat, cp both ways, install, install -d, rm
# and rm -r on /uboot/..., /boot/efi/... and /boot/grub/... go through mtools, as with
# mender-artifact 3.9.0. Each edit is done by both tools on copies of one image and read back
# independently (mdir, mtype, fsck.vfat -n); the other partitions stay byte-identical. Then
# the errors: message, exit 1, the input byte-identical, no temporary left.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/imglib.sh"
need sfdisk mender-artifact parted dd cmp mkfs.vfat fsck.vfat mcopy mtype mdir mmd

OFF=$((2048 * 512)) # the boot partition: sectors 2048 + 8192 (4 MiB)
BOOT_BYTES=$((8192 * 512))
mkdata "$TMPD/efi.bin" 150000 efi
mkdata "$TMPD/big" 5000000 big
echo new >"$TMPD/f"
mkfat() { # mkfat FILE KIB: a FAT filesystem with a small boot tree
  rm -f "$1" && mkfs.vfat -C "$1" "$2" >/dev/null || bail "mkfs.vfat $1"
  echo boot-file >"$TMPD/bf" && echo s >"$TMPD/s" && echo t >"$TMPD/t"
  HOME=/dev/null mmd -i "$1" ::/dir ::/dir/sub ::/empty ::/EFI ::/EFI/BOOT &&
    HOME=/dev/null mcopy -i "$1" "$TMPD/bf" ::/bf &&
    HOME=/dev/null mcopy -i "$1" "$TMPD/s" ::/dir/s &&
    HOME=/dev/null mcopy -i "$1" "$TMPD/t" ::/dir/sub/t &&
    HOME=/dev/null mcopy -i "$1" "$TMPD/efi.bin" ::/EFI/BOOT/bootx64.efi || bail "mcopy into $1"
}
mkfat "$TMPD/boot.vfat" 4096
mkrootfs "$TMPD/root"
mkdir -p "$TMPD/dataroot" && echo data-file >"$TMPD/dataroot/df"
mkext4 "$TMPD/ra.ext4" 8M "$TMPD/root"
mkext4 "$TMPD/data.ext4" 8M "$TMPD/dataroot"
mkdisk() { # mkdisk FILE dos|gpt [BOOTIMAGE]: boot (FAT), root filesystems A and B, data
  mkdisk_parts "$1" "$2" "${3:-$TMPD/boot.vfat}" "$TMPD/ra.ext4" "$TMPD/ra.ext4" "$TMPD/data.ext4"
}
# fatlist IMAGE: every path of the boot partition, directories with a '/', files with the
# SHA-256 of their bytes as mtype reads them (the independent reader).
fatlist() {
  local p
  HOME=/dev/null mdir -/ -a -b -i "$1@@$OFF" ::/ | sort | while IFS= read -r p; do
    case "$p" in
    */) echo "$p" ;;
    *) echo "$p $(HOME=/dev/null mtype -i "$1@@$OFF" "$p" | sha256sum | cut -c1-16)" ;;
    esac
  done
}
# fat_ok IMAGE NAME: fsck.vfat -n finds nothing wrong in the boot partition.
fat_ok() {
  dd if="$1" of="$TMPD/part.vfat" bs=512 skip=2048 count=8192 status=none
  run fsck.vfat -n "$TMPD/part.vfat"
  is "$rc" 0 "$2: fsck.vfat -n passes" || diag "$out"
}
# rest_same A B NAME: the partition table and partitions 2-4 are byte-identical.
rest_same() {
  cmp -s <(head -c $OFF "$1") <(head -c $OFF "$2") &&
    cmp -s <(tail -c +$((OFF + BOOT_BYTES + 1)) "$1") <(tail -c +$((OFF + BOOT_BYTES + 1)) "$2")
  is "$?" 0 "$3: the partition table and the other partitions are untouched"
}

for label in dos gpt; do
  D=$TMPD/base-$label.$([ $label = gpt ] && echo uefiimg || echo sdimg)
  mkdisk "$D" $label
  # Reading.
  run "$MSIG" cat "$D:/uboot/bf"
  is "$rc/$out" "0/boot-file" "$label: cat /uboot/bf"
  run mender-artifact cat "$D:/uboot/bf"
  is "$out" "boot-file" "$label: mender-artifact cat reads the same"
  is "$("$MSIG" cat "$D:/boot/efi/EFI/BOOT/bootx64.efi" | sha256sum)" "$(sha256sum <"$TMPD/efi.bin")" \
    "$label: cat of a binary file: the same bytes"
  is "$("$MSIG" cat "$D:/boot/grub/dir/../../../dir/./sub//t")" "t" "$label: '..' stays at the root"
  rm -f "$TMPD/out-m" "$TMPD/out-a"
  run "$MSIG" cp "$D:/boot/efi/EFI/BOOT/bootx64.efi" "$TMPD/out-m"
  is "$rc" 0 "$label: cp out: exit 0" || diag "$err"
  run mender-artifact cp "$D:/boot/efi/EFI/BOOT/bootx64.efi" "$TMPD/out-a"
  cmp -s "$TMPD/out-m" "$TMPD/out-a" && cmp -s "$TMPD/out-m" "$TMPD/efi.bin"
  is "$?" 0 "$label: cp out: the same bytes as mender-artifact's copy"
  is "$(stat -c %a "$TMPD/out-m")" "$(stat -c %a "$TMPD/out-a")" "$label: cp out: the same mode"
  # Each edit by both tools on copies of the base image.
  for step in "cp $TMPD/f IMG:/uboot/new" "cp $TMPD/f IMG:/uboot/bf" \
    "cp $TMPD/efi.bin IMG:/boot/efi/EFI/BOOT/grub.efi" "cp $TMPD/f IMG:/uboot/Mixed Case Name.txt" \
    "install -m 0755 $TMPD/f IMG:/boot/grub/inst" "install -m 0444 $TMPD/f IMG:/uboot/dir/sub/ro" \
    "rm IMG:/uboot/bf" "rm IMG:/boot/efi/EFI/BOOT/bootx64.efi" "rm -r IMG:/uboot/dir/"; do
    cp "$D" "$TMPD/m.img" && cp "$D" "$TMPD/a.img"
    IFS=@ read -r -a argv <<<"${step// /@}"
    [[ $step == *Mixed* ]] && argv=(cp "$TMPD/f" "IMG:/uboot/Mixed Case Name.txt")
    run "$MSIG" "${argv[@]//IMG/$TMPD/m.img}"
    is "$rc" 0 "$label: msig $step: exit 0" || diag "$err"
    run mender-artifact "${argv[@]//IMG/$TMPD/a.img}"
    is "$rc" 0 "$label: mender-artifact $step: exit 0" || diag "$err"
    is "$(fatlist "$TMPD/m.img")" "$(fatlist "$TMPD/a.img")" "$label: $step: the same files as mender-artifact's edit"
    fat_ok "$TMPD/m.img" "$label: $step"
    rest_same "$TMPD/m.img" "$D" "$label: $step"
  done
  unlike "$(fatlist "$TMPD/m.img")" "::/dir" "$label: rm -r removed the tree"
done

D=$TMPD/base-dos.sdimg
# Where mender-artifact 3.9.0 fails: it runs mmd without -i (install -d), and mdel on a
# directory unless its path ends in '/' (rm -r). msig does what the ext4 path does; the
# result is checked against mtools run directly.
edit_vs_mtools() { # NAME "MSIG ARGS" MTOOL ARGS...: msig on a copy, the mtool on another
  local name=$1 args=$2 tool=$3
  shift 3
  cp "$D" "$TMPD/m.img" && cp "$D" "$TMPD/x.img"
  run "$MSIG" ${args//IMG/$TMPD/m.img}
  is "$rc" 0 "$name: exit 0" || diag "$err"
  HOME=/dev/null "$tool" -i "$TMPD/x.img@@$OFF" "$@" >/dev/null || bail "$tool $*"
  is "$(fatlist "$TMPD/m.img")" "$(fatlist "$TMPD/x.img")" "$name: the files $tool $* gives"
  fat_ok "$TMPD/m.img" "$name"
}
cp "$D" "$TMPD/a.img"
run mender-artifact install -d "$TMPD/a.img:/uboot/newdir"
is "$rc" 1 "mender-artifact 3.9.0 install -d on FAT fails (its mmd has no -i)"
edit_vs_mtools "install -d" "install -d IMG:/uboot/newdir" mmd ::/newdir
edit_vs_mtools "install -d with parents" "install -d IMG:/boot/efi/a/b/c" mmd ::/a ::/a/b ::/a/b/c
edit_vs_mtools "install -d of a directory that exists" "install -d IMG:/uboot/dir/sub" mdir ::/
cp "$D" "$TMPD/a.img"
run mender-artifact rm -r "$TMPD/a.img:/uboot/dir"
is "$rc" 1 "mender-artifact 3.9.0 rm -r of a directory without a final '/' fails (mdel)"
edit_vs_mtools "rm -r" "rm -r IMG:/uboot/dir" mdeltree ::/dir
edit_vs_mtools "rm of an empty directory" "rm IMG:/uboot/empty" mrd ::/empty
cp "$D" "$TMPD/m.img"
echo from-stdin | "$MSIG" cp - "$TMPD/m.img:/uboot/stdin"
is "$(HOME=/dev/null mtype -i "$TMPD/m.img@@$OFF" ::/stdin)" "from-stdin" "cp - writes standard input"
# The user's mtools configuration does not change what is written.
mkdir -p "$TMPD/home" && printf 'drive : file="/nonexistent"\nmtools_no_vfat=1\n' >"$TMPD/home/.mtoolsrc"
cp "$D" "$TMPD/m.img"
run env HOME="$TMPD/home" MTOOLS_NO_VFAT=1 MTOOLS_LOWER_CASE=1 MTOOLSRC="$TMPD/home/.mtoolsrc" \
  "$MSIG" cp "$TMPD/f" "$TMPD/m.img:/uboot/Long Mixed Name.TXT"
is "$rc" 0 "a broken ~/.mtoolsrc and MTOOLS_* settings are not used: exit 0" || diag "$err"
like "$(fatlist "$TMPD/m.img")" "::/Long Mixed Name.TXT " "... and the long name is written as given"

# Errors.
fails() { # fails NAME MESSAGE CMD...: exit 1, MESSAGE in stderr, $D unchanged
  local name=$1 msg=$2
  shift 2
  snap "$D"
  run "$@"
  is "$rc" 1 "$name: exit 1" || diag "$err"
  like "$err" "$msg" "$name: message"
  unchanged "$D" "$name"
}
P="$D partition 1"
fails "cat of a missing file" "$P: the file /nope does not exist in the image" "$MSIG" cat "$D:/uboot/nope"
fails "cat of a directory" "$P: /dir is a directory, not a file" "$MSIG" cat "$D:/uboot/dir"
rm -f "$TMPD/out"
fails "cp out of a missing file" "$P: the file /x does not exist in the image" "$MSIG" cp "$D:/uboot/x" "$TMPD/out"
is "$(ls "$TMPD" | grep -c '^out\(\.msig-.*\)\?$')" 0 "cp out of a missing file writes nothing on the host"
fails "cp into a missing directory" "$P: the directory /nodir/sub does not exist in the image" \
  "$MSIG" cp "$TMPD/f" "$D:/uboot/nodir/sub/f"
fails "cp through a file" "$P: /bf is not a directory in the image" "$MSIG" cp "$TMPD/f" "$D:/uboot/bf/f"
fails "cp over a directory" "$P: /dir/sub is a directory, not a file" "$MSIG" cp "$TMPD/f" "$D:/uboot/dir/sub"
fails "install into a missing directory" "$P: the directory /nodir does not exist in the image" \
  "$MSIG" install -m 0644 "$TMPD/f" "$D:/boot/grub/nodir/f"
fails "install -d through a file" "$P: /bf exists in the image and is not a directory" \
  "$MSIG" install -d "$D:/uboot/bf/sub"
fails "rm of a missing file" "$P: the file /nope does not exist in the image" "$MSIG" rm "$D:/uboot/nope"
fails "rm of a directory without -r" "$P: /dir is a directory that is not empty (use -r)" "$MSIG" rm "$D:/uboot/dir"
fails "rm of the root" "$P: /: the root directory cannot be removed" "$MSIG" rm -r "$D:/uboot/"
fails "a wildcard in the path" "$P: /b*: mtools reads * ? [ ] as wildcards" "$MSIG" rm "$D:/uboot/b*"
fails "a full FAT partition" "$P: /big: the FAT filesystem is full (mcopy: Disk full)" \
  "$MSIG" cp "$TMPD/big" "$D:/uboot/big"
# A failure after mtools wrote part of the edit: one free cluster, three directories to make
# (mmd makes the first, then finds the filesystem full); the work copy is dropped.
cp "$D" "$TMPD/full.sdimg"
free=$(HOME=/dev/null mdir -i "$TMPD/full.sdimg@@$OFF" ::/ | sed -n 's/^ *\([0-9 ]*\) bytes free.*/\1/p' | tr -d ' ')
cluster=$(($(HOME=/dev/null minfo -i "$TMPD/full.sdimg@@$OFF" :: | sed -n 's/^cluster size: \([0-9]*\) sectors.*/\1/p') * 512))
head -c $((free - cluster)) /dev/zero >"$TMPD/fill"
HOME=/dev/null mcopy -i "$TMPD/full.sdimg@@$OFF" "$TMPD/fill" ::/fill || bail "filling the FAT"
D0=$D D=$TMPD/full.sdimg
fails "a FAT partition that fills up during install -d" \
  "$D partition 1: /a/b: the FAT filesystem is full (mmd: Disk full)" "$MSIG" install -d "$D:/uboot/a/b/c"
D=$D0
for t in "cat $D:/uboot/nope" "cp $TMPD/f $D:/uboot/nodir/sub/f" "cp $TMPD/big $D:/uboot/big" "rm $D:/uboot/nope"; do
  run mender-artifact $t
  is "$rc" 1 "mender-artifact $t: exit 1 too"
done
mkdir -p "$TMPD/nobin"
fails "mtools not installed" "cannot run mdir: No such file or directory (FAT partitions are edited with mtools: install it)" \
  env PATH="$TMPD/nobin" "$MSIG" cp "$TMPD/f" "$D:/uboot/x"
mkfat "$TMPD/boot8.vfat" 8192
D=$TMPD/over.sdimg
mkdisk "$D" dos "$TMPD/boot8.vfat"
fails "a FAT larger than its partition" \
  "$D partition 1: the FAT filesystem (8388608 bytes) is larger than its partition (4194304 bytes)" \
  "$MSIG" cp "$TMPD/f" "$D:/uboot/x"
truncate -s 4M "$TMPD/zero.img"
D=$TMPD/zero.sdimg
mkdisk "$D" dos "$TMPD/zero.img"
fails "no filesystem in the boot partition" \
  "$D partition 1: neither an ext2/ext3/ext4 nor a FAT filesystem" "$MSIG" cat "$D:/uboot/x"

# A bare FAT image and a rootfs-image artifact whose payload is FAT: the same commands, through
# mtools (mender-artifact 3.9.0 fails on both: "can only modify ext4 and vfat payloads").
mkfat "$TMPD/bare.vfat" 4096
run mender-artifact cat "$TMPD/bare.vfat:/dir/s"
is "$rc" 1 "mender-artifact 3.9.0 cat of a bare FAT image fails"
cp "$TMPD/bare.vfat" "$TMPD/b.img"
run "$MSIG" cat "$TMPD/b.img:/dir/sub/t"
is "$rc:$out" "0:t" "bare FAT image: cat" || diag "$err"
run "$MSIG" cp "$TMPD/f" "$TMPD/b.img:/dir/new"
is "$rc" 0 "bare FAT image: cp in" || diag "$err"
run "$MSIG" rm -r "$TMPD/b.img:/EFI"
is "$rc" 0 "bare FAT image: rm -r" || diag "$err"
is "$(HOME=/dev/null mtype -i "$TMPD/b.img" ::/dir/new)" "new" "bare FAT image: mtype reads the file cp wrote"
unlike "$(HOME=/dev/null mdir -/ -a -b -i "$TMPD/b.img" ::/)" "EFI" "bare FAT image: rm -r removed /EFI"
run fsck.vfat -n "$TMPD/b.img"
is "$rc" 0 "bare FAT image: fsck.vfat -n passes" || diag "$out"
mender-artifact write rootfs-image -t fat-dev -n fat-1 -f "$TMPD/bare.vfat" -o "$TMPD/fat.mender" >/dev/null 2>&1 ||
  bail "mender-artifact write of a FAT payload"
run mender-artifact cat "$TMPD/fat.mender:/dir/s"
is "$rc" 1 "mender-artifact 3.9.0 cat of a FAT payload fails"
cp "$TMPD/fat.mender" "$TMPD/f2.mender"
run "$MSIG" cat "$TMPD/f2.mender:/dir/s"
is "$rc:$out" "0:s" "FAT payload: cat" || diag "$err"
run "$MSIG" install -m 0755 "$TMPD/f" "$TMPD/f2.mender:/EFI/BOOT/new.efi"
is "$rc" 0 "FAT payload: install" || diag "$err"
run mender-artifact validate "$TMPD/f2.mender"
is "$rc" 0 "FAT payload: mender-artifact validates the rebuilt artifact" || diag "$out $err"
rm -rf "$TMPD/unp" && mkdir "$TMPD/unp" && tar -xf "$TMPD/f2.mender" -C "$TMPD/unp" data/0000.tar.gz &&
  tar -xzf "$TMPD/unp/data/0000.tar.gz" -C "$TMPD/unp" || bail "unpacking f2.mender"
is "$(HOME=/dev/null mtype -i "$TMPD/unp/bare.vfat" ::/EFI/BOOT/new.efi)" "new" \
  "FAT payload: mtype reads the installed file in the rebuilt payload"
is "$(HOME=/dev/null mtype -i "$TMPD/unp/bare.vfat" ::/dir/sub/t)" "t" "FAT payload: the other files stay"
D=$TMPD/f2.mender
fails "FAT payload: cp into a missing directory" "f2.mender: the directory /nodir does not exist in the image" \
  "$MSIG" cp "$TMPD/f" "$D:/nodir/f"
is "$(ls "$TMPD" | grep -c 'f2\.mender.')" 0 "FAT payload: no temporary is left beside the artifact"

done_testing
