# bench/net/peers/cfwd.sh — the naive C forwarder (../tunfwd.c): TUN <-> UDP, no crypto,
# one blocking thread per direction, one read()/write() per packet.

CFWD_PORT=5555

# wait_dev NS DEV: until DEV exists in NS (5 s)
wait_dev() {
  local i
  for i in $(seq 50); do ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

sys_up_c_fwd() {
  local n pid lu ru li ri
  DAEMON_PIDS=""
  for n in "$NA" "$NB"; do
    if [ "$n" = "$NA" ]; then lu=$A_UL ru=$B_UL li=$A_IN ri=$B_IN; else lu=$B_UL ru=$A_UL li=$B_IN ri=$A_IN; fi
    ip netns exec "$n" "$WORK/tunfwd" tun0 "$lu" "$ru" "$CFWD_PORT" >>"$WORK/tunfwd.log" 2>&1 &
    pid=$!; track "$pid"
    DAEMON_PIDS="$DAEMON_PIDS $([ "$n" = "$NA" ] && echo a || echo b):$pid"
    wait_dev "$n" tun0 || { SYS_ERR="tunfwd: no tun0 ($(tail -n 2 "$WORK/tunfwd.log"))"; return 1; }
    ip -n "$n" addr add "$li" peer "$ri" dev tun0
    ip -n "$n" link set tun0 mtu "$INNER_MTU" up
  done
  SRC=$A_IN DST=$B_IN RXDEV=tun0
  NOTE="C, 2 blocking threads, read/write per packet, UDP port $CFWD_PORT"
}
