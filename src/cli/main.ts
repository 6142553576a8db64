// `tunkit`: the iproute2-style CLI for tunkitd.
//
//   tunkit [-s[-s]] [-d] [-j [-p]] [--socket PATH] link { add | set | del | show | help } ...
//   tunkit [--socket PATH] [-j] monitor [ all | link | pmtu | drops ]
//   tunkit [--socket PATH] [-j] stats     (drops of packets that reached no device)
//   tunkit [-s] [-j [-p]] [--socket PATH] xfrm { state | policy | monitor | stat } ...   (ip xfrm)
//   tunkit [-j [-p]] [--socket PATH] ike { list-sas | initiate CHILD | terminate NAME | load FILE }   (swanctl)
//
// Exit status as ip(8): 0 ok, 255 a malformed command line (ip's exit(-1)),
// 2 the daemon refused the request (ip's RTNETLINK failure), 1 the daemon
// cannot be reached.

import { defaultSocketPath, monitor, request } from '../daemon/client.js';
import type { LinkRecord } from '../daemon/link-record.js';
import type { MonitorEvent } from '../daemon/protocol.js';
import type { XfrmEvent } from '../xfrm/spec.js';
import { VpnError } from '../wire/errors.js';
import { parseArgs, UsageError, USAGE } from './args.js';
import type { CommandLine } from './args.js';
import { LINK_USAGE, parseLinkArgs } from './link-args.js';
import { formatLinkShow, selectDevices } from './link-show.js';
import type { DeviceInfo, DeviceKind, TunnelMode } from './link-show.js';
import { runIke } from './ike.js';
import { runXfrm } from './xfrm.js';
import { formatXfrmEvent } from './xfrm-show-events.js';

const out = (s: string): void => { if (s !== '') process.stdout.write(s.endsWith('\n') ? s : `${s}\n`); };
const err = (s: string): void => { process.stderr.write(`${s}\n`); };

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

async function link(cl: CommandLine, sock: string): Promise<number> {
  const cmd = parseLinkArgs(cl.args);
  switch (cmd.cmd) {
    case 'help':
      out(LINK_USAGE);
      return 0;
    case 'add': {
      const rec = (await request(sock, 'link.add', { ...cmd.config, ...(cmd.linkDev !== undefined ? { dev: cmd.linkDev } : {}) })) as LinkRecord;
      if (cmd.isUp === true) await request(sock, 'link.set', { name: rec.name, up: true });
      return 0;
    }
    case 'set':
      await request(sock, 'link.set', { name: cmd.name, ...(cmd.isUp !== undefined ? { up: cmd.isUp } : {}), ...(cmd.mtu !== undefined ? { mtu: cmd.mtu } : {}) });
      return 0;
    case 'del':
      await request(sock, 'link.del', { name: cmd.name });
      return 0;
    case 'show': {
      const recs = (await request(sock, 'link.show', { ...(cmd.name !== undefined ? { name: cmd.name } : {}), ...(cmd.kind !== undefined ? { type: cmd.kind } : {}) })) as LinkRecord[];
      out(formatLinkShow(selectDevices(recs.map(toDeviceInfo), cmd), cl.options));
      return 0;
    }
  }
}

/** One line per event, like `ip monitor` (JSON lines with -j). */
export function formatEvent(e: MonitorEvent): string {
  if (e.type.startsWith('xfrm.')) return formatXfrmEvent(e as XfrmEvent, { statsLevel: 0, isKeysShown: false }).replace(/\n$/, '');
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

/** `tunkit stats`: drops of packets that reached no device ("Name count" lines, or JSON with -j). */
async function stats(cl: CommandLine, sock: string): Promise<number> {
  if (cl.args.length > 0) throw new UsageError(`Error: argument "${cl.args[0] ?? ''}" is wrong: stats takes no arguments`, 'stats');
  const drops = (await request(sock, 'stats')) as Record<string, number>;
  if (cl.options.isJson) out(JSON.stringify({ unmatched_drops: drops }, null, cl.options.isPretty ? 2 : undefined));
  else out(Object.entries(drops).map(([k, v]) => `${k} ${v}`).join('\n') || 'no unmatched drops');
  return 0;
}

async function mon(cl: CommandLine, sock: string): Promise<number> {
  const what = cl.args[0] ?? 'all';
  if (!['all', 'link', 'pmtu', 'drops'].includes(what) || cl.args.length > 1) {
    throw new UsageError(`Error: argument "${cl.args.join(' ')}" is wrong: expected all, link, pmtu or drops`, 'monitor');
  }
  const keep = (e: MonitorEvent): boolean =>
    what === 'all' || (what === 'drops' && e.type === 'drop') || (what === 'pmtu' && e.type === 'pmtu') || (what === 'link' && e.type.startsWith('link'));
  await monitor(sock, what === 'all' || what === 'drops', (e) => {
    if (keep(e)) out(cl.options.isJson ? JSON.stringify(e) : formatEvent(e));
  });
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const cl = parseArgs(argv);
    const sock = cl.options.socketPath ?? defaultSocketPath();
    if (cl.object === 'help') {
      out(USAGE);
      return 0;
    }
    if (cl.object === 'stats') return await stats(cl, sock);
    if (cl.object === 'xfrm') return await runXfrm(cl.args, sock, cl.options, out);
    if (cl.object === 'ike') return await runIke(cl.args, sock, cl.options, out);
    return cl.object === 'link' ? await link(cl, sock) : await mon(cl, sock);
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message);
      return 255;
    }
    if (e instanceof VpnError) {
      const unreachable = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES' || e.code === 'ETIMEDOUT';
      err(e.message.startsWith('Error') || unreachable ? e.message : `Error: ${e.message}`);
      return unreachable ? 1 : 2;
    }
    err(`tunkit: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
