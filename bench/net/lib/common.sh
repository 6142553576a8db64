# bench/net/lib/common.sh — logging, process tracking and cleanup (sourced by run.sh).
#
# Every process the benchmark starts is recorded by PID in $WORK/pids and
# ended by that PID only; every namespace it creates has $$ in its name.

# Progress goes to fd 7, a copy of the original stderr, so that a message from
# a trap that fires inside a redirected command still reaches the terminal.
exec 7>&2
log() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&7; }
die() { log "error: $*"; exit 1; }

# track PID: remember a process for cleanup
track() { echo "$1" >>"$WORK/pids"; }

# kill_tracked: TERM, a short grace period, then KILL, each recorded PID once
kill_tracked() {
  [ -s "$WORK/pids" ] || return 0
  local p alive=""
  while read -r p; do
    kill -0 "$p" 2>/dev/null && { kill -TERM "$p" 2>/dev/null; alive="$alive $p"; }
  done <"$WORK/pids"
  if [ -n "$alive" ]; then
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      local left=""
      for p in $alive; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
      [ -z "$left" ] && break
      sleep 0.2
    done
    for p in $alive; do kill -KILL "$p" 2>/dev/null; done
    for p in $alive; do wait "$p" 2>/dev/null; done
  fi
  : >"$WORK/pids"
}

# json_str S: S as a JSON string literal
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/ }
  s=${s//$'\t'/ }
  printf '"%s"' "$s"
}

# json_num V: V if it is a number, else null
json_num() {
  if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "$1"; else printf null; fi
}
