// The SPD as kernel-side nf_tables rules, for traffic that never passes
// through tunkit (the kernel's xfrm checks every packet; tunkit sees only
// what is routed into its devices). Pure: SPD + SAD in, rule lists out; the
// daemon (daemon/policy-firewall.ts) installs them in table `inet tunkit`.
//
//   output  (LOCAL_OUT)   xfrm_lookup for locally sent packets:
//   input   (LOCAL_IN)    __xfrm_policy_check(XFRM_POLICY_IN) for delivered ones;
//   forward (FORWARD)     __xfrm_policy_check(XFRM_POLICY_FWD) for forwarded ones.
//
// Each chain, only when its direction has policies or a block default:
//   1. accept what tunkit itself handles: loopback (the kernel's lo has
//      disable_xfrm/disable_policy), and tunkit's policy TUN and xfrm
//      interfaces (it looks those packets up in the SPD itself);
//   2. accept the IPsec traffic itself: ESP with the peers (every SA's and
//      template's addresses) — the kernel does not policy-check an ESP
//      packet itself — and UDP from our port 500/4500 (output) or to it
//      (input, forward): IKE and NAT-T, which an IKE daemon's bypass socket
//      policies exempt in the kernel;
//   3. each if_id-0 policy of the direction, best first (priority, then age,
//      as xfrm_policy_lookup_bytype), its selector and mark as nft matches:
//        block                          → count, drop  (XfrmOutPolBlock / XfrmInPolBlock)
//        allow, no required template    → accept
//        allow, a required template     → count, drop  (out: it did not go through tunkit, so
//                                          it would leave in clear; in: XfrmInTmplMismatch,
//                                          a clear packet the policy says must arrive protected)
//   4. the direction's default: block → count, drop (XfrmOutPolBlock / XfrmInNoPols).
// The counters are nf_tables counter objects (COUNTERS), added to the MIB by
// `tunkit xfrm stat`.
//
// Not expressible (left out, and reported in `skipped`): selectors on GRE
// keys (the key's offset depends on the GRE flags), and port masks without a
// protocol. Xfrm-interface policies (if_id ≠ 0) apply only to what enters
// those devices, which tunkit handles.

import type { NftExpr } from '../wire/nftables.js';
import {
  IFNAMSIZ, NF_ACCEPT, NF_DROP, NFPROTO_IPV4, NFPROTO_IPV6, NFT_META_IIF, NFT_META_IIFNAME, NFT_META_L4PROTO,
  NFT_META_MARK, NFT_META_NFPROTO, NFT_META_OIF, NFT_META_OIFNAME, NFT_PAYLOAD_NETWORK_HEADER, NFT_PAYLOAD_TRANSPORT_HEADER,
} from '../wire/nftables.js';
import { put16, putH32 } from '../wire/bytes.js';
import { IPPROTO_ESP, IPPROTO_UDP } from '../wire/ipproto.js';
import type { Prefix, Selector, XAddr } from './selector.js';
import type { Spd, XfrmPolicy } from './spd.js';
import { XFRM_POLICY_FWD, XFRM_POLICY_IN, XFRM_POLICY_OUT } from './spd.js';
import type { Sad } from './sad.js';
import { better } from './spd-index.js';
import { UDP_PORT_NAT_T } from '../wire/udp.js';

/** Counter objects, each added to the xfrm_stat counter of the same name. */
export const COUNTERS = {
  out_pol_block: 'XfrmOutPolBlock',
  in_pol_block: 'XfrmInPolBlock',
  in_tmpl_mismatch: 'XfrmInTmplMismatch',
  in_no_pols: 'XfrmInNoPols',
} as const;
export type CounterName = keyof typeof COUNTERS;

export type ChainName = 'output' | 'input' | 'forward';

export interface Ruleset {
  readonly output: readonly NftExpr[][];
  readonly input: readonly NftExpr[][];
  readonly forward: readonly NftExpr[][];
  /** Policies left out, with the reason (index and direction identify them). */
  readonly skipped: readonly { readonly policy: XfrmPolicy; readonly reason: string }[];
}

/** IKE's and NAT-T's default ports; the daemon passes charon.port and charon.port_nat_t. */
export const IKE_PORTS: readonly number[] = [500, UDP_PORT_NAT_T];
const IPPROTO_GRE = 47;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const ACCEPT: NftExpr = { kind: 'verdict', code: NF_ACCEPT };
const DROP: NftExpr = { kind: 'verdict', code: NF_DROP };

/** Bytes of a u8. */
const u8 = (v: number): Uint8Array => Uint8Array.of(v & 0xff);
/** A host-order u32 (meta mark, iif/oif as the kernel's register holds them). */
function h32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  putH32(b, 0, v);
  return b;
}
/** A device name as IFNAMSIZ bytes, NUL-padded (meta iifname/oifname load all 16). */
function ifname(name: string): Uint8Array {
  const b = new Uint8Array(IFNAMSIZ);
  b.set(new TextEncoder().encode(name).subarray(0, IFNAMSIZ - 1));
  return b;
}

const meta = (key: number, data: Uint8Array): NftExpr[] => [{ kind: 'meta', key }, { kind: 'cmp', data }];
const nfproto = (family: 4 | 6): NftExpr[] => meta(NFT_META_NFPROTO, u8(family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6));
const l4proto = (p: number): NftExpr[] => meta(NFT_META_L4PROTO, u8(p));

/** An address prefix in the IP header: saddr/daddr, masked to plen. Empty for /0. */
function addrMatch(p: Prefix, isSrc: boolean): NftExpr[] {
  if (p.plen === 0) return [];
  const n = p.family === 4 ? 4 : 16;
  const offset = p.family === 4 ? (isSrc ? 12 : 16) : (isSrc ? 8 : 24);
  const mask = new Uint8Array(n);
  const value = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bits = Math.max(0, Math.min(8, p.plen - 8 * i));
    mask[i] = (0xff << (8 - bits)) & 0xff;
    value[i] = p.bytes[i]! & mask[i]!;
  }
  const out: NftExpr[] = [{ kind: 'payload', base: NFT_PAYLOAD_NETWORK_HEADER, offset, len: n }];
  if (p.plen < 8 * n) out.push({ kind: 'bitwise', mask });
  out.push({ kind: 'cmp', data: value });
  return out;
}

/** A transport field (value under mask) at offset/len of the transport header. Empty for mask 0. */
function fieldMatch(offset: number, len: 1 | 2, value: number, mask: number): NftExpr[] {
  if (mask === 0) return [];
  const m = new Uint8Array(len);
  const v = new Uint8Array(len);
  if (len === 1) { m[0] = mask; v[0] = value & mask; } else { put16(m, 0, mask); put16(v, 0, value & mask); }
  const out: NftExpr[] = [{ kind: 'payload', base: NFT_PAYLOAD_TRANSPORT_HEADER, offset, len }];
  if ((len === 1 ? 0xff : 0xffff) !== mask) out.push({ kind: 'bitwise', mask: m });
  out.push({ kind: 'cmp', data: v });
  return out;
}

/**
 * A selector (and the policy's mark) as matches for one family, or a reason
 * it cannot be expressed. `isOut`: the selector's dev is the output device.
 */
export function selectorMatches(s: Selector, mark: { value: number; mask: number }, family: 4 | 6, isOut: boolean): NftExpr[] | string {
  const out: NftExpr[] = [...nfproto(family), ...addrMatch(s.src, true), ...addrMatch(s.dst, false)];
  if (s.proto !== 0) out.push(...l4proto(s.proto));
  if (s.sportMask !== 0 || s.dportMask !== 0) {
    if (s.proto === 0) return 'ports without a protocol';
    if (s.proto === IPPROTO_GRE) return 'GRE key selectors';
    if (s.proto === IPPROTO_ICMP || s.proto === IPPROTO_ICMPV6) {
      // xfrm_flowi_sport/dport: the ICMP type is the "source port", the code the "destination port".
      out.push(...fieldMatch(0, 1, s.sport, s.sportMask & 0xff), ...fieldMatch(1, 1, s.dport, s.dportMask & 0xff));
    } else {
      out.push(...fieldMatch(0, 2, s.sport, s.sportMask), ...fieldMatch(2, 2, s.dport, s.dportMask));
    }
  }
  if (s.ifindex !== 0) out.push(...meta(isOut ? NFT_META_OIF : NFT_META_IIF, h32(s.ifindex)));
  if (mark.mask !== 0 || mark.value !== 0) {
    out.push({ kind: 'meta', key: NFT_META_MARK }, { kind: 'bitwise', mask: h32(mark.mask) }, { kind: 'cmp', data: h32(mark.value) });
  }
  return out;
}

const DIR_OF: Record<ChainName, number> = { output: XFRM_POLICY_OUT, input: XFRM_POLICY_IN, forward: XFRM_POLICY_FWD };
const DEFAULT_OF: Record<ChainName, 'out' | 'in' | 'fwd'> = { output: 'out', input: 'in', forward: 'fwd' };

/** The peers' addresses: both ends of every SA and of every template. */
function peers(spd: Spd, sad: Sad): XAddr[] {
  const seen = new Map<string, XAddr>();
  const add = (a: XAddr | null): void => { if (a !== null) seen.set(`${a.family}:${a.bytes.subarray(0, a.family === 4 ? 4 : 16).join('.')}`, a); };
  for (const x of sad.list()) { add(x.cfg.src); add(x.cfg.dst); }
  for (const p of spd.list()) for (const t of p.tmpls) { add(t.src); add(t.dst); }
  return [...seen.values()];
}

/**
 * Accept rules for the IPsec traffic itself: ESP with each peer (daddr on
 * output, saddr on the others), then IKE and NAT-T by port — from our ports
 * (`ikePorts`: charon.port and port_nat_t) on output, to them on input/forward — whoever the peer is, as the
 * kernel exempts an IKE daemon's sockets (bypass socket policies) before it
 * knows its peers.
 */
export function peerRules(list: readonly XAddr[], isOut: boolean, ikePorts: readonly number[] = IKE_PORTS): NftExpr[][] {
  const rules: NftExpr[][] = [];
  for (const a of list) {
    const family = a.family === 6 ? 6 : 4;
    rules.push([...nfproto(family), ...addrMatch({ ...a, plen: family === 4 ? 32 : 128 }, !isOut), ...l4proto(IPPROTO_ESP), ACCEPT]);
  }
  for (const port of ikePorts) rules.push([...l4proto(IPPROTO_UDP), ...fieldMatch(isOut ? 0 : 2, 2, port, 0xffff), ACCEPT]);
  return rules;
}

/** What a packet matching p gets on this chain, with its counter (null: accept). */
function verdictOf(p: XfrmPolicy, chain: ChainName): CounterName | null {
  if (p.isBlock) return chain === 'output' ? 'out_pol_block' : 'in_pol_block';
  if (!p.tmpls.some((t) => !t.optional)) return null;
  return chain === 'output' ? 'out_pol_block' : 'in_tmpl_mismatch';
}

/** The rules of one chain; empty when its direction has neither policies nor a block default. */
function chainRules(chain: ChainName, spd: Spd, peerList: readonly XAddr[], exempt: readonly string[],
  skipped: { policy: XfrmPolicy; reason: string }[], ikePorts: readonly number[]): NftExpr[][] {
  const dir = DIR_OF[chain];
  const isOut = chain === 'output';
  const isBlock = spd.defaults[DEFAULT_OF[chain]] === 'block';
  const pols = spd.list().filter((p) => p.dir === dir && p.ifId === 0).sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  if (pols.length === 0 && !isBlock) return [];
  const key = isOut ? NFT_META_OIFNAME : NFT_META_IIFNAME;
  const rules: NftExpr[][] = ['lo', ...exempt].map((d) => [...meta(key, ifname(d)), ACCEPT]);
  rules.push(...peerRules(peerList, isOut, ikePorts));
  for (const p of pols) {
    const v = verdictOf(p, chain);
    const fams: (4 | 6)[] = p.sel.family === 0 ? [4, 6] : [p.sel.family];
    for (const f of fams) {
      const m = selectorMatches(p.sel, p.mark, f, isOut);
      if (typeof m === 'string') {
        if (f === fams[0]) skipped.push({ policy: p, reason: m });
        continue;
      }
      rules.push(v === null ? [...m, ACCEPT] : [...m, { kind: 'counter', name: v }, DROP]);
    }
  }
  if (isBlock) rules.push([{ kind: 'counter', name: isOut ? 'out_pol_block' : 'in_no_pols' }, DROP]);
  return rules;
}

/**
 * The whole ruleset for the SPD's current state. `exempt`: tunkit's own
 * devices whose packets it policy-checks itself (the policy TUN, xfrm interfaces);
 * `ikePorts`: the IKE daemon's UDP ports (charon.port, charon.port_nat_t).
 */
export function buildRuleset(spd: Spd, sad: Sad, exempt: readonly string[], ikePorts: readonly number[] = IKE_PORTS): Ruleset {
  const skipped: { policy: XfrmPolicy; reason: string }[] = [];
  const list = peers(spd, sad);
  return {
    output: chainRules('output', spd, list, exempt, skipped, ikePorts),
    input: chainRules('input', spd, list, exempt, skipped, ikePorts),
    forward: chainRules('forward', spd, list, exempt, skipped, ikePorts),
    skipped,
  };
}
