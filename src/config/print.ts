// ConfigModel → the config file's TOML (`tunkit save`), with the keys of
// fields.ts, so that reading the text back (schema.ts) gives the same model:
// save → load → save is the identity. Links by name, states and policies
// in the daemon's list order. Keys are written out as hex: the output of
// `tunkit save` is as secret as the SAs it describes.

import { DEFAULTS_FIELDS, LINK_FIELDS, POLICY_FIELDS, SEL_FIELDS, STATE_FIELDS, writeTable } from './fields.js';
import type { Field } from './fields.js';
import { DEFAULT_POLICY_DEFAULTS } from './model.js';
import type { ConfigModel, LinkDecl } from './model.js';
import type { PolicySpec, StateSpec } from '../xfrm/spec.js';

/** A TOML key: bare when it can be, else a basic string. */
export const tomlKey = (k: string): string => (/^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k));

/** A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too). */
const tomlString = (s: string): string => JSON.stringify(s).replace(/\x7f/g, '\\u007f');

/** A value: strings quoted, arrays and tables inline; `hexKeys` names integer keys written in hex. */
function value(v: unknown, key = '', hexKeys: readonly string[] = []): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'number') return hexKeys.includes(key) && Number.isInteger(v) && v >= 0 ? `0x${v.toString(16)}` : String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => value(x, '', hexKeys)).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    const kv = Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${tomlKey(k)} = ${value(x, k, hexKeys)}`);
    return kv.length === 0 ? '{}' : `{ ${kv.join(', ')} }`;
  }
  throw new TypeError(`cannot write ${typeof v} as TOML`);
}

const lines = (pairs: readonly [string, unknown][], hexKeys: readonly string[] = []): string[] =>
  pairs.map(([k, v]) => `${tomlKey(k)} = ${value(v, k, hexKeys)}`);

function linkText(l: LinkDecl): string[] {
  const { name: _name, ...args } = l.args;
  const out = [`[link.${tomlKey(l.name)}]`, ...lines(writeTable(args, LINK_FIELDS))];
  if (l.mtu !== null) out.push(`mtu = ${l.mtu}`);
  if (!l.isUp) out.push('up = false');
  if (l.addresses.length > 0) out.push(`addresses = ${value(l.addresses)}`);
  if (l.routes.length > 0) out.push(`routes = ${value(l.routes)}`);
  return out;
}

const withHexKey = <A extends { keyHex: string }>(a: A | undefined): A | undefined => (a === undefined ? a : { ...a, keyHex: `0x${a.keyHex}` });

function stateText(s: StateSpec): string[] {
  const isTrunc = s.authTrunc === true;
  const spec: Record<string, unknown> = {
    ...s, proto: s.proto === 'esp' ? undefined : s.proto, authTrunc: undefined,
    aead: withHexKey(s.aead), enc: withHexKey(s.enc),
    auth: isTrunc ? undefined : withHexKey(s.auth), authTruncAlgo: isTrunc ? withHexKey(s.auth) : undefined,
  };
  return ['[[xfrm.state]]', ...lines(writeTable(spec, STATE_FIELDS), ['spi', 'mask', 'value'])];
}

function policyText(p: PolicySpec): string[] {
  const { sel, ...rest } = p;
  const tmpls = rest.tmpls?.map((t) => ({ ...t, proto: t.proto === 'esp' ? undefined : t.proto }));
  const spec = { ...rest, ...(tmpls !== undefined ? { tmpls } : {}) };
  return ['[[xfrm.policy]]', ...lines(writeTable(sel as unknown as Record<string, unknown>, SEL_FIELDS)),
    ...lines(writeTable(spec as Record<string, unknown>, POLICY_FIELDS), ['spi', 'mask', 'value'])];
}

function defaultsText(d: ConfigModel['defaults']): string[] {
  const changed = (DEFAULTS_FIELDS as readonly Field[]).some((fd) => d[fd.to as keyof typeof d] !== DEFAULT_POLICY_DEFAULTS[fd.to as keyof typeof d]);
  return changed ? ['[xfrm.defaults]', ...lines(writeTable(d as unknown as Record<string, unknown>, DEFAULTS_FIELDS))] : [];
}

/** The whole file: a header comment, then links, states, policies, defaults, one blank line between tables. */
export function printConfig(m: ConfigModel, header = '# tunkit configuration: tunkit save'): string {
  const blocks = [
    ...m.links.map(linkText), ...m.states.map(stateText), ...m.policies.map(policyText), defaultsText(m.defaults),
  ].filter((b) => b.length > 0);
  return `${[header, ...blocks.map((b) => b.join('\n'))].join('\n\n')}\n`;
}
