// The CLI side of the control protocol: one request, one response; or a
// monitor stream. Errors come back as VpnError with the daemon's code/field.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { VpnError } from '../wire/errors.js';
import { LineSplitter } from './protocol.js';
import type { MonitorEvent, Op } from './protocol.js';

/** Default control socket: /run/tunkit/<netns name or "default">.sock. */
export function defaultSocketPath(netns = currentNetnsName()): string {
  return `/run/tunkit/${netns}.sock`;
}

/** The name `ip netns exec NAME` runs us under (it sets no variable, so we ask /run/netns via the inode). */
export function currentNetnsName(): string {
  return process.env['TUNKIT_NETNS'] ?? netnsFromProc() ?? 'default';
}

import { readdirSync, statSync } from 'node:fs';
function netnsFromProc(): string | null {
  try {
    const self = statSync('/proc/self/ns/net').ino;
    for (const n of readdirSync('/run/netns')) {
      if (statSync(`/run/netns/${n}`).ino === self) return n;
    }
  } catch {
    return null; // no /run/netns: not in a named namespace
  }
  return null;
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.setEncoding('utf8');
    s.once('connect', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => {
      reject(new VpnError(e.code ?? 'ECONNREFUSED', `cannot reach tunkitd at ${path}: ${e.message} (is tunkitd running?)`));
    });
  });
}

/** Sends one request and resolves with its data, or rejects with the daemon's error. */
export async function request(path: string, op: Op, args: object = {}, timeoutMs = 10_000): Promise<unknown> {
  const s = await open(path);
  return new Promise((resolve, reject) => {
    const lines = new LineSplitter();
    const timer = setTimeout(() => { s.destroy(); reject(new VpnError('ETIMEDOUT', `tunkitd did not answer ${op}`)); }, timeoutMs);
    s.on('data', (chunk: string) => {
      const got = lines.push(chunk) ?? [];
      for (const line of got) {
        clearTimeout(timer);
        s.end();
        const r = JSON.parse(line) as { ok: boolean; data?: unknown; error?: { code: string; message: string; field?: string } };
        if (r.ok) resolve(r.data);
        else reject(new VpnError(r.error?.code ?? 'EPROTO', r.error?.message ?? 'error', r.error?.field));
        return;
      }
    });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.write(`${JSON.stringify({ id: 1, op, args })}\n`);
  });
}

/** Streams monitor events to `onEvent` until the daemon goes away; resolves then. */
export async function monitor(path: string, drops: boolean, onEvent: (e: MonitorEvent) => void): Promise<void> {
  const s = await open(path);
  const lines = new LineSplitter();
  s.write(`${JSON.stringify({ id: 1, op: 'monitor', args: { drops } })}\n`);
  await new Promise<void>((resolve) => {
    s.on('data', (chunk: string) => {
      for (const line of lines.push(chunk) ?? []) {
        const m = JSON.parse(line) as { event?: MonitorEvent };
        if (m.event !== undefined) onEvent(m.event);
      }
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}
