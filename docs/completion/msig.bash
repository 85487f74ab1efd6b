# bash completion for msig (installed as share/bash-completion/completions/msig).
# Commands, the flags of each command, compression ids, artifact kinds, and files (for the
# image commands FILE:/path is typed after the file name).

_msig_flags()
{
    local keys="-k --key --key-pkcs11 --gcp-kms-key --vault-transit-key --azure-key \
--keyfactor-signserver-worker --passphrase-file --key-provider --key-provider-path \
--key-provider-conf"
    case $1 in
    write-rootfs-image)
        echo "-h --help -f --file -t --device-type -c --compatible-types -n --artifact-name \
-o --output-path -v --version -s --script -S --ssh-args -N --artifact-name-depends \
-g --provides-group -G --depends-groups -d --depends -p --provides \
--legacy-rootfs-image-checksum --no-checksum-provide --no-progress --clears-provides \
--no-default-clears-provides --compression --no-default-software-version --software-name \
--software-version --software-filesystem --max-artifact-size --warn-artifact-size --tmp --threads $keys" ;;
    write-module-image)
        echo "-h --help -f --file -t --device-type -c --compatible-types -n --artifact-name \
-o --output-path -v --version -s --script -N --artifact-name-depends -g --provides-group \
-G --depends-groups -d --depends -p --provides -T --type -m --meta-data --no-progress \
--clears-provides --no-default-clears-provides --compression --no-default-software-version \
--software-name --software-version --software-filesystem --max-artifact-size \
--warn-artifact-size --augment-type --augment-file --augment-provides --augment-depends \
--augment-meta-data --tmp --threads $keys" ;;
    write-bootstrap-artifact)
        echo "-h --help -t --device-type -c --compatible-types -n --artifact-name -o --output-path \
-v --version -N --artifact-name-depends -g --provides-group -G --depends-groups -d --depends \
-p --provides --no-progress --clears-provides --compression --tmp --threads $keys" ;;
    validate) echo "-h --help --no-augment --threads $keys" ;;
    read) echo "-h --help --json --no-progress --threads $keys" ;;
    sign) echo "-h --help -o --output-path -f --force --threads $keys" ;;
    dump) echo "-h --help --files --meta-data --scripts --print-cmdline --print0-cmdline" ;;
    keys|plugins) echo "-h --help" ;;
    modify)
        echo "-h --help -u --server-uri -c --server-cert -v --verification-key -n --artifact-name \
--name -t --tenant-token -N --artifact-name-depends -g --provides-group -G --depends-groups \
-s --script -p --provides -d --depends -m --meta-data --clears-provides \
--delete-clears-provides --compression --tmp $keys" ;;
    cp | rm | install)
        local extra=""
        [ "$1" = rm ] && extra="-r --recursive"
        [ "$1" = install ] && extra="-m --mode -d --directory"
        echo "-h --help $extra --compression --tmp $keys" ;;
    cat) echo "-h --help --tmp" ;;
    esac
}

_msig()
{
    local cur prev cmd kind i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="write read validate sign dump plugins keys help modify cp cat install rm"
    local compressions="none gzip lzma zstd_fastest zstd_fast zstd_better zstd_best"

    # The command and, for write, the kind: the first words that are not global flags.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        --plugin | --plugin-param | --compression) ((i++)) ;;
        -*) ;;
        *)
            if [ -z "$cmd" ]; then
                cmd=${COMP_WORDS[i]}
            elif [ "$cmd" = write ] && [ -z "$kind" ]; then
                kind=${COMP_WORDS[i]}
            fi
            ;;
        esac
    done

    case $prev in
    --compression)
        COMPREPLY=($(compgen -W "$compressions" -- "$cur"))
        return ;;
    -f | --file | -k | --key | -o | --output-path | -m | --meta-data | --passphrase-file | \
    --augment-file | --augment-meta-data | --plugin | --key-provider-conf)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    -s | --script | --tmp | --key-provider-path | --files | --scripts | -c | --server-cert | \
    -v | --verification-key)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    esac

    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "-h --help -v --version --compression --plugin --plugin-param" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi
    if [ "$cmd" = help ]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi
    if [ "$cmd" = write ] && [ -z "$kind" ]; then
        COMPREPLY=($(compgen -W "rootfs-image module-image bootstrap-artifact" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        local key=$cmd
        [ "$cmd" = write ] && key=write-$kind
        COMPREPLY=($(compgen -W "$(_msig_flags "$key")" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}

complete -o filenames -F _msig msig
