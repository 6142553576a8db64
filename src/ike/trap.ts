// Trap policies (swanctl start_action = trap, dpd_action / close_action =
// trap): a child's policies installed with no SA behind them, through the
// same xfrm.policy.add `tunkit xfrm policy add` sends. The first packet
// that matches one finds no state for its template, the data path raises
// an xfrm `acquire` (as the kernel's km_query) and the shell hands it to
// acquire(): the child is initiated, as charon does on the kernel's
// XFRM_MSG_ACQUIRE.
//
// A trap and the Child SA negotiated for it share selectors. As charon's
// kernel-netlink keeps one kernel policy per selector with a list of users,
// rewrite() turns the Child SA's policy add into an update of the trap's
// policy (now pointing at the SA's reqid), and its delete into an update
// back to the trap, so the trap outlives the SA and catches the next
// packet. Selectors narrowed to something else than the trap's leave the
// trap's policy in front (the older policy wins a tie): configure matching
// selectors on both ends.

import type { XfrmRequest } from '../control/ike.js';
import type { PolicyRecord, PolicySpec, SelectorSpec } from '../control/xfrm.js';
import type { ChildConfig, ConnConfig, IkeConfig } from './config.js';
import type { IkeCore, IkeHost } from './core.js';
import { literal, localAddr, resolveTs } from './initiator.js';
import { tsToCidr } from './ts.js';

interface Trap { readonly conn: ConnConfig; readonly child: ChildConfig; readonly reqid: number; readonly policies: readonly PolicySpec[] }

const selKey = (dir: string, sel: SelectorSpec | undefined): string => (sel === undefined ? '' : `${dir} ${sel.src} ${sel.dst} ${sel.proto ?? 0}`);

export class Traps {
  /** By child name. */
  private readonly traps = new Map<string, Trap>();
  /** Trap policies (selKey) a Child SA's policy stands in for now. */
  private readonly taken = new Set<string>();

  constructor(private readonly core: IkeCore, private readonly host: IkeHost) {}

  get size(): number { return this.traps.size; }

  /** The trap policies of a child: out and in per selector pair, as child.ts installs an SA's. */
  private policiesOf(conn: ConnConfig, child: ChildConfig, reqid: number): PolicySpec[] | string {
    const remote = literal(conn.remoteAddrs);
    const local = remote !== undefined ? localAddr(this.host, conn, remote) : undefined;
    if (local === undefined || remote === undefined) {
      return `connection ${conn.name} needs an address in remote_addrs, and in local_addrs or a route to the peer, to trap`;
    }
    const lts = resolveTs(child.localTs, local);
    const rts = resolveTs(child.remoteTs, remote);
    const out: PolicySpec[] = [];
    for (const l of lts) {
      for (const r of rts) {
        const lc = l === null ? null : tsToCidr(l);
        const rc = r === null ? null : tsToCidr(r);
        if (l === null || r === null || lc === null || rc === null) return 'selectors that are not prefixes cannot be trap policies';
        const proto = l.ipProto || r.ipProto;
        const p = proto !== 0 ? { proto } : {};
        out.push({ sel: { src: lc, dst: rc, ...p }, dir: 'out', tmpls: [{ src: local, dst: remote, proto: 'esp', mode: 'tunnel', reqid }] });
        out.push({ sel: { src: rc, dst: lc, ...p }, dir: 'in', tmpls: [{ src: remote, dst: local, proto: 'esp', mode: 'tunnel', reqid }] });
      }
    }
    return out;
  }

  /** Installs a child's trap; null when in (or already there), else why not. */
  install(conn: ConnConfig, child: ChildConfig): string | null {
    if (this.traps.has(child.name)) return null;
    const reqid = this.core.nextReqid();
    const ps = this.policiesOf(conn, child, reqid);
    if (typeof ps === 'string') return ps;
    const done: PolicySpec[] = [];
    for (const p of ps) {
      try {
        this.host.control({ op: 'xfrm.policy.add', args: { policy: p } });
        done.push(p);
      } catch (e) {
        for (const d of done) this.del(d);
        return `installing its policy ${p.sel.src} → ${p.sel.dst} dir ${p.dir}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    this.traps.set(child.name, { conn, child, reqid, policies: ps });
    this.host.log('info', `${child.name}: trap policies installed (reqid ${reqid})`);
    return null;
  }

  private del(p: PolicySpec): void {
    try {
      this.host.control({ op: 'xfrm.policy.del', args: { id: { sel: p.sel, dir: p.dir } } });
    } catch (e) {
      this.host.log('warn', `removing trap policy ${p.sel.src} → ${p.sel.dst}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Removes a child's trap (policies a Child SA stands in for stay with it). */
  uninstall(name: string): void {
    const t = this.traps.get(name);
    if (t === undefined) return;
    this.traps.delete(name);
    for (const p of t.policies) {
      const k = selKey(p.dir, p.sel);
      if (this.taken.delete(k)) continue;
      this.del(p);
    }
    this.host.log('info', `${name}: trap policies removed`);
  }

  /** After a configuration load: traps of children no longer start_action = trap go, new ones come. */
  sync(cfg: IkeConfig): void {
    const want = new Map<string, { conn: ConnConfig; child: ChildConfig }>();
    for (const conn of cfg.connections) for (const child of conn.children) if (child.startAction === 'trap') want.set(child.name, { conn, child });
    for (const [name, t] of [...this.traps]) {
      const w = want.get(name);
      if (w === undefined || JSON.stringify(this.policiesOf(w.conn, w.child, t.reqid)) !== JSON.stringify(t.policies)) this.uninstall(name);
    }
    for (const { conn, child } of want.values()) {
      const why = this.install(conn, child);
      if (why !== null) this.host.log('warn', `${child.name}: start_action = trap: ${why}`);
    }
  }

  /** The trap a policy's selector belongs to. */
  private owner(key: string): PolicySpec | null {
    for (const t of this.traps.values()) for (const p of t.policies) if (selKey(p.dir, p.sel) === key) return p;
    return null;
  }

  /** A Child SA's policy request, turned into an update of a trap policy with the same selector (see the file comment). */
  rewrite(r: XfrmRequest): XfrmRequest {
    if (this.traps.size === 0) return r;
    if (r.op === 'xfrm.policy.add') {
      const k = selKey(r.args.policy.dir, r.args.policy.sel);
      if (this.taken.has(k) || this.owner(k) === null) return r;
      this.taken.add(k);
      return { op: 'xfrm.policy.update', args: r.args };
    }
    if (r.op === 'xfrm.policy.del') {
      const k = selKey(r.args.id.dir, r.args.id.sel);
      const p = this.owner(k);
      if (!this.taken.has(k) || p === null) return r;
      this.taken.delete(k);
      return { op: 'xfrm.policy.update', args: { policy: p } };
    }
    return r;
  }

  /** An xfrm acquire for `policy`: initiates the trapped child unless it is up or coming up. */
  acquire(policy: PolicyRecord, now: number): void {
    const reqids = new Set((policy.tmpls ?? []).map((t) => t.reqid));
    const key = selKey(policy.dir, policy.sel);
    const t = [...this.traps.values()].find((x) => reqids.has(x.reqid) || x.policies.some((p) => selKey(p.dir, p.sel) === key));
    if (t === undefined) { this.host.log('debug', `acquire for ${policy.sel.src} → ${policy.sel.dst}: no trap of ours`); return; }
    for (const sa of this.core.sas.values()) {
      if (sa.conn.name !== t.conn.name) continue;
      if ((sa.state === 'CONNECTING' && sa.childCfg?.name === t.child.name) || sa.children.some((c) => c.cfg.name === t.child.name)) return;
    }
    this.host.log('info', `${t.child.name}: acquire for ${policy.sel.src} → ${policy.sel.dst}: initiating`);
    try {
      this.core.initiate(t.child.name, now, (err) => this.host.log(err === null ? 'info' : 'warn', `${t.child.name}: trap-initiated: ${err ?? 'up'}`));
    } catch (e) {
      this.host.log('warn', `${t.child.name}: acquire: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
