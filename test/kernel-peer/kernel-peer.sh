#!/usr/bin/env bash
# kernel-peer.sh — Debian's Linux 6.1 kernel under QEMU as the far end of
# tunkit's interop tests. The guest's virtio NIC is a tap device inside a
# network namespace of the host: whatever runs in that namespace (tunkitd,
# tcpdump, a raw socket) exchanges packets with the real kernel's ipip, gre,
# sit and xfrm code. Commands reach the guest over a virtio console.
#
#   kernel-peer.sh setup          apt packages + kernel + initramfs into the cache
#   kernel-peer.sh ensure         setup, but only when something is missing (npm pretest)
#   kernel-peer.sh start NS       boot a guest on a tap in netns NS (made if missing)
#   kernel-peer.sh exec 'SCRIPT'  run SCRIPT with bash in the guest; its output and exit code
#   kernel-peer.sh put FILE PATH  copy a host file into the guest
#   kernel-peer.sh stop           stop the guest, remove the tap (and NS if start made it)
#   kernel-peer.sh status         is it running
#   kernel-peer.sh console        the guest's console log (kernel + init)
#
# Root only (apt, namespaces, taps). Knobs, defaults and details: README.md
# next to this script.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=kernel-peer

# Each knob is KP_<X>; the LP_<X> spelling of the earlier out-of-tree
# linux-peer.sh is accepted as an alias.
knob() { local kp="KP_$1" lp="LP_$1"; printf '%s' "${!kp:-${!lp:-$2}}"; }
NAME=$(knob NAME peer0)
CACHE=$(knob CACHE /var/cache/tunkit-kernel-peer)
RUNDIR=$(knob RUN /run/tunkit-kernel-peer)
TAP=$(knob TAP "kp-$NAME")
HOST_IP=$(knob HOST_IP 198.51.100.1/24)
GUEST_IP=$(knob GUEST_IP 198.51.100.2/24)
HOST_IP6=$(knob HOST_IP6 2001:db8:100::1/64)
GUEST_IP6=$(knob GUEST_IP6 2001:db8:100::2/64)
MAC=$(knob MAC 52:54:00:00:00:02)
MEM=$(knob MEM 256)
ACCEL=$(knob ACCEL auto)
BOOT_TIMEOUT=$(knob BOOT_TIMEOUT 180)
EXEC_TIMEOUT=$(knob EXEC_TIMEOUT 60)
PRELOAD=$(knob PRELOAD '')
APPEND=$(knob APPEND '')
KERNEL_PKG=$(knob KERNEL_PKG '')

STATE=$RUNDIR/$NAME

# Host packages: QEMU, the guest's userland (copied from the host into the
# initramfs), and what setup/start/exec use on the host (ping, flock, xz;
# node, which runs exec-client.mjs, is the project's own prerequisite; nft,
# which the NAT tests' middle namespace runs).
# strongSwan (charon, swanctl, the kernel-libipsec plugin in the extra
# plugins, X25519/GCM in the standard ones — a Recommends, so named here) is
# the host-side IKEv2 peer of test/interop/ike-strongswan.test.ts.
HOST_PACKAGES=(qemu-system-x86 busybox-static kmod iproute2 iputils-ping tcpdump nftables
               socat coreutils findutils util-linux xz-utils
               strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins)

# Host programs copied into the guest with their shared libraries; busybox
# provides the rest. bash is also /bin/sh, and the coreutils programs that
# start other programs (timeout, env, setsid, …) replace busybox's applets:
# a busybox applet that starts "ip" would run busybox's own reduced ip.
GUEST_PROGRAMS=(/bin/bash /sbin/ip /bin/kmod /usr/bin/tcpdump /usr/bin/socat
                /usr/bin/timeout /usr/bin/env /usr/bin/xargs /usr/bin/nohup
                /usr/bin/setsid /usr/bin/nice /usr/sbin/chroot)

# Kernel modules in the initramfs (with their modules.dep closure); the
# kernel loads them on demand, init preloads the tunnel/IPsec set.
MODULE_DIRS=(kernel/net/ipv4 kernel/net/ipv6 kernel/net/xfrm kernel/net/key
             kernel/net/core kernel/net/packet kernel/net/sched
             kernel/crypto kernel/arch/x86/crypto kernel/lib/crypto kernel/drivers/virtio)
MODULE_FILES=(kernel/drivers/char/virtio_console.ko kernel/drivers/net/virtio_net.ko
              kernel/drivers/net/dummy.ko kernel/drivers/net/veth.ko
              kernel/drivers/net/tun.ko kernel/drivers/net/ifb.ko)

# Bump when the initramfs layout changes in a way the lists above do not show.
INITRAMFS_REV=2

die()  { echo "$PROG: $*" >&2; exit 1; }
say()  { echo "$PROG: $*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root: sudo bash $0 $*"; }
now()  { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ------------------------------------------------------------------ setup

# What the initramfs is built from, besides the kernel package: a change
# here (or in the guest's init) makes setup rebuild it.
build_recipe() {
    {
        echo "rev $INITRAMFS_REV"
        printf 'prog %s\n' "${GUEST_PROGRAMS[@]}"
        printf 'dir %s\n' "${MODULE_DIRS[@]}"
        printf 'mod %s\n' "${MODULE_FILES[@]}"
        cat "$HERE/guest-init"
    } | sha256sum | cut -c1-16
}

missing_host_packages() {
    local p have
    have=$(dpkg-query -W -f '${db:Status-Status} ${Package}\n' "${HOST_PACKAGES[@]}" 2>/dev/null || true)
    for p in "${HOST_PACKAGES[@]}"; do
        grep -qx "installed $p" <<< "$have" || echo "$p"
    done
}

install_host_packages() {
    local missing
    missing=$(missing_host_packages)
    [ -n "$missing" ] || return 0
    say "installing $(echo $missing)"
    export DEBIAN_FRONTEND=noninteractive
    local lock=(-o DPkg::Lock::Timeout=600)
    apt-get "${lock[@]}" update -qq
    # shellcheck disable=SC2086  # one package per word
    apt-get "${lock[@]}" install -y -qq --no-install-recommends $missing >/dev/null
}

# The kernel package to use: KP_KERNEL_PKG (NAME or NAME=VERSION), else the
# one linux-image-amd64 depends on.
kernel_package() {
    if [ -n "$KERNEL_PKG" ]; then echo "$KERNEL_PKG"; return; fi
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# The cache is current when its stamp names this kernel package and recipe.
cache_current() {
    local want=$1
    [ -f "$CACHE/initramfs.img" ] && [ -f "$CACHE/stamp" ] || return 1
    [ "$(cat "$CACHE/stamp")" = "$want" ]
}

cmd_setup() {
    need_root setup
    command -v apt-get >/dev/null || die "needs apt-get (a Debian/Ubuntu host) to install QEMU and fetch the kernel"
    local t0
    t0=$(now)
    install_host_packages

    mkdir -p "$CACHE"
    exec 8>"$CACHE/.setup.lock"
    flock 8                                   # one setup at a time per cache

    local pkg recipe
    pkg=$(kernel_package)
    if [ -z "$pkg" ] && [ ! -f "$CACHE/stamp" ]; then
        apt-get -o DPkg::Lock::Timeout=600 update -qq    # no package lists yet
        pkg=$(kernel_package)
    fi
    if [ -z "$pkg" ] && [ -f "$CACHE/stamp" ]; then
        pkg=$(cut -d' ' -f1 "$CACHE/stamp")   # no apt lists: keep what we have
    fi
    [ -n "$pkg" ] || die "cannot tell which kernel package linux-image-amd64 depends on (apt-get update?); set KP_KERNEL_PKG"
    recipe=$(build_recipe)
    if cache_current "$pkg $recipe"; then
        say "cache $CACHE is current ($(cat "$CACHE/kernel-version"), ${pkg}); $(since "$t0") s"
        return 0
    fi

    local deb work=$CACHE/work
    deb=$(fetch_kernel_deb "$pkg")
    rm -rf "$work"
    mkdir -p "$work/pkg"
    trap "rm -rf '$work' '$CACHE'/*.new" EXIT
    say "extracting ${deb##*/}"
    dpkg-deb -x "$deb" "$work/pkg"

    local kver
    kver=$(ls "$work/pkg/lib/modules")
    [ -f "$work/pkg/boot/vmlinuz-$kver" ] || die "no kernel image in ${deb##*/}"
    [[ $kver == 6.1.* ]] ||
        say "warning: kernel $kver is not 6.1, which the interop tests expect (Debian 12's; pin KP_KERNEL_PKG)"
    install -m 0644 "$work/pkg/boot/vmlinuz-$kver" "$CACHE/vmlinuz.new"
    install -m 0644 "$work/pkg/boot/config-$kver" "$CACHE/config.new"
    unpack_vmlinux "$CACHE/vmlinuz.new" "$CACHE/config.new" "$CACHE/vmlinux.new"
    make_initramfs "$work" "$kver" "$CACHE/initramfs.img.new"

    # Replace the cache in one go (a guest booting now keeps its open files).
    local f
    for f in vmlinuz config initramfs.img; do mv "$CACHE/$f.new" "$CACHE/$f"; done
    if [ -f "$CACHE/vmlinux.new" ]; then mv "$CACHE/vmlinux.new" "$CACHE/vmlinux"; else rm -f "$CACHE/vmlinux"; fi
    echo "$kver" > "$CACHE/kernel-version"
    echo "$pkg $recipe" > "$CACHE/stamp"
    rm -rf "$work"
    trap - EXIT
    say "setup done in $(since "$t0") s: kernel $kver, cache $CACHE $(du -sh "$CACHE" | cut -f1)"
}

# Downloads the kernel .deb into $CACHE/debs (kept: an initramfs rebuild
# needs no network) and prints its path.
fetch_kernel_deb() {
    local pkg=$1 name=${1%%=*} dir=$CACHE/debs
    mkdir -p "$dir"
    local ver
    ver=${pkg#"$name"}; ver=${ver#=}
    [ -n "$ver" ] || ver=$(apt-cache policy "$name" | awk '$1 == "Candidate:" { print $2 }')
    local deb
    deb=$(ls "$dir/${name}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1) || true
    if [ -z "$deb" ]; then
        say "downloading $name $ver"
        rm -f "$dir"/*.deb
        (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$name=$ver" >/dev/null)
        deb=$(ls "$dir/${name}_"*.deb | head -n 1)
    fi
    echo "$deb"
}

# PVH boot of the uncompressed ELF kernel skips the bzImage's decompressor,
# which is slow under TCG (~3 s). The boot protocol header says where the
# compressed payload sits; without PVH or xz, start boots the bzImage.
unpack_vmlinux() {
    local bz=$1 config=$2 out=$3
    rm -f "$out"
    grep -qx 'CONFIG_PVH=y' "$config" || { say "kernel lacks PVH: will boot the bzImage"; return 0; }
    local sects off len
    sects=$(od -An -t u1 -j $((0x1f1)) -N 1 "$bz" | tr -d ' ')
    read -r off len < <(od -An -t u4 -j $((0x248)) -N 8 "$bz")
    [ "$sects" -ne 0 ] || sects=4
    local start=$(( (sects + 1) * 512 + off ))
    if dd if="$bz" bs=64K iflag=skip_bytes,count_bytes skip="$start" count="$len" status=none |
            xz -dc --single-stream > "$out" 2>/dev/null &&
            [ "$(head -c 4 "$out" | od -An -t x1 | tr -d ' ')" = 7f454c46 ]; then
        return 0
    fi
    say "could not unpack vmlinux from the bzImage: will boot the bzImage"
    rm -f "$out"
}

# make_initramfs WORK KVER OUT: a newc cpio (uncompressed: gunzip costs the
# emulated guest most of a second) with busybox, GUEST_PROGRAMS, the modules
# and guest-init as /init. The tree is usr-merged like the host.
make_initramfs() {
    local work=$1 kver=$2 out=$3
    local root=$work/root
    mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{etc,proc,sys,dev,tmp,run,root,var}
    ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"
    ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
    ln -s ../run "$root/var/run"; ln -s ../tmp "$root/var/tmp"

    local prog lib applet
    for prog in "${GUEST_PROGRAMS[@]}"; do
        prog=$(command -v "${prog##*/}" || echo "$prog")
        [ -x "$prog" ] || die "$prog is not installed (setup installs ${HOST_PACKAGES[*]})"
        install -m 0755 "$(readlink -f "$prog")" "$root/usr/${prog#/usr}"
        for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
            [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root/usr/${lib#/usr}"
        done
    done
    for applet in modprobe insmod rmmod lsmod modinfo depmod; do
        ln -s ../bin/kmod "$root/usr/sbin/$applet"
    done
    ln -s bash "$root/usr/bin/sh"

    install -m 0755 /bin/busybox "$root/usr/bin/busybox"
    for applet in $(/bin/busybox --list-full); do
        applet=usr/${applet#usr/}             # bin/ping → usr/bin/ping
        [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /usr/bin/busybox "$root/$applet"
    done

    printf 'root:x:0:0:root:/root:/bin/bash\ntcpdump:x:104:110::/nonexistent:/bin/false\n' > "$root/etc/passwd"
    printf 'root:x:0:\ntcpdump:x:110:\n' > "$root/etc/group"
    printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
    local f
    for f in /etc/protocols /etc/services; do [ -f "$f" ] && cp "$f" "$root/etc/"; done

    copy_modules "$work/pkg" "$root" "$kver"
    install -m 0755 "$HERE/guest-init" "$root/init"

    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | /bin/busybox cpio -o -H newc 2>/dev/null) > "$out"
    say "initramfs: $(du -sh "$root" | cut -f1) unpacked, $(du -h "$out" | cut -f1)"
}

# copy_modules PKG_ROOT ROOT KVER: MODULE_DIRS + MODULE_FILES and everything
# they depend on (modules.dep lists the full closure per module).
copy_modules() {
    local src=$1/lib/modules/$3 dst=$2/usr/lib/modules/$3
    [ -f "$src/modules.dep" ] || depmod -b "$1" "$3"
    mkdir -p "$dst"
    local wanted
    wanted=$(cd "$src" && { find "${MODULE_DIRS[@]}" -name '*.ko*' 2>/dev/null || true; printf '%s\n' "${MODULE_FILES[@]}"; } | sort -u)
    local list
    list=$(awk -F': *' 'NR == FNR { want[$1] = 1; next }
                        $1 in want { print $1; n = split($2, d, " "); for (i = 1; i <= n; i++) print d[i] }' \
               <(echo "$wanted") "$src/modules.dep" | sort -u)
    (cd "$src" && echo "$list" | while read -r m; do install -D -m 0644 "$m" "$dst/$m"; done)
    cp "$src"/modules.order "$src"/modules.builtin "$src"/modules.builtin.modinfo "$dst/"
    depmod -b "$2" "$3"
    say "modules: $(echo "$list" | wc -l) of $(wc -l < "$src/modules.dep")"
}

# ensure: nothing to do when the cache matches the recipe and the host has
# its tools; otherwise setup, which needs root and apt. Used by npm pretest.
cmd_ensure() {
    local tool missing=()
    for tool in qemu-system-x86_64 ip ping tcpdump flock xz busybox swanctl; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [ -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] || missing+=(kernel-libipsec)
    if [ ${#missing[@]} -eq 0 ] && [ -f "$CACHE/stamp" ] && [ -f "$CACHE/initramfs.img" ] &&
            [ "$(cut -d' ' -f2 "$CACHE/stamp")" = "$(build_recipe)" ]; then
        return 0
    fi
    local why="the interop tests' guest kernel (QEMU + Debian Linux 6.1) is not set up"
    [ "$(id -u)" = 0 ] || die "$why: run 'sudo bash test/kernel-peer/kernel-peer.sh setup' (root, apt), then npm test as root"
    command -v apt-get >/dev/null || die "$why and this host has no apt-get: set up QEMU and the cache by hand (see test/kernel-peer/README.md)"
    cmd_setup
}

# ------------------------------------------------------------------ start

pick_accel() {
    case $ACCEL in
        tcg|kvm) echo "$ACCEL" ;;
        auto)
            # Only hardware-assisted KVM runs the stock kernel; a /dev/kvm of
            # another kind (e.g. PVM inside a Firecracker VM) does not.
            if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
                echo kvm
            else
                echo tcg
            fi ;;
        *) die "KP_ACCEL must be auto, tcg or kvm, not $ACCEL" ;;
    esac
}

# The pid of this instance's QEMU, if it is running.
qemu_pid() {
    local pid
    pid=$(cat "$STATE/qemu.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-name kp-$NAME " || return 1
    echo "$pid"
}

netns_exists() { ip netns list | awk '{ print $1 }' | grep -qx -- "$1"; }

cmd_start() {
    need_root start "$@"
    local ns=${1:-}
    [ -n "$ns" ] || die "usage: start NETNS"
    [ -f "$CACHE/initramfs.img" ] || die "no guest in $CACHE: run 'bash $0 setup' first"
    [ "$(cut -d' ' -f2 "$CACHE/stamp" 2>/dev/null)" = "$(build_recipe)" ] ||
        say "warning: $CACHE was built from another guest-init or module list; 'setup' rebuilds it"
    if qemu_pid >/dev/null; then die "instance $NAME is already running (stop it first)"; fi

    rm -rf "$STATE"
    mkdir -p "$STATE"
    echo "$ns" > "$STATE/netns"
    echo "$TAP" > "$STATE/tap"
    # From here on a failure undoes what start did.
    trap 'say "start failed"; cmd_stop' EXIT

    if ! netns_exists "$ns"; then
        ip netns add "$ns"
        touch "$STATE/netns-made"
    fi
    ip -n "$ns" link set lo up
    ip -n "$ns" link del "$TAP" 2>/dev/null || true    # left over from a crash
    ip -n "$ns" tuntap add dev "$TAP" mode tap
    ip -n "$ns" addr add "$HOST_IP" dev "$TAP"
    ip -n "$ns" -6 addr add "$HOST_IP6" dev "$TAP" nodad
    ip -n "$ns" link set "$TAP" up

    local accel cpu kernel cmdline
    accel=$(pick_accel)
    cpu=max; [ "$accel" = tcg ] || cpu=host
    kernel=$CACHE/vmlinuz; [ -f "$CACHE/vmlinux" ] && kernel=$CACHE/vmlinux
    cmdline="console=ttyS0 panic=-1 quiet kp.ip=$GUEST_IP kp.ip6=$GUEST_IP6"
    [ -z "$PRELOAD" ] || cmdline+=" kp.preload=$PRELOAD"
    [ -z "$APPEND" ] || cmdline+=" $APPEND"

    local t0
    t0=$(now)
    # vnet_hdr=off: no checksum or GSO offload between guest and tap; what
    # arrives in NS is exactly what a real NIC would have sent.
    ip netns exec "$ns" qemu-system-x86_64 \
        -name "kp-$NAME" -machine pc -accel "$accel" -cpu "$cpu" -smp 1 -m "$MEM" \
        -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$kernel" -initrd "$CACHE/initramfs.img" -append "$cmdline" \
        -chardev file,id=log,path="$STATE/console.log" -serial chardev:log \
        -device virtio-serial-pci \
        -chardev socket,id=cmd,path="$STATE/cmd.sock",server=on,wait=off \
        -device virtconsole,chardev=cmd,name=kp.cmd \
        -netdev tap,id=net0,ifname="$TAP",script=no,downscript=no,vnet_hdr=off \
        -device virtio-net-pci,netdev=net0,mac="$MAC",romfile= \
        -daemonize -pidfile "$STATE/qemu.pid" 2> "$STATE/qemu.err" ||
        die "qemu did not start: $(cat "$STATE/qemu.err")"
    say "booting $(cat "$CACHE/kernel-version") ($accel, ${kernel##*/}) on $TAP in netns $ns"

    local guest=${GUEST_IP%/*} deadline=$((SECONDS + BOOT_TIMEOUT)) t_ping
    until ip netns exec "$ns" ping -c 1 -W 1 -q "$guest" >/dev/null 2>&1; do
        qemu_pid >/dev/null || { tail -n 30 "$STATE/console.log" >&2 || true; die "qemu exited during boot"; }
        if grep -q -e 'Kernel panic' -e 'Failed to execute /init' "$STATE/console.log" 2>/dev/null; then
            tail -n 30 "$STATE/console.log" >&2; die "the guest failed to boot"
        fi
        [ $SECONDS -lt $deadline ] || { tail -n 30 "$STATE/console.log" >&2 || true; die "no ping reply from $guest within $BOOT_TIMEOUT s"; }
        sleep 0.5
    done
    t_ping=$(since "$t0")
    until grep -q 'KP-READY' "$STATE/console.log" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || die "guest init did not report ready"
        sleep 0.2
    done
    EXEC_TIMEOUT=30 cmd_exec true >/dev/null || die "the command channel does not answer"
    trap - EXIT
    say "guest $guest: ping after $t_ping s, commands after $(since "$t0") s"
}

# ------------------------------------------------------------ exec / put

# Runs the client with this instance's channel, one caller at a time.
with_channel() {
    qemu_pid >/dev/null || die "instance $NAME is not running"
    command -v node >/dev/null || die "node (>= 20) is not on PATH"
    exec 9>"$STATE/exec.lock"
    flock 9
    node "$HERE/exec-client.mjs" "$STATE/cmd.sock" "$EXEC_TIMEOUT" "$@"
}

cmd_exec() {
    [ $# -ge 1 ] || die "usage: exec 'SCRIPT'"
    with_channel "$*"
}

cmd_put() {
    [ $# -eq 2 ] || die "usage: put FILE GUEST_PATH"
    [ -f "$1" ] || die "no such file: $1"
    local path=${2//\'/\'\\\'\'} mode=0644
    [ -x "$1" ] && mode=0755
    { printf "base64 -d > '%s' <<'KP_PUT_END'\n" "$path"
      base64 < "$1"
      printf "KP_PUT_END\nchmod %s '%s'\n" "$mode" "$path"
    } | with_channel -
}

# ------------------------------------------------------------------- stop

cmd_stop() {
    local pid ns tap
    if pid=$(qemu_pid); then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    ns=$(cat "$STATE/netns" 2>/dev/null) || true
    tap=$(cat "$STATE/tap" 2>/dev/null) || true
    if [ -n "$ns" ] && netns_exists "$ns"; then
        [ -z "$tap" ] || ip -n "$ns" link del "$tap" 2>/dev/null || true
        [ ! -f "$STATE/netns-made" ] || ip netns del "$ns" 2>/dev/null || true
    fi
    [ ! -f "$STATE/console.log" ] || mv "$STATE/console.log" "$RUNDIR/$NAME.last-console.log"
    rm -rf "$STATE"
}

cmd_status() {
    local pid
    pid=$(qemu_pid) || { echo "$NAME: not running"; return 1; }
    echo "$NAME: running, qemu pid $pid, netns $(cat "$STATE/netns"), tap $(cat "$STATE/tap")"
}

cmd_console() {
    if [ -f "$STATE/console.log" ]; then cat "$STATE/console.log"
    elif [ -f "$RUNDIR/$NAME.last-console.log" ]; then cat "$RUNDIR/$NAME.last-console.log"
    else die "no console log for $NAME"; fi
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

case ${1:-} in
    setup|ensure|start|exec|put|stop|status|console)
        cmd=$1; shift; "cmd_$cmd" "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
