import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  PCAP_MAX_SNAPLEN,
  PcapWriter,
  isPcapError,
  readPcap,
  writePcap,
} from '../../src/wire/pcap.js';
import type { PcapError, PcapFile } from '../../src/wire/pcap.js';
import { hex, toHex } from '../util/hex.js';
import { loadBytes, vectorPath } from '../util/paths.js';

const GOLDEN = readdirSync(vectorPath('pcap'))
  .filter((f) => f.endsWith('.pcap'))
  .sort();

function ok(r: PcapFile | PcapError): PcapFile {
  if (isPcapError(r)) assert.fail(`unexpected PcapError ${r.error} @${r.offset}`);
  return r;
}

function err(r: PcapFile | PcapError): PcapError {
  if (!isPcapError(r)) assert.fail('expected a PcapError');
  return r;
}

/** Builds a pcap file by hand in either byte order (independent of PcapWriter). */
function build(le: boolean, magic: number, linkWord: number, snaplen: number, recs: [number, number, Uint8Array, number][]): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number): void => {
    const b = [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    out.push(...(le ? b.reverse() : b));
  };
  const u16 = (v: number): void => {
    const b = [v >>> 8, v & 255];
    out.push(...(le ? b.reverse() : b));
  };
  u32(magic); u16(2); u16(4); u32(0); u32(0); u32(snaplen); u32(linkWord);
  for (const [s, f, d, o] of recs) {
    u32(s); u32(f); u32(d.length); u32(o);
    out.push(...d);
  }
  return new Uint8Array(out);
}

test('linktype constants (tcpdump.org linktypes)', () => {
  assert.deepEqual([LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6], [1, 101, 228, 229]);
});

test('every golden pcap reads: Ethernet, 6 records, views into the input', () => {
  assert.equal(GOLDEN.length, 7);
  for (const name of GOLDEN) {
    const bytes = loadBytes(`pcap/${name}`);
    const f = ok(readPcap(bytes));
    assert.equal(f.linktype, LINKTYPE_ETHERNET, name);
    assert.equal(f.snaplen, 262144, name);
    assert.equal(f.nanos, false, name);
    assert.equal(f.littleEndian, true, name);
    assert.equal(f.records.length, 6, name);
    let at = 24;
    for (const r of f.records) {
      assert.equal(r.data.buffer, bytes.buffer, 'data is a view, not a copy');
      assert.equal(r.data.byteOffset, bytes.byteOffset + at + 16);
      assert.equal(r.origLen, r.data.length);
      assert.ok(r.tsFrac < 1e6);
      // Ethernet II with IPv4 ethertype: every golden outer packet is IPv4.
      assert.equal(toHex(r.data, 12, 2), '0800');
      at += 16 + r.data.length;
    }
    assert.equal(at, bytes.length);
  }
});

test('first ipip.pcap record: deconstructed by hand', () => {
  const f = ok(readPcap(loadBytes('pcap/ipip.pcap')));
  const r = f.records[0]!;
  // 1ed9056b c64c0400 76000000 76000000 (little-endian record header)
  assert.equal(r.tsSec, 0x6b05d91e);
  assert.equal(r.tsFrac, 0x044cc6);
  assert.equal(r.origLen, 0x76);
  assert.equal(r.data.length, 0x76);
  // outer IPv4 45 00 00 68 07 0a 40 00 40 04 (proof/sample-output.txt)
  assert.equal(toHex(r.data, 14, 10), '45000068070a40004004');
});

test('writePcap(readPcap(golden)) reproduces every golden file byte for byte', () => {
  for (const name of GOLDEN) {
    const bytes = loadBytes(`pcap/${name}`);
    const f = ok(readPcap(bytes));
    assert.equal(toHex(writePcap(f.linktype, f.records)), toHex(bytes), name);
  }
});

test('PcapWriter pieces concatenate to writePcap; header is tcpdump x86 layout', () => {
  const w = new PcapWriter(LINKTYPE_RAW);
  assert.equal(toHex(w.header()), 'd4c3b2a10200040000000000000000000000040065000000');
  const pkt = hex('4500001c0001000040017cdec0000201c00002020800f7ff00000000');
  const rec = w.record(1, 2, pkt, 0, pkt.length);
  assert.equal(toHex(rec, 0, 16), '01000000020000001c0000001c000000');
  assert.equal(toHex(rec, 16), toHex(pkt));
  const f = ok(readPcap(new Uint8Array([...w.header(), ...rec])));
  assert.equal(f.linktype, LINKTYPE_RAW);
  assert.equal(toHex(f.records[0]!.data), toHex(pkt));
  const whole = writePcap(LINKTYPE_RAW, f.records);
  assert.equal(toHex(whole), toHex(new Uint8Array([...w.header(), ...rec])));
});

test('PcapWriter: record at an offset, snaplen truncation keeps origLen, nanosecond magic', () => {
  const w = new PcapWriter(LINKTYPE_IPV4, 8, true);
  assert.equal(toHex(w.header(), 0, 4), '4d3cb2a1');
  const buf = hex('ffff00112233445566778899ffff');
  const rec = w.record(0xffffffff, 999_999_999, buf, 2, 10);
  assert.equal(toHex(rec), 'ffffffffffc99a3b080000000a000000' + '0011223344556677');
  const rec2 = w.record(5, 6, buf, 2, 10, 1500);
  const f = ok(readPcap(new Uint8Array([...w.header(), ...rec, ...rec2])));
  assert.equal(f.nanos, true);
  assert.equal(f.snaplen, 8);
  assert.equal(f.records[0]!.tsFrac, 999_999_999);
  assert.equal(f.records[0]!.origLen, 10);
  assert.equal(f.records[1]!.origLen, 1500);
  assert.equal(f.records[1]!.data.length, 8);
  const w0 = new PcapWriter(LINKTYPE_ETHERNET);
  assert.equal(w0.record(0, 0, buf, 14, 0).length, 16);
});

test('PcapWriter: programmer errors throw RangeError', () => {
  assert.throws(() => new PcapWriter(-1), RangeError);
  assert.throws(() => new PcapWriter(0x10000), RangeError);
  assert.throws(() => new PcapWriter(1, 0), RangeError);
  assert.throws(() => new PcapWriter(1, PCAP_MAX_SNAPLEN + 1), RangeError);
  const w = new PcapWriter(1);
  const b = new Uint8Array(10);
  assert.throws(() => w.record(0, 0, b, 5, 6), RangeError);
  assert.throws(() => w.record(0, 0, b, -1, 2), RangeError);
  assert.throws(() => w.record(0, 0, b, 0, 1.5), RangeError);
  assert.throws(() => w.record(-1, 0, b, 0, 1), RangeError);
  assert.throws(() => w.record(0, 2 ** 32, b, 0, 1), RangeError);
  assert.throws(() => w.record(0, 0, b, 0, 1, 0.5), RangeError);
});

test('big-endian microsecond and nanosecond files read correctly', () => {
  const d1 = hex('60000000000000403a40');
  const d2 = hex('45');
  for (const [magic, nanos] of [[0xa1b2c3d4, false], [0xa1b23c4d, true]] as const) {
    const be = build(false, magic, LINKTYPE_RAW, 65535, [[0x12345678, 999_999, d1, 1280], [1, 2, d2, 1]]);
    const f = ok(readPcap(be));
    assert.equal(f.littleEndian, false);
    assert.equal(f.nanos, nanos);
    assert.equal(f.linktype, LINKTYPE_RAW);
    assert.equal(f.snaplen, 65535);
    assert.equal(f.records.length, 2);
    assert.equal(f.records[0]!.tsSec, 0x12345678);
    assert.equal(f.records[0]!.tsFrac, 999_999);
    assert.equal(f.records[0]!.origLen, 1280);
    assert.equal(toHex(f.records[0]!.data), toHex(d1));
    assert.equal(toHex(f.records[1]!.data), '45');
    // Same content in little-endian reads identically.
    const le = ok(readPcap(build(true, magic, LINKTYPE_RAW, 65535, [[0x12345678, 999_999, d1, 1280], [1, 2, d2, 1]])));
    assert.equal(le.littleEndian, true);
    assert.deepEqual({ ...le, littleEndian: false }, f);
  }
});

test('linktype upper bits (FCS length, f bit) are masked off', () => {
  const f = ok(readPcap(build(true, 0xa1b2c3d4, 0x6400_0001, 1500, [])));
  assert.equal(f.linktype, LINKTYPE_ETHERNET);
  assert.equal(f.records.length, 0);
});

test('incl_len above the file snaplen but within the cap is accepted; above the cap is an error', () => {
  const d = new Uint8Array(100);
  const f = ok(readPcap(build(true, 0xa1b2c3d4, 1, 64, [[0, 0, d, 100]])));
  assert.equal(f.records[0]!.data.length, 100);
  const big = build(true, 0xa1b2c3d4, 1, 64, [[0, 0, new Uint8Array(0), 0]]);
  new DataView(big.buffer, big.byteOffset, big.length).setUint32(24 + 8, PCAP_MAX_SNAPLEN + 1, true);
  assert.deepEqual(readPcap(big), { error: 'incl_len 262145 exceeds 262144', offset: 24 });
});

test('header errors: truncated, bad magic, pcapng, version', () => {
  assert.deepEqual(readPcap(new Uint8Array(0)), { error: 'truncated file header', offset: 0 });
  assert.deepEqual(readPcap(new Uint8Array(23)), { error: 'truncated file header', offset: 0 });
  assert.deepEqual(readPcap(new Uint8Array(24)), { error: 'bad magic', offset: 0 });
  const ng = hex('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff');
  assert.match(err(readPcap(ng)).error, /pcapng/);
  const v = build(true, 0xa1b2c3d4, 1, 100, []);
  v[4] = 1;
  assert.deepEqual(readPcap(v), { error: 'unsupported version 1.4', offset: 4 });
  v[4] = 2; v[6] = 5;
  assert.deepEqual(readPcap(v), { error: 'unsupported version 2.5', offset: 4 });
  v[6] = 3; // older minor versions are the same format
  assert.equal(ok(readPcap(v)).records.length, 0);
});

test('every truncation of a real file: an error at the cut record (or a clean prefix) and never a throw', () => {
  const bytes = loadBytes('pcap/gre.pcap');
  const f = ok(readPcap(bytes));
  const bounds = [24];
  for (const r of f.records) bounds.push(bounds[bounds.length - 1]! + 16 + r.data.length);
  for (let n = 0; n < bytes.length; n++) {
    const r = readPcap(bytes.subarray(0, n));
    if (n < 24) {
      assert.deepEqual(r, { error: 'truncated file header', offset: 0 });
      continue;
    }
    const complete = bounds.filter((b) => b <= n).length - 1; // records wholly inside
    if (bounds.includes(n)) {
      assert.equal(ok(r).records.length, complete, `n=${n}`);
      continue;
    }
    const e = err(r);
    const start = bounds[complete]!;
    assert.equal(e.offset, start, `n=${n}`);
    assert.equal(e.error, n - start < 16 ? 'truncated record header' : 'truncated record data', `n=${n}`);
    // The documented recovery: the records before the cut.
    assert.equal(ok(readPcap(bytes.subarray(0, e.offset))).records.length, complete);
  }
});

test('fast-check: readPcap never throws on random bytes, with or without a valid header', () => {
  const header = loadBytes('pcap/ipip.pcap').subarray(0, 24);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (tail, withHeader) => {
      const input = withHeader ? new Uint8Array([...header, ...tail]) : tail;
      const r = readPcap(input);
      if (isPcapError(r)) {
        assert.ok(r.offset >= 0 && r.offset <= input.length);
      } else {
        let total = 24;
        for (const rec of r.records) total += 16 + rec.data.length;
        assert.equal(total, input.length);
      }
    }),
    { numRuns: 2000 },
  );
});

test('fast-check: byte flips of a real file never throw; whatever parses re-writes consistently', () => {
  const bytes = loadBytes('pcap/esp-udp.pcap');
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (flips) => {
      const m = new Uint8Array(bytes);
      for (const [i, v] of flips) m[i] = v;
      const r = readPcap(m);
      if (isPcapError(r) || r.nanos || r.snaplen === 0 || r.snaplen > PCAP_MAX_SNAPLEN) return;
      const again = ok(readPcap(writePcap(r.linktype, r.records, r.snaplen)));
      assert.equal(again.records.length, r.records.length);
    }),
    { numRuns: 1000 },
  );
});

test('writePcap: records longer than snaplen are cut; empty file is just the header', () => {
  assert.equal(writePcap(LINKTYPE_IPV6, []).length, 24);
  const out = ok(readPcap(writePcap(LINKTYPE_IPV6, [{ tsSec: 1, tsFrac: 2, origLen: 9, data: new Uint8Array(9) }], 4, true)));
  assert.equal(out.records[0]!.data.length, 4);
  assert.equal(out.records[0]!.origLen, 9);
  assert.equal(out.nanos, true);
  assert.equal(out.linktype, LINKTYPE_IPV6);
});
