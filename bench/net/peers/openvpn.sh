# bench/net/peers/openvpn.sh — OpenVPN 2.6, peer to peer over UDP, TLS, AES-256-GCM.
#
# TLS with a throwaway CA this script makes (EC P-256, valid 2 days, in $WORK):
# $NA is --tls-server, $NB --tls-client checking the server certificate's
# EKU. The data channel is pinned to AES-256-GCM (--data-ciphers and
# --cipher). --tun-mtu 1400 makes the inner MTU match every other system and
# --mssfix 0 leaves TCP's MSS to that MTU, as for the others.
# --disable-dco keeps OpenVPN's own userspace data path even on kernels that
# have the ovpn-dco module (set OVPN_DCO=1 to let it offload to the kernel).

OVPN_PORT=1194

ovpn_pki() {
  local d="$WORK/ovpn" role
  [ -f "$d/ca.crt" ] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=tkbench-throwaway-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>>"$d/pki.log" || return 1
  for role in server client; do
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=%sAuth\n' "$role" >"$d/$role.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=tkbench-$role" -keyout "$d/$role.key" -out "$d/$role.csr" 2>>"$d/pki.log" \
      && openssl x509 -req -in "$d/$role.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/$role.ext" -out "$d/$role.crt" 2>>"$d/pki.log" || return 1
  done
}

sys_up_openvpn_aesgcm256() {
  local d="$WORK/ovpn" side n role lu ru li ri pid i tls
  ovpn_pki || { SYS_ERR="openssl: could not make the throwaway CA ($d/pki.log)"; return 1; }
  DAEMON_PIDS=""
  for side in a b; do
    if [ $side = a ]; then n=$NA role=server lu=$A_UL ru=$B_UL li=$A_IN ri=$B_IN tls="--tls-server --dh none"
    else n=$NB role=client lu=$B_UL ru=$A_UL li=$B_IN ri=$A_IN tls="--tls-client --remote-cert-tls server"; fi
    rm -f "$d/$side.log"
    # shellcheck disable=SC2086 # $tls holds several options
    ip netns exec "$n" openvpn --dev tun0 --dev-type tun --proto udp --local "$lu" --lport "$OVPN_PORT" \
      --remote "$ru" --rport "$OVPN_PORT" --ifconfig "$li" "$ri" --tun-mtu "$INNER_MTU" --mssfix 0 \
      $tls --ca "$d/ca.crt" --cert "$d/$role.crt" --key "$d/$role.key" \
      --data-ciphers AES-256-GCM --cipher AES-256-GCM $([ "${OVPN_DCO:-0}" = 1 ] || echo --disable-dco) \
      --verb 3 --log "$d/$side.log" >/dev/null 2>&1 &
    pid=$!; track "$pid"
    DAEMON_PIDS="$DAEMON_PIDS $side:$pid"
  done
  for i in $(seq 150); do
    grep -q 'Initialization Sequence Completed' "$d/a.log" 2>/dev/null \
      && grep -q 'Initialization Sequence Completed' "$d/b.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q 'Initialization Sequence Completed' "$d/a.log" 2>/dev/null \
    || { SYS_ERR="openvpn did not come up: $(grep -h -m 3 -iE 'error|fatal' "$d"/*.log | tr '\n' ' ')"; return 1; }
  SRC=$A_IN DST=$B_IN RXDEV=tun0
  NOTE="openvpn $(openvpn --version | head -n 1 | awk '{print $2}'), TLS (throwaway CA), UDP,"
  NOTE="$NOTE $(grep -h -m 1 -oE "Data Channel: [^,]*cipher '[^']+'" "$d/a.log" | sed 's/Data Channel: //'),"
  NOTE="$NOTE $([ "${OVPN_DCO:-0}" = 1 ] && echo "DCO allowed ($(grep -h -m 1 -oE 'DCO version: .*' "$d/a.log"))" || echo 'userspace data path (--disable-dco)')"
}
