// IkeShell's UDP 500 socket failing to receive (raw.ts retries it): one
// error line when it starts, one line when it works again, however many
// retries fail between; IKE goes on receiving after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IkeShell } from '../../src/daemon/ike-shell.js';
import { Log } from '../../src/daemon/log.js';
import { RawConn, RECV_RETRY_MS } from '../../src/io/raw.js';
import { FakeSocketAddon } from '../io/fake-socket.js';

test('UDP 500 recvmmsg failing: logged once, its recovery once; the socket is polled again', async () => {
  const fake = new FakeSocketAddon();
  const udp500 = new RawConn(fake.asAddon(), 11, 17, { batchSize: 4, mtu: 1500, isUdp: true, label: 'udp 500' });
  const lines: string[] = [];
  const ike = new IkeShell({ control: () => null, log: new Log({ out: (l) => lines.push(l), journal: true }), ikeConn: udp500, natTConn: null });
  try {
    fake.script.push('ENOMEM', 'ENOMEM', 'ENOMEM');
    fake.fire();
    await new Promise((r) => setTimeout(r, 3 * RECV_RETRY_MS + 100));
    const faults = lines.filter((l) => /ike_receive/.test(l));
    assert.equal(faults.length, 2, lines.join(''));
    assert.match(faults[0]!, /event=ike_receive socket="udp 500" err="recvmmsg fd=11: ENOMEM"/);
    assert.match(faults[1]!, /event=ike_receive_recovered socket="udp 500"/);
    assert.equal(udp500.stats.rxErrors, 3);
    assert.equal(fake.active.length, 1, 'polled again');
  } finally {
    ike.close();
  }
});
