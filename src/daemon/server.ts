// The daemon's control socket: accepts connections on a unix socket (created
// 0600, or 0660 for a read-only group, in a 0700 directory), checks each
// peer's SO_PEERCRED, dispatches requests to a handler, streams monitor
// events. Everything a client can make the daemon hold is bounded: the
// request line, its nesting, the number of connections, an idle connection's
// life, and the bytes queued towards a slow reader (events beyond are dropped
// and counted, then reported as {"id", "lost": N}, as netlink's ENOBUFS).
// One bad client never affects another or the daemon.

import { chownSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { VpnError } from '../wire/errors.js';
import { serveCapture } from './capture-stream.js';
import type { StartCapture } from './capture-stream.js';
import { accessOf, mayRun, peerCred } from './peer-auth.js';
import type { Access } from './peer-auth.js';
import { LineSplitter, parseRequest } from './protocol.js';
import type { EventMsg, LostMsg, MonitorEvent, Request, Response } from './protocol.js';
import { freeSocketPath, listenUnix } from './socket-file.js';

export type Handler = (req: Request) => unknown;

/** Limits of the control socket (defaults in brackets). */
export interface ControlOptions {
  /** gid allowed read-only requests (READ_ONLY_OPS, no keys); the socket is then 0660 with this group. [none: 0600] */
  readonly readGroup?: number | null;
  /** Connections served at once; more are answered EMFILE and closed. [64] */
  readonly maxConnections?: number;
  /** A connection with no request in flight and no stream is closed after this long without input (ms). [60000] */
  readonly idleMs?: number;
  /** Bytes queued towards one client beyond which events are dropped and reading its requests pauses. [1 MiB] */
  readonly maxQueueBytes?: number;
}

interface Subscriber { readonly sock: Socket; readonly id: number; readonly drops: boolean; lost: number }

/** Per-connection state. */
interface Conn { readonly sock: Socket; readonly access: Access; inFlight: number; isStream: boolean }

export class ControlServer {
  private server: Server | null = null;
  private readonly subs = new Set<Subscriber>();
  private readonly conns = new Set<Socket>();
  private readonly readGroup: number | null;
  private readonly maxConnections: number;
  private readonly idleMs: number;
  private readonly maxQueueBytes: number;
  /** Events dropped towards slow readers since start. */
  eventsLost = 0;

  /** Starts a `tunkit capture` tap (main.ts: the data path's); null refuses captures. */
  onCapture: StartCapture | null = null;

  /** Called when a monitor subscribes, so drop tracing can start at once. */
  onSubscribe: (() => void) | null = null;

  constructor(private readonly path: string, private readonly handle: Handler, private readonly log: (s: string) => void, opts: ControlOptions = {}) {
    this.readGroup = opts.readGroup ?? null;
    this.maxConnections = opts.maxConnections ?? 64;
    this.idleMs = opts.idleMs ?? 60_000;
    this.maxQueueBytes = opts.maxQueueBytes ?? 1 << 20;
  }

  /** Listens; an existing path is replaced only if it is a socket nothing answers on (socket-file.ts). */
  async listen(): Promise<void> {
    await freeSocketPath(this.path);
    const srv = createServer((sock) => this.accept(sock));
    await listenUnix(srv, this.path, this.readGroup !== null ? 0o660 : 0o600);
    if (this.readGroup !== null) chownSync(this.path, -1, this.readGroup);
    this.server = srv;
  }

  /** Sends an event to every monitor subscriber (drop events only to those that asked). */
  publish(ev: MonitorEvent): void {
    for (const s of this.subs) {
      if (ev.type === 'drop' && !s.drops) continue;
      const msg: EventMsg = { id: s.id, event: ev };
      this.sendEvent(s, `${JSON.stringify(msg)}\n`);
    }
  }

  get hasDropSubscribers(): boolean {
    for (const s of this.subs) if (s.drops) return true;
    return false;
  }

  /** Bytes written to clients that they have not yet taken (Node's queues, beyond the kernel's socket buffers). */
  get queuedBytes(): number {
    let n = 0;
    for (const s of this.conns) n += s.writableLength;
    return n;
  }

  /** Connections open now. */
  get connections(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    this.subs.clear();
    const srv = this.server;
    this.server = null;
    if (srv !== null) await new Promise<void>((resolve) => srv.close(() => resolve()));
    if (existsSync(this.path) && lstatSync(this.path).isSocket()) unlinkSync(this.path);
  }

  /** An event line to one subscriber, or dropped and counted when its queue is full. */
  private sendEvent(s: Subscriber, line: string): void {
    if (s.sock.destroyed) return;
    if (s.sock.writableLength + line.length > this.maxQueueBytes) {
      s.lost++;
      this.eventsLost++;
      return;
    }
    this.flushLost(s);
    s.sock.write(line);
  }

  /** Tells a subscriber how many events it lost, once there is room again. */
  private flushLost(s: Subscriber): void {
    if (s.lost === 0 || s.sock.destroyed) return;
    const msg: LostMsg = { id: s.id, lost: s.lost };
    s.lost = 0;
    s.sock.write(`${JSON.stringify(msg)}\n`);
  }

  private accept(sock: Socket): void {
    sock.on('error', (e) => this.log(`control client: ${e.message}`));
    if (this.conns.size >= this.maxConnections) {
      this.refuse(sock, 'EMFILE', `too many control connections (${String(this.maxConnections)})`);
      return;
    }
    const access = accessOf(peerCred(sock), process.geteuid?.() ?? 0, this.readGroup);
    if (access === null) {
      this.refuse(sock, 'EACCES', 'permission denied: tunkitd serves uid 0, its own uid and its read-only group');
      return;
    }
    const c: Conn = { sock, access, inFlight: 0, isStream: false };
    this.conns.add(sock);
    sock.setEncoding('utf8');
    sock.setTimeout(this.idleMs);
    sock.on('timeout', () => { if (c.inFlight === 0 && !c.isStream) sock.destroy(); });
    sock.on('close', () => {
      this.conns.delete(sock);
      for (const s of this.subs) if (s.sock === sock) this.subs.delete(s);
    });
    sock.on('drain', () => {
      for (const s of this.subs) if (s.sock === sock) this.flushLost(s);
      if (sock.isPaused() && !sock.destroyed) sock.resume();
    });
    const lines = new LineSplitter();
    sock.on('data', (chunk: string) => {
      const got = lines.push(chunk);
      if (got === null) {
        this.conns.delete(sock);
        this.refuse(sock, 'EMSGSIZE', 'request line too long: closing the connection');
        return;
      }
      for (const line of got) this.dispatch(c, line);
      if (sock.writableLength > this.maxQueueBytes) sock.pause(); // answers pile up: read no more until 'drain'
    });
  }

  /**
   * Answers one error and closes the connection; whatever it sent after is
   * read and discarded, never run (closing with unread input would make the
   * kernel reset the peer, ECONNRESET, before it reads our answer). The peer's
   * FIN in reply to ours closes it; one that neither reads nor closes is cut at 1 s.
   */
  private refuse(sock: Socket, code: string, message: string): void {
    sock.removeAllListeners('data');
    sock.on('data', () => {});
    sock.resume(); // even if paused for backpressure: keep discarding
    const r: Response = { id: 0, ok: false, error: { code, message } };
    sock.end(`${JSON.stringify(r)}\n`);
    setTimeout(() => sock.destroy(), 1000).unref();
  }

  private dispatch(c: Conn, line: string): void {
    const { sock } = c;
    const parsed = parseRequest(line);
    if ('error' in parsed) {
      this.reply(sock, { id: parsed.id, ok: false, error: parsed.error });
      return;
    }
    const req = this.authorize(c, parsed);
    if (req === null) return;
    if (req.op === 'monitor') {
      c.isStream = true;
      sock.setTimeout(0);
      this.subs.add({ sock, id: req.id, drops: req.args['drops'] === true, lost: 0 });
      this.onSubscribe?.();
      this.reply(sock, { id: req.id, ok: true, data: 'monitoring' });
      return;
    }
    try {
      if (req.op === 'capture') {
        if (this.onCapture === null) throw new VpnError('EOPNOTSUPP', 'capture is not available');
        c.isStream = true;
        sock.setTimeout(0);
        serveCapture(sock, req.id, req.args, this.onCapture, (data) => this.reply(sock, { id: req.id, ok: true, data }));
        return;
      }
      const data = this.handle(req);
      if (data instanceof Promise) { // a long op (ike.initiate): answered when it settles
        c.inFlight++;
        const settle = (r: Response): void => { c.inFlight--; this.reply(sock, r); };
        data.then((v: unknown) => settle({ id: req.id, ok: true, data: v ?? null }), (e: unknown) => settle({ id: req.id, ok: false, error: errorBody(e) }));
        return;
      }
      this.reply(sock, { id: req.id, ok: true, data: data ?? null });
    } catch (e) {
      this.reply(sock, { id: req.id, ok: false, error: errorBody(e) });
    }
  }

  /** The request as this peer may run it (keys forced off for read-only peers), or null after an EACCES answer. */
  private authorize(c: Conn, req: Request): Request | null {
    if (!mayRun(c.access, req.op)) {
      this.reply(c.sock, { id: req.id, ok: false, error: { code: 'EACCES', message: `${req.op} needs uid 0 or tunkitd's uid`, field: 'op' } });
      return null;
    }
    return c.access === 'admin' ? req : { ...req, args: { ...req.args, keys: false } };
  }

  private reply(sock: Socket, r: Response): void {
    if (!sock.destroyed) sock.write(`${JSON.stringify(r)}\n`);
  }
}

/** A VpnError keeps its code and field; anything else is an internal error (logged by the caller). */
export function errorBody(e: unknown): { code: string; message: string; field?: string } {
  if (e instanceof VpnError) return e.field !== undefined ? { code: e.code, message: e.message, field: e.field } : { code: e.code, message: e.message };
  return { code: 'EINTERNAL', message: e instanceof Error ? e.message : String(e) };
}
