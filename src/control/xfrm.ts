// The xfrm control-plane schema (a leaf: imports nothing): what `tunkit xfrm state|policy ...` sends to
// tunkitd (…Spec) and what tunkitd answers for `list`/`get` (…Record). Plain
// JSON (addresses as text, keys as hex), shared by the CLI (cli/xfrm-*.ts),
// the daemon and the core's validator (xfrm/config.ts), which turns a Spec
// into the parsed form the data path uses and refuses what the kernel's
// xfrm_user.c refuses (verify_newsa_info, verify_newpolicy_info), naming the
// field. Names follow iproute2's `ip xfrm` keywords (ip/xfrm_state.c,
// ip/xfrm_policy.c, ip/ipxfrm.c) and include/uapi/linux/xfrm.h.

/** `sel src ADDR[/PLEN] dst ADDR[/PLEN] [dev DEV] [proto P [sport N] [dport N] | [type T code C]]`. */
export interface SelectorSpec {
  /** "198.51.100.0/24", "2001:db8::/32", "0.0.0.0/0"; a bare address is a host prefix. */
  readonly src: string;
  readonly dst: string;
  /** IP protocol number, 0 = any (ip xfrm prints "proto tcp" etc. by name). */
  readonly proto?: number;
  /** Ports (host order), or for ICMP/ICMPv6 the type in sport and the code in dport (xfrm_selector). */
  readonly sport?: number;
  readonly dport?: number;
  /** Port masks: 0xffff when the port was given, 0 otherwise (iproute2 sets them so). */
  readonly sportMask?: number;
  readonly dportMask?: number;
  /** Interface name the selector is bound to (sel.ifindex), absent = any. */
  readonly dev?: string;
}

/** One algorithm: kernel name (`rfc4106(gcm(aes))`, `cbc(aes)`, `hmac(sha256)`), key as hex (no 0x). */
export interface AlgoSpec {
  readonly name: string;
  readonly keyHex: string;
  /** aead: ICV bits (64/96/128); auth-trunc: truncation bits; absent for enc and plain `auth`. */
  readonly bits?: number;
}

/** `limit ...` (xfrm_lifetime_cfg); absent = infinite (XFRM_INF). Seconds, bytes, packets. */
export interface LimitsSpec {
  readonly timeSoft?: number;
  readonly timeHard?: number;
  readonly timeUseSoft?: number;
  readonly timeUseHard?: number;
  readonly byteSoft?: number;
  readonly byteHard?: number;
  readonly packetSoft?: number;
  readonly packetHard?: number;
}

/** `encap espinudp|espinudp-nonike SPORT DPORT OADDR` (xfrm_encap_tmpl). */
export interface EncapSpec {
  readonly type: 'espinudp' | 'espinudp-nonike';
  readonly sport: number;
  readonly dport: number;
  readonly oa: string;
}

export interface MarkSpec { readonly value: number; readonly mask: number }

/** State flags as `ip xfrm state ... flag` names them (XFRM_STATE_*). */
export const STATE_FLAGS = {
  noecn: 1, 'decap-dscp': 2, nopmtudisc: 4, wildrecv: 8, icmp: 16, 'af-unspec': 32, align4: 64, esn: 128,
} as const;
export type StateFlagName = keyof typeof STATE_FLAGS;

/** `extra-flag` names (XFRM_SA_XFLAG_*). */
export const STATE_XFLAGS = { 'dont-encap-dscp': 1, 'oseq-may-wrap': 2 } as const;
export type StateXflagName = keyof typeof STATE_XFLAGS;

/** `ip xfrm state add|update SRC DST proto esp spi SPI ...`. */
export interface StateSpec {
  readonly src: string;
  readonly dst: string;
  readonly proto: 'esp';
  /** u32, host order. */
  readonly spi: number;
  readonly mode: 'transport' | 'tunnel';
  readonly reqid?: number;
  /** Replay window in packets (legacy ≤ 32 unless esn; esn/bmp up to 4096). 0 = no check. */
  readonly replayWindow?: number;
  readonly flags?: readonly StateFlagName[];
  readonly extraFlags?: readonly StateXflagName[];
  readonly aead?: AlgoSpec;
  readonly enc?: AlgoSpec;
  readonly auth?: AlgoSpec;
  /** True when the auth algorithm came as `auth-trunc` (bits is then the truncation). */
  readonly authTrunc?: boolean;
  readonly encap?: EncapSpec;
  readonly sel?: SelectorSpec;
  readonly limits?: LimitsSpec;
  readonly ifId?: number;
  readonly mark?: MarkSpec;
  readonly outputMark?: MarkSpec;
  readonly tfcpad?: number;
}

/** `ip xfrm state del|get SRC DST proto esp spi SPI`. */
export interface StateId { readonly src?: string; readonly dst: string; readonly proto: 'esp'; readonly spi: number }

/**
 * xfrm.state.migrate: moves the state `id` to new outer addresses (and, for
 * ESP in UDP, new encap ports) as XFRM_MSG_MIGRATE's xfrm_state_migrate
 * does for MOBIKE and NAT-T address changes. Unlike the kernel's clone,
 * the same state moves: its keys, sequence numbers, replay window,
 * counters and lifetimes all stay. iproute2 has no command for it; the IKE
 * daemon sends it when a NATed peer's address or port changes.
 */
export interface StateMigrateSpec {
  readonly id: StateId;
  /** The new outer source and destination (same family). */
  readonly src: string;
  readonly dst: string;
  /** The new encapsulation (the state's own type; oa is kept); absent: the encap stays. Refused on a state without one. */
  readonly encap?: { readonly sport: number; readonly dport: number };
}

/** `tmpl src ADDR dst ADDR proto esp [spi SPI] mode M [reqid R] [level required|use]`. */
export interface TmplSpec {
  /** Tunnel endpoints (required for tunnel mode; absent = any for transport). */
  readonly src?: string;
  readonly dst?: string;
  readonly proto: 'esp';
  readonly spi?: number;
  readonly mode: 'transport' | 'tunnel';
  readonly reqid?: number;
  readonly level?: 'required' | 'use';
}

export type PolicyDir = 'in' | 'out' | 'fwd';

/** `ip xfrm policy add|update SELECTOR dir DIR [index I] [priority P] [action A] [tmpl ...]...`. */
export interface PolicySpec {
  readonly sel: SelectorSpec;
  readonly dir: PolicyDir;
  readonly index?: number;
  /** Lower wins; ties go to the older policy (__xfrm_policy_eval_candidates). Default 0. */
  readonly priority?: number;
  readonly action?: 'allow' | 'block';
  readonly tmpls?: readonly TmplSpec[];
  readonly ifId?: number;
  readonly mark?: MarkSpec;
  readonly limits?: LimitsSpec;
}

/** `ip xfrm policy del|get SELECTOR dir DIR` or `index I dir DIR`. */
export interface PolicyId { readonly sel?: SelectorSpec; readonly dir: PolicyDir; readonly index?: number }

/** `ip xfrm policy setdefault in|fwd|out accept|block`. */
export interface PolicyDefaults { readonly in: 'accept' | 'block'; readonly fwd: 'accept' | 'block'; readonly out: 'accept' | 'block' }

/** Per-SA counters `ip -s xfrm state` prints (xfrm_stats). */
export interface StateStatsRecord { readonly replayWindow: number; readonly replay: number; readonly integrityFailed: number }

/** Current lifetime (xfrm_lifetime_cur): bytes, packets, add/use times in Unix seconds (use 0 = never used). */
export interface CurLifetimeRecord { readonly bytes: number; readonly packets: number; readonly addTime: number; readonly useTime: number }

/** Anti-replay context as `ip xfrm state` prints it (xfrm_replay_state / _esn). */
export interface ReplayRecord {
  /** Highest received sequence number (low 32 bits). */
  readonly seq: number;
  readonly seqHi: number;
  /** Last sent sequence number (low 32 bits). */
  readonly oseq: number;
  readonly oseqHi: number;
  /** Window bitmap as u32 words, word 0 first (1 word for legacy windows). */
  readonly bitmap: readonly number[];
  /** True for the ESN/bmp form (`anti-replay esn context`). */
  readonly isEsn: boolean;
}

/**
 * What `state list|get` returns: the Spec as configured (keys replaced by
 * "" unless the request asked for keys), plus live state.
 */
export interface StateRecord extends StateSpec {
  readonly stats: StateStatsRecord;
  readonly curlft: CurLifetimeRecord;
  readonly replay: ReplayRecord;
  /** km.state: "valid", "expired" (hard limit hit; packets drop) or "dying" (soft limit hit). */
  readonly state: 'valid' | 'dying' | 'expired';
}

export interface PolicyRecord extends PolicySpec {
  readonly index: number;
  readonly priority: number;
  readonly action: 'allow' | 'block';
  readonly curlft: CurLifetimeRecord;
}

/** Events `tunkit xfrm monitor` prints (XFRM_MSG_* in ip/xfrm_monitor.c). */
export type XfrmEvent =
  | { readonly type: 'xfrm.acquire'; readonly policy: PolicyRecord; readonly src: string; readonly dst: string; readonly proto: number }
  | { readonly type: 'xfrm.expire'; readonly hard: boolean; readonly state: StateRecord }
  | { readonly type: 'xfrm.mapping'; readonly dst: string; readonly spi: number; readonly oldSrc: string; readonly oldSport: number; readonly newSrc: string; readonly newSport: number }
  | { readonly type: 'xfrm.newsa' | 'xfrm.delsa' | 'xfrm.updsa'; readonly state: StateRecord }
  | { readonly type: 'xfrm.newpolicy' | 'xfrm.delpolicy' | 'xfrm.updpolicy'; readonly policy: PolicyRecord }
  | { readonly type: 'xfrm.flushsa' | 'xfrm.flushpolicy' };

/**
 * Control ops (daemon/protocol.ts). args → data:
 *   xfrm.state.add / xfrm.state.update   { state: StateSpec }            → StateRecord
 *   xfrm.state.migrate                   StateMigrateSpec                → StateRecord (also published as updsa)
 *   xfrm.state.del                       { id: StateId }                 → null
 *   xfrm.state.get                       { id: StateId, keys?: boolean } → StateRecord
 *   xfrm.state.list                      { keys?: boolean }              → StateRecord[]
 *   xfrm.state.flush                     {}                              → null
 *   xfrm.state.count                     {}                              → { count: number }
 *   xfrm.policy.add / xfrm.policy.update { policy: PolicySpec }          → PolicyRecord
 *   xfrm.policy.del                      { id: PolicyId }                → null
 *   xfrm.policy.get                      { id: PolicyId }                → PolicyRecord
 *   xfrm.policy.list                     {}                              → PolicyRecord[]
 *   xfrm.policy.flush                    {}                              → null
 *   xfrm.policy.setdefault               { defaults: Partial<PolicyDefaults> } → PolicyDefaults
 *   xfrm.policy.getdefault               {}                              → PolicyDefaults
 *   xfrm.stat                            {}                              → Record<XfrmStatName, number> (xfrm/mib.ts)
 */
export const XFRM_OPS = [
  'xfrm.state.add', 'xfrm.state.update', 'xfrm.state.del', 'xfrm.state.get', 'xfrm.state.list',
  'xfrm.state.flush', 'xfrm.state.count', 'xfrm.state.migrate',
  'xfrm.policy.add', 'xfrm.policy.update', 'xfrm.policy.del', 'xfrm.policy.get', 'xfrm.policy.list',
  'xfrm.policy.flush', 'xfrm.policy.setdefault', 'xfrm.policy.getdefault',
  'xfrm.stat',
] as const;
export type XfrmOp = (typeof XFRM_OPS)[number];
