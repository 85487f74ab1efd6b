#!/usr/bin/env bash
# tests/interop/writeback.t -- both directions against the real mender-artifact:
#  1. artifacts written by msig (rootfs-image, module-image with several files, state script,
#     -p/-d, meta-data and augment parts, bootstrap-artifact; compression none/gzip/lzma;
#     unsigned and signed with RSA-2048/3072/4096 and P-256 traditional PEM keys) pass
#     `mender-artifact validate` and `read`, and both tools' `read` agree on name, device types,
#     header-info groups/depends, payload type, provides and depends;
#  2. artifacts signed afterwards with `msig sign` pass `mender-artifact validate -k`;
#  3. artifacts written and signed by mender-artifact are validated and read by msig.
. "$(dirname "$0")/../lib.sh"
need python3 sha256sum
readinfo="$MSIG_SOURCE_DIR/tests/interop/readinfo.py"
keys="$MSIG_INTEROP/keys"
MA=mender-artifact

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
if ! command -v "$MA" >/dev/null 2>&1; then skip "mender-artifact is not installed" "mender-artifact exists"; done_testing; fi
if [ ! -f "$keys/rsa3072-public.pem" ]; then skip "interop keys missing ($keys)" "interop keys exist"; done_testing; fi

exits() { # exits WANT NAME
  if [ "$rc" -eq "$1" ]; then ok 0 "$2"; else ok 1 "$2"; diag "exit code $rc, want $1" "stdout: $out" "stderr: $err"; fi
}
sigline() { printf '%s\n' "$1" | sed -n 's/^ *Signature: *//p' | head -n1; }
pub() { [ "$1" = none ] || printf '%s' "$keys/$1-public.pem"; }
priv() { printf '%s' "$keys/$1-private-trad.pem"; }
wrongpub() { case "$1" in p256) printf '%s' "$keys/p256-b-public.pem" ;; *) printf '%s' "$keys/rsa3072-b-public.pem" ;; esac; }

# --- payloads (relative names: the artifact stores base names) -----------------------------
P="$TMPD/payload"
mkdir -p "$P/scripts" "$TMPD/out"
mkdata "$P/rootfs.img" 65536 rootfs
mkdata "$P/app.bin" 8192 app
printf '{"setting": true, "list": [1, 2]}\n' >"$P/config.json"
printf '#!/bin/sh\necho install\n' >"$P/install.sh"
printf '{"service": "demo", "ports": [80, 443]}\n' >"$P/meta.json"
mkdata "$P/aug.bin" 4096 aug
printf '{"algorithm": "xdelta3"}\n' >"$P/aug-meta.json"
printf '#!/bin/sh\nexit 0\n' >"$P/scripts/ArtifactInstall_Enter_00"
cd "$P" || bail "cannot cd to $P"

# write_args TYPE NAME COMPRESSION: the `write` arguments for one artifact kind
write_args() {
  case "$1" in
  rootfs) echo "rootfs-image -t wb-dev-a -t wb-dev-b -n $2 -f rootfs.img -p custom.key:val -d dep.key:dval" \
    "-N prev-1 -g grp-1 -G grp-0 -s scripts/ArtifactInstall_Enter_00 --compression $3" ;;
  module) echo "module-image -T wb-module -t wb-dev -n $2 -f app.bin -f config.json -f install.sh -m meta.json" \
    "-p mod.key:v1 -d mod.dep:v0 -s scripts/ArtifactInstall_Enter_00 --augment-type wb-delta --augment-file aug.bin" \
    "--augment-meta-data aug-meta.json --augment-provides delta.base:1.0.0" \
    "--augment-depends rootfs-image.version:1.0.0 --compression $3" ;;
  bootstrap) echo "bootstrap-artifact -t wb-dev -n $2 -p boot.key:1 -d boot.dep:2 -N first -G grp-0 --compression $3" ;;
  esac
}

# same_read NAME KEY A: msig read and mender-artifact read of A agree (both exit 0)
same_read() {
  local k=() ma_out
  [ "$2" != none ] && k=(-k "$(pub "$2")")
  run "$MA" read --no-progress "${k[@]}" "$3"
  exits 0 "$1: mender-artifact read"
  ma_out=$out
  if [ "$2" = none ]; then is "$(sigline "$out")" "no signature" "$1: mender-artifact read: no signature"
  else is "$(sigline "$out")" "signed and verified correctly" "$1: mender-artifact read: verified"; fi
  run "$MSIG" read --no-progress "${k[@]}" "$3"
  exits 0 "$1: msig read"
  is "$(printf '%s\n' "$out" | python3 "$readinfo" -)" "$(printf '%s\n' "$ma_out" | python3 "$readinfo" -)" \
    "$1: msig read and mender-artifact read agree"
}

# --- 1. written by msig --------------------------------------------------------------------
for type in rootfs module bootstrap; do
  for comp in none gzip lzma; do
    for key in none rsa2048 rsa3072 rsa4096 p256; do
      name="wb-$type-$comp-$key"
      a="$TMPD/out/$name.mender"
      kw=()
      [ "$key" != none ] && kw=(-k "$(priv "$key")")
      # shellcheck disable=SC2046
      run "$MSIG" write $(write_args "$type" "$name" "$comp") "${kw[@]}" -o "$a"
      exits 0 "$name: msig write"
      if [ "$rc" -ne 0 ] || [ ! -s "$a" ]; then continue; fi
      if [ "$key" = none ]; then run "$MA" validate "$a"; else run "$MA" validate -k "$(pub "$key")" "$a"; fi
      exits 0 "$name: mender-artifact validate ${key/none/(unsigned)}"
      if [ "$key" != none ]; then
        run "$MA" validate -k "$(wrongpub "$key")" "$a"
        exits 4 "$name: mender-artifact validate rejects the wrong key"
        run "$MSIG" validate -k "$(pub "$key")" "$a"
      else
        run "$MSIG" validate "$a"
      fi
      exits 0 "$name: msig validate"
      same_read "$name" "$key" "$a"
    done
  done
done

# --- 2. signed afterwards with msig sign ---------------------------------------------------
for type in rootfs module bootstrap; do
 for comp in none gzip lzma; do
  for key in rsa2048 rsa3072 rsa4096 p256; do
    name="wb-$type-$comp-none"
    in="$TMPD/out/$name.mender"
    [ -s "$in" ] || { ok 1 "$name: unsigned input for msig sign exists"; continue; }
    before=$(sha256sum <"$in")
    a="$TMPD/out/signafter-$type-$comp-$key.mender"
    run "$MSIG" sign -k "$(priv "$key")" -o "$a" "$in"
    exits 0 "msig sign -k $key $name"
    is "$(sha256sum <"$in")" "$before" "msig sign -o left the input $name unchanged"
    run "$MA" validate -k "$(pub "$key")" "$a"
    exits 0 "signafter-$type-$comp-$key: mender-artifact validate -k"
    same_read "signafter-$type-$comp-$key" "$key" "$a"
    # already signed: refused without -f, and the file stays as it was
    signed=$(sha256sum <"$a")
    run "$MSIG" sign -k "$(priv "$key")" "$a"
    [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ]; ok $? "signafter-$type-$comp-$key: msig sign refuses to re-sign without -f"
    like "$err" "already signed" "signafter-$type-$comp-$key: msig sign says it is already signed"
    is "$(sha256sum <"$a")" "$signed" "signafter-$type-$comp-$key: refused re-sign left the file unchanged"
  done
 done
done
# msig sign -f over another key's signature, and msig sign of an artifact mender-artifact wrote
a="$TMPD/out/resign.mender"
cp "$TMPD/out/signafter-rootfs-gzip-rsa3072.mender" "$a" 2>/dev/null
run "$MSIG" sign -f -k "$(priv p256)" "$a"
exits 0 "msig sign -f replaces an RSA signature with a P-256 one (in place)"
run "$MA" validate -k "$(pub p256)" "$a"
exits 0 "mender-artifact validates the re-signed artifact with the P-256 key"
run "$MA" validate -k "$(pub rsa3072)" "$a"
exits 4 "mender-artifact rejects the re-signed artifact with the old RSA key"

# --- 3. written by mender-artifact, checked by msig ----------------------------------------
for type in rootfs module bootstrap; do
  for key in none rsa2048 rsa3072 rsa4096 p256; do
    for comp in gzip lzma none; do
      # all compressions unsigned and with one RSA key; the other keys with gzip only
      case "$key:$comp" in none:* | rsa3072:* | *:gzip) ;; *) continue ;; esac
      name="ma-$type-$comp-$key"
      a="$TMPD/out/$name.mender"
      kw=()
      [ "$key" != none ] && kw=(-k "$(priv "$key")")
      # shellcheck disable=SC2046
      run "$MA" write $(write_args "$type" "$name" "$comp") "${kw[@]}" -o "$a"
      if [ "$rc" -ne 0 ]; then ok 1 "$name: mender-artifact write"; diag "$err"; continue; fi
      if [ "$key" = none ]; then
        run "$MSIG" validate "$a"
        exits 0 "$name: msig validate (unsigned)"
        run "$MSIG" validate -k "$(pub rsa3072)" "$a"
        exits 4 "$name: msig validate -k on unsigned exits 4"
        like "$err" "missing signature" "$name: msig says missing signature"
        # mender-artifact sign afterwards, then msig validate
        s="$TMPD/out/$name-ma-signed.mender"
        run "$MA" sign -k "$(priv p256)" -o "$s" "$a"
        if [ "$rc" -eq 0 ]; then
          run "$MSIG" validate -k "$(pub p256)" "$s"
          exits 0 "$name: signed afterwards by mender-artifact, msig validate -k"
        else ok 1 "$name: mender-artifact sign"; diag "$err"; fi
        # msig sign of what mender-artifact wrote: only manifest.sig is new, the rest is
        # byte-identical, and mender-artifact accepts it
        s="$TMPD/out/$name-msig-signed.mender"
        run "$MSIG" sign -k "$(priv rsa4096)" -o "$s" "$a"
        exits 0 "$name: msig sign of a mender-artifact artifact"
        run "$MA" validate -k "$(pub rsa4096)" "$s"
        exits 0 "$name: mender-artifact validates what msig signed"
        is "$(tar -tf "$s" | tr '\n' ' ')" "$(tar -tf "$a" | sed 's/^manifest$/manifest manifest.sig/' | tr '\n' ' ')" \
          "$name: msig sign inserted manifest.sig right after manifest"
        # version (512 + 512) and manifest (512 + its size rounded up) come before the insert
        msize=$(tar -tvf "$a" manifest | awk '{print $3}')
        ins=$(( 1024 + 512 + (msize + 511) / 512 * 512 ))
        rest=$(( $(stat -c %s "$a") - ins ))
        is "$(head -c "$ins" "$s" | sha256sum)" "$(head -c "$ins" "$a" | sha256sum)" \
          "$name: msig sign copied version and manifest unchanged"
        is "$(tail -c "$rest" "$s" | sha256sum)" "$(tail -c "$rest" "$a" | sha256sum)" \
          "$name: msig sign copied header and data unchanged"
      else
        run "$MSIG" validate -k "$(pub "$key")" "$a"
        exits 0 "$name: msig validate -k right key"
        run "$MSIG" validate -k "$(wrongpub "$key")" "$a"
        exits 4 "$name: msig validate -k wrong key exits 4"
        run "$MSIG" validate "$a"
        exits 4 "$name: msig validate without key exits 4"
        like "$err" "missing verifier" "$name: msig says missing verifier"
      fi
      same_read "$name" "$key" "$a"
    done
  done
done

done_testing
