// xfrm interfaces (net/xfrm/xfrm_interface.c): route-based IPsec. A device
// `type xfrm if_id N` is a TUN whose packets are looked up in the SPD with
// if_id N (xfrmi_xmit → xfrm_lookup_with_ifid) and encrypted with states of
// if_id N; what states of if_id N decrypt is delivered on it (xfrmi_rcv_cb).
// The user routes into it with plain `ip route`.
//
// Validation mirrors xfrmi_newlink / xfrmi_change_mtu: if_id non-zero and
// not taken by another xfrm interface (EEXIST), MTU 68..65535 (ETH_MIN_MTU ..
// IP_MAX_MTU), default ETH_DATA_LEN 1500.

import { ConfigError, VpnError } from '../wire/errors.js';
import { LinkStats } from '../tunnel/stats.js';
import { checkXfrmIfId, checkXfrmiMtu, XFRMI_DEFAULT_MTU, XFRMI_MAX_MTU, XFRMI_MIN_MTU } from '../xfrm/xfrmi.js';
import type { Device, DeviceFactory } from './devices.js';
import type { LinkRecord } from './link-record.js';


export interface XfrmLink {
  readonly name: string;
  readonly ifId: number;
  readonly dev: Device;
  readonly linkName: string | null;
  readonly stats: LinkStats;
  mtu: number;
  /** Was ever up: addrconf_dev_config switches an ARPHRD_NONE device to addrgenmode random. */
  hasBeenUp: boolean;
  /** IFF_UP as last set or seen while the device existed: what reopen() restores. */
  isUp: boolean;
}

const KEYS = new Set(['name', 'kind', 'ifId', 'mtu', 'dev']);

export class XfrmLinks {
  private readonly links = new Map<string, XfrmLink>();

  constructor(private readonly devices: DeviceFactory) {}

  get all(): ReadonlyMap<string, XfrmLink> { return this.links; }

  get(name: string): XfrmLink | undefined { return this.links.get(name); }

  /** The interface carrying if_id, if any (xfrmi_lookup). */
  byIfId(ifId: number): XfrmLink | undefined {
    for (const l of this.links.values()) if (l.ifId === ifId) return l;
    return undefined;
  }

  /** `link add NAME type xfrm if_id N [dev PHYS] [mtu M]`; `exists` says whether the name is taken elsewhere. */
  add(args: Record<string, unknown>, exists: (name: string) => boolean): XfrmLink {
    for (const k of Object.keys(args)) if (!KEYS.has(k)) throw new ConfigError(k, 'unknown parameter for type xfrm');
    const name = args['name'];
    if (typeof name !== 'string' || !/^[^/\s]{1,15}$/.test(name)) throw new ConfigError('name', `"${String(name)}" must be 1 to 15 bytes`);
    if (this.links.has(name) || exists(name)) throw new VpnError('EEXIST', `device "${name}" already exists`, 'name');
    const ifId = checkXfrmIfId(args['ifId']);
    if (this.byIfId(ifId) !== undefined) throw new VpnError('EEXIST', `File exists: an xfrm interface with if_id ${ifId} exists`, 'if_id');
    const mtu = args['mtu'] ?? XFRMI_DEFAULT_MTU;
    checkXfrmiMtu(mtu);
    let linkName: string | null = null;
    if (args['dev'] !== undefined) {
      if (typeof args['dev'] !== 'string' || this.devices.ifindex(args['dev']) === null) throw new VpnError('ENODEV', `Cannot find device "${String(args['dev'])}"`, 'dev');
      linkName = args['dev'];
    }
    const dev = this.devices.create(name, false, mtu as number, false, true); // TSO/GRO as the policy TUN
    const l: XfrmLink = { name, ifId, dev, linkName, stats: new LinkStats(), mtu: mtu as number, hasBeenUp: false, isUp: false };
    this.links.set(name, l);
    return l;
  }

  /** Forgets the link and deletes its device; `keepDevice`: lets go of it instead (daemon stop, fail closed). */
  del(name: string, keepDevice = false): XfrmLink | null {
    const l = this.links.get(name);
    if (l === undefined) return null;
    this.links.delete(name);
    if (keepDevice) l.dev.close();
    else l.dev.remove();
    return l;
  }

  /** `link set NAME [up|down] [mtu N]`, validated before anything changes. */
  set(l: XfrmLink, args: Record<string, unknown>): void {
    const up = args['up'];
    const mtu = args['mtu'];
    if (up !== undefined && typeof up !== 'boolean') throw new ConfigError('up', 'must be true or false');
    if (mtu !== undefined) checkXfrmiMtu(mtu);
    if (typeof mtu === 'number' && mtu !== l.mtu) {
      l.dev.setMtu(mtu);
      l.mtu = mtu;
    }
    if (typeof up === 'boolean') {
      l.dev.setUp(up);
      l.isUp = up;
    }
  }

  /**
   * Link `name`'s device vanished behind our back (`ip link del`: its reads
   * fail with EBADFD): a new device of the same name and MTU (and tunkit's
   * alias, persist.ts), up if it was; if_id, counters and the link record
   * stay. The new device is bare: its addresses and routes are put back by
   * the caller (device-gone.ts, from LinkMemory). Null when the link itself is gone; throws when the
   * device cannot be made.
   */
  reopen(name: string): XfrmLink | null {
    const l = this.links.get(name);
    if (l === undefined) return null;
    l.dev.close();
    const dev = this.devices.create(name, false, l.mtu, false, true);
    const fresh: XfrmLink = { ...l, dev };
    this.links.set(name, fresh);
    if (l.isUp) dev.setUp(true);
    return fresh;
  }

  record(l: XfrmLink): LinkRecord {
    const isUp = l.dev.isUp();
    if (isUp) l.hasBeenUp = true;
    if (isUp || this.devices.ifindex(l.name) !== null) l.isUp = isUp; // not while the device is gone (reopen restores it)
    return {
      ifindex: l.dev.ifindex, name: l.name, kind: 'xfrm', mtu: l.mtu, isUp, mac: null, link: l.linkName,
      local: 'any', remote: 'any', ttl: 0, tos: 0, pmtudisc: false, ignoreDf: false, ikey: null, okey: null,
      iseq: false, oseq: false, icsum: false, ocsum: false, mode: null, pmtu: 0,
      stats: l.stats.snapshot(), drops: {}, ifId: l.ifId, addrGenMode: l.hasBeenUp ? 'random' : 'eui64',
      minMtu: XFRMI_MIN_MTU, maxMtu: XFRMI_MAX_MTU,
    };
  }

  /** Lets go of every device (daemon stop): they stay, failing closed. */
  close(): void {
    for (const name of [...this.links.keys()]) this.del(name, true);
  }
}
