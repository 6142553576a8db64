// No garbage per packet or per batch on the data path: alloc-measure.ts pumps
// packets through two Datapaths and reports the heap growth of its best chunk;
// each case runs it in a child without coverage (alloc-measure.ts says why).
// Up to 3 children per case, the least growth counts: V8's concurrent
// compiler is not deterministic, and a run whose loop is optimized late
// would count the interpreter's garbage, while an allocation per packet or
// per batch in the data path shows in every run. (What once made the ESP
// case fail one run in six was such an allocation: a u32 of 2^31 and up
// — the SA's destination, then SPIs and sequence numbers — boxed per packet
// whenever V8 chose not to inline the call it crossed; hot paths now pass
// such values as int32 bits.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runWithoutCoverage } from '../util/no-coverage.js';
import { CASES, PER_BATCH } from './alloc-measure-cases.js';

const SCRIPT = fileURLToPath(new URL('./alloc-measure.js', import.meta.url));

interface Measured { best: number | null; batches: number; packets: number; arrived: number }

/** alloc-measure.js for case i in a child without coverage. */
const measureInChild = (i: number): Measured => JSON.parse(runWithoutCoverage(SCRIPT, [String(i)])) as Measured;

CASES.forEach(([label], i) => {
  test(`data path allocates nothing per packet or batch: ${label}`, () => {
    let m: Measured | undefined;
    for (let run = 0; run < 3 && !(m !== undefined && m.best !== null && m.best <= PER_BATCH * m.batches); run++) {
      const r = measureInChild(i);
      if (m === undefined || (r.best !== null && (m.best === null || r.best < m.best))) m = r;
    }
    assert.ok(m !== undefined);
    assert.ok(m.arrived > 0, 'packets crossed to the other side');
    assert.ok(m.best !== null, 'a GC ran in every chunk: nothing measured');
    assert.ok(
      m.best <= PER_BATCH * m.batches,
      `the heap grew by ${m.best} bytes over ${m.batches} batches (${m.packets} packets) in the best chunk: ` +
        `${(m.best / m.batches).toFixed(2)} B per batch, ${(m.best / m.packets).toFixed(3)} B per packet`,
    );
  });
});
