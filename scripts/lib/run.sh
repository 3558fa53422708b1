# shellcheck shell=bash
# run.sh — sourced by every script of the lab: messages, usage, the shared flags, and `run`, which prints each
# command numbered and in the tutorial's shape before it runs it. Bash 3.2 (macOS's /bin/bash) or newer.
[[ -z ${_LAB_LIB_RUN:-} ]] || return 0
_LAB_LIB_RUN=1

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034  # LAB_ROOT and the colours are read by the scripts that source this
LAB_ROOT=$(cd "$LIB/../.." && pwd)
CMD_NO=0          # numbers every command `run` prints

# shellcheck disable=SC2034
if [[ -t 2 ]]; then C_B=$'\e[1m' C_D=$'\e[2m' C_G=$'\e[32m' C_R=$'\e[31m' C_Y=$'\e[33m' C_0=$'\e[0m'
else C_B='' C_D='' C_G='' C_R='' C_Y='' C_0=''; fi

log() { printf '%s\n' "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$C_Y" "$C_0" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$C_R" "$C_0" "$*" >&2; exit 1; }
step() { printf '\n%s== %s ==%s\n' "$C_B" "$*" "$C_0" >&2; }

# usage_from_header FILE: the comment block at the top of FILE (after the shebang), as usage text.
usage_from_header() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p;}' "$1"; }
usage() { usage_from_header "$0"; }
usage_error() { usage >&2; printf '\n%serror:%s %s\n' "$C_R" "$C_0" "$*" >&2; exit 2; }

# require_engine: one clear message, and exit 1, when no Docker engine answers.
require_engine() {
  docker info >/dev/null 2>&1 \
    || die "no Docker engine answers 'docker info'. Start Docker (Docker Desktop, or 'sudo systemctl start docker'), then run again."
}

# --- the shared flags: one parser, one port rule ------------------------------------------------------

# valid_port VALUE: a TCP port written in decimal, 1-65535 ("010" is not a port: no leading zero).
valid_port() { [[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && (($1 <= 65535)); }

# shared_flag ARGS...: parse one of the flags every layout script takes, from the front of ARGS:
#   --db mysql|postgres -> ENGINE, --port N -> HOST_PORT, --offline -> OFFLINE=1, -h|--help -> usage.
# Sets FLAG_ARGS to how many words it used (1 or 2); returns 1 when $1 is not one of them.
shared_flag() {
  FLAG_ARGS=2
  case $1 in
    --db) [[ ${2:-} == mysql || ${2:-} == postgres ]] || usage_error "--db takes mysql or postgres (got '${2:-}')"
          ENGINE=$2 ;;
    --port) valid_port "${2:-}" || usage_error "--port takes a port number from 1 to 65535 (got '${2:-}')"
            HOST_PORT=$2 ;;
    --offline) OFFLINE=1 FLAG_ARGS=1 ;;
    -h|--help) usage; exit 0 ;;
    *) return 1 ;;
  esac
}

# parse_run_args ARGS...: the flags of the layout scripts (run-webapp.sh, run-3tier.sh, run-compose.sh):
# the shared ones, --public, --down, --volumes. ENGINE and HOST_PORT keep the caller's defaults unless given.
parse_run_args() {
  BIND_IP=127.0.0.1 OFFLINE=0 DOWN=0 DROP_VOLUMES=0
  while (($#)); do
    case $1 in
      --public) BIND_IP=0.0.0.0 ;;
      --down) DOWN=1 ;;
      --volumes) DROP_VOLUMES=1 ;;
      *) shared_flag "$@" || usage_error "unknown option: $1"; shift $((FLAG_ARGS - 1)) ;;
    esac
    shift
  done
  if ((DROP_VOLUMES && !DOWN)); then usage_error "--volumes goes with --down"; fi
  export ENGINE HOST_PORT BIND_IP OFFLINE DOWN DROP_VOLUMES
}

# --- printing commands as a learner types them ----------------------------------------------------------

# quote WORD: WORD as a learner would type it: plain words as they are, anything else in single quotes.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then printf '%s' "$1"
  else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}

# Options that take no value (everything else that starts with - takes the next word as its value).
FLAG_WORDS=' -d --detach --rm -i -it --init --read-only --privileged -P -q --quiet --no-cache --attachable
  --internal --ipv6 --build --wait --remove-orphans --volumes --force -f --all -a '

# takes_value WORD: is WORD an option whose value is the next word? (-f is docker rm's --force; docker build's
# -f FILE is written --file in our scripts.)
takes_value() { [[ $1 == -* && $1 != *=* && $FLAG_WORDS != *" $1 "* && $1 != -- ]]; }

# opt_family LINE: the family of the option LINE starts with, for show_cmd to keep a family on one line: the
# healthcheck's timings (--health-cmd keeps its own line), capabilities, the root filesystem and its tmpfs, and
# the limits with the restart policy. Nothing for any other option.
opt_family() {
  case $1 in
    --health-cmd*) ;;
    --health-*) echo health ;;
    --cap-*) echo caps ;;
    --read-only* | --tmpfs*) echo fs ;;
    --memory* | --pids-limit* | --restart*) echo limits ;;
  esac
}

# show_cmd ARGS...: the command on one line when it is short, else in the tutorial's shape: the command words
# and its leading value-less options, then one option (with its value) per line (the healthcheck's timings
# together), then the image or the operands with the rest, joined by " \" continuations. Bash reads either
# form back as the same words.
show_cmd() {
  local argv=("$@") words=() line='' i=0 n=$# a flat=''
  for a in "$@"; do flat+="${flat:+ }$(quote "$a")"; done
  while ((i < n)) && [[ ${argv[i]} != -* ]]; do line+="${line:+ }$(quote "${argv[i]}")"; i=$((i + 1)); done
  while ((i < n)) && [[ ${argv[i]} == -* ]] && ! takes_value "${argv[i]}"; do
    line+=" $(quote "${argv[i]}")"; i=$((i + 1))
  done
  words=("$line")
  while ((i < n)) && [[ ${argv[i]} == -* ]]; do
    line=$(quote "${argv[i]}")
    if takes_value "${argv[i]}" && ((i + 1 < n)); then line+=" $(quote "${argv[i + 1]}")"; i=$((i + 1)); fi
    # options of one family share a line while it stays short (opt_family says which)
    if [[ -n $(opt_family "$line") && $(opt_family "$line") == "$(opt_family "${words[${#words[@]} - 1]}")" &&
      $((${#words[${#words[@]} - 1]} + ${#line})) -lt 96 ]]; then
      words[${#words[@]} - 1]+=" $line"
    else
      words+=("$line")
    fi
    i=$((i + 1))
  done
  line=''
  while ((i < n)); do line+="${line:+ }$(quote "${argv[i]}")"; i=$((i + 1)); done
  [[ -z $line ]] || words+=("$line")
  if ((${#flat} <= 80 && ${#words[@]} <= 4)); then printf '%s\n' "$flat"; return; fi
  printf '%s' "${words[0]}"
  for ((i = 1; i < ${#words[@]}; i++)); do printf ' \\\n    %s' "${words[i]}"; done
  printf '\n'
}

# print_cmd CMD...: the next number and the command, on stderr (continuation lines under the command).
print_cmd() {
  CMD_NO=$((CMD_NO + 1))
  local label="($CMD_NO)" pad
  pad=$(printf '%*s' $((${#label} + 5)) '')
  show_cmd "$@" | sed "1s/^/  $C_B$label$C_0 \$ /;2,\$s/^/$pad/" >&2
}

# run CMD...: print the command, numbered, then run it exactly as printed.
run() { print_cmd "$@"; "$@"; }

# run_capture CMD...: `run`, keeping the command's output (stdout and stderr) in RUN_OUT and its exit status
# in RUN_RC, and showing the output indented. Not `$(run ...)`: a subshell would lose run's numbering.
export RUN_RC=0 RUN_OUT=""
run_capture() {
  local f
  f=$(mktemp "${TMPDIR:-/tmp}/lab-run.XXXXXX")
  RUN_RC=0
  print_cmd "$@"
  "$@" >"$f" 2>&1 || RUN_RC=$?
  RUN_OUT=$(cat "$f")
  rm -f "$f"
  if [[ -n $RUN_OUT ]]; then printf '%s\n' "$RUN_OUT" | sed 's/^/      /' >&2; fi
}
