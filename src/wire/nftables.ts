// nf_tables over nfnetlink: the messages tunkit's kernel-side policy rules
// need (src/io/nftables.ts sends them). Source: include/uapi/linux/netfilter/
// nf_tables.h, nfnetlink.h; the kernel's nfnetlink_rcv_batch and
// nf_tables_api.c (nf_tables_newtable/newchain/newrule/newobj, getobj).
//
//   datagram = BATCH_BEGIN, message…, BATCH_END: one transaction, applied
//              whole or not at all (nfnetlink_rcv_batch aborts on any error).
//   message  = nlmsghdr (type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*)
//              struct nfgenmsg (4 bytes):
//                0 nfgen_family u8 | 1 version u8 (0) | 2 res_id be16
//              then NFTA_* attributes. Unlike rtnetlink, nf_tables' integer
//              attributes are BIG-endian (NLA_BE32/BE64); nested ones carry
//              NLA_F_NESTED, as libnftnl sends them.
//   rule     = NFTA_RULE_EXPRESSIONS: a list of NFTA_LIST_ELEM, each
//              { NFTA_EXPR_NAME "meta"|"cmp"|…, NFTA_EXPR_DATA { … } }.
//              Registers: NFT_REG_1 (16 bytes) carries each loaded value to
//              the cmp after it; NFT_REG_VERDICT the rule's verdict.
//
// Emitting into a buffer that is too short is a programmer error (RangeError);
// parseCounter never throws.

import { be32, put32 } from './bytes.js';
import { NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN, NlAttrs, NLM_F_ACK, NLM_F_REQUEST, nlAlign, utf8 } from './netlink.js';
import type { NlMsg } from './netlink.js';
import { putH16, putH32 } from './bytes.js';

export const NETLINK_NETFILTER = 12;
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;
export const NFT_MSG_NEWTABLE = 0;
export const NFT_MSG_DELTABLE = 2;
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_NEWRULE = 6;
export const NFT_MSG_DELRULE = 8;
export const NFT_MSG_NEWOBJ = 18;
export const NFT_MSG_GETOBJ = 19;
/** nlmsg_type of an nf_tables message. */
export const nftType = (msg: number): number => (NFNL_SUBSYS_NFTABLES << 8) | msg;

export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;
/** Netfilter hooks (enum nf_inet_hooks). */
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NFT_OBJECT_COUNTER = 1;
export const NFT_REG_VERDICT = 0;
export const NFT_REG_1 = 1;
export const NFT_CMP_EQ = 0;
/** enum nft_meta_keys (the ones used here). */
export const NFT_META_MARK = 3;
export const NFT_META_IIF = 4;
export const NFT_META_OIF = 5;
export const NFT_META_IIFNAME = 6;
export const NFT_META_OIFNAME = 7;
export const NFT_META_NFPROTO = 15;
export const NFT_META_L4PROTO = 16;
export const NFT_PAYLOAD_NETWORK_HEADER = 1;
export const NFT_PAYLOAD_TRANSPORT_HEADER = 2;
export const IFNAMSIZ = 16;

// Attribute numbers (enum nft_*_attributes).
const NFTA_TABLE_NAME = 1;
const NFTA_CHAIN_TABLE = 1;
const NFTA_CHAIN_NAME = 3;
const NFTA_CHAIN_HOOK = 4;
const NFTA_CHAIN_POLICY = 5;
const NFTA_CHAIN_TYPE = 7;
const NFTA_HOOK_HOOKNUM = 1;
const NFTA_HOOK_PRIORITY = 2;
const NFTA_RULE_TABLE = 1;
const NFTA_RULE_CHAIN = 2;
const NFTA_RULE_EXPRESSIONS = 4;
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;
const NFTA_OBJ_TABLE = 1;
const NFTA_OBJ_NAME = 2;
const NFTA_OBJ_TYPE = 3;
const NFTA_OBJ_DATA = 4;
const NFTA_COUNTER_PACKETS = 2;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;

/** One expression of a rule, as `nft --debug=netlink` lists them. */
export type NftExpr =
  | { readonly kind: 'meta'; readonly key: number }
  | { readonly kind: 'payload'; readonly base: number; readonly offset: number; readonly len: number }
  | { readonly kind: 'bitwise'; readonly mask: Uint8Array }
  | { readonly kind: 'cmp'; readonly data: Uint8Array }
  | { readonly kind: 'counter'; readonly name: string }
  | { readonly kind: 'verdict'; readonly code: number };

/** A base chain: its hook, priority and default policy (always accept here). */
export interface NftChain { readonly name: string; readonly hook: number; readonly priority: number }

/**
 * Writes netlink messages with nested attributes into one buffer. Every
 * value is padded to 4 bytes; nest() returns the offset end() completes.
 */
export class NlWriter {
  private o = 0;
  private msgStart = -1;

  constructor(readonly buf: Uint8Array) {}

  get length(): number { return this.o; }

  /** Starts a message with its nfgenmsg: flags NLM_F_REQUEST | extra. */
  begin(type: number, extra: number, seq: number, family: number, resId = 0): void {
    this.need(NLMSG_HDRLEN + 4);
    this.msgStart = this.o;
    this.buf.fill(0, this.o, this.o + NLMSG_HDRLEN + 4);
    putH16(this.buf, this.o + 4, type);
    putH16(this.buf, this.o + 6, NLM_F_REQUEST | extra);
    putH32(this.buf, this.o + 8, seq);
    this.buf[this.o + NLMSG_HDRLEN] = family;
    this.buf[this.o + NLMSG_HDRLEN + 2] = resId >>> 8;
    this.buf[this.o + NLMSG_HDRLEN + 3] = resId & 0xff;
    this.o += NLMSG_HDRLEN + 4;
  }

  /** Completes the message begun last (nlmsg_len). */
  finish(): void {
    putH32(this.buf, this.msgStart, this.o - this.msgStart);
  }

  bytes(type: number, v: Uint8Array): void {
    const space = nlAlign(NLA_HDRLEN + v.length);
    this.need(space);
    putH16(this.buf, this.o, NLA_HDRLEN + v.length);
    putH16(this.buf, this.o + 2, type);
    this.buf.set(v, this.o + NLA_HDRLEN);
    this.buf.fill(0, this.o + NLA_HDRLEN + v.length, this.o + space);
    this.o += space;
  }

  /** A NUL-terminated string (NLA_NUL_STRING; isNul false: NLA_STRING without the NUL, as libnftnl sends some). */
  str(type: number, s: string, isNul = true): void {
    const u = utf8(s);
    const v = new Uint8Array(u.length + (isNul ? 1 : 0));
    v.set(u);
    this.bytes(type, v);
  }

  be32(type: number, v: number): void {
    const b = new Uint8Array(4);
    put32(b, 0, v);
    this.bytes(type, b);
  }

  nest(type: number): number {
    const at = this.o;
    this.need(NLA_HDRLEN);
    putH16(this.buf, at + 2, type | NLA_F_NESTED);
    this.o += NLA_HDRLEN;
    return at;
  }

  end(at: number): void { putH16(this.buf, at, this.o - at); }

  private need(n: number): void {
    if (this.o + n > this.buf.length) throw new RangeError(`nf_tables batch exceeds ${this.buf.length} bytes`);
  }
}

/** BATCH_BEGIN or BATCH_END (AF_UNSPEC, res_id = the nf_tables subsystem). */
export function emitBatchMark(w: NlWriter, isEnd: boolean, seq: number): void {
  w.begin(isEnd ? NFNL_MSG_BATCH_END : NFNL_MSG_BATCH_BEGIN, 0, seq, 0, NFNL_SUBSYS_NFTABLES);
  w.finish();
}

/** `nft add table inet NAME` (no NLM_F_EXCL: an existing table is kept). */
export function emitNewTable(w: NlWriter, seq: number, table: string): void {
  w.begin(nftType(NFT_MSG_NEWTABLE), NLM_F_ACK | 0x400 /* NLM_F_CREATE */, seq, NFPROTO_INET);
  w.str(NFTA_TABLE_NAME, table);
  w.finish();
}

/** `nft delete table inet NAME`: the table, its chains, rules and objects. */
export function emitDelTable(w: NlWriter, seq: number, table: string): void {
  w.begin(nftType(NFT_MSG_DELTABLE), NLM_F_ACK, seq, NFPROTO_INET);
  w.str(NFTA_TABLE_NAME, table);
  w.finish();
}

/** `nft add chain inet T C { type filter hook H priority P; policy accept; }` (kept if it exists). */
export function emitNewChain(w: NlWriter, seq: number, table: string, c: NftChain): void {
  w.begin(nftType(NFT_MSG_NEWCHAIN), NLM_F_ACK | 0x400, seq, NFPROTO_INET);
  w.str(NFTA_CHAIN_TABLE, table);
  w.str(NFTA_CHAIN_NAME, c.name);
  const h = w.nest(NFTA_CHAIN_HOOK);
  w.be32(NFTA_HOOK_HOOKNUM, c.hook);
  w.be32(NFTA_HOOK_PRIORITY, c.priority >>> 0);
  w.end(h);
  w.be32(NFTA_CHAIN_POLICY, NF_ACCEPT);
  w.str(NFTA_CHAIN_TYPE, 'filter');
  w.finish();
}

/** `nft flush chain inet T C`: DELRULE naming only the chain deletes all its rules. */
export function emitFlushChain(w: NlWriter, seq: number, table: string, chain: string): void {
  w.begin(nftType(NFT_MSG_DELRULE), NLM_F_ACK, seq, NFPROTO_INET);
  w.str(NFTA_RULE_TABLE, table);
  w.str(NFTA_RULE_CHAIN, chain);
  w.finish();
}

/** `nft add counter inet T NAME` (kept, with its value, if it exists). */
export function emitNewCounter(w: NlWriter, seq: number, table: string, name: string): void {
  w.begin(nftType(NFT_MSG_NEWOBJ), NLM_F_ACK | 0x400, seq, NFPROTO_INET);
  w.str(NFTA_OBJ_TABLE, table);
  w.str(NFTA_OBJ_NAME, name);
  w.be32(NFTA_OBJ_TYPE, NFT_OBJECT_COUNTER);
  w.end(w.nest(NFTA_OBJ_DATA));
  w.finish();
}

/** `nft list counter inet T NAME`: answered by one NEWOBJ message (parseCounter). */
export function emitGetCounter(w: NlWriter, seq: number, table: string, name: string): void {
  w.begin(nftType(NFT_MSG_GETOBJ), NLM_F_ACK, seq, NFPROTO_INET);
  w.str(NFTA_OBJ_TABLE, table);
  w.str(NFTA_OBJ_NAME, name);
  w.be32(NFTA_OBJ_TYPE, NFT_OBJECT_COUNTER);
  w.finish();
}

/** `nft add rule inet T C …` (appended). */
export function emitNewRule(w: NlWriter, seq: number, table: string, chain: string, exprs: readonly NftExpr[]): void {
  w.begin(nftType(NFT_MSG_NEWRULE), NLM_F_ACK | 0x400 | 0x800 /* CREATE | APPEND */, seq, NFPROTO_INET);
  w.str(NFTA_RULE_TABLE, table);
  w.str(NFTA_RULE_CHAIN, chain);
  const list = w.nest(NFTA_RULE_EXPRESSIONS);
  for (const e of exprs) emitExpr(w, e);
  w.end(list);
  w.finish();
}

function emitExpr(w: NlWriter, e: NftExpr): void {
  const el = w.nest(NFTA_LIST_ELEM);
  w.str(NFTA_EXPR_NAME, e.kind === 'verdict' ? 'immediate' : e.kind === 'counter' ? 'objref' : e.kind);
  const d = w.nest(NFTA_EXPR_DATA);
  switch (e.kind) {
    case 'meta': // NFTA_META_KEY 2, NFTA_META_DREG 1 (libnftnl's order)
      w.be32(2, e.key);
      w.be32(1, NFT_REG_1);
      break;
    case 'payload': // NFTA_PAYLOAD_DREG 1, BASE 2, OFFSET 3, LEN 4
      w.be32(1, NFT_REG_1);
      w.be32(2, e.base);
      w.be32(3, e.offset);
      w.be32(4, e.len);
      break;
    case 'bitwise': { // NFTA_BITWISE_SREG 1, DREG 2, LEN 3, MASK 4, XOR 5: reg = (reg & mask) ^ xor
      w.be32(1, NFT_REG_1);
      w.be32(2, NFT_REG_1);
      w.be32(3, e.mask.length);
      data(w, 4, e.mask);
      data(w, 5, new Uint8Array(e.mask.length));
      break;
    }
    case 'cmp': // NFTA_CMP_SREG 1, OP 2, DATA 3
      w.be32(1, NFT_REG_1);
      w.be32(2, NFT_CMP_EQ);
      data(w, 3, e.data);
      break;
    case 'counter': // NFTA_OBJREF_IMM_TYPE 1, NFTA_OBJREF_IMM_NAME 2
      w.be32(1, NFT_OBJECT_COUNTER);
      w.str(2, e.name, false);
      break;
    case 'verdict': { // NFTA_IMMEDIATE_DREG 1, NFTA_IMMEDIATE_DATA 2 { NFTA_DATA_VERDICT { NFTA_VERDICT_CODE } }
      w.be32(1, NFT_REG_VERDICT);
      const imm = w.nest(2);
      const v = w.nest(NFTA_DATA_VERDICT);
      w.be32(NFTA_VERDICT_CODE, e.code);
      w.end(v);
      w.end(imm);
      break;
    }
  }
  w.end(d);
  w.end(el);
}

/** A nested NFTA_DATA_VALUE (struct nft_data). */
function data(w: NlWriter, type: number, v: Uint8Array): void {
  const n = w.nest(type);
  w.bytes(NFTA_DATA_VALUE, v);
  w.end(n);
}

/**
 * The packet count of a counter object from a NEWOBJ reply (payload after
 * nfgenmsg: NFTA_OBJ_DATA { NFTA_COUNTER_PACKETS be64 }); null if absent or
 * malformed. Counts above 2^53 lose precision (a JS number).
 */
export function parseCounter(m: NlMsg): number | null {
  if (m.payloadLen < 4) return null;
  const a = new NlAttrs();
  a.wrap(m.buffer, m.payloadOffset + 4, m.payloadLen - 4);
  while (a.next()) {
    if (a.type !== NFTA_OBJ_DATA) continue;
    const inner = new NlAttrs();
    inner.wrap(a.buffer, a.valueOffset, a.valueLen);
    while (inner.next()) {
      if (inner.type !== NFTA_COUNTER_PACKETS || inner.valueLen !== 8) continue;
      const b = inner.buffer;
      const o = inner.valueOffset;
      return be32(b, o) * 2 ** 32 + be32(b, o + 4);
    }
  }
  return null;
}
