// The control protocol between `tunkit` and `tunkitd`: newline-delimited
// JSON over a unix stream socket (mode 0600).
//
//   request   {"id": 1, "op": "link.add", "args": {...}}
//   response  {"id": 1, "ok": true, "data": ...}
//             {"id": 1, "ok": false, "error": {"code": "EINVAL", "message": "...", "field": "ttl"}}
//   event     {"id": 2, "event": {...}}          (after a "monitor" request, until the client closes)
//   lost      {"id": 2, "lost": N}               (N events dropped because the client read too slowly)
//   pcap      {"id": 3, "pcap": "<base64>", ...} (after a "capture" request: daemon/capture-stream.ts)
//
// Every field of a request is validated before use: a hostile or garbled
// line gets an error response and changes nothing.

export const MAX_LINE_BYTES = 65536;

import { IKE_OPS } from '../control/ike.js';
import type { IkeEvent, IkeOp } from '../control/ike.js';
import { XFRM_OPS } from '../xfrm/spec.js';
import type { XfrmEvent, XfrmOp } from '../xfrm/spec.js';

/**
 * config.reload {file?}  → ReloadResult  (re-read the config file, apply the difference)
 * config.save   {}       → { text }      (the running state as a config file, keys included)
 * addr.add|addr.del   {dev, addr: "ADDR/PLEN"}, route.add|route.del {dev, dst: "PREFIX/PLEN"}: on tunkit's own links
 */
export type ConfigOps = 'config.reload' | 'config.save' | 'addr.add' | 'addr.del' | 'route.add' | 'route.del';
export type Op = 'link.add' | 'link.change' | 'link.del' | 'link.set' | 'link.show' | 'stats' | 'monitor' | 'capture' | 'ping' | ConfigOps | XfrmOp | IkeOp;
export const OPS: readonly Op[] = [
  'link.add', 'link.change', 'link.del', 'link.set', 'link.show', 'stats', 'monitor', 'capture', 'ping',
  'config.reload', 'config.save', 'addr.add', 'addr.del', 'route.add', 'route.del', ...XFRM_OPS, ...IKE_OPS,
];

/** What `config.reload` answers: the file, and the objects by what happened to them. */
export interface ReloadResult {
  readonly file: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: number;
}

export interface Request {
  readonly id: number;
  readonly op: Op;
  readonly args: Record<string, unknown>;
}

export interface ErrorBody { readonly code: string; readonly message: string; readonly field?: string }

export type Response =
  | { readonly id: number; readonly ok: true; readonly data: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ErrorBody };

export interface EventMsg { readonly id: number; readonly event: MonitorEvent }

/** Sent to a monitor whose reader fell behind: `lost` events were dropped for it since the last such message (netlink's ENOBUFS). */
export interface LostMsg { readonly id: number; readonly lost: number }

/** Events `tunkit monitor` prints. */
export type MonitorEvent =
  | { readonly type: 'link.add' | 'link.del' | 'link.up' | 'link.down'; readonly dev: string; readonly kind?: string }
  | { readonly type: 'link.mtu'; readonly dev: string; readonly mtu: number }
  | { readonly type: 'pmtu'; readonly remote: string; readonly mtu: number; readonly devs: readonly string[] }
  | { readonly type: 'drop'; readonly dir: 'rx' | 'tx'; readonly dev: string; readonly reason: string; readonly text: string }
  | { readonly type: 'icmp.error'; readonly dev: string; readonly text: string }
  | XfrmEvent
  | IkeEvent;

/** Deepest nesting of arrays/objects a request may have (the deepest real one, xfrm.state.add, is 4). */
export const MAX_DEPTH = 16;

/** Parses one request line; returns an ErrorBody naming the field (never throws) for anything malformed. */
export function parseRequest(line: string): Request | { readonly id: number; readonly error: ErrorBody } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { id: 0, error: { code: 'EPROTO', message: 'request is not JSON' } };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { id: 0, error: { code: 'EPROTO', message: 'request is not an object' } };
  const o = v as Record<string, unknown>;
  const id = typeof o['id'] === 'number' && Number.isSafeInteger(o['id']) ? o['id'] : 0;
  if (o['id'] !== undefined && id === 0 && o['id'] !== 0) return { id, error: { code: 'EPROTO', message: 'id must be a safe integer', field: 'id' } };
  const op = o['op'];
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    return { id, error: { code: 'EOPNOTSUPP', message: `unknown op ${JSON.stringify(op)?.substring(0, 64) ?? 'undefined'}`, field: 'op' } };
  }
  const args = o['args'] ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { id, error: { code: 'EPROTO', message: 'args must be an object', field: 'args' } };
  if (depth(args, MAX_DEPTH) > MAX_DEPTH) return { id, error: { code: 'EPROTO', message: `args nest deeper than ${String(MAX_DEPTH)} levels`, field: 'args' } };
  return { id, op: op as Op, args: args as Record<string, unknown> };
}

/** Nesting depth of a parsed JSON value (a scalar is 0), counted without recursion; stops early past `limit`. */
export function depth(v: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[v, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [x, d] = top;
    if (typeof x !== 'object' || x === null) continue;
    if (d + 1 > deepest) deepest = d + 1;
    if (deepest > limit) return deepest;
    for (const c of Object.values(x)) stack.push([c, d + 1]);
  }
  return deepest;
}

/**
 * Splits a stream into lines; refuses (returns null) once a line grows past
 * MAX_LINE_BYTES (UTF-8 bytes) so a hostile peer cannot make us buffer
 * without bound. Each chunk is scanned once (linear in the input); after a
 * refusal the splitter stays refused and the caller closes the connection.
 */
export class LineSplitter {
  private parts: string[] = [];
  private bytes = 0;
  private isRefused = false;

  constructor(private readonly max = MAX_LINE_BYTES) {}

  push(chunk: string): string[] | null {
    if (this.isRefused) return null;
    const out: string[] = [];
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', from)) {
      const piece = chunk.substring(from, nl);
      this.bytes += Buffer.byteLength(piece);
      if (this.bytes > this.max) return this.refuse();
      this.parts.push(piece);
      const line = this.parts.join('');
      this.parts = [];
      this.bytes = 0;
      if (line.trim() !== '') out.push(line);
      from = nl + 1;
    }
    const rest = chunk.substring(from);
    this.bytes += Buffer.byteLength(rest);
    if (this.bytes > this.max) return this.refuse();
    if (rest !== '') this.parts.push(rest);
    return out;
  }

  private refuse(): null {
    this.isRefused = true;
    this.parts = [];
    return null;
  }
}
