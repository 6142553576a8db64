// Fail closed across the daemon's death: the scenario of the fail-closed
// issue (two namespaces, each with a default route, an ESP tunnel-mode
// policy between 203.0.113.1 and 203.0.113.2, a ping running, `kill -9` of
// one tunkitd) used to put 34 protected ICMP packets on the wire in clear
// text. Now the policy TUN is persistent (persist.ts): it and its routes
// outlive the process, and the kernel drops what is routed into it while
// nobody reads; behind them each out policy's prefix also has a blackhole
// route of the worst metric (policy-routes.ts), not tied to the TUN. Counted
// on the peer's side of the veth with tcpdump. fail-closed-restart.test.ts
// adds a tunnel route, a crash, SIGTERM and the restarts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Capture, describe, INNER, installSas, key, OUTER } from './esp-fixture.js';
import { sleep, step, withPair } from './pair.js';

/** ICMP data bytes of the probe pings: a total length no other packet of the test has. */
const SIZE = 333;
const PROBE_LEN = 20 + 8 + SIZE;

test('kill -9 of tunkitd: protected traffic never leaves in clear text', async (t) => {
  await withPair('tkfc', async (p) => {
    await step(t, p, 'ESP tunnel mode between the inner addresses; a default route on the left; ping passes', async () => {
      p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
      p.shOk('right', `ip addr add ${INNER[1]}/32 dev lo`);
      p.shOk('left', `ip route add default via ${OUTER[1]}`);
      installSas(p, 0x5100, { mode: 'tunnel', algo: () => ['aead', 'rfc4106(gcm(aes))', key(20), '128'] });
      await p.pingOk('left', INNER[1], { iface: INNER[0], count: 3, size: SIZE });
    });
    await step(t, p, 'kill -9 during a ping: none of its packets crosses the veth in clear, and the blackhole stays', async () => {
      const cap = await Capture.start(p, 'right');
      const ping = p.ping('left', INNER[1], { iface: INNER[0], count: 30, intervalS: 0.1, waitS: 1, size: SIZE });
      await sleep(1000);
      assert.equal(await p.stopDaemon('left', 'SIGKILL'), 'SIGKILL');
      const r = await ping;
      const seen = await cap.stop();
      const clear = seen.filter((x) => x.proto === 1 && x.totalLen === PROBE_LEN);
      assert.equal(clear.length, 0, `clear-text probe packets on the right's veth: ${describe(seen)}`);
      assert.ok(seen.some((x) => x.proto === 50), `ESP crossed before the kill: ${describe(seen)}`);
      assert.ok(r.received > 0 && r.received < r.transmitted, `replies before the kill only: ${r.received}/${r.transmitted}`);
      assert.match(p.shOk('left', 'ip -d link show ipsec0'), /NO-CARRIER.*\n.*\n.*persist on/, 'the policy TUN outlives the process, with no reader');
      assert.match(p.shOk('left', `ip route show ${INNER[1]}/32`), /^203\.0\.113\.2 dev ipsec0 /m);
      assert.match(p.shOk('left', `ip route show ${INNER[1]}/32`), /^blackhole 203\.0\.113\.2 proto 116 .*metric 4294967295/m);
      assert.doesNotMatch(p.sh('left', `ip route get ${INNER[1]} from ${INNER[0]}`).stdout, new RegExp(`dev ${p.side('left').veth}`));
    });
  });
});
