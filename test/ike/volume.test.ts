// Child SA volume limits (swanctl.conf rekey_bytes / life_bytes / rand_bytes
// and the *_packets trio): each SA's states carry xfrm soft limits of rekey
// minus a random 0..rand and hard limits of life (lifetime.ts
// volumeLimits, as charon's child_cfg get_lifetime with jitter), beside the
// time limits; no volume keys, no volume limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChildConfig } from '../../src/ike/config.js';
import { volumeLimits } from '../../src/ike/lifetime.js';
import { makePair, pump } from './pair.js';

const cfg = (bytes: [number, number, number], packets: [number, number, number]): ChildConfig => ({
  name: 'c', localTs: ['dynamic'], remoteTs: ['dynamic'], espProposals: [], mode: 'tunnel', startAction: 'none',
  life: { rekeySec: 3600, randSec: 360, lifeSec: 3960 },
  bytes: { rekey: bytes[0], life: bytes[1], rand: bytes[2] }, packets: { rekey: packets[0], life: packets[1], rand: packets[2] },
});

describe('volume limits', () => {
  it('volumeLimits: soft = rekey − floor(u32/2^32 × rand), hard = life; zeros set nothing', () => {
    const rnd = Uint8Array.of(0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff); // halfway for bytes, almost all of rand for packets
    assert.deepEqual(volumeLimits(cfg([1000, 1100, 100], [50, 55, 5]), rnd), { byteSoft: 950, byteHard: 1100, packetSoft: 46, packetHard: 55 });
    assert.deepEqual(volumeLimits(cfg([0, 0, 0], [0, 0, 0]), rnd), {});
    assert.deepEqual(volumeLimits(cfg([0, 5000, 5000], [0, 0, 0]), rnd), { byteHard: 5000 }, 'a hard limit alone');
    assert.deepEqual(volumeLimits(cfg([3, 3, 0], [0, 0, 0]), new Uint8Array(8)), { byteSoft: 3, byteHard: 3 });
  });

  it('the Child SA\'s states on both ends carry them, jittered per SA within [rekey − rand, rekey]', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16', { both: { childExtra: 'rekey_bytes = 1m\n        rekey_packets = 1000' } });
    let err: string | null = 'pending';
    p.a.initiate('net-a', p.now, (e) => { err = e; });
    pump(p);
    assert.equal(err, null, p.ha.logs.join('\n'));
    for (const h of [p.ha, p.hb]) {
      const states = h.states();
      assert.equal(states.length, 2);
      for (const s of states) {
        const l = s.limits!;
        assert.ok(l.byteSoft! >= 1048576 - 104857 && l.byteSoft! <= 1048576, `byteSoft ${l.byteSoft}`);
        assert.equal(l.byteHard, 1153433, 'life_bytes = rekey_bytes × 110 / 100');
        assert.ok(l.packetSoft! >= 900 && l.packetSoft! <= 1000, `packetSoft ${l.packetSoft}`);
        assert.equal(l.packetHard, 1100);
        assert.ok(l.timeSoft !== undefined && l.timeHard !== undefined, 'the time limits stay');
      }
    }
  });

  it('no volume keys: time limits only', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16');
    p.a.initiate('net-a', p.now, () => undefined);
    pump(p);
    for (const s of p.ha.states()) assert.deepEqual(Object.keys(s.limits ?? {}).sort(), ['timeHard', 'timeSoft']);
  });
});
