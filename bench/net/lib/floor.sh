# bench/net/lib/floor.sh — the wake-up floor (sourced by run.sh): the same idle
# UDP round trip over the underlay veth, no tunnel, to an echo in C
# (udpecho.c) and to one in Node on tunkit's native I/O (echo-node.ts). Each
# echo is woken once per probe, as each daemon is on a tunnel's idle ping, so
# the difference is what a Node wake-up costs before any tunnel code runs.
# Probes: FLOOR_WARM at 1 ms (the Node echo's JIT warm), then $PINGS at 0.2 s.

FLOOR_PORT=7777
FLOOR_WARM=${FLOOR_WARM:-2000}

# floor_echo PASS NAME CMD...: start CMD in $NB, probe it from $NA, stop it
floor_echo() {
  local pass=$1 name=$2 pid i
  shift 2
  ip netns exec "$NB" "$@" >>"$WORK/floor-$name.log" 2>&1 &
  pid=$!
  track "$pid"
  for i in $(seq 20); do ns "$NB" ss -Hlun "sport = :$FLOOR_PORT" 2>/dev/null | grep -q . && break; sleep 0.1; done
  ns "$NA" "$WORK/udpecho" client "$B_UL" "$FLOOR_PORT" "$PINGS" 200 "$FLOOR_WARM" \
    >"$OUT/raw/p$pass-floor-$name.ping.txt" 2>&1 || log "  floor $name: lost probes (see raw/p$pass-floor-$name.ping.txt)"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# measure_floor PASS: both echoes on one fresh topology
measure_floor() {
  local pass=$1
  log "pass $pass/$REPEAT: wake-up floor (UDP echo, C and Node)"
  topo_up || { log "  floor: topology setup failed"; return 0; }
  floor_echo "$pass" c "$WORK/udpecho" server "$FLOOR_PORT"
  floor_echo "$pass" node node "$ROOT/dist/bench/net/echo-node.js" "$FLOOR_PORT"
  topo_down
}
