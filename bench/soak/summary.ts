// Prints the soak's result from its work directory (bench/soak/run.sh):
// RSS drift minute 2 → last, throughput, ping loss, daemon errors, GCs.
//   node dist/bench/soak/summary.js WORKDIR
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '';
const read = (f: string): string => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
const rows = read('rss.txt').split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/).map(Number));

/** GC lines of node --trace-gc: "… ms: Scavenge 10.1 (12.3) -> 9.8 (12.3) MB, 0.52 / 0.00 ms …" → count, pause sum and max (ms). */
function gcs(text: string): { n: number; sum: number; max: number } {
  let n = 0; let sum = 0; let max = 0;
  for (const m of text.matchAll(/MB, (?:pooled: \d+ MB\), )?([\d.]+) \/ [\d.]+ ms/g)) {
    const p = Number(m[1]);
    n++; sum += p; max = Math.max(max, p);
  }
  return { n, sum, max };
}

function gbps(f: string): string {
  try {
    const j = JSON.parse(read(f)) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
    if (j.error !== undefined) return `error: ${j.error}`;
    return `${((j.end?.sum_received?.bits_per_second ?? 0) / 1e9).toFixed(3)} Gbit/s`;
  } catch { return 'no result'; }
}

const loss = (f: string): string => /(\d+) packets transmitted, (\d+) received/.exec(read(f))?.slice(1, 3).join(' sent, ').concat(' received') ?? 'no result';
const errors = (side: string): number => read(`tunkitd-${side}.log`).split('\n').filter((l) => l.includes('level=error')).length;

process.stdout.write(`throughput over the soak: GRE ${gbps('iperf-gre.json')}, ESP ${gbps('iperf-esp.json')}\n`);
process.stdout.write(`ping: GRE ${loss('ping-gre.txt')}; ESP ${loss('ping-esp.txt')}\n`);
for (const [i, side] of [[1, 'a'], [2, 'b']] as const) {
  const first = rows.find((r) => r[0] === 2) ?? rows[0];
  const last = rows[rows.length - 1];
  const drift = first !== undefined && last !== undefined ? ((last[i]! - first[i]!) / first[i]!) * 100 : NaN;
  const g = gcs(read(`tunkitd-${side}.gc`));
  process.stdout.write(`tunkitd ${side}: RSS ${first?.[i]?.toFixed(1) ?? '?'} MB at minute ${first?.[0] ?? '?'} → ${last?.[i]?.toFixed(1) ?? '?'} MB at minute ${last?.[0] ?? '?'}: drift ${drift.toFixed(1)} % (target < 5 %: ${Math.abs(drift) < 5 ? 'PASS' : 'MISS'}); errors logged ${errors(side)}; GCs ${g.n}, pauses ${g.sum.toFixed(0)} ms total, ${g.max.toFixed(1)} ms max\n`);
}
