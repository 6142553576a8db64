#!/usr/bin/env bash
# bench/net/run.sh — tunkit side by side with the userspace tunnels users compare it with.
#
#   sudo bash bench/net/run.sh                       (or: sudo npm run bench:net)
#   sudo DUR=3 REPEAT=1 SYSTEMS="veth tunkit-gre" bash bench/net/run.sh
#
# Knobs (environment): DUR (s per iperf3 run, 10), REPEAT (interleaved passes,
# 3), SYSTEMS (space-separated subset, default all), OUT (result directory,
# default /tmp/tunkit-bench-net/<UTC time>), PINGS (idle pings, 20),
# LOAD_PINGS (pings during each load run, 5), FLOOR=0 (skip the wake-up
# floor, lib/floor.sh), OVPN_DCO=1 (let OpenVPN use ovpn-dco), SKIP_BUILD=1
# (use dist/ as it is). See bench/net/README.md.
set -u

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/../.." && pwd)
DUR=${DUR:-10}
REPEAT=${REPEAT:-3}
ALL_SYSTEMS="veth c-fwd tunkit-ipip tunkit-gre tunkit-esp-aesgcm128 tunkit-esp-chacha20
  tunkit-esp-aescbc-sha256 strongswan-aesgcm128 openvpn-aesgcm256"
SYSTEMS=$(echo ${SYSTEMS:-$ALL_SYSTEMS})
OUT=${OUT:-/tmp/tunkit-bench-net/$(date -u +%Y%m%dT%H%M%SZ)}

for f in common install topo measure floor; do . "$BENCH/lib/$f.sh"; done
for f in veth cfwd tunkit strongswan openvpn; do . "$BENCH/peers/$f.sh"; done

[ "$(id -u)" = 0 ] || die "run as root (network namespaces, TUN devices)"
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 2 ]] || die "DUR must be a whole number of seconds ≥ 2"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be ≥ 1"
for s in $SYSTEMS; do
  [[ " $(echo $ALL_SYSTEMS) " == *" $s "* ]] || die "unknown system '$s' (known: $(echo $ALL_SYSTEMS))"
done

WORK=$(mktemp -d /tmp/tkbench.XXXXXX)
: >"$WORK/pids"
finish() {
  local rc=$?
  trap - EXIT INT TERM
  topo_down
  rm -rf "$WORK"
  [ "$(ip netns list 2>/dev/null | grep -c "^tkbench$$")" = 0 ] || log "warning: namespaces tkbench$$* left over"
  exit "$rc"
}
trap finish EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

mkdir -p "$OUT/raw" "$OUT/logs" || die "cannot create $OUT"
: >"$OUT/runs.jsonl"
: >"$OUT/systems.jsonl"

# --- prerequisites: packages, Node, this checkout's build, the C forwarder
log "results: $OUT (DUR=$DUR REPEAT=$REPEAT, systems: $SYSTEMS)"
install_deps
command -v node >/dev/null || die "node not found (Node ≥ 20 is needed)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "Node ≥ 20 needed, found $(node --version)"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  [ -d "$ROOT/node_modules" ] || die "no node_modules in $ROOT: run npm ci first"
  log "building $ROOT (npm run build)"
  (cd "$ROOT" && npm run build) >"$OUT/logs/build.log" 2>&1 || die "npm run build failed (see $OUT/logs/build.log)"
fi
[ -f "$ROOT/dist/bench/net/report.js" ] || die "no $ROOT/dist/bench/net/report.js: build the checkout"
gcc -O2 -Wall -pthread -o "$WORK/tunfwd" "$BENCH/tunfwd.c" 2>"$OUT/logs/tunfwd-build.log" || die "gcc tunfwd.c failed"
gcc -O2 -Wall -o "$WORK/udpecho" "$BENCH/udpecho.c" -lm 2>"$OUT/logs/udpecho-build.log" || die "gcc udpecho.c failed"

# --- what ran, for the JSON
printf '{"date":"%s","dur_s":%s,"repeat":%s,"systems":[%s],"commit":%s,"kernel":%s,"cpus":%s,"node":%s,"versions":{"iperf3":%s,"openvpn":%s,"strongswan":%s}}\n' \
  "$(date -u +%FT%TZ)" "$DUR" "$REPEAT" "$(printf '"%s",' $SYSTEMS | sed 's/,$//')" \
  "$(json_str "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+dirty')")" \
  "$(json_str "$(uname -r)")" "$(nproc)" "$(json_str "$(node --version)")" \
  "$(json_str "$(dpkg-query -W -f='${Version}' iperf3 2>/dev/null)")" \
  "$(json_str "$(dpkg-query -W -f='${Version}' openvpn 2>/dev/null)")" \
  "$(json_str "$(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null)")" >"$OUT/meta.json"

# tunnel_ready: the first inner ping may wait for ARP, IKE or a key exchange
tunnel_ready() {
  local i
  for i in 1 2 3 4 5; do
    ns "$NA" ping -c 1 -W 1 -I "$SRC" "$DST" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

# keep_logs SYSTEM PASS: daemon logs of this run into $OUT/logs, then clear them
keep_logs() {
  local dst="$OUT/logs/p$2-$1" f
  mkdir -p "$dst"
  for f in "$WORK"/tunkitd-*.log "$WORK"/tunkitd-*.gc "$WORK"/tunfwd.log "$WORK"/swan-*/charon.log \
    "$WORK"/swan-initiate.log "$WORK"/swan-sas.log "$WORK"/ovpn/[ab].log "$WORK"/iperf3-server.log; do
    [ -f "$f" ] || continue
    if [ "$(dirname "$f")" = "$WORK" ]; then cp "$f" "$dst/"; else cp "$f" "$dst/$(basename "$(dirname "$f")")-$(basename "$f")"; fi
    rm -f "$f"
  done
}

# run_system SYSTEM PASS: fresh topology, the peer, measurements, teardown
run_system() {
  local sys=$1 pass=$2 ok=false
  unset SRC DST RXDEV GC_LOG_a GC_LOG_b
  DAEMON_PIDS="" NOTE="" SYS_ERR=""
  log "pass $pass/$REPEAT: $sys"
  if ! topo_up; then
    SYS_ERR="topology setup failed"
  elif "sys_up_${sys//-/_}"; then
    if tunnel_ready; then
      measure_system "$sys" "$pass" && ok=true
    else
      SYS_ERR="no ping through the tunnel from $SRC to $DST"
    fi
  fi
  [ -n "$SYS_ERR" ] && log "  $sys failed: $SYS_ERR"
  printf '{"system":"%s","pass":%s,"ok":%s,"error":%s,"note":%s,"idle_ping":"raw/p%s-%s-idle.ping.txt","idle_ping_after":"raw/p%s-%s-idle-after.ping.txt"}\n' \
    "$sys" "$pass" "$ok" "$( [ -n "$SYS_ERR" ] && json_str "$SYS_ERR" || echo null)" "$(json_str "$NOTE")" \
    "$pass" "$sys" "$pass" "$sys" >>"$OUT/systems.jsonl"
  topo_down
  keep_logs "$sys" "$pass"
}

for pass in $(seq "$REPEAT"); do
  for sys in $SYSTEMS; do run_system "$sys" "$pass"; done
  [ "${FLOOR:-1}" = 0 ] || measure_floor "$pass"
done

node "$ROOT/dist/bench/net/report.js" "$OUT"
