// The declarative configuration of one tunkitd (`tunkitd --config FILE`):
// what the file says, as the control requests that build it, and what the
// daemon reports of its running state in the same terms. Plain data; the
// TOML side is schema.ts (read) and print.ts (write), the difference
// between two of them diff.ts. Sans-I/O: nothing here reads a file.
//
//   file ──parse──► ConfigModel ──diff(running)──► Step[] (control requests)
//   running ──snapshot──► RunningState ──modelOf──► ConfigModel ──print──► file
//
// Every object is carried as the arguments of the request that creates it
// (`link.add` args, StateSpec, PolicySpec), so the daemon validates a
// config exactly as it validates `tunkit link add` / `tunkit xfrm … add`.

import { formatPrefix, parsePrefix } from '../xfrm/selector.js';
import type { PolicyDefaults, PolicySpec, SelectorSpec, StateSpec } from '../xfrm/spec.js';

/** `link.add` arguments as tunkit link add sends them (TunnelConfig + `dev`, or the xfrm link's), without mtu. */
export type LinkArgs = Readonly<Record<string, string | number | boolean>>;

/** One device of the file. */
export interface LinkDecl {
  readonly name: string;
  /** name, kind and the type's parameters: what makes the device; a change means a new device. */
  readonly args: LinkArgs;
  /** Device MTU; null = the kernel's default for the tunnel (defaultMtu / 1500 for xfrm). */
  readonly mtu: number | null;
  readonly isUp: boolean;
  /** "ADDR/PLEN" as formatPrefix prints it (host bits kept), sorted. */
  readonly addresses: readonly string[];
  /** "PREFIX/PLEN" through the device (network address), sorted. */
  readonly routes: readonly string[];
}

export interface ConfigModel {
  readonly links: readonly LinkDecl[];
  readonly states: readonly StateSpec[];
  readonly policies: readonly PolicySpec[];
  readonly defaults: PolicyDefaults;
}

/** A running device as the daemon reports it: its actual MTU and the default it would have. */
export interface RunningLink extends Omit<LinkDecl, 'mtu'> {
  readonly mtu: number;
  readonly defaultMtu: number;
}

/** A running policy: its spec as added, and the index the SPD gave it (what a delete names). */
export interface RunningPolicy { readonly spec: PolicySpec; readonly index: number }

/** The daemon's running state (control op `config.snapshot`); states carry their keys. */
export interface RunningState {
  readonly links: readonly RunningLink[];
  readonly states: readonly StateSpec[];
  readonly policies: readonly RunningPolicy[];
  readonly defaults: PolicyDefaults;
}

export const DEFAULT_POLICY_DEFAULTS: PolicyDefaults = { in: 'accept', fwd: 'accept', out: 'accept' };

/** The running state as a config: an MTU equal to the default is left out. */
export function modelOf(r: RunningState): ConfigModel {
  return {
    links: [...r.links].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((l) => ({
      name: l.name, args: l.args, mtu: l.mtu === l.defaultMtu ? null : l.mtu, isUp: l.isUp,
      addresses: [...l.addresses].sort(), routes: [...l.routes].sort(),
    })),
    states: r.states.map(canonState),
    policies: r.policies.map((p) => canonPolicy(p.spec)),
    defaults: { ...r.defaults },
  };
}

/** Drops undefined members, recursively (a spec's absent fields, however the request spelled them). */
export function pruned<T>(v: T): T {
  if (Array.isArray(v)) return v.map(pruned) as T;
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = pruned(x);
  return out as T;
}

const hexKey = (s: string): string => s.replace(/^0x/i, '').toLowerCase();

/** A prefix as formatPrefix prints it ("198.51.100.1" → "198.51.100.1/32"); text that does not parse is kept for the validator to refuse. */
export function canonPrefix(s: string): string {
  try {
    return formatPrefix(parsePrefix('prefix', s));
  } catch {
    return s;
  }
}

/**
 * A selector in one spelling: prefixes as formatPrefix prints them, and a
 * port mask left out where makeSelector would default it (0xffff with the
 * port, 0 without), as the CLI sets it and the file need not.
 */
function canonSel(s: SelectorSpec | undefined): SelectorSpec | undefined {
  if (s === undefined || typeof s.src !== 'string' || typeof s.dst !== 'string') return s;
  const isDefault = (port: number | undefined, mask: number | undefined): boolean => mask === (port !== undefined ? 0xffff : 0);
  return {
    ...s, src: canonPrefix(s.src), dst: canonPrefix(s.dst),
    sportMask: isDefault(s.sport, s.sportMask) ? undefined : s.sportMask,
    dportMask: isDefault(s.dport, s.dportMask) ? undefined : s.dportMask,
  };
}

/** A StateSpec in one spelling: hex keys lower case without 0x, proto esp, selector prefixes, no undefined members. */
export function canonState(s: StateSpec): StateSpec {
  const algo = <A extends { keyHex: string }>(a: A | undefined): A | undefined => (a === undefined ? undefined : { ...a, keyHex: hexKey(a.keyHex) });
  return pruned({ ...s, proto: 'esp', aead: algo(s.aead), enc: algo(s.enc), auth: algo(s.auth), sel: canonSel(s.sel) });
}

/** A PolicySpec in one spelling: selector prefixes, no undefined members. */
export const canonPolicy = (p: PolicySpec): PolicySpec => pruned({ ...p, sel: canonSel(p.sel) ?? p.sel });

/** JSON with object keys sorted: equal for equal canonical values, whatever their member order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (typeof v !== 'object' || v === null) return JSON.stringify(v) ?? 'null';
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
}

/** A state's identity (xfrm_state_lookup: daddr, spi, proto). */
export const stateId = (s: StateSpec): string => `${s.dst} spi 0x${(s.spi >>> 0).toString(16).padStart(8, '0')}`;

/** A policy's identity (xfrm_policy_insert's key: dir, selector, if_id, mark). */
export function policyId(p: PolicySpec): string {
  const s = p.sel;
  const port = (n: number | undefined): string => (n === undefined ? '' : String(n));
  const sel = `${s.src} → ${s.dst}${s.proto !== undefined && s.proto !== 0 ? ` proto ${s.proto}` : ''}`
    + `${s.sport !== undefined ? ` sport ${port(s.sport)}` : ''}${s.dport !== undefined ? ` dport ${port(s.dport)}` : ''}`
    + `${s.dev !== undefined ? ` dev ${s.dev}` : ''}`;
  const ifId = p.ifId !== undefined && p.ifId !== 0 ? ` if_id ${p.ifId}` : '';
  const mark = p.mark !== undefined ? ` mark ${p.mark.value}/${p.mark.mask}` : '';
  return `${p.dir} ${sel}${ifId}${mark}`;
}
