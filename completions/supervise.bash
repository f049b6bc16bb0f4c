# bash completion for supervise, svc and supervise-scan. Installed as
# /usr/share/bash-completion/completions/{supervise,svc,supervise-scan}
# (bash-completion loads it on first use), or source it from ~/.bashrc.
# Self-contained: it needs bash 4, not the bash-completion helpers.

# The words of a blank-separated list that start with WORD.
_supervise_words() {
    COMPREPLY+=($(compgen -W "$1" -- "$2"))
}

# Commands on PATH (and builtins...) that start with WORD, once each.
_supervise_commands() {
    local IFS=$'\n'
    COMPREPLY+=($(compgen -c -- "$1" | sort -u))
}

# Directories (and, with "files", files) matching WORD, shown as paths.
_supervise_paths() {
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY+=($(compgen -${2:-d} -- "$1"))
}

_supervise() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} i
    COMPREPLY=()
    # After -u DIR every word is the command's.
    for ((i = 1; i < COMP_CWORD - 1; i++)); do
        if [[ ${COMP_WORDS[i]} == -u ]]; then
            if ((i + 2 == COMP_CWORD)); then
                _supervise_commands "$cur"
            else
                _supervise_paths "$cur" f
            fi
            return
        fi
    done
    case $prev in
    -p | -u) _supervise_paths "$cur" ;;
    -f) _supervise_commands "$cur" ;;
    -F | -r) _supervise_paths "$cur" f ;;
    -t) ;;
    *) _supervise_words "-p -f -u -F -r -t --check --foreground -h --help -v --version" "$cur" ;;
    esac
}

# The service names of the root svc would use: -d ROOT or --root ROOT on
# the line, else $SUPERVISE_ROOT, else the current directory.
_svc_names() {
    local root=${SUPERVISE_ROOT:-.} i dir
    for ((i = 1; i < COMP_CWORD - 1; i++)); do
        case ${COMP_WORDS[i]} in
        --root) root=${COMP_WORDS[i + 1]} ;;
        -d) [[ -d ${COMP_WORDS[i + 1]}/status ]] && root=${COMP_WORDS[i + 1]} ;;
        esac
    done
    for dir in "$root"/status/*/; do
        [[ -d $dir ]] || continue
        dir=${dir%/}
        [[ ${dir##*/} == "$1"* ]] && COMPREPLY+=("${dir##*/}")
    done
}

_svc() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local verbs="start stop restart status reconf exit alarm reload wait history metrics"
    local i word first="" count=0
    COMPREPLY=()
    case $prev in
    -w) _supervise_words "up down ready" "$cur" && return ;;
    -d | --root) _supervise_paths "$cur" && return ;;
    alarm) _supervise_words "on off" "$cur" && return ;;
    esac
    if [[ $cur == -* ]]; then
        _supervise_words "-w -d --root --json --help --version -u -o -x -p -c -h -a -i -t -k -s -n -r" "$cur"
        return
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
        -w | --root) ((i++)) ;;
        # -d ROOT when a verb follows ROOT; else daemontools' -d (down).
        -d) [[ " $verbs " == *" ${COMP_WORDS[i + 2]} "* ]] && ((i++)) ;;
        -*) ;;
        *)
            [[ -z $first ]] && first=$word
            ((count++))
            ;;
        esac
    done
    if ((count == 0)); then
        # A verb (services by name) or a status directory (svc DIR VERB).
        _supervise_words "$verbs" "$cur"
        _supervise_paths "$cur"
    elif [[ $first == wait ]] && ((count == 1)); then
        _supervise_words "up down ready" "$cur"
    elif [[ " $verbs " == *" $first "* ]]; then
        # Verb first: names of the root, or paths (a word with /).
        if [[ $cur == */* ]]; then _supervise_paths "$cur"; else _svc_names "$cur"; fi
    elif ((count == 1)); then
        _supervise_words "start stop restart status reconf exit alarm" "$cur"
    fi
}

_supervise_scan() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    case $prev in
    -F | --supervise | --metrics-file) _supervise_paths "$cur" f ;;
    -d | --root) _supervise_paths "$cur" ;;
    *) _supervise_words "-F -d --root -o --forward-output --notify --metrics-file --supervise --check -h --help -v --version" "$cur" ;;
    esac
}

complete -F _supervise supervise
complete -F _svc svc
complete -F _supervise_scan supervise-scan
