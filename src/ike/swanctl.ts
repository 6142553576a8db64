// A swanctl.conf subset (strongSwan's settings syntax, swanctl.conf(5)):
//
//   connections { NAME { version local_addrs remote_addrs remote_port proposals encap fragmentation rekey_time rand_time over_time
//                        local { auth id certs } remote { auth id cacerts }
//                        dpd_delay dpd_timeout (actions.ts)
//                        children { NAME { local_ts remote_ts esp_proposals mode start_action
//                                          dpd_action close_action rekey_time rand_time life_time
//                                          rekey_bytes life_bytes rand_bytes rekey_packets life_packets rand_packets } } } }
//   secrets { ike-NAME { id | id-SUFFIX secret }
//             private-NAME | rsa-NAME | ecdsa-NAME { file secret } }
//
// The same file a strongSwan user already has. Every key or section
// outside this subset is refused with an error naming the file, line and
// key: silently ignoring one (say `reauth_time`) would run something other
// than what the user wrote. Pure: the caller reads the file, and creds.ts
// the certificate and key files it names.
//
// Lifetimes keep swanctl.conf(5)'s defaults: a child rekeys after 1 h,
// life_time = rekey_time + 10 %, rand_time = life_time - rekey_time; an IKE
// SA rekeys after 4 h, over_time = 10 % of rekey_time, rand_time = over_time.

import { PROTO_ESP, PROTO_IKE } from '../wire/ike/consts.js';
import { CHILD_LIVE_KEYS, CONN_LIVE_KEYS, readActions, readDpd, readStartAction } from './actions.js';
import { VpnError } from '../wire/errors.js';
import type { ChildConfig, ConnConfig, FileRef, IkeConfig, KeyFileRef, Lifetimes, PeerAuth, PskSecret, SigHash, SigPolicy, Volume } from './config.js';
import { FRAG_MODES } from './frag.js';
import type { FragMode } from './frag.js';
import { DEFAULT_ESP, DEFAULT_IKE, parseProposal } from './proposal.js';
import type { ProposalSpec } from './proposal.js';
import { parseTs } from './ts.js';
import { wordTable } from '../wire/table.js';

/** A configuration error: code ESWANCTL, message "FILE:LINE: key: why". */
export class SwanctlError extends VpnError {
  constructor(file: string, line: number, key: string, why: string) {
    super('ESWANCTL', `${file}:${line}: ${key}: ${why}`, key);
  }
}

interface Value { readonly kind: 'value'; readonly key: string; readonly value: string; readonly line: number }
interface Section { readonly kind: 'section'; readonly name: string; readonly line: number; readonly items: (Value | Section)[] }

/** Strips a `#` comment outside double quotes. */
function stripComment(s: string): string {
  let q = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"' && s[i - 1] !== '\\') q = !q;
    else if (s[i] === '#' && !q) return s.substring(0, i);
  }
  return s;
}

function unquote(v: string, file: string, line: number, key: string): string {
  if (!v.startsWith('"')) return v;
  if (v.length < 2 || !v.endsWith('"')) throw new SwanctlError(file, line, key, 'unterminated quoted value');
  return v.substring(1, v.length - 1).replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

/** The settings tree of a file (sections and key = value lines). */
export function parseSettings(text: string, file: string): Section {
  const root: Section = { kind: 'section', name: '', line: 0, items: [] };
  const stack: Section[] = [root];
  let pending: { name: string; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    let s = stripComment(raw).trim();
    while (s !== '') {
      const top = stack[stack.length - 1]!;
      if (s.startsWith('}')) {
        if (stack.length === 1) throw new SwanctlError(file, line, '}', 'closes a section that was never opened');
        stack.pop();
        s = s.substring(1).trim();
        continue;
      }
      if (pending !== null && s.startsWith('{')) {
        // strongSwan merges sections of one name (conf.d/*.conf files each holding `connections { … }`)
        const name = pending.name;
        const prior = top.items.find((i): i is Section => i.kind === 'section' && i.name === name);
        const sec: Section = prior ?? { kind: 'section', name, line: pending.line, items: [] };
        if (prior === undefined) top.items.push(sec);
        stack.push(sec); pending = null;
        s = s.substring(1).trim();
        continue;
      }
      if (pending !== null) throw new SwanctlError(file, pending.line, pending.name, 'expected "{" or "=" after the name');
      const kv = /^([^\s={}:]+)\s*=\s*(.*)$/.exec(s);
      if (kv !== null) {
        const key = kv[1]!;
        if (!kv[2]!.trim().startsWith('"') && /[{}]/.test(kv[2]!)) throw new SwanctlError(file, line, key, 'a value cannot hold "{" or "}" (quote it, or put the brace on its own line)');
        top.items.push({ kind: 'value', key, value: unquote(kv[2]!.trim(), file, line, key), line });
        break;
      }
      const sec = /^([^\s={}:]+)\s*(:[^{]*)?(\{)?\s*(.*)$/.exec(s);
      if (sec === null) throw new SwanctlError(file, line, s, 'cannot be parsed');
      if (sec[1] === 'include') throw new SwanctlError(file, line, 'include', 'include is expanded only when reading files (tunkit ike load, --swanctl): include.ts');
      if (sec[2] !== undefined) throw new SwanctlError(file, line, sec[1]!, 'section templates (NAME : TEMPLATE) are not supported');
      pending = { name: sec[1]!, line };
      s = sec[3] !== undefined ? `{${sec[4] ?? ''}` : (sec[4] ?? '').trim();
    }
  });
  if (pending !== null) throw new SwanctlError(file, (pending as { line: number }).line, (pending as { name: string }).name, 'a name without a value or section');
  if (stack.length > 1) throw new SwanctlError(file, stack[stack.length - 1]!.line, stack[stack.length - 1]!.name, 'section is never closed');
  return root;
}

/** Reads one section's items against the keys and subsections it may hold. */
class Reader {
  constructor(private readonly file: string, private readonly sec: Section, private readonly path: string) {}

  check(values: readonly string[], sections: readonly string[] | 'any', valueOk: (k: string) => boolean = () => false): void {
    const seen = new Set<string>();
    for (const it of this.sec.items) {
      const name = it.kind === 'value' ? it.key : it.name;
      const full = `${this.path}${name}`;
      if (seen.has(`${it.kind}:${name}`)) throw new SwanctlError(this.file, it.line, full, 'given twice');
      seen.add(`${it.kind}:${name}`);
      if (it.kind === 'value' && !values.includes(name) && !valueOk(name)) {
        throw new SwanctlError(this.file, it.line, full, 'is not supported by tunkit (it would be silently ignored, so it is refused)');
      }
      if (it.kind === 'section' && sections !== 'any' && !sections.includes(name)) {
        throw new SwanctlError(this.file, it.line, full, 'section is not supported by tunkit');
      }
    }
  }

  value(key: string): Value | undefined {
    return this.sec.items.find((i): i is Value => i.kind === 'value' && i.key === key);
  }

  list(key: string, dflt: readonly string[]): string[] {
    const v = this.value(key);
    if (v === undefined) return [...dflt];
    return v.value.split(',').map((x) => x.trim()).filter((x) => x !== '');
  }

  sections(): Section[] { return this.sec.items.filter((i): i is Section => i.kind === 'section'); }
  sub(name: string): Section | undefined { return this.sections().find((s) => s.name === name); }
  fail(key: string, why: string): never {
    const v = this.value(key);
    throw new SwanctlError(this.file, v?.line ?? this.sec.line, `${this.path}${key}`, why);
  }
}

const TIME_UNITS: Readonly<Record<string, number>> = wordTable({ '': 1, s: 1, m: 60, h: 3600, d: 86400 });

/** A strongSwan time value ("3600", "90s", "20m", "1h", "2d") in seconds; dflt when absent. */
function seconds(r: Reader, key: string, dflt: number): number {
  const v = r.value(key);
  if (v === undefined) return dflt;
  const m = /^(\d{1,9})\s*([smhd]?)$/.exec(v.value.trim());
  if (m === null) return r.fail(key, `"${v.value}" is not a time (a number of seconds, or with s, m, h or d)`);
  return Number(m[1]) * TIME_UNITS[m[2]!]!;
}

/** A child's rekey_time, rand_time and life_time with swanctl's defaults. */
function childLife(r: Reader): Lifetimes {
  const rekeySec = seconds(r, 'rekey_time', 3600);
  // strongSwan: rekey_time * 110 / 100; at least a second over it, so a short rekey_time still rekeys first.
  const lifeSec = seconds(r, 'life_time', rekeySec === 0 ? 0 : rekeySec + Math.max(1, Math.floor(rekeySec / 10)));
  if (r.value('life_time') !== undefined && rekeySec !== 0 && lifeSec !== 0 && lifeSec <= rekeySec) r.fail('life_time', `must be longer than rekey_time (${rekeySec} s)`);
  const randSec = seconds(r, 'rand_time', lifeSec > rekeySec ? Math.min(lifeSec - rekeySec, rekeySec) : 0); // the default never rekeys at 0 s
  if (r.value('rand_time') !== undefined && rekeySec !== 0 && randSec >= rekeySec) r.fail('rand_time', `must be shorter than rekey_time (${rekeySec} s)`);
  return { rekeySec, randSec, lifeSec };
}

/** Multipliers of vici's parse_bytes suffixes (powers of 1024). */
const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A volume as vici reads it: parse_bytes for bytes (an integer, optionally
 * k, m or g: powers of 1024), parse_uint64 for packets. Decimal only: a
 * leading 0 (octal to strtoull) is refused rather than read another way.
 */
function count(r: Reader, key: string, dflt: number, withUnits: boolean): number {
  const v = r.value(key);
  if (v === undefined) return dflt;
  const m = (withUnits ? /^(0|[1-9]\d{0,15})\s*([kKmMgG]?)$/ : /^(0|[1-9]\d{0,15})()$/).exec(v.value.trim());
  if (m === null) return r.fail(key, `"${v.value}" is not a ${withUnits ? 'byte count (a decimal number, or with k, m or g)' : 'packet count (a decimal number)'}`);
  const n = Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(n)) return r.fail(key, `"${v.value}" is too large`);
  return n;
}

/** A child's rekey_/life_/rand_ bytes or packets; defaults as vici_config.c check_lifetimes (life = rekey * 110 / 100, rand = life - rekey). */
function volume(r: Reader, unit: 'bytes' | 'packets'): Volume {
  const withUnits = unit === 'bytes';
  const rekey = count(r, `rekey_${unit}`, 0, withUnits);
  const life = count(r, `life_${unit}`, Math.floor((rekey * 110) / 100), withUnits);
  const rand = count(r, `rand_${unit}`, life - Math.min(life, rekey), withUnits);
  if (r.value(`life_${unit}`) !== undefined && rekey !== 0 && life !== 0 && life <= rekey) r.fail(`life_${unit}`, `must be larger than rekey_${unit} (${rekey})`);
  if (r.value(`rand_${unit}`) !== undefined && rekey !== 0 && rand >= rekey) r.fail(`rand_${unit}`, `must be smaller than rekey_${unit} (${rekey})`);
  return { rekey, life, rand };
}

/** An IKE SA's rekey_time, rand_time and rekey_time + over_time with swanctl's defaults. */
function ikeLife(r: Reader): Lifetimes {
  const rekeySec = seconds(r, 'rekey_time', 14400);
  const overSec = seconds(r, 'over_time', Math.floor(rekeySec / 10));
  const randSec = seconds(r, 'rand_time', overSec);
  if (rekeySec !== 0 && randSec >= rekeySec) r.fail('rand_time', `must be shorter than rekey_time (${rekeySec} s)`);
  return { rekeySec, randSec, lifeSec: rekeySec === 0 ? 0 : rekeySec + overSec };
}

function proposals(r: Reader, key: string, proto: number, dflt: readonly string[]): ProposalSpec[] {
  const words = r.list(key, dflt);
  const list = words.includes('default') ? [...words.filter((w) => w !== 'default'), ...dflt] : words;
  return list.map((w) => {
    const p = parseProposal(w, proto);
    return typeof p === 'string' ? r.fail(key, p) : p;
  });
}

const HASHES: readonly string[] = ['sha256', 'sha384', 'sha512'];

/** strongSwan's auth value: psk, or pubkey | rsa | ecdsa | rsa/pss with optional -HASH suffixes (sha256/384/512). */
function authMethod(r: Reader, v: string): { auth: 'psk' | 'pubkey'; sig: SigPolicy } {
  if (v === 'psk') return { auth: 'psk', sig: { keyType: 'any', isPss: false, hashes: [] } };
  const [kind, ...hs] = v.split('-');
  const types = wordTable<string, Omit<SigPolicy, 'hashes'>>({
    pubkey: { keyType: 'any', isPss: false }, rsa: { keyType: 'rsa', isPss: false }, 'rsa/pss': { keyType: 'rsa', isPss: true }, ecdsa: { keyType: 'ecdsa', isPss: false },
  });
  const t = kind !== undefined ? types[kind] : undefined;
  if (t === undefined) return r.fail('auth', `"${v}" is not supported (psk, pubkey, rsa, rsa/pss or ecdsa, optionally with -sha256/-sha384/-sha512)`);
  for (const h of hs) if (!HASHES.includes(h)) r.fail('auth', `"${h}" in "${v}" is not supported (only sha256, sha384, sha512 suffixes)`);
  return { auth: 'pubkey', sig: { ...t, hashes: hs as SigHash[] } };
}

function files(r: Reader, key: string, path: string): FileRef[] {
  const v = r.value(key);
  return v === undefined ? [] : r.list(key, []).map((f) => ({ path: f, line: v.line, key: `${path}${key}` }));
}

function peerAuth(file: string, sec: Section | undefined, path: string, dfltId: string, side: 'local' | 'remote'): PeerAuth {
  const none: PeerAuth = { auth: 'psk', id: dfltId, sig: { keyType: 'any', isPss: false, hashes: [] }, certFiles: [] };
  if (sec === undefined) return none;
  const r: Reader = new Reader(file, sec, path);
  const certKey = side === 'local' ? 'certs' : 'cacerts';
  r.check(['auth', 'id', certKey], []);
  const m = authMethod(r, r.value('auth')?.value ?? 'pubkey'); // swanctl.conf(5): auth defaults to pubkey
  const certFiles = files(r, certKey, path);
  if (m.auth === 'psk' && certFiles.length > 0) r.fail(certKey, 'needs auth = pubkey (or rsa, ecdsa)');
  if (m.auth === 'pubkey' && side === 'local' && certFiles.length === 0) r.fail('auth', `"${r.value('auth')?.value ?? 'pubkey'}" needs certs = FILE (in x509/)`);
  return { auth: m.auth, id: r.value('id')?.value ?? dfltId, sig: m.sig, certFiles };
}

const VOLUME_KEYS = ['bytes', 'packets'].flatMap((u) => [`rekey_${u}`, `life_${u}`, `rand_${u}`]);

function child(file: string, sec: Section, path: string): ChildConfig {
  const r: Reader = new Reader(file, sec, path);
  r.check(['local_ts', 'remote_ts', 'esp_proposals', 'mode', 'start_action', ...CHILD_LIVE_KEYS, 'rekey_time', 'rand_time', 'life_time', ...VOLUME_KEYS], []);
  const ts = (key: string): string[] => {
    const l = r.list(key, ['dynamic']);
    for (const t of l) if (parseTs(t, '192.0.2.1') === null) r.fail(key, `"${t}" is not a subnet, address or "dynamic"`);
    return l;
  };
  const mode = r.value('mode')?.value ?? 'tunnel';
  if (mode !== 'tunnel') r.fail('mode', `"${mode}" is not supported yet (only tunnel)`);
  const sa = readStartAction(r);
  return {
    name: sec.name, localTs: ts('local_ts'), remoteTs: ts('remote_ts'),
    espProposals: proposals(r, 'esp_proposals', PROTO_ESP, DEFAULT_ESP), mode: 'tunnel', startAction: sa,
    actions: readActions(r), life: childLife(r), bytes: volume(r, 'bytes'), packets: volume(r, 'packets'),
  };
}

function connection(file: string, sec: Section): ConnConfig {
  const path = `connections.${sec.name}.`;
  const r: Reader = new Reader(file, sec, path);
  r.check(['version', 'local_addrs', 'remote_addrs', 'remote_port', 'proposals', 'encap', 'fragmentation', ...CONN_LIVE_KEYS, 'rekey_time', 'rand_time', 'over_time'], ['local', 'remote', 'children']);
  const version = r.value('version')?.value ?? '0';
  if (version !== '0' && version !== '2') r.fail('version', `IKE version ${version} is not supported (0 or 2)`);
  const encap = r.value('encap')?.value ?? 'no';
  if (encap !== 'yes' && encap !== 'no') r.fail('encap', 'must be yes or no');
  const frag = r.value('fragmentation')?.value ?? 'yes';
  if (!(FRAG_MODES as readonly string[]).includes(frag)) r.fail('fragmentation', `"${frag}" must be yes, accept, force or no`);
  const addrs = (key: string): string[] => {
    const l = r.list(key, ['%any']);
    for (const a of l) if (a !== '%any' && parseTs(a, null) === null) r.fail(key, `"${a}" is not an address (hostnames are not supported)`);
    return l;
  };
  const port = r.value('remote_port')?.value ?? '500';
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) r.fail('remote_port', `"${port}" is not a port from 1 to 65535`);
  const kids = r.sub('children');
  const children: ChildConfig[] = [];
  if (kids !== undefined) {
    const kr = new Reader(file, kids, `${path}children.`);
    kr.check([], 'any');
    for (const c of kr.sections()) children.push(child(file, c, `${path}children.${c.name}.`));
  }
  return {
    name: sec.name, localAddrs: addrs('local_addrs'), remoteAddrs: addrs('remote_addrs'), remotePort: Number(port),
    proposals: proposals(r, 'proposals', PROTO_IKE, DEFAULT_IKE), encap: encap === 'yes',
    fragmentation: frag as FragMode, local: peerAuth(file, r.sub('local'), `${path}local.`, '', 'local'), remote: peerAuth(file, r.sub('remote'), `${path}remote.`, '%any', 'remote'),
    children, dpd: readDpd(r), life: ikeLife(r),
  };
}

/** strongSwan secret encodings: 0x… hex, 0s… base64, else the text's UTF-8 bytes. */
function secretBytes(v: string): Uint8Array | null {
  if (v.startsWith('0x')) return /^0x([0-9a-fA-F]{2})+$/.test(v) ? new Uint8Array(Buffer.from(v.substring(2), 'hex')) : null;
  if (v.startsWith('0s')) return new Uint8Array(Buffer.from(v.substring(2), 'base64'));
  return new TextEncoder().encode(v);
}

function secret(file: string, sec: Section): PskSecret {
  const path = `secrets.${sec.name}.`;
  const r: Reader = new Reader(file, sec, path);
  r.check(['secret'], [], (k) => k === 'id' || k.startsWith('id-'));
  const v = r.value('secret');
  if (v === undefined) r.fail('secret', 'missing');
  const b = secretBytes(v.value);
  if (b === null || b.length === 0) r.fail('secret', 'is not valid (0x hex, 0s base64, or text)');
  const ids = sec.items.filter((i): i is Value => i.kind === 'value' && (i.key === 'id' || i.key.startsWith('id-'))).map((i) => i.value);
  return { ids, secret: b };
}

/** A private-/rsa-/ecdsa- section: the key file (relative to private/, rsa/, ecdsa/) and its passphrase. */
function keyFile(file: string, sec: Section): KeyFileRef {
  const path = `secrets.${sec.name}.`;
  const r: Reader = new Reader(file, sec, path);
  r.check(['file', 'secret'], []);
  const f = r.value('file');
  if (f === undefined) r.fail('file', 'missing');
  const pass = r.value('secret');
  const dir = sec.name.startsWith('rsa') ? 'rsa' : sec.name.startsWith('ecdsa') ? 'ecdsa' : 'private';
  return { path: f.value, line: f.line, key: `${path}file`, dir, passphrase: pass !== undefined ? new TextEncoder().encode(pass.value) : null };
}

/** Parses a swanctl.conf text; throws SwanctlError naming file, line and key. */
export function parseSwanctl(text: string, file: string): IkeConfig {
  const root = new Reader(file, parseSettings(text, file), '');
  root.check([], ['connections', 'secrets']);
  const connections: ConnConfig[] = [];
  const cs = root.sub('connections');
  if (cs !== undefined) {
    const r = new Reader(file, cs, 'connections.');
    r.check([], 'any');
    for (const c of r.sections()) connections.push(connection(file, c));
  }
  const secrets: PskSecret[] = [];
  const keyFiles: KeyFileRef[] = [];
  const ss = root.sub('secrets');
  if (ss !== undefined) {
    const r = new Reader(file, ss, 'secrets.');
    r.check([], 'any');
    for (const s of r.sections()) {
      if (/^ike($|-)/.test(s.name)) secrets.push(secret(file, s));
      else if (/^(private|rsa|ecdsa)($|-)/.test(s.name)) keyFiles.push(keyFile(file, s));
      else throw new SwanctlError(file, s.line, `secrets.${s.name}`, 'only ike (PSK) and private, rsa, ecdsa (key file) secrets are supported');
    }
  }
  const childNames = new Set<string>();
  for (const c of connections) {
    for (const ch of c.children) {
      if (childNames.has(ch.name)) throw new SwanctlError(file, 0, `children.${ch.name}`, 'child names must be unique across connections (tunkit ike initiate names one)');
      childNames.add(ch.name);
    }
  }
  return { connections, secrets, keyFiles };
}
