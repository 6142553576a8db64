// The daemon's `ip xfrm` control plane (the XFRM_MSG_* netlink handlers of
// net/xfrm/xfrm_user.c): validates each request completely before changing
// anything, applies it to the XfrmStack, publishes the monitor events
// (newsa/delsa/updsa, newpolicy/…, flush, expire, acquire, mapping), moves
// a state to new outer addresses (xfrm.state.migrate, XFRM_MSG_MIGRATE) and
// keeps the policy routes in step. Keys never reach a log or an event.

import { ConfigError, VpnError } from '../wire/errors.js';
import { makeSaConfig, XFRM_MODE_TUNNEL } from '../xfrm/config.js';
import type { SaConfig } from '../xfrm/config.js';
import { eventRecord, policyRecord, stateRecord } from '../xfrm/records.js';
import { formatXAddr, makeSelector, parseXAddr } from '../xfrm/selector.js';
import { wipeKeys } from '../xfrm/esp-crypto.js';
import type { XAddr } from '../xfrm/selector.js';
import type { PolicyDefaults, PolicyId, PolicySpec, StateId, StateMigrateSpec, StateSpec, XfrmEvent, XfrmOp } from '../xfrm/spec.js';
import { XFRM_POLICY_OUT } from '../xfrm/spd.js';
import type { XfrmPolicy } from '../xfrm/spd.js';
import type { XfrmState } from '../xfrm/state.js';
import type { XfrmStack } from '../xfrm/xfrm.js';

export interface XfrmHost {
  /** ifindex of a device name, null if none. */
  ifindex(name: string): number | null;
  /** Publishes one monitor event. */
  publish(e: XfrmEvent): void;
  /** Wall-clock milliseconds (the kernel's lifetimes use real time). */
  now(): number;
  /** MTU of the underlay route toward an SA's destination (1500 when unknown). */
  routeMtu(dst: XAddr): number;
  /**
   * Called after every SPD or SAD change that can change the policy TUN's
   * routes or their MTU (routeRelevant*: out policies and tunnel-mode states
   * of if_id 0, flushes, updates). Not after the others: the route sync
   * walks every out policy, so calling it for each of N in/fwd policies or
   * xfrm-interface states made adding them O(N²).
   */
  tablesChanged(): void;
  /**
   * Called after every request that changed the SPD, the SAD or the
   * defaults (the kernel-side rules, policy-firewall.ts, follow all of them;
   * they coalesce per loop turn). Optional: none in unit tests.
   */
  spdChanged?(): void;
  /** xfrm_stat name → drops counted outside the data path (the nf_tables rules), added to the MIB by `xfrm stat`. */
  extraStats?(): Readonly<Record<string, number>>;
  /** Throws when the data path cannot carry this SA (main.ts: no raw sockets for ESP without encap); before anything changes. */
  checkState?(cfg: SaConfig): void;
  /** Throws when the data path cannot carry this policy (main.ts: no ipsec0 for policy-based IPsec); before anything changes. */
  checkPolicy?(spec: PolicySpec): void;
}

/** Requests that change the SPD, the SAD or the defaults. */
const MUTATING: ReadonlySet<XfrmOp> = new Set<XfrmOp>([
  'xfrm.state.add', 'xfrm.state.update', 'xfrm.state.del', 'xfrm.state.flush', 'xfrm.state.migrate',
  'xfrm.policy.add', 'xfrm.policy.update', 'xfrm.policy.del', 'xfrm.policy.flush', 'xfrm.policy.setdefault',
]);

const obj = (v: unknown, field: string): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(field, 'must be an object');
  return v as Record<string, unknown>;
};

export class XfrmControl {
  constructor(readonly stack: XfrmStack, private readonly host: XfrmHost) {}

  /** One xfrm.* request; throws VpnError for the client (and then nothing changed). */
  handle(op: XfrmOp, args: Record<string, unknown>): unknown {
    const r = this.dispatch(op, args);
    if (MUTATING.has(op)) this.host.spdChanged?.();
    return r;
  }

  private dispatch(op: XfrmOp, args: Record<string, unknown>): unknown {
    switch (op) {
      case 'xfrm.state.add': case 'xfrm.state.update': return this.stateAdd(obj(args['state'], 'state') as unknown as StateSpec, op === 'xfrm.state.update');
      case 'xfrm.state.migrate': return this.stateMigrate(args as unknown as StateMigrateSpec);
      case 'xfrm.state.del': return this.stateDel(obj(args['id'], 'id') as unknown as StateId);
      case 'xfrm.state.get': return stateRecord(this.stateGet(obj(args['id'], 'id') as unknown as StateId), args['keys'] === true);
      case 'xfrm.state.list': return this.stack.sad.list().map((x) => stateRecord(x, args['keys'] === true));
      case 'xfrm.state.flush':
        this.stack.sad.flush();
        this.host.publish({ type: 'xfrm.flushsa' });
        this.host.tablesChanged();
        return null;
      case 'xfrm.state.count': return { count: this.stack.sad.count };
      case 'xfrm.policy.add': case 'xfrm.policy.update': return this.policyAdd(obj(args['policy'], 'policy') as unknown as PolicySpec, op === 'xfrm.policy.update');
      case 'xfrm.policy.del': return this.policyDel(obj(args['id'], 'id') as unknown as PolicyId);
      case 'xfrm.policy.get': return policyRecord(this.policyFind(obj(args['id'], 'id') as unknown as PolicyId));
      case 'xfrm.policy.list': return this.stack.spd.dump().map(policyRecord); // the kernel's dump order: newest first
      case 'xfrm.policy.flush':
        this.stack.spd.flush();
        this.host.publish({ type: 'xfrm.flushpolicy' });
        this.host.tablesChanged();
        return null;
      case 'xfrm.policy.setdefault':
        this.stack.spd.setDefaults(obj(args['defaults'], 'defaults') as Partial<PolicyDefaults>);
        return { ...this.stack.spd.defaults };
      case 'xfrm.policy.getdefault': return { ...this.stack.spd.defaults };
      case 'xfrm.stat': return this.stat();
    }
  }

  /** The MIB plus the drops of the kernel-side rules, by xfrm_stat name. */
  private stat(): Record<string, number> {
    const out: Record<string, number> = { ...this.stack.mib.snapshot() };
    for (const [k, v] of Object.entries(this.host.extraStats?.() ?? {})) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** Publishes the core's queued events (expire, acquire, mapping). */
  drainEvents(): void {
    const ev = this.stack.events;
    if (ev.length === 0) return;
    const list = ev.splice(0, ev.length);
    for (const e of list) this.host.publish(eventRecord(e));
  }

  private stateAdd(spec: StateSpec, isUpdate: boolean): unknown {
    const cfg = makeSaConfig(spec, (d) => this.host.ifindex(d));
    if (cfg.family !== 4) {
      // The data path sends and receives ESP on raw IPv4 sockets only: an IPv6 SA would put its
      // destination's first four bytes in an IPv4 header. Refused until esp6 exists.
      wipeKeys(cfg.crypto);
      throw new ConfigError('src', `${formatXAddr(cfg.src)}: IPv6 outer addresses are not implemented (tunkit carries ESP over IPv4 only; IPv6 inside an IPv4 SA works)`);
    }
    try {
      this.host.checkState?.(cfg);
    } catch (e) {
      wipeKeys(cfg.crypto);
      throw e;
    }
    const sad = this.stack.sad;
    const x = isUpdate ? sad.update(cfg, spec) : sad.add(cfg, spec, this.host.now());
    x.setUnderlayMtu(this.host.routeMtu(cfg.dst));
    const rec = stateRecord(x, false);
    this.host.publish({ type: isUpdate ? 'xfrm.updsa' : 'xfrm.newsa', state: rec });
    if (routeRelevantState(x)) this.host.tablesChanged();
    return rec;
  }

  private stateGet(id: StateId): XfrmState {
    if (id.proto !== 'esp') throw new ConfigError('proto', 'tunkit implements proto esp');
    const x = this.stack.sad.get(parseXAddr('dst', id.dst), checkSpi(id.spi));
    if (x === null) throw new VpnError('ESRCH', 'No such process: no state with this dst, proto and spi', 'spi');
    return x;
  }

  /**
   * xfrm_do_migrate for one state: validates everything (addresses of the
   * state's family, encap ports for a state that has an encap), then moves
   * it (Sad.move: keys, sequence numbers, replay window and counters stay).
   */
  private stateMigrate(m: StateMigrateSpec): unknown {
    const x = this.stateGet(obj(m.id, 'id') as unknown as StateId);
    const src = parseXAddr('src', m.src);
    const dst = parseXAddr('dst', m.dst);
    if (src.family !== x.cfg.family || dst.family !== x.cfg.family) throw new ConfigError('dst', `src and dst must be IPv${x.cfg.family} like the state's`);
    let encap = x.cfg.encap;
    if (m.encap !== undefined) {
      const e = obj(m.encap, 'encap');
      if (encap === null) throw new ConfigError('encap', 'the state has no UDP encapsulation to change');
      encap = { ...encap, sport: port('encap sport', e['sport']), dport: port('encap dport', e['dport']) };
    }
    const wasRelevant = routeRelevantState(x);
    this.stack.sad.move(x, src, dst, encap);
    x.setUnderlayMtu(this.host.routeMtu(dst));
    const rec = stateRecord(x, false);
    this.host.publish({ type: 'xfrm.updsa', state: rec });
    if (wasRelevant) this.host.tablesChanged();
    return rec;
  }

  private stateDel(id: StateId): null {
    const x = this.stateGet(id);
    this.stack.sad.remove(x);
    this.host.publish({ type: 'xfrm.delsa', state: stateRecord(x, false) });
    if (routeRelevantState(x)) this.host.tablesChanged();
    return null;
  }

  private policyAdd(spec: PolicySpec, isUpdate: boolean): unknown {
    const spd = this.stack.spd;
    const index = spec.index ?? 0;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new ConfigError('index', 'must be an unsigned 32-bit integer');
    const made = spd.make(spec, (d) => this.host.ifindex(d), this.host.now(), index); // validates the spec
    this.host.checkPolicy?.(spec);
    const p = spd.insert(made, isUpdate);
    const rec = policyRecord(p);
    this.host.publish({ type: isUpdate ? 'xfrm.updpolicy' : 'xfrm.newpolicy', policy: rec });
    if (isUpdate || routeRelevantPolicy(p)) this.host.tablesChanged(); // an update may have replaced a relevant one
    return rec;
  }

  private policyFind(id: PolicyId): XfrmPolicy {
    if (id.dir !== 'in' && id.dir !== 'out' && id.dir !== 'fwd') throw new ConfigError('dir', 'must be in, out or fwd');
    const sel = id.sel !== undefined ? makeSelector('sel', id.sel, (d) => this.host.ifindex(d)) : null;
    if (sel === null && (typeof id.index !== 'number' || !Number.isInteger(id.index))) throw new ConfigError('index', 'a selector or an index is required');
    return this.stack.spd.find(id.dir, sel, id.index ?? 0, 0);
  }

  private policyDel(id: PolicyId): null {
    const p = this.policyFind(id);
    this.stack.spd.remove(p);
    this.host.publish({ type: 'xfrm.delpolicy', policy: policyRecord(p) });
    if (routeRelevantPolicy(p)) this.host.tablesChanged();
    return null;
  }
}

/** Policies the route sync reads: out, if_id 0, not block, with a tunnel-mode template (XfrmDatapath.syncRoutes). */
const routeRelevantPolicy = (p: XfrmPolicy): boolean =>
  p.dir === XFRM_POLICY_OUT && p.ifId === 0 && !p.isBlock && p.tmpls.some((t) => t.mode === XFRM_MODE_TUNNEL);

/** States the route sync can find for a tunnel template of if_id 0 (their MTU goes on the route). */
const routeRelevantState = (x: XfrmState): boolean => x.cfg.mode === XFRM_MODE_TUNNEL && x.cfg.ifId === 0;

function port(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0xffff) throw new ConfigError(field, 'must be 1..65535');
  return v;
}

function checkSpi(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ConfigError('spi', 'must be an unsigned 32-bit integer');
  return v;
}
