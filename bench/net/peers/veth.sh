# bench/net/peers/veth.sh — the underlay alone, no tunnel: the ceiling of this machine.
# The veth gets MTU 1400, so TCP segments are the size every tunnel carries;
# offloads are already off (topo.sh), so it moves one packet at a time too.

sys_up_veth() {
  ip -n "$NA" link set veth0 mtu "$INNER_MTU"
  ip -n "$NB" link set veth0 mtu "$INNER_MTU"
  SRC=$A_UL DST=$B_UL RXDEV=veth0 DAEMON_PIDS=""
  NOTE="kernel veth, mtu $INNER_MTU, offloads $(command -v ethtool >/dev/null && echo off || echo 'on (no ethtool)')"
}
