// bench/net/floor.ts — the wake-up floor's figures (lib/floor.sh leaves one
// ping-like file per echo and pass). No I/O: report.ts reads and prints.

import { parsePing } from './parse.js';
import { median } from './summary.js';

/** Wake-ups of a tunnel daemon on one idle ping: a sends, b receives and sends the reply, a receives. */
export const WAKEUPS_PER_TUNNEL_PING = 3;

export interface FloorSummary {
  /** Passes whose C and Node files both had every probe answered. */
  readonly passes: number;
  /** Median over passes of the probes' average RTT, ms. */
  readonly cMs: number | null;
  readonly nodeMs: number | null;
  /** Median over passes of node − C in the same pass, ms: one Node wake-up over one C wake-up. */
  readonly perWakeupMs: number | null;
}

/** read(rel) returns a raw file's text ('' if absent). */
export function floorSummary(passes: readonly number[], read: (rel: string) => string): FloorSummary | null {
  const c: number[] = [];
  const node: number[] = [];
  const diff: number[] = [];
  for (const p of passes) {
    const a = parsePing(read(`raw/p${p}-floor-c.ping.txt`));
    const b = parsePing(read(`raw/p${p}-floor-node.ping.txt`));
    if (a === null || b === null || a.avgMs === null || b.avgMs === null) continue;
    if (a.received !== a.sent || b.received !== b.sent) continue;
    c.push(a.avgMs);
    node.push(b.avgMs);
    diff.push(b.avgMs - a.avgMs);
  }
  if (c.length === 0) return null;
  return { passes: c.length, cMs: median(c), nodeMs: median(node), perWakeupMs: median(diff) };
}

/** The report's lines for it. */
export function floorLines(f: FloorSummary | null): string {
  if (f === null) return 'wake-up floor: not measured (FLOOR=0, or probes were lost)\n';
  const ms = (v: number | null): string => (v === null ? '—' : v.toFixed(3));
  const per = f.perWakeupMs;
  return [
    `wake-up floor (UDP echo over the underlay veth, no tunnel, idle probes 0.2 s apart; avg ms, median of ${f.passes} pass(es)):`,
    `  C echo (udpecho.c)                       ${ms(f.cMs)}`,
    `  Node echo on tunkit's native I/O         ${ms(f.nodeMs)}   (+${ms(per)} ms per wake-up)`,
    `  an idle ping through a tunnel wakes its daemons ${WAKEUPS_PER_TUNNEL_PING} times: ` +
      `+${per === null ? '—' : (per * WAKEUPS_PER_TUNNEL_PING).toFixed(3)} ms of its RTT is Node's before any tunnel code runs`,
    '',
  ].join('\n');
}
