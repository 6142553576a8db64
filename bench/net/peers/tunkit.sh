# bench/net/peers/tunkit.sh — tunkit from this checkout: ipip, gre, and ESP tunnel mode
# (policy-based, manual keys, `tunkit xfrm` as in the README's IPsec section).
#
# tunkitd runs as `node --trace-gc bin/tunkitd`: V8 prints one stdout line
# per garbage collection, which measure.sh counts; the daemon is unchanged.
# Its log (stderr) goes to $WORK/tunkitd-SIDE.log.

# tk SIDE ARGS…: the CLI against that side's daemon
tk() {
  local side=$1 n=$NA; shift
  [ "$side" = b ] && n=$NB
  ns "$n" node "$ROOT/bin/tunkit" --socket "$WORK/tunkitd-$side.sock" "$@"
}

tk_start_daemons() {
  local side n pid i
  DAEMON_PIDS=""
  for side in a b; do
    n=$NA; [ $side = b ] && n=$NB
    rm -f "$WORK/tunkitd-$side.sock"
    ip netns exec "$n" node --trace-gc "$ROOT/bin/tunkitd" --socket "$WORK/tunkitd-$side.sock" \
      >"$WORK/tunkitd-$side.gc" 2>"$WORK/tunkitd-$side.log" &
    pid=$!; track "$pid"
    DAEMON_PIDS="$DAEMON_PIDS $side:$pid"
    printf -v "GC_LOG_$side" '%s' "$WORK/tunkitd-$side.gc"
  done
  for i in $(seq 100); do
    [ -S "$WORK/tunkitd-a.sock" ] && [ -S "$WORK/tunkitd-b.sock" ] && return 0
    sleep 0.1
  done
  SYS_ERR="tunkitd did not start: $(tail -n 3 "$WORK"/tunkitd-*.log | tr '\n' ' ')"
  return 1
}

# tk_tunnel KIND: one ipip or gre device tk0 each side, inner /32 peer addresses
tk_tunnel() {
  local kind=$1
  tk_start_daemons || return 1
  tk a link add tk0 type "$kind" local "$A_UL" remote "$B_UL" mtu "$INNER_MTU" \
    && tk b link add tk0 type "$kind" local "$B_UL" remote "$A_UL" mtu "$INNER_MTU" \
    || { SYS_ERR="tunkit link add $kind failed"; return 1; }
  ip -n "$NA" addr add "$A_IN" peer "$B_IN" dev tk0
  ip -n "$NB" addr add "$B_IN" peer "$A_IN" dev tk0
  tk a link set tk0 up && tk b link set tk0 up || { SYS_ERR="tunkit link set up failed"; return 1; }
  SRC=$A_IN DST=$B_IN RXDEV=tk0
  NOTE="tunkitd $kind, mtu $INNER_MTU"
}

sys_up_tunkit_ipip() { tk_tunnel ipip; }
sys_up_tunkit_gre() { tk_tunnel gre; }

# hexkey BYTES: fresh random key material in a mode 0600 file, as `@FILE`
# (README: keys out of argv; a literal key would print tunkit's warning).
# tk_esp removes the files once the states are in.
hexkey() {
  local f
  f=$(umask 077 && mktemp "$WORK/key.XXXXXX") || return 1
  od -An -v -tx1 -N "$1" /dev/urandom | tr -d ' \n' >"$f"
  printf '@%s' "$f"
}

# tk_esp ALG-ARGS-A→B ALG-ARGS-B→A: one SA each way, an out and an in policy
# each side, for the inner /32s (the addresses live on lo). tunkitd routes the
# out policy's destination into its policy TUN ipsec0 with the SA's MTU
# (1438 for GCM on this 1500 underlay); the route is lowered to 1400 here so
# every system carries the same inner packets.
tk_esp() {
  local ab=$1 ba=$2 side l r li ri out in spi_out spi_in
  tk_start_daemons || return 1
  ip -n "$NA" addr add "$A_IN/32" dev lo
  ip -n "$NB" addr add "$B_IN/32" dev lo
  for side in a b; do
    if [ $side = a ]; then l=$A_UL r=$B_UL li=$A_IN ri=$B_IN out=$ab in=$ba spi_out=0x1001 spi_in=0x2002
    else l=$B_UL r=$A_UL li=$B_IN ri=$A_IN out=$ba in=$ab spi_out=0x2002 spi_in=0x1001; fi
    # shellcheck disable=SC2086 # the algorithm arguments are words on purpose
    tk $side xfrm state add src "$l" dst "$r" proto esp spi $spi_out reqid 1 mode tunnel replay-window 128 $out \
      && tk $side xfrm state add src "$r" dst "$l" proto esp spi $spi_in reqid 1 mode tunnel replay-window 128 $in \
      && tk $side xfrm policy add src "$li/32" dst "$ri/32" dir out tmpl src "$l" dst "$r" proto esp reqid 1 mode tunnel \
      && tk $side xfrm policy add src "$ri/32" dst "$li/32" dir in tmpl src "$r" dst "$l" proto esp reqid 1 mode tunnel \
      || { SYS_ERR="tunkit xfrm state/policy add failed (side $side)"; rm -f "$WORK"/key.*; return 1; }
  done
  rm -f "$WORK"/key.*
  local i
  for i in $(seq 50); do
    ip -n "$NA" route show "$B_IN" dev ipsec0 2>/dev/null | grep -q . \
      && ip -n "$NB" route show "$A_IN" dev ipsec0 2>/dev/null | grep -q . && break
    sleep 0.1
  done
  ip -n "$NA" link set ipsec0 mtu "$INNER_MTU" && ip -n "$NB" link set ipsec0 mtu "$INNER_MTU" \
    && ip -n "$NA" route replace "$B_IN/32" dev ipsec0 mtu "$INNER_MTU" \
    && ip -n "$NB" route replace "$A_IN/32" dev ipsec0 mtu "$INNER_MTU" \
    || { SYS_ERR="tunkit: no ipsec0 route"; return 1; }
  SRC=$A_IN DST=$B_IN RXDEV=ipsec0
}

# alg_args KIND: a fresh key pair's "aead …" / "enc … auth-trunc …" words
alg_args() {
  case $1 in
    gcm) echo "aead rfc4106(gcm(aes)) $(hexkey 20) 128" ;;
    chacha) echo "aead rfc7539esp(chacha20,poly1305) $(hexkey 36) 128" ;;
    cbc) echo "enc cbc(aes) $(hexkey 16) auth-trunc hmac(sha256) $(hexkey 32) 128" ;;
  esac
}

sys_up_tunkit_esp_aesgcm128() {
  tk_esp "$(alg_args gcm)" "$(alg_args gcm)" || return 1
  NOTE="tunkitd ESP tunnel, rfc4106(gcm(aes)) 128-bit key, ICV 128, raw ESP"
}
sys_up_tunkit_esp_chacha20() {
  tk_esp "$(alg_args chacha)" "$(alg_args chacha)" || return 1
  NOTE="tunkitd ESP tunnel, rfc7539esp(chacha20,poly1305), raw ESP"
}
sys_up_tunkit_esp_aescbc_sha256() {
  tk_esp "$(alg_args cbc)" "$(alg_args cbc)" || return 1
  NOTE="tunkitd ESP tunnel, cbc(aes) 128 + hmac(sha256) auth-trunc 128, raw ESP"
}
