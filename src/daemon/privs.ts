// tunkitd --user USER[:GROUP]: least privilege. The user is looked up at
// start (an unknown one stops tunkitd before it opens anything); once the
// devices, sockets and the control socket are open, the daemon hands the
// control socket to USER and drops to it keeping only CAP_NET_ADMIN
// (TUNSETIFF for `link add`, rtnetlink, SIOCSIF*) and CAP_NET_RAW (raw
// sockets), with no_new_privs set (native/tk_privs.h). The result is read
// back from /proc/self/status and logged; anything else is a failure.

import { chownSync, readFileSync, statSync } from 'node:fs';
import { native } from '../io/native.js';
import { VpnError } from '../wire/errors.js';
import type { Log } from './log.js';

/** CapEff after the drop: bits CAP_NET_ADMIN (12) and CAP_NET_RAW (13). */
export const KEPT_CAPS = (1n << 12n) | (1n << 13n);

/** What the drop itself needs: CAP_CHOWN (0, the control socket), CAP_SETGID (6), CAP_SETUID (7). */
const DROP_NEEDS = (1n << 0n) | (1n << 6n) | (1n << 7n);

/** A resolved --user: names as given, ids from getpwnam/getgrnam. */
export interface RunAs { readonly user: string; readonly group: string; readonly uid: number; readonly gid: number }

/** Splits USER[:GROUP] (names only, as useradd takes them). */
export function parseUserSpec(spec: string): { user: string; group: string } {
  const m = /^([A-Za-z0-9_][A-Za-z0-9_.-]*\$?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/.exec(spec);
  if (m === null) throw new VpnError('EINVAL', `tunkitd: --user "${spec}": expected USER or USER:GROUP`, 'user');
  return { user: m[1]!, group: m[2] ?? '' };
}

/** Looks the user (and group) up now, before anything is opened: unknown is a VpnError naming it. */
export function resolveUser(spec: string): RunAs {
  const { user, group } = parseUserSpec(spec);
  if ((capEff() & DROP_NEEDS) !== DROP_NEEDS) {
    throw new VpnError('EPERM', 'tunkitd: --user needs CAP_CHOWN, CAP_SETGID and CAP_SETUID to drop (start it as root; under systemd use User= with AmbientCapabilities= instead)', 'user');
  }
  try {
    const { uid, gid } = native().lookupUser(user, group);
    if (uid === 0) throw new VpnError('EINVAL', `tunkitd: --user ${user} is root (uid 0): nothing to drop`, 'user');
    checkTunAccess(user, uid, gid);
    return { user, group, uid, gid };
  } catch (e) {
    if (e instanceof RangeError) throw new VpnError('EINVAL', `tunkitd: --user: ${e.message}`, 'user');
    throw e;
  }
}

/** --control-group GROUP (a name or a number): its gid, looked up before anything is opened. */
export function resolveGroup(spec: string): number {
  if (/^\d{1,10}$/.test(spec) && Number(spec) <= 0xfffffffe) return Number(spec);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(spec)) throw new VpnError('EINVAL', `tunkitd: --control-group "${spec}": expected a group name or gid`, 'control-group');
  try {
    return native().lookupGroup(spec);
  } catch (e) {
    if (e instanceof RangeError) throw new VpnError('EINVAL', `tunkitd: --control-group: ${e.message}`, 'control-group');
    throw e;
  }
}

/** The clone device every `link add` opens (drivers/net/tun.c). */
export const TUN_CLONE = '/dev/net/tun';

/**
 * `link add` opens TUN_CLONE as the user after the drop (no CAP_DAC_OVERRIDE
 * kept), so the user must be able to read and write it by its mode: distributions
 * make it 0666 (udev); some hosts keep it 0600 root. Supplementary groups are
 * dropped, so only the owner, gid and other bits count.
 */
export function checkTunAccess(user: string, uid: number, gid: number, path = TUN_CLONE): void {
  const st = statSync(path);
  const rw = (bits: number): boolean => (st.mode & bits) === bits;
  const ok = st.uid === uid ? rw(0o600) : st.gid === gid ? rw(0o060) : rw(0o006);
  if (!ok) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new VpnError('EACCES', `tunkitd: --user ${user}: ${path} (mode ${mode}, uid ${st.uid} gid ${st.gid}) is not read-writable by uid ${uid} gid ${gid}, so \`link add\` would fail after the drop; make it 0666 (the usual udev rule) or give the group rw`, 'user');
  }
}

/** CapEff of this process's main thread (/proc/self/status, hex). */
export function capEff(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (m === null) throw new VpnError('EIO', 'tunkitd: no CapEff line in /proc/self/status');
  return BigInt(`0x${m[1]!}`);
}

const CAP_NET_ADMIN = 1n << 12n;
/** CAP_NET_ADMIN in CapEff: without it devices are only adopted (persist.ts) and left as configured. */
export const hasNetAdmin = (): boolean => (capEff() & CAP_NET_ADMIN) !== 0n;

/** Told once at start: what a tunkitd without CAP_NET_ADMIN cannot do (README "Least privilege"). */
export function warnNoNetAdmin(log: Log): void {
  if (hasNetAdmin()) return;
  log.warn('no_cap_net_admin', { effect: 'devices must be pre-created (ip tuntap add … user UID, alias tunkitd) with the MTU, state and addresses wanted; '
    + 'policy routes and the nf_tables policy firewall cannot be installed' });
}

/**
 * Gives `socket` to the user (mode stays 0600, or 0660 with its group kept
 * when `socketGid` is the --control-group: root's tunkit still connects),
 * drops, then checks uid, gid and CapEff. Throws on any mismatch: the caller exits.
 */
export function dropTo(who: RunAs, socket: string, log: Log, socketGid: number | null = null): void {
  chownSync(socket, who.uid, socketGid ?? who.gid);
  native().dropPrivileges(who.uid, who.gid);
  const eff = capEff();
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  if (eff !== KEPT_CAPS || uid !== who.uid || gid !== who.gid) {
    throw new VpnError('EPERM', `tunkitd: after dropping to ${who.user}: uid ${uid} gid ${gid} CapEff 0x${eff.toString(16)} (expected uid ${who.uid} gid ${who.gid} CapEff 0x${KEPT_CAPS.toString(16)})`);
  }
  log.info('privileges_dropped', { user: who.user, uid, gid, cap_eff: `0x${eff.toString(16)}`, caps: 'cap_net_admin,cap_net_raw', no_new_privs: 1 });
}
