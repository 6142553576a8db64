// The daemon's control socket: accepts connections on a unix socket (mode
// 0600 in a 0700 directory), dispatches requests to a handler, streams
// monitor events. One bad client never affects another or the daemon.

import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { VpnError } from '../wire/errors.js';
import { serveCapture } from './capture-stream.js';
import type { StartCapture } from './capture-stream.js';
import { LineSplitter, parseRequest } from './protocol.js';
import type { EventMsg, MonitorEvent, Request, Response } from './protocol.js';

export type Handler = (req: Request) => unknown;

interface Subscriber { readonly sock: Socket; readonly id: number; readonly drops: boolean }

export class ControlServer {
  private server: Server | null = null;
  private readonly subs = new Set<Subscriber>();

  /** Starts a `tunkit capture` tap (main.ts: the data path's); null refuses captures. */
  onCapture: StartCapture | null = null;

  /** Called when a monitor subscribes, so drop tracing can start at once. */
  onSubscribe: (() => void) | null = null;

  constructor(private readonly path: string, private readonly handle: Handler, private readonly log: (s: string) => void) {}

  /** Listens; an existing socket file is replaced only if nothing answers on it. */
  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    if (existsSync(this.path)) {
      if (await isAlive(this.path)) throw new VpnError('EADDRINUSE', `another tunkitd is listening on ${this.path}`);
      unlinkSync(this.path);
    }
    const srv = createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.path, () => resolve());
    });
    chmodSync(this.path, 0o600);
    this.server = srv;
  }

  /** Sends an event to every monitor subscriber (drop events only to those that asked). */
  publish(ev: MonitorEvent): void {
    for (const s of this.subs) {
      if (ev.type === 'drop' && !s.drops) continue;
      const msg: EventMsg = { id: s.id, event: ev };
      s.sock.write(`${JSON.stringify(msg)}\n`);
    }
  }

  get hasDropSubscribers(): boolean {
    for (const s of this.subs) if (s.drops) return true;
    return false;
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.sock.destroy();
    this.subs.clear();
    const srv = this.server;
    this.server = null;
    if (srv !== null) await new Promise<void>((resolve) => srv.close(() => resolve()));
    if (existsSync(this.path)) unlinkSync(this.path);
  }

  private accept(sock: Socket): void {
    sock.setEncoding('utf8');
    const lines = new LineSplitter();
    sock.on('error', (e) => this.log(`control client: ${e.message}`));
    sock.on('close', () => {
      for (const s of this.subs) if (s.sock === sock) this.subs.delete(s);
    });
    sock.on('data', (chunk: string) => {
      const got = lines.push(chunk);
      if (got === null) {
        this.reply(sock, { id: 0, ok: false, error: { code: 'EMSGSIZE', message: 'request line too long' } });
        sock.end();
        return;
      }
      for (const line of got) this.dispatch(sock, line);
    });
  }

  private dispatch(sock: Socket, line: string): void {
    const req = parseRequest(line);
    if ('error' in req) {
      this.reply(sock, { id: req.id, ok: false, error: req.error });
      return;
    }
    if (req.op === 'monitor') {
      this.subs.add({ sock, id: req.id, drops: req.args['drops'] === true });
      this.onSubscribe?.();
      this.reply(sock, { id: req.id, ok: true, data: 'monitoring' });
      return;
    }
    try {
      if (req.op === 'capture') {
        if (this.onCapture === null) throw new VpnError('EOPNOTSUPP', 'capture is not available');
        serveCapture(sock, req.id, req.args, this.onCapture, (data) => this.reply(sock, { id: req.id, ok: true, data }));
        return;
      }
      const data = this.handle(req);
      if (data instanceof Promise) { // a long op (ike.initiate): answered when it settles
        data.then((v: unknown) => this.reply(sock, { id: req.id, ok: true, data: v ?? null }), (e: unknown) => this.reply(sock, { id: req.id, ok: false, error: errorBody(e) }));
        return;
      }
      this.reply(sock, { id: req.id, ok: true, data: data ?? null });
    } catch (e) {
      this.reply(sock, { id: req.id, ok: false, error: errorBody(e) });
    }
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

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
