// A small synchronous nf_tables client over the addon's NETLINK_NETFILTER
// socket (native/netlink.c) and the codec in wire/nftables.ts: no `nft`
// binary at run time. It owns one table, `inet tunkit`:
//
//   apply(ruleset)  one batch (one transaction: all or nothing):
//                     add table, add the counter objects (kept with their
//                     counts), add the three base chains, flush them, add
//                     every rule. The old rules are replaced atomically, so
//                     there is no instant without them.
//   remove()        delete table (chains, rules, counters).
//   counters()      each counter object's packet count (0 when the table is absent).
//
// Each request message carries NLM_F_ACK; the exchange ends when every one
// is acknowledged or at the first error (NetlinkError with the kernel's
// errno and extack text). A reply that never comes: ETIMEDOUT after
// REPLY_TIMEOUT_MS. Replies of an earlier exchange (another seq) are skipped.

import { NLMSG_ERROR, NlMsg, parseNlErr } from '../wire/netlink.js';
import {
  emitBatchMark, emitFlushChain, emitGetCounter, emitNewChain, emitNewCounter, emitNewRule, emitNewTable, emitDelTable,
  NETLINK_NETFILTER, NF_INET_FORWARD, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NFT_MSG_NEWOBJ, nftType, NlWriter, parseCounter,
} from '../wire/nftables.js';
import type { NftChain, NftExpr } from '../wire/nftables.js';
import { native } from './native.js';
import { NetlinkError, REPLY_TIMEOUT_MS } from './netlink.js';
import { getSystemErrorName } from 'node:util';

export const NFT_TABLE = 'tunkit';
/** The base chains, at the filter priority (0), policy accept. */
export const NFT_CHAINS: readonly NftChain[] = [
  { name: 'output', hook: NF_INET_LOCAL_OUT, priority: 0 },
  { name: 'input', hook: NF_INET_LOCAL_IN, priority: 0 },
  { name: 'forward', hook: NF_INET_FORWARD, priority: 0 },
];

/** A rule set by chain name (output, input, forward). */
export type NftRules = Readonly<Record<string, readonly (readonly NftExpr[])[]>>;

const RX_BYTES = 64 * 1024;

export class NfTables {
  private readonly rx = new Uint8Array(RX_BYTES);
  private readonly m = new NlMsg();
  private seq = Math.floor(Date.now() / 1000) >>> 0;
  private closed = false;

  private constructor(private readonly fd: number, private readonly portId: number) {}

  /** Opens a NETLINK_NETFILTER socket. Throws the errno as the addon does. */
  static open(): NfTables {
    const s = native().nlOpen(0, NETLINK_NETFILTER);
    return new NfTables(s.fd, s.portId);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().closeFd(this.fd);
  }

  /** Replaces the table's counters, chains and rules with `rules` in one transaction. */
  apply(rules: NftRules, counters: readonly string[]): void {
    let n = 0;
    for (const c of NFT_CHAINS) n += (rules[c.name] ?? []).length;
    const w = new NlWriter(new Uint8Array(8192 + 1024 * n));
    const first = this.seq + 1;
    emitBatchMark(w, false, this.next());
    emitNewTable(w, this.next(), NFT_TABLE);
    for (const name of counters) emitNewCounter(w, this.next(), NFT_TABLE, name);
    for (const c of NFT_CHAINS) emitNewChain(w, this.next(), NFT_TABLE, c);
    for (const c of NFT_CHAINS) emitFlushChain(w, this.next(), NFT_TABLE, c.name);
    for (const c of NFT_CHAINS) for (const r of rules[c.name] ?? []) emitNewRule(w, this.next(), NFT_TABLE, c.name, r);
    const last = this.seq;
    emitBatchMark(w, true, this.next());
    this.exchange(w, first + 1, last, 'nf_tables batch', () => undefined, first);
  }

  /** Deletes the table and everything in it; absent already is fine (false). */
  remove(): boolean {
    const w = new NlWriter(new Uint8Array(256));
    const begin = this.next();
    emitBatchMark(w, false, begin);
    const seq = this.next();
    emitDelTable(w, seq, NFT_TABLE);
    emitBatchMark(w, true, this.next());
    try {
      this.exchange(w, seq, seq, 'delete table', () => undefined, begin);
      return true;
    } catch (e) {
      if (!(e instanceof NetlinkError && e.code === 'ENOENT')) throw e;
      return false;
    }
  }

  /** Packet counts of the named counter objects; a missing table or object reads 0. */
  counters(names: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of names) {
      const w = new NlWriter(new Uint8Array(256));
      const seq = this.next();
      emitGetCounter(w, seq, NFT_TABLE, name);
      out[name] = 0;
      try {
        this.exchange(w, seq, seq, `get counter ${name}`, (m) => {
          if (m.type === nftType(NFT_MSG_NEWOBJ)) out[name] = parseCounter(m) ?? 0;
        });
      } catch (e) {
        if (!(e instanceof NetlinkError && e.code === 'ENOENT')) throw e;
      }
    }
    return out;
  }

  private next(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  /**
   * Sends w's datagram and reads until every request of seq first..last is
   * acknowledged, or an error. `beginSeq`: the batch's NFNL_MSG_BATCH_BEGIN,
   * which is acknowledged only when the whole batch is refused (nfnetlink_rcv
   * acks it with -EPERM without CAP_NET_ADMIN): that error is ours too.
   */
  private exchange(w: NlWriter, first: number, last: number, what: string, onReply: (m: NlMsg) => void, beginSeq = -1): void {
    if (this.closed) throw new NetlinkError('EBADF', 'nf_tables socket is closed', 9, null);
    native().nlSend(this.fd, w.buf, w.length);
    let waiting = ((last - first) >>> 0) + 1;
    const deadline = performance.now() + REPLY_TIMEOUT_MS;
    while (waiting > 0) {
      const n = native().nlRecv(this.fd, this.rx, Math.max(0, Math.ceil(deadline - performance.now())));
      if (n === 0) throw new NetlinkError('ETIMEDOUT', `${what}: no answer from the kernel within ${REPLY_TIMEOUT_MS} ms`, 0, null);
      if (n < 0) throw new NetlinkError('EMSGSIZE', `${what}: a ${-n}-byte reply exceeds the receive buffer`, 0, null);
      const m = this.m;
      for (let o = 0; o < n && m.wrap(this.rx, o, n - o); o = m.nextOffset) {
        const isBegin = m.seq === beginSeq;
        if (m.pid !== this.portId || (!isBegin && ((m.seq - first) >>> 0) > ((last - first) >>> 0))) continue; // not ours, or stale
        if (m.type !== NLMSG_ERROR) { onReply(m); continue; }
        const e = parseNlErr(m);
        if (e === null) throw new NetlinkError('EPROTO', `${what}: malformed NLMSG_ERROR`, 0, null);
        if (e.error !== 0) {
          const code = errnoName(-e.error);
          throw new NetlinkError(code, `${what}: ${code}${e.msg !== null ? `: ${e.msg}` : ''}`, -e.error, e.msg);
        }
        if (!isBegin) waiting--;
      }
    }
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}
