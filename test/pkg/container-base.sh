#!/usr/bin/env bash
# container-base.sh — what test/pkg/container.test.ts needs to build and run
# contrib/container/Containerfile on a machine without docker.io: rootful
# podman, and a local stand-in for docker.io/library/node:20-bookworm-slim.
#
#   container-base.sh ensure    install/make what is missing, then print
#                               CONTAINERS_CONF=…, CONTAINERS_STORAGE_CONF=…
#                               and BASE=… (the image for --build-arg BASE)
#
# The stand-in is Debian bookworm (debootstrap --variant=minbase from the
# host's Debian mirror, the tarball cached) plus this host's own Node: bin/node,
# npm and include/node under /usr/local as in the official image, and the
# host's CA bundle and npm registry in npm's builtin npmrc, so the build
# reaches the registry the way the host does (behind a TLS-inspecting proxy
# too). Its tag carries a hash of those inputs; a changed host Node or CA
# bundle makes a new one.
#
# podman runs with a configuration of its own (nothing in /etc/containers
# is changed): storage under $CACHE/podman, runc (crun refuses cgroup v1
# hybrid hosts), cgroupfs, a file events log, and explicit nofile/nproc
# limits (root's default raises them to 1048576/4194304, which fails where
# root lacks CAP_SYS_RESOURCE, e.g. in a Firecracker or container sandbox).
#
# Root only. Knobs: TK_CTR_CACHE (default /var/cache/tunkit-test),
# TK_CTR_MIRROR (default: the host's deb.debian.org-style mirror).
set -euo pipefail

CACHE=${TK_CTR_CACHE:-/var/cache/tunkit-test}
PACKAGES=(podman runc debootstrap uidmap)
SUITE=bookworm
DEBIAN_TAR=$CACHE/debian-$SUITE-minbase.tar
DEBIAN_IMAGE=localhost/tunkit-test-debian:$SUITE
CONF_DIR=$CACHE/podman-conf
log() { printf 'container-base: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# The first http(s) URI of the host's Debian sources that serves the main archive.
mirror() {
  if [ -n "${TK_CTR_MIRROR:-}" ]; then printf '%s' "$TK_CTR_MIRROR"; return; fi
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
      grep -v "^ *#" | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
  printf '%s' "${m:-http://deb.debian.org/debian}"
}

install_packages() {
  local need=() p
  for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p"); done
  [ ${#need[@]} -eq 0 ] && return
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 -qq update >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >&2
}

write_conf() {
  mkdir -p "$CONF_DIR"
  cat > "$CONF_DIR/containers.conf.new" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  cat > "$CONF_DIR/storage.conf.new" <<EOF
[storage]
driver = "overlay"
graphroot = "$CACHE/podman"
runroot = "/run/tunkit-test-podman"
EOF
  mv "$CONF_DIR/containers.conf.new" "$CONF_DIR/containers.conf"
  mv "$CONF_DIR/storage.conf.new" "$CONF_DIR/storage.conf"
  export CONTAINERS_CONF=$CONF_DIR/containers.conf CONTAINERS_STORAGE_CONF=$CONF_DIR/storage.conf
}

debian_image() {
  podman image exists "$DEBIAN_IMAGE" && return
  if [ ! -s "$DEBIAN_TAR" ]; then
    local root
    root=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
    log "debootstrap --variant=minbase $SUITE from $(mirror) (a few minutes, once)"
    if ! debootstrap --variant=minbase "$SUITE" "$root" "$(mirror)" >"$root.log" 2>&1; then
      tail -n 20 "$root.log" >&2; rm -rf "$root" "$root.log"; die "debootstrap failed"
    fi
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
    tar -C "$root" -cf "$DEBIAN_TAR.new" . && mv "$DEBIAN_TAR.new" "$DEBIAN_TAR"
    rm -rf "$root" "$root.log"
  fi
  log "podman import $DEBIAN_TAR"
  podman import --quiet "$DEBIAN_TAR" "$DEBIAN_IMAGE" >/dev/null
}

# The stand-in for node:20-bookworm-slim, built from the Debian image and this host's Node.
node_image() {
  local node npm_root inc ca registry tag ctx
  node=$(readlink -f "$(command -v node)")
  npm_root=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
  inc=$(dirname "$(dirname "$node")")/include/node
  [ -f "$inc/node_api.h" ] || inc=/usr/include/node
  [ -f "$inc/node_api.h" ] || die "no Node headers beside $node nor in /usr/include/node"
  ca=/etc/ssl/certs/ca-certificates.crt
  [ -f "$ca" ] || die "no CA bundle at $ca"
  registry=$(npm config get registry)
  tag=$( { "$node" --version; sha256sum "$ca"; printf '%s\n' "$registry"; } | sha256sum | cut -c1-12)
  BASE=localhost/tunkit-test-node:$tag
  podman image exists "$BASE" && return
  log "building $BASE (Debian $SUITE + node $("$node" --version) from $node)"
  ctx=$(mktemp -d)
  mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules" "$ctx/usr/local/include" "$ctx/etc/ssl/certs"
  cp -a "$node" "$ctx/usr/local/bin/node"
  cp -a "$npm_root" "$ctx/usr/local/lib/node_modules/npm"
  cp -a "$inc" "$ctx/usr/local/include/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  cp "$ca" "$ctx/etc/ssl/certs/ca-certificates.crt"
  # npm's builtin config: read whatever --prefix an install is given.
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nregistry=%s\n' "$registry" > "$ctx/usr/local/lib/node_modules/npm/npmrc"
  printf 'FROM %s\nCOPY . /\n' "$DEBIAN_IMAGE" > "$ctx/Containerfile"
  if ! podman build --quiet --network none -t "$BASE" "$ctx" >/dev/null; then rm -rf "$ctx"; die "podman build of $BASE failed"; fi
  rm -rf "$ctx"
  # Stand-ins for an earlier Node or CA bundle are of no further use.
  podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/tunkit-test-node:' | grep -vx "$BASE" |
    xargs -r podman rmi >/dev/null 2>&1 || true
}

case "${1:-}" in
  ensure)
    [ "$(id -u)" -eq 0 ] || die "root needed (apt-get, rootful podman)"
    mkdir -p "$CACHE"
    install_packages
    exec 9>"$CACHE/lock"
    flock -w 1200 9 || die "timed out waiting for $CACHE/lock"
    write_conf
    debian_image
    node_image
    printf 'CONTAINERS_CONF=%s\nCONTAINERS_STORAGE_CONF=%s\nBASE=%s\n' "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF" "$BASE"
    ;;
  *) die "usage: $0 ensure" ;;
esac
