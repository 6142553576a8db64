# bench/net/lib/topo.sh — the two namespaces and the veth between them (sourced by run.sh).
#
#   $NA: veth0 192.0.2.1/24  <──── veth ────>  $NB: veth0 192.0.2.2/24     (underlay)
#   inner (through the tunnel under test): 198.51.100.1  <──>  198.51.100.2
#
# Documentation ranges only (RFC 5737). The pair is created inside the
# namespaces, so nothing is ever added to the namespace the script runs in.
# Each system gets a fresh pair: no state leaks from one system to the next.
# Offloads (TSO/GSO/GRO/checksum) are off on the veth when ethtool exists, so
# the underlay moves one packet at a time, as every tunnel here does.

NA="tkbench$$a"
NB="tkbench$$b"
A_UL=192.0.2.1
B_UL=192.0.2.2
A_IN=198.51.100.1
B_IN=198.51.100.2
INNER_MTU=1400

# ns NS CMD...: run CMD inside namespace NS. Not for `&`: a backgrounded function
# is a subshell, so $! would not be the process to measure and kill; background
# jobs call `ip netns exec` directly (it execs CMD, keeping the PID).
ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

topo_down() {
  kill_tracked
  ip netns del "$NA" 2>/dev/null
  ip netns del "$NB" 2>/dev/null
  return 0
}

topo_up() {
  topo_down
  ip netns add "$NA" && ip netns add "$NB" || return 1
  ip link add veth0 netns "$NA" type veth peer name veth0 netns "$NB" || return 1
  local n a
  for n in "$NA" "$NB"; do
    a=$A_UL; [ "$n" = "$NB" ] && a=$B_UL
    ip -n "$n" link set lo up
    ip -n "$n" addr add "$a/24" dev veth0
    ip -n "$n" link set veth0 up
    if command -v ethtool >/dev/null; then
      ns "$n" ethtool -K veth0 tso off gso off gro off tx off rx off >/dev/null 2>&1
    fi
  done
  ns "$NA" ping -c 1 -W 2 -q "$B_UL" >/dev/null || { log "topology: underlay ping failed"; return 1; }
}

# dev_counter NS DEV rx_packets|tx_packets|…: one /sys statistics counter
dev_counter() { ns "$1" cat "/sys/class/net/$2/statistics/$3" 2>/dev/null || echo ''; }
