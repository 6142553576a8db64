// The capture taps (src/datapath/capture.ts): records in pcap form, a full
// sink drops and counts instead of queueing, taps come off the port when
// stopped (back to `taps === null`, the data path's only cost).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addTap, CaptureTap, captureLinktype, PortTaps } from '../../src/datapath/capture.js';
import type { CaptureSink } from '../../src/datapath/capture.js';
import type { Port } from '../../src/datapath/port.js';
import { GatherBatch } from '../../src/io/pool.js';
import { isPcapError, LINKTYPE_ETHERNET, LINKTYPE_RAW, readPcap } from '../../src/wire/pcap.js';

class Sink implements CaptureSink {
  readonly recs: Uint8Array[] = [];
  isFullNow = false;
  ended = 0;
  isFull(): boolean { return this.isFullNow; }
  push(rec: Uint8Array): void { this.recs.push(rec); }
  end(): void { this.ended++; }
}

const file = (t: CaptureTap, recs: readonly Uint8Array[]): Uint8Array => Buffer.concat([t.writer.header(), ...recs]);

test('CaptureTap: one pcap record per packet, wall-clock timestamp, bytes copied', () => {
  const sink = new Sink();
  const tap = new CaptureTap('inner', LINKTYPE_RAW, sink, () => 1_700_000_000_123.5);
  const buf = Uint8Array.from([9, 9, 0x45, 1, 2, 3, 9]);
  tap.packet(buf, 2, 4);
  buf.fill(0);
  const f = readPcap(file(tap, sink.recs));
  assert.ok(!isPcapError(f));
  assert.equal(f.linktype, LINKTYPE_RAW);
  assert.equal(f.records.length, 1);
  assert.deepEqual([...f.records[0]!.data], [0x45, 1, 2, 3]);
  assert.equal(f.records[0]!.tsSec, 1_700_000_000);
  assert.equal(f.records[0]!.tsFrac, 123_500);
  assert.deepEqual([tap.captured, tap.dropped], [1, 0]);
});

test('CaptureTap: a full sink drops and counts, and takes records again once drained', () => {
  const sink = new Sink();
  const tap = new CaptureTap('outer', LINKTYPE_RAW, sink, () => 0);
  const b = new Uint8Array(20);
  sink.isFullNow = true;
  for (let i = 0; i < 5; i++) tap.packet(b, 0, 20);
  assert.deepEqual([sink.recs.length, tap.captured, tap.dropped], [0, 0, 5]);
  sink.isFullNow = false;
  tap.packet(b, 0, 20);
  assert.deepEqual([sink.recs.length, tap.captured, tap.dropped], [1, 1, 5]);
});

test('addTap: linktype by side and device, taps per side, null again once every tap stopped', () => {
  const port = { l2Len: 14, taps: null } as unknown as Port;
  const inner = new Sink();
  const outer = new Sink();
  const a = addTap(port, 'inner', inner, () => 0);
  const b = addTap(port, 'outer', outer, () => 0);
  assert.equal(a.tap.writer.linktype, LINKTYPE_ETHERNET);
  assert.equal(b.tap.writer.linktype, LINKTYPE_RAW);
  assert.equal(captureLinktype('inner', 0), LINKTYPE_RAW);
  const taps = port.taps!;
  assert.ok(taps instanceof PortTaps);
  const q = new GatherBatch(4);
  const slab = new Uint8Array(64);
  q.add(slab, 0, 10);
  q.add(slab, 20, 30);
  taps.gather(taps.outer, q);
  assert.deepEqual([inner.recs.length, outer.recs.length], [0, 2]);
  a.stop();
  assert.equal(port.taps, taps);
  b.stop();
  assert.equal(port.taps, null);
});
