// Bad input never disturbs a running tunkitd (pair.ts):
//   1. malformed `tunkit link …` command lines: non-zero exit, stderr names
//      the field or token, nothing changes, the existing tunnels still work;
//   2. garbage, truncated and hostile outer packets for protocols 4, 41 and
//      47 injected into the daemon's raw sockets: the daemon keeps running
//      and forwarding, and every drop is counted — per device in
//      `tunkit -s link show` ("tunkit drops:"), or, for packets that reach
//      no device, as events on `tunkit -j monitor drops`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { sleep, step, withPair } from './pair.js';
import type { Pair, Snapshot } from './pair.js';
import { cat, gre, ip4, noise, ping4, ping6 } from './packets.js';

const GRE = 47;
const IPIP = 4;
const IPV6 = 41;

interface DropEvent { readonly type: string; readonly dir: string; readonly dev: string; readonly reason: string; readonly text: string }

/** Collects the JSON lines of `tunkit -j monitor drops`. */
class DropLog {
  readonly events: DropEvent[] = [];
  private buf = '';
  constructor(readonly proc: ChildProcess) {
    proc.stdout?.on('data', (d: Buffer) => {
      this.buf += d.toString();
      const lines = this.buf.split('\n');
      this.buf = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') this.events.push(JSON.parse(l) as DropEvent);
    });
  }
  /** Reason → count over events[from…]. */
  reasons(from = 0): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.events.slice(from)) {
      const k = `${e.dev === '' ? '-' : e.dev}:${e.reason}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }
}

const d = (a: Snapshot, b: Snapshot, dev: string, path: string): number => {
  const [dir, k] = path.split('.') as ['rx' | 'tx' | 'drops', string];
  const get = (s: Snapshot): number => {
    const st = s.get(dev);
    assert.ok(st !== undefined, `no ${dev} in link show`);
    return st[dir][k] ?? 0;
  };
  return get(a) - get(b);
};

/** Starts `tunkit -j monitor drops` on the left and waits until the daemon traces drops (a probe is seen). */
async function dropMonitor(p: Pair): Promise<DropLog> {
  const log = new DropLog(p.monitor('left', 'drops', true));
  // The daemon switches tracing on in its once-a-second housekeeping: probe until it shows.
  const probe = ip4({ proto: GRE, src: '198.51.100.2', dst: '198.51.100.1', payload: gre({ proto: 0x0800, key: 0xdead, payload: ping4('192.0.2.2', '192.0.2.1', 1) }) });
  for (let i = 0; i < 40 && log.events.length === 0; i++) {
    p.inject('right', [probe]);
    await sleep(150);
  }
  assert.ok(log.events.length > 0, 'tunkit monitor drops never reported the probe (NoTunnel) drop');
  return log;
}

test('bad command lines and hostile packets leave tunkitd running, untouched and counting', async (t) => {
  await withPair('tkbi', async (p) => {
    for (const [l, r] of [['3', '4'], ['5', '6'], ['7', '8']]) {
      p.shOk('left', `ip addr add 198.51.100.${l}/24 dev ${p.left.veth}`);
      p.shOk('right', `ip addr add 198.51.100.${r}/24 dev ${p.right.veth}`);
    }
    p.tunnel('ipip1', 'type ipip', ['198.51.100.1', '198.51.100.2'], ['192.0.2.1/30', '192.0.2.2/30']);
    p.tunnel('gk', 'type gre key 77 csum', ['198.51.100.3', '198.51.100.4'], ['192.0.2.9/30', '192.0.2.10/30']);
    p.tunnel('sit1', 'type sit', ['198.51.100.5', '198.51.100.6'], null, ['2001:db8:5::1/64', '2001:db8:5::2/64']);
    p.tunnel('tap1', 'type gretap', ['198.51.100.7', '198.51.100.8'], ['203.0.113.1/24', '203.0.113.2/24']);
    await p.pingOk('left', '192.0.2.2');

    await step(t, p, 'malformed link commands: non-zero exit, the field named, the daemon untouched', async () => {
      const show = p.tunkitOk('left', '-d link show');
      const bad: readonly (readonly [string, RegExp, number | null])[] = [
        ['link add x type gre ttl 300', /"300".*TTL/i, 255],
        ['link add x type gre remote 198.51.100.2 frobnicate', /^Usage: \.\.\. gre {6}\t\[ remote ADDR \]\ntunkit: "frobnicate" is not a keyword of gre/, 1],
        ['link add x type gre remote 198.51.100.256', /"198\.51\.100\.256"/, 255],
        ['link add x type gre local bogus remote 198.51.100.2', /"bogus"/, 255],
        ['link add x type gre remote 198.51.100.2 ignore-df', /^RTNETLINK answers: Invalid argument \(tunkit: ignore-df.*nopmtudisc/, 2],
        ['link add x mtu 67 type gre remote 198.51.100.2', /mtu.*67/, 2],
        ['link add x type gre remote 198.51.100.2 mtu 67', /mtu.*67/, 2],
        ['link add x type gre key 4294967296', /key.*4294967296/, 255],
        ['link add x type ipip mode frob', /"frob"/, 255],
        ['link add x type vxlan', /"vxlan"/, 255],
        ['link add x type gre tos 0x1ff', /"0x1ff".*TOS/, 255],
        ['link add x type gre ttl', /ttl/, 255],
        ['link add 0123456789abcdefg type gre', /name.*0123456789abcdefg/, null],
        ['link add ipip1 type ipip remote 198.51.100.9', /^RTNETLINK answers: File exists \(tunkit: .*ipip1.*exists/, 2],
        ['link add x type ipip local 198.51.100.1 remote 198.51.100.2', /ipip1.*endpoints|exists/, 2],
        ['link set ipip1 mtu 67', /mtu.*67/, 2],
        ['link set nosuch up', /^Cannot find device "nosuch"/, 1],
        ['link del nosuch', /^Cannot find device "nosuch"/, 1],
        ['link show dev nosuch', /^Device "nosuch" does not exist\./, 1],
        ['link add x type ipip remote 198.51.100.2 ttl 64 nopmtudisc', /^ttl != 0 and nopmtudisc are incompatible/, 255],
        ['link frob', /frob/, 255],
      ];
      for (const [args, re, code] of bad) {
        const r = p.tunkit('left', args);
        t.diagnostic(`tunkit ${args} → exit ${r.code}: ${r.stderr.trim()}`);
        assert.notEqual(r.code, 0, `tunkit ${args} must fail`);
        if (code !== null) assert.equal(r.code, code, `tunkit ${args}: exit status (${r.stderr.trim()})`);
        assert.match(r.stderr, re, `tunkit ${args}: stderr must name the field/token`);
        assert.equal(r.stdout, '', `tunkit ${args}: nothing on stdout`);
      }
      assert.ok(p.isAlive('left'));
      assert.equal(p.tunkitOk('left', '-d link show'), show, 'link show unchanged');
      assert.notEqual(p.sh('left', 'ip link show x').code, 0, 'no device x was created');
      await p.pingOk('left', '192.0.2.2');
    });

    await step(t, p, 'crafted hostile packets: each dropped with its reason, counted, the daemon keeps forwarding', async () => {
      const log = await dropMonitor(p);
      await sleep(300);
      const from = log.events.length;
      const before = await p.settle();
      const L = '198.51.100.1';
      const R = '198.51.100.2';
      const o = (proto: number, payload: Uint8Array, src = R, dst = L): Uint8Array => ip4({ proto, src, dst, payload });
      const gk = (payload: Uint8Array, proto = 0x0800): Uint8Array =>
        o(GRE, gre({ proto, key: 77, csum: true, payload }), '198.51.100.4', '198.51.100.3');
      const echo = ping4('192.0.2.10', '192.0.2.9', 7);
      const packets: Uint8Array[] = [
        // stack level (no device): gre_parse_header refusals and unmatched packets
        o(GRE, new Uint8Array([0, 0])), // truncated GRE base header
        o(GRE, Uint8Array.from([0x20, 0, 0x08, 0, 0, 0])), // K bit, key cut short
        o(GRE, gre({ proto: 0x880b, version: 1, key: 1, payload: new Uint8Array(16) })), // PPTP (version 1)
        o(GRE, gre({ proto: 0x0800, routing: true, payload: echo })), // routing bit
        o(GRE, gre({ proto: 0x0800, key: 77, csum: 0x1234, payload: echo }), '198.51.100.4', '198.51.100.3'), // bad checksum
        o(GRE, gre({ proto: 0x0800, key: 78, csum: true, payload: echo }), '198.51.100.4', '198.51.100.3'), // unknown key
        o(IPIP, ping4('192.0.2.2', '192.0.2.1', 1), '198.51.100.99'), // ipip from an unknown remote
        o(IPV6, ping6('2001:db8:5::2', '2001:db8:5::1', 1), '198.51.100.98', '198.51.100.5'), // sit from an unknown remote
        // device level: the tunnel matched, then ip_tunnel_rcv / ipip6_rcv refused
        gk(new Uint8Array(10)), // inner IPv4 header cut short → rx_length_errors
        gk(ping4('192.0.2.10', '192.0.2.9', 8), 0x86dd), // says IPv6, carries IPv4 → rx_dropped
        gk(new Uint8Array(30), 0x8847), // MPLS on an L3 gre → rx_dropped
        o(IPIP, new Uint8Array(12)), // inner IPv4 cut short
        o(IPV6, new Uint8Array(20), '198.51.100.6', '198.51.100.5'), // inner IPv6 cut short
        o(GRE, gre({ proto: 0x6558, payload: new Uint8Array(10) }), '198.51.100.8', '198.51.100.7'), // Ethernet frame cut short
      ];
      p.inject('right', packets);
      const after = await p.settle();
      await sleep(200);
      const got = log.reasons(from);
      t.diagnostic(`monitor drops: ${JSON.stringify(got)}`);
      assert.deepEqual(got, {
        '-:Truncated': 2, '-:GreVersion': 1, '-:GreRouting': 1, '-:GreChecksum': 1, '-:NoTunnel': 3,
        'gk:InnerTruncated': 1, 'gk:UnsupportedPayload': 2, 'ipip1:InnerTruncated': 1, 'sit1:InnerTruncated': 1, 'tap1:InnerTruncated': 1,
      }, 'one drop event per packet, each with its reason');
      const dv = (dev: string, path: string): number => d(after.left, before.left, dev, path);
      t.diagnostic(`gk rx_length_errors +${dv('gk', 'rx.length_errors')} rx_dropped +${dv('gk', 'rx.dropped')} rx_errors +${dv('gk', 'rx.errors')}; ipip1 rx_length_errors +${dv('ipip1', 'rx.length_errors')}; sit1 rx_length_errors +${dv('sit1', 'rx.length_errors')}; tap1 rx_length_errors +${dv('tap1', 'rx.length_errors')}`);
      assert.equal(dv('gk', 'rx.length_errors'), 1);
      assert.equal(dv('gk', 'rx.dropped'), 2);
      assert.equal(dv('gk', 'drops.InnerTruncated'), 1);
      assert.equal(dv('gk', 'drops.UnsupportedPayload'), 2);
      for (const dev of ['ipip1', 'sit1', 'tap1']) {
        // A runt Ethernet frame fails __iptunnel_pull_header, which ipgre_rcv drops
        // without a device counter; runt IP payloads are ip_tunnel_rcv's rx_length_errors.
        const n = dev === 'tap1' ? 0 : 1;
        assert.equal(dv(dev, 'rx.length_errors'), n, `${dev} rx_length_errors`);
        assert.equal(dv(dev, 'rx.errors'), n, `${dev} rx_errors`);
        assert.equal(dv(dev, 'drops.InnerTruncated'), 1, `${dev} tunkit drops InnerTruncated`);
        assert.equal(dv(dev, 'rx.packets'), 0, `${dev} delivered nothing`);
      }
      assert.equal(dv('gre0', 'drops.NoTunnel'), 1, 'gre0 counts the unknown key');
      assert.ok(p.isAlive('left'));
      await Promise.all([p.pingOk('left', '192.0.2.2'), p.pingOk('left', '192.0.2.10'), p.pingOk('left', '2001:db8:5::2', { v6: true }), p.pingOk('left', '203.0.113.2')]);
    });

    await step(t, p, 'huge claimed lengths and nested tunnels are decapsulated like the kernel does, the daemon survives', async () => {
      const before = await p.settle();
      const inner = ping4('192.0.2.2', '192.0.2.1', 9);
      const huge = ip4({ proto: 1, src: '192.0.2.2', dst: '192.0.2.1', payload: inner.subarray(20), totalLen: 0xffff });
      const nest = (pkt: Uint8Array): Uint8Array => ip4({ proto: IPIP, src: '198.51.100.2', dst: '198.51.100.1', payload: pkt });
      p.inject('right', [
        nest(huge), // inner claims 65535 bytes: delivered (ip_tunnel_rcv does not look), the inner stack drops it
        nest(nest(nest(inner))), // ipip in ipip in ipip: three decapsulations, then the echo is answered
      ]);
      const after = await p.settle();
      const l = (path: string): number => d(after.left, before.left, 'ipip1', path);
      const r = (path: string): number => d(after.right, before.right, 'ipip1', path);
      t.diagnostic(`left ipip1 rx_packets +${l('rx.packets')} tx_packets +${l('tx.packets')}; right ipip1 rx_packets +${r('rx.packets')}`);
      assert.equal(l('rx.packets'), 4, '1 (huge) + 3 (nested) decapsulations');
      assert.equal(l('tx.packets'), 1, 'the innermost echo request was answered');
      assert.equal(r('rx.packets'), 1, 'and the reply crossed back');
      assert.equal(l('rx.errors'), 0);
      assert.ok(p.isAlive('left'));
      await p.pingOk('left', '192.0.2.2');
    });

    await step(t, p, 'protocol 41 carrying IPv4 is not delivered as IPv4 (ipip6_rcv hands it to ipv6_rcv, which drops it)', async () => {
      const before = await p.settle();
      // An ipip packet for the left host, smuggled inside sit: if the sit device accepted it
      // as IPv4 it would be delivered locally, decapsulated by ipip1 and answered.
      const smuggled = ip4({ proto: IPIP, src: '198.51.100.2', dst: '198.51.100.1', payload: ping4('192.0.2.2', '192.0.2.1', 11) });
      p.inject('right', [ip4({ proto: IPV6, src: '198.51.100.6', dst: '198.51.100.5', payload: smuggled })]);
      const after = await p.settle();
      const dv = (dev: string, path: string): number => d(after.left, before.left, dev, path);
      t.diagnostic(`sit1 rx_packets +${dv('sit1', 'rx.packets')} rx_dropped +${dv('sit1', 'rx.dropped')} drops ${JSON.stringify(after.left.get('sit1')?.drops)}; ipip1 rx_packets +${dv('ipip1', 'rx.packets')} tx_packets +${dv('ipip1', 'tx.packets')}`);
      assert.equal(dv('ipip1', 'rx.packets'), 0, 'the IPv4 packet inside protocol 41 must not reach the IPv4 stack (and from there ipip1)');
      assert.equal(dv('ipip1', 'tx.packets'), 0, 'nothing may answer it');
    });

    await step(t, p, 'random bytes as protocol 4, 41 and 47 payloads: all accounted for, the daemon keeps forwarding', async () => {
      const log = await dropMonitor(p);
      await sleep(300);
      const from = log.events.length;
      const before = await p.settle();
      const pkts: Uint8Array[] = [];
      let seed = 0x5eed;
      for (const [proto, src, dst] of [[GRE, '198.51.100.2', '198.51.100.1'], [GRE, '198.51.100.4', '198.51.100.3'], [IPIP, '198.51.100.2', '198.51.100.1'], [IPV6, '198.51.100.6', '198.51.100.5'], [GRE, '198.51.100.8', '198.51.100.7']] as const) {
        for (const len of [0, 1, 3, 4, 7, 8, 12, 16, 20, 39, 40, 64, 200, 1400]) {
          pkts.push(ip4({ proto, src, dst, payload: noise(len, seed++) }));
        }
      }
      // GRE-looking noise: a valid version-0 base header with random flags/protocol in front of noise.
      for (let i = 0; i < 30; i++) {
        const h = noise(4, seed++);
        h[1] = h[1]! & 0xf8;
        pkts.push(ip4({ proto: GRE, src: '198.51.100.4', dst: '198.51.100.3', payload: cat(h, noise(i * 7, seed++)) }));
      }
      p.inject('right', pkts);
      const after = await p.settle();
      await sleep(200);
      const drops = log.events.length - from;
      let delivered = 0;
      for (const dev of ['ipip1', 'gk', 'sit1', 'tap1']) delivered += d(after.left, before.left, dev, 'rx.packets');
      const dropped = ['ipip1', 'gk', 'sit1', 'tap1'].map((dev) => `${dev} rx_dropped +${d(after.left, before.left, dev, 'rx.dropped')}`).join(', ');
      t.diagnostic(`${pkts.length} random packets: ${drops} drop events, ${delivered} delivered (${dropped}); reasons ${JSON.stringify(log.reasons(from))}`);
      assert.ok(drops + delivered >= pkts.length, `every packet is either delivered or a counted drop (${drops} + ${delivered} < ${pkts.length})`);
      assert.ok(p.isAlive('left'), 'tunkitd is still running');
      assert.ok(p.isAlive('right'));
      await Promise.all([p.pingOk('left', '192.0.2.2'), p.pingOk('left', '192.0.2.10'), p.pingOk('left', '2001:db8:5::2', { v6: true }), p.pingOk('left', '203.0.113.2')]);
      await p.transfer('right', 'left', '192.0.2.9', 1024 * 1024);
    });
  });
});
