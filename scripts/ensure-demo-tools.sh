#!/usr/bin/env bash
# The live demo's own needs (npm run demo): it runs as root and drives
# network namespaces with ip (iproute2) and pings with ping (iputils-ping).
# Installs them with apt-get when missing; otherwise says in one line what
# to install. tunkitd itself needs neither at run time.
set -euo pipefail
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v ping >/dev/null || missing+=(iputils-ping)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "npm run demo needs ${missing[*]} (and root): install them, e.g. 'sudo apt-get install ${missing[*]}'" >&2
  exit 1
fi
echo "demo: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ] || apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
