// The control socket's file: what may be replaced at its path, and creating
// it with its final mode atomically (no window in which the umask decides
// who may connect).

import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import type { Server } from 'node:net';
import { dirname } from 'node:path';
import { VpnError } from '../wire/errors.js';

/**
 * Makes `path` free for a new listener: its directory is created 0700 when
 * missing; an existing entry is unlinked only when it is a socket (lstat:
 * never follows a symlink) on which no daemon answers. Anything else — a
 * live daemon, a regular file, a directory, a symlink — is refused with
 * EADDRINUSE / EEXIST naming the path, and left as it was.
 */
export async function freeSocketPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!isSocket) throw new VpnError('EEXIST', `${path} exists and is not a socket: refusing to replace it (remove it by hand if it is stale)`);
  if (await isListening(path)) throw new VpnError('EADDRINUSE', `another tunkitd is listening on ${path}`);
  unlinkSync(path);
}

/**
 * listen(2) on `path` with the socket file created as `mode` (0600 or 0660):
 * bind(2) creates it as 0777 & ~umask, so the umask is set to ~mode for the
 * duration of the synchronous bind (Node binds inside listen() before it
 * returns; the process is single-threaded for JS, and no other file is
 * created meanwhile), then restored.
 */
export function listenUnix(srv: Server, path: string, mode: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    const old = process.umask(~mode & 0o777);
    try {
      srv.listen(path, () => {
        srv.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(old);
    }
  });
}

/** True when something accepts a connection on the unix socket at `path`. */
export function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
