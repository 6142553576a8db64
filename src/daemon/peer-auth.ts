// Who may do what on the control socket, from the peer's SO_PEERCRED
// (unix(7)), as the kernel's xfrm/rtnetlink decide by CAP_NET_ADMIN:
//   admin      uid 0 or tunkitd's own uid: every request, keys shown when asked;
//   read       the configured read-only group (the peer's effective gid or
//              one of its supplementary groups, SO_PEERGROUPS):
//              READ_ONLY_OPS only, and never key material;
//   (nobody)   anyone else: refused at connect.

import type { Socket } from 'node:net';
import { native } from '../io/native.js';
import type { Op } from './protocol.js';

export type Access = 'admin' | 'read';

/** The peer's credentials at connect(2). */
export interface PeerCred { readonly pid: number; readonly uid: number; readonly gid: number; readonly groups: readonly number[] }

/** Requests that change nothing and carry no key material (once `keys` is forced off). */
export const READ_ONLY_OPS: ReadonlySet<Op> = new Set<Op>([
  'link.show', 'stats', 'monitor', 'ping',
  'xfrm.state.get', 'xfrm.state.list', 'xfrm.state.count',
  'xfrm.policy.get', 'xfrm.policy.list', 'xfrm.policy.getdefault', 'xfrm.stat',
  'ike.list-sas',
  'ike.list-conns',
]);

/** The fd under a connected net.Socket (libuv's handle; null when it has none, e.g. already closed). */
export function socketFd(sock: Socket): number | null {
  const handle: unknown = Reflect.get(sock, '_handle');
  if (typeof handle !== 'object' || handle === null) return null;
  const fd: unknown = Reflect.get(handle, 'fd');
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : null;
}

/** SO_PEERCRED of a connected unix socket; null when it cannot be read (then nothing is allowed). */
export function peerCred(sock: Socket): PeerCred | null {
  const fd = socketFd(sock);
  if (fd === null) return null;
  try {
    return native().peerCred(fd);
  } catch {
    return null;
  }
}

/** What a peer may do: admin for uid 0 and `ownUid`, read for `readGid` (when set), else null. */
export function accessOf(cred: PeerCred | null, ownUid: number, readGid: number | null): Access | null {
  if (cred === null) return null;
  if (cred.uid === 0 || cred.uid === ownUid) return 'admin';
  if (readGid !== null && (cred.gid === readGid || cred.groups.includes(readGid))) return 'read';
  return null;
}

/** Whether `access` may run `op`. */
export function mayRun(access: Access, op: Op): boolean {
  return access === 'admin' || READ_ONLY_OPS.has(op);
}
