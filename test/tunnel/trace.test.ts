// The per-packet trace hook: each decision names the kernel function it
// mirrors and the counter it bumped; an idle hook costs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { formatTrace, TraceDir } from '../../src/tunnel/trace.js';
import { Drop } from '../../src/wire/drop.js';
import { IPPROTO_GRE } from '../../src/wire/ipproto.js';
import { gre, ip4, outer4 } from '../util/packets.js';
import { rx, tx, up } from './harness.js';

test('receive drops are traced with the reason, the kernel function and the counter', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'gre', iseq: true });
  const lines: string[] = [];
  t.trace = (dir, dev, drop, fn, counter) => lines.push(formatTrace(dir, dev, drop, fn, counter));
  rx(s, outer4(gre(ip4(), { proto: 0x0800 }), { proto: IPPROTO_GRE }));
  rx(s, outer4(gre(ip4(), { proto: 0x0800, seq: 7 }), { proto: IPPROTO_GRE }));
  assert.deepEqual(lines, [
    'rx gre1 drop SeqMissing: iseq set, packet has no S bit — ip_tunnel_rcv → rx_fifo_errors',
    'rx gre1 pass — ip_tunnel_rcv → rx_packets',
  ]);
});

test('transmit decisions and stack-level drops are traced too', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'ipip' });
  const seen: [number, string, number, string, string][] = [];
  t.trace = (...a) => seen.push(a);
  s.trace = (...a) => seen.push(a);
  tx(t, ip4());
  t.mtu = 1500;
  tx(t, ip4({ payloadLen: 1480, df: true }));
  rx(s, outer4(gre(ip4(), { proto: 0x0800, key: 9 }), { proto: IPPROTO_GRE }));
  assert.deepEqual(seen, [
    [TraceDir.Tx, 'ipip1', Drop.None, 'iptunnel_xmit', 'tx_packets'],
    [TraceDir.Tx, 'ipip1', Drop.TxTooBig, 'tnl_update_pmtu', 'tx_errors'],
    [TraceDir.Rx, '', Drop.NoTunnel, 'ipgre_rcv', ''],
  ]);
  assert.equal(formatTrace(TraceDir.Rx, '', Drop.NoTunnel, 'ipgre_rcv', ''),
    'rx - drop NoTunnel: no tunnel matches and the fallback device is down — ipgre_rcv');
});

test('without a hook nothing is traced (the hook field is null by default)', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'ipip' });
  assert.equal(t.trace, null);
  assert.equal(s.trace, null);
});
