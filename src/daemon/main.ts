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

import type { ConfigModel } from '../config/model.js';
import { MsClocks } from '../datapath/clock.js';
import { Datapath } from '../datapath/datapath.js';
import { CHARON_DEFAULTS } from '../ike/charon.js';
import type { CharonSettings } from '../ike/charon.js';
import type { IkeConfig } from '../ike/config.js';
import { formatTrace } from '../tunnel/trace.js';
import type { TraceHook } from '../tunnel/trace.js';
import { dropName } from '../wire/drop.js';
import { formatXAddr } from '../xfrm/selector.js';
import type { XfrmState } from '../xfrm/state.js';
import { XfrmStack } from '../xfrm/xfrm.js';
import { ConfigFile } from './config-file.js';
import { reopenGone } from './device-gone.js';
import type { GoneCtx } from './device-gone.js';
import { handle, logPlan, sighup } from './dispatch.js';
import { Housekeeping } from './housekeeping.js';
import type { DropTracers } from './housekeeping.js';
import type { Ctx } from './dispatch.js';
import { IkeShell, readSwanctl } from './ike-shell.js';
import { RouteSource } from './route-source.js';
import { boundCharon, natTBindPort, openIkeSocket } from './ike-sockets.js';
import { LinkMemory } from './link-memory.js';
import { LinuxDevices, offloadFromEnv } from './linux-devices.js';
import { errText, Log } from './log.js';
import { TunkitNode } from './node.js';
import { parseOptions } from './parse-options.js';
import type { Options } from './parse-options.js';
import { teardown } from './persist.js';
import { PolicyFirewall } from './policy-firewall.js';
import { dropTo, resolveGroup, resolveUser, warnNoNetAdmin } from './privs.js';
import type { RunAs } from './privs.js';
import { Carriage } from './raw-sockets.js';
import { ControlServer } from './server.js';
import { startService } from './service.js';
import type { Service } from './service.js';
import { freeSocketPath, isListening } from './socket-file.js';
import { openSockets, sweep } from './startup.js';
import { readCharonFile } from './swanctl-files.js';
import { XfrmControl } from './xfrm-control.js';
import { POLICY_DEV, XfrmRoutes } from './xfrm-routes.js';
import { be32 } from '../wire/bytes.js';

/** What start() hands main: the service hooks, shutdown, and a reload for SIGHUP. */
interface Running { readonly svc: Service; readonly stop: () => Promise<void>; readonly reload: () => void }

/** What start() checks before it opens anything (preflight). */
interface Preflight {
  readonly ikeCfg: IkeConfig | null;
  readonly charonConf: CharonSettings;
  readonly runAs: RunAs | null;
  readonly readGroup: number | null;
}

/**
 * What start() makes after the objects whose callbacks reach it: null until
 * made, read when a callback runs (a control event before the server
 * listens, a NAT-T datagram before IKE is up, … go nowhere).
 */
interface Late {
  server: ControlServer | null;
  ike: IkeShell | null;
  gone: GoneCtx | null;
  carry: Carriage | null; // once the sockets are open: what needs raw sockets or ipsec0 is checked
}

/** The node, xfrm and data path objects, wired together (buildCore). */
interface Core {
  readonly devices: LinuxDevices;
  readonly node: TunkitNode;
  readonly xfrm: XfrmStack;
  readonly routes: XfrmRoutes;
  readonly firewall: PolicyFirewall;
  readonly dp: Datapath;
  readonly xctl: XfrmControl;
  /** An SA's path MTU changed: lowered by esp4_err, or back up when the learnt value expired (xfrm.tick). */
  readonly xfrmPmtu: (x: XfrmState) => void;
}

/** Core plus what openIo opened; closeParts closes all but svc (stop() closes it first; a failed --config leaves it to the exit). */
interface Parts extends Core {
  readonly svc: Service;
  readonly memory: LinkMemory;
  readonly gone: GoneCtx;
  readonly ike: IkeShell;
  readonly carry: Carriage;
}

/** Wires node, datapath and control server together; applies --config before the socket opens. */
async function start(o: Options, log: Log): Promise<Running> {
  const pre = await preflight(o);
  const late: Late = { server: null, ike: null, gone: null, carry: null };
  const core = buildCore(log, late);
  const p = await openIo(o, log, pre, core, late);
  const ctx = await loadConfig(o, log, p);
  return serve(o, log, pre, p, ctx, late);
}

/** Reads and resolves what the options name; throws before anything is opened or touched. */
async function preflight(o: Options): Promise<Preflight> {
  const ikeCfg = o.swanctl !== null ? readSwanctl(o.swanctl) : null; // a bad file stops us before anything is opened
  const charonConf = o.strongswanConf !== null ? readCharonFile(o.strongswanConf) : CHARON_DEFAULTS; // so does a bad strongswan.conf
  const runAs: RunAs | null = o.user !== null ? resolveUser(o.user) : null; // so does an unknown user
  const readGroup = o.controlGroup !== null ? resolveGroup(o.controlGroup) : null; // and an unknown group
  await freeSocketPath(o.socket); // and a tunkitd already serving it, before anything of its is touched
  return { ikeCfg, charonConf, runAs, readGroup };
}

/** The devices, node, xfrm stack, routes, policy firewall, data path and XfrmControl, wired together; late's objects come later. */
function buildCore(log: Log, late: Late): Core {
  // One clock for the control path and the data path (whole ms, no garbage per read: datapath/clock.ts).
  const clocks = new MsClocks();
  const clock = clocks.now;
  const devices = new LinuxDevices({ offload: offloadFromEnv(), warn: (e, f) => log.warn(e, f) });
  const node = new TunkitNode(devices, (e) => late.server?.publish(e), clock);
  const xfrm = new XfrmStack();
  let xctl: XfrmControl | null = null;
  const routes = new XfrmRoutes(xfrm, { warn: (e, f) => log.warn(e, f) });
  const xfrmPmtu = (x: XfrmState): void => {
    const remote = formatXAddr(x.cfg.dst);
    log.info('pmtu', { remote, mtu: x.routeMtu, spi: `0x${x.cfg.spi.toString(16).padStart(8, '0')}` });
    late.server?.publish({ type: 'pmtu', remote, mtu: x.routeMtu, devs: [POLICY_DEV] });
    routes.syncRoutes();
  };
  const firewall = new PolicyFirewall(xfrm, () => [POLICY_DEV, ...node.xfrmLinks.all.keys()], (e, f) => log.warn(e, f), (e, f) => log.info(e, f));
  const dp = new Datapath(node.stack, xfrm, {
    pmtu: (remote, mtu, devs) => {
      log.info('pmtu', { remote, mtu, devs: devs.join(',') });
      late.server?.publish({ type: 'pmtu', remote, mtu, devs });
    },
    xfrmPmtu: (x) => xfrmPmtu(x),
    xfrmEvents: () => setImmediate(() => xctl?.drainEvents()),
    ike: (b, off, len, src, sport, dst) => late.ike?.receiveNatT(b, off, len, src, sport, dst),
    log: (m, isRecovery) => (isRecovery === true ? log.info('datapath_recovered', { msg: m }) : log.error('datapath_fault', { err: m })),
    deviceGone: (name) => setImmediate(() => { if (late.gone !== null) reopenGone(late.gone, name); }),
  }, clocks);
  xctl = new XfrmControl(xfrm, {
    ifindex: (n) => devices.ifindex(n),
    publish: (e) => { late.server?.publish(e); late.ike?.xfrmEvent(e); }, // IKE hears acquires, mappings and expires as `xfrm monitor` does
    now: Date.now,
    routeMtu: (dst) => (dst.family === 4 ? devices.route(be32(dst.bytes, 0)).mtu : 1500),
    tablesChanged: () => routes.schedule(),
    spdChanged: () => firewall.schedule(),
    extraStats: () => firewall.counts(),
    checkState: (cfg) => late.carry?.state(cfg.encap),
    checkPolicy: (spec) => late.carry?.policy(spec),
  });
  return { devices, node, xfrm, routes, firewall, dp, xctl, xfrmPmtu };
}

/** The service (systemd, metrics), the data path's and IKE's sockets, the route and link watchers, and the IKE shell (with --swanctl's file). */
async function openIo(o: Options, log: Log, pre: Preflight, core: Core, late: Late): Promise<Parts> {
  const { node, xfrm, dp, firewall, routes, xctl } = core;
  const svc = await startService({ node, xfrm, dp, log }, o.metricsListen);
  warnNoNetAdmin(log);
  const natTPort = natTBindPort(pre.charonConf, log);
  const { tun: policyTun, natT, raws } = openSockets(dp, log, natTPort);
  const ikeConn = openIkeSocket(log, pre.charonConf.port, natT?.port ?? null);
  const charon = boundCharon(pre.charonConf, ikeConn, natT, natTPort); // a random port (0) as bound
  xfrm.natTPort = charon.portNatT;
  firewall.ikePorts = [charon.port, charon.portNatT];
  if (charon.port !== 500 || charon.portNatT !== 4500) log.info('ike_ports', { port: charon.port, port_nat_t: charon.portNatT });
  const carry = new Carriage(raws, natT?.port ?? null, policyTun !== null);
  late.carry = carry;
  const memory = new LinkMemory(() => linkIndexes(node), (e, f) => log.warn(e, f));
  const gone: GoneCtx = { node, dp, log, routes, memory, policyTun };
  late.gone = gone;
  routes.watch();
  memory.watch();
  const ike = new IkeShell({
    control: (op, args) => xctl.handle(op, args), log, ikeConn, natTConn: natT, charon, publish: (e) => late.server?.publish(e), source: new RouteSource(),
  });
  late.ike = ike;
  if (pre.ikeCfg !== null) ike.apply(pre.ikeCfg, o.swanctl!);
  return { ...core, svc, memory, gone, ike, carry };
}

/**
 * The ConfigFile and the control requests' context; --config applied (and
 * swept) before the socket opens. A failure closes what start() made and
 * throws: main exits 1.
 */
async function loadConfig(o: Options, log: Log, p: Parts): Promise<Ctx> {
  const { node, dp, xctl, devices, routes, ike, carry } = p;
  let ctx: Ctx | null = null;
  const cfg = new ConfigFile({
    node, xctl, devices, handle: (req) => handle(req, ctx!), info: (m) => log.action('config_step', { step: m }),
    check: (m: ConfigModel, path: string) => carry.model(m, path),
  });
  ctx = { node, dp, log, xctl, cfg, configPath: o.config, ike, carry };
  if (o.config !== null) {
    try {
      logPlan(log, o.config, cfg.apply(o.config, false));
      sweep(log, node, routes);
    } catch (e) {
      // main exits 1, leaving what was made or adopted to fail closed until the next start
      await closeParts(p, cfg);
      throw e;
    }
  }
  return ctx;
}

/** Closes what start() made, in order (the devices stay: fail closed); not the service or the control server. */
async function closeParts(p: Parts, cfg: ConfigFile): Promise<void> {
  p.ike.close();
  p.routes.detach();
  p.memory.stop();
  p.firewall.detach();
  p.dp.stop();
  await p.gone.policyTun?.close();
  p.node.close();
  cfg.close();
}

/** The control server listens; privileges drop (--user); READY; the 1 s housekeeping timer starts. */
async function serve(o: Options, log: Log, pre: Preflight, p: Parts, c: Ctx, late: Late): Promise<Running> {
  const { node, xfrm, dp, xctl, firewall, memory, svc, xfrmPmtu } = p;
  const srv = new ControlServer(o.socket, (req) => handle(req, c), (s) => log.warn('control_client', { err: s }), { readGroup: pre.readGroup });
  late.server = srv;
  await srv.listen();
  const hk = new Housekeeping(node);
  const tracers = dropTracers(srv);
  const housekeeping = (): void => hk.tick(srv.hasDropSubscribers ? tracers : null);
  srv.onSubscribe = housekeeping;
  srv.onCapture = (dev, side, sink) => {
    const cap = dp.capture(dev, side, sink);
    if (cap !== null) log.info('capture', { dev, side });
    return cap;
  };
  log.info('listening', { socket: o.socket });
  if (pre.runAs !== null) dropTo(pre.runAs, o.socket, log, pre.readGroup); // throws: main exits 1
  svc.ready();
  injectCrash(log);
  const timer = setInterval(() => {
    housekeeping();
    for (const x of xfrm.tick(Date.now())) xfrmPmtu(x);
    xctl.drainEvents();
    firewall.tick();
    memory.tick();
    svc.tick();
  }, 1000);
  return { svc, stop: async () => {
    clearInterval(timer);
    await svc.close();
    await closeParts(p, c.cfg);
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

/** What `tunkit monitor drops` subscribers get (Housekeeping sets the hooks while there are any). */
function dropTracers(srv: ControlServer): DropTracers {
  const stack: TraceHook = (dir, dev, drop, fn, counter) => {
    srv.publish({ type: 'drop', dir: dir === 0 ? 'rx' : 'tx', dev, reason: dropName(drop), text: formatTrace(dir, dev, drop, fn, counter) });
  };
  // A tunnel traces every packet it handles: only its drops are published.
  return { stack, tunnel: (dir, dev, drop, fn, counter) => { if (drop !== 0) stack(dir, dev, drop, fn, counter); } };
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
