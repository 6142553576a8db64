// bench/net/summary.ts — from run.sh's records to per-pass metrics, medians
// and the targets. No I/O: report.ts reads the files and prints.

import { parseIperf, parsePing } from './parse.js';
import type { PingResult } from './parse.js';

/** One line of systems.jsonl: a system's setup in one pass. */
export interface SystemLine {
  readonly system: string;
  readonly pass: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly note: string;
  readonly idle_ping: string;
  /** The same pings after the load runs (absent in records from before it was measured). */
  readonly idle_ping_after?: string;
}

/** One daemon's counters over one load run (measure.sh daemons_json). */
export interface DaemonLine {
  readonly side: string;
  readonly pid: number;
  readonly ticks: number | null;
  readonly gc: number | null;
  readonly gc_major: number | null;
  readonly rss_kb: number | null;
  readonly hwm_kb: number | null;
}

/** One line of runs.jsonl: one iperf3 run (1 or 4 streams). */
export interface RunLine {
  readonly system: string;
  readonly pass: number;
  readonly streams: number;
  readonly elapsed_s: number;
  readonly rx_dev: string;
  readonly rx_packets: number | null;
  readonly hz: number;
  readonly daemons: readonly DaemonLine[];
  readonly iperf: string;
  readonly ping: string;
}

export interface DaemonLoad {
  readonly side: string;
  readonly cpuPct: number | null;
  readonly gc: number | null;
  readonly gcMajor: number | null;
  readonly gcPer10s: number | null;
  readonly rssMb: number | null;
  readonly hwmMb: number | null;
}

export interface Load {
  readonly streams: number;
  readonly elapsedS: number;
  readonly gbps: number | null;
  readonly retransmits: number | null;
  readonly mss: number | null;
  readonly iperfError: string | null;
  readonly rxDev: string;
  readonly rxKpps: number | null;
  readonly ping: PingResult | null;
  readonly daemons: readonly DaemonLoad[];
}

export interface PassRecord {
  readonly system: string;
  readonly pass: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly note: string;
  readonly idlePing: PingResult | null;
  readonly idleAfterPing: PingResult | null;
  readonly loads: readonly Load[];
}

/** Reads a raw file by its path relative to the result directory ('' if absent). */
export type ReadRaw = (rel: string) => string;

function load(r: RunLine, read: ReadRaw): Load {
  const ip = parseIperf(read(r.iperf));
  const el = r.elapsed_s > 0 ? r.elapsed_s : null;
  const mb = (kb: number | null): number | null => (kb === null ? null : kb / 1024);
  return {
    streams: r.streams,
    elapsedS: r.elapsed_s,
    gbps: ip.gbps,
    retransmits: ip.retransmits,
    mss: ip.mss,
    iperfError: ip.error,
    rxDev: r.rx_dev,
    rxKpps: r.rx_packets === null || el === null ? null : r.rx_packets / el / 1000,
    ping: parsePing(read(r.ping)),
    daemons: r.daemons.map((d) => ({
      side: d.side,
      cpuPct: d.ticks === null || el === null ? null : (100 * d.ticks) / r.hz / el,
      gc: d.gc,
      gcMajor: d.gc_major,
      gcPer10s: d.gc === null || el === null ? null : (d.gc * 10) / el,
      rssMb: mb(d.rss_kb),
      hwmMb: mb(d.hwm_kb),
    })),
  };
}

export function passRecords(systems: readonly SystemLine[], runs: readonly RunLine[], read: ReadRaw): PassRecord[] {
  return systems.map((s) => ({
    system: s.system,
    pass: s.pass,
    ok: s.ok,
    error: s.error,
    note: s.note,
    idlePing: s.ok ? parsePing(read(s.idle_ping)) : null,
    idleAfterPing: s.ok && s.idle_ping_after !== undefined ? parsePing(read(s.idle_ping_after)) : null,
    loads: runs.filter((r) => r.system === s.system && r.pass === s.pass).map((r) => load(r, read)),
  }));
}

// ---- metrics: one name, one accessor; medians and the JSON use the same list

type Metric = (p: PassRecord) => number | null;

const loadOf = (p: PassRecord, streams: number): Load | undefined => p.loads.find((l) => l.streams === streams);
const daemonOf = (p: PassRecord, streams: number, side: string): DaemonLoad | undefined =>
  loadOf(p, streams)?.daemons.find((d) => d.side === side);
const peak = (p: PassRecord, side: string): number | null => {
  const v = p.loads.flatMap((l) => l.daemons.filter((d) => d.side === side && d.hwmMb !== null).map((d) => d.hwmMb!));
  return v.length === 0 ? null : Math.max(...v);
};

export const METRICS: Readonly<Record<string, Metric>> = {
  gbps_1: (p) => loadOf(p, 1)?.gbps ?? null,
  gbps_4: (p) => loadOf(p, 4)?.gbps ?? null,
  retransmits_1: (p) => loadOf(p, 1)?.retransmits ?? null,
  retransmits_4: (p) => loadOf(p, 4)?.retransmits ?? null,
  tcp_mss: (p) => loadOf(p, 1)?.mss ?? null,
  rtt_idle_ms: (p) => p.idlePing?.avgMs ?? null,
  rtt_idle_after_ms: (p) => p.idleAfterPing?.avgMs ?? null,
  rtt_load_ms_1: (p) => loadOf(p, 1)?.ping?.avgMs ?? null,
  rtt_load_ms_4: (p) => loadOf(p, 4)?.ping?.avgMs ?? null,
  rx_kpps_1: (p) => loadOf(p, 1)?.rxKpps ?? null,
  rx_kpps_4: (p) => loadOf(p, 4)?.rxKpps ?? null,
  cpu_a_1: (p) => daemonOf(p, 1, 'a')?.cpuPct ?? null,
  cpu_b_1: (p) => daemonOf(p, 1, 'b')?.cpuPct ?? null,
  cpu_a_4: (p) => daemonOf(p, 4, 'a')?.cpuPct ?? null,
  cpu_b_4: (p) => daemonOf(p, 4, 'b')?.cpuPct ?? null,
  gc_a_1: (p) => daemonOf(p, 1, 'a')?.gc ?? null,
  gc_b_1: (p) => daemonOf(p, 1, 'b')?.gc ?? null,
  gc_a_4: (p) => daemonOf(p, 4, 'a')?.gc ?? null,
  gc_b_4: (p) => daemonOf(p, 4, 'b')?.gc ?? null,
  gc_per10s_a_1: (p) => daemonOf(p, 1, 'a')?.gcPer10s ?? null,
  gc_per10s_b_1: (p) => daemonOf(p, 1, 'b')?.gcPer10s ?? null,
  gc_major_a_1: (p) => daemonOf(p, 1, 'a')?.gcMajor ?? null,
  gc_major_b_1: (p) => daemonOf(p, 1, 'b')?.gcMajor ?? null,
  rss_peak_mb_a: (p) => peak(p, 'a'),
  rss_peak_mb_b: (p) => peak(p, 'b'),
};

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const present = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null);

export interface SystemSummary {
  readonly system: string;
  readonly passes: number;
  readonly failed: number;
  readonly errors: readonly string[];
  readonly note: string;
  readonly median: Readonly<Record<string, number | null>>;
}

export function summarise(order: readonly string[], recs: readonly PassRecord[]): SystemSummary[] {
  return order.map((system) => {
    const all = recs.filter((r) => r.system === system);
    const ok = all.filter((r) => r.ok);
    const med: Record<string, number | null> = {};
    for (const [k, f] of Object.entries(METRICS)) med[k] = median(present(ok.map(f)));
    return {
      system,
      passes: ok.length,
      failed: all.length - ok.length,
      errors: [...new Set(all.filter((r) => !r.ok).map((r) => r.error ?? 'failed'))],
      note: ok[0]?.note ?? all[0]?.note ?? '',
      median: med,
    };
  });
}

// ---- targets: same-pass ratios, then their median

export interface TargetSpec {
  readonly label: string;
  readonly num: string;
  readonly den: string;
  readonly metric: string;
  /** ≥ k (throughput) or ≤ k (latency); 'info' is reported without a verdict. */
  readonly op: '>=' | '<=' | 'info';
  readonly k: number;
}

export interface TargetResult extends TargetSpec {
  readonly ratio: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly perPass: readonly (number | null)[];
  readonly verdict: 'PASS' | 'MISS' | 'n/a' | 'info';
}

const ESP = 'tunkit-esp-aesgcm128';
const SWAN = 'strongswan-aesgcm128';
const OVPN = 'openvpn-aesgcm256';
const CFWD = 'c-fwd';
const TK_TUNNELS = ['tunkit-ipip', 'tunkit-gre', ESP, 'tunkit-esp-chacha20', 'tunkit-esp-aescbc-sha256'];

function both(label: string, num: string, den: string, op: TargetSpec['op'], k: number): TargetSpec[] {
  return [1, 4].map((s) => ({ label: `${label}, ${s} stream${s > 1 ? 's' : ''}`, num, den, metric: `gbps_${s}`, op, k }));
}

export const TARGETS: readonly TargetSpec[] = [
  ...both('ESP AES-GCM-128 vs strongSwan kernel-libipsec', ESP, SWAN, '>=', 4),
  ...both('ESP AES-GCM-128 vs OpenVPN AES-256-GCM', ESP, OVPN, '>=', 2),
  ...both('GRE vs naive C forwarder', 'tunkit-gre', CFWD, '>=', 2),
  ...both('IPIP vs naive C forwarder', 'tunkit-ipip', CFWD, '>=', 2),
  ...TK_TUNNELS.map((t): TargetSpec => ({ label: `idle RTT ${t} vs OpenVPN`, num: t, den: OVPN, metric: 'rtt_idle_ms', op: '<=', k: 1 })),
  ...TK_TUNNELS.map((t): TargetSpec => ({ label: `idle RTT after load ${t} vs OpenVPN`, num: t, den: OVPN, metric: 'rtt_idle_after_ms', op: '<=', k: 1 })),
  ...both('ESP ChaCha20-Poly1305 vs strongSwan', 'tunkit-esp-chacha20', SWAN, 'info', 0),
  ...both('ESP ChaCha20-Poly1305 vs OpenVPN', 'tunkit-esp-chacha20', OVPN, 'info', 0),
  ...both('ESP AES-CBC+HMAC-SHA256 vs strongSwan', 'tunkit-esp-aescbc-sha256', SWAN, 'info', 0),
  ...both('ESP AES-CBC+HMAC-SHA256 vs OpenVPN', 'tunkit-esp-aescbc-sha256', OVPN, 'info', 0),
];

export function evaluate(recs: readonly PassRecord[], passes: readonly number[], specs = TARGETS): TargetResult[] {
  return specs.map((t) => {
    const f = METRICS[t.metric]!;
    const at = (sys: string, pass: number): number | null => {
      const r = recs.find((x) => x.system === sys && x.pass === pass && x.ok);
      return r === undefined ? null : f(r);
    };
    const perPass = passes.map((pass) => {
      const n = at(t.num, pass);
      const d = at(t.den, pass);
      return n === null || d === null || d === 0 ? null : n / d;
    });
    const got = present(perPass);
    const ratio = median(got);
    const verdict = t.op === 'info' ? 'info'
      : ratio === null ? 'n/a'
        : (t.op === '>=' ? ratio >= t.k : ratio <= t.k) ? 'PASS' : 'MISS';
    return { ...t, ratio, min: got.length > 0 ? Math.min(...got) : null, max: got.length > 0 ? Math.max(...got) : null, perPass, verdict };
  });
}
