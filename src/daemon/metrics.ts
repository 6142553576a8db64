// Prometheus metrics of one tunkitd (`--metrics-listen ADDR:PORT`, off by
// default): text exposition format 0.0.4 at GET /metrics, by prom-client.
//
// Nothing is counted here: every value is read from the counters the daemon
// already keeps (the cores' LinkStats, drop tables, the xfrm MIB and SA
// state, the data path's own counters) once per scrape, in collect(), so the
// packet path does no extra work. One snapshot per scrape (refresh()) feeds
// every metric, so the values of one scrape belong together.
//
// Names follow the Prometheus conventions: tunkit_ prefix, base units
// (bytes, seconds), _total for counters; labels device, dir (rx/tx),
// reason (tunkit's drop names), stat (kernel counter names), spi/src/dst.
// Device counters are exactly what `tunkit -s -j link show` prints (the same
// LinkRecord); xfrm counters what `tunkit xfrm stat` prints.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DatapathStats } from '../datapath/events.js';
import { VpnError } from '../wire/errors.js';
import { formatXAddr } from '../xfrm/selector.js';
import type { XfrmState } from '../xfrm/state.js';
import type { LinkRecord } from './link-record.js';

/** What a scrape reads; each call may allocate (control plane). */
export interface MetricsSource {
  /** Every device as `link show` returns it. */
  links(): LinkRecord[];
  /** Drops of packets that reached no device, by drop name. */
  stackDrops(): Record<string, number>;
  /** The xfrm MIB (`xfrm stat`), by kernel counter name. */
  xfrmStat(): Record<string, number>;
  /** Every SA. */
  states(): readonly XfrmState[];
  /** Number of xfrm policies. */
  policyCount(): number;
  readonly datapath: DatapathStats;
}

interface Snapshot {
  readonly links: LinkRecord[];
  readonly stackDrops: Record<string, number>;
  readonly xfrmStat: Record<string, number>;
  readonly states: readonly XfrmState[];
  readonly policies: number;
}

const EMPTY: Snapshot = { links: [], stackDrops: {}, xfrmStat: {}, states: [], policies: 0 };

/** rx_length_errors → ['rx', 'length']: the detailed error counters of rtnl_link_stats64. */
const DETAIL = /^(rx|tx)_([a-z]+)_errors$/;

/** prom-client default metrics that are gauges despite the _total suffix. */
const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export const spiLabel = (spi: number): string => `0x${spi.toString(16).padStart(8, '0')}`;

export class TunkitMetrics {
  readonly registry = new Registry();
  private snap: Snapshot = EMPTY;

  constructor(private readonly src: MetricsSource, withProcess = true) {
    if (withProcess) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named _total break the naming rules (promtool check metrics
      // refuses them); each is the sum of its per-type sibling without _total.
      for (const n of NON_COUNTER_TOTALS) this.registry.removeSingleMetric(n);
    }
    this.devices();
    this.sas();
    this.global();
  }

  /** Takes the snapshot the next registry.metrics() reports. */
  refresh(): void {
    this.snap = {
      links: this.src.links(), stackDrops: this.src.stackDrops(), xfrmStat: this.src.xfrmStat(),
      states: this.src.states(), policies: this.src.policyCount(),
    };
  }

  /** The exposition text of a fresh snapshot. */
  async scrape(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  /** A counter whose values fill() sets at each scrape (reset first: gone devices/SAs vanish). */
  private counter<L extends string>(name: string, help: string, labelNames: readonly L[], fill: (c: Counter<L>, s: Snapshot) => void): void {
    const snap = (): Snapshot => this.snap;
    new Counter<L>({ name, help, labelNames, registers: [this.registry], collect(this: Counter<L>) { this.reset(); fill(this, snap()); } });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Snapshot) => void): void {
    const snap = (): Snapshot => this.snap;
    new Gauge<L>({ name, help, labelNames, registers: [this.registry], collect(this: Gauge<L>) { this.reset(); fill(this, snap()); } });
  }

  private devices(): void {
    const both = (field: string) => (c: Counter<'device' | 'dir'>, s: Snapshot): void => {
      for (const l of s.links) {
        c.inc({ device: l.name, dir: 'rx' }, l.stats[`rx_${field}` as keyof LinkRecord['stats']]);
        c.inc({ device: l.name, dir: 'tx' }, l.stats[`tx_${field}` as keyof LinkRecord['stats']]);
      }
    };
    this.counter('tunkit_device_packets_total', 'Packets received (rx) and sent (tx) by a tunnel device (rx_packets, tx_packets).', ['device', 'dir'], both('packets'));
    this.counter('tunkit_device_bytes_total', 'Bytes received (rx) and sent (tx) by a tunnel device (rx_bytes, tx_bytes).', ['device', 'dir'], both('bytes'));
    this.counter('tunkit_device_errors_total', 'Packets with errors (rx_errors, tx_errors).', ['device', 'dir'], both('errors'));
    this.counter('tunkit_device_dropped_total', 'Packets dropped by the device (rx_dropped, tx_dropped).', ['device', 'dir'], both('dropped'));
    this.counter('tunkit_device_error_details_total', 'The detailed error counters of rtnl_link_stats64 (rx_length_errors → dir="rx",kind="length", …).',
      ['device', 'dir', 'kind'], (c, s) => {
        for (const l of s.links) {
          for (const [k, v] of Object.entries(l.stats)) {
            const m = DETAIL.exec(k);
            if (m !== null) c.inc({ device: l.name, dir: m[1]!, kind: m[2]! }, v);
          }
        }
      });
    this.counter('tunkit_device_multicast_packets_total', 'Multicast packets received (multicast).', ['device'], (c, s) => {
      for (const l of s.links) c.inc({ device: l.name }, l.stats.multicast);
    });
    this.counter('tunkit_device_drops_total', "Packets tunkit dropped on a device, by tunkit's drop reason (tunkit_drops in link show -j).", ['device', 'reason'], (c, s) => {
      for (const l of s.links) for (const [reason, v] of Object.entries(l.drops)) c.inc({ device: l.name, reason }, v);
    });
    this.gauge('tunkit_device_up', '1 when the device is administratively up (IFF_UP).', ['device', 'kind'], (g, s) => {
      for (const l of s.links) g.set({ device: l.name, kind: l.kind }, l.isUp ? 1 : 0);
    });
    this.gauge('tunkit_device_mtu_bytes', 'The device MTU.', ['device'], (g, s) => {
      for (const l of s.links) g.set({ device: l.name }, l.mtu);
    });
  }

  private sas(): void {
    type L = 'spi' | 'src' | 'dst';
    const labels = (x: XfrmState): Record<L, string> => ({ spi: spiLabel(x.cfg.spi), src: formatXAddr(x.cfg.src), dst: formatXAddr(x.cfg.dst) });
    const per = (name: string, help: string, v: (x: XfrmState) => number): void =>
      this.counter<L>(name, help, ['spi', 'src', 'dst'], (c, s) => { for (const x of s.states) c.inc(labels(x), v(x)); });
    per('tunkit_sa_packets_total', 'Packets protected or accepted by the SA (curlft packets).', (x) => x.curPackets);
    per('tunkit_sa_bytes_total', 'Bytes protected or accepted by the SA (curlft bytes).', (x) => x.curBytes);
    per('tunkit_sa_replay_window_errors_total', 'Packets outside the replay window (stats replay-window).', (x) => x.statReplayWindow);
    per('tunkit_sa_replay_errors_total', 'Replayed packets (stats replay).', (x) => x.statReplay);
    per('tunkit_sa_auth_failures_total', 'Packets that failed the integrity check (stats integrity-failed).', (x) => x.statIntegrityFailed);
    this.gauge<L>('tunkit_sa_add_time_seconds', 'When the SA was added, seconds since the Unix epoch (curlft add_time).', ['spi', 'src', 'dst'], (g, s) => {
      for (const x of s.states) g.set(labels(x), x.addTimeMs / 1000);
    });
    this.gauge<L>('tunkit_sa_use_time_seconds', 'When the SA was first used, seconds since the Unix epoch; 0 if never (curlft use_time).', ['spi', 'src', 'dst'], (g, s) => {
      for (const x of s.states) g.set(labels(x), x.useTimeMs / 1000);
    });
  }

  private global(): void {
    this.counter('tunkit_stack_drops_total', 'Packets dropped before reaching any device (malformed outer headers, no tunnel), by reason.', ['reason'], (c, s) => {
      for (const [reason, v] of Object.entries(s.stackDrops)) c.inc({ reason }, v);
    });
    this.counter('tunkit_xfrm_stat_total', 'The xfrm MIB as /proc/net/xfrm_stat and `tunkit xfrm stat` name it.', ['stat'], (c, s) => {
      for (const [stat, v] of Object.entries(s.xfrmStat)) c.inc({ stat }, v);
    });
    const dp = this.src.datapath;
    this.counter('tunkit_datapath_faults_total', 'Packets dropped because handling them failed (a bug or a dead device).', [], (c) => c.inc(dp.faults));
    this.counter('tunkit_datapath_recv_errors_total', 'Receive calls on the data path\'s sockets that failed and were retried.', [], (c) => c.inc(dp.recvErrors));
    this.counter('tunkit_datapath_devices_gone_total', 'Devices of tunkit deleted behind its back (each is made anew).', [], (c) => c.inc(dp.devicesGone));
    this.counter('tunkit_datapath_truncated_total', 'Packets read from a device that did not fit their buffer.', [], (c) => c.inc(dp.truncated));
    this.gauge('tunkit_tunnels', 'Tunnel devices (fallback devices included).', [], (g, s) => g.set(s.links.length));
    this.gauge('tunkit_sas', 'Security associations.', [], (g, s) => g.set(s.states.length));
    this.gauge('tunkit_policies', 'Security policies.', [], (g, s) => g.set(s.policies));
  }
}

export interface ListenAddr { readonly host: string; readonly port: number }

/** `ADDR:PORT` or `[ADDR6]:PORT` as given to --metrics-listen; throws EUSAGE naming the option. */
export function parseListen(s: string): ListenAddr {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(s);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || isIP(host) === 0 || (m[1] !== undefined && isIP(host) !== 6) || port > 65535) {
    throw new VpnError('EUSAGE', `tunkitd: --metrics-listen "${s}": expected ADDR:PORT with an IP address and a port 0-65535 (e.g. 127.0.0.1:9101 or [::1]:9101)`, 'metrics-listen');
  }
  return { host, port };
}

/** The HTTP side: GET|HEAD /metrics, 404 elsewhere, 405 for other methods. */
export class MetricsServer {
  private server: Server | null = null;

  constructor(private readonly metrics: TunkitMetrics, private readonly onError: (e: unknown) => void) {}

  /** Listens; resolves with the bound address (port 0 picks one). Rejects with the socket error (EADDRINUSE …). */
  async listen(a: ListenAddr): Promise<AddressInfo> {
    const srv = createServer((req, res) => this.serve(req, res));
    srv.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(a.port, a.host, () => { srv.off('error', reject); resolve(); });
    });
    srv.on('error', (e) => this.onError(e));
    this.server = srv;
    return srv.address() as AddressInfo;
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    this.metrics.scrape().then((text) => {
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : text);
    }, (e: unknown) => {
      this.onError(e);
      res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
    });
  }

  async close(): Promise<void> {
    const srv = this.server;
    this.server = null;
    if (srv === null) return;
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}
