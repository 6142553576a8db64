// Helpers of the least-privilege system tests (privs.test.ts, zerocap.test.ts):
// the launcher that gives a daemon a 0666 /dev/net/tun of its own, a user to
// run it as, and a process's credentials from /proc.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Runs the daemon with a 0666 /dev/net/tun of its own mount namespace ("$@" is the daemon's argv).
 * This host's /dev/net/tun may be 0600 root (distributions make it 0666): a tmpfs over
 * /dev/net holds a 0666 node for the same device (10, 200), so nothing outside the test changes.
 */
export const LAUNCHER = ['unshare', '-m', 'sh', '-c',
  'mount -t tmpfs -o mode=0755,size=64k tkpriv /dev/net && mknod -m 0666 /dev/net/tun c 10 200 && exec "$@"', 'sh'];

export interface TestUser { readonly spec: string; readonly uid: number; readonly gid: number; readonly remove: () => void }

const ids = (name: string, db: 'passwd' | 'group'): string[] | null => {
  const r = spawnSync('getent', [db, name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(':') : null;
};

/** nobody:nogroup when the host has them, else a throwaway system user (removed by remove()). */
export function testUser(): TestUser {
  const pw = ids('nobody', 'passwd');
  const gr = ids('nogroup', 'group');
  if (pw !== null && gr !== null) return { spec: 'nobody:nogroup', uid: Number(pw[2]), gid: Number(gr[2]), remove: () => undefined };
  const name = `tkpriv${process.pid % 100000}`;
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  assert.equal(r.status, 0, `useradd ${name}: ${r.stderr}`);
  const u = ids(name, 'passwd')!;
  return { spec: name, uid: Number(u[2]), gid: Number(u[3]), remove: () => { spawnSync('userdel', [name]); } };
}

/** Uid/Gid (all four ids), CapEff and NoNewPrivs of a process. */
export function creds(pid: number): { uid: string; gid: string; capEff: string; noNewPrivs: string } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(st)?.[1]?.trim().replace(/\s+/g, ' ') ?? '';
  return { uid: field('Uid'), gid: field('Gid'), capEff: field('CapEff'), noNewPrivs: field('NoNewPrivs') };
}

/** setpriv arguments that run the rest as `user` with exactly the ambient capabilities `caps` ('' = none: CapEff 0). */
export function asUser(user: TestUser, caps: string): string[] {
  const c = caps === '' ? [] : [`--ambient-caps=${caps}`];
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', `--inh-caps=-all${caps === '' ? '' : `,${caps}`}`, ...c];
}
