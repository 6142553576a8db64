// The SPD enforced on traffic that never passes through tunkit: the rules
// of xfrm/enforce.ts kept in the kernel's nf_tables as table `inet tunkit`
// (io/nftables.ts, netlink; no `nft` binary). Like the kernel's xfrm, and
// unlike routes into a TUN, the rules see every packet the host sends,
// receives or forwards: `policy setdefault out block` drops what no policy
// allows, an `in` policy's clear-text packets are dropped and counted
// (XfrmInTmplMismatch), a block policy drops even what is never routed into
// tunkit. The table is not tied to the process, so it keeps enforcing while
// tunkitd is dead or restarting; stop() removes it.
//
//   schedule()  after any SPD/SAD/default change: one apply per loop turn
//               (setImmediate), however many changes a config file made.
//   tick()      once a second: re-applies after a failure, or when tunkit's
//               own devices (the exempt list) changed.
//   counts()    the counter objects by xfrm_stat name (for `xfrm stat`),
//               including counts of tables removed earlier.

import { Coalescer } from './coalesce.js';
import type { LogFn } from './log.js';
import { NfTables } from '../io/nftables.js';
import type { NftRules } from '../io/nftables.js';
import { buildRuleset, COUNTERS, IKE_PORTS } from '../xfrm/enforce.js';
import type { XfrmStack } from '../xfrm/xfrm.js';

const NAMES = Object.keys(COUNTERS) as (keyof typeof COUNTERS)[];

export class PolicyFirewall {
  private nft: NfTables | null = null;
  private readonly coalesced = new Coalescer(() => this.rebuild());
  /** The table may hold rules: true at first, so that a start with nothing to enforce removes a dead daemon's table. */
  private isInstalled = true;
  private lastKey = '';
  private lastErr = '';
  private isStale = false;
  private readonly carried: Record<string, number> = {};
  private readonly warnedMark = new Set<string>();
  private readonly warnedSkip = new Set<string>();

  /**
   * The IKE daemon's UDP ports (charon.port, charon.port_nat_t as bound), let
   * through whoever the peer is; the daemon sets them once its sockets are
   * open, before any policy is added.
   */
  ikePorts: readonly number[] = IKE_PORTS;

  /** exempt: tunkit's devices whose traffic it policy-checks itself (the policy TUN, xfrm interfaces). */
  constructor(private readonly xfrm: XfrmStack, private readonly exempt: () => string[], private readonly warn: LogFn,
    private readonly info: LogFn) {}

  /** Syncs soon after an SPD/SAD change, coalesced (coalesce.ts): a rebuild replaces the whole ruleset and waits for the kernel's commit. */
  schedule(): void { this.coalesced.schedule(); }

  tick(): void {
    if (this.isStale || this.exempt().join(' ') !== this.lastKey) this.sync();
  }

  /** Builds and applies the ruleset now; removes the table when nothing is to be enforced. */
  sync(): void { this.coalesced.run(); }

  private rebuild(): void {
    const exempt = this.exempt();
    this.lastKey = exempt.join(' ');
    const rs = buildRuleset(this.xfrm.spd, this.xfrm.sad, exempt, this.ikePorts);
    this.note(rs.skipped);
    const isEmpty = rs.output.length === 0 && rs.input.length === 0 && rs.forward.length === 0;
    const ok = this.op(isEmpty ? 'delete table inet tunkit' : 'apply table inet tunkit', (nft) => {
      if (!isEmpty) {
        nft.apply({ output: rs.output, input: rs.input, forward: rs.forward } satisfies NftRules, NAMES);
        this.isInstalled = true;
      } else if (this.isInstalled) {
        this.carry(nft);
        nft.remove();
        this.isInstalled = false;
      }
    });
    this.isStale = !ok;
  }

  /** xfrm_stat name → packets dropped by the rules. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of NAMES) out[COUNTERS[n]] = this.carried[n] ?? 0;
    if (!this.isInstalled) return out;
    this.op('read counters', (nft) => {
      const c = nft.counters(NAMES);
      for (const n of NAMES) out[COUNTERS[n]] = (out[COUNTERS[n]] ?? 0) + (c[n] ?? 0);
    });
    return out;
  }

  /** Removes the table (policies gone for good: teardown) and closes the socket. */
  stop(): void {
    this.coalesced.stop();
    this.op('delete table inet tunkit', (nft) => nft.remove());
    this.isInstalled = false;
    this.nft?.close();
    this.nft = null;
  }

  /** Lets go of the table (daemon stop or failed start): its rules keep failing closed until the next start replaces them. */
  detach(): void {
    this.coalesced.stop();
    this.nft?.close();
    this.nft = null;
  }

  private carry(nft: NfTables): void {
    const c = nft.counters(NAMES);
    for (const n of NAMES) this.carried[n] = (this.carried[n] ?? 0) + (c[n] ?? 0);
  }

  /** Logs, once each, the policies the rules cannot express and the mark-scoped ones. */
  private note(skipped: readonly { policy: { dir: number; index: number }; reason: string }[]): void {
    for (const s of skipped) {
      const k = `${s.policy.dir}:${s.policy.index}:${s.reason}`;
      if (this.warnedSkip.has(k)) continue;
      this.warnedSkip.add(k);
      this.warn('policy_firewall_skipped', { index: s.policy.index, reason: `${s.reason} cannot be matched by nf_tables; only traffic through tunkit is checked` });
    }
    for (const p of this.xfrm.spd.list()) {
      const k = `${p.dir}:${p.index}`;
      if (!p.isMarkScoped || this.warnedMark.has(k)) continue;
      this.warnedMark.add(k);
      this.info('policy_mark_scoped', {
        index: p.index, mark: `0x${p.mark.value.toString(16)}/0x${p.mark.mask.toString(16)}`,
        note: 'matched by the nf_tables rules (meta mark); never by packets tunkit reads from its devices, which carry mark 0',
      });
    }
  }

  /** Runs one operation; false on failure, logged once per distinct error text. */
  private op(what: string, fn: (nft: NfTables) => void): boolean {
    try {
      this.nft ??= NfTables.open();
      fn(this.nft);
      this.lastErr = '';
      return true;
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      const isPerm = (e as { code?: string }).code === 'EPERM' || /\bEPERM\b/.test(err);
      if (isPerm && this.lastErr === 'EPERM') return false; // no CAP_NET_ADMIN: said once
      if (isPerm) this.warn('policy_firewall', { op: what, err, effect: 'needs CAP_NET_ADMIN: the nf_tables policy firewall is unavailable' });
      else if (err !== this.lastErr) this.warn('policy_firewall', { op: what, err });
      this.lastErr = isPerm ? 'EPERM' : err;
      return false;
    }
  }
}
