#!/bin/bash
# bench/soak/run.sh — a soak of one tunkitd pair (issue "Fail closed and stay
# up", Faults and load): a GRE tunnel and an ESP tunnel-mode SA pair between
# two namespaces, an iperf3 TCP stream through each at full speed and a ping
# through each (5/s), for MIN minutes. Every minute it samples each daemon's
# RSS; at the end it prints the RSS drift from minute 2 to the last minute
# (target: under 5 %), the errors (daemon error lines, iperf3 failures, ping
# loss) and the garbage collections with their pauses (node --trace-gc).
# A benchmark: it prints numbers and PASS/MISS, it does not fail a test run.
#
#   sudo bash bench/soak/run.sh            # 10 minutes
#   sudo MIN=3 bash bench/soak/run.sh
#
# Namespaces tkbench<pid>a/b (bench/net/lib/topo.sh), documentation ranges:
# underlay 192.0.2.1/.2, GRE inner 203.0.113.1/.2, ESP inner 198.51.100.1/.2.
set -u
BENCH=$(cd "$(dirname "$0")/../net" && pwd)
ROOT=$(cd "$BENCH/../.." && pwd)
MIN=${MIN:-10}
WORK=$(mktemp -d /tmp/tunkit-soak.XXXXXX)
: >"$WORK/pids"
for f in common install topo; do . "$BENCH/lib/$f.sh"; done
. "$BENCH/peers/tunkit.sh"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
command -v iperf3 >/dev/null || { OUT=$WORK; mkdir -p "$OUT/logs"; install_deps; }
[ -d "$ROOT/dist" ] || (cd "$ROOT" && npm run build >/dev/null) || die "build failed"
trap topo_down EXIT
topo_up || die "topology"
tk_start_daemons || die "$SYS_ERR"

GA=203.0.113.1 GB=203.0.113.2
tk a link add tk0 type gre local "$A_UL" remote "$B_UL" && tk b link add tk0 type gre local "$B_UL" remote "$A_UL" || die "gre"
ip -n "$NA" addr add "$GA" peer "$GB" dev tk0 && ip -n "$NB" addr add "$GB" peer "$GA" dev tk0
tk a link set tk0 up && tk b link set tk0 up || die "gre up"
ip -n "$NA" addr add "$A_IN/32" dev lo && ip -n "$NB" addr add "$B_IN/32" dev lo
ka=$(alg_args gcm); kb=$(alg_args gcm)
for side in a b; do
  if [ $side = a ]; then l=$A_UL r=$B_UL li=$A_IN ri=$B_IN o=$ka i=$kb so=0x1001 si=0x2002; else l=$B_UL r=$A_UL li=$B_IN ri=$A_IN o=$kb i=$ka so=0x2002 si=0x1001; fi
  # shellcheck disable=SC2086 # algorithm words
  tk $side xfrm state add src "$l" dst "$r" proto esp spi $so reqid 1 mode tunnel replay-window 128 $o \
    && tk $side xfrm state add src "$r" dst "$l" proto esp spi $si reqid 1 mode tunnel replay-window 128 $i \
    && tk $side xfrm policy add src "$li/32" dst "$ri/32" dir out tmpl src "$l" dst "$r" proto esp reqid 1 mode tunnel \
    && tk $side xfrm policy add src "$ri/32" dst "$li/32" dir in tmpl src "$r" dst "$l" proto esp reqid 1 mode tunnel || die "esp $side"
done
sleep 1
ns "$NA" ping -c 2 -W 2 -q "$GB" >/dev/null && ns "$NA" ping -c 2 -W 2 -q -I "$A_IN" "$B_IN" >/dev/null || die "no ping through the tunnels"

SECS=$((MIN * 60))
ip netns exec "$NB" iperf3 -s -p 5201 >/dev/null 2>&1 & track $!
ip netns exec "$NB" iperf3 -s -p 5202 >/dev/null 2>&1 & track $!
sleep 0.5
ip netns exec "$NA" iperf3 -c "$GB" -p 5201 -t "$SECS" -J >"$WORK/iperf-gre.json" 2>&1 & PG=$!; track $PG
ip netns exec "$NA" iperf3 -c "$B_IN" -B "$A_IN" -p 5202 -t "$SECS" -J >"$WORK/iperf-esp.json" 2>&1 & PE=$!; track $PE
ip netns exec "$NA" ping -i 0.2 -w "$SECS" -q "$GB" >"$WORK/ping-gre.txt" 2>&1 & track $!
ip netns exec "$NA" ping -i 0.2 -w "$SECS" -q -I "$A_IN" "$B_IN" >"$WORK/ping-esp.txt" 2>&1 & track $!

pid_of() { local s; for s in $DAEMON_PIDS; do [ "${s%%:*}" = "$1" ] && echo "${s#*:}"; done; }
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo nan; }
PA=$(pid_of a) PB=$(pid_of b)
log "soak: $MIN min, GRE + ESP (AES-GCM-128) at full speed, a ping through each; RSS every minute (work dir $WORK)"
printf 'minute  RSS a MB  RSS b MB\n' | tee "$WORK/rss.txt"
for m in $(seq 1 "$MIN"); do
  sleep 60
  printf '%6d  %8s  %8s\n' "$m" "$(rss "$PA")" "$(rss "$PB")" | tee -a "$WORK/rss.txt"
done
wait $PG $PE 2>/dev/null
sleep 1
node "$ROOT/dist/bench/soak/summary.js" "$WORK"
