#!/usr/bin/env bash
# bench/bench.sh [--quick] [SIZE_MIB] -- msig next to mender-artifact, in one run.
#
# Payloads: an ext4 image of SIZE_MIB MiB (default 256; --quick: 64) half full of files
# copied from /usr; a small full ext4 image (24 MiB; --quick: 8) for lzma, as
# mender-artifact's xz runs at about 1-2 MB/s; a BIG_MIB payload (default 2048; --quick:
# 512) for the memory check. For both tools, REPEAT runs each (default 3; --quick: 1), the
# run with the median wall time reported:
#   write none / gzip / lzma / zstd (msig zstd_fast against mender-artifact's gzip, as 3.9.0
#   has no zstd), validate of each tool's own artifact of each, read, sign (an existing
#   unsigned gzip artifact, RSA-3072, -o to a new file);
#   msig with --threads 1 and 2 under taskset on the first two CPUs (write and validate gzip);
#   peak RSS of write, validate and read on the small and the BIG_MIB payload (flat memory).
# Prints one table (wall s, user s, peak RSS, payload MB/s, ratio = msig time / mender-artifact
# time), the output sizes, the thread speed-ups and the RSS check; writes results.tsv and a
# PNG chart of throughput per operation (gnuplot) to OUT. Informational only: asserts nothing.
# Env: MSIG (default build/cli/msig), MA (mender-artifact), REPEAT, BIG_MIB, OUT (default
# bench/out), TMPDIR (scratch: default /dev/shm when it has room, else /tmp; needs about
# 2.5 x BIG_MIB). On /dev/shm disk writes (and msig's fsync of its output) cost nothing, so
# the figures compare the tools' own work.
set -euo pipefail
quick=0
if [ "${1:-}" = "--quick" ]; then
  quick=1
  shift
fi
size=${1:-$([ $quick = 1 ] && echo 64 || echo 256)}
small=$([ $quick = 1 ] && echo 8 || echo 24)
BIG_MIB=${BIG_MIB:-$([ $quick = 1 ] && echo 512 || echo 2048)}
REPEAT=${REPEAT:-$([ $quick = 1 ] && echo 1 || echo 3)}
src=$(cd "$(dirname "$0")/.." && pwd)
MSIG=${MSIG:-$src/build/cli/msig}
MA=${MA:-mender-artifact}
OUT=${OUT:-$src/bench/out}
TIME=/usr/bin/time

[ -x "$MSIG" ] || { echo "bench: msig not found at $MSIG (run scripts/build.sh, or set MSIG)" >&2; exit 1; }
command -v "$MA" >/dev/null || { echo "bench: $MA not found (scripts/deps.sh installs it)" >&2; exit 1; }
[ -x "$TIME" ] || { echo "bench: GNU time ($TIME) not found (apt-get install time)" >&2; exit 1; }
command -v mkfs.ext4 >/dev/null || { echo "bench: mkfs.ext4 not found (apt-get install e2fsprogs)" >&2; exit 1; }
case "$size$BIG_MIB$REPEAT" in *[!0-9]*) echo "usage: bench/bench.sh [--quick] [SIZE_MIB]" >&2; exit 2 ;; esac
have_gnuplot=1
command -v gnuplot >/dev/null || { have_gnuplot=0; echo "bench: gnuplot not found: no chart (apt-get install gnuplot-nox)" >&2; }
have_taskset=1
command -v taskset >/dev/null || have_taskset=0

if [ -z "${TMPDIR:-}" ]; then
  TMPDIR=/tmp
  shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
  [ -n "$shm_free" ] && [ "$shm_free" -gt $(((BIG_MIB * 3 + size * 4) * 1024)) ] && TMPDIR=/dev/shm
fi
work=$(mktemp -d "$TMPDIR/msig-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$work"
echo "bench: scratch $work, results in $OUT"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- payloads ------------------------------------------------------------------------------
# make_image FILE SIZE_MIB FILL_PERCENT: ext4 image filled with copies of files from /usr
make_image() {
  local file=$1 mib=$2 fill=$3
  rm -rf root "$file"; mkdir root
  local want=$((mib * 1024 * 1024 * fill / 100)) have=0 round=0 got
  while [ "$have" -lt "$want" ] && [ "$round" -lt 50 ]; do
    round=$((round + 1))
    mkdir -p "root/copy$round"
    find /usr -xdev -type f -size -16M -printf '%s %P\n' 2>/dev/null |
      awk -v left=$((want - have)) '{ b = int(($1 + 4095) / 4096) * 4096 + 4096; if (t + b > left) exit; t += b; sub(/^[0-9]+ /, ""); print }' >list
    [ -s list ] || break
    tar -C /usr -cf - -T list 2>/dev/null | tar -C "root/copy$round" -xf -
    got=$(du -s -B1 root | cut -f1)
    [ "$got" -gt "$have" ] || break
    have=$got
  done
  mkfs.ext4 -q -F -d root "$file" "${mib}M" >/dev/null 2>&1
  local rc=$?
  rm -rf root list
  return $rc
}
echo "bench: building a $size MiB ext4 image (half full) and a $small MiB one (full) from /usr files ..."
make_image rootfs.ext4 "$size" 50 || { echo "bench: mkfs.ext4 -d failed" >&2; exit 1; }
make_image small.ext4 "$small" 90 || make_image small.ext4 "$small" 75 || { echo "bench: mkfs.ext4 -d failed" >&2; exit 1; }
# The big payload: the image repeated (the same data, so only the length differs).
: >big.img
while [ "$(stat -c %s big.img)" -lt $((BIG_MIB * 1024 * 1024)) ]; do cat rootfs.ext4 >>big.img; done
truncate -s $((BIG_MIB * 1024 * 1024)) big.img
head -c $((16 * 1024 * 1024)) rootfs.ext4 >little.img
payload=$(stat -c %s rootfs.ext4)
small_bytes=$(stat -c %s small.ext4)
echo "bench: payloads rootfs.ext4 $payload bytes, small.ext4 $small_bytes bytes, big.img $(stat -c %s big.img) bytes"
openssl genrsa -traditional -out key.pem 3072 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem 2>/dev/null

# --- measuring -----------------------------------------------------------------------------
# run1 KEY CMD...: one run under GNU time, "wall user sys rss_kib" appended to times.KEY;
# 1 (and FAILED on stderr) when the command fails.
run1() {
  local key=$1 a prev=
  shift
  # The output of the previous run goes first: msig writes a temporary and renames it over
  # the old file, so replacing one needs fresh memory in /dev/shm while the old file still
  # holds its own, and on a virtual machine the first touch of fresh memory costs more than
  # the copy itself (sign: 0.1 s or 0.8 s by chance). Both tools then write into freed pages.
  for a in "$@"; do
    [ "$prev" = -o ] && [ "$a" != - ] && rm -f -- "$a"
    prev=$a
  done
  # Wall time from bash's microsecond clock around the run (GNU time's %e has 10 ms steps,
  # as coarse as the shortest runs here); user, sys and peak RSS from GNU time.
  local t0=$EPOCHREALTIME t1
  if ! "$TIME" -f '%U %S %M' -o "t.$key" "$@" >/dev/null 2>"err.$key"; then
    echo "bench: FAILED ($key): $*" >&2
    sed 's/^/  /' "err.$key" >&2
    return 1
  fi
  t1=$EPOCHREALTIME
  printf '%s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
    "$(tail -n1 "t.$key")" >>"times.$key"
}
# median KEY: RES[KEY] = the run of times.KEY with the median wall time, or FAIL
median() {
  if [ "$(wc -l <"times.$1" 2>/dev/null || echo 0)" -lt "$REPEAT" ]; then
    RES[$1]="FAIL FAIL FAIL FAIL"
  else
    RES[$1]=$(sort -n -k1,1 "times.$1" | sed -n "$(((REPEAT + 1) / 2))p")
  fi
}
# measure KEY CMD...: REPEAT runs; RES[KEY] the median
declare -A RES
measure() {
  local key=$1 i
  shift
  : >"times.$key"
  for i in $(seq "$REPEAT"); do run1 "$key" "$@" || break; done
  median "$key"
}
# pair KEY: the commands in arrays M (msig) and A (mender-artifact), REPEAT times each,
# alternating, so that other load on the machine falls on both alike; RES[KEY.msig], RES[KEY.ma]
pair() {
  local key=$1 i fm=0 fa=0
  : >"times.$key.msig"
  : >"times.$key.ma"
  for i in $(seq "$REPEAT"); do
    [ $fm = 1 ] || run1 "$key.msig" "${M[@]}" || fm=1
    [ $fa = 1 ] || run1 "$key.ma" "${A[@]}" || fa=1
  done
  median "$key.msig"
  median "$key.ma"
}
wr() { # wr TOOL OUT FILE COMPRESSION: the write command, one word a line
  local t=$1 o=$2 f=$3 c=$4 tool=$MSIG
  [ "$t" = ma ] && tool=$MA
  printf '%s\n' "$tool" write rootfs-image -t bench-dev -n bench-1 -f "$f" --compression "$c" -o "$o"
}

echo "bench: write ..."
for k in gzip none zstd lzma; do
  f=rootfs.ext4
  [ $k = lzma ] && f=small.ext4
  mc=$k ac=$k
  [ $k = zstd ] && mc=zstd_fast ac=gzip
  mapfile -t M < <(wr msig "msig-$k.mender" $f $mc)
  mapfile -t A < <(wr ma "ma-$k.mender" $f $ac)
  pair "write-$k"
done
echo "bench: validate, read, sign ..."
for k in gzip none zstd lzma; do
  M=("$MSIG" validate "msig-$k.mender")
  A=("$MA" validate "ma-$k.mender")
  pair "validate-$k"
done
M=("$MSIG" read "msig-gzip.mender")
A=("$MA" read "ma-gzip.mender")
pair read
# sign copies the artifact with the new entry: the 256 MiB none artifact gives the
# measurement a copy of 256 MiB to time.
M=("$MSIG" sign -k key.pem -o msig-signed.mender msig-none.mender)
A=("$MA" sign -k key.pem -o ma-signed.mender ma-none.mender)
pair sign

# msig, 1 and 2 threads on the same two CPUs, alternating
echo "bench: msig --threads 1 and 2 ..."
ts=()
[ $have_taskset = 1 ] && ts=(taskset -c 0,1)
: >times.t1-write-gzip; : >times.t2-write-gzip; : >times.t1-validate-gzip; : >times.t2-validate-gzip
for i in $(seq "$REPEAT"); do
  for n in 1 2; do
    run1 "t$n-write-gzip" "${ts[@]}" "$MSIG" write rootfs-image -t bench-dev -n bench-1 -f rootfs.ext4 \
      --compression gzip --threads $n -o "t$n.mender" || true
  done
  for n in 1 2; do
    run1 "t$n-validate-gzip" "${ts[@]}" "$MSIG" validate --threads $n msig-gzip.mender || true
  done
done
for k in t1-write-gzip t2-write-gzip t1-validate-gzip t2-validate-gzip; do median $k; done

# memory: the 16 MiB and the BIG_MIB payload
echo "bench: peak RSS, 16 MiB and $BIG_MIB MiB payloads ..."
R=$REPEAT
REPEAT=1
for p in little big; do
  for k in gzip none zstd_fast; do
    measure "mem-$p-write-$k" "$MSIG" write rootfs-image -t bench-dev -n bench-1 -f "$p.img" \
      --compression $k -o "mem-$p-$k.mender"
    measure "mem-$p-validate-$k" "$MSIG" validate "mem-$p-$k.mender"
  done
  measure "mem-$p-read" "$MSIG" read "mem-$p-gzip.mender"
  measure "mem-$p-ma-write-gzip" "$MA" write rootfs-image -t bench-dev -n bench-1 -f "$p.img" \
    --compression gzip -o "mem-$p-ma.mender"
  measure "mem-$p-ma-validate-gzip" "$MA" validate "mem-$p-ma.mender"
  rm -f mem-"$p"-*.mender
done
REPEAT=$R

# --- report --------------------------------------------------------------------------------
f() { awk -v i="$2" '{ print $i }' <<<"${RES[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /FAIL/ || b ~ /FAIL/ || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
mbs() { awk -v n="$1" -v t="$2" 'BEGIN { if (t ~ /FAIL/ || t + 0 == 0) print "-"; else printf "%.1f", n / 1e6 / t }'; }
sz() { stat -c %s "$1" 2>/dev/null || echo FAIL; }

ver=$("$MA" --version 2>/dev/null | awk '{ print $NF }')
{
  echo "msig vs mender-artifact $ver: $(nproc) CPUs, $(uname -m), median of $REPEAT, scratch $TMPDIR"
  echo "load average at the start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows both tools)"
  echo "payloads: ${size} MiB ext4 half full (none, gzip, zstd, read, sign), ${small} MiB ext4 full (lzma)"
  echo "ratio = msig time / mender-artifact time (below 1: msig is faster); MB/s of payload"
  echo "write-zstd and validate-zstd: msig zstd_fast against mender-artifact gzip (3.9.0 has no zstd)"
  echo
  printf '%-15s %8s %8s %8s %8s %9s %9s %7s %7s %7s\n' operation msig-s ma-s ratio "user-r" msig-MB/s ma-MB/s "RSS-MiB" "ma-RSS" "size-r"
} | tee report.txt
: >results.tsv
for op in write-none write-gzip write-lzma write-zstd validate-none validate-gzip validate-lzma validate-zstd read sign; do
  bytes=$payload
  case $op in *lzma) bytes=$small_bytes ;; esac
  [ $op = sign ] && bytes=$(sz msig-none.mender)
  mw=$(f "$op.msig" 1) aw=$(f "$op.ma" 1)
  size_r=-
  case $op in write-*) k=${op#write-}; size_r=$(ratio "$(sz "msig-$k.mender")" "$(sz "ma-$k.mender")") ;; esac
  rss_m=$(awk -v k="$(f "$op.msig" 4)" 'BEGIN { if (k ~ /FAIL/) print "-"; else printf "%.1f", k / 1024 }')
  rss_a=$(awk -v k="$(f "$op.ma" 4)" 'BEGIN { if (k ~ /FAIL/) print "-"; else printf "%.1f", k / 1024 }')
  printf '%-15s %8s %8s %8s %8s %9s %9s %7s %7s %7s\n' "$op" "$mw" "$aw" "$(ratio "$mw" "$aw")" \
    "$(ratio "$(f "$op.msig" 2)" "$(f "$op.ma" 2)")" "$(mbs "$bytes" "$mw")" "$(mbs "$bytes" "$aw")" \
    "$rss_m" "$rss_a" "$size_r" | tee -a report.txt
  printf '%s\t%s\t%s\n' "$op" "$(mbs "$bytes" "$mw")" "$(mbs "$bytes" "$aw")" >>results.tsv
done
{
  echo
  echo "output sizes (bytes):"
  for k in none gzip zstd lzma; do
    printf '  %-5s msig %11s  mender-artifact %11s  ratio %s\n' "$k" "$(sz "msig-$k.mender")" "$(sz "ma-$k.mender")" \
      "$(ratio "$(sz "msig-$k.mender")" "$(sz "ma-$k.mender")")"
  done
  echo
  echo "msig threads ($([ $have_taskset = 1 ] && echo "taskset -c 0,1" || echo "no taskset")): wall s with 1 and 2, speed-up"
  for op in write-gzip validate-gzip; do
    a=$(f "t1-$op" 1) b=$(f "t2-$op" 1)
    printf '  %-14s %6s %6s  %sx\n' "$op" "$a" "$b" "$(ratio "$a" "$b")"
  done
  echo
  echo "peak RSS MiB, 16 MiB payload -> $BIG_MIB MiB payload (flat = streaming):"
  for k in write-gzip validate-gzip write-none validate-none write-zstd_fast validate-zstd_fast read ma-write-gzip ma-validate-gzip; do
    printf '  %-20s %7s -> %7s\n' "$k" "$(awk -v k="$(f "mem-little-$k" 4)" 'BEGIN { printf "%.1f", k / 1024 }')" \
      "$(awk -v k="$(f "mem-big-$k" 4)" 'BEGIN { printf "%.1f", k / 1024 }')"
  done
} | tee -a report.txt
cp report.txt results.tsv "$OUT/"

if [ $have_gnuplot = 1 ]; then
  gnuplot <<EOF
set terminal pngcairo size 1100,520 noenhanced font "sans,10"
set output "$OUT/throughput.png"
set title "msig vs mender-artifact $ver, payload MB/s (log scale), $(nproc) CPUs, median of $REPEAT\\nlzma: ${small} MiB full ext4; others: ${size} MiB ext4 half full; zstd: msig zstd_fast vs mender-artifact gzip; sign: the none artifact"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "MB/s (payload bytes / wall time)"
set logscale y
set yrange [0.5:*]
set grid ytics
set xtics rotate by -30
set key outside right top vertical
set datafile separator "\t"
set datafile missing "-"
plot "$OUT/results.tsv" using 2:xtic(1) title "msig" lc rgb "#2a6fb0", \
     "" using 3 title "mender-artifact" lc rgb "#c0504d"
EOF
  echo "chart: $OUT/throughput.png"
fi
