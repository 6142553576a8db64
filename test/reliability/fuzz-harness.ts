// Shared machinery of the fuzz targets (test/reliability/fuzz-*.test.ts).
//
// A target is a fast-check property whose body classifies one input and
// returns the outcome's name (a verdict, a drop reason, an error code); any
// throw other than what the target's contract allows fails the test with
// fast-check's seed and shrunk counterexample. Besides throws, two more
// things fail a target:
//   - a hang: the slowest single input must finish within SLOW_INPUT_MS
//     (a synchronous loop cannot be interrupted, so "no hang" is measured
//     as bounded work per input; the suite's per-file timeout is the last
//     resort);
//   - an outcome outside the target's named set (classify() throws).
//
// Knobs (environment):
//   FUZZ_RUNS=N        inputs per target (default: each target's bounded
//                      suite value; `npm run stress` sets 1,000,000)
//   FUZZ_SEED=N        fast-check seed (default: random, printed on failure)
//   TUNKIT_STRESS_OUT  a file to append one JSON line per target to
//                      ({target, runs, ms, perSec, slowestMs, outcomes}),
//                      which scripts/stress.mjs prints as a table.

import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import fc from 'fast-check';

/** An input slower than this counts as a hang (ms). Generous: the VM is shared and GC pauses land on inputs. */
export const SLOW_INPUT_MS = 250;

/** Inputs per target: FUZZ_RUNS, else `bounded` (the normal suite's run). */
export function fuzzRuns(bounded: number): number {
  const n = Number(process.env['FUZZ_RUNS']);
  return Number.isSafeInteger(n) && n > 0 ? n : bounded;
}

/** True when `npm run stress` (or anyone) asked for more than the bounded run. */
export const isStress = (): boolean => process.env['FUZZ_RUNS'] !== undefined && process.env['FUZZ_RUNS'] !== '';

function seed(): number | undefined {
  const s = Number(process.env['FUZZ_SEED']);
  return Number.isSafeInteger(s) ? s : undefined;
}

export interface FuzzReport {
  readonly target: string;
  readonly runs: number;
  readonly ms: number;
  readonly perSec: number;
  readonly slowestMs: number;
  readonly outcomes: Readonly<Record<string, number>>;
}

/** Records a finished target: a diagnostic line, and a JSON line for the stress runner. */
export function report(t: TestContext, r: FuzzReport): void {
  const top = Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]);
  t.diagnostic(`${r.target}: ${r.runs} inputs in ${(r.ms / 1000).toFixed(2)} s (${Math.round(r.perSec)}/s), slowest ${r.slowestMs.toFixed(1)} ms; ${top.length} outcomes: ${top.slice(0, 12).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const out = process.env['TUNKIT_STRESS_OUT'];
  if (out !== undefined && out !== '') appendFileSync(out, `${JSON.stringify({ kind: 'fuzz', ...r })}\n`);
}

/**
 * Runs `body` on `runs` inputs from `arb`; body returns the outcome's name.
 * Fails on a throw (fast-check shrinks it), on an input slower than
 * SLOW_INPUT_MS, or when fewer than `minOutcomes` distinct outcomes were
 * seen (a target that never gets past its first check is not fuzzing).
 */
export function fuzz<T>(
  t: TestContext, target: string, arb: fc.Arbitrary<T>, body: (v: T) => string, o: { runs: number; minOutcomes?: number },
): FuzzReport {
  const tally = new Tally<T>();
  fc.assert(fc.property(arb, (v) => {
    let s = performance.now();
    const k = body(v);
    let d = performance.now() - s;
    for (let i = 0; i < RETIMES && d >= SLOW_INPUT_MS; i++) { // see Tally
      s = performance.now();
      body(v);
      d = Math.min(d, performance.now() - s);
    }
    tally.add(v, k, d);
  }), { numRuns: o.runs, seed: seed() });
  return tally.finish(t, target, o);
}

/**
 * Outcomes and the slowest input of one target. An input over SLOW_INPUT_MS
 * is timed again (RETIMES times) and its fastest time counts: a hang is
 * deterministic and repeats, a GC pause or a descheduled process on the
 * shared VM does not (a stress run saw one 1.8 s stall on `ike initiate
 * net-net`, which took 0.1 ms every other time).
 */
class Tally<T> {
  private readonly outcomes = new Map<string, number>();
  private slowest = 0;
  private slowInput: T | undefined;
  private readonly t0 = performance.now();

  add(v: T, k: string, ms: number): void {
    if (ms > this.slowest) {
      this.slowest = ms;
      this.slowInput = v;
    }
    this.outcomes.set(k, (this.outcomes.get(k) ?? 0) + 1);
  }

  finish(t: TestContext, target: string, o: { runs: number; minOutcomes?: number }): FuzzReport {
    const ms = performance.now() - this.t0;
    const r: FuzzReport = { target, runs: o.runs, ms, perSec: (o.runs * 1000) / ms, slowestMs: this.slowest, outcomes: Object.fromEntries(this.outcomes) };
    report(t, r);
    assert.ok(this.slowest < SLOW_INPUT_MS, `${target}: one input took ${this.slowest.toFixed(1)} ms (a hang?): ${JSON.stringify(this.slowInput, replacer)?.substring(0, 400)}`);
    assert.ok(this.outcomes.size >= (o.minOutcomes ?? 1), `${target}: only ${this.outcomes.size} distinct outcomes (${[...this.outcomes.keys()].join(', ')}): the inputs do not reach past the first check`);
    return r;
  }
}

/** Times a slow input is run again before it counts as a hang. */
const RETIMES = 2;

const replacer = (_k: string, v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);

// ---------------------------------------------------------------- byte mutation

/** Values that sit on boundaries of length and flag fields. */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x45, 0x60, 0x20, 0x10, 0x08, 0x04, 2, 3, 16, 32, 64];

/**
 * One edit: [kind, position seed, value seed]. Kinds: 0 flip a bit, 1 set a
 * byte, 2 set an interesting byte, 3 truncate, 4 append bytes, 5 copy a
 * block inside the packet, 6 set a big-endian u16 to an interesting value.
 */
type Edit = readonly [number, number, number];

function applyEdit(p: Uint8Array, [kind, pos, val]: Edit): Uint8Array {
  const n = p.length;
  const i = n === 0 ? 0 : pos % n;
  switch (kind) {
    case 0: if (n > 0) p[i]! ^= 1 << (val & 7); return p;
    case 1: if (n > 0) p[i] = val & 0xff; return p;
    case 2: if (n > 0) p[i] = INTERESTING[val % INTERESTING.length]!; return p;
    case 3: return p.subarray(0, n === 0 ? 0 : pos % (n + 1));
    case 4: {
      const q = new Uint8Array(n + 1 + (val % 64));
      q.set(p);
      for (let k = n; k < q.length; k++) q[k] = (val * (k + 7)) & 0xff;
      return q;
    }
    case 5: {
      if (n < 2) return p;
      const len = 1 + (val % Math.min(n, 32));
      const from = (pos >>> 8) % (n - len + 1);
      p.copyWithin(i, from, from + len);
      return p;
    }
    default: {
      if (n < 2) return p;
      const j = i === n - 1 ? i - 1 : i;
      const v = [0, 1, 0xffff, 0x7fff, 0x8000, n, n - 1, n + 1, 20, 40][val % 10]! & 0xffff;
      p[j] = v >>> 8;
      p[j + 1] = v & 0xff;
      return p;
    }
  }
}

/** A copy of seeds[k] with up to maxEdits random edits (bit flips, boundary values, truncation, extension). */
export function mutated(seeds: readonly Uint8Array[], maxEdits = 6): fc.Arbitrary<Uint8Array> {
  assert.ok(seeds.length > 0, 'mutated() needs seeds');
  const edit = fc.tuple(fc.nat(6), fc.nat(), fc.nat(0xffff));
  return fc.tuple(fc.nat(seeds.length - 1), fc.array(edit, { minLength: 1, maxLength: maxEdits })).map(([k, edits]) => {
    let p: Uint8Array = new Uint8Array(seeds[k]!);
    for (const e of edits) p = applyEdit(p, e);
    return p;
  });
}

/** Mostly mutated seeds, some unmodified seeds and some random bytes (weights 8:1:2). */
export function packets(seeds: readonly Uint8Array[], maxRandom = 300): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: mutated(seeds), weight: 8 },
    { arbitrary: fc.constantFrom(...seeds).map((s) => new Uint8Array(s)), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: maxRandom }), weight: 2 },
  );
}

/** Bytes from hex (the vectors' format). */
export const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/**
 * Repairs what the kernel checks before a raw socket sees a packet (ip_rcv:
 * IPv4 total length ≤ the packet, header checksum), so mutations get past
 * the outer header: used on half the inputs of the receive-path targets.
 */
export function fixOuter(p: Uint8Array): Uint8Array {
  if (p.length < 20 || p[0]! >>> 4 !== 4) return p;
  const hl = (p[0]! & 0xf) * 4;
  if (hl < 20 || hl > p.length) return p;
  p[2] = p.length >>> 8;
  p[3] = p.length & 0xff;
  p[10] = 0;
  p[11] = 0;
  let s = 0;
  for (let i = 0; i < hl; i += 2) s += (p[i]! << 8) | p[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  p[10] = s >>> 8;
  p[11] = s & 0xff;
  return p;
}

/** packets(seeds), with the outer IPv4 header repaired (fixOuter) on half of them. */
export const outerPackets = (seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc.tuple(packets(seeds), fc.boolean()).map(([p, fix]) => (fix ? fixOuter(p) : p));

/** Recomputes the ICMP checksum of an IPv4 packet carrying ICMP (protocol 1); others unchanged. */
export function fixIcmp(p: Uint8Array): Uint8Array {
  if (p.length < 28 || p[0]! >>> 4 !== 4 || p[9] !== 1) return p;
  const hl = (p[0]! & 0xf) * 4;
  if (hl < 20 || hl + 4 > p.length) return p;
  p[hl + 2] = 0;
  p[hl + 3] = 0;
  let s = 0;
  for (let i = hl; i < p.length; i += 2) s += (p[i]! << 8) | (i + 1 < p.length ? p[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  p[hl + 2] = s >>> 8;
  p[hl + 3] = s & 0xff;
  return p;
}

/** outerPackets for ICMP errors: the ICMP checksum is repaired too on half of them. */
export const icmpPackets = (seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc.tuple(outerPackets(seeds), fc.boolean()).map(([p, fix]) => (fix ? fixOuter(fixIcmp(p)) : p));

/** fuzz() for a body that returns a Promise (the CLI's run functions); the same checks. */
export async function fuzzAsync<T>(
  t: TestContext, target: string, arb: fc.Arbitrary<T>, body: (v: T) => Promise<string>, o: { runs: number; minOutcomes?: number },
): Promise<FuzzReport> {
  const tally = new Tally<T>();
  await fc.assert(fc.asyncProperty(arb, async (v) => {
    let s = performance.now();
    const k = await body(v);
    let d = performance.now() - s;
    for (let i = 0; i < RETIMES && d >= SLOW_INPUT_MS; i++) { // see Tally
      s = performance.now();
      await body(v);
      d = Math.min(d, performance.now() - s);
    }
    tally.add(v, k, d);
  }), { numRuns: o.runs, seed: seed() });
  return tally.finish(t, target, o);
}

/** Token-array mutation (the CLI's argv): replace, insert, delete, truncate, duplicate, with words from `vocab`. */
export function mutatedArgv(seeds: readonly (readonly string[])[], vocab: readonly string[]): fc.Arbitrary<string[]> {
  const word = fc.oneof({ arbitrary: fc.constantFrom(...vocab), weight: 6 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });
  const edit = fc.tuple(fc.nat(4), fc.nat(), word);
  return fc.tuple(fc.nat(seeds.length - 1), fc.array(edit, { maxLength: 5 })).map(([k, edits]) => {
    const a = [...seeds[k]!];
    for (const [kind, pos, w] of edits) {
      const i = a.length === 0 ? 0 : pos % a.length;
      if (kind === 0 && a.length > 0) a[i] = w;
      else if (kind === 1) a.splice(i, 0, w);
      else if (kind === 2) a.splice(i, 1);
      else if (kind === 3) a.length = pos % (a.length + 1);
      else a.splice(i, 0, ...a.slice(i, i + 3));
    }
    return a;
  });
}
