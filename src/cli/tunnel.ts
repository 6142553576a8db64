// `tunkit tunnel …` (ip tunnel) over the daemon's link operations:
//
//   add     SIOCADDTUNNEL  → link.add with the ioctl's parameters (ipip: mode ipip, sit: mode ip6ip)
//   change  SIOCCHGTUNNEL  → link.change (same kind; device, counters, up state stay)
//   del     SIOCDELTUNNEL  → link.del (not the fallback devices, not gretap/xfrm)
//   show    SIOCGETTUNNEL / the link dump → link.show, formatted by tunnel-show.ts
//
// Failures print as ip's ioctl helpers do (ip/tunnel.c tnl_get_ioctl,
// tnl_add_ioctl, tnl_del_ioctl): `get tunnel "NAME" failed: STRERROR` and
// so on, exit status 1; `change` reports as "add tunnel" just as
// tnl_add_ioctl does. EINVAL adds the daemon's reason, which the kernel has
// no way to give.

import type { Control } from '../daemon/client.js';
import type { LinkRecord } from '../daemon/link-record.js';
import { formatIp4 } from '../wire/addr.js';
import { strerror, VpnError } from '../wire/errors.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_MPLS } from '../wire/ipproto.js';
import { TNL_CSUM, TNL_KEY, TNL_SEQ } from '../tunnel/types.js';
import { UsageError } from './args.js';
import type { GlobalOptions } from './args.js';
import {
  checkAdd, leadingName, parseTunnelCommand, parseTunnelParm, tnlDefname, TunnelError, TUNNEL_USAGE,
} from './tunnel-args.js';
import type { TunnelParm } from './tunnel-args.js';
import { formatTunnel, formatTunnelList, matchTunnel, shownTunnel } from './tunnel-show.js';
import type { ShownTunnel } from './tunnel-show.js';

const FALLBACKS = new Set(['tunl0', 'gre0', 'sit0']);

/** The ioctl helpers' message for a daemon error; other errors (unreachable daemon) pass through. */
function ioctlError(what: 'get' | 'add' | 'delete', name: string, e: unknown, phys = ''): unknown {
  const text = e instanceof VpnError ? strerror(e.code) : undefined;
  if (!(e instanceof VpnError) || text === undefined) return e;
  // ll_name_to_index failing on "dev PHYS" is nodev()'s own message in ip.
  if (phys !== '' && e.code === 'ENODEV' && e.message === `Cannot find device "${phys}"`) return new TunnelError(e.message, 'dev');
  const why = e.code === 'EINVAL' ? ` (${e.message})` : '';
  return new TunnelError(`${what} tunnel "${name}" failed: ${text}${why}`, e.field);
}

async function getRecord(c: Control, name: string): Promise<LinkRecord> {
  const recs = (await c.request('link.show', { name })) as LinkRecord[];
  const r = recs[0];
  if (r === undefined) throw new VpnError('ENODEV', `Device "${name}" does not exist.`, 'dev');
  return r;
}

/** tnl_get_ioctl(): the tunnel NAME as shown, or `get tunnel "NAME" failed: …`. */
async function getShown(c: Control, name: string): Promise<NonNullable<ReturnType<typeof shownTunnel>>> {
  let r: LinkRecord;
  try {
    r = await getRecord(c, name);
  } catch (e) {
    throw ioctlError('get', name, e);
  }
  const t = shownTunnel(r);
  if (t === null) throw new TunnelError(`get tunnel "${name}" failed: ${strerror('EOPNOTSUPP') ?? ''}`, 'name');
  return t;
}

/** tnl_get_ioctl(): the tunnel's parameters. */
async function getTunnel(c: Control, name: string): Promise<TunnelParm> {
  return (await getShown(c, name)).parm;
}

const MODE_OF_PROTO: Readonly<Record<number, string>> = { [IPPROTO_IPIP]: 'ipip', [IPPROTO_MPLS]: 'mplsip', 0: 'any', 41: 'ip6ip' };

/** The link.add / link.change arguments of an ioctl's parameters; ip_tunnel_ctl drops the key of an unkeyed direction. */
export function linkArgs(p: TunnelParm, kind: string): Record<string, unknown> {
  const a: Record<string, unknown> = {
    name: p.name, kind, local: p.local !== 0 ? formatIp4(p.local) : 'any', remote: p.remote !== 0 ? formatIp4(p.remote) : 'any',
    // ip_tunnel_ctl: a non-zero TTL sets DF (ip refuses ttl with nopmtudisc before that).
    ttl: p.ttl, tos: p.tos, pmtudisc: p.df || p.ttl !== 0,
  };
  if (p.link !== '') a['dev'] = p.link;
  if (kind !== 'gre') {
    a['mode'] = MODE_OF_PROTO[p.proto] ?? 'any';
    return a;
  }
  if ((p.iflags & TNL_KEY) !== 0) a['ikey'] = p.ikey;
  if ((p.oflags & TNL_KEY) !== 0) a['okey'] = p.okey;
  return {
    ...a, iseq: (p.iflags & TNL_SEQ) !== 0, oseq: (p.oflags & TNL_SEQ) !== 0,
    icsum: (p.iflags & TNL_CSUM) !== 0, ocsum: (p.oflags & TNL_CSUM) !== 0,
  };
}

const kindOf = (p: TunnelParm): string => (p.proto === IPPROTO_GRE ? 'gre' : p.proto === IPPROTO_IPIP ? 'ipip' : 'sit');

async function add(c: Control, args: readonly string[]): Promise<void> {
  const p = parseTunnelParm(args);
  checkAdd(p);
  if (p.name === '') throw new TunnelError('tunkit needs a NAME for "tunnel add" (no kernel-chosen "gre%d" names)', 'name');
  try {
    await c.request('link.add', linkArgs(p, kindOf(p)));
  } catch (e) {
    throw ioctlError('add', tnlDefname(p) ?? p.name, e, p.link);
  }
}

async function change(c: Control, args: readonly string[]): Promise<void> {
  const first = leadingName(args);
  const p = parseTunnelParm(args, first !== null ? await getTunnel(c, first) : undefined);
  checkAdd(p);
  const name = p.name !== '' ? p.name : tnlDefname(p)!;
  // SIOCCHGTUNNEL on a fallback device finds the tunnel by its parameters, which tunkit does not do.
  if (FALLBACKS.has(name)) throw new TunnelError(`add tunnel "${name}" failed: ${strerror('ENOENT') ?? ''}`, 'name');
  try {
    await c.request('link.change', linkArgs({ ...p, name }, kindOf(p)));
  } catch (e) {
    throw ioctlError('add', name, e, p.link);
  }
}

async function del(c: Control, args: readonly string[]): Promise<void> {
  const p = parseTunnelParm(args);
  const name = p.name !== '' ? p.name : tnlDefname(p);
  if (name === null) throw new TunnelError('delete tunnel "" failed: No such device', 'name');
  const fail = (code: string): TunnelError => new TunnelError(`delete tunnel "${name}" failed: ${strerror(code) ?? code}`, 'name');
  if (FALLBACKS.has(name)) throw fail('EPERM');
  try {
    if (shownTunnel(await getRecord(c, name)) === null) throw fail('EOPNOTSUPP');
    await c.request('link.del', { name });
  } catch (e) {
    throw ioctlError('delete', name, e);
  }
}

/** do_show(): one tunnel by name when the mode is known (from `mode` or the name), else the filtered listing. */
async function show(c: Control, args: readonly string[], o: GlobalOptions): Promise<string> {
  const f = parseTunnelParm(args);
  const basedev = tnlDefname(f);
  if (basedev !== null) {
    const t = await getShown(c, f.name !== '' ? f.name : basedev);
    return `${formatTunnel(t)}\n`; // no json context and no counters on this path, as in ip
  }
  const recs = (await c.request('link.show')) as LinkRecord[];
  return formatTunnelList(recs.map(shownTunnel).filter((t): t is ShownTunnel => t !== null && matchTunnel(f, t.parm)), o);
}

/** Runs `tunkit tunnel ARGS…`; output goes to `w`. Throws UsageError (255), TunnelError (1) or the client's errors. */
export async function runTunnel(args: readonly string[], c: Control, o: GlobalOptions, w: (s: string) => void): Promise<number> {
  const { cmd, rest } = parseTunnelCommand(args);
  switch (cmd) {
    case 'help': throw new UsageError(TUNNEL_USAGE, 'help');
    case 'add': await add(c, rest); return 0;
    case 'change': await change(c, rest); return 0;
    case 'del': await del(c, rest); return 0;
    case 'show': w(await show(c, rest, o)); return 0;
  }
}
