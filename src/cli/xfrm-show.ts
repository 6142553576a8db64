// The daemon's xfrm records as iproute2 6.1 prints them (ip/ipxfrm.c):
//
//   formatState    xfrm_state_info_print  (ip xfrm state list|get, and monitor's SA events)
//     idInfo         xfrm_id_info_print    "src A dst B" / "\tproto esp spi 0x%08x reqid %u mode M"
//     xfrmaState     xfrm_xfrma_print      mark, algorithms, encap, anti-replay, if_id, tfcpad
//     selectorLine   xfrm_selector_print
//     lifetimeLines  xfrm_lifetime_print, xfrm_stats_print   (-s)
//   formatPolicy   xfrm_policy_info_print (ip xfrm policy list|get, monitor, acquire)
//     tmplLines      xfrm_tmpl_print
//
// The records hold what the kernel's netlink dump would carry; where the
// kernel adds something the Spec leaves implicit, that rule is applied here
// and named: a plain `auth` SA is reported as auth-trunc with the
// algorithm's default truncation (xfrm_algo.c aalg_list), an SA without
// `sel` gets a zero selector of its own family unless af-unspec
// (copy_from_user_state), mark/output-mark/if_id/tfcpad print only when
// non-zero (xfrm_mark_put, xfrm_smark_put). Keys the daemon masked ("")
// print as ip's nokeys form, "<<Keys hidden>>". Times are local time, as
// strftime(localtime()) prints them.

import { STATE_FLAGS, STATE_XFLAGS } from '../xfrm/spec.js';
import type {
  AlgoSpec, CurLifetimeRecord, LimitsSpec, MarkSpec, PolicyRecord, SelectorSpec, StateRecord, TmplSpec,
} from '../xfrm/spec.js';
import { familyOf, IPPROTO, protoName, splitPrefix, zeroAddr } from './xfrm-args-common.js';
import { formatIp6, parseIp6 } from '../wire/addr.js';
import { wordTable } from '../wire/table.js';

export interface XfrmShowOptions {
  /** ip's show_stats: 0, or 1+ with -s. */
  readonly statsLevel: number;
  /** True when the request asked tunkitd for keys: an empty keyHex is then an empty key, not a hidden one. */
  readonly isKeysShown: boolean;
}

/** rt_addr_n2a(): canonical text (IPv6 compressed as inet_ntop does). */
export function addrText(a: string): string {
  if (!a.includes(':')) return a;
  const b = parseIp6(a);
  return b === null ? a : formatIp6(b);
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
/** C's "%#x": 0 prints as "0". */
const altHex = (n: number): string => (n === 0 ? '0' : `0x${(n >>> 0).toString(16)}`);
/** ipxfrm.c strxf_mask8(): the u8 as eight binary digits. */
const mask8 = (n: number): string => n.toString(2).padStart(8, '0');

/** strxf_time(): "-" for 0, else strftime("%Y-%m-%d %T", localtime()). */
export function strxfTime(sec: number): string {
  if (sec === 0) return '-';
  const d = new Date(sec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** xfrm_id_info_print(): the "src … dst …" line and the "proto … mode …" line. */
function idInfo(
  id: { src: string; dst: string; spi: number; reqid: number; mode: string }, o: XfrmShowOptions,
  isForceSpi: boolean, prefix: string, title: string,
): string {
  let s = `${title}src ${addrText(id.src)} dst ${addrText(id.dst)}\n${prefix}\tproto esp `;
  if (o.statsLevel > 0 || isForceSpi || id.spi !== 0) {
    s += `spi 0x${hex8(id.spi)}${o.statsLevel > 0 ? `(${id.spi >>> 0})` : ''} `;
  }
  s += `reqid ${id.reqid}${o.statsLevel > 0 ? `(0x${hex8(id.reqid)})` : ''} mode ${id.mode}\n`;
  return s;
}

/** xfrm_selector_print(); `prefix` is printed first (ip passes "\tsel ", a title, or nothing). */
export function selectorLine(sel: SelectorSpec, o: XfrmShowOptions, prefix: string): string {
  const src = splitPrefix(sel.src);
  const dst = splitPrefix(sel.dst);
  let s = `${prefix}src ${addrText(src.addr)}/${src.plen} dst ${addrText(dst.addr)}/${dst.plen} `;
  const proto = sel.proto ?? 0;
  const sport = sel.sport ?? 0;
  const dport = sel.dport ?? 0;
  const sm = sel.sportMask ?? (sel.sport !== undefined ? 0xffff : 0);
  const dm = sel.dportMask ?? (sel.dport !== undefined ? 0xffff : 0);
  if (proto !== 0) s += `proto ${protoName(proto)} `;
  if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
    if (sm !== 0) s += `type ${sport} `;
    if (dm !== 0) s += `code ${dport} `;
  } else if (proto === IPPROTO.GRE) {
    if (sm !== 0 || dm !== 0) s += `key ${sport * 65536 + dport} `;
  } else if (proto === IPPROTO.MH) {
    if (sm !== 0) s += `type ${sport} `;
    if (dm !== 0 && o.statsLevel > 0) s += `(dport) 0x${dport.toString(16).padStart(4, '0')} `;
  } else {
    if (sm !== 0) s += `sport ${sport} `;
    if (dm !== 0) s += `dport ${dport} `;
  }
  if (sel.dev !== undefined) s += `dev ${sel.dev} `;
  if (o.statsLevel > 0) s += 'uid 0';
  return `${s}\n`;
}

/** strxf_limit(): "(INF)" for XFRM_INF (an absent limit). */
const limit = (v: number | undefined): string => (v === undefined ? '(INF)' : String(v));

/** xfrm_lifetime_print(): the configured limits and the current lifetime (-s). */
export function lifetimeLines(l: LimitsSpec | undefined, cur: CurLifetimeRecord, prefix: string): string {
  const c = l ?? {};
  return [
    `${prefix}lifetime config:`,
    `${prefix}  limit: soft ${limit(c.byteSoft)}(bytes), hard ${limit(c.byteHard)}(bytes)`,
    `${prefix}  limit: soft ${limit(c.packetSoft)}(packets), hard ${limit(c.packetHard)}(packets)`,
    `${prefix}  expire add: soft ${c.timeSoft ?? 0}(sec), hard ${c.timeHard ?? 0}(sec)`,
    `${prefix}  expire use: soft ${c.timeUseSoft ?? 0}(sec), hard ${c.timeUseHard ?? 0}(sec)`,
    `${prefix}lifetime current:`,
    `${prefix}  ${cur.bytes}(bytes), ${cur.packets}(packets)`,
    `${prefix}  add ${strxfTime(cur.addTime)} use ${strxfTime(cur.useTime)}`,
  ].join('\n') + '\n';
}

/** Default ICV truncation of the kernel's `auth` algorithms (net/xfrm/xfrm_algo.c aalg_list icv_truncbits). */
const AUTH_TRUNC_BITS: Readonly<Record<string, number>> = wordTable({
  digest_null: 0, 'hmac(md5)': 96, 'hmac(sha1)': 96, 'hmac(sha256)': 96, 'hmac(sha384)': 192,
  'hmac(sha512)': 256, 'hmac(rmd160)': 96, 'xcbc(aes)': 96, 'cmac(aes)': 96,
});

/** __xfrm_algo_print(): "TYPE NAME KEY" (+ " (N bits)" with -s), then " BITS" for aead/auth-trunc. */
function algoLine(type: string, a: AlgoSpec, o: XfrmShowOptions, prefix: string, bits?: number): string {
  let s = `${prefix}${type} ${a.name} `;
  if (a.keyHex === '' && !o.isKeysShown) s += '<<Keys hidden>>';
  else if (a.keyHex.length > 0) s += `0x${a.keyHex.toLowerCase()}${o.statsLevel > 0 ? ` (${a.keyHex.length * 4} bits)` : ''}`;
  return `${s}${bits !== undefined ? ` ${bits}` : ''}\n`;
}

/** The "\tmark V/M " + "output-mark 0xV/0xM" line (ip prints a literal tab here, not the prefix). */
function markLine(mark: MarkSpec | undefined, omark: MarkSpec | undefined): string {
  const hasMark = mark !== undefined && (mark.value | mark.mask) !== 0;
  const hasOmark = omark !== undefined && (omark.value | omark.mask) !== 0;
  const om = hasOmark ? `output-mark 0x${(omark.value >>> 0).toString(16)}/0x${(omark.mask >>> 0).toString(16)}` : '';
  if (hasMark) return `\tmark ${altHex(mark.value)}/${altHex(mark.mask)} ${om}\n`;
  return hasOmark ? `\t${om}\n` : '';
}

/** The anti-replay context: legacy (XFRMA_REPLAY_VAL) or ESN/bmp (XFRMA_REPLAY_ESN_VAL). */
function replayLines(r: StateRecord, prefix: string): string {
  const p = r.replay;
  if (!p.isEsn) {
    return `${prefix}anti-replay context: seq 0x${p.seq.toString(16)}, oseq 0x${p.oseq.toString(16)}, bitmap 0x${hex8(p.bitmap[0] ?? 0)}\n`;
  }
  const window = r.replayWindow ?? 0;
  const bmpLen = Math.ceil(window / 32);
  let s = `${prefix}anti-replay esn context:\n`;
  s += `${prefix} seq-hi 0x${p.seqHi.toString(16)}, seq 0x${p.seq.toString(16)}, oseq-hi 0x${p.oseqHi.toString(16)}, oseq 0x${p.oseq.toString(16)}\n`;
  s += `${prefix} replay_window ${window}, bitmap-length ${bmpLen}`;
  for (let i = bmpLen, j = 0; i > 0; i--) {
    if (j++ % 8 === 0) s += `\n${prefix} `;
    s += `${hex8(p.bitmap[i - 1] ?? 0)} `;
  }
  return `${s}\n`;
}

/** xfrm_xfrma_print() for an SA; an expire message (build_expire) carries only mark, output-mark and if_id. */
function xfrmaState(r: StateRecord, o: XfrmShowOptions, prefix: string, isExpire: boolean): string {
  let s = markLine(r.mark, r.outputMark);
  if (!isExpire) {
    if (r.auth !== undefined) s += algoLine('auth-trunc', r.auth, o, prefix, r.auth.bits ?? AUTH_TRUNC_BITS[r.auth.name] ?? 0);
    if (r.aead !== undefined) s += algoLine('aead', r.aead, o, prefix, r.aead.bits ?? 0);
    if (r.enc !== undefined) s += algoLine('enc', r.enc, o, prefix);
    const e = r.encap;
    if (e !== undefined) s += `${prefix}encap type ${e.type} sport ${e.sport} dport ${e.dport} addr ${addrText(e.oa)}\n`;
    s += replayLines(r, prefix);
  }
  if (r.ifId !== undefined && r.ifId !== 0) s += `${prefix}if_id ${altHex(r.ifId)}\n`;
  if (!isExpire && r.tfcpad !== undefined && r.tfcpad !== 0) s += `${prefix}tfcpad ${r.tfcpad}\n`;
  return s;
}

const bitsOf = <N extends string>(table: Readonly<Record<N, number>>, names: readonly N[] | undefined): number =>
  (names ?? []).reduce((v, n) => v | table[n], 0);
const namesOf = <N extends string>(table: Readonly<Record<N, number>>, bits: number): string =>
  (Object.keys(table) as N[]).filter((n) => (bits & table[n]) !== 0).join(' ');

/** The "\treplay-window …" line with its flag lists (XFRM_FLAG_PRINT's spacing, extra_flag glued on as ip does). */
function replayWindowLine(r: StateRecord, o: XfrmShowOptions, prefix: string): string {
  const flags = bitsOf(STATE_FLAGS, r.flags);
  const xflags = bitsOf(STATE_XFLAGS, r.extraFlags);
  let s = `${prefix}replay-window ${r.replay.isEsn ? 0 : r.replayWindow ?? 0} `;
  if (o.statsLevel > 0) s += 'seq 0x00000000 ';
  if (o.statsLevel > 0 || flags !== 0) s += `flag ${namesOf(STATE_FLAGS, flags)}`;
  if (o.statsLevel > 0 && xflags !== 0) s += `extra_flag ${namesOf(STATE_XFLAGS, xflags)}`;
  if (o.statsLevel > 0) s += ` (0x${mask8(flags)})`;
  return `${s}\n`;
}

/** copy_from_user_state(): with no `sel`, the kernel's selector is a zero one of the SA's family (none if af-unspec). */
function stateSelector(r: StateRecord): SelectorSpec | undefined {
  const isAfUnspec = (r.flags ?? []).includes('af-unspec');
  const s = r.sel;
  const isZero = s === undefined || (/\/0$/.test(s.src) && /\/0$/.test(s.dst) && [s.src, s.dst].every((p) => /^(0\.0\.0\.0|::)\//.test(p))
    && (s.proto ?? 0) === 0 && (s.sport ?? 0) === 0 && (s.dport ?? 0) === 0 && s.dev === undefined);
  if (isAfUnspec && isZero) return undefined;
  if (s !== undefined) return s;
  const z = `${zeroAddr(familyOf(r.dst))}/0`;
  return { src: z, dst: z };
}

export type StateMsg = 'new' | 'upd' | 'del' | 'expire';

/** __do_xfrm_state_print(): one SA, titled by message type ("Updated ", "Deleted ", "Expired … hard N"). */
export function formatState(r: StateRecord, o: XfrmShowOptions, msg: StateMsg = 'new', isHard = false): string {
  const title = msg === 'upd' ? 'Updated ' : msg === 'del' ? 'Deleted ' : msg === 'expire' ? 'Expired ' : '';
  const buf = '\t';
  let s = idInfo({ src: r.src, dst: r.dst, spi: r.spi, reqid: r.reqid ?? 0, mode: r.mode }, o, true, '', title);
  s += replayWindowLine(r, o, buf);
  s += xfrmaState(r, o, buf, msg === 'expire');
  const sel = stateSelector(r);
  if (sel !== undefined) s += selectorLine(sel, o, `${buf}sel `);
  if (o.statsLevel > 0) {
    s += lifetimeLines(r.limits, r.curlft, buf);
    s += `${buf}stats:\n${buf}  replay-window ${r.stats.replayWindow} replay ${r.stats.replay} failed ${r.stats.integrityFailed}\n`;
  }
  if (msg === 'expire') s += `\thard ${isHard ? 1 : 0}\n`;
  return s;
}

/** xfrm_tmpl_print(); templates without addresses print the zero address of the policy's family. */
function tmplLines(t: TmplSpec, family: 4 | 6, o: XfrmShowOptions, prefix: string): string {
  const f = t.src !== undefined ? familyOf(t.src) : t.dst !== undefined ? familyOf(t.dst) : family;
  const id = { src: t.src ?? zeroAddr(f), dst: t.dst ?? zeroAddr(f), spi: t.spi ?? 0, reqid: t.reqid ?? 0, mode: t.mode };
  let s = prefix + idInfo(id, o, false, prefix, 'tmpl ');
  const isUse = t.level === 'use';
  if (o.statsLevel > 0 || isUse) {
    s += `${prefix}\t${isUse ? 'level use ' : 'level required '}${o.statsLevel > 0 ? 'share any ' : ''}\n`;
  }
  if (o.statsLevel > 0) s += `${prefix}\tenc-mask ffffffff auth-mask ffffffff comp-mask ffffffff\n`;
  return s;
}

export type PolicyMsg = 'new' | 'upd' | 'del';

/** xfrm_policy_print() / xfrm_policy_info_print(); `prefix` and `title` as xfrm_acquire_print passes them. */
export function formatPolicy(r: PolicyRecord, o: XfrmShowOptions, msg: PolicyMsg = 'new', prefix = '', title = ''): string {
  const head = msg === 'upd' ? 'Updated ' : msg === 'del' ? 'Deleted ' : '';
  const buf = `${prefix}\t`;
  const st = o.statsLevel > 0;
  let s = head + selectorLine(r.sel, o, title);
  s += `${buf}dir ${r.dir} `;
  if (r.action === 'block') s += 'action block ';
  else if (st) s += 'action allow ';
  if (st) s += `index ${r.index} `;
  s += `priority ${r.priority} ptype main `;
  if (st) s += 'share any flag  (0x00000000)';
  s += '\n';
  if (st) s += lifetimeLines(r.limits, r.curlft, buf);
  s += markLine(r.mark, undefined);
  const family = familyOf(splitPrefix(r.sel.src).addr);
  for (const t of r.tmpls ?? []) s += tmplLines(t, family, o, buf);
  if (r.ifId !== undefined && r.ifId !== 0) s += `${buf}if_id ${altHex(r.ifId)}\n`;
  return s;
}
