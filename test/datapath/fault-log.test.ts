// ConditionLog (datapath/fault-log.ts): one start line and one end line per
// condition, however many batches it spans, and — with a hold — however
// often it flickers off for a batch (a socket buffer kept nearly full).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConditionLog } from '../../src/datapath/fault-log.js';

function setup(): { c: ConditionLog; lines: string[]; clock: { ms: number } } {
  const lines: string[] = [];
  const clock = { ms: 5000 };
  const c = new ConditionLog((m, isRecovery) => lines.push(`${isRecovery ? 'end' : 'start'}: ${m}`), () => clock.ms);
  return { c, lines, clock };
}

test('a condition that flickers is one start and one end with a hold; without one, each flicker is a pair', () => {
  for (const hold of [1000, 0]) {
    const { c, lines, clock } = setup();
    for (let i = 0; i < 10; i++) {
      c.note('send g1 EAGAIN', 3, 'sendmmsg refused 3 packets: EAGAIN');
      clock.ms += 20;
      c.clear('send g1 ', hold); // one batch that fitted
      clock.ms += 20;
    }
    if (hold === 0) {
      assert.equal(lines.length, 20, lines.join('\n'));
      continue;
    }
    assert.deepEqual(lines, ['start: datapath send g1 EAGAIN: sendmmsg refused 3 packets: EAGAIN (logged once until it clears)']);
    assert.equal(c.active, 1);
    clock.ms += 900; // the last note was 940 ms ago
    c.clear('send g1 ', hold);
    assert.equal(lines.length, 1, 'not yet: seen less than the hold ago');
    clock.ms += 100;
    c.clear('send g1 ', hold);
    assert.equal(lines.length, 2);
    assert.equal(lines[1], 'end: datapath send g1 EAGAIN: recovered, 30 packets lost meanwhile');
    assert.equal(c.active, 0);
  }
});

test('clear() ends only the conditions under its prefix', () => {
  const { c, lines } = setup();
  c.note('send g1 ENOBUFS', 1, 'x');
  c.note('send g10 ENOBUFS', 1, 'y');
  c.note('read g1', 0, 'z');
  c.clear('send g1 ');
  assert.deepEqual(lines.filter((l) => l.startsWith('end')), ['end: datapath send g1 ENOBUFS: recovered, 1 packets lost meanwhile']);
  assert.ok(c.has('send g10 ENOBUFS') && c.has('read g1'));
});
