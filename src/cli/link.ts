// `tunkit link …` and `tunkit monitor` / `tunkit stats`: the parsed command
// (link-args.ts) sent to tunkitd, the answer printed as `ip link` would
// (link-show.ts), monitor events one line each as `ip monitor` prints them.

import type { Control } from '../daemon/client.js';
import { monitor } from '../daemon/client.js';
import type { LinkRecord } from '../daemon/link-record.js';
import type { MonitorEvent } from '../daemon/protocol.js';
import { RemoteError } from '../wire/errors.js';
import type { XfrmEvent } from '../xfrm/spec.js';
import { StatusError, UsageError } from './args.js';
import type { CommandLine } from './args.js';
import { LINK_USAGE, parseLinkArgs } from './link-args.js';
import { snakeKeys } from './format.js';
import { formatLinkShow, selectDevices } from './link-show.js';
import type { DeviceInfo, DeviceKind, TunnelMode } from './link-show.js';
import { formatXfrmEvent } from './xfrm-show-events.js';
import { formatIkeEvent, isIkeEvent } from './ike-show.js';

/** Where output goes: one chunk of text (a newline is added when it lacks one). */
export type Writer = (s: string) => void;

/** LinkRecord (daemon JSON) → DeviceInfo (what link-show formats). */
export function toDeviceInfo(r: LinkRecord): DeviceInfo {
  return {
    ifindex: r.ifindex, name: r.name, kind: r.kind as DeviceKind, mtu: r.mtu, isUp: r.isUp, hasCarrier: true,
    ...(r.mac !== null ? { mac: r.mac } : {}),
    params: {
      local: r.local, remote: r.remote, ttl: r.ttl, tos: r.tos, pmtudisc: r.pmtudisc, ignoreDf: r.ignoreDf,
      hasIkey: r.ikey !== null, hasOkey: r.okey !== null, ikey: r.ikey ?? 0, okey: r.okey ?? 0,
      iseq: r.iseq, oseq: r.oseq, icsum: r.icsum, ocsum: r.ocsum,
      ...(r.mode !== null ? { mode: r.mode as TunnelMode } : {}),
      ...(r.link !== null ? { link: r.link } : {}),
    },
    stats: r.stats, drops: r.drops,
    ...(r.ifId !== undefined ? { ifId: r.ifId } : {}),
    ...(r.addrGenMode !== undefined ? { addrGenMode: r.addrGenMode } : {}),
    ...(r.minMtu !== undefined ? { minMtu: r.minMtu } : {}),
    ...(r.maxMtu !== undefined ? { maxMtu: r.maxMtu } : {}),
  };
}

/**
 * A request about device `name`; the daemon's ENODEV becomes ip's own
 * message and status: iplink_modify's nodev() prints `Cannot find device
 * "NAME"` (set, del) and ipaddr_list_flush_or_save prints `Device "NAME"
 * does not exist.` (show); both `return -1`, so ip exits 1.
 */
async function named(name: string | undefined, req: () => Promise<unknown>, isShow = false): Promise<unknown> {
  try {
    return await req();
  } catch (e) {
    if (!(e instanceof RemoteError) || e.code !== 'ENODEV' || name === undefined) throw e;
    throw new StatusError(isShow ? `Device "${name}" does not exist.` : `Cannot find device "${name}"`, 'dev', 1);
  }
}

/** `tunkit link ARGS…`. */
export async function runLink(cl: CommandLine, c: Control, out: Writer): Promise<number> {
  const cmd = parseLinkArgs(cl.args);
  switch (cmd.cmd) {
    case 'help':
      out(LINK_USAGE);
      return 0;
    case 'add': {
      const rec = (await c.request('link.add', { ...cmd.config, ...(cmd.linkDev !== undefined ? { dev: cmd.linkDev } : {}) })) as LinkRecord;
      if (cmd.isUp === true) await c.request('link.set', { name: rec.name, up: true });
      return 0;
    }
    case 'set':
      await named(cmd.name, () => c.request('link.set', { name: cmd.name, ...(cmd.isUp !== undefined ? { up: cmd.isUp } : {}), ...(cmd.mtu !== undefined ? { mtu: cmd.mtu } : {}) }));
      return 0;
    case 'del':
      await named(cmd.name, () => c.request('link.del', { name: cmd.name }));
      return 0;
    case 'show': {
      const recs = (await named(cmd.name, () => c.request('link.show', { ...(cmd.name !== undefined ? { name: cmd.name } : {}), ...(cmd.kind !== undefined ? { type: cmd.kind } : {}) }), true)) as LinkRecord[];
      out(formatLinkShow(selectDevices(recs.map(toDeviceInfo), cmd), cl.options));
      return 0;
    }
  }
}

/** One line per event, like `ip monitor` (JSON lines with -j). */
export function formatEvent(e: MonitorEvent): string {
  if (e.type.startsWith('xfrm.')) return formatXfrmEvent(e as XfrmEvent, { statsLevel: 0, isKeysShown: false }).replace(/\n$/, '');
  if (isIkeEvent(e)) return formatIkeEvent(e);
  switch (e.type) {
    case 'link.add': return `link add ${e.dev}${e.kind !== undefined ? ` type ${e.kind}` : ''}`;
    case 'link.del': case 'link.up': case 'link.down': return `${e.type.replace('.', ' ')} ${e.dev}`;
    case 'link.mtu': return `link ${e.dev} mtu ${e.mtu}`;
    case 'pmtu': return `pmtu ${e.remote} mtu ${e.mtu} dev ${e.devs.join(',')}`;
    case 'drop': return `drop ${e.text}`;
    case 'icmp.error': return `icmp ${e.dev} ${e.text}`;
    default: return JSON.stringify(e);
  }
}

/** The `stats` names of what the NAT-T port received that is not ESP, and their -j keys. */
const NAT_T_KEYS: Readonly<Record<string, string>> = { NatTKeepalive: 'keepalives', NatTIke: 'ike' };

/**
 * `tunkit stats`: packets that reached no device — drops by reason, and the
 * NAT-T keepalives and IKE messages the UDP 4500 socket took ("Name count"
 * lines; -j: {unmatched_drops: {…}, nat_t: {keepalives, ike}}).
 */
export async function runStats(cl: CommandLine, c: Control, out: Writer): Promise<number> {
  if (cl.args.length > 0) throw new UsageError(`Error: argument "${cl.args[0] ?? ''}" is wrong: stats takes no arguments`, 'stats');
  const all = (await c.request('stats')) as Record<string, number>;
  if (cl.options.isJson) {
    const drops: Record<string, number> = {};
    const natT: Record<string, number> = { keepalives: 0, ike: 0 };
    for (const [k, v] of Object.entries(all)) {
      const n = NAT_T_KEYS[k];
      if (n !== undefined) natT[n] = v;
      else drops[k] = v;
    }
    out(JSON.stringify({ unmatched_drops: drops, nat_t: natT }, null, cl.options.isPretty ? 2 : undefined));
  } else {
    out(Object.entries(all).map(([k, v]) => `${k} ${v}`).join('\n') || 'no unmatched drops');
  }
  return 0;
}

/** One `monitor -j` line: xfrm events with `-j xfrm`'s snake_case keys (format.ts snakeKeys), link events as they are. */
export const monitorJson = (e: MonitorEvent): string => JSON.stringify(e.type.startsWith('xfrm.') ? snakeKeys(e) : e);

/** The words `tunkit monitor` takes (cli/grammar.ts reads them too). */
export const MONITOR_WORDS: readonly string[] = ['all', 'link', 'pmtu', 'drops', 'ike'];

/** `tunkit monitor [all | link | pmtu | drops | ike]`: events until the daemon goes away (its own connection). */
export async function runMonitor(cl: CommandLine, c: Control, out: Writer): Promise<number> {
  const what = cl.args[0] ?? 'all';
  if (!MONITOR_WORDS.includes(what) || cl.args.length > 1) {
    throw new UsageError(`Error: argument "${cl.args.join(' ')}" is wrong: expected all, link, pmtu, drops or ike`, 'monitor');
  }
  const keep = (e: MonitorEvent): boolean =>
    what === 'all' || (what === 'drops' && e.type === 'drop') || (what === 'pmtu' && e.type === 'pmtu') || (what === 'link' && e.type.startsWith('link')) || (what === 'ike' && isIkeEvent(e));
  await monitor(c.path, what === 'all' || what === 'drops', (e) => {
    if (keep(e)) out(cl.options.isJson ? monitorJson(e) : formatEvent(e));
  });
  return 0;
}
