// tunkit capture (src/datapath/capture.ts, src/daemon/capture-stream.ts,
// src/cli/capture.ts) on a GRE tunnel between two namespaces: while three
// pings cross it, the left daemon streams
//   inner (-w FILE, stopped with SIGINT): LINKTYPE_RAW, the three echo
//         requests read from gre1 and the three replies written to it;
//   outer (pcap on stdout): LINKTYPE_RAW, six IPv4/GRE packets between the
//         underlay addresses, each carrying one of those ICMP messages;
//   -c 2: exactly two records, then the CLI exits on its own.
// A capture of a device the daemon does not have exits 2 naming it.
// Other traffic the devices carry (IPv6 MLD) is ignored by filtering on ICMPv4.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isPcapError, LINKTYPE_RAW, readPcap } from '../../src/wire/pcap.js';
import type { PcapFile } from '../../src/wire/pcap.js';
import { sleep, TUNKIT, within, withPair } from './pair.js';
import type { Pair } from './pair.js';

interface Proc { readonly c: ChildProcess; readonly out: Buffer[]; err: string; readonly exit: Promise<number | string> }

function capture(p: Pair, args: readonly string[]): Proc {
  const sd = p.side('left');
  const c = sd.ns.spawn(process.execPath, [TUNKIT, '--socket', sd.sock, 'capture', ...args]);
  const pr: Proc = { c, out: [], err: '', exit: new Promise((r) => c.on('exit', (code, sig) => r(code ?? sig ?? -1))) };
  c.stdout?.on('data', (d: Buffer) => pr.out.push(d));
  c.stderr?.on('data', (d: Buffer) => { pr.err += d.toString(); });
  return pr;
}

function pcapOf(bytes: Uint8Array, what: string): PcapFile {
  const f = readPcap(bytes);
  assert.ok(!isPcapError(f), `${what}: not a pcap file: ${JSON.stringify(f)}`);
  return f;
}

const ip4 = (b: Uint8Array, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** "src>dst type" of an IPv4 ICMP packet at b[at..], or null for anything else. */
function icmp(b: Uint8Array, at = 0): string | null {
  if (b.length < at + 28 || b[at]! >> 4 !== 4 || b[at + 9] !== 1) return null;
  const ihl = (b[at]! & 15) * 4;
  return `${ip4(b, at + 12)}>${ip4(b, at + 16)} ${b[at + ihl]}`;
}

const ICMP_SEEN = ['192.0.2.1>192.0.2.2 8', '192.0.2.1>192.0.2.2 8', '192.0.2.1>192.0.2.2 8', '192.0.2.2>192.0.2.1 0', '192.0.2.2>192.0.2.1 0', '192.0.2.2>192.0.2.1 0'];

test('tunkit capture: inner and outer pcap of a GRE tunnel carrying ping', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkcap-'));
  try {
    await withPair('tkcap', async (p) => {
      p.tunnel('gre1', 'type gre', ['198.51.100.1', '198.51.100.2'], ['192.0.2.1/30', '192.0.2.2/30']);
      const bad = p.tunkit('left', 'capture nosuch0');
      assert.equal(bad.code, 2, `capture of a missing device: exit ${bad.code} ${bad.stderr}`);
      assert.match(bad.stderr, /Cannot find device "nosuch0"/);
      const file = join(dir, 'inner.pcap');
      const inner = capture(p, ['gre1', 'inner', '-w', file]);
      const outer = capture(p, ['gre1', 'outer']);
      const two = capture(p, ['gre1', '-c', '2']);
      for (let i = 0; i < 200 && (p.left.log.match(/event=capture /g) ?? []).length < 3; i++) await sleep(25);
      assert.equal((p.left.log.match(/event=capture /g) ?? []).length, 3, 'three captures started');
      await p.pingOk('left', '192.0.2.2', { count: 3 });
      await sleep(300);
      assert.equal(await within(two.exit, 5000), 0, `-c 2 exits by itself: ${two.err}`);
      inner.c.kill('SIGINT');
      outer.c.kill('SIGINT');
      assert.equal(await within(inner.exit, 5000), 0, `inner capture: ${inner.err}`);
      assert.equal(await within(outer.exit, 5000), 0, `outer capture: ${outer.err}`);
      assert.match(two.err, /^2 packets captured\n0 packets dropped by tunkitd/);
      assert.equal(pcapOf(Buffer.concat(two.out), '-c 2').records.length, 2);

      const fi = pcapOf(readFileSync(file), 'inner');
      assert.equal(fi.linktype, LINKTYPE_RAW);
      const innerIcmp = fi.records.map((r) => icmp(r.data)).filter((x) => x !== null);
      assert.deepEqual(innerIcmp.sort(), ICMP_SEEN, 'inner: the echo requests read and the replies written');
      assert.match(inner.err, new RegExp(`^${fi.records.length} packets captured\n0 packets dropped by tunkitd`));

      const fo = pcapOf(Buffer.concat(outer.out), 'outer');
      assert.equal(fo.linktype, LINKTYPE_RAW);
      const gre = fo.records.filter((r) => r.data[0]! >> 4 === 4 && r.data[9] === 47);
      assert.equal(gre.length, fo.records.length, 'outer: only GRE packets');
      const outerIcmp = gre.map((r) => {
        const d = r.data;
        const ihl = (d[0]! & 15) * 4;
        assert.equal(`${ip4(d, 12)}>${ip4(d, 16)}`.replace(/198\.51\.100\.2>198\.51\.100\.1/, 'R').replace(/198\.51\.100\.1>198\.51\.100\.2/, 'R'), 'R', 'underlay addresses');
        assert.equal((d[ihl + 2]! << 8) | d[ihl + 3]!, 0x0800, 'GRE protocol IPv4');
        return icmp(d, ihl + 4);
      }).filter((x) => x !== null);
      assert.deepEqual(outerIcmp.sort(), ICMP_SEEN, 'outer: GRE packets sent and received carrying the pings');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
