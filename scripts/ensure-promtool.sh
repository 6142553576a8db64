#!/usr/bin/env bash
# Prints the path of a promtool (Prometheus's checker; the metrics test runs
# `promtool check metrics` on a scrape), fetching it when there is none:
#   1. promtool on PATH;
#   2. else the one unpacked earlier into $TUNKIT_TOOLS_CACHE (default
#      /var/cache/tunkit-tools);
#   3. else Debian's `prometheus` package is downloaded (apt-get download, no
#      install: nothing is started and no service is enabled) and only
#      usr/bin/promtool is unpacked there. Needs root and apt-get.
# Used by npm pretest and by test/netns/metrics.test.ts. Exit non-zero with
# the reason on stderr when it cannot.
set -euo pipefail
die() { echo "ensure-promtool: $*" >&2; exit 1; }

if p=$(command -v promtool); then echo "$p"; exit 0; fi
cache=${TUNKIT_TOOLS_CACHE:-/var/cache/tunkit-tools}
bin=$cache/prometheus/usr/bin/promtool
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

[ "$(id -u)" = 0 ] || die "promtool is missing: run as root to fetch it (Debian package prometheus), or install it"
command -v apt-get >/dev/null || die "promtool is missing and this host has no apt-get: install Prometheus's promtool"
export DEBIAN_FRONTEND=noninteractive
lock=(-o DPkg::Lock::Timeout=600)
mkdir -p "$cache/deb"
find "$cache/deb" -name 'prometheus_*.deb' -delete
# A fresh machine may have no package lists yet.
(cd "$cache/deb" && apt-get "${lock[@]}" download -qq -o APT::Sandbox::User=root prometheus >/dev/null 2>&1) || {
    apt-get "${lock[@]}" update -qq
    (cd "$cache/deb" && apt-get "${lock[@]}" download -qq -o APT::Sandbox::User=root prometheus >/dev/null)
}
deb=$(find "$cache/deb" -name 'prometheus_*.deb' | head -n 1)
[ -n "$deb" ] || die "apt-get download prometheus left no .deb in $cache/deb"
work=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work"
[ -x "$work/usr/bin/promtool" ] || die "$deb has no usr/bin/promtool"
mkdir -p "$cache/prometheus/usr/bin"
install -m 0755 "$work/usr/bin/promtool" "$bin"
rm -f "$deb"
"$bin" --version >/dev/null 2>&1 || die "$bin does not run"
echo "$bin"
