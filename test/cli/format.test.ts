// src/cli/format.ts: print_stats64 (text and JSON), lib/json_writer.c, drop lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  dropsRecord, formatDrops, formatDropsRecord, formatJsonw, formatLinkStats, formatStats64, snakeKey, snakeKeys, stats64Json,
  tunkitDropsLine,
} from '../../src/cli/format.js';
import { monitorJson } from '../../src/cli/link.js';
import { runXfrm } from '../../src/cli/xfrm.js';
import type { Control } from '../../src/daemon/client.js';
import type { Op } from '../../src/daemon/protocol.js';
import type { JsonValue } from '../../src/cli/format.js';
import { LinkStats } from '../../src/tunnel/stats.js';
import { Drop } from '../../src/wire/drop.js';

function refStats(): LinkStats {
  const s = new LinkStats();
  s.rx_bytes = 94; s.rx_packets = 2; s.tx_bytes = 262; s.tx_packets = 4;
  return s;
}

test('formatStats64 level 1: the reference RX/TX blocks (no transns column at level 1)', () => {
  assert.deepEqual(formatStats64(refStats().snapshot(), 1, 0), [
    '    RX:  bytes packets errors dropped  missed   mcast           ',
    '            94       2      0       0       0       0 ',
    '    TX:  bytes packets errors dropped carrier collsns           ',
    '           262       4      0       0       0       0 ',
  ]);
});

test('formatStats64 level 2 without IFLA_CARRIER_CHANGES: blank transns header, no value', () => {
  const out = formatStats64(refStats().snapshot(), 2);
  assert.equal(out[6], '    TX errors: aborted   fifo  window heartbt        ');
  assert.equal(out[7], '                     0      0       0       0 ');
});

test('formatLinkStats(LinkStats): exact iproute2 layout, then the tunkit drops line', () => {
  const s = refStats();
  s.drops[Drop.GreChecksum] = 2;
  s.drops[Drop.Truncated] = 1;
  assert.equal(formatLinkStats(s), [
    '    RX:  bytes packets errors dropped  missed   mcast           ',
    '            94       2      0       0       0       0 ',
    '    RX errors:  length    crc   frame    fifo overrun',
    '                     0      0       0       0       0 ',
    '    TX:  bytes packets errors dropped carrier collsns           ',
    '           262       4      0       0       0       0 ',
    '    TX errors: aborted   fifo  window heartbt transns',
    '                     0      0       0       0       0 ',
    '    tunkit drops: Truncated 1, GreChecksum 2',
  ].join('\n'));
  assert.equal(formatLinkStats(refStats(), 1).split('\n').length, 4, 'no drops: no line');
});

test('stats64Json: level 1 and level 2 keys (print_stats64 PRINT_JSON)', () => {
  const s = refStats().snapshot();
  assert.deepEqual(stats64Json(s, 1, 5), {
    rx: { bytes: 94, packets: 2, errors: 0, dropped: 0, over_errors: 0, multicast: 0 },
    tx: { bytes: 262, packets: 4, errors: 0, dropped: 0, carrier_errors: 0, collisions: 0 },
  });
  const two = stats64Json(s, 2) as { tx: Record<string, number> };
  assert.equal('carrier_changes' in two.tx, false);
  assert.equal((stats64Json(s, 2, 0) as { tx: Record<string, number> }).tx.carrier_changes, 0);
});

test('drops: record of non-zero entries in Drop order; text; the tunkit drops line', () => {
  const t = new Uint32Array(64);
  t[Drop.SeqOutOfOrder] = 2;
  t[Drop.NoTunnel] = 1;
  assert.deepEqual(dropsRecord(t), { NoTunnel: 1, SeqOutOfOrder: 2 });
  assert.equal(formatDrops(t), 'NoTunnel 1, SeqOutOfOrder 2');
  assert.equal(formatDropsRecord({ Zed: 4, SeqOutOfOrder: 2, Other: 1, NoTunnel: 1, Zero: 0 }),
    'NoTunnel 1, SeqOutOfOrder 2, Zed 4, Other 1');
  assert.equal(tunkitDropsLine({}), null);
  assert.equal(tunkitDropsLine({ NoTunnel: 0 }), null);
  assert.equal(tunkitDropsLine({ NoTunnel: 3 }), '    tunkit drops: NoTunnel 3');
  assert.equal(formatDrops(new Uint32Array(64)), '');
});

test('formatJsonw: json_writer.c compact and pretty layouts', () => {
  const v: JsonValue = { a: 1, b: [1, 'x'], c: {}, d: { e: null, f: true }, g: [] };
  assert.equal(formatJsonw(v, false), '{"a":1,"b":[1,"x"],"c":{},"d":{"e":null,"f":true},"g":[]}');
  assert.equal(formatJsonw(v, true),
    '{\n    "a": 1,\n    "b": [ 1,"x" ],\n    "c": {},\n    "d": {\n        "e": null,\n        "f": true\n    },\n    "g": [ ]\n}');
  assert.equal(formatJsonw([{ a: 1 }, { b: 2 }], true), '[ {\n        "a": 1\n    },{\n        "b": 2\n    } ]');
  assert.equal(formatJsonw({}, true), '{}');
});

test('formatJsonw: jsonw_puts escapes (C escapes, \\u00XX for control characters and DEL)', () => {
  assert.equal(formatJsonw('a"b\\c\n\t\r\f\b\u0001\u007f/é', false), '"a\\"b\\\\c\\n\\t\\r\\f\\b\\u0001\\u007f/é"');
});

test('property: formatJsonw output parses back to the same value (compact and pretty)', () => {
  const arb = fc.jsonValue({ maxDepth: 4 }).filter((v) => JSON.stringify(v) === JSON.stringify(JSON.parse(JSON.stringify(v))));
  fc.assert(fc.property(arb, fc.boolean(), (v, pretty) => {
    const clean = JSON.parse(JSON.stringify(v)) as JsonValue;
    assert.deepEqual(JSON.parse(formatJsonw(clean, pretty)), clean);
  }), { numRuns: 500 });
});

test('snakeKeys: -j xfrm keys in iproute2 JSON style (snake_case, flags without is_/has_), values untouched', () => {
  assert.equal(snakeKey('replayWindow'), 'replay_window');
  assert.equal(snakeKey('timeUseHard'), 'time_use_hard');
  assert.equal(snakeKey('ifId'), 'if_id');
  assert.equal(snakeKey('isEsn'), 'esn');
  assert.equal(snakeKey('hasIkey'), 'ikey');
  assert.equal(snakeKey('spi'), 'spi');
  assert.equal(snakeKey('island'), 'island', 'a word starting with "is" stays');
  const rec = { spi: 4097, ifId: 7, stats: { replayWindow: 1, integrityFailed: 2 }, replay: { isEsn: true, bitmap: [1, 2] }, tmpls: [{ reqid: 1, keyHex: 'aB' }], sel: null };
  assert.deepEqual(snakeKeys(rec), {
    spi: 4097, if_id: 7, stats: { replay_window: 1, integrity_failed: 2 }, replay: { esn: true, bitmap: [1, 2] }, tmpls: [{ reqid: 1, key_hex: 'aB' }], sel: null,
  });
});

test('-j xfrm state list / stat through runXfrm: snake_case records, /proc names kept for stat', async () => {
  const ctl: Control = {
    path: '/nonexistent',
    request: (op: Op): Promise<unknown> => Promise.resolve(op === 'xfrm.stat' ? { XfrmInError: 3 } : [{ spi: 1, curlft: { addTime: 5 }, replay: { isEsn: false } }]),
  };
  let out = '';
  const o = { statsLevel: 0, hasDetails: false, isJson: true, isPretty: false };
  await runXfrm(['state', 'list'], ctl, o, (s) => { out += s; });
  assert.deepEqual(JSON.parse(out), [{ spi: 1, curlft: { add_time: 5 }, replay: { esn: false } }]);
  out = '';
  await runXfrm(['stat'], ctl, o, (s) => { out += s; });
  assert.deepEqual(JSON.parse(out), { XfrmInError: 3 });
});

test('monitor -j: xfrm events in -j xfrm\'s snake_case, link events unchanged', () => {
  const x = JSON.parse(monitorJson({ type: 'xfrm.mapping', dst: '192.0.2.1', spi: 1, oldSrc: '192.0.2.2', oldSport: 4500, newSrc: '192.0.2.3', newSport: 4501 })) as Record<string, unknown>;
  assert.deepEqual(Object.keys(x), ['type', 'dst', 'spi', 'old_src', 'old_sport', 'new_src', 'new_sport']);
  assert.deepEqual(JSON.parse(monitorJson({ type: 'link.mtu', dev: 'gre1', mtu: 1400 })), { type: 'link.mtu', dev: 'gre1', mtu: 1400 });
});
