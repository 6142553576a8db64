// What a reload does: the difference between the running state and the
// file, as the control requests that close it (like `wg syncconf`). An
// object whose request fields are equal is left alone — its counters,
// sequence numbers, replay window and traffic go on; one whose fields
// differ is replaced (SA: delete + add; link: delete + add, as its kind or
// parameters are what the device was made with; policy: update in place);
// one the file no longer has is deleted; a new one is added. A link's MTU,
// up/down, addresses and routes change in place, on the same device.
//
// Order keeps references valid and traffic flowing: policies the file
// drops go first, then states, then links; then links are made (address,
// up, routes), states added, policies added or updated, defaults set last.

import { makeTunnelParams } from '../tunnel/params.js';
import type { TunnelConfig } from '../tunnel/params.js';
import { canonPolicy, canonState, policyId, stableJson, stateId } from './model.js';
import type { ConfigModel, LinkArgs, LinkDecl, RunningLink, RunningState } from './model.js';
import type { PolicyDefaults, PolicySpec, StateSpec } from '../xfrm/spec.js';

/** The control ops a plan uses (daemon/protocol.ts serves them). */
export type ConfigOp =
  | 'link.add' | 'link.del' | 'link.set' | 'addr.add' | 'addr.del' | 'route.add' | 'route.del'
  | 'xfrm.state.add' | 'xfrm.state.del' | 'xfrm.policy.add' | 'xfrm.policy.update' | 'xfrm.policy.del' | 'xfrm.policy.setdefault';

export interface Step {
  readonly op: ConfigOp;
  readonly args: Record<string, unknown>;
  /** What the step does, for the log: names and addresses, never keys. */
  readonly text: string;
}

export interface Plan {
  readonly steps: readonly Step[];
  /** Objects by label (`link gre1`, `xfrm state 198.51.100.2 spi 0x00001001`, …). */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Made anew: their counters start from zero. */
  readonly replaced: readonly string[];
  /** Changed in place (a link's mtu, up, addresses, routes; a policy's update): counters kept. */
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
}

const step = (op: ConfigOp, args: Record<string, unknown>, text: string): Step => ({ op, args, text });
const stateLabel = (s: StateSpec): string => `xfrm state ${stateId(s)}`;
const policyLabel = (p: PolicySpec): string => `xfrm policy ${policyId(p)}`;
const stateDel = (s: StateSpec): Step =>
  step('xfrm.state.del', { id: { src: s.src, dst: s.dst, proto: 'esp', spi: s.spi } }, `xfrm state del ${stateId(s)}`);

/** A new device: made, addressed, up, routed. */
function linkAdd(l: LinkDecl): Step[] {
  const out = [step('link.add', { ...l.args, ...(l.mtu !== null ? { mtu: l.mtu } : {}) }, `link add ${l.name} type ${String(l.args['kind'])}`)];
  for (const a of l.addresses) out.push(step('addr.add', { dev: l.name, addr: a }, `addr add ${a} dev ${l.name}`));
  if (l.isUp) out.push(step('link.set', { name: l.name, up: true }, `link set ${l.name} up`));
  for (const r of l.routes) out.push(step('route.add', { dev: l.name, dst: r }, `route add ${r} dev ${l.name}`));
  return out;
}

/** The in-place changes of a device whose kind and parameters stay; empty when nothing differs. */
function linkUpdate(want: LinkDecl, have: RunningLink): Step[] {
  const n = want.name;
  const out: Step[] = [];
  const minus = (a: readonly string[], b: readonly string[]): string[] => a.filter((x) => !b.includes(x));
  for (const r of minus(have.routes, want.routes)) out.push(step('route.del', { dev: n, dst: r }, `route del ${r} dev ${n}`));
  for (const a of minus(have.addresses, want.addresses)) out.push(step('addr.del', { dev: n, addr: a }, `addr del ${a} dev ${n}`));
  const mtu = want.mtu ?? have.defaultMtu;
  if (mtu !== have.mtu) out.push(step('link.set', { name: n, mtu }, `link set ${n} mtu ${mtu}`));
  for (const a of minus(want.addresses, have.addresses)) out.push(step('addr.add', { dev: n, addr: a }, `addr add ${a} dev ${n}`));
  if (want.isUp !== have.isUp) out.push(step('link.set', { name: n, up: want.isUp }, `link set ${n} ${want.isUp ? 'up' : 'down'}`));
  // A device brought up again has lost its IPv4 routes (fib_disable_ip): all of them go back.
  const routes = want.isUp && !have.isUp ? want.routes : minus(want.routes, have.routes);
  for (const r of routes) out.push(step('route.add', { dev: n, dst: r }, `route add ${r} dev ${n}`));
  return out;
}

/**
 * Whether two `link.add` argument sets make the same device: the same
 * kind and underlay, and for tunnels the same kernel parameters however
 * they are spelled (`key 42` = `ikey 42 okey 42`, an absent ttl = `ttl 0`);
 * an xfrm interface the same if_id.
 */
export function sameDevice(a: LinkArgs, b: LinkArgs): boolean {
  if (a['kind'] !== b['kind'] || a['dev'] !== b['dev']) return false;
  if (a['kind'] === 'xfrm') return a['ifId'] === b['ifId'];
  const params = (x: LinkArgs): string => {
    const { dev: _dev, ...rest } = x;
    return stableJson(makeTunnelParams(rest as unknown as TunnelConfig));
  };
  try {
    return params(a) === params(b);
  } catch {
    return stableJson(a) === stableJson(b); // validated before a diff runs; kept total all the same
  }
}

interface Sorted { readonly first: Step[]; readonly p: { added: string[]; removed: string[]; replaced: string[]; updated: string[]; unchanged: string[] } }

function diffLinks(want: readonly LinkDecl[], have: readonly RunningLink[], s: Sorted): Step[] {
  const mid: Step[] = [];
  const wanted = new Map(want.map((l) => [l.name, l]));
  for (const h of have) {
    if (wanted.has(h.name)) continue;
    s.first.push(step('link.del', { name: h.name }, `link del ${h.name}`));
    s.p.removed.push(`link ${h.name}`);
  }
  const had = new Map(have.map((l) => [l.name, l]));
  for (const w of want) {
    const h = had.get(w.name);
    const label = `link ${w.name}`;
    if (h === undefined) {
      mid.push(...linkAdd(w));
      s.p.added.push(label);
    } else if (!sameDevice(w.args, h.args)) {
      s.first.push(step('link.del', { name: h.name }, `link del ${h.name} (replaced)`));
      mid.push(...linkAdd(w));
      s.p.replaced.push(label);
    } else {
      const u = linkUpdate(w, h);
      mid.push(...u);
      (u.length > 0 ? s.p.updated : s.p.unchanged).push(label);
    }
  }
  return mid;
}

/** The plan that turns `have` into `want`. Both sides are compared in their canonical spelling. */
export function diffConfig(want: ConfigModel, have: RunningState): Plan {
  const s: Sorted = { first: [], p: { added: [], removed: [], replaced: [], updated: [], unchanged: [] } };
  // policies the file drops, then states, then links
  const wantP = new Map(want.policies.map((p) => [policyId(p), canonPolicy(p)]));
  const polDel: Step[] = [];
  for (const h of have.policies) {
    const id = policyId(h.spec);
    if (wantP.has(id)) continue;
    polDel.push(step('xfrm.policy.del', { id: { dir: h.spec.dir, index: h.index } }, `xfrm policy del ${id}`));
    s.p.removed.push(policyLabel(h.spec));
  }
  const wantS = new Map(want.states.map((x) => [stateId(x), canonState(x)]));
  const haveS = new Map(have.states.map((x) => [stateId(x), canonState(x)]));
  const stDel: Step[] = [];
  const stAdd: Step[] = [];
  for (const [id, h] of haveS) {
    const w = wantS.get(id);
    if (w !== undefined && stableJson(w) === stableJson(h)) { s.p.unchanged.push(stateLabel(h)); continue; }
    stDel.push(stateDel(h));
    if (w === undefined) s.p.removed.push(stateLabel(h));
  }
  for (const [id, w] of wantS) {
    const h = haveS.get(id);
    if (h !== undefined && stableJson(w) === stableJson(h)) continue;
    stAdd.push(step('xfrm.state.add', { state: w }, `xfrm state add ${id}`));
    (h === undefined ? s.p.added : s.p.replaced).push(stateLabel(w));
  }
  const linkSteps = diffLinks(want.links, have.links, s);
  const haveP = new Map(have.policies.map((p) => [policyId(p.spec), canonPolicy(p.spec)]));
  const polAdd: Step[] = [];
  for (const [id, w] of wantP) {
    const h = haveP.get(id);
    if (h !== undefined && stableJson(h) === stableJson(w)) { s.p.unchanged.push(policyLabel(w)); continue; }
    polAdd.push(step(h === undefined ? 'xfrm.policy.add' : 'xfrm.policy.update', { policy: w }, `xfrm policy ${h === undefined ? 'add' : 'update'} ${id}`));
    (h === undefined ? s.p.added : s.p.updated).push(policyLabel(w));
  }
  const defaults = defaultsStep(want.defaults, have.defaults);
  if (defaults !== null) s.p.updated.push('xfrm defaults');
  const steps = [...polDel, ...stDel, ...s.first, ...linkSteps, ...stAdd, ...polAdd, ...(defaults !== null ? [defaults] : [])];
  return { steps, ...s.p };
}

function defaultsStep(want: PolicyDefaults, have: PolicyDefaults): Step | null {
  if (want.in === have.in && want.fwd === have.fwd && want.out === have.out) return null;
  return step('xfrm.policy.setdefault', { defaults: { ...want } }, `xfrm policy setdefault in ${want.in} fwd ${want.fwd} out ${want.out}`);
}
