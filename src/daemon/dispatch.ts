// tunkitd's control-request dispatch: which part of the daemon serves each
// op (handle), the `config.reload` / SIGHUP re-read of the config file, and
// the log lines and replies those produce. Everything it reaches arrives in
// Ctx, made by main.ts start().

import type { Plan } from '../config/diff.js';
import type { Datapath } from '../datapath/datapath.js';
import { IKE_OPS } from '../control/ike.js';
import type { IkeOp } from '../control/ike.js';
import { VpnError } from '../wire/errors.js';
import { XFRM_OPS } from '../xfrm/spec.js';
import type { XfrmOp } from '../xfrm/spec.js';
import { reloadPath } from './config-file.js';
import type { ConfigFile } from './config-file.js';
import type { IkeShell } from './ike-shell.js';
import type { LinkRecord } from './link-record.js';
import { errText } from './log.js';
import type { Log } from './log.js';
import type { TunkitNode } from './node.js';
import { notifier } from './notify.js';
import type { ReloadResult, Request } from './protocol.js';
import type { Carriage } from './raw-sockets.js';
import type { XfrmControl } from './xfrm-control.js';

/** What a control request may reach: built once by main.ts start(). */
export interface Ctx {
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

/**
 * One control request (server.ts calls it; ConfigFile replays config files
 * through it): ike.* to the IKE shell, xfrm.* to XfrmControl, link.* to the
 * node and the data path, config.*, addr/route.* and stats. Returns the
 * reply's data; throws a VpnError for the client.
 */
export function handle(req: Request, c: Ctx): unknown {
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

/**
 * SIGHUP (systemctl reload): re-read the config file, between RELOADING=1
 * and READY=1 for systemd; a refused file changes nothing and is logged.
 */
export function sighup(c: Ctx): void {
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

export function logPlan(log: Log, file: string, p: Plan): void {
  log.action('config_applied', {
    file, added: p.added.length, removed: p.removed.length, replaced: p.replaced.length, updated: p.updated.length, unchanged: p.unchanged.length,
  });
}
