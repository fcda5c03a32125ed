# bash completion for fedsched (installed as share/bash-completion/completions/fedsched;
# from a build tree: `. cli/completion.bash`).
#
# Verbs and options are asked of the fedsched being completed: `fedsched --help` lists
# the verbs, and the "options:" line of `fedsched VERB --help` is printed from the
# option table the verb parses with ('=' after options that take a value), so the
# completion never drifts from the program.  Site, dataset and job names come from the
# federation that fedsched reaches (--scheduler, else $FEDSCHED_SCHEDULER), each lookup
# given $FEDSCHED_COMPLETION_TIMEOUT seconds (default 2) at most.  What each verb's
# arguments are (a site, a dataset, a job, a file) is written below, one line a verb.

# The verbs of fedsched $1, one a line.
_fedsched_verbs() {
    "$1" --help 2>/dev/null | awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }'
}

# The long options of verb $2 of fedsched $1, as its --help's options: line writes them.
_fedsched_options() {
    "$1" "$2" --help 2>/dev/null | sed -n 's/^options: //p'
}

# The values of key $1 ("name", "id") in the JSON that fedsched prints for the rest of
# the arguments (a listing verb; --json is added).
_fedsched_field() {
    local key=$1
    shift
    FEDSCHED_TIMEOUT=${FEDSCHED_COMPLETION_TIMEOUT:-2} "$@" --json 2>/dev/null |
        sed -n "s/^    \"$key\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p"
}

_fedsched() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -n = || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local prog=${words[0]} verb="" i vi=0 global=()
    # The verb: the first word that is not a global option (--scheduler URI, --keys DIR).
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --scheduler | --keys)
                global+=("${words[i]}" "${words[i + 1]}")
                ((i++))
                ;;
            --scheduler=* | --keys=*) global+=("${words[i]}") ;;
            -*) ;;
            *)
                verb=${words[i]}
                vi=$i
                break
                ;;
        esac
    done
    local ask=("$prog" "${global[@]}")

    if [ -z "$verb" ]; then
        case $prev in
            --keys) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
            --scheduler) COMPREPLY=(); return ;;
        esac
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--scheduler --keys --help --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_fedsched_verbs "$prog")" -- "$cur")
        fi
        return
    fi

    local opts o
    opts=$(_fedsched_options "$prog" "$verb")
    # The value of an option that takes one.
    local valued=" "
    for o in $opts; do
        [[ $o == *= ]] && valued+="${o%=} "
    done
    if [[ $prev == -* && $valued == *" $prev "* ]]; then
        case $prev in
            --output | --config | -o | -c) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
            --keys) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
            --policy) mapfile -t COMPREPLY < <(compgen -W "raw none regions= aggregate=" -- "$cur") ;;
            --reduce) mapfile -t COMPREPLY < <(compgen -W "mean: sum: min: max:" -- "$cur") ;;
            --strategy) mapfile -t COMPREPLY < <(compgen -W "fedsched centralised random greedy" -- "$cur") ;;
            *) COMPREPLY=() ;;
        esac
        return
    fi
    if [[ $cur == -* ]]; then
        local plain=""
        for o in $opts; do
            plain+="${o%=} "
        done
        mapfile -t COMPREPLY < <(compgen -W "$plain" -- "$cur")
        return
    fi

    # Which argument of the verb this is (1-based), options and their values skipped.
    local n=0
    for ((i = vi + 1; i < cword; i++)); do
        case ${words[i]} in
            --*=*) ;;
            -*) [[ $valued == *" ${words[i]} "* ]] && ((i++)) ;;
            *) ((n++)) ;;
        esac
    done
    ((n++))

    local kind="file"
    case $verb:$n in
        publish:1 | policy:1 | drain:1 | resume:1) kind=site ;;
        publish:2) kind=none ;;     # a path at the site, relative to one of its data roots
        policy:2 | get:1 | catalog:1 | info:1) kind=dataset ;;
        policy:3) kind=policy ;;
        status:1 | explain:1 | wait:1 | watch:1 | cancel:1 | logs:1) kind=job ;;
        keygen:1) kind=dir ;;
        validate:1 | submit:1 | sim:1) kind="file" ;;
        scheduler:* | worker:*) kind=none ;;    # -c FILE only
        *:1) kind="file" ;;
        *) kind=none ;;
    esac
    case $kind in
        site) mapfile -t COMPREPLY < <(compgen -W "$(_fedsched_field name "${ask[@]}" sites)" -- "$cur") ;;
        dataset)
            # Only the names that start with what is typed ('*' also matches '/').
            local pre=${cur%%[*}
            mapfile -t COMPREPLY < <(compgen -W "$(_fedsched_field name "${ask[@]}" catalog "$pre*")" -- "$cur")
            ;;
        job) mapfile -t COMPREPLY < <(compgen -W "$(_fedsched_field id "${ask[@]}" jobs --all)" -- "$cur") ;;
        policy) mapfile -t COMPREPLY < <(compgen -W "raw none regions= aggregate=" -- "$cur") ;;
        dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
        file) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        *) COMPREPLY=() ;;
    esac
}

complete -F _fedsched fedsched
