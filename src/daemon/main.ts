// tunkitd: the tunkit daemon (the "kernel" side). Runs in the foreground,
// one per network namespace; control socket /run/tunkit/<netns>.sock
// (mode 0600) or --socket PATH. SIGTERM/SIGINT remove its devices and exit 0.
//
//   tunkitd [--socket PATH] [--log-level error|warn|info|debug] [--swanctl FILE]
//
// --swanctl FILE loads a swanctl.conf subset for the IKE daemon (ike-shell.ts);
// without it IKE still listens on UDP 500 and `tunkit ike load FILE` loads one.

import { formatTrace } from '../tunnel/trace.js';
import { dropName } from '../wire/drop.js';
import { VpnError } from '../wire/errors.js';
import { defaultSocketPath } from './client.js';
import { Datapath, DATAPATH_BATCH } from '../datapath/datapath.js';
import { openRaw } from '../io/raw.js';
import { UNDERLAY_ICMP_TYPES } from '../tunnel/icmp-in.js';
import { openTun } from '../io/tun-linux.js';
import type { TunLinux } from '../io/tun-linux.js';
import { openUdp } from '../io/udp.js';
import type { RawConn } from '../io/raw.js';
import { IKE_OPS } from '../control/ike.js';
import type { IkeOp } from '../control/ike.js';
import { IKE_PORT } from '../ike/core.js';
import { IkeShell, readSwanctl } from './ike-shell.js';
import { IPPROTO_ESP, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_IPV6 } from '../wire/ipproto.js';
import { LinuxDevices, offloadFromEnv } from './linux-devices.js';
import { Log } from './log.js';
import type { Level } from './log.js';
import { TunkitNode } from './node.js';
import type { Request } from './protocol.js';
import { ControlServer } from './server.js';
import { XfrmControl } from './xfrm-control.js';
import { POLICY_DEV, XfrmRoutes } from './xfrm-routes.js';
import { formatXAddr } from '../xfrm/selector.js';
import { NAT_T_PORT, XfrmStack } from '../xfrm/xfrm.js';
import { XFRM_OPS } from '../xfrm/spec.js';
import type { XfrmOp } from '../xfrm/spec.js';

interface Options { socket: string; level: Level; swanctl: string | null }

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { socket: defaultSocketPath(), level: 'info', swanctl: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--socket' && v !== undefined) { o.socket = v; i++; continue; }
    if (a === '--swanctl' && v !== undefined) { o.swanctl = v; i++; continue; }
    if (a === '--log-level' && (v === 'error' || v === 'warn' || v === 'info' || v === 'debug')) { o.level = v; i++; continue; }
    if (a === '-h' || a === '--help') {
      process.stdout.write('usage: tunkitd [--socket PATH] [--log-level error|warn|info|debug] [--swanctl FILE]\n');
      process.exit(0);
    }
    throw new VpnError('EUSAGE', `tunkitd: bad argument "${a ?? ''}"${a === '--log-level' ? ' (error, warn, info or debug)' : ''}`);
  }
  return o;
}

/** Wires node, datapath and control server together; returns a shutdown function. */
async function start(o: Options, log: Log): Promise<() => Promise<void>> {
  const ikeCfg = o.swanctl !== null ? readSwanctl(o.swanctl) : null; // a bad file stops us before anything is opened
  const clock = (): number => performance.now();
  let server: ControlServer | null = null;
  const devices = new LinuxDevices({ offload: offloadFromEnv(), warn: (m) => log.warn(m) });
  const node = new TunkitNode(devices, (e) => server?.publish(e), clock);
  const xfrm = new XfrmStack();
  let xctl: XfrmControl | null = null;
  let ike: IkeShell | null = null;
  const routes = new XfrmRoutes(xfrm, { warn: (m) => log.warn(m) });
  const dp = new Datapath(node.stack, xfrm, {
    pmtu: (remote, mtu, devs) => {
      log.info(`pmtu ${remote} ${mtu} (${devs.join(', ')})`);
      server?.publish({ type: 'pmtu', remote, mtu, devs });
    },
    xfrmPmtu: (x) => {
      const remote = formatXAddr(x.cfg.dst);
      log.info(`pmtu ${remote} ${x.routeMtu} (esp spi 0x${x.cfg.spi.toString(16).padStart(8, '0')})`);
      server?.publish({ type: 'pmtu', remote, mtu: x.routeMtu, devs: [POLICY_DEV] });
      routes.syncRoutes();
    },
    xfrmEvents: () => setImmediate(() => xctl?.drainEvents()),
    ike: (b, off, len, src, sport, dst) => ike?.receive4500(b, off, len, src, sport, dst),
    log: (m) => log.error(m),
  }, { now: clock, wallNow: Date.now });
  xctl = new XfrmControl(xfrm, {
    ifindex: (n) => devices.ifindex(n),
    publish: (e) => server?.publish(e),
    now: Date.now,
    routeMtu: (dst) => (dst.family === 4 ? devices.route(((dst.bytes[0]! << 24) | (dst.bytes[1]! << 16) | (dst.bytes[2]! << 8) | dst.bytes[3]!) >>> 0).mtu : 1500),
    tablesChanged: () => routes.syncRoutes(),
  });
  const { tun: policyTun, natT } = openSockets(dp, log);
  routes.watch();
  const ctl = xctl;
  ike = new IkeShell({ control: (op, args) => ctl.handle(op, args), log, udp500: openIkeSocket(log), udp4500: natT });
  if (ikeCfg !== null) ike.apply(ikeCfg, o.swanctl!);
  const ctx: Ctx = { node, dp, log, xctl: ctl, ike };
  server = new ControlServer(o.socket, (req) => handle(req, ctx), (s) => log.warn(s));
  await server.listen();
  const srv = server;
  srv.onSubscribe = () => housekeeping(node, srv);
  const timer = setInterval(() => {
    housekeeping(node, srv);
    xfrm.tick(Date.now());
    ctl.drainEvents();
  }, 1000);
  log.info(`listening on ${o.socket}`);
  return async () => {
    clearInterval(timer);
    ike?.close();
    routes.clear();
    dp.stop();
    await policyTun.close();
    node.close();
    await srv.close();
  };
}

/**
 * The data path's sockets and the policy TUN: raw IPv4 for protocols 4, 41,
 * 47, 50 and ICMP (the GRE one also sends every outer packet, IP_HDRINCL),
 * the NAT-T UDP socket on 4500 (ESP-in-UDP, and it holds the port so no ICMP
 * port unreachable goes out), and POLICY_DEV (up, no addresses: routes point
 * into it).
 */
function openSockets(dp: Datapath, log: Log): { tun: TunLinux; natT: RawConn | null } {
  const opts = { batchSize: DATAPATH_BATCH };
  const gre = openRaw(IPPROTO_GRE, opts);
  dp.addRaw(gre);
  dp.setTx(gre);
  for (const proto of [IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_ESP]) dp.addRaw(openRaw(proto, opts));
  dp.addRaw(openRaw(IPPROTO_ICMP, { ...opts, icmpTypes: UNDERLAY_ICMP_TYPES }));
  let natT: RawConn | null = null;
  try {
    natT = openUdp(0, NAT_T_PORT, opts);
    dp.addNatT(natT);
  } catch (e) {
    log.warn(`UDP ${NAT_T_PORT} is taken (${e instanceof Error ? e.message : String(e)}): ESP-in-UDP is not received`);
  }
  const tun = openTun(POLICY_DEV, { batchSize: DATAPATH_BATCH });
  tun.up();
  dp.attachPolicy(POLICY_DEV, tun);
  return { tun, natT };
}

/** UDP 500 for IKE (RFC 7296 §2); null, logged, when the port is taken (another IKE daemon). */
function openIkeSocket(log: Log): RawConn | null {
  try {
    return openUdp(0, IKE_PORT, { batchSize: 16 });
  } catch (e) {
    log.warn(`UDP ${IKE_PORT} is taken (${e instanceof Error ? e.message : String(e)}): IKE is not received on it`);
    return null;
  }
}

interface Ctx { readonly node: TunkitNode; readonly dp: Datapath; readonly log: Log; readonly xctl: XfrmControl; readonly ike: IkeShell }

function handle(req: Request, c: Ctx): unknown {
  const { node, dp, log, xctl } = c;
  const a = req.args;
  if ((IKE_OPS as readonly string[]).includes(req.op)) {
    if (req.op !== 'ike.list-sas') log.info(req.op.replace(/\./g, ' '));
    return c.ike.handle(req.op as IkeOp, a);
  }
  if ((XFRM_OPS as readonly string[]).includes(req.op)) {
    const data = xctl.handle(req.op as XfrmOp, a);
    if (req.op !== 'xfrm.state.list' && req.op !== 'xfrm.state.get' && req.op !== 'xfrm.policy.list' && req.op !== 'xfrm.policy.get' && req.op !== 'xfrm.stat') {
      log.info(req.op.replace(/\./g, ' ')); // never the arguments: they may hold keys
    }
    return data;
  }
  switch (req.op) {
    case 'ping': return 'pong';
    case 'link.add': {
      const rec = node.addLink(a);
      const xl = node.xfrmLinks.get(rec.name);
      if (xl !== undefined) {
        dp.attachXfrmi(xl.name, xl.ifId, xl.stats, xl.dev.tun);
        log.info(`link add ${rec.name} type xfrm if_id ${xl.ifId} mtu ${rec.mtu}`);
        return rec;
      }
      const e = node.entry(rec.name);
      dp.attachTunnel(e.tunnel, e.dev.tun);
      log.info(`link add ${rec.name} type ${rec.kind} local ${rec.local} remote ${rec.remote} mtu ${rec.mtu}`);
      return rec;
    }
    case 'link.del':
      dp.detach(String(a['name']));
      node.delLink(a['name']);
      log.info(`link del ${String(a['name'])}`);
      return null;
    case 'link.set': {
      const rec = node.setLink(a['name'], a);
      dp.mtuChanged(rec.name, rec.mtu);
      return rec;
    }
    case 'link.show': return node.showLinks(a['name'], a['type']);
    case 'stats': return node.stackDrops();
    default: throw new VpnError('EOPNOTSUPP', `unsupported op ${req.op}`);
  }
}

/** Once a second: mirror IFF_UP set with plain `ip link`, refresh routes, drop tracing on demand. */
function housekeeping(node: TunkitNode, srv: ControlServer): void {
  const traceDrops = srv.hasDropSubscribers;
  for (const e of node.all.values()) {
    node.syncUp(e);
    node.applyRoute(e.tunnel);
    e.tunnel.trace = traceDrops ? (dir, dev, drop, fn, counter) => {
      if (drop !== 0) srv.publish({ type: 'drop', dir: dir === 0 ? 'rx' : 'tx', dev, reason: dropName(drop), text: formatTrace(dir, dev, drop, fn, counter) });
    } : null;
  }
  node.stack.trace = traceDrops ? (dir, dev, drop, fn, counter) => {
    srv.publish({ type: 'drop', dir: dir === 0 ? 'rx' : 'tx', dev, reason: dropName(drop), text: formatTrace(dir, dev, drop, fn, counter) });
  } : null;
}

export async function main(argv: readonly string[]): Promise<void> {
  const log = new Log();
  let stop: (() => Promise<void>) | null = null;
  try {
    const o = parseOptions(argv);
    log.setLevel(o.level);
    stop = await start(o, log);
  } catch (e) {
    log.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
    return;
  }
  const shutdown = (sig: string): void => {
    log.info(`${sig}: removing devices and exiting`);
    void stop?.().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
