#!/usr/bin/env bash
# man.t -- the man pages as installed: msig(1), libmsig(3), msig-plugin(7) render with
# man -l; msig(1) names every command and every long flag the commands' --help shows, and
# the exit codes; libmsig(3) names only functions the installed msig.h declares.
. "$(dirname "$0")/../lib.sh"
need cmake man

PREFIX=$TMPD/prefix
run cmake --install "$MSIG_BUILD_DIR" --prefix "$PREFIX"
is "$rc" 0 "cmake --install" || diag "$err"
M=$PREFIX/share/man
for page in man1/msig.1 man3/libmsig.3 man7/msig-plugin.7; do
  ok "$([ -s "$M/$page" ] && echo 0 || echo 1)" "$page is installed"
  run env MANWIDTH=100 man -l "$M/$page"
  is "$rc" 0 "man -l $page renders" || diag "$err"
  like "$out" "NAME" "$page has a NAME section"
done
text=$(env MANWIDTH=200 man -l "$M/man1/msig.1" 2>/dev/null)
for c in write read validate sign dump keys plugins modify cp cat install rm; do
  like "$text" "$c" "msig(1) documents the command $c"
done
missing=""
for c in "write rootfs-image" "write module-image" "write bootstrap-artifact" validate read sign dump keys \
  modify cp cat install rm; do
  for f in $("$MSIG" $c --help 2>&1 | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
    [[ $text == *"$f"* ]] || missing="$missing $c:$f"
  done
done
is "$missing" "" "msig(1) documents every long flag the commands' --help lists"
for code in 0 1 3 4; do
  like "$(sed -n '/EXIT STATUS/,/COMPATIBILITY/p' <<<"$text")" "$code" "msig(1) documents exit status $code"
done
lib=$(env MANWIDTH=200 man -l "$M/man3/libmsig.3" 2>/dev/null)
unknown=""
for fn in $(grep -o 'msig_[a-z0-9_]*' <<<"$lib" | sort -u); do
  grep -q "\\b$fn\\b" "$PREFIX/include/msig/msig.h" "$PREFIX/include/msig/msig_types.h" ||
    unknown="$unknown $fn"
done
is "$unknown" "" "every function libmsig(3) names is declared in the installed headers"

done_testing
