// Learnt path MTU of the outer route: Tunnel.updatePmtu / routeMtu /
// pmtuLocked / learntPmtu against __ip_rt_update_pmtu and ipv4_mtu
// (net/ipv4/route.c), with a fake clock (`now`, ms):
//   - ip_mtu_locked(dst) → ignore the update
//   - old_mtu < mtu → ignore (a learnt PMTU only ever lowers the MTU)
//   - mtu < ip_rt_min_pmtu (552) → lock = true, mtu = min(old_mtu, 552)
//   - the exception expires after ip_rt_mtu_expires (600 000 ms);
//     ipv4_mtu ignores it once time_after_eq(jiffies, expires).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { Verdict } from '../../src/tunnel/result.js';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { Tunnel } from '../../src/tunnel/tunnel.js';
import { IP_RT_MIN_PMTU, PMTU_EXPIRES_MS } from '../../src/tunnel/types.js';
import { ip4 } from '../util/packets.js';
import { tx, up } from './harness.js';

const T0 = 5_000_000;
const fresh = (kind = 'ipip'): Tunnel =>
  new Tunnel(makeTunnelParams({ name: `${kind}1`, kind, local: '198.51.100.1', remote: '198.51.100.2' }));

test('constants: ip_rt_min_pmtu = 512 + 20 + 20 = 552, ip_rt_mtu_expires = 10 min', () => {
  assert.equal(IP_RT_MIN_PMTU, 552);
  assert.equal(PMTU_EXPIRES_MS, 600_000);
});

test('ipv4_mtu: no learnt PMTU → the underlay MTU, unlocked', () => {
  const t = fresh();
  assert.equal(t.routeMtu(T0), 1500);
  assert.equal(t.learntPmtu(T0), 0);
  assert.equal(t.pmtuLocked(T0), false);
  t.underlayMtu = 9000;
  assert.equal(t.routeMtu(T0), 9000);
});

test('__ip_rt_update_pmtu: a lower MTU is learnt and reported changed', () => {
  const t = fresh();
  assert.equal(t.updatePmtu(1400, T0), true);
  assert.equal(t.routeMtu(T0), 1400);
  assert.equal(t.learntPmtu(T0), 1400);
  assert.equal(t.pmtuLocked(T0), false);
  assert.equal(t.updatePmtu(1300, T0 + 1), true);
  assert.equal(t.routeMtu(T0 + 1), 1300);
});

test('__ip_rt_update_pmtu: old_mtu < mtu → ignored (only lowers)', () => {
  const t = fresh();
  assert.equal(t.updatePmtu(1501, T0), false, 'above the underlay');
  assert.equal(t.learntPmtu(T0), 0);
  t.updatePmtu(1400, T0);
  assert.equal(t.updatePmtu(1401, T0 + 1), false);
  assert.equal(t.updatePmtu(1500, T0 + 1), false);
  assert.equal(t.updatePmtu(65535, T0 + 1), false);
  assert.equal(t.routeMtu(T0 + 1), 1400);
});

test('__ip_rt_update_pmtu: an update equal to the current MTU is accepted but changes nothing', () => {
  const t = fresh();
  assert.equal(t.updatePmtu(1500, T0), true, 'equal to the underlay: old_mtu < mtu is false');
  assert.equal(t.routeMtu(T0), 1500);
  assert.equal(t.updatePmtu(1500, T0 + 1), false);
  t.updatePmtu(1400, T0 + 2);
  assert.equal(t.updatePmtu(1400, T0 + 3), false);
  assert.equal(t.routeMtu(T0 + 3), 1400);
});

test('__ip_rt_update_pmtu: below 552 → clamped to 552 and locked (mtu = min(old_mtu, ip_rt_min_pmtu))', () => {
  for (const mtu of [551, 500, 68, 1, 0]) {
    const t = fresh();
    assert.equal(t.updatePmtu(mtu, T0), true, String(mtu));
    assert.equal(t.routeMtu(T0), 552, String(mtu));
    assert.equal(t.learntPmtu(T0), 552);
    assert.equal(t.pmtuLocked(T0), true, `${mtu}: locked`);
  }
  const at = fresh();
  at.updatePmtu(552, T0);
  assert.equal(at.pmtuLocked(T0), false, 'exactly 552 is not below the minimum');
  assert.equal(at.routeMtu(T0), 552);
});

test('__ip_rt_update_pmtu: the clamp never raises the MTU above old_mtu', () => {
  const t = fresh();
  t.underlayMtu = 540;
  t.updatePmtu(400, T0);
  assert.equal(t.routeMtu(T0), 540, 'min(540, 552)');
  assert.equal(t.learntPmtu(T0), 540, 'the exception itself holds 540, not 552');
  assert.equal(t.pmtuLocked(T0), true);

  const u = fresh();
  u.updatePmtu(1000, T0);
  u.underlayMtu = 520; // the route now says 520 < 552
  u.updatePmtu(300, T0 + 1);
  assert.equal(u.routeMtu(T0 + 1), 520);
  assert.equal(u.learntPmtu(T0 + 1), 520);
  assert.equal(u.pmtuLocked(T0 + 1), true);
});

test('ip_mtu_locked: a locked entry ignores every later update, lower or not', () => {
  const t = fresh();
  t.updatePmtu(400, T0);
  for (const mtu of [300, 100, 551, 552, 1000, 1500]) {
    assert.equal(t.updatePmtu(mtu, T0 + 10), false, String(mtu));
    assert.equal(t.routeMtu(T0 + 10), 552);
    assert.equal(t.pmtuLocked(T0 + 10), true);
  }
});

test('ip_rt_mtu_expires: the learnt MTU and its lock vanish at exactly 600 000 ms (time_after_eq)', () => {
  const t = fresh();
  t.updatePmtu(1300, T0);
  assert.equal(t.routeMtu(T0 + PMTU_EXPIRES_MS - 1), 1300);
  assert.equal(t.routeMtu(T0 + PMTU_EXPIRES_MS), 1500);
  assert.equal(t.learntPmtu(T0 + PMTU_EXPIRES_MS), 0);

  const l = fresh();
  l.updatePmtu(200, T0);
  assert.equal(l.pmtuLocked(T0 + PMTU_EXPIRES_MS - 1), true);
  assert.equal(l.pmtuLocked(T0 + PMTU_EXPIRES_MS), false);
  assert.equal(l.routeMtu(T0 + PMTU_EXPIRES_MS), 1500);
  assert.equal(l.updatePmtu(1400, T0 + PMTU_EXPIRES_MS), true, 'an expired lock no longer blocks updates');
  assert.equal(l.routeMtu(T0 + PMTU_EXPIRES_MS), 1400);
});

test('expiry is judged at the time asked, whatever the accessor (routeMtu, learntPmtu, pmtuLocked)', () => {
  const late = T0 + PMTU_EXPIRES_MS + 5;
  const a = fresh();
  a.updatePmtu(1200, T0);
  assert.equal(a.learntPmtu(late), 0);
  const b = fresh();
  b.updatePmtu(1200, T0);
  assert.equal(b.pmtuLocked(late), false);
  assert.equal(b.routeMtu(late), 1500);
});

test('a lower update renews the expiry from its own time', () => {
  const t = fresh();
  t.updatePmtu(1400, T0);
  t.updatePmtu(1300, T0 + 400_000);
  assert.equal(t.routeMtu(T0 + PMTU_EXPIRES_MS + 1), 1300, 'still valid after the first deadline');
  assert.equal(t.routeMtu(T0 + 400_000 + PMTU_EXPIRES_MS - 1), 1300);
  assert.equal(t.routeMtu(T0 + 400_000 + PMTU_EXPIRES_MS), 1500);
});

test('__ip_rt_update_pmtu: the same MTU in the second half of the lifetime renews the expiry', () => {
  const t = fresh();
  t.updatePmtu(1400, T0);
  t.updatePmtu(1400, T0 + PMTU_EXPIRES_MS / 2); // not time_before(expires − expires/2)
  assert.equal(t.routeMtu(T0 + PMTU_EXPIRES_MS + 1000), 1400);
  assert.equal(t.routeMtu(T0 + PMTU_EXPIRES_MS / 2 + PMTU_EXPIRES_MS), 1500);
});

test('dst_mtu is min(underlay, learnt): a later, smaller underlay MTU wins', () => {
  const t = fresh();
  t.updatePmtu(1400, T0);
  t.underlayMtu = 1280;
  assert.equal(t.routeMtu(T0), 1280);
  t.underlayMtu = 9000;
  assert.equal(t.routeMtu(T0), 1400);
});

test('the PMTU state is per tunnel', () => {
  const a = fresh();
  const b = fresh('gre');
  a.updatePmtu(1000, T0);
  assert.equal(b.routeMtu(T0), 1500);
  b.updatePmtu(200, T0);
  assert.equal(a.pmtuLocked(T0), false);
  assert.equal(b.pmtuLocked(T0), true);
});

test('property: routeMtu never rises before expiry, stays ≥ min(underlay, 552), and equals the underlay after', () => {
  fc.assert(fc.property(
    fc.array(fc.record({ mtu: fc.integer({ min: 0, max: 2000 }), dt: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 30 }),
    (updates) => {
      const t = fresh();
      let now = T0;
      let last = t.routeMtu(now);
      for (const u of updates) {
        now += u.dt;
        t.updatePmtu(u.mtu, now);
        const m = t.routeMtu(now);
        assert.ok(m <= last, `rose from ${last} to ${m}`);
        assert.ok(m >= Math.min(1500, IP_RT_MIN_PMTU));
        if (u.mtu <= last && !t.pmtuLocked(now)) assert.equal(m, Math.max(u.mtu, IP_RT_MIN_PMTU));
        last = m;
      }
      assert.equal(t.routeMtu(now + PMTU_EXPIRES_MS), 1500);
    },
  ));
});

test('iptunnel_xmit: outer DF is cleared while the PMTU is locked and set again once it expires', () => {
  const t = up(new TunnelStack(), { kind: 'ipip' });
  t.updatePmtu(300, T0);
  const locked = tx(t, ip4({ payloadLen: 100 }), T0 + 1);
  assert.equal(locked.verdict, Verdict.Xmit);
  assert.equal(locked.pkt[6]! & 0x40, 0, 'ip_mtu_locked → frag_off 0');
  const later = tx(t, ip4({ payloadLen: 100 }), T0 + PMTU_EXPIRES_MS);
  assert.equal(later.pkt[6]! & 0x40, 0x40, 'DF back after expiry');
});

test('__ip_rt_update_pmtu: the same MTU in the first half of the lifetime does NOT renew the expiry', () => {
  const t = fresh();
  t.updatePmtu(1400, T0);
  t.updatePmtu(1400, T0 + 100_000); // kernel: goto out, dst->expires stays T0 + 600 000
  assert.equal(t.routeMtu(T0 + PMTU_EXPIRES_MS), 1500);
});
