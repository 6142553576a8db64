// tunkitd's config file: read it (refusing one that holds keys and is
// readable by group or others), check it whole (config/load.ts), diff it
// against the running state (config/diff.ts) and apply the difference
// through the daemon's own request handler — the same `link.add`,
// `xfrm.state.add`, … a `tunkit` command sends, so one validation serves
// both. Addresses and routes of the links go over rtnetlink (addr.*,
// route.* ops here). `tunkit save` is the running state printed back
// (config/print.ts).
//
//   start --config F / SIGHUP / tunkit reload [F]
//     → readFile + stat → loadConfig (whole file; nothing applied if it fails)
//     → snapshot() → diffConfig → each Step through handle() → Plan

import { readFileSync, statSync } from 'node:fs';
import { diffConfig } from '../config/diff.js';
import type { Plan } from '../config/diff.js';
import { loadConfig } from '../config/load.js';
import { modelOf } from '../config/model.js';
import type { ConfigModel, RunningLink, RunningState } from '../config/model.js';
import { printConfig } from '../config/print.js';
import { defaultMtu } from '../tunnel/params.js';
import { ConfigError, VpnError } from '../wire/errors.js';
import { RTN_UNICAST, RTPROT_BOOT, RT_SCOPE_UNIVERSE } from '../wire/rtnetlink.js';
import { formatPrefix, parsePrefix } from '../xfrm/selector.js';
import type { Prefix } from '../xfrm/selector.js';
import { XFRMI_DEFAULT_MTU } from '../xfrm/xfrmi.js';
import { RtNetlink } from '../io/netlink.js';
import type { DeviceFactory } from './devices.js';
import { BACKUP_METRIC } from './policy-routes.js';
import type { TunkitNode } from './node.js';
import type { Request } from './protocol.js';
import type { XfrmControl } from './xfrm-control.js';

export interface ConfigHost {
  readonly node: TunkitNode;
  readonly xctl: XfrmControl;
  readonly devices: DeviceFactory;
  /** The daemon's request handler (main.ts): a plan's steps go through it. */
  readonly handle: (req: Request) => unknown;
  readonly info: (msg: string) => void;
  /** The kernel's addresses and routes of tunkit's links; rtnetlink unless a test gives another. */
  readonly tables?: LinkTables;
  /**
   * Refuses, by throwing, a whole checked file the daemon could not carry
   * (main.ts: what needs CAP_NET_RAW or ipsec0 it lacks), before any step.
   */
  readonly check?: (model: ConfigModel, path: string) => void;
}

/** What the config needs of the kernel's address and route tables, for one device each call. */
export interface LinkTables {
  /** "ADDR/PLEN" of every global-scope address. */
  addresses(ifindex: number): string[];
  /** "PREFIX/PLEN" of every unicast route of the main table through the device that an admin added (proto boot), not the kernel. */
  routes(ifindex: number): string[];
  setAddress(p: Prefix, ifindex: number, del: boolean): void;
  setRoute(p: Prefix, ifindex: number, del: boolean): void;
  /**
   * A fail-closed stand-in for a route while its device is made anew on a
   * reload: `ip route replace blackhole PREFIX metric 4294967295 proto 116`
   * (del: removes it). Optional: without it a replaced link's routes are
   * briefly absent.
   */
  guard?(p: Prefix, del: boolean): void;
  close(): void;
}

/** LinkTables over rtnetlink (io/netlink.ts), the socket opened on first use. */
class NetlinkTables implements LinkTables {
  private sock: RtNetlink | null = null;
  private get nl(): RtNetlink { return (this.sock ??= RtNetlink.open()); }

  addresses(ifindex: number): string[] {
    return this.nl.addrDump(ifindex).filter((a) => a.scope === RT_SCOPE_UNIVERSE).map((a) => formatPrefix(a));
  }

  routes(ifindex: number): string[] {
    return ([4, 6] as const).flatMap((f) => this.nl.routeDump(f, ifindex)
      .filter((r) => r.protocol === RTPROT_BOOT && r.type === RTN_UNICAST && r.gateway === null)
      .map((r) => formatPrefix({ family: f, bytes: r.dst ?? new Uint8Array(16), plen: r.dstLen })));
  }

  setAddress(p: Prefix, ifindex: number, del: boolean): void { this.nl.addrSet(p, ifindex, del); }

  guard(p: Prefix, del: boolean): void { this.nl.blackhole(p, BACKUP_METRIC, del); }

  setRoute(p: Prefix, ifindex: number, del: boolean): void {
    if (del) this.nl.routeDel(p, ifindex);
    else this.nl.routeReplace(p, ifindex);
  }

  close(): void {
    this.sock?.close();
    this.sock = null;
  }
}

/**
 * The code of a config file refused as a whole (unreadable, mode, none
 * given): not ENOENT/EACCES, which the CLI reads as "tunkitd unreachable".
 */
const CONFIG_ERR = 'ECONFIG';

/** Mode bits that let group or others read a file. */
const OPEN_MODE = 0o077;
const mode = (m: number): string => `0${(m & 0o777).toString(8)}`;

/**
 * Why a file holding keys may not be trusted with them, or null: readable
 * by group or others, or owned by someone other than root and us (who
 * could change the key).
 */
function keyFileProblem(st: { mode: number; uid: number }): string | null {
  if ((st.mode & OPEN_MODE) !== 0) return `is readable by group or others (mode ${mode(st.mode)}): chmod 600 it`;
  const me = process.getuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== me) return `is owned by uid ${st.uid}, not root: chown root it`;
  return null;
}

/** A key file's text; refused on keyFileProblem. */
function readKeyFile(path: string): string {
  const bad = keyFileProblem(statSync(path));
  if (bad !== null) throw new Error(bad);
  return readFileSync(path, 'utf8');
}

export class ConfigFile {
  private readonly tables: LinkTables;

  constructor(private readonly h: ConfigHost) {
    this.tables = h.tables ?? new NetlinkTables();
  }

  /**
   * Reads, checks and applies `path`; throws ConfigFileError / VpnError with
   * nothing changed when the file is refused, and rolls back if the kernel
   * refuses a step half-way — unless `rollBack` is false (at start: what was
   * made, or adopted from before, stays and fails closed; tunkitd exits 1).
   * A link made anew keeps its routes covered by guard blackholes until
   * the plan is through, so a reload never lets them fall to another route.
   */
  apply(path: string, rollBack = true): Plan {
    let text: string;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new VpnError(CONFIG_ERR, `${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const running = this.snapshot();
    const ours = new Set(running.links.map((l) => l.name));
    const parsed = loadConfig(text, path, {
      readKey: readKeyFile,
      hasDevice: (n) => this.h.devices.ifindex(n) !== null,
      isForeign: (n) => !ours.has(n) && this.h.node.fallback(n) === null && this.h.devices.ifindex(n) !== null && !this.h.devices.isAdoptable(n),
    });
    const bad = parsed.hasLiteralKeys ? keyFileProblem(st) : null;
    if (bad !== null) throw new VpnError(CONFIG_ERR, `${path}: holds keys but ${bad}, or put the keys in key files (key = "@/path")`);
    this.h.check?.(parsed.model, path);
    const plan = diffConfig(parsed.model, running);
    const guards = this.guard(plan, running, parsed.model.links);
    let isSafe = true;
    try {
      for (const s of plan.steps) {
        try {
          this.step(s);
        } catch (e) {
          const undo = rollBack ? this.rollBack(running) : { ok: false, text: 'what was made stays (fail closed)' };
          isSafe = undo.ok;
          throw new VpnError(e instanceof VpnError ? e.code : 'EIO', `${path}: ${s.text}: ${e instanceof Error ? e.message : String(e)}; ${undo.text}`);
        }
        this.h.info(`config: ${s.text}`);
      }
    } finally {
      if (isSafe) for (const g of guards) this.setGuard(g, true); // else they stay: better dropped than sent in clear
    }
    return plan;
  }

  /** One step through the handler; an address already there counts as added (a device adopted from before keeps its own). */
  private step(s: Plan['steps'][number]): void {
    try {
      this.h.handle({ id: 0, op: s.op, args: s.args });
    } catch (e) {
      if (s.op !== 'addr.add' || (e as { code?: unknown }).code !== 'EEXIST') throw e;
    }
  }

  /** Guard blackholes for the routes that links made anew will carry again; returns what was installed. */
  private guard(plan: Plan, running: RunningState, want: ConfigModel['links']): Prefix[] {
    const out: Prefix[] = [];
    for (const label of plan.replaced) {
      const name = /^link (.+)$/.exec(label)?.[1] ?? null;
      const had = running.links.find((l) => l.name === name)?.routes ?? [];
      const keep = want.find((l) => l.name === name)?.routes ?? [];
      for (const r of had.filter((x) => keep.includes(x))) {
        const p = parsePrefix('dst', r);
        if (this.setGuard(p, false)) out.push(p);
      }
    }
    return out;
  }

  private setGuard(p: Prefix, del: boolean): boolean {
    if (this.tables.guard === undefined) return false;
    try {
      this.tables.guard?.(p, del);
      this.h.info(`config: ${del ? 'released' : 'holding'} guard blackhole ${formatPrefix(p)} metric ${BACKUP_METRIC}`);
      return true;
    } catch (e) {
      this.h.info(`config: guard blackhole ${formatPrefix(p)}: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  /**
   * After a step failed half-way through a plan (the kernel refused what
   * validation could not foresee): back to `before`, by the same diff. What
   * the plan had not reached is equal and untouched; what it had deleted or
   * replaced is made again (with its keys, but new counters).
   */
  private rollBack(before: RunningState): { ok: boolean; text: string } {
    const back = diffConfig(modelOf(before), this.snapshot());
    let failed = 0;
    for (const s of back.steps) {
      try {
        this.h.handle({ id: 0, op: s.op, args: s.args });
        this.h.info(`config: rollback: ${s.text}`);
      } catch (e) {
        failed++;
        this.h.info(`config: rollback: ${s.text}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return failed === 0
      ? { ok: true, text: `rolled back to the state before (${back.steps.length} steps)` }
      : { ok: false, text: `the rollback failed too (${failed} of ${back.steps.length} steps): see tunkit save` };
  }

  /** `tunkit save`: the running state as the config file's text (keys included). */
  save(): string {
    return printConfig(modelOf(this.snapshot()));
  }

  /** Everything a config can say, as it runs now: links (with addresses and routes from the kernel), states, policies, defaults. */
  snapshot(): RunningState {
    const { node, xctl } = this.h;
    const links: RunningLink[] = [];
    for (const e of node.all.values()) {
      const t = e.tunnel;
      links.push(this.link(t.name, e.dev.ifindex, e.args, t.mtu, defaultMtu(t.p, t.underlayMtu), e.dev.isUp()));
    }
    for (const l of node.xfrmLinks.all.values()) {
      const args = { name: l.name, kind: 'xfrm', ifId: l.ifId, ...(l.linkName !== null ? { dev: l.linkName } : {}) };
      links.push(this.link(l.name, l.dev.ifindex, args, l.mtu, XFRMI_DEFAULT_MTU, l.dev.isUp()));
    }
    const spd = xctl.stack.spd;
    return {
      links,
      states: [...xctl.stack.sad.list()].reverse().map((x) => x.spec),
      policies: spd.list().map((p) => ({ spec: p.spec, index: p.index })),
      defaults: { ...spd.defaults },
    };
  }

  private link(name: string, ifindex: number, args: RunningLink['args'], mtu: number, dflt: number, isUp: boolean): RunningLink {
    const t = this.tables;
    return { name, args, mtu, defaultMtu: dflt, isUp, addresses: t.addresses(ifindex).sort(), routes: t.routes(ifindex).sort() };
  }

  /** `addr.add|del {dev, addr}` and `route.add|del {dev, dst}` on a device this daemon made. */
  handle(op: 'addr.add' | 'addr.del' | 'route.add' | 'route.del', args: Record<string, unknown>): null {
    const dev = args['dev'];
    if (typeof dev !== 'string' || (!this.h.node.all.has(dev) && this.h.node.xfrmLinks.get(dev) === undefined)) {
      throw new VpnError('ENODEV', `Cannot find device "${String(dev)}" among tunkit's links`, 'dev');
    }
    const ix = this.h.devices.ifindex(dev);
    if (ix === null) throw new VpnError('ENODEV', `Cannot find device "${dev}"`, 'dev');
    const field = op.startsWith('addr') ? 'addr' : 'dst';
    const p = parsePrefix(field, args[field]);
    if (op === 'addr.add' || op === 'addr.del') this.tables.setAddress(p, ix, op === 'addr.del');
    else this.tables.setRoute(p, ix, op === 'route.del');
    return null;
  }

  close(): void {
    this.tables.close();
  }
}

/** Refuses a `config.reload` argument that is not a path. */
export function reloadPath(args: Record<string, unknown>, current: string | null): string {
  const f = args['file'];
  if (f !== undefined && (typeof f !== 'string' || !f.startsWith('/'))) throw new ConfigError('file', 'must be an absolute path');
  const path = f ?? current;
  if (path === null) throw new VpnError(CONFIG_ERR, 'tunkitd has no config file: start it with --config FILE, or name one (tunkit reload FILE)', 'file');
  return path;
}
