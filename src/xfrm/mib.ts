// The per-namespace xfrm MIB: /proc/net/xfrm_stat as Linux 6.1 prints it.
// Names and order: xfrm_mib_list[] in net/xfrm/xfrm_proc.c, one per
// LINUX_MIB_XFRM* in include/uapi/linux/snmp.h; meanings from
// Documentation/networking/xfrm_proc.rst. Later kernels append to the list
// (XfrmOutStateDirError, XfrmInStateDirError in 6.10; XfrmInIptfsError,
// XfrmOutNoQueueSpace with IP-TFS), so the 6.1 list is a prefix of theirs.
//
// Counters are u32 (a Uint32Array indexed by XfrmStat); the kernel's are
// per-CPU unsigned long folded at read time, so ours wrap at 2^32.

/** The 6.1 counter names, in xfrm_mib_list order. */
export const XFRM_STAT_NAMES = [
  'XfrmInError',
  'XfrmInBufferError',
  'XfrmInHdrError',
  'XfrmInNoStates',
  'XfrmInStateProtoError',
  'XfrmInStateModeError',
  'XfrmInStateSeqError',
  'XfrmInStateExpired',
  'XfrmInStateMismatch',
  'XfrmInStateInvalid',
  'XfrmInTmplMismatch',
  'XfrmInNoPols',
  'XfrmInPolBlock',
  'XfrmInPolError',
  'XfrmOutError',
  'XfrmOutBundleGenError',
  'XfrmOutBundleCheckError',
  'XfrmOutNoStates',
  'XfrmOutStateProtoError',
  'XfrmOutStateModeError',
  'XfrmOutStateSeqError',
  'XfrmOutStateExpired',
  'XfrmOutPolBlock',
  'XfrmOutPolDead',
  'XfrmOutPolError',
  'XfrmFwdHdrError',
  'XfrmOutStateInvalid',
  'XfrmAcquireError',
] as const;
export type XfrmStatName = (typeof XFRM_STAT_NAMES)[number];

/** Dense counter indexes, XFRM_STAT_NAMES order, without the "Xfrm" prefix. */
export const XfrmStat = {
  // ---- inbound ----
  /** LINUX_MIB_XFRMINERROR: all errors which are not matched by others. */
  InError: 0,
  /** LINUX_MIB_XFRMINBUFFERERROR: no buffer is left. */
  InBufferError: 1,
  /** LINUX_MIB_XFRMINHDRERROR: header error. */
  InHdrError: 2,
  /** LINUX_MIB_XFRMINNOSTATES: no state is found, i.e. the inbound SPI, address or IPsec protocol is wrong. */
  InNoStates: 3,
  /** LINUX_MIB_XFRMINSTATEPROTOERROR: transformation protocol specific error, e.g. the SA key is wrong (ICV failure). */
  InStateProtoError: 4,
  /** LINUX_MIB_XFRMINSTATEMODEERROR: transformation mode specific error. */
  InStateModeError: 5,
  /** LINUX_MIB_XFRMINSTATESEQERROR: sequence error, i.e. the sequence number is out of the window (any replay refusal). */
  InStateSeqError: 6,
  /** LINUX_MIB_XFRMINSTATEEXPIRED: the state is expired. */
  InStateExpired: 7,
  /** LINUX_MIB_XFRMINSTATEMISMATCH: the state has a mismatching option, e.g. the UDP encapsulation type. */
  InStateMismatch: 8,
  /** LINUX_MIB_XFRMINSTATEINVALID: the state is invalid. */
  InStateInvalid: 9,
  /** LINUX_MIB_XFRMINTMPLMISMATCH: no matching template for the states, e.g. the inbound SAs are correct but the SP rule is wrong. */
  InTmplMismatch: 10,
  /** LINUX_MIB_XFRMINNOPOLS: no policy is found for the states, e.g. the inbound SAs are correct but no SP is found. */
  InNoPols: 11,
  /** LINUX_MIB_XFRMINPOLBLOCK: policy discards. */
  InPolBlock: 12,
  /** LINUX_MIB_XFRMINPOLERROR: policy error. */
  InPolError: 13,
  // ---- outbound ----
  /** LINUX_MIB_XFRMOUTERROR: all errors which are not matched by others. */
  OutError: 14,
  /** LINUX_MIB_XFRMOUTBUNDLEGENERROR: bundle generation error. */
  OutBundleGenError: 15,
  /** LINUX_MIB_XFRMOUTBUNDLECHECKERROR: bundle check error. */
  OutBundleCheckError: 16,
  /** LINUX_MIB_XFRMOUTNOSTATES: no state is found. */
  OutNoStates: 17,
  /** LINUX_MIB_XFRMOUTSTATEPROTOERROR: transformation protocol specific error. */
  OutStateProtoError: 18,
  /** LINUX_MIB_XFRMOUTSTATEMODEERROR: transformation mode specific error. */
  OutStateModeError: 19,
  /** LINUX_MIB_XFRMOUTSTATESEQERROR: sequence error, i.e. sequence number overflow. */
  OutStateSeqError: 20,
  /** LINUX_MIB_XFRMOUTSTATEEXPIRED: the state is expired. */
  OutStateExpired: 21,
  /** LINUX_MIB_XFRMOUTPOLBLOCK: policy discards. */
  OutPolBlock: 22,
  /** LINUX_MIB_XFRMOUTPOLDEAD: the policy is dead. */
  OutPolDead: 23,
  /** LINUX_MIB_XFRMOUTPOLERROR: policy error. */
  OutPolError: 24,
  // ---- other ----
  /** LINUX_MIB_XFRMFWDHDRERROR: forward routing of a packet is not allowed. */
  FwdHdrError: 25,
  /** LINUX_MIB_XFRMOUTSTATEINVALID: the state is invalid, perhaps expired. */
  OutStateInvalid: 26,
  /** LINUX_MIB_XFRMACQUIREERROR: the state has not been fully acquired before use. */
  AcquireError: 27,
} as const;
export type XfrmStat = (typeof XfrmStat)[keyof typeof XfrmStat];

const COUNT = XFRM_STAT_NAMES.length;

/** One namespace's counters (net->mib.xfrm_statistics). */
export class XfrmMib {
  /** Indexed by XfrmStat; u32, wrapping. Readers may read it directly. */
  readonly counters = new Uint32Array(COUNT);

  /** XFRM_INC_STATS(net, field). i must be an XfrmStat; anything else throws (programmer error). */
  inc(i: number): void {
    if (!(i >= 0 && i < COUNT) || (i | 0) !== i) throw new RangeError(`xfrm stat index ${i}`);
    this.counters[i] = this.counters[i]! + 1;
  }

  /** All counters by name, for the `xfrm.stat` control op. Allocates. */
  snapshot(): Record<XfrmStatName, number> {
    const out = {} as Record<XfrmStatName, number>;
    for (let i = 0; i < COUNT; i++) out[XFRM_STAT_NAMES[i]!] = this.counters[i]!;
    return out;
  }
}

/**
 * Exactly the /proc/net/xfrm_stat text (xfrm_statistics_seq_show): one line per
 * 6.1 name in order, seq_printf("%-24s\t%lu\n") — the name left-justified and
 * space-padded to 24 columns, a tab, the decimal value. A name missing from
 * values prints 0; keys that are not 6.1 names are ignored. A value that is
 * not a non-negative safe integer throws RangeError.
 */
export function formatXfrmStat(values: Readonly<Record<string, number>>): string {
  let out = '';
  for (const name of XFRM_STAT_NAMES) {
    const v = Object.hasOwn(values, name) ? values[name]! : 0;
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name}: ${v} is not an unsigned integer`);
    out += `${name.padEnd(24)}\t${v}\n`;
  }
  return out;
}
