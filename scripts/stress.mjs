#!/usr/bin/env node
// `npm run stress`: the long runs of test/reliability (and any other
// reliability file that reads the knobs below), with their numbers.
//
// Runs every compiled dist/test/reliability/*.test.js whose name matches
// STRESS_PATTERN (default: all of them; e.g. STRESS_PATTERN='^fuzz-' or
// '^flood') one file at a time, with
//   FUZZ_RUNS        inputs per fuzz target (default 1,000,000)
//   FLOOD_PACKETS    packets per flood (default 1,000,000)
//   TUNKIT_STRESS_OUT  the file each target appends its JSON report line to
// and prints one table row per target: inputs or packets, seconds, rate,
// and the outcome counts. Other suites add their own files under
// test/reliability/ and write {kind, target, ...} lines to the same file;
// rows of another kind are printed as their JSON. Exit status: 1 if any
// file failed. Needs `npm run build` first (and root for the flood).

import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'test', 'reliability');
const pattern = new RegExp(process.env.STRESS_PATTERN ?? '.');
const files = readdirSync(dir).filter((f) => f.endsWith('.test.js') && pattern.test(f)).sort();
const tmp = mkdtempSync(join(tmpdir(), 'tunkit-stress-'));
const out = join(tmp, 'report.jsonl');
const env = {
  ...process.env,
  FUZZ_RUNS: process.env.FUZZ_RUNS ?? '1000000',
  FLOOD_PACKETS: process.env.FLOOD_PACKETS ?? '1000000',
  TUNKIT_STRESS_OUT: out,
};
let failed = 0;
const t0 = Date.now();
for (const f of files) {
  const s = Date.now();
  process.stdout.write(`# ${f} …\n`);
  const r = spawnSync(process.execPath, ['--test', '--test-timeout=7200000', join(dir, f)], { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 28 });
  const ok = r.status === 0;
  if (!ok) {
    failed++;
    process.stdout.write(r.stdout.split('\n').filter((l) => /not ok|Error|assert|fail/i.test(l)).slice(0, 40).join('\n') + '\n');
  }
  process.stdout.write(`# ${f}: ${ok ? 'ok' : 'FAILED'} in ${((Date.now() - s) / 1000).toFixed(1)} s\n`);
}
const rows = (() => { try { return readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)); } catch { return []; } })();
const fmt = (n) => Math.round(n).toLocaleString('en-US');
if (rows.some((r) => r.kind !== 'flood')) process.stdout.write(`\n${'target'.padEnd(24)} ${'inputs'.padStart(11)} ${'seconds'.padStart(8)} ${'per s'.padStart(9)} ${'slowest'.padStart(8)}  outcomes\n`);
const floods = rows.filter((r) => r.kind === 'flood');
for (const r of rows) {
  if (r.kind === 'flood') continue; // their own table below
  if (r.kind !== 'fuzz') { process.stdout.write(`${JSON.stringify(r)}\n`); continue; }
  const top = Object.entries(r.outcomes ?? {}).sort((a, b) => b[1] - a[1]);
  process.stdout.write(`${String(r.target).padEnd(24)} ${fmt(r.runs).padStart(11)} ${(r.ms / 1000).toFixed(1).padStart(8)} ${fmt(r.perSec).padStart(9)} ${`${r.slowestMs.toFixed(1)}ms`.padStart(8)}  ${top.length}: ${top.slice(0, 6).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}\n`);
}
if (floods.length > 0) {
  // test/reliability/flood.test.ts: packets sent, send time and rate, the pings' loss during it, the daemon's RSS.
  process.stdout.write(`\n${'flood'.padEnd(24)} ${'packets'.padStart(11)} ${'seconds'.padStart(8)} ${'per s'.padStart(9)} ${'ping loss'.padStart(16)} ${'RSS MB'.padStart(13)}  outcomes\n`);
  for (const r of floods) {
    const top = Object.entries(r.outcomes ?? {}).sort((a, b) => b[1] - a[1]);
    const loss = `${r.lossPct.toFixed(2)}% of ${fmt(r.pings)}`;
    process.stdout.write(`${String(r.target).padEnd(24)} ${fmt(r.runs).padStart(11)} ${(r.ms / 1000).toFixed(1).padStart(8)} ${fmt(r.perSec).padStart(9)} ${loss.padStart(16)} ${`${r.rssBeforeMb.toFixed(0)}→${r.rssAfterMb.toFixed(0)}`.padStart(13)}  ${top.length}: ${top.slice(0, 6).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}\n`);
  }
}
process.stdout.write(`\n${files.length} files, ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
rmSync(tmp, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
