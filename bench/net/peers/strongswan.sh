# bench/net/peers/strongswan.sh — strongSwan 5.9, ESP in userspace via kernel-libipsec.
#
# Two charons, IKEv2 with a pre-shared key, one CHILD_SA in tunnel mode for
# the inner /32s, ESP aes128gcm16. kernel-libipsec does ESP itself and sends it
# in UDP/4500 (it cannot send raw ESP, hence encap = yes); the plaintext side
# is its TUN device ipsec0. Each charon runs in its own network namespace and
# its own mount namespace with a tmpfs on /run (charon's pid file is fixed at
# /var/run/charon.pid), with its own strongswan.conf (STRONGSWAN_CONF) and
# vici socket, so the two never meet on the file system.

SWAN_PSK=tkbench-throwaway-psk-not-secret-$$

swan_charon_bin() {
  local c
  for c in /usr/lib/ipsec/charon /usr/libexec/ipsec/charon /usr/lib/strongswan/charon; do
    [ -x "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}

# swan_conf SIDE LOCAL_UL REMOTE_UL LOCAL_IN REMOTE_IN: strongswan.conf + swanctl.conf
swan_conf() {
  local side=$1 lu=$2 ru=$3 li=$4 ri=$5 other=a d="$WORK/swan-$1"
  [ "$side" = a ] && other=b
  rm -rf "$d"  # a vici.sock left by the previous pass would be taken for the new charon's
  mkdir -p "$d"
  cat >"$d/strongswan.conf" <<EOF
charon {
  load_modular = yes
  install_routes = yes
  filelog {
    bench {
      path = $d/charon.log
      default = 1
      flush_line = yes
    }
  }
  plugins {
    include /etc/strongswan.d/charon/*.conf
    kernel-libipsec {
      load = yes
    }
    vici {
      socket = unix://$d/vici.sock
    }
  }
}
EOF
  cat >"$d/swanctl.conf" <<EOF
connections {
  bench {
    version = 2
    local_addrs = $lu
    remote_addrs = $ru
    proposals = aes128gcm16-prfsha256-x25519
    encap = yes
    local {
      auth = psk
      id = $side.bench.example
    }
    remote {
      auth = psk
      id = $other.bench.example
    }
    children {
      bench {
        mode = tunnel
        local_ts = $li/32
        remote_ts = $ri/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-bench {
    id-a = a.bench.example
    id-b = b.bench.example
    secret = "$SWAN_PSK"
  }
}
EOF
}

# swan SIDE ARGS…: swanctl against that side's charon
swan() { local side=$1; shift; swanctl "$@" --uri "unix://$WORK/swan-$side/vici.sock"; }

sys_up_strongswan_aesgcm128() {
  local charon side n pid i d
  charon=$(swan_charon_bin) || { SYS_ERR="charon not found"; return 1; }
  ip -n "$NA" addr add "$A_IN/32" dev lo
  ip -n "$NB" addr add "$B_IN/32" dev lo
  swan_conf a "$A_UL" "$B_UL" "$A_IN" "$B_IN"
  swan_conf b "$B_UL" "$A_UL" "$B_IN" "$A_IN"
  DAEMON_PIDS=""
  for side in a b; do
    n=$NA; [ $side = b ] && n=$NB
    d="$WORK/swan-$side"
    STRONGSWAN_CONF="$d/strongswan.conf" ip netns exec "$n" unshare --mount --propagation private \
      sh -c 'mount -t tmpfs tkbench-run /run && exec "$0"' "$charon" >"$d/charon.out" 2>&1 &
    pid=$!; track "$pid"
    DAEMON_PIDS="$DAEMON_PIDS $side:$pid"
  done
  for side in a b; do
    for i in $(seq 100); do [ -S "$WORK/swan-$side/vici.sock" ] && break; sleep 0.1; done
    swan $side --load-all --file "$WORK/swan-$side/swanctl.conf" >"$WORK/swan-$side/load.log" 2>&1 \
      || { SYS_ERR="swanctl --load-all ($side): $(head -n 1 "$WORK/swan-$side/load.log")"; return 1; }
  done
  swan a --initiate --child bench --timeout 15 >"$WORK/swan-initiate.log" 2>&1 \
    || { SYS_ERR="IKE failed: $(grep -h -m 3 -iE 'not supported|fail|error' "$WORK"/swan-*/charon.log | tr '\n' ' ')"; return 1; }
  for n in "$NA" "$NB"; do
    ip -n "$n" link set ipsec0 mtu "$INNER_MTU" || { SYS_ERR="no ipsec0 in $n"; return 1; }
  done
  SRC=$A_IN DST=$B_IN RXDEV=ipsec0
  swan a --list-sas >"$WORK/swan-sas.log" 2>&1
  NOTE="strongSwan $(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null), kernel-libipsec, IKEv2 PSK,"
  NOTE="$NOTE $(grep -m 1 -oE '(TUNNEL|TRANSPORT)[A-Za-z-]*, ESP:[A-Za-z0-9_/-]+' "$WORK/swan-sas.log")"
}
