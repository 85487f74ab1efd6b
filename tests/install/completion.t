#!/usr/bin/env bash
# completion.t -- shell completion as installed: the bash function answers commands, kinds,
# the flags of each command, compression ids and files; the zsh function parses, and both
# are where Debian's bash-completion and zsh look.
. "$(dirname "$0")/../lib.sh"
need cmake bash

PREFIX=$TMPD/prefix
run cmake --install "$MSIG_BUILD_DIR" --prefix "$PREFIX"
is "$rc" 0 "cmake --install" || diag "$err"
B=$PREFIX/share/bash-completion/completions/msig
Z=$PREFIX/share/zsh/vendor-completions/_msig
ok "$([ -f "$B" ] && echo 0 || echo 1)" "bash completion in share/bash-completion/completions/msig"
ok "$([ -f "$Z" ] && echo 0 || echo 1)" "zsh completion in share/zsh/vendor-completions/_msig"

# c WORD...: what the bash completion offers for the last word.
c() {
  bash -c '. "$0"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _msig
           echo "${COMPREPLY[*]}"' "$B" x "$@"
}
is "$(c msig val)" "validate" "a partial command"
like "$(c msig '')" "write read validate sign" "every command"
is "$(c msig write mod)" "module-image" "a write kind"
is "$(c msig write rootfs-image --artifact-n)" "--artifact-name --artifact-name-depends" "flags of write rootfs-image"
like "$(c msig write module-image --aug)" "--augment-type" "flags of write module-image"
unlike "$(c msig write bootstrap-artifact --)" "--file" "bootstrap-artifact offers no --file"
is "$(c msig --compression gzip write rootfs-image --compression zstd_b)" "zstd_better zstd_best" "compression ids"
is "$(c msig sign --fo)" "--force" "flags of sign"
is "$(c msig validate --no-a)" "--no-augment" "flags of validate"
is "$(c msig help re)" "read" "help COMMAND"
like "$(c msig '')" "modify cp cat install rm" "the image commands"
is "$(c msig modify --server-)" "--server-uri --server-cert" "flags of modify"
is "$(c msig install --d)" "--directory" "flags of install"
is "$(c msig rm --rec)" "--recursive" "flags of rm"
is "$(c msig cp --tm)" "--tmp" "flags of cp"
for cmd in "write rootfs-image" "write module-image" "write bootstrap-artifact" sign validate read; do
  # shellcheck disable=SC2086 # the command and its kind are two words
  is "$(c msig $cmd --thr)" "--threads" "$cmd offers --threads"
done
mkdir "$TMPD/dir" && touch "$TMPD/dir/release-1.mender"
is "$(cd "$TMPD/dir" && c msig read rel)" "release-1.mender" "file arguments"

if command -v zsh >/dev/null 2>&1; then
  run zsh -n "$Z"
  is "$rc" 0 "the zsh completion parses" || diag "$err"
  run zsh -fc "fpath=($(dirname "$Z") \$fpath); autoload -U compinit; compinit -u -D; autoload -Uz _msig; whence -w _msig"
  like "$out" "_msig: function" "zsh autoloads _msig from the installed directory" || diag "$err"
else
  skip "zsh is not installed" "the zsh completion parses"
  skip "zsh is not installed" "zsh autoloads _msig"
fi

done_testing
