#!/bin/sh
# The command hook hookwatch installs. Claude Code cancels async hooks still running when a turn
# ends in print mode (a Deno start-up alone outlasts that window), so this front does only what
# must happen before then: it writes the hook's input to the spool's inbox and exits, within a few
# milliseconds. One detached sender (send_event.ts --drain) per server delivers the inbox; what
# it cannot deliver stays spooled and is replayed. So an event is on disk before anything can
# cancel the hook, and a burst of hooks starts one Deno process, not one each.
#
# The same front runs for Codex, Gemini CLI and Copilot CLI (--agent; --event names the event
# for Copilot, whose inputs do not). It prints nothing and exits 0 whatever happens: Copilot
# denies the tool when a preToolUse or permissionRequest hook prints anything but JSON or exits
# non-zero, and every agent reads some hooks' stdout as a decision.
#
# With --decide (a permission request held for a person in hookwatch) it runs the sender in
# the foreground instead, which waits up to --wait seconds and prints the agent's own answer,
# or nothing when nobody decided.
#
# usage: hook.sh DENO|--binary BIN [--agent NAME] [--event NAME] [--decide --wait S]
#                [--source-app NAME] [--server-url URL] [--add-chat] [--token-env NAME]
# POSIX sh; on the path the agent waits for, cat is the only program it runs.

# A cancelled hook gets SIGTERM: finish the write first, it takes milliseconds.
trap '' TERM INT HUP
umask 077

runner=$1
shift
binary=
if [ "$runner" = "--binary" ]; then
  binary=$1
  shift
fi
url=${HOOKWATCH_URL:-http://127.0.0.1:4000}
source_app=
add_chat=
agent=
event=
decide=
wait=
token_env=
while [ $# -gt 0 ]; do
  case $1 in
    --source-app) source_app=$2 && shift ;;
    --source-app=*) source_app=${1#*=} ;;
    --server-url) url=$2 && shift ;;
    --server-url=*) url=${1#*=} ;;
    --add-chat) add_chat=1 ;;
    --agent) agent=$2 && shift ;;
    --agent=*) agent=${1#*=} ;;
    --event) event=$2 && shift ;;
    --event=*) event=${1#*=} ;;
    --decide) decide=1 ;;
    --wait) wait=$2 && shift ;;
    --wait=*) wait=${1#*=} ;;
    --token-env) token_env=$2 && shift ;;
    --token-env=*) token_env=${1#*=} ;;
  esac
  shift
done

# source_app without --source-app: the git repository name of the hook's directory, found by
# walking up (the sender itself may read only its spool and the transcripts).
repo=
if [ -z "$source_app" ]; then
  dir=$PWD
  while [ -n "$dir" ]; do
    if [ -d "$dir/.git" ]; then
      repo=${dir##*/}
      break
    elif [ -f "$dir/.git" ]; then
      line=
      read -r line <"$dir/.git"
      case $line in
        "gitdir: "*/.git/worktrees/*)
          main=${line#gitdir: }
          main=${main%/.git/worktrees/*}
          repo=${main##*/}
          ;;
        *) repo=${dir##*/} ;;
      esac
      break
    fi
    dir=${dir%/*}
  done
  [ -n "$repo" ] || repo=${PWD##*/}
fi

# No HOME and no spool directory named: nowhere to write (and no error: exit 0, quietly).
[ -n "${HOOKWATCH_SPOOL_DIR:-${XDG_STATE_HOME:-$HOME}}" ] || exit 0
spool=${HOOKWATCH_SPOOL_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/hookwatch}
inbox=$spool/inbox
[ -d "$inbox" ] || mkdir -p "$inbox" 2>/dev/null || exit 0

host=${url#*://}
host=${host%%/*}
host=${host##*@}
case $host in
  *:*) ;;
  *) case $url in https:*) host=$host:443 ;; *) host=$host:80 ;; esac ;;
esac
case $host in *[!A-Za-z0-9.:_-]*) key=other ;; *) key=$host ;; esac
run=$spool/run-$key

# --token-env NAME: the sender reads the token from $NAME instead of HOOKWATCH_TOKEN (a
# variable's name only; anything else is dropped).
case $token_env in [!A-Za-z_]* | *[!A-Za-z0-9_]*) token_env= ;; esac

if [ -n "$binary" ]; then
  set -- "$binary"
else
  # The sender gets only what it needs: the server's address, its spool, the transcripts.
  transcripts=${CLAUDE_CONFIG_DIR:-$HOME/.claude}
  set -- "$runner" run --no-config --no-prompt --quiet \
    "--allow-net=$host" "--allow-read=$spool,$transcripts" "--allow-write=$spool" \
    "--allow-env=HOME,XDG_STATE_HOME,HOOKWATCH_URL,HOOKWATCH_TOKEN,HOOKWATCH_SOURCE_APP,HOOKWATCH_SPOOL_DIR,HOOKWATCH_SPOOL_MAX_BYTES,HOOKWATCH_TIMEOUT_MS,HOOKWATCH_DEADLINE_MS${token_env:+,$token_env}" \
    "${0%/*}/send_event.ts"
fi
[ -z "$token_env" ] || set -- "$@" --token-env "$token_env"

if [ -n "$decide" ]; then
  # Held for a person: the sender reads the input on stdin, waits for the answer and prints it
  # (or nothing). Whatever becomes of it, this hook exits 0.
  "$@" --decide --wait "${wait:-50}" --agent "$agent" --event "$event" \
    --source-app "$source_app" --repo "${repo:-root}" --server-url "$url" \
    2>>"$spool/sender.log" || :
  exit 0
fi

# One file per invocation: a few header lines, then the hook's JSON. noclobber refuses a name
# that a reused pid left behind. A sender skips a file whose JSON is not complete yet.
entry() {
  printf 'server_url=%s\nrepo=%s\nsource_app=%s\nadd_chat=%s\nagent=%s\nevent=%s\n' \
    "$url" "${repo:-root}" "$source_app" "$add_chat" "$agent" "$event"
  cat
}
set -C
file=$inbox/$$.hook
entry >"$file" 2>/dev/null || {
  [ -e "$file" ] || exit 0
  file=$(mktemp "$inbox/XXXXXXXXXX") || exit 0
  entry >|"$file" || exit 0
}
set +C

set -- "$@" --drain --run "$run" --server-url "$url"

# One sender per server at a time: the directory is the lock, the pid in it tells a live sender
# from one that was killed. A sender that is running picks this file up before it exits. The
# usual case, a sender still at work, costs no process: test, read and kill are builtins.
pid=
[ -d "$run" ] && read -r pid <"$run/pid" 2>/dev/null
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && exit 0
if ! mkdir "$run" 2>/dev/null; then
  # Taken by a sender that died (or one starting this very moment: two senders for a while
  # cost nothing but a duplicate POST, which the server stores once).
  rm -rf "$run"
  mkdir "$run" 2>/dev/null || exit 0
fi

# Detached, with none of Claude Code's stdio: the hook is finished as soon as this shell exits.
setsid=
command -v setsid >/dev/null 2>&1 && setsid=setsid
$setsid sh -c 'echo $$ >"$0/pid" && exec "$@"' "$run" "$@" \
  </dev/null >/dev/null 2>>"$spool/sender.log" &
exit 0
