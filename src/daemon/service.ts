// tunkitd as a system service: the systemd notifications (notify.ts), the
// watchdog fed by the packet loop (datapath/watchdog.ts), the Prometheus
// endpoint (metrics.ts) and the once-a-second chores that go with them.
//
// Order at startup (main.ts): metrics listening (startService), devices and
// sockets open, control socket listening, then ready(): watchdog running and
// READY=1 last, so `systemctl start` returns only once `tunkit` can talk to
// the daemon. At shutdown: STOPPING=1 before anything is torn down.

import type { AddressInfo } from 'node:net';
import type { Datapath } from '../datapath/datapath.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { errText } from './log.js';
import type { Log } from './log.js';
import { MetricsServer, TunkitMetrics } from './metrics.js';
import type { ListenAddr } from './metrics.js';
import type { TunkitNode } from './node.js';
import { notifier, watchdogIntervalMs } from './notify.js';

export interface ServiceParts {
  readonly node: TunkitNode;
  readonly xfrm: XfrmStack;
  readonly dp: Datapath;
  readonly log: Log;
}

export interface Service {
  /** Watchdog on (when systemd asks), STATUS=, then READY=1: call once the control socket listens. */
  ready(): void;
  /** Once a second: STATUS= on change, rate-limited log summaries. */
  tick(): void;
  /** STOPPING=1 (shutdown begins). */
  stopping(): void;
  /** Closes the metrics listener. */
  close(): Promise<void>;
}

/** The STATUS= line: what `systemctl status tunkitd` shows under the unit. */
export function statusText(p: Pick<ServiceParts, 'node' | 'xfrm'>): string {
  const tunnels = p.node.all.size + p.node.xfrmLinks.all.size;
  const sas = p.xfrm.sad.count;
  const pols = p.xfrm.spd.count;
  return `${tunnels} tunnel${tunnels === 1 ? '' : 's'}, ${sas} SA${sas === 1 ? '' : 's'}, ${pols} polic${pols === 1 ? 'y' : 'ies'}`;
}

/**
 * Starts the metrics listener when asked (first, before any device or
 * socket opens, so a taken port fails startup with nothing to undo); the
 * rest waits for ready().
 */
export async function startService(p: ServiceParts, metricsListen: ListenAddr | null): Promise<Service> {
  const { log } = p;
  notifier.onError = (e) => log.warn('sd_notify', { err: errText(e) });
  let metrics: MetricsServer | null = null;
  if (metricsListen !== null) {
    const m = new TunkitMetrics({
      links: () => p.node.showLinks(),
      stackDrops: () => p.node.stackDrops(),
      xfrmStat: () => p.xfrm.mib.snapshot(),
      states: () => p.xfrm.sad.list(),
      policyCount: () => p.xfrm.spd.count,
      datapath: p.dp.stats,
    });
    metrics = new MetricsServer(m, (e) => log.warn('metrics', { err: errText(e) }));
    const a: AddressInfo = await metrics.listen(metricsListen);
    log.info('metrics_listening', { addr: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`, path: '/metrics' });
  }
  const srv = metrics;
  return {
    ready: () => {
      const wdMs = notifier.isEnabled ? watchdogIntervalMs() : null;
      if (wdMs !== null) {
        p.dp.startWatchdog(wdMs, () => notifier.watchdog());
        log.info('watchdog', { interval_ms: wdMs });
      }
      notifier.status(statusText(p));
      notifier.ready();
    },
    tick: () => {
      notifier.status(statusText(p));
      log.flush();
    },
    stopping: () => notifier.stopping(),
    close: async () => { await srv?.close(); },
  };
}
