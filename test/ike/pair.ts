// Two IkeCores joined in memory: what one sends the other receives (after
// the test lets it through), each recording its xfrm control requests and
// log. The addresses are documentation ones; the clock is the test's.

import { randomBytes } from 'node:crypto';
import type { XfrmRequest } from '../../src/control/ike.js';
import type { StateSpec } from '../../src/control/xfrm.js';
import { IkeCore } from '../../src/ike/core.js';
import type { Endpoint, IkeHost } from '../../src/ike/core.js';
import { parseSwanctl } from '../../src/ike/swanctl.js';
import { gwConf } from '../util/swanctl-conf.js';

export interface Wire { readonly from: Endpoint; readonly to: Endpoint; readonly data: Uint8Array }

export class FakeHost implements IkeHost {
  readonly sent: Wire[] = [];
  readonly xfrm: XfrmRequest[] = [];
  readonly logs: string[] = [];
  refuse: ((r: XfrmRequest) => boolean) | null = null;
  /** The installed states as the daemon's SAD would hold them ("dst/spi" → spec and the order added). */
  readonly sad = new Map<string, { readonly spec: StateSpec; readonly seq: number }>();
  private seq = 0;
  constructor(readonly addr: string) {}
  send(to: Endpoint, fromPort: number, data: Uint8Array): void { this.sent.push({ from: { addr: this.addr, port: fromPort }, to: { ...to }, data }); }
  control(r: XfrmRequest): void {
    if (this.refuse?.(r) === true) throw new Error(`refused ${r.op}`);
    if (r.op === 'xfrm.state.add') {
      const k = `${r.args.state.dst}/${r.args.state.spi}`;
      if (this.sad.has(k)) throw new Error(`File exists: state ${k}`);
      this.sad.set(k, { spec: r.args.state, seq: ++this.seq });
    } else if (r.op === 'xfrm.state.del' && !this.sad.delete(`${r.args.id.dst}/${r.args.id.spi}`)) {
      throw new Error(`No such process: state ${r.args.id.dst}/${r.args.id.spi}`);
    } else if (r.op === 'xfrm.state.migrate') {
      const { id, src, dst, encap } = r.args;
      const k = `${id.dst}/${id.spi}`;
      const v = this.sad.get(k);
      if (v === undefined) throw new Error(`No such process: state ${k}`);
      if (this.sad.has(`${dst}/${id.spi}`) && dst !== id.dst) throw new Error(`File exists: state ${dst}/${id.spi}`);
      this.sad.delete(k);
      const e = encap !== undefined && v.spec.encap !== undefined ? { encap: { ...v.spec.encap, ...encap } } : {};
      this.sad.set(`${dst}/${id.spi}`, { spec: { ...v.spec, src, dst, ...e }, seq: v.seq });
    }
    this.xfrm.push(r);
  }
  /** The outbound state the data path would use for reqid: the newest one from us (xfrm_state_look_at). */
  outState(reqid: number): StateSpec | null {
    let best: { spec: StateSpec; seq: number } | null = null;
    for (const v of this.sad.values()) if (v.spec.src === this.addr && v.spec.reqid === reqid && (best === null || v.seq > best.seq)) best = v;
    return best?.spec ?? null;
  }
  log(level: string, msg: string): void { this.logs.push(`${level}: ${msg}`); }
  random(n: number): Uint8Array { return new Uint8Array(randomBytes(n)); }
  states(): StateSpec[] { return this.xfrm.filter((r) => r.op === 'xfrm.state.add').map((r) => (r.args as { state: StateSpec }).state); }
}

export const ADDR = { a: '198.51.100.1', b: '198.51.100.2' } as const;

/** A swanctl.conf for side `me` talking to `peer`, with the given proposals. */
export interface ConfOpts {
  psk?: string; encap?: boolean; remoteTs?: string;
  /** Extra lines in the connection and in the child (rekey_time = 60s …). */
  connExtra?: string; childExtra?: string;
  /** A second child "net-ME-2" for 198.51.100.64/28 ↔ 198.51.100.80/28 (documentation addresses). */
  hasSecondChild?: boolean;
}

export function conf(me: 'a' | 'b', ike: string, esp: string, opts: ConfOpts = {}): string {
  const peer = me === 'a' ? 'b' : 'a';
  const ts = { a: '203.0.113.0/28', b: '203.0.113.16/28' };
  const second = { a: '198.51.100.64/28', b: '198.51.100.80/28' };
  return gwConf({
    me, peer, localAddrs: ADDR[me], remoteAddrs: ADDR[peer], ike, esp, localTs: ts[me], remoteTs: opts.remoteTs ?? ts[peer],
    encap: opts.encap === true, psk: opts.psk ?? 'a fine test secret, not for production',
    ...(opts.connExtra !== undefined ? { connExtra: opts.connExtra } : {}), ...(opts.childExtra !== undefined ? { childExtra: opts.childExtra } : {}),
    ...(opts.hasSecondChild === true ? { moreChildren: `net-${me}-2 {\n        local_ts = ${second[me]}\n        remote_ts = ${second[peer]}\n        esp_proposals = ${esp}\n      }` } : {}),
  });
}

export interface Pair { readonly a: IkeCore; readonly b: IkeCore; readonly ha: FakeHost; readonly hb: FakeHost; now: number }

export function makePair(ike: string, esp: string, opts: { pskB?: string; encap?: boolean; remoteTsB?: string; both?: ConfOpts; espB?: string } = {}): Pair {
  const ha = new FakeHost(ADDR.a);
  const hb = new FakeHost(ADDR.b);
  const a = new IkeCore(parseSwanctl(conf('a', ike, esp, { ...opts.both, encap: opts.encap === true }), 'a.conf'), ha);
  const b = new IkeCore(parseSwanctl(conf('b', ike, opts.espB ?? esp, { ...opts.both, ...(opts.pskB !== undefined ? { psk: opts.pskB } : {}), ...(opts.remoteTsB !== undefined ? { remoteTs: opts.remoteTsB } : {}) }), 'b.conf'), hb);
  return { a, b, ha, hb, now: 1_000_000 };
}

/** Delivers every queued datagram both ways until both are quiet; returns how many moved. */
export function pump(p: Pair, max = 50): number {
  let n = 0;
  for (let i = 0; i < max; i++) {
    const fromA = p.ha.sent.splice(0);
    const fromB = p.hb.sent.splice(0);
    if (fromA.length === 0 && fromB.length === 0) return n;
    for (const w of fromA) { n++; p.b.receive(w.data, w.from, { addr: w.to.addr, port: w.to.port }, p.now); }
    for (const w of fromB) { n++; p.a.receive(w.data, w.from, { addr: w.to.addr, port: w.to.port }, p.now); }
  }
  throw new Error('pump: the cores never went quiet');
}
