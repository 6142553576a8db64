// The control protocol between `tunkit` and `tunkitd`: newline-delimited
// JSON over a unix stream socket (mode 0600).
//
//   request   {"id": 1, "op": "link.add", "args": {...}}
//   response  {"id": 1, "ok": true, "data": ...}
//             {"id": 1, "ok": false, "error": {"code": "EINVAL", "message": "...", "field": "ttl"}}
//   event     {"id": 2, "event": {...}}          (after a "monitor" request, until the client closes)
//   pcap      {"id": 3, "pcap": "<base64>", ...} (after a "capture" request: daemon/capture-stream.ts)
//
// Every field of a request is validated before use: a hostile or garbled
// line gets an error response and changes nothing.

export const MAX_LINE_BYTES = 65536;

import { IKE_OPS } from '../control/ike.js';
import type { IkeOp } from '../control/ike.js';
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

/** Events `tunkit monitor` prints. */
export type MonitorEvent =
  | { readonly type: 'link.add' | 'link.del' | 'link.up' | 'link.down'; readonly dev: string; readonly kind?: string }
  | { readonly type: 'link.mtu'; readonly dev: string; readonly mtu: number }
  | { readonly type: 'pmtu'; readonly remote: string; readonly mtu: number; readonly devs: readonly string[] }
  | { readonly type: 'drop'; readonly dir: 'rx' | 'tx'; readonly dev: string; readonly reason: string; readonly text: string }
  | { readonly type: 'icmp.error'; readonly dev: string; readonly text: string }
  | XfrmEvent;

/** Parses one request line; returns an ErrorBody (never throws) for anything malformed. */
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
  const op = o['op'];
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    return { id, error: { code: 'EOPNOTSUPP', message: `unknown op ${JSON.stringify(op)}`, field: 'op' } };
  }
  const args = o['args'] ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { id, error: { code: 'EPROTO', message: 'args must be an object', field: 'args' } };
  return { id, op: op as Op, args: args as Record<string, unknown> };
}

/**
 * Splits a byte stream into lines; refuses (returns null) once a line grows
 * past MAX_LINE_BYTES so a hostile peer cannot make us buffer without bound.
 */
export class LineSplitter {
  private buf = '';
  push(chunk: string): string[] | null {
    this.buf += chunk;
    const parts = this.buf.split('\n');
    this.buf = parts.pop() ?? '';
    if (this.buf.length > MAX_LINE_BYTES) return null;
    return parts.filter((p) => p.trim() !== '');
  }
}
