// The config file's keys and the request fields they fill, one table per
// object kind: read by schema.ts, written back by print.ts, so a key means
// the same thing both ways. Keys are iproute2's keywords (`replay-window`,
// `ignore-df`, `if_id`, `output-mark`); the fields are those of the
// control requests (TunnelConfig, StateSpec, PolicySpec in xfrm/spec.ts).
// Types are checked here (a TOML string where a number belongs is named
// here); ranges and meaning are checked by the same validators the CLI's
// requests go through (makeTunnelParams, makeSaConfig, Spd.make).

/** A place in the document: table names, array indexes, keys. */
export type Path = readonly (string | number)[];

/** One thing wrong at `path` (schema.ts adds the file, line and object). */
export class ConfigIssue extends Error {
  constructor(readonly path: Path, message: string) {
    super(message);
    this.name = 'ConfigIssue';
  }
}

export type Scalar = 'str' | 'int' | 'bool' | 'strs' | 'int|str';

export interface Field {
  /** The key in the file. */
  readonly key: string;
  /** The request member it fills. */
  readonly to: string;
  /** A scalar type, or the fields of a sub-table. */
  readonly type: Scalar | readonly Field[];
  /** An array of sub-tables (`tmpl = [{…}, {…}]`). */
  readonly isList?: boolean;
}

const f = (key: string, type: Field['type'], to = key, isList = false): Field => ({ key, to, type, ...(isList ? { isList } : {}) });

/** `link.add` arguments (TunnelConfig + dev, xfrm: if_id). mtu, up, addresses and routes are the link's own keys. */
export const LINK_FIELDS: readonly Field[] = [
  f('type', 'str', 'kind'), f('local', 'str'), f('remote', 'str'), f('dev', 'str'), f('mode', 'str'),
  f('ttl', 'int|str'), f('tos', 'int|str'), f('key', 'int|str'), f('ikey', 'int|str'), f('okey', 'int|str'),
  f('seq', 'bool'), f('iseq', 'bool'), f('oseq', 'bool'), f('csum', 'bool'), f('icsum', 'bool'), f('ocsum', 'bool'),
  f('pmtudisc', 'bool'), f('ignore-df', 'bool', 'ignoreDf'), f('bare', 'bool'), f('if_id', 'int', 'ifId'),
];
export const LINK_OWN = ['mtu', 'up', 'addresses', 'routes'] as const;

const ALGO: readonly Field[] = [f('name', 'str'), f('key', 'str', 'keyHex'), f('bits', 'int')];
const MARK: readonly Field[] = [f('value', 'int'), f('mask', 'int')];
const LIMITS: readonly Field[] = [
  f('time-soft', 'int', 'timeSoft'), f('time-hard', 'int', 'timeHard'), f('time-use-soft', 'int', 'timeUseSoft'),
  f('time-use-hard', 'int', 'timeUseHard'), f('byte-soft', 'int', 'byteSoft'), f('byte-hard', 'int', 'byteHard'),
  f('packet-soft', 'int', 'packetSoft'), f('packet-hard', 'int', 'packetHard'),
];
/** SelectorSpec: `sel = {…}` of a state, and the top-level keys of a policy. */
export const SEL_FIELDS: readonly Field[] = [
  f('src', 'str'), f('dst', 'str'), f('proto', 'int'), f('sport', 'int'), f('dport', 'int'),
  f('sport-mask', 'int', 'sportMask'), f('dport-mask', 'int', 'dportMask'), f('dev', 'str'),
];
const ENCAP: readonly Field[] = [f('type', 'str'), f('sport', 'int'), f('dport', 'int'), f('oa', 'str')];

/** StateSpec; `auth-trunc` fills `auth` and sets authTrunc (schema.ts). */
export const STATE_FIELDS: readonly Field[] = [
  f('src', 'str'), f('dst', 'str'), f('proto', 'str'), f('spi', 'int'), f('mode', 'str'), f('reqid', 'int'),
  f('replay-window', 'int', 'replayWindow'), f('flag', 'strs', 'flags'), f('extra-flag', 'strs', 'extraFlags'),
  f('aead', ALGO), f('enc', ALGO), f('auth', ALGO), f('auth-trunc', ALGO, 'authTruncAlgo'),
  f('encap', ENCAP), f('sel', SEL_FIELDS), f('limits', LIMITS), f('if_id', 'int', 'ifId'),
  f('mark', MARK), f('output-mark', MARK, 'outputMark'), f('tfcpad', 'int'),
];

const TMPL: readonly Field[] = [
  f('src', 'str'), f('dst', 'str'), f('proto', 'str'), f('spi', 'int'), f('mode', 'str'), f('reqid', 'int'), f('level', 'str'),
];

/** PolicySpec without its selector (whose keys sit beside these, as on `ip xfrm policy add`). */
export const POLICY_FIELDS: readonly Field[] = [
  f('dir', 'str'), f('index', 'int'), f('priority', 'int'), f('action', 'str'), f('tmpl', TMPL, 'tmpls', true),
  f('if_id', 'int', 'ifId'), f('mark', MARK), f('limits', LIMITS),
];

export const DEFAULTS_FIELDS: readonly Field[] = [f('in', 'str'), f('fwd', 'str'), f('out', 'str')];

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Throws ConfigIssue unless `v` is a table. */
export function asTable(v: unknown, at: Path): Record<string, unknown> {
  if (!isTable(v)) throw new ConfigIssue(at, 'must be a table');
  return v;
}

function scalar(v: unknown, t: Scalar, at: Path): unknown {
  const ok = t === 'str' ? typeof v === 'string'
    : t === 'int' ? typeof v === 'number' && Number.isInteger(v)
      : t === 'bool' ? typeof v === 'boolean'
        : t === 'strs' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
          : (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'string';
  const want = { str: 'a string', int: 'an integer', bool: 'true or false', strs: 'a list of strings', 'int|str': 'an integer or a string' }[t];
  if (!ok) throw new ConfigIssue(at, `must be ${want}`);
  return v;
}

/**
 * A table's keys into request members. Unknown keys are refused by name
 * (`skip` lists keys the caller reads itself).
 */
export function readTable(v: unknown, fields: readonly Field[], at: Path, skip: readonly string[] = []): Record<string, unknown> {
  const t = asTable(v, at);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(t)) {
    if (skip.includes(k)) continue;
    const fd = fields.find((d) => d.key === k);
    if (fd === undefined) throw new ConfigIssue([...at, k], `unknown key (known: ${[...fields.map((d) => d.key), ...skip].join(', ')})`);
    const p = [...at, k];
    if (typeof fd.type === 'string') out[fd.to] = scalar(x, fd.type, p);
    else if (fd.isList === true) {
      if (!Array.isArray(x)) throw new ConfigIssue(p, 'must be a list of tables');
      const sub = fd.type;
      out[fd.to] = x.map((e, i) => readTable(e, sub, [...p, i]));
    } else out[fd.to] = readTable(x, fd.type, p);
  }
  return out;
}

/** Request members back into [key, value] pairs, in table order; absent members are left out. */
export function writeTable(spec: Readonly<Record<string, unknown>>, fields: readonly Field[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const fd of fields) {
    const v = spec[fd.to];
    if (v === undefined) continue;
    if (typeof fd.type === 'string') out.push([fd.key, v]);
    else if (fd.isList === true && Array.isArray(v)) {
      const sub = fd.type;
      out.push([fd.key, v.map((e) => Object.fromEntries(writeTable(e as Record<string, unknown>, sub)))]);
    } else out.push([fd.key, Object.fromEntries(writeTable(v as Record<string, unknown>, fd.type))]);
  }
  return out;
}
