// The CLI side of the control protocol: one request, one response; or a
// monitor stream. Errors come back as VpnError with the daemon's code/field.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { RemoteError, VpnError } from '../wire/errors.js';
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

/**
 * Replies are not held to the daemon's request limit (MAX_LINE_BYTES): the
 * daemon is trusted, and `link show` of thousands of devices or `xfrm state`
 * of thousands of SAs is one line of megabytes. This only bounds a broken one.
 */
const REPLY_MAX_BYTES = 1 << 30;

/** What a CLI command needs of the daemon: requests, and the socket path (for `monitor`, which streams on its own connection). */
export interface Control {
  readonly path: string;
  request(op: Op, args?: object): Promise<unknown>;
}

interface Pending {
  readonly op: Op;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface Reply { id?: number; ok: boolean; data?: unknown; error?: { code: string; message: string; field?: string } }

/**
 * One control-socket connection that carries any number of requests (each
 * line has its own id; the daemon answers in order). Opened on the first
 * request, reopened after the daemon closed it; close() ends it. `tunkit
 * -batch` runs all its lines over one of these.
 */
export class ControlClient implements Control {
  private sock: Socket | null = null;
  private opening: Promise<Socket> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(readonly path: string, private readonly timeoutMs = 10_000) {}

  /** Sends one request and resolves with its data, or rejects with the daemon's error (VpnError). */
  async request(op: Op, args: object = {}): Promise<unknown> {
    const s = await this.connect();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new VpnError('ETIMEDOUT', `tunkitd did not answer ${op}`));
        this.drop(s);
      }, this.timeoutMs);
      this.pending.set(id, { op, resolve, reject, timer });
      s.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** Ends the connection; pending requests (none, between commands) are rejected. */
  close(): void {
    if (this.sock !== null) this.drop(this.sock);
  }

  private connect(): Promise<Socket> {
    if (this.sock !== null) return Promise.resolve(this.sock);
    this.opening ??= open(this.path).then((s) => {
      this.sock = s;
      this.opening = null;
      const lines = new LineSplitter(REPLY_MAX_BYTES);
      s.on('data', (chunk: string) => {
        for (const line of lines.push(chunk) ?? []) this.answer(line);
      });
      s.on('close', () => this.drop(s));
      s.on('error', () => this.drop(s));
      return s;
    }, (e: unknown) => {
      this.opening = null;
      throw e;
    });
    return this.opening;
  }

  private answer(line: string): void {
    const r = JSON.parse(line) as Reply;
    if (r.id === 0 && !r.ok) { // the daemon refused the connection itself (EACCES, EMFILE, EMSGSIZE): every request fails with it
      const e = new VpnError(r.error?.code ?? 'EPROTO', r.error?.message ?? 'error', r.error?.field);
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(e);
      }
      return;
    }
    const p = typeof r.id === 'number' ? this.pending.get(r.id) : undefined;
    if (p === undefined || r.id === undefined) return;
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.data);
    else p.reject(new RemoteError(r.error?.code ?? 'EPROTO', r.error?.message ?? 'error', r.error?.field));
  }

  /** Forgets a connection; whatever still waits on it fails (the daemon went away). */
  private drop(s: Socket): void {
    if (this.sock === s) this.sock = null;
    s.destroy();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new VpnError('ECONNRESET', `tunkitd closed the connection before answering ${p.op}`));
    }
  }
}

/** Sends one request over a connection of its own and resolves with its data, or rejects with the daemon's error. */
export async function request(path: string, op: Op, args: object = {}, timeoutMs = 10_000): Promise<unknown> {
  const c = new ControlClient(path, timeoutMs);
  try {
    return await c.request(op, args);
  } finally {
    c.close();
  }
}

/** What `monitor` does when the daemon dropped events for a slow reader: one line on stderr, as `ip monitor` on ENOBUFS. */
const reportLost = (n: number): void => {
  process.stderr.write(`tunkit: ${String(n)} events lost (the monitor read too slowly)\n`);
};

/** Streams monitor events to `onEvent` (lost-event counts to `onLost`) until the daemon goes away; resolves then. */
export async function monitor(path: string, drops: boolean, onEvent: (e: MonitorEvent) => void, onLost: (n: number) => void = reportLost): Promise<void> {
  const s = await open(path);
  const lines = new LineSplitter(REPLY_MAX_BYTES);
  s.write(`${JSON.stringify({ id: 1, op: 'monitor', args: { drops } })}\n`);
  await new Promise<void>((resolve) => {
    s.on('data', (chunk: string) => {
      for (const line of lines.push(chunk) ?? []) {
        const m = JSON.parse(line) as { event?: MonitorEvent; lost?: number };
        if (m.event !== undefined) onEvent(m.event);
        else if (typeof m.lost === 'number') onLost(m.lost);
      }
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

/** What a capture stream delivers (daemon/capture-stream.ts). */
export interface CaptureHandlers {
  /** The daemon accepted: the pcap file header's linktype and snaplen. */
  readonly onStart: (linktype: number, snaplen: number) => void;
  /** Whole pcap records, and the daemon's running counts for this capture. */
  readonly onRecords: (records: Buffer, captured: number, dropped: number) => void;
}

/**
 * Streams a capture on a connection of its own. Resolves with close() once
 * started (rejects with the daemon's error otherwise); `done` resolves when
 * the stream ends (close(), or the daemon ended it: device gone, daemon stopped).
 */
export async function captureStream(path: string, args: { dev: string; side: string }, h: CaptureHandlers): Promise<{ close: () => void; done: Promise<void> }> {
  const s = await open(path);
  const done = new Promise<void>((resolve) => {
    s.on('close', () => resolve());
  });
  let buf = '';
  return new Promise((resolve, reject) => {
    let isStarted = false;
    s.on('error', (e) => { if (!isStarted) reject(e); });
    s.on('close', () => { if (!isStarted) reject(new VpnError('ECONNRESET', 'tunkitd closed the connection before answering capture')); });
    s.on('data', (chunk: string) => {
      buf += chunk; // no length cap: records of a 64 KiB packet make long lines, and the daemon is trusted
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') continue;
        const m = JSON.parse(line) as Reply & { pcap?: string; captured?: number; dropped?: number };
        if (m.pcap !== undefined) {
          h.onRecords(Buffer.from(m.pcap, 'base64'), m.captured ?? 0, m.dropped ?? 0);
        } else if (!m.ok) {
          s.destroy();
          reject(new RemoteError(m.error?.code ?? 'EPROTO', m.error?.message ?? 'error', m.error?.field));
        } else {
          const d = m.data as { linktype: number; snaplen: number };
          isStarted = true;
          h.onStart(d.linktype, d.snaplen);
          resolve({ close: () => s.destroy(), done });
        }
      }
    });
    s.write(`${JSON.stringify({ id: 1, op: 'capture', args })}\n`);
  });
}
