// /proc/net/xfrm_stat: the 6.1 names in xfrm_mib_list order (net/xfrm/xfrm_proc.c),
// the dense XfrmStat indexes, and seq_printf("%-24s\t%lu\n") byte for byte —
// checked against a literal and against this host's own /proc/net/xfrm_stat
// (a newer kernel appends counters; the 6.1 list must be its prefix).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { XFRM_STAT_NAMES, XfrmMib, XfrmStat, formatXfrmStat } from '../../src/xfrm/mib.js';

/** xfrm_mib_list of Linux 6.1, in order (LINUX_MIB_XFRMINERROR .. LINUX_MIB_XFRMACQUIREERROR). */
const KERNEL_6_1 = [
  'XfrmInError', 'XfrmInBufferError', 'XfrmInHdrError', 'XfrmInNoStates', 'XfrmInStateProtoError',
  'XfrmInStateModeError', 'XfrmInStateSeqError', 'XfrmInStateExpired', 'XfrmInStateMismatch',
  'XfrmInStateInvalid', 'XfrmInTmplMismatch', 'XfrmInNoPols', 'XfrmInPolBlock', 'XfrmInPolError',
  'XfrmOutError', 'XfrmOutBundleGenError', 'XfrmOutBundleCheckError', 'XfrmOutNoStates',
  'XfrmOutStateProtoError', 'XfrmOutStateModeError', 'XfrmOutStateSeqError', 'XfrmOutStateExpired',
  'XfrmOutPolBlock', 'XfrmOutPolDead', 'XfrmOutPolError', 'XfrmFwdHdrError', 'XfrmOutStateInvalid',
  'XfrmAcquireError',
];

test('names: the 6.1 list, in order', () => {
  assert.deepEqual([...XFRM_STAT_NAMES], KERNEL_6_1);
  assert.equal(new Set(XFRM_STAT_NAMES).size, 28);
});

test('XfrmStat: one dense index per name, same order, without the Xfrm prefix', () => {
  const entries = Object.entries(XfrmStat);
  assert.equal(entries.length, XFRM_STAT_NAMES.length);
  entries.forEach(([key, index], i) => {
    assert.equal(index, i, key);
    assert.equal(`Xfrm${key}`, XFRM_STAT_NAMES[i]);
  });
  assert.equal(XfrmStat.InStateSeqError, 6);
  assert.equal(XfrmStat.OutStateSeqError, 20);
  assert.equal(XfrmStat.AcquireError, 27);
});

test('formatXfrmStat: %-24s, a tab, %lu, a newline — per line', () => {
  const text = formatXfrmStat({ XfrmInNoStates: 3, XfrmOutBundleCheckError: 4294967295, XfrmAcquireError: 12 });
  const lines = text.split('\n');
  assert.equal(lines.length, 29, '28 lines, each ending in \\n');
  assert.equal(lines[28], '');
  // Literal lines: the name padded with spaces to 24 columns, then TAB, then the value.
  assert.equal(lines[0], 'XfrmInError             \t0');
  assert.equal(lines[3], 'XfrmInNoStates          \t3');
  assert.equal(lines[16], 'XfrmOutBundleCheckError \t4294967295', 'the longest name (23) still gets one space');
  assert.equal(lines[27], 'XfrmAcquireError        \t12');
  for (const [i, line] of lines.slice(0, 28).entries()) {
    assert.match(line, /^[A-Za-z]{11,23} *\t\d+$/);
    assert.equal(line.indexOf('\t'), 24, `line ${i}`);
  }
});

test('formatXfrmStat: missing names print 0, unknown keys are ignored, bad values throw', () => {
  const zeros = formatXfrmStat({ XfrmOutStateDirError: 5, toString: 7 });
  assert.equal(zeros, KERNEL_6_1.map((n) => `${n.padEnd(24)}\t0\n`).join(''));
  assert.throws(() => formatXfrmStat({ XfrmInError: -1 }), RangeError);
  assert.throws(() => formatXfrmStat({ XfrmInError: 1.5 }), RangeError);
  assert.throws(() => formatXfrmStat({ XfrmInError: Number.NaN }), RangeError);
});

const PROC = '/proc/net/xfrm_stat';

test('formatXfrmStat reproduces this host kernel\'s /proc/net/xfrm_stat (its 6.1 prefix)', { skip: !existsSync(PROC) && `${PROC} missing` }, () => {
  const host = readFileSync(PROC, 'utf8');
  const lines = host.split('\n').filter((l) => l !== '');
  const names = lines.map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names.slice(0, 28), KERNEL_6_1, 'the 6.1 list is a prefix of later kernels');
  const values: Record<string, number> = {};
  for (const l of lines) {
    const [name, v] = l.split('\t');
    values[name!.trimEnd()] = Number(v);
  }
  assert.equal(formatXfrmStat(values), lines.slice(0, 28).map((l) => `${l}\n`).join(''));
});

test('XfrmMib: inc, snapshot, format', () => {
  const mib = new XfrmMib();
  assert.equal(mib.counters.length, 28);
  mib.inc(XfrmStat.InStateSeqError);
  mib.inc(XfrmStat.InStateSeqError);
  mib.inc(XfrmStat.OutStateSeqError);
  mib.inc(XfrmStat.AcquireError);
  const snap = mib.snapshot();
  assert.deepEqual(Object.keys(snap), KERNEL_6_1, 'every name, in order');
  assert.equal(snap.XfrmInStateSeqError, 2);
  assert.equal(snap.XfrmOutStateSeqError, 1);
  assert.equal(snap.XfrmAcquireError, 1);
  assert.equal(Object.values(snap).reduce((a, b) => a + b, 0), 4);
  assert.match(formatXfrmStat(snap), /^XfrmInStateSeqError {5}\t2$/m);
  mib.inc(XfrmStat.InStateSeqError);
  assert.equal(snap.XfrmInStateSeqError, 2, 'a snapshot is a copy');
  mib.counters[XfrmStat.InError] = 0xffffffff;
  mib.inc(XfrmStat.InError);
  assert.equal(mib.counters[XfrmStat.InError], 0, 'u32 counters wrap');
  for (const bad of [-1, 28, 1.5, Number.NaN]) assert.throws(() => mib.inc(bad), RangeError, String(bad));
});
