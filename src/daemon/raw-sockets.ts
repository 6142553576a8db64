// The data path's raw IPv4 sockets (raw(7), CAP_NET_RAW): GRE (it also
// sends every outer packet but ESP-in-UDP, IP_HDRINCL), IPIP, SIT (41),
// ESP (50), and ICMP for underlay errors. Optional: a tunkitd without
// CAP_NET_RAW starts without them (warned once) and runs what needs none,
// ESP-in-UDP on the NAT-T socket (io/udp.ts). A request that needs them
// (needs.ts) opens them then, or is refused naming CAP_NET_RAW, before
// anything changed.

import { DATAPATH_BATCH } from '../datapath/datapath.js';
import type { Datapath } from '../datapath/datapath.js';
import { openRaw } from '../io/raw.js';
import type { RawConn } from '../io/raw.js';
import { UNDERLAY_ICMP_TYPES } from '../tunnel/icmp-in.js';
import { IPPROTO_ESP, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_IPV6 } from '../wire/ipproto.js';
import { VpnError } from '../wire/errors.js';
import type { ConfigModel } from '../config/model.js';
import type { PolicySpec } from '../control/xfrm.js';
import { errText } from './log.js';
import type { Log } from './log.js';
import { linkRawNeed, policyNeedsTun, stateRawNeed } from './needs.js';
import type { EncapPorts } from './needs.js';
import { POLICY_DEV } from './xfrm-routes.js';

export class RawSockets {
  private isOpen = false;
  /** Why the latest open failed ('' before any). */
  private why = '';

  constructor(private readonly dp: Datapath, private readonly log: Log) {}

  /** At start: opens them, or (EPERM, EACCES: no CAP_NET_RAW) warns once and goes on without. Other errors throw. */
  start(): void {
    try {
      this.open();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'EACCES') throw e;
      this.log.warn('no_cap_net_raw', { err: this.why,
        effect: 'only ESP-in-UDP on the NAT-T port works; tunnels (ipip, gre, sit) and ESP without encap are refused, underlay ICMP (PMTU) is not read' });
    }
  }

  /** Opens them if they are not yet; throws VpnError EPERM "CAP_NET_RAW needed for WHAT" when they cannot be. */
  require(what: string): void {
    if (this.isOpen) return;
    try {
      this.open();
    } catch (e) {
      throw new VpnError('EPERM', `CAP_NET_RAW needed for ${what}: tunkitd cannot open its raw IP sockets (${this.why})`, undefined, { cause: e });
    }
  }

  /** All five or none: a failure closes what opened. */
  private open(): void {
    const opened: RawConn[] = [];
    // Each conn receives into the data path's arena (beside its GRO staging slab).
    const opts = (): { batchSize: number; rx: ReturnType<Datapath['connRx']> } => ({ batchSize: DATAPATH_BATCH, rx: this.dp.connRx() });
    try {
      for (const proto of [IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_ESP]) opened.push(openRaw(proto, opts()));
      opened.push(openRaw(IPPROTO_ICMP, { ...opts(), icmpTypes: UNDERLAY_ICMP_TYPES }));
    } catch (e) {
      for (const c of opened) c.close();
      this.why = errText(e);
      throw e;
    }
    for (const c of opened) this.dp.addRaw(c);
    this.dp.setTx(opened[0]!);
    this.isOpen = true;
  }
}

/**
 * What this tunkitd can carry, asked before a request or a config file
 * changes anything (needs.ts): what needs the raw sockets opens them or is
 * refused; policy-based IPsec without ipsec0 is refused.
 */
export class Carriage {
  constructor(
    private readonly raws: RawSockets,
    /** The NAT-T socket's port; null when none is held. */
    private readonly natTPort: number | null,
    private readonly hasPolicyTun: boolean,
  ) {}

  state(encap: EncapPorts | null | undefined): void {
    const need = stateRawNeed(encap, this.natTPort);
    if (need !== null) this.raws.require(need);
  }

  link(args: Readonly<Record<string, unknown>>): void {
    const need = linkRawNeed(args);
    if (need !== null) this.raws.require(need);
  }

  policy(spec: PolicySpec): void {
    if (this.hasPolicyTun || !policyNeedsTun(spec)) return;
    throw new VpnError('ENODEV', `policy-based IPsec (if_id 0, tunnel mode) needs ${POLICY_DEV}, which tunkitd could not open: `
      + `pre-create it (ip tuntap add dev ${POLICY_DEV} mode tun user UID vnet_hdr; ip link set ${POLICY_DEV} alias tunkitd up) and restart tunkitd`, 'policy');
  }

  /** A whole config file: the first object it cannot carry, named as the file names it. */
  model(m: ConfigModel, path: string): void {
    const at = (what: string, f: () => void): void => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof VpnError)) throw e;
        throw new VpnError(e.code, `${path}: ${what}: ${e.message}`, e.field, { cause: e });
      }
    };
    for (const l of m.links) at(`link ${JSON.stringify(l.name)}`, () => this.link(l.args));
    m.states.forEach((s, i) => at(`xfrm state #${i + 1}`, () => this.state(s.encap)));
    m.policies.forEach((p, i) => at(`xfrm policy #${i + 1}`, () => this.policy(p)));
  }
}
