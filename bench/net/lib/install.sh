# bench/net/lib/install.sh — Debian packages the benchmark needs (sourced by run.sh).
# Idempotent: installs only what dpkg does not already list as installed.
# libstrongswan-standard-plugins is only a Recommends of strongswan-charon, so
# --no-install-recommends drops it; without it IKE fails with
# "DH group CURVE_25519 not supported". ethtool and openssl are small and
# optional (offloads off; the OpenVPN throwaway CA).

BENCH_PKGS="iperf3 iputils-ping iproute2 gcc libc6-dev strongswan-charon strongswan-swanctl
  libcharon-extra-plugins libstrongswan-standard-plugins openvpn openssl ethtool"

pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

install_deps() {
  local missing="" p
  for p in $BENCH_PKGS; do pkg_installed "$p" || missing="$missing $p"; done
  if [ -z "$missing" ]; then log "packages: all present"; return 0; fi
  command -v apt-get >/dev/null || die "missing packages:$missing (no apt-get: install them by hand)"
  log "installing:$missing"
  # other users of the machine may hold the dpkg lock: wait for it rather than fail
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -q)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends $missing >>"$OUT/logs/apt.log" 2>&1 \
    || { "${apt[@]}" update >>"$OUT/logs/apt.log" 2>&1 \
         && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends $missing >>"$OUT/logs/apt.log" 2>&1; } \
    || die "apt-get install failed (log: $OUT/logs/apt.log)"
}
