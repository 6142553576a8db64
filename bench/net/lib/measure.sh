# bench/net/lib/measure.sh — one system's measurements (sourced by run.sh).
#
# A peer's setup function leaves these set, then measure_system runs:
#   SRC, DST       inner addresses: ping and iperf3 go from SRC (in $NA) to DST (in $NB)
#   RXDEV          the device in $NB the tunnel writes received packets into
#   DAEMON_PIDS    "a:PID b:PID" of the data-path processes (empty for veth)
#   GC_LOG_a/_b    tunkitd's --trace-gc output (tunkit systems only)
#   NOTE           free text for the report (cipher negotiated, mode, …)
# It writes raw files under $OUT/raw and one JSON line per load run to
# $OUT/runs.jsonl; the report (report.ts) reads those and does all arithmetic.

PINGS=${PINGS:-20}        # idle pings, 0.2 s apart
LOAD_PINGS=${LOAD_PINGS:-5}  # pings during each iperf3 run, from t = 1 s, 0.2 s apart
HZ=$(getconf CLK_TCK)

# Snapshots use "-" for a value that cannot be read (process gone, not tunkitd),
# so every snapshot line has the same five fields.

# proc_ticks PID: utime + stime of all its threads, in clock ticks
proc_ticks() {
  [ -r "/proc/$1/stat" ] || { echo -; return; }
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# proc_status_kb PID FIELD: VmRSS / VmHWM in kB
proc_status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null; }

# gc_counts FILE: "all major" GC lines so far in a node --trace-gc log
gc_counts() {
  [ -f "$1" ] || { echo '- -'; return; }
  local all major
  all=$(grep -cE '^\[[0-9]+:0x[0-9a-f]+\] +[0-9.]+ ms: ' "$1")
  major=$(grep -cE '^\[[0-9]+:0x[0-9a-f]+\] +[0-9.]+ ms: Mark' "$1")
  echo "$all $major"
}

# daemon_snapshot: one line per daemon, "side pid ticks gc_all gc_major"
daemon_snapshot() {
  local d side pid log
  for d in $DAEMON_PIDS; do
    side=${d%%:*}; pid=${d#*:}
    log=GC_LOG_$side; log=${!log:-}
    echo "$side $pid $(proc_ticks "$pid") $(gc_counts "$log")"
  done
}

# delta A B: B - A, or null if either is "-"
delta() { if [ "$1" = - ] || [ "$2" = - ]; then printf null; else printf '%s' $(( $2 - $1 )); fi; }

# daemons_json BEFORE AFTER: JSON array of per-daemon deltas and memory
daemons_json() {
  local sep="" side pid t0 g0 m0 t1 g1 m1 first=1
  printf '['
  while read -r side pid t0 g0 m0 && read -r _ _ t1 g1 m1 <&3; do
    [ $first = 1 ] || sep=','
    first=0
    printf '%s{"side":"%s","pid":%s,"ticks":%s,"gc":%s,"gc_major":%s,"rss_kb":%s,"hwm_kb":%s}' "$sep" "$side" "$pid" \
      "$(delta "$t0" "$t1")" "$(delta "$g0" "$g1")" "$(delta "$m0" "$m1")" \
      "$(json_num "$(proc_status_kb "$pid" VmRSS)")" "$(json_num "$(proc_status_kb "$pid" VmHWM)")"
  done <"$1" 3<"$2"
  printf ']'
}

# load_run SYSTEM PASS STREAMS: iperf3 TCP for $DUR s with a few pings alongside
load_run() {
  local sys=$1 pass=$2 p=$3
  local tag="$OUT/raw/p$pass-$sys-P$p"
  local rx0 rx1 t0 t1 ping_pid
  daemon_snapshot >"$WORK/snap0"
  rx0=$(dev_counter "$NB" "$RXDEV" rx_packets)
  t0=$(date +%s%N)
  ( sleep 1; exec ip netns exec "$NA" ping -c "$LOAD_PINGS" -i 0.2 -W 2 -I "$SRC" "$DST" ) >"$tag.ping.txt" 2>&1 &
  ping_pid=$!
  track "$ping_pid"
  ns "$NA" iperf3 -c "$DST" -B "$SRC" -t "$DUR" -P "$p" -J --connect-timeout 3000 >"$tag.iperf.json" 2>"$tag.iperf.err"
  t1=$(date +%s%N)
  rx1=$(dev_counter "$NB" "$RXDEV" rx_packets)
  daemon_snapshot >"$WORK/snap1"
  wait "$ping_pid" 2>/dev/null
  printf '{"system":"%s","pass":%s,"streams":%s,"elapsed_s":%s,"rx_dev":"%s","rx_packets":%s,"hz":%s,"daemons":%s,"iperf":"%s","ping":"%s"}\n' \
    "$sys" "$pass" "$p" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b - a) / 1e9}')" "$RXDEV" \
    "$( [ -n "$rx0" ] && [ -n "$rx1" ] && echo $(( rx1 - rx0 )) || echo null)" "$HZ" \
    "$(daemons_json "$WORK/snap0" "$WORK/snap1")" "${tag#"$OUT"/}.iperf.json" "${tag#"$OUT"/}.ping.txt" >>"$OUT/runs.jsonl"
}

# measure_system SYSTEM PASS: idle ping, then 1 and 4 streams, then idle ping
# again: a fresh daemon (its code not yet optimized by any traffic) and one
# that has carried traffic, as a daemon in service has.
measure_system() {
  local sys=$1 pass=$2 srv
  ip netns exec "$NB" iperf3 -s -B "$DST" >"$WORK/iperf3-server.log" 2>&1 &
  srv=$!
  track "$srv"
  sleep 0.5
  ns "$NA" ping -c "$PINGS" -i 0.2 -W 2 -I "$SRC" "$DST" >"$OUT/raw/p$pass-$sys-idle.ping.txt" 2>&1
  load_run "$sys" "$pass" 1
  sleep 1
  load_run "$sys" "$pass" 4
  sleep 1
  ns "$NA" ping -c "$PINGS" -i 0.2 -W 2 -I "$SRC" "$DST" >"$OUT/raw/p$pass-$sys-idle-after.ping.txt" 2>&1
}
