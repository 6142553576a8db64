// tunkitd: the tunkit daemon (the "kernel" side). Runs in the foreground,
// one per network namespace; control socket /run/tunkit/<netns>.sock
// (mode 0600) or --socket PATH. It fails closed (persist.ts): its devices
// are persistent, so SIGTERM/SIGINT (exit 0), a crash (an uncaught
// exception: logged, exit 1) or kill -9 leave them, their routes and the
// policy blackholes in place, dropping what nobody reads; the next start
// adopts them. `tunkit link del` and `tunkitd --teardown` remove them.
// Under systemd (Type=notify) it reports READY/STATUS/STOPPING and feeds the
// watchdog (service.ts); --metrics-listen serves Prometheus metrics.
// With --config FILE it starts with what the file declares (checked whole
// first: a bad file and it exits 1 having made nothing of it); SIGHUP and
// `tunkit reload` re-read the file and apply the difference (config-file.ts).
//
//   tunkitd [--socket PATH] [--config FILE] [--swanctl FILE] [--strongswan-conf FILE] [--log-level error|warn|info|debug] [--metrics-listen ADDR:PORT]
//           [--user USER[:GROUP]] [--control-group GROUP]
//   tunkitd --teardown [--socket PATH]   (no tunkitd running: remove every device and route it left)
//   tunkitd -V | --version
//
// --swanctl FILE loads a swanctl.conf subset for the IKE daemon (ike-shell.ts);
// without it IKE still listens on charon.port (UDP 500) and `tunkit ike load FILE` loads one.
// --strongswan-conf FILE reads charon's keep_alive, retransmit_*,
// cookie_threshold*, port and port_nat_t from a strongswan.conf (ike/charon.ts;
// the ports are bound by ike-sockets.ts).
// --user USER[:GROUP]: once everything is open, drop to USER keeping only
// CAP_NET_ADMIN and CAP_NET_RAW (privs.ts); an unknown user exits 1 at start.
// --control-group GROUP: the socket is 0660 with GROUP, whose members may run
// read-only requests without keys (peer-auth.ts); an unknown group exits 1.

import { resolve } from 'node:path';
import type { Plan } from '../config/diff.js';
import { formatTrace } from '../tunnel/trace.js';
import { dropName } from '../wire/drop.js';
import { VpnError } from '../wire/errors.js';
import { defaultSocketPath } from './client.js';
import { ConfigFile, reloadPath } from './config-file.js';
import { Datapath, DATAPATH_BATCH } from '../datapath/datapath.js';
import type { TunLinux } from '../io/tun-linux.js';
import { openUdp } from '../io/udp.js';
import type { UdpConn } from '../io/udp.js';
import type { PooledBatch } from '../io/pool.js';
import type { ConfigModel } from '../config/model.js';
import { IKE_OPS } from '../control/ike.js';
import type { IkeOp } from '../control/ike.js';
import { CHARON_DEFAULTS } from '../ike/charon.js';
import { IkeShell, readSwanctl } from './ike-shell.js';
import { boundCharon, natTBindPort, openIkeSocket } from './ike-sockets.js';
import { readCharonFile } from './swanctl-files.js';
import { LinuxDevices, offloadFromEnv } from './linux-devices.js';
import { sweepStale, teardown } from './persist.js';
import { openPolicyTun, reopenGone } from './device-gone.js';
import { LinkMemory } from './link-memory.js';
import type { GoneCtx } from './device-gone.js';
import { freeSocketPath, isListening } from './socket-file.js';
import { errText, Log } from './log.js';
import type { Level } from './log.js';
import { parseListen } from './metrics.js';
import type { ListenAddr } from './metrics.js';
import { notifier } from './notify.js';
import { DAEMON_OPTIONS, DAEMON_USAGE, LOG_LEVELS } from './options.js';
import { dropTo, resolveGroup, resolveUser, warnNoNetAdmin } from './privs.js';
import type { RunAs } from './privs.js';
import { startService } from './service.js';
import type { Service } from './service.js';
import { TunkitNode } from './node.js';
import type { LinkRecord } from './link-record.js';
import { Carriage, RawSockets } from './raw-sockets.js';
import { tunkitVersion } from './version.js';
import type { ReloadResult, Request } from './protocol.js';
import { ControlServer } from './server.js';
import { XfrmControl } from './xfrm-control.js';
import { POLICY_DEV, XfrmRoutes } from './xfrm-routes.js';
import { PolicyFirewall } from './policy-firewall.js';
import { formatXAddr } from '../xfrm/selector.js';
import { XfrmStack } from '../xfrm/xfrm.js';
import type { XfrmState } from '../xfrm/state.js';
import { XFRM_OPS } from '../xfrm/spec.js';
import type { XfrmOp } from '../xfrm/spec.js';

interface Options {
  socket: string; level: Level; metricsListen: ListenAddr | null; config: string | null; swanctl: string | null; strongswanConf: string | null;
  user: string | null; controlGroup: string | null; isTeardown: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    socket: defaultSocketPath(), level: 'info', metricsListen: null, config: null, swanctl: null, strongswanConf: null, user: null,
    controlGroup: null, isTeardown: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const opt = DAEMON_OPTIONS.find((d) => d.name === a);
    if (opt?.arg !== undefined && v !== undefined && (opt.values === undefined || opt.values.includes(v))) {
      i++;
      if (opt.name === '--socket') o.socket = v;
      else if (opt.name === '--config') o.config = resolve(v);
      else if (opt.name === '--swanctl') o.swanctl = v;
      else if (opt.name === '--strongswan-conf') o.strongswanConf = v;
      else if (opt.name === '--user') o.user = v;
      else if (opt.name === '--control-group') o.controlGroup = v;
      else if (opt.name === '--log-level') o.level = LOG_LEVELS.find((l) => l === v) ?? o.level;
      else if (opt.name === '--metrics-listen') o.metricsListen = parseListen(v);
      continue;
    }
    if (a === '--teardown') {
      o.isTeardown = true;
      continue;
    }
    if (a === '-h' || a === '--help') {
      process.stdout.write(DAEMON_USAGE);
      process.exit(0);
    }
    if (a === '-V' || a === '--version') {
      process.stdout.write(`tunkitd utility, tunkit-${tunkitVersion()}\n`);
      process.exit(0);
    }
    throw new VpnError('EUSAGE', `tunkitd: bad argument "${a ?? ''}"${a === '--log-level' ? ' (error, warn, info or debug)' : ''}`);
  }
  return o;
}

/** What start() hands main: the service hooks, shutdown, and a reload for SIGHUP. */
interface Running { readonly svc: Service; readonly stop: () => Promise<void>; readonly reload: () => void }

/** Wires node, datapath and control server together; applies --config before the socket opens. */
async function start(o: Options, log: Log): Promise<Running> {
  const ikeCfg = o.swanctl !== null ? readSwanctl(o.swanctl) : null; // a bad file stops us before anything is opened
  const charonConf = o.strongswanConf !== null ? readCharonFile(o.strongswanConf) : CHARON_DEFAULTS; // so does a bad strongswan.conf
  const runAs: RunAs | null = o.user !== null ? resolveUser(o.user) : null; // so does an unknown user
  const readGroup = o.controlGroup !== null ? resolveGroup(o.controlGroup) : null; // and an unknown group
  await freeSocketPath(o.socket); // and a tunkitd already serving it, before anything of its is touched
  const clock = (): number => performance.now();
  let server: ControlServer | null = null;
  const devices = new LinuxDevices({ offload: offloadFromEnv(), warn: (e, f) => log.warn(e, f) });
  const node = new TunkitNode(devices, (e) => server?.publish(e), clock);
  const xfrm = new XfrmStack();
  let xctl: XfrmControl | null = null;
  let ike: IkeShell | null = null;
  let gone: GoneCtx | null = null;
  let carry: Carriage | null = null; // once the sockets are open: what needs raw sockets or ipsec0 is checked
  const routes = new XfrmRoutes(xfrm, { warn: (e, f) => log.warn(e, f) });
  /** An SA's path MTU changed: lowered by esp4_err, or back up when the learnt value expired (xfrm.tick). */
  const xfrmPmtu = (x: XfrmState): void => {
    const remote = formatXAddr(x.cfg.dst);
    log.info('pmtu', { remote, mtu: x.routeMtu, spi: `0x${x.cfg.spi.toString(16).padStart(8, '0')}` });
    server?.publish({ type: 'pmtu', remote, mtu: x.routeMtu, devs: [POLICY_DEV] });
    routes.syncRoutes();
  };
  const firewall = new PolicyFirewall(xfrm, () => [POLICY_DEV, ...node.xfrmLinks.all.keys()], (e, f) => log.warn(e, f), (e, f) => log.info(e, f));
  const dp = new Datapath(node.stack, xfrm, {
    pmtu: (remote, mtu, devs) => {
      log.info('pmtu', { remote, mtu, devs: devs.join(',') });
      server?.publish({ type: 'pmtu', remote, mtu, devs });
    },
    xfrmPmtu: (x) => xfrmPmtu(x),
    xfrmEvents: () => setImmediate(() => xctl?.drainEvents()),
    ike: (b, off, len, src, sport, dst) => ike?.receiveNatT(b, off, len, src, sport, dst),
    log: (m, isRecovery) => (isRecovery === true ? log.info('datapath_recovered', { msg: m }) : log.error('datapath_fault', { err: m })),
    deviceGone: (name) => setImmediate(() => { if (gone !== null) reopenGone(gone, name); }),
  }, { now: clock, wallNow: Date.now });
  xctl = new XfrmControl(xfrm, {
    ifindex: (n) => devices.ifindex(n),
    publish: (e) => { server?.publish(e); ike?.xfrmEvent(e); }, // IKE hears acquires, mappings and expires as `xfrm monitor` does
    now: Date.now,
    routeMtu: (dst) => (dst.family === 4 ? devices.route(((dst.bytes[0]! << 24) | (dst.bytes[1]! << 16) | (dst.bytes[2]! << 8) | dst.bytes[3]!) >>> 0).mtu : 1500),
    tablesChanged: () => routes.schedule(),
    spdChanged: () => firewall.schedule(),
    extraStats: () => firewall.counts(),
    checkState: (cfg) => carry?.state(cfg.encap),
    checkPolicy: (spec) => carry?.policy(spec),
  });
  const svc = await startService({ node, xfrm, dp, log }, o.metricsListen);
  warnNoNetAdmin(log);
  const natTPort = natTBindPort(charonConf, log);
  const { tun: policyTun, natT, raws } = openSockets(dp, log, natTPort);
  const ikeConn = openIkeSocket(log, charonConf.port, natT?.port ?? null);
  const charon = boundCharon(charonConf, ikeConn, natT, natTPort); // a random port (0) as bound
  xfrm.natTPort = charon.portNatT;
  firewall.ikePorts = [charon.port, charon.portNatT];
  if (charon.port !== 500 || charon.portNatT !== 4500) log.info('ike_ports', { port: charon.port, port_nat_t: charon.portNatT });
  carry = new Carriage(raws, natT?.port ?? null, policyTun !== null);
  const can = carry;
  const memory = new LinkMemory(() => linkIndexes(node), (e, f) => log.warn(e, f));
  const goneCtx: GoneCtx = { node, dp, log, routes, memory, policyTun };
  gone = goneCtx;
  routes.watch();
  memory.watch();
  const ctl = xctl;
  ike = new IkeShell({ control: (op, args) => ctl.handle(op, args), log, ikeConn, natTConn: natT, charon, publish: (e) => server?.publish(e) });
  if (ikeCfg !== null) ike.apply(ikeCfg, o.swanctl!);
  let ctx: Ctx | null = null;
  const cfg = new ConfigFile({
    node, xctl: ctl, devices, handle: (req) => handle(req, ctx!), info: (m) => log.action('config_step', { step: m }),
    check: (m: ConfigModel, path: string) => can.model(m, path),
  });
  ctx = { node, dp, log, xctl: ctl, cfg, configPath: o.config, ike, carry: can };
  const c = ctx;
  if (o.config !== null) {
    try {
      logPlan(log, o.config, cfg.apply(o.config, false));
      sweep(log, node, routes);
    } catch (e) {
      // main exits 1, leaving what was made or adopted to fail closed until the next start
      ike.close();
      routes.detach();
      memory.stop();
      firewall.detach();
      dp.stop();
      await goneCtx.policyTun?.close();
      node.close();
      cfg.close();
      throw e;
    }
  }
  server = new ControlServer(o.socket, (req) => handle(req, c), (s) => log.warn('control_client', { err: s }), { readGroup });
  await server.listen();
  const srv = server;
  srv.onSubscribe = () => housekeeping(node, srv);
  srv.onCapture = (dev, side, sink) => {
    const c = dp.capture(dev, side, sink);
    if (c !== null) log.info('capture', { dev, side });
    return c;
  };
  log.info('listening', { socket: o.socket });
  if (runAs !== null) dropTo(runAs, o.socket, log, readGroup); // throws: main exits 1
  svc.ready();
  injectCrash(log);
  const timer = setInterval(() => {
    housekeeping(node, srv);
    for (const x of xfrm.tick(Date.now())) xfrmPmtu(x);
    ctl.drainEvents();
    firewall.tick();
    memory.tick();
    svc.tick();
  }, 1000);
  return { svc, stop: async () => {
    clearInterval(timer);
    await svc.close();
    ike?.close();
    routes.detach();
    memory.stop();
    firewall.detach();
    dp.stop();
    await goneCtx.policyTun?.close();
    node.close();
    cfg.close();
    await srv.close();
  }, reload: () => sighup(c) };
}

/** tunkit's link devices (tunnels, xfrm interfaces) by name: their ifindexes now (LinkMemory). */
function linkIndexes(node: TunkitNode): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, e] of node.all) out.set(name, e.dev.ifindex);
  for (const [name, l] of node.xfrmLinks.all) out.set(name, l.dev.ifindex);
  return out;
}

/**
 * SIGHUP (systemctl reload): re-read the config file, between RELOADING=1
 * and READY=1 for systemd; a refused file changes nothing and is logged.
 */
function sighup(c: Ctx): void {
  if (c.configPath === null) {
    c.log.warn('config_reload', { trigger: 'SIGHUP', err: 'no config file to re-read (start tunkitd with --config FILE)' });
    return;
  }
  notifier.reloading();
  try {
    logPlan(c.log, c.configPath, c.cfg.apply(c.configPath));
  } catch (e) {
    c.log.error('config_refused', { trigger: 'SIGHUP', file: c.configPath, err: errText(e) });
  } finally {
    notifier.ready();
  }
}

function reloadResult(file: string, p: Plan): ReloadResult {
  return { file, added: p.added, removed: p.removed, replaced: p.replaced, updated: p.updated, unchanged: p.unchanged.length };
}

function logPlan(log: Log, file: string, p: Plan): void {
  log.action('config_applied', {
    file, added: p.added.length, removed: p.removed.length, replaced: p.replaced.length, updated: p.updated.length, unchanged: p.unchanged.length,
  });
}

/**
 * The data path's sockets and the policy TUN: raw IPv4 for protocols 4, 41,
 * 47, 50 and ICMP (raw-sockets.ts; without CAP_NET_RAW, warned and left for
 * a request that needs them), the NAT-T UDP socket on natTPort (charon.port_nat_t,
 * 4500 by default, 0: random; ESP-in-UDP both ways, and it holds the port so no
 * ICMP port unreachable goes out), and POLICY_DEV (up, no addresses: routes point into it).
 */
function openSockets(dp: Datapath, log: Log, natTPort: number): { tun: TunLinux | null; natT: UdpConn | null; raws: RawSockets } {
  const raws = new RawSockets(dp, log);
  raws.start();
  // Each conn receives into the data path's arena (beside its GRO staging slab).
  const opts = (): { batchSize: number; rx: PooledBatch | undefined } => ({ batchSize: DATAPATH_BATCH, rx: dp.connRx() });
  let natT: UdpConn | null = null;
  try {
    natT = openUdp(0, natTPort, opts());
    dp.addNatT(natT);
    dp.setUdpTx(natT);
  } catch (e) {
    log.warn('natt_port_taken', { port: natTPort, err: errText(e), effect: 'ESP-in-UDP is not received' });
  }
  // TSO/GRO on the policy TUN too (datapath/offload.ts): super-packets read whole,
  // split and sealed per segment (as xfrm_output_gso), received segments merged.
  const tun = openPolicyTun(log);
  if (tun !== null) dp.attachPolicy(POLICY_DEV, tun);
  return { tun, natT, raws };
}

interface Ctx {
  readonly node: TunkitNode;
  readonly dp: Datapath;
  readonly log: Log;
  readonly xctl: XfrmControl;
  readonly cfg: ConfigFile;
  /** The file SIGHUP re-reads: --config, or the last `tunkit reload FILE` that applied. */
  configPath: string | null;
  readonly ike: IkeShell;
  readonly carry: Carriage;
}

function handle(req: Request, c: Ctx): unknown {
  const { node, dp, log, xctl } = c;
  const a = req.args;
  if ((IKE_OPS as readonly string[]).includes(req.op)) {
    if (req.op !== 'ike.list-sas' && req.op !== 'ike.list-conns') log.info(req.op.replace(/\./g, ' '));
    return c.ike.handle(req.op as IkeOp, a);
  }
  if ((XFRM_OPS as readonly string[]).includes(req.op)) {
    const data = xctl.handle(req.op as XfrmOp, a);
    if (req.op !== 'xfrm.state.list' && req.op !== 'xfrm.state.get' && req.op !== 'xfrm.policy.list' && req.op !== 'xfrm.policy.get' && req.op !== 'xfrm.stat') {
      log.action('control', { op: req.op }); // never the arguments: they may hold keys
    }
    return data;
  }
  switch (req.op) {
    case 'ping': return 'pong';
    case 'link.add': {
      c.carry.link(a);
      let rec: LinkRecord;
      try {
        rec = node.addLink(a);
      } finally { // a kind's first tunnel made its fallback device, even if the tunnel was then refused
        for (let f = node.fallbacks.takeNew(); f !== null; f = node.fallbacks.takeNew()) dp.attachTunnel(f.tunnel, f.dev.tun);
      }
      const xl = node.xfrmLinks.get(rec.name);
      if (xl !== undefined) {
        dp.attachXfrmi(xl.name, xl.ifId, xl.stats, xl.dev.tun);
        log.action('link_add', { dev: rec.name, kind: 'xfrm', if_id: xl.ifId, mtu: rec.mtu });
        return rec;
      }
      const e = node.entry(rec.name);
      dp.attachTunnel(e.tunnel, e.dev.tun);
      log.action('link_add', { dev: rec.name, kind: rec.kind, local: rec.local, remote: rec.remote, mtu: rec.mtu });
      return rec;
    }
    case 'link.change': {
      const { t, rec } = node.changeLink(a);
      dp.retarget(t);
      dp.mtuChanged(rec.name, rec.mtu);
      log.action('tunnel_change', { dev: rec.name, local: rec.local, remote: rec.remote, mtu: rec.mtu });
      return rec;
    }
    case 'link.del':
      dp.detach(String(a['name']));
      node.delLink(a['name']);
      log.action('link_del', { dev: String(a['name']) });
      return null;
    case 'link.set': {
      const rec = node.setLink(a['name'], a);
      dp.mtuChanged(rec.name, rec.mtu);
      return rec;
    }
    case 'link.show': return node.showLinks(a['name'], a['type']);
    case 'config.reload': {
      const path = reloadPath(a, c.configPath);
      const plan = c.cfg.apply(path);
      c.configPath = path;
      logPlan(log, path, plan);
      return reloadResult(path, plan);
    }
    case 'config.save': return { text: c.cfg.save() };
    case 'addr.add': case 'addr.del': case 'route.add': case 'route.del': return c.cfg.handle(req.op, a);
    case 'stats': return { ...node.stackDrops(), ...natTCounts(xctl.stack.natT) };
    default: throw new VpnError('EOPNOTSUPP', `unsupported op ${req.op}`);
  }
}

/** The NAT-T counters as `stats` names (non-zero only, like the drops beside them). */
function natTCounts(n: { readonly keepalives: number; readonly ike: number }): Record<string, number> {
  const out: Record<string, number> = {};
  if (n.keepalives > 0) out['NatTKeepalive'] = n.keepalives;
  if (n.ike > 0) out['NatTIke'] = n.ike;
  return out;
}

/** Once a second: mirror IFF_UP set with plain `ip link`, refresh routes, drop tracing on demand. */
function housekeeping(node: TunkitNode, srv: ControlServer): void {
  const traceDrops = srv.hasDropSubscribers;
  node.fallbacks.sync();
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

/**
 * After a --config start: what an earlier run left (persistent devices,
 * blackholes, policy routes) that the file no longer declares is removed,
 * as a reload would remove it.
 */
function sweep(log: Log, node: TunkitNode, routes: XfrmRoutes): void {
  const keep = new Set([POLICY_DEV, ...node.all.keys(), ...node.fallbacks.deviceNames(), ...node.xfrmLinks.all.keys()]);
  try {
    const { removed, errors } = sweepStale(keep, POLICY_DEV, routes.wantedKeys());
    for (const r of removed) log.action('stale_removed', { what: r });
    for (const e of errors) log.warn('stale_remove_failed', { err: e });
  } catch (e) {
    log.warn('stale_remove_failed', { err: errText(e), effect: 'what an earlier run left stays (tunkitd --teardown removes it)' });
  }
}

/**
 * TUNKIT_TEST_CRASH_AFTER_MS=N (tests only): N ms after start, an uncaught
 * exception, to show that a crash fails closed and exits non-zero.
 */
function injectCrash(log: Log): void {
  const ms = Number(process.env['TUNKIT_TEST_CRASH_AFTER_MS'] ?? '');
  if (!Number.isInteger(ms) || ms <= 0) return;
  log.warn('test_crash_armed', { after_ms: ms });
  setTimeout(() => { throw new Error(`injected crash (TUNKIT_TEST_CRASH_AFTER_MS=${ms})`); }, ms);
}

/** `tunkitd --teardown`: refused while a tunkitd serves the socket; else removes what tunkitd left. Exit status. */
async function runTeardown(o: Options, log: Log): Promise<number> {
  if (await isListening(o.socket)) {
    log.error('teardown_refused', { socket: o.socket, err: 'a tunkitd is running on it: stop it first (systemctl stop tunkitd)' });
    return 1;
  }
  const { removed, errors } = teardown();
  for (const r of removed) process.stdout.write(`removed ${r}\n`);
  for (const e of errors) log.error('teardown_failed', { err: e });
  return errors.length === 0 ? 0 : 1;
}

/**
 * A throw nobody catches, or a rejection nobody handles: logged, exit 1 so
 * systemd (Restart=on-failure) starts it again. Nothing is cleaned up: the
 * devices and routes stay and fail closed until the new process adopts them.
 */
function onCrash(log: Log, e: unknown): never {
  log.error('crash', { err: e instanceof Error ? e.stack ?? e.message : String(e), effect: 'exit 1; devices and routes stay (fail closed)' });
  process.exit(1);
}

export async function main(argv: readonly string[]): Promise<void> {
  const log = new Log();
  let running: Running | null = null;
  process.on('SIGHUP', () => running?.reload()); // not the default (exit 129): re-read the config file
  process.on('uncaughtException', (e) => onCrash(log, e));
  process.on('unhandledRejection', (e) => onCrash(log, e));
  try {
    const o = parseOptions(argv);
    log.setLevel(o.level);
    if (o.isTeardown) process.exit(await runTeardown(o, log));
    running = await start(o, log);
  } catch (e) {
    log.error('startup_failed', { err: errText(e) });
    process.exit(1); // whatever did open (devices, sockets, a listener) goes with the process
  }
  const run = running;
  const shutdown = (sig: string): void => {
    run.svc.stopping();
    log.info('shutdown', { signal: sig, action: 'leaving devices and routes in place (fail closed) and exiting' });
    void run.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
