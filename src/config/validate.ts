// A ConfigModel checked as a whole before anything is applied: every object
// through the validator its control request goes through in the daemon
// (makeTunnelParams for `link.add`, the xfrm interface's checks,
// makeSaConfig + makeEspCrypto for `xfrm.state.add`, Spd.make for
// `xfrm.policy.add`), then what only the whole file shows: two states with
// one (dst, spi), two policies with one key, two xfrm interfaces with one
// if_id, references to devices that exist nowhere. Each refusal is a
// ConfigIssue at the key the validator's field names.

import { makeTunnelParams, validateName } from '../tunnel/params.js';
import type { TunnelConfig } from '../tunnel/params.js';
import { ConfigError } from '../wire/errors.js';
import { makeSaConfig } from '../xfrm/config.js';
import { makeEspCrypto, wipeKeys } from '../xfrm/esp-crypto.js';
import { Spd } from '../xfrm/spd.js';
import type { PolicySpec, StateSpec } from '../xfrm/spec.js';
import { checkXfrmIfId, checkXfrmiMtu } from '../xfrm/xfrmi.js';
import { ConfigIssue } from './fields.js';
import type { Path } from './fields.js';
import { policyId, stateId } from './model.js';
import type { ConfigModel, LinkDecl } from './model.js';

/** What validation needs to know of the host. */
export interface HostView {
  /** A device NAME exists on the host and is not one of the config's own links (an underlay, a selector's dev). */
  hasDevice(name: string): boolean;
  /** A device NAME exists that this daemon did not make: a link of that name cannot be created (EEXIST). */
  isForeign?(name: string): boolean;
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The key a validator's field names, below the object (`ttl`, `limit
 * time-soft` → limits.time-soft, `sel.sportMask` → sel.sport-mask, or
 * sport-mask for a policy, whose selector keys sit at the top, `tmpl[1].mode`).
 */
export function fieldPath(field: string, isSelAtTop = false): Path {
  let m: RegExpExecArray | null;
  if ((m = /^tmpl\[(\d+)\](?:\.(\w+))?$/.exec(field)) !== null) return m[2] !== undefined ? ['tmpl', Number(m[1]), m[2]] : ['tmpl', Number(m[1])];
  if ((m = /^sel(?:\.(\w+))?$/.exec(field)) !== null) return m[1] === undefined ? (isSelAtTop ? [] : ['sel']) : isSelAtTop ? [kebab(m[1])] : ['sel', kebab(m[1])];
  if ((m = /^limit (\S+)$/.exec(field)) !== null) return ['limits', m[1]!];
  if ((m = /^(encap|mark|output-mark) (\S+)$/.exec(field)) !== null) return [m[1]!, m[2]!];
  if (field === 'nopmtudisc') return ['pmtudisc'];
  if (field === 'name' || field === 'state' || field === 'policy') return [];
  return [field];
}

/** Runs `fn`; a ConfigError becomes a ConfigIssue at the key its field names, its message without the "field: " prefix. */
function at<T>(base: Path, fn: () => T, map: (field: string) => Path = (fd) => fieldPath(fd)): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ConfigError) || e.field === undefined) throw e;
    const msg = e.message.startsWith(`${e.field}: `) ? e.message.substring(e.field.length + 2) : e.message;
    throw new ConfigIssue([...base, ...map(e.field)], msg);
  }
}

function validateLink(l: LinkDecl, exists: (name: string) => boolean, host: HostView): void {
  const base: Path = ['link', l.name];
  if (host.isForeign?.(l.name) === true) throw new ConfigIssue(base, `a device "${l.name}" exists that this tunkitd did not make`);
  const a = l.args;
  if (a['kind'] === 'xfrm') {
    at(base, () => validateName(l.name));
    at(base, () => checkXfrmIfId(a['ifId']));
    if (l.mtu !== null) at(base, () => checkXfrmiMtu(l.mtu));
    const extra = Object.keys(a).find((k) => !['name', 'kind', 'ifId', 'dev'].includes(k));
    if (extra !== undefined) throw new ConfigIssue([...base, extra === 'ignoreDf' ? 'ignore-df' : extra], 'not a parameter of type xfrm (if_id, dev, mtu)');
  } else {
    if (a['ifId'] !== undefined) throw new ConfigIssue([...base, 'if_id'], 'only type xfrm has if_id');
    at(base, () => makeTunnelParams({ ...a, ...(l.mtu !== null ? { mtu: l.mtu } : {}) } as unknown as TunnelConfig));
  }
  const dev = a['dev'];
  if (typeof dev === 'string' && !exists(dev)) throw new ConfigIssue([...base, 'dev'], `Cannot find device "${dev}"`);
  // An ipip device has IPv6 off (no link-local address, as the kernel's): the kernel would refuse the address.
  const v6 = a['kind'] === 'ipip' ? l.addresses.findIndex((s) => s.includes(':')) : -1;
  if (v6 >= 0) throw new ConfigIssue([...base, 'addresses', v6], 'an ipip device carries IPv4 only');
  if (l.routes.length > 0 && !l.isUp) throw new ConfigIssue([...base, 'routes'], 'routes need up = true (the kernel removes a down device\'s routes)');
}

function validateState(s: StateSpec, base: Path, ifindexOf: (dev: string) => number | null): void {
  const trunc = (fd: string): Path => (fd === 'auth' && s.authTrunc === true ? ['auth-trunc'] : fieldPath(fd));
  const cfg = at(base, () => makeSaConfig(s, ifindexOf), trunc);
  try {
    at(base, () => makeEspCrypto(cfg.crypto), trunc).destroy();
  } finally {
    wipeKeys(cfg.crypto);
  }
}

function validatePolicy(p: PolicySpec, base: Path, spd: Spd, ifindexOf: (dev: string) => number | null): void {
  at(base, () => spd.make(p, ifindexOf, 0, p.index ?? 0), (fd) => fieldPath(fd, true));
}

/** Throws the first ConfigIssue of the model, or returns. */
export function validateModel(m: ConfigModel, host: HostView): void {
  const names = new Set(m.links.map((l) => l.name));
  const exists = (n: string): boolean => names.has(n) || host.hasDevice(n);
  const ifindexOf = (n: string): number | null => (exists(n) ? 1 : null);
  const ifIds = new Map<unknown, string>();
  const routed = new Map<string, string>();
  for (const l of m.links) {
    validateLink(l, exists, host);
    l.routes.forEach((r, i) => {
      const other = routed.get(r);
      if (other !== undefined) throw new ConfigIssue(['link', l.name, 'routes', i], `${r} is routed through link "${other}" too`);
      routed.set(r, l.name);
    });
    if (l.args['kind'] !== 'xfrm') continue;
    const other = ifIds.get(l.args['ifId']);
    if (other !== undefined) throw new ConfigIssue(['link', l.name, 'if_id'], `link "${other}" has if_id ${String(l.args['ifId'])} too`);
    ifIds.set(l.args['ifId'], l.name);
  }
  const sas = new Map<string, number>();
  m.states.forEach((s, i) => {
    const base: Path = ['xfrm', 'state', i];
    validateState(s, base, ifindexOf);
    const id = stateId(s);
    const j = sas.get(id);
    if (j !== undefined) throw new ConfigIssue([...base, 'spi'], `state #${j + 1} has the same dst and spi (${id})`);
    sas.set(id, i);
  });
  const spd = new Spd();
  const keys = new Map<string, number>();
  const indexes = new Map<string, number>();
  m.policies.forEach((p, i) => {
    const base: Path = ['xfrm', 'policy', i];
    validatePolicy(p, base, spd, ifindexOf);
    const id = policyId(p);
    const j = keys.get(id);
    if (j !== undefined) throw new ConfigIssue([...base, 'dir'], `policy #${j + 1} has the same dir, selector, if_id and mark`);
    keys.set(id, i);
    if (p.index === undefined) return;
    const k = indexes.get(`${p.dir} ${p.index}`);
    if (k !== undefined) throw new ConfigIssue([...base, 'index'], `policy #${k + 1} has index ${p.index} in dir ${p.dir} too`);
    indexes.set(`${p.dir} ${p.index}`, i);
  });
  for (const d of ['in', 'fwd', 'out'] as const) {
    const v = m.defaults[d];
    if (v !== 'accept' && v !== 'block') throw new ConfigIssue(['xfrm', 'defaults', d], `${JSON.stringify(v)} is not accept or block`);
  }
}
