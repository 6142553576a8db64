// The config file (TOML) → ConfigModel: the document's shape and types.
// The meaning of each value is validate.ts's (the validators the CLI's
// requests go through). Sans-I/O: key files are read through opts.readKey.
//
//   [link.NAME]          type = "gre", local, remote, key, … (LINK_FIELDS),
//                        mtu, up (default true), addresses = [..], routes = [..]
//   [[xfrm.state]]       src, dst, spi, mode, aead = { name, key, bits }, …
//   [[xfrm.policy]]      src, dst (the selector), dir, tmpl = [{ … }], …
//   [xfrm.defaults]      in / fwd / out = "accept" | "block"
//
// A key is hex ("0x…" or bare digits) or "@/path/file" holding the hex.

import { parse, TomlError } from 'smol-toml';
import { formatPrefix, parsePrefix } from '../xfrm/selector.js';
import type { Prefix } from '../xfrm/selector.js';
import type { AlgoSpec, PolicyDefaults, PolicySpec, SelectorSpec, StateSpec, TmplSpec } from '../xfrm/spec.js';
import {
  asTable, ConfigIssue, DEFAULTS_FIELDS, LINK_FIELDS, LINK_OWN, POLICY_FIELDS, readTable, SEL_FIELDS, STATE_FIELDS,
} from './fields.js';
import type { Path } from './fields.js';
import { parseKeyText } from './keys.js';
import { canonPolicy, canonState, DEFAULT_POLICY_DEFAULTS } from './model.js';
import type { ConfigModel, LinkArgs, LinkDecl } from './model.js';

export interface ParseOptions {
  /** The text of a key file named by `key = "@PATH"`; throws Error with the reason (missing, readable by others). */
  readonly readKey: (path: string) => string;
}

export interface Parsed {
  readonly model: ConfigModel;
  /** Some key is written in the file itself (not "@FILE"): the file must not be readable by group or others. */
  readonly hasLiteralKeys: boolean;
}

/** Parses the whole document; throws ConfigIssue (path + message) or TomlError (syntax, with its line). */
export function parseConfig(text: string, opts: ParseOptions): Parsed {
  const doc = parse(text);
  for (const k of Object.keys(doc)) if (k !== 'link' && k !== 'xfrm') throw new ConfigIssue([k], 'unknown table (link, xfrm)');
  const links = Object.entries(doc['link'] === undefined ? {} : asTable(doc['link'], ['link'])).map(([n, v]) => readLink(n, v));
  const x = doc['xfrm'] === undefined ? {} : asTable(doc['xfrm'], ['xfrm']);
  for (const k of Object.keys(x)) if (k !== 'state' && k !== 'policy' && k !== 'defaults') throw new ConfigIssue(['xfrm', k], 'unknown key (state, policy, defaults)');
  const keys = { hasLiteral: false };
  const states = list(x['state'], ['xfrm', 'state']).map((v, i) => readState(v, ['xfrm', 'state', i], opts, keys));
  const policies = list(x['policy'], ['xfrm', 'policy']).map((v, i) => readPolicy(v, ['xfrm', 'policy', i]));
  const defaults = x['defaults'] === undefined ? DEFAULT_POLICY_DEFAULTS
    : { ...DEFAULT_POLICY_DEFAULTS, ...(readTable(x['defaults'], DEFAULTS_FIELDS, ['xfrm', 'defaults']) as Partial<PolicyDefaults>) };
  return { model: { links, states, policies, defaults }, hasLiteralKeys: keys.hasLiteral };
}

function list(v: unknown, at: Path): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigIssue(at, `must be an array of tables ([[${at.join('.')}]])`);
  return v;
}

function strings(v: unknown, at: Path): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new ConfigIssue(at, 'must be a list of strings');
  return v as string[];
}

/** The prefix with its host bits cleared. */
function network(p: Prefix): Prefix {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = p.bytes[i]! & ((0xff << (8 - Math.max(0, Math.min(8, p.plen - 8 * i)))) & 0xff);
  return { ...p, bytes };
}

/** parsePrefix with the issue placed at `at`. */
function prefix(s: string, at: Path): Prefix {
  try {
    return parsePrefix('prefix', s);
  } catch {
    throw new ConfigIssue(at, `"${s}" is not ADDR/PLEN (IPv4 or IPv6)`);
  }
}

function readLink(name: string, v: unknown): LinkDecl {
  const at: Path = ['link', name];
  const t = asTable(v, at);
  const raw = readTable(t, LINK_FIELDS, at, LINK_OWN);
  if (raw['kind'] === undefined) throw new ConfigIssue([...at, 'type'], 'is required (ipip, gre, gretap, sit, xfrm)');
  const mtu = t['mtu'];
  if (mtu !== undefined && !(typeof mtu === 'number' && Number.isInteger(mtu))) throw new ConfigIssue([...at, 'mtu'], 'must be an integer');
  const up = t['up'] ?? true;
  if (typeof up !== 'boolean') throw new ConfigIssue([...at, 'up'], 'must be true or false');
  const addresses = strings(t['addresses'], [...at, 'addresses']).map((s, i) => formatPrefix(prefix(s, [...at, 'addresses', i])));
  const routes = strings(t['routes'], [...at, 'routes']).map((s, i) => {
    const p = prefix(s, [...at, 'routes', i]);
    const net = network(p);
    if (formatPrefix(net) !== formatPrefix(p)) throw new ConfigIssue([...at, 'routes', i], `"${s}" has host bits set (the network is ${formatPrefix(net)})`);
    return formatPrefix(p);
  });
  const dup = (xs: readonly string[], key: string): void => {
    const d = xs.find((s, i) => xs.indexOf(s) !== i);
    if (d !== undefined) throw new ConfigIssue([...at, key], `${d} is listed twice`);
  };
  dup(addresses, 'addresses');
  dup(routes, 'routes');
  return {
    name, args: { name, ...raw } as LinkArgs, mtu: mtu ?? null, isUp: up,
    addresses: addresses.sort(), routes: routes.sort(),
  };
}

/** An algorithm's key: "@FILE" read through opts, else hex in the file. */
function readAlgo(a: AlgoSpec, at: Path, opts: ParseOptions, keys: { hasLiteral: boolean }): AlgoSpec {
  const k = a.keyHex;
  if (k === undefined) throw new ConfigIssue([...at, 'key'], 'is required (hex, or "@/path/file")');
  let text = k;
  if (k.startsWith('@')) {
    try {
      text = opts.readKey(k.substring(1));
    } catch (e) {
      throw new ConfigIssue([...at, 'key'], `key file ${k.substring(1)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else keys.hasLiteral = true;
  const hex = parseKeyText(text);
  if (hex === null) throw new ConfigIssue([...at, 'key'], k.startsWith('@') ? `key file ${k.substring(1)} does not hold a hex key` : 'must be hex (0x…) or "@/path/file"');
  if (a.name === undefined) throw new ConfigIssue([...at, 'name'], 'is required');
  return { ...a, keyHex: hex };
}

function readState(v: unknown, at: Path, opts: ParseOptions, keys: { hasLiteral: boolean }): StateSpec {
  const { authTruncAlgo: trunc, ...raw } = readTable(v, STATE_FIELDS, at);
  if (trunc !== undefined) {
    if (raw['auth'] !== undefined) throw new ConfigIssue([...at, 'auth-trunc'], 'give auth or auth-trunc, not both');
    raw['auth'] = trunc;
    raw['authTrunc'] = true;
  }
  for (const [k, key] of [['aead', 'aead'], ['enc', 'enc'], ['auth', trunc !== undefined ? 'auth-trunc' : 'auth']] as const) {
    if (raw[k] !== undefined) raw[k] = readAlgo(raw[k] as AlgoSpec, [...at, key], opts, keys);
  }
  return canonState({ proto: 'esp', ...raw } as unknown as StateSpec);
}

const SEL_KEYS = SEL_FIELDS.map((d) => d.key);

function readPolicy(v: unknown, at: Path): PolicySpec {
  const t = asTable(v, at);
  const raw = readTable(t, POLICY_FIELDS, at, SEL_KEYS);
  const sel = readTable(Object.fromEntries(Object.entries(t).filter(([k]) => SEL_KEYS.includes(k))), SEL_FIELDS, at);
  if (sel['src'] === undefined) throw new ConfigIssue([...at, 'src'], 'is required (the selector: src, dst)');
  if (sel['dst'] === undefined) throw new ConfigIssue([...at, 'dst'], 'is required (the selector: src, dst)');
  const tmpls = raw['tmpls'] as Record<string, unknown>[] | undefined;
  if (tmpls !== undefined) raw['tmpls'] = tmpls.map((x) => ({ proto: 'esp', ...x }) as unknown as TmplSpec);
  return canonPolicy({ sel: sel as unknown as SelectorSpec, ...raw } as unknown as PolicySpec);
}

/** A TomlError's line (1-based). */
export const tomlLine = (e: unknown): number | null => (e instanceof TomlError ? e.line : null);
