// tunkit ↔ tunkit IKEv2 on high ports (strongswan.conf charon.port = 1500,
// charon.port_nat_t = 14500; swanctl.conf remote_port = 14500, the peer's
// NAT-T port, with encap = yes), so that the initiator runs with no
// capabilities at all: a user's tunkitd with ipsec0 pre-created for it
// (zerocap.test.ts), binding ports above 1023, ESP in UDP only.
//   - the Child SA comes up and a ping crosses both ways;
//   - on the wire only UDP 1500/14500: IKE_SA_INIT from 1500 to 14500, then
//     IKE and ESP-in-UDP 14500 ⇄ 14500; nothing on 500 or 4500;
//   - the responder (root) blocks by default (setdefault in/out block): its
//     nftables bypass for IKE/NAT-T names 1500 and 14500, not 500/4500, or
//     no IKE would pass at all.
// Needs root; fails, never skips, without it. Namespaces, daemons and the
// user are removed even on failure.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Netns } from '../../src/demo/netns.js';
import { IkeNet, INNER } from './ike-fixture.js';
import { requireRoot, sleep } from './pair.js';
import { creds, testUser } from './privs-fixture.js';

const PORTS = 'port = 1500\nport_nat_t = 14500';

describe('IKEv2 on charon.port 1500 / port_nat_t 14500 in namespaces', () => {
  after(() => Netns.cleanupAll());

  it('a zero-capability initiator and a default-block responder: Child SA up, ping, only UDP 1500/14500 on the wire', async () => {
    requireRoot();
    const user = testUser();
    const n = new IkeNet(`tkp${process.pid % 1000}`, false);
    try {
      await n.start('right', { charon: PORTS });
      for (const dir of ['in', 'out']) assert.equal(n.tunkit('right', ['xfrm', 'policy', 'setdefault', dir, 'block']).code, 0);
      await n.start('left', { charon: PORTS, conn: 'remote_port = 14500\n    encap = yes', zeroCap: user });
      const pid = n.daemons.left!.pid!;
      await n.until('the left daemon runs as the user', () => creds(pid).uid.startsWith(`${user.uid} `), 5000);
      assert.equal(creds(pid).capEff, '0000000000000000', 'CapEff: none');
      assert.match(n.logs.left, /event=ike_ports port=1500 port_nat_t=14500/, n.logs.left);
      // What tunkitd cannot do without CAP_NET_ADMIN, root does: the route into ipsec0.
      n.ns.left.exec('ip', ['route', 'add', `${INNER.right}/32`, 'dev', 'ipsec0', 'src', INNER.left]);
      const nft = n.ns.right.exec('nft', ['list', 'table', 'inet', 'tunkit']);
      for (const p of ['udp dport 1500 accept', 'udp dport 14500 accept', 'udp sport 1500 accept', 'udp sport 14500 accept']) assert.ok(nft.includes(p), `${p} in:\n${nft}`);
      assert.doesNotMatch(nft, /port (500|4500) /, 'no bypass of 500/4500');
      const dump = n.ns.right.spawn('tcpdump', ['-i', n.dev.right, '-n', '-l', 'udp or esp']);
      let wire = '';
      dump.stdout?.setEncoding('utf8').on('data', (x: string) => { wire += x; });
      await sleep(1000);
      const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
      assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
      assert.equal(n.ping('left', 3), 3, `ping left → right\n${n.tail()}`);
      assert.equal(n.ping('right', 2), 2, `ping right → left\n${n.tail()}`);
      dump.kill('SIGTERM');
      await sleep(300);
      const [l, rr] = [n.sas('left')[0]!, n.sas('right')[0]!];
      assert.deepEqual([l.localPort, l.remotePort, rr.localPort, rr.remotePort], [14500, 14500, 14500, 14500], 'floated to port_nat_t; remote_port kept');
      assert.equal(l.children[0]!.encap, true);
      const lines = wire.split('\n').filter((x) => x.includes(' > '));
      assert.ok(lines.some((x) => x.includes('198.51.100.1.1500 > 198.51.100.2.14500')), `IKE_SA_INIT from 1500 to 14500:\n${wire}`);
      assert.ok(lines.filter((x) => x.includes('198.51.100.1.14500 > 198.51.100.2.14500')).length >= 4, `IKE and ESP 14500 → 14500:\n${wire}`);
      const other = lines.filter((x) => !/198\.51\.100\.[12]\.1?[14]500 > 198\.51\.100\.[12]\.1?[14]500/.test(x) || /\.(500|4500)[ :]/.test(x));
      assert.deepEqual(other, [], 'nothing but UDP 1500/14500, never 500 or 4500');
    } catch (e) {
      if (e instanceof Error) e.message += `\n${n.tail()}`;
      throw e;
    } finally {
      n.close();
      user.remove();
    }
  });
});
