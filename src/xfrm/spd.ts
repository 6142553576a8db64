// The Security Policy Database: net/xfrm/xfrm_policy.c.
//
//   lookup(dir, flow, ifId, mark)  xfrm_policy_lookup_bytype: among the
//       policies of that direction, family and if_id whose selector matches
//       the flow and whose mark matches the flow's (xfrm_policy_match),
//       the lowest priority value wins; on a tie the older one (lower pos,
//       __xfrm_policy_eval_candidates). Indexed (spd-index.ts: exact pairs
//       hashed, the rest in daddr/saddr prefix tries), so its cost does not
//       grow with the number of policies; answers are memoized per flow
//       key (flow-memo.ts), emptied by every change.
//   add/update               xfrm_policy_insert: a policy with the same
//       selector, direction, mark and if_id is EEXIST for add and replaced
//       (keeping its index) for update. Indexes come from xfrm_gen_index:
//       (generator | dir), the generator stepping by 8, so `index & 7` is
//       the direction. Keyed maps make add/update/find/delete O(1)
//       expected (delete and update also touch the list: O(n) memmove).
//   defaults                 XFRM_MSG_SETDEFAULT (Linux ≥ 5.16): what an
//       unmatched packet gets per direction (accept unless set to block).

import { ConfigError, VpnError } from '../wire/errors.js';
import { makeLimits, XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL } from './config.js';
import type { Limits, Mark } from './config.js';
import type { TmplMatch } from './sad.js';
import { makeSelector, parseXAddr } from './selector.js';
import { FLAT_MAX, PolicyIndex } from './spd-index.js';
import type { Flow, Selector, XAddr } from './selector.js';
import type { PolicyDefaults, PolicyDir, PolicySpec, TmplSpec } from './spec.js';
import { wordTable } from '../wire/table.js';

export const XFRM_POLICY_IN = 0;
export const XFRM_POLICY_OUT = 1;
export const XFRM_POLICY_FWD = 2;
const DIRS = wordTable<PolicyDir, number>({ in: XFRM_POLICY_IN, out: XFRM_POLICY_OUT, fwd: XFRM_POLICY_FWD });

/** A parsed template (xfrm_user_tmpl). optional = `level use`. */
export interface Tmpl extends TmplMatch {
  readonly optional: boolean;
}

export class XfrmPolicy {
  /** Packets that matched (for -s: curlft of a policy counts uses). */
  useTimeMs = 0;
  /** True when no unmarked flow (mark 0) can match: mark.value ≠ 0 (xfrm_policy_match). Such a policy never applies to what tunkit reads. */
  get isMarkScoped(): boolean { return this.mark.value !== 0; }
  constructor(
    readonly spec: PolicySpec,
    readonly dir: number,
    readonly sel: Selector,
    readonly index: number,
    readonly priority: number,
    readonly isBlock: boolean,
    readonly tmpls: readonly Tmpl[],
    readonly ifId: number,
    readonly mark: Mark,
    readonly limits: Limits,
    /** Insertion order: ties in priority go to the lower pos. */
    readonly pos: number,
    readonly addTimeMs: number,
  ) {}
}

function tmpl(i: number, t: TmplSpec): Tmpl {
  const f = `tmpl[${i}]`;
  if (typeof t !== 'object' || t === null) throw new ConfigError(f, 'must be an object');
  if (t.proto !== 'esp') throw new ConfigError(`${f}.proto`, 'tunkit implements proto esp');
  const mode = t.mode === 'tunnel' ? XFRM_MODE_TUNNEL : t.mode === 'transport' ? XFRM_MODE_TRANSPORT : -1;
  if (mode < 0) throw new ConfigError(`${f}.mode`, 'must be transport or tunnel');
  const addr = (k: 'src' | 'dst'): XAddr | null => {
    const v = t[k];
    if (v === undefined) return null;
    const a = parseXAddr(`${f}.${k}`, v);
    return a.bytes.every((x) => x === 0) ? null : a;
  };
  const src = addr('src');
  const dst = addr('dst');
  // validate_tmpl: a tunnel template needs its endpoints' family; tunkit asks for the addresses.
  if (mode === XFRM_MODE_TUNNEL && (src === null || dst === null)) throw new ConfigError(`${f}`, 'a tunnel-mode template needs src and dst');
  const num = (k: 'spi' | 'reqid'): number => {
    const v = t[k];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ConfigError(`${f}.${k}`, 'must be an unsigned 32-bit integer');
    return v;
  };
  if (t.level !== undefined && t.level !== 'required' && t.level !== 'use') throw new ConfigError(`${f}.level`, 'must be required or use');
  return { src, dst, spi: num('spi'), mode, reqid: num('reqid'), optional: t.level === 'use' };
}

const u32 = (field: string, v: unknown, dflt: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ConfigError(field, 'must be an unsigned 32-bit integer');
  return v;
};

export class Spd {
  /** Per direction, insertion order (list()); an update replaces in place. */
  private readonly byDir: XfrmPolicy[][] = [[], [], []];
  /** Per direction: xfrm_policy_insert's key (selector, if_id, mark) → policy. */
  private readonly byKey: Map<string, XfrmPolicy>[] = [new Map(), new Map(), new Map()];
  /** Per direction: (selector, if_id) → its policies in list order (find by selector ignores the mark). */
  private readonly bySel: Map<string, XfrmPolicy[]>[] = [new Map(), new Map(), new Map()];
  /** Per direction: index → policy (indexes are unique within a direction). */
  private readonly byIndex: Map<number, XfrmPolicy>[] = [new Map(), new Map(), new Map()];
  private index: PolicyIndex<XfrmPolicy>;
  /**
   * net->xfrm.policy_all in reverse: every policy, oldest link first. The
   * kernel's __xfrm_policy_link list_add()s at the head, so its dump
   * (xfrm_policy_walk from the head) lists the newest first, all directions
   * interleaved; an update links the new policy and unlinks the old one.
   */
  private readonly linked = new Set<XfrmPolicy>();
  private pos = 0;
  private idxGenerator = 0;
  readonly defaults: Record<PolicyDir, 'accept' | 'block'> = { in: 'accept', fwd: 'accept', out: 'accept' };

  /** `flatMax`, `memoSlots`: see PolicyIndex (tests pass 0 to force the prefix tries, 1 to share one memo slot). */
  constructor(private readonly flatMax = FLAT_MAX, private readonly memoSlots?: number) {
    this.index = new PolicyIndex<XfrmPolicy>(flatMax, memoSlots);
  }

  /** Policies of one direction in insertion order, or of all directions (in, out, fwd). */
  list(dir?: PolicyDir): readonly XfrmPolicy[] {
    return dir !== undefined ? this.byDir[DIRS[dir]]! : [...this.byDir[0]!, ...this.byDir[1]!, ...this.byDir[2]!];
  }

  /** Every policy in the kernel's dump order (`ip xfrm policy list`): newest first, an update counting as new. */
  dump(): XfrmPolicy[] {
    return [...this.linked].reverse();
  }

  get count(): number { return this.byDir[0]!.length + this.byDir[1]!.length + this.byDir[2]!.length; }

  /** Validates a PolicySpec (verify_newpolicy_info, validate_tmpl) into a policy (not inserted). */
  make(spec: PolicySpec, ifindexOf: (dev: string) => number | null, nowMs: number, index: number): XfrmPolicy {
    if (typeof spec !== 'object' || spec === null) throw new ConfigError('policy', 'must be an object');
    const dir = DIRS[spec.dir];
    if (dir === undefined) throw new ConfigError('dir', `${JSON.stringify(spec.dir)} is not in, out or fwd`);
    const sel = makeSelector('sel', spec.sel, ifindexOf);
    if (spec.action !== undefined && spec.action !== 'allow' && spec.action !== 'block') throw new ConfigError('action', 'must be allow or block');
    const tmpls = spec.tmpls ?? [];
    if (!Array.isArray(tmpls) || tmpls.length > 6) throw new ConfigError('tmpl', 'at most 6 templates (XFRM_MAX_DEPTH)');
    const m = spec.mark;
    const mark = m === undefined ? { value: 0, mask: 0 } : { value: u32('mark', m.value, 0), mask: u32('mark mask', m.mask, 0xffffffff) };
    return new XfrmPolicy(spec, dir, sel, index, u32('priority', spec.priority, 0), spec.action === 'block',
      tmpls.map((t, i) => tmpl(i, t)), u32('if_id', spec.ifId, 0), mark, makeLimits(spec.limits), 0, nowMs);
  }

  /**
   * xfrm_policy_insert. `isUpdate` replaces a same-key policy (keeping index
   * and position). O(1) expected but for an update's in-place replacement.
   */
  insert(p: XfrmPolicy, isUpdate: boolean): XfrmPolicy {
    const d = p.dir;
    const key = policyKey(p);
    const old = this.byKey[d]!.get(key) ?? null;
    if (old !== null && !isUpdate) throw new VpnError('EEXIST', 'File exists: a policy with this selector and dir exists', 'sel');
    const taken = p.index !== 0 ? this.byIndex[d]!.get(p.index) : undefined;
    if (taken !== undefined && taken !== old) throw new VpnError('EEXIST', `File exists: index ${p.index} is taken`, 'index');
    const index = p.index !== 0 ? p.index : old !== null ? old.index : this.genIndex(d);
    const placed = new XfrmPolicy(p.spec, d, p.sel, index, p.priority, p.isBlock, p.tmpls, p.ifId, p.mark, p.limits,
      old !== null ? old.pos : ++this.pos, old !== null ? old.addTimeMs : p.addTimeMs);
    const sk = selIfIdKey(p.sel, p.ifId);
    if (old !== null) {
      const list = this.byDir[d]!;
      list[list.indexOf(old)] = placed;
      const same = this.bySel[d]!.get(sk)!;
      same[same.indexOf(old)] = placed;
      this.byIndex[d]!.delete(old.index);
      this.index.remove(d, old);
    } else {
      this.byDir[d]!.push(placed);
      const same = this.bySel[d]!.get(sk);
      if (same === undefined) this.bySel[d]!.set(sk, [placed]);
      else same.push(placed); // the newest has the highest pos: list order
    }
    if (old !== null) this.linked.delete(old);
    this.linked.add(placed);
    this.byKey[d]!.set(key, placed);
    this.byIndex[d]!.set(index, placed);
    this.index.add(d, placed);
    return placed;
  }

  /** By selector+dir+if_id (the first in list order), or index+dir; ENOENT naming what was asked when absent. */
  find(dir: PolicyDir, sel: Selector | null, index: number, ifId: number): XfrmPolicy {
    const d = DIRS[dir];
    const p = d === undefined ? undefined : sel !== null ? this.bySel[d]!.get(selIfIdKey(sel, ifId))?.[0] : this.byIndex[d]!.get(index);
    if (p === undefined) throw new VpnError('ENOENT', 'No such file or directory: no policy matches', sel !== null ? 'sel' : 'index');
    return p;
  }

  /** Removes a policy (no-op when it is not in the SPD). */
  remove(p: XfrmPolicy): void {
    const d = p.dir;
    const key = policyKey(p);
    if (this.byKey[d]!.get(key) !== p) return;
    this.byKey[d]!.delete(key);
    this.byIndex[d]!.delete(p.index);
    const sk = selIfIdKey(p.sel, p.ifId);
    const same = this.bySel[d]!.get(sk)!;
    same.splice(same.indexOf(p), 1);
    if (same.length === 0) this.bySel[d]!.delete(sk);
    const list = this.byDir[d]!;
    list.splice(list.indexOf(p), 1);
    this.linked.delete(p);
    this.index.remove(d, p);
  }

  flush(): number {
    const n = this.count;
    for (const l of this.byDir) l.length = 0;
    this.linked.clear();
    for (const m of [...this.byKey, ...this.bySel, ...this.byIndex]) m.clear();
    this.index = new PolicyIndex<XfrmPolicy>(this.flatMax, this.memoSlots);
    return n;
  }

  setDefaults(d: Partial<PolicyDefaults>): void {
    const dirs = ['in', 'fwd', 'out'] as const;
    // All three checked before any is applied: a refused request changes nothing.
    for (const k of dirs) {
      const v = d[k];
      if (v !== undefined && v !== 'accept' && v !== 'block') throw new ConfigError(k, 'must be accept or block');
    }
    for (const k of dirs) {
      const v = d[k];
      if (v !== undefined) this.defaults[k] = v;
    }
  }

  /**
   * xfrm_policy_lookup_bytype: the best matching policy of `dir` and if_id
   * for the flow, or null (spd-index.ts: cost independent of the number of
   * policies). No allocation. `mark`: the flow's skb mark. Packets tunkit
   * reads from a TUN, an xfrm interface or a raw socket carry none it can
   * see, so the data path passes 0 — as the kernel's lookup for an unmarked
   * packet: a policy with mark.value ≠ 0 never matches them (isMarkScoped).
   */
  lookup(dir: number, f: Flow, ifId: number, mark = 0): XfrmPolicy | null {
    return this.index.lookup(dir, f, ifId, mark);
  }

  /** xfrm_gen_index: (generator | dir), stepping by 8, skipping indexes in use in any direction. */
  private genIndex(dir: number): number {
    for (;;) {
      let idx = (this.idxGenerator | dir) >>> 0;
      this.idxGenerator = (this.idxGenerator + 8) >>> 0;
      if (idx === 0) idx = 8;
      if (!this.byIndex.some((m) => m.has(idx))) return idx;
    }
  }
}

/** A selector as a string key (control plane only): every field selectorEqual compares. */
function selKey(s: Selector): string {
  const a = (p: Selector['src']): string => `${p.family}:${p.bytes.subarray(0, p.family === 4 ? 4 : 16).join('.')}/${p.plen}`;
  return `${s.family}|${a(s.src)}|${a(s.dst)}|${s.proto}|${s.sport}/${s.sportMask}|${s.dport}/${s.dportMask}|${s.ifindex}`;
}

const selIfIdKey = (s: Selector, ifId: number): string => `${selKey(s)}|${ifId}`;

/** xfrm_policy_insert's key: selector, mark, if_id (type is always main). */
const policyKey = (p: XfrmPolicy): string => `${selIfIdKey(p.sel, p.ifId)}|${p.mark.value}/${p.mark.mask}`;
