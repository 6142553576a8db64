// bench/net/report.ts — the end of bench/net/run.sh: reads a result directory,
// prints the table of medians and the targets, writes results.json there.
//
//   node dist/bench/net/report.js RESULT_DIR
//
// It can be re-run on an old result directory at any time.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floorLines, floorSummary } from './floor.js';
import { evaluate, passRecords, summarise } from './summary.js';
import type { RunLine, SystemLine, SystemSummary, TargetResult } from './summary.js';

interface Meta {
  readonly date?: string;
  readonly dur_s?: number;
  readonly repeat?: number;
  readonly systems?: readonly string[];
  readonly commit?: string;
  readonly kernel?: string;
  readonly cpus?: number;
  readonly node?: string;
  readonly versions?: Readonly<Record<string, string>>;
}

function jsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

const fmt = (v: number | null | undefined, digits: number): string => (v === null || v === undefined ? '—' : v.toFixed(digits));
const pair = (a: number | null | undefined, b: number | null | undefined, digits: number): string =>
  a == null && b == null ? '—' : `${fmt(a, digits)}/${fmt(b, digits)}`;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function systemsTable(sums: readonly SystemSummary[]): string {
  const head = ['system', 'Gbit/s 1', 'Gbit/s 4', 'retr 1/4', 'RTT idle', 'idle after', 'RTT load', 'kpps rx 1', 'kpps rx 4', 'CPU% a/b 1', 'CPU% a/b 4', 'GC/10s a/b', 'RSS MB a/b', 'ok'];
  const rows = sums.map((s) => {
    const m = s.median;
    return [
      s.system, fmt(m['gbps_1'], 3), fmt(m['gbps_4'], 3), pair(m['retransmits_1'], m['retransmits_4'], 0), fmt(m['rtt_idle_ms'], 3), fmt(m['rtt_idle_after_ms'], 3), fmt(m['rtt_load_ms_1'], 3),
      fmt(m['rx_kpps_1'], 1), fmt(m['rx_kpps_4'], 1), pair(m['cpu_a_1'], m['cpu_b_1'], 0), pair(m['cpu_a_4'], m['cpu_b_4'], 0),
      pair(m['gc_per10s_a_1'], m['gc_per10s_b_1'], 0), pair(m['rss_peak_mb_a'], m['rss_peak_mb_b'], 0),
      `${s.passes}/${s.passes + s.failed}`,
    ];
  });
  return table([head, ...rows]);
}

/** A ratio to 2 decimals, or 3 where 2 would print the target itself (1.995 against ≥ 2× reads 1.995, not 2.00, beside its MISS). */
function ratioText(r: number, k: number): string {
  return r.toFixed(2) === k.toFixed(2) && r !== k ? r.toFixed(3) : r.toFixed(2);
}

function targetsTable(ts: readonly TargetResult[]): string {
  const rows = ts.map((t) => {
    const want = t.op === 'info' ? '' : `${t.op === '>=' ? '≥' : '≤'} ${t.k}×`;
    const range = t.min !== null && t.max !== null && t.min !== t.max ? ` (${t.min.toFixed(2)}–${t.max.toFixed(2)})` : '';
    return [t.label, want, t.ratio === null ? '—' : `${ratioText(t.ratio, t.k)}×${range}`, t.verdict === 'info' ? '' : t.verdict];
  });
  return table([['target (same-pass ratio, median of passes)', 'want', 'measured', ''], ...rows]);
}

function main(argv: readonly string[]): number {
  const dir = argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node dist/bench/net/report.js RESULT_DIR\n');
    return 2;
  }
  const meta = (existsSync(join(dir, 'meta.json')) ? JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) : {}) as Meta;
  const systems = jsonLines<SystemLine>(join(dir, 'systems.jsonl'));
  const runs = jsonLines<RunLine>(join(dir, 'runs.jsonl'));
  const read = (rel: string): string => (existsSync(join(dir, rel)) ? readFileSync(join(dir, rel), 'utf8') : '');

  const recs = passRecords(systems, runs, read);
  const order = meta.systems ?? [...new Set(systems.map((s) => s.system))];
  const passes = [...new Set(systems.map((s) => s.pass))].sort((a, b) => a - b);
  const sums = summarise(order, recs);
  const targets = evaluate(recs, passes);
  const floor = floorSummary(passes, read);

  const out = process.stdout;
  out.write(`\ntunkit bench/net — ${meta.date ?? '?'}, commit ${meta.commit ?? '?'}, kernel ${meta.kernel ?? '?'}, ${meta.cpus ?? '?'} CPUs, node ${meta.node ?? '?'}\n`);
  out.write(`iperf3 TCP ${meta.dur_s ?? '?'} s per run, medians of ${passes.length} interleaved pass(es); retr = TCP retransmits; RTT in ms (ping avg);\n`);
  out.write('kpps rx = packets/s written into the receiving TUN (veth: received); CPU%, GC and RSS per data-path process, side a (sender) / b;\n');
  out.write('GC/10s = tunkitd garbage collections during the 1-stream run, per 10 s; RSS MB = peak (VmHWM).\n\n');
  out.write(`${systemsTable(sums)}\n\n`);
  for (const s of sums) {
    out.write(`  ${s.system}: ${s.note || '—'}${s.failed > 0 ? `  [failed ${s.failed}×: ${s.errors.join('; ')}]` : ''}\n`);
  }
  const mss = new Set(sums.map((s) => s.median['tcp_mss']).filter((m) => m != null));
  if (mss.size > 1) out.write(`  warning: TCP MSS differs between systems (${[...mss].join(', ')}): inner MTUs do not match\n`);
  out.write(`\n${targetsTable(targets)}\n\n`);
  out.write(`${floorLines(floor)}\n`);

  const file = join(dir, 'results.json');
  writeFileSync(file, `${JSON.stringify({ meta, medians: sums, targets, floor, passes: recs, raw: { systems, runs } }, null, 2)}\n`);
  out.write(`results (raw and medians): ${file}\n`);
  return 0;
}

process.exitCode = main(process.argv);
