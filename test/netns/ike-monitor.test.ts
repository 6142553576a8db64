// tunkit ike monitor -j and tunkit ike list-conns between two tunkitd in
// namespaces (ike-fixture.ts): up, a child rekey, terminate — the events
// arrive in order on the initiator, with the SPIs `tunkit -j ike list-sas`
// shows; the responder's text monitor sees the same; list-conns shows the
// loaded connection.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { IkeEvent } from '../../src/control/ike.js';
import { Netns } from '../../src/demo/netns.js';
import { IkeNet } from './ike-fixture.js';
import type { Side } from './ike-fixture.js';
import { requireRoot, sleep, TUNKIT } from './pair.js';

function monitor(n: IkeNet, s: Side, args: readonly string[]): { p: ChildProcess; out: () => string } {
  let text = '';
  const p = n.ns[s].spawn(process.execPath, [TUNKIT, '--socket', n.sock(s), ...args]);
  p.stdout?.setEncoding('utf8').on('data', (x: string) => { text += x; });
  return { p, out: () => text };
}

describe('tunkit ike monitor / list-conns in namespaces', () => {
  after(() => Netns.cleanupAll());

  it('up, child rekey, terminate: ike-updown, child-updown, child-rekey, child-updown down, ike-updown down with list-sas\'s SPIs', async () => {
    requireRoot();
    const n = new IkeNet('tkm', false);
    const mons: ChildProcess[] = [];
    try {
      await n.start('right');
      await n.start('left', { conn: 'dpd_delay = 30s' });
      const lc = n.tunkit('left', ['ike', 'list-conns']);
      assert.equal(lc.code, 0, lc.out);
      assert.match(lc.out, /^gw: IKEv2, no reauthentication, rekeying every 14400s, dpd delay 30s\n {2}local: {2}198\.51\.100\.1\n {2}remote: 198\.51\.100\.2\n {2}local pre-shared key authentication:\n {4}id: left\.example\n/);
      assert.match(lc.out, /\n {2}net-left: TUNNEL, rekeying every 3600s, dpd action is none\n {4}local: {2}203\.0\.113\.1\/32\n {4}remote: 203\.0\.113\.17\/32/);
      const lj = JSON.parse(n.tunkit('left', ['-j', 'ike', 'list-conns']).out) as { name: string; children: { name: string }[] }[];
      assert.deepEqual(lj.map((c) => [c.name, c.children.map((ch) => ch.name)]), [['gw', ['net-left']]]);

      const ml = monitor(n, 'left', ['-j', 'ike', 'monitor']);
      const mr = monitor(n, 'right', ['ike', 'monitor']);
      mons.push(ml.p, mr.p);
      await sleep(500);
      const events = (): IkeEvent[] => ml.out().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as IkeEvent);
      const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
      assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
      const sa = n.sas('left')[0]!;
      const ch0 = sa.children[0]!;
      const rk = n.tunkit('left', ['ike', 'rekey', '--child', 'net-left']);
      assert.equal(rk.code, 0, rk.out);
      await n.until('the child rekeyed', () => events().some((e) => e.type === 'ike.child-rekey'), 10_000);
      const ch1 = n.sas('left')[0]!.children.find((c) => c.state === 'INSTALLED')!;
      assert.equal(n.tunkit('left', ['ike', 'terminate', 'gw']).code, 0);
      await n.until('the IKE SA down', () => events().some((e) => e.type === 'ike.ike-updown' && !e.up), 10_000);
      await n.until('the responder\'s IKE SA down', () => /ike-updown: down/.test(mr.out()), 10_000);

      const ev = events();
      assert.deepEqual(ev.map((e) => ('up' in e ? `${e.type} ${e.up}` : e.type)),
        ['ike.ike-updown true', 'ike.child-updown true', 'ike.child-rekey', 'ike.child-updown false', 'ike.ike-updown false'], ml.out());
      const [up, cup, crk, cdown, down] = ev;
      assert.ok(up?.type === 'ike.ike-updown' && down?.type === 'ike.ike-updown');
      assert.deepEqual([up.ike.spiI, up.ike.spiR, up.ike.uniqueId, up.ike.remoteAddr], [sa.spiI, sa.spiR, sa.uniqueId, '198.51.100.2']);
      assert.deepEqual([down.ike.spiI, down.ike.spiR], [sa.spiI, sa.spiR]);
      assert.ok(cup?.type === 'ike.child-updown' && crk?.type === 'ike.child-rekey' && cdown?.type === 'ike.child-updown');
      assert.deepEqual([cup.child.spiIn, cup.child.spiOut, cup.child.reqid], [ch0.spiIn, ch0.spiOut, ch0.reqid]);
      assert.deepEqual([crk.old.spiIn, crk.old.spiOut, crk.new.spiIn, crk.new.spiOut], [ch0.spiIn, ch0.spiOut, ch1.spiIn, ch1.spiOut]);
      assert.deepEqual([cdown.child.spiIn, cdown.child.spiOut], [ch1.spiIn, ch1.spiOut]);

      const text = mr.out();
      assert.match(text, new RegExp(`^ike-updown: up gw #1 198\\.51\\.100\\.2\\[500\\] 'right\\.example' <=> 198\\.51\\.100\\.1\\[500\\] 'left\\.example' SPIs ${sa.spiI}_i ${sa.spiR}_r\\*\n`), text);
      assert.match(text, new RegExp(`\nchild-rekey: gw #1 net-right\\{1\\} -> \\{2\\} reqid 1 SPIs ${ch0.spiOut}_i ${ch0.spiIn}_o -> ${ch1.spiOut}_i ${ch1.spiIn}_o\n`), text);
    } finally {
      for (const m of mons) m.kill('SIGTERM');
      n.close();
    }
  });
});
