// rtnetlink policy-routing rules: RTM_NEWRULE / RTM_DELRULE bodies (struct
// fib_rule_hdr + FRA_* attributes). Source: include/uapi/linux/fib_rules.h;
// the kernel's fib_nl_newrule / fib_nl2rule (net/core/fib_rules.c).
//
//   struct fib_rule_hdr (12 bytes, after the nlmsghdr)
//   0 family u8 | 1 dst_len u8 | 2 src_len u8 | 3 tos u8 |
//   4 table u8  | 5 res1 u8    | 6 res2 u8    | 7 action u8 (FR_ACT_*) |
//   8 flags u32 (FIB_RULE_*)
//   then FRA_PRIORITY (u32, the rule's preference) and FRA_TABLE (u32).
//
// Only what `ip rule add pref N lookup TABLE` sends is built here.

import { putH32 } from './bytes.js';
import { NLMSG_HDRLEN, emitNlHdr, nlAttrSpace, putNlAttrU32 } from './netlink.js';
import type { NlHdrRepr, NlMsg } from './netlink.js';

export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const FIB_RULE_HDR_LEN = 12;
/** FR_ACT_TO_TBL: look the destination up in FRA_TABLE. */
export const FR_ACT_TO_TBL = 1;
export const FRA_PRIORITY = 6;
export const FRA_TABLE = 15;

export interface RuleRepr {
  /** AF_INET or AF_INET6. */
  readonly family: number;
  /** FR_ACT_*. */
  readonly action: number;
  /** FRA_PRIORITY: the preference (lower is tried first). */
  readonly priority: number;
  /** FRA_TABLE. */
  readonly table: number;
}

export const ruleMsgLen = (): number => NLMSG_HDRLEN + FIB_RULE_HDR_LEN + 2 * nlAttrSpace(4);

/** Writes the whole message (header, fib_rule_hdr, FRA_PRIORITY, FRA_TABLE) into p's bound range. */
export function emitRule(h: NlHdrRepr, r: RuleRepr, p: NlMsg): void {
  const len = ruleMsgLen();
  emitNlHdr(h, len, p);
  const b = p.buffer;
  const o = p.payloadOffset;
  b.fill(0, o, o + FIB_RULE_HDR_LEN);
  b[o] = r.family;
  b[o + 4] = r.table < 256 ? r.table : 0; // RT_TABLE_UNSPEC: the id is in FRA_TABLE
  b[o + 7] = r.action;
  putH32(b, o + 8, 0);
  let at = o + FIB_RULE_HDR_LEN;
  at = putNlAttrU32(b, at, FRA_PRIORITY, r.priority);
  putNlAttrU32(b, at, FRA_TABLE, r.table);
}
