// daemon/config-file.ts without root: a TunkitNode over FakeDevices, an
// XfrmControl, in-memory address/route tables, and the requests dispatched
// as tunkitd's handler does. Unchanged objects stay the same objects (their
// counters with them); a refused file changes nothing; a step the "kernel"
// refuses half-way is rolled back to the state before the reload.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigFile } from '../../src/daemon/config-file.js';
import type { LinkTables } from '../../src/daemon/config-file.js';
import { TunkitNode } from '../../src/daemon/node.js';
import type { Request } from '../../src/daemon/protocol.js';
import { XfrmControl } from '../../src/daemon/xfrm-control.js';
import { VpnError } from '../../src/wire/errors.js';
import { formatPrefix } from '../../src/xfrm/selector.js';
import type { Prefix } from '../../src/xfrm/selector.js';
import type { XfrmOp } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { FakeDevices } from './fake-devices.js';

class MemTables implements LinkTables {
  readonly addrs = new Map<number, Set<string>>();
  readonly rts = new Map<number, Set<string>>();
  private of(m: Map<number, Set<string>>, ix: number): Set<string> {
    let s = m.get(ix);
    if (s === undefined) m.set(ix, (s = new Set()));
    return s;
  }
  addresses(ix: number): string[] { return [...this.of(this.addrs, ix)]; }
  routes(ix: number): string[] { return [...this.of(this.rts, ix)]; }
  setAddress(p: Prefix, ix: number, del: boolean): void {
    const a = this.of(this.addrs, ix);
    if (!del && a.has(formatPrefix(p))) throw new VpnError('EEXIST', 'File exists'); // NLM_F_EXCL, as RtNetlink.addrSet
    if (del) a.delete(formatPrefix(p)); else a.add(formatPrefix(p));
  }
  /** Guard blackholes held now (config-file.ts LinkTables.guard). */
  readonly guards = new Set<string>();
  guard(p: Prefix, del: boolean): void { if (del) this.guards.delete(formatPrefix(p)); else this.guards.add(formatPrefix(p)); }
  setRoute(p: Prefix, ix: number, del: boolean): void { if (del) this.of(this.rts, ix).delete(formatPrefix(p)); else this.of(this.rts, ix).add(formatPrefix(p)); }
  close(): void { /* nothing held */ }
}

function daemon(): { cfg: ConfigFile; node: TunkitNode; xctl: XfrmControl; devs: FakeDevices; tables: MemTables; log: string[] } {
  const devs = new FakeDevices();
  const node = new TunkitNode(devs, () => undefined, () => 0);
  const xctl = new XfrmControl(new XfrmStack(), {
    ifindex: (n) => devs.ifindex(n), publish: () => undefined, now: () => 0, routeMtu: () => 1500, tablesChanged: () => undefined,
  });
  const tables = new MemTables();
  const log: string[] = [];
  const handle = (req: Request): unknown => {
    const a = req.args;
    if (req.op.startsWith('xfrm.')) return xctl.handle(req.op as XfrmOp, a);
    switch (req.op) {
      case 'link.add': return node.addLink(a);
      case 'link.del': node.delLink(a['name']); return null;
      case 'link.set': return node.setLink(a['name'], a);
      case 'addr.add': case 'addr.del': case 'route.add': case 'route.del': return cfg.handle(req.op, a);
      default: throw new Error(`unexpected ${req.op}`);
    }
  };
  const cfg: ConfigFile = new ConfigFile({ node, xctl, devices: devs, handle, info: (m) => log.push(m), tables });
  return { cfg, node, xctl, devs, tables, log };
}

const KEY = '0x' + '5a'.repeat(20);
const file = (ipipTtl: number, extra = ''): string => `
[link.gre1]
type = "gre"
local = "198.51.100.1"
remote = "198.51.100.2"
key = 9
addresses = ["192.0.2.1/30"]
routes = ["203.0.113.0/25"]

[link.ipip1]
type = "ipip"
remote = "198.51.100.3"
ttl = ${ipipTtl}
${extra}
[[xfrm.state]]
src = "198.51.100.1"
dst = "198.51.100.2"
spi = 0x77
mode = "tunnel"
aead = { name = "rfc4106(gcm(aes))", key = "${KEY}", bits = 128 }

[[xfrm.policy]]
src = "203.0.113.1"
dst = "203.0.113.2"
dir = "out"
tmpl = [{ src = "198.51.100.1", dst = "198.51.100.2", mode = "tunnel" }]
`;

function withDir(fn: (write: (text: string, mode?: number) => string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-cfgd-'));
  let n = 0;
  try {
    fn((text, mode = 0o600) => {
      const f = join(dir, `c${n++}.toml`);
      writeFileSync(f, text);
      chmodSync(f, mode);
      return f;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('apply from nothing, then a reload that changes one link: the others are the same objects, counters and all', () => {
  withDir((write) => {
    const d = daemon();
    const p1 = d.cfg.apply(write(file(64)));
    assert.deepEqual([p1.added.length, p1.steps.length], [4, 8]);
    const gre = d.node.entry('gre1');
    assert.equal(gre.dev.isUp(), true);
    assert.deepEqual(d.tables.addresses(gre.dev.ifindex), ['192.0.2.1/30']);
    assert.deepEqual(d.tables.routes(gre.dev.ifindex), ['203.0.113.0/25']);
    const x = d.xctl.stack.sad.list()[0]!;
    x.curPackets = 99;
    gre.tunnel.stats.tx_packets = 1234;
    const ipip = d.node.entry('ipip1').tunnel;
    const p2 = d.cfg.apply(write(file(32)));
    assert.deepEqual([p2.replaced, p2.unchanged.length], [['link ipip1'], 3]);
    assert.equal(d.node.entry('gre1').tunnel, gre.tunnel, 'gre1: the same tunnel');
    assert.equal(d.node.entry('gre1').tunnel.stats.tx_packets, 1234);
    assert.equal(d.xctl.stack.sad.list()[0], x, 'the same SA');
    assert.equal(x.curPackets, 99);
    assert.notEqual(d.node.entry('ipip1').tunnel, ipip, 'ipip1 made anew');
    assert.equal(d.node.entry('ipip1').tunnel.p.ttl, 32);
    assert.ok(d.log.includes('config: link del ipip1 (replaced)'));
    assert.ok(!d.log.some((l) => l.includes('5a5a')), 'no key in the log');
  });
});

test('save → apply what it printed: no step; the saved text is stable', () => {
  withDir((write) => {
    const d = daemon();
    d.cfg.apply(write(file(64)));
    const saved = d.cfg.save();
    const p = d.cfg.apply(write(saved));
    assert.deepEqual(p.steps, []);
    assert.equal(d.cfg.save(), saved);
    assert.match(saved, /key = "0x(5a){20}"/);
  });
});

test('a refused file changes nothing: invalid values, keys in a file others may read', () => {
  withDir((write) => {
    const d = daemon();
    d.cfg.apply(write(file(64)));
    const before = d.cfg.save();
    const gre = d.node.entry('gre1').tunnel;
    assert.throws(() => d.cfg.apply(write(file(300))), /c1\.toml:13: link "ipip1": key "ttl": 300 is not in 0\.\.255/);
    assert.throws(() => d.cfg.apply(write(file(32), 0o644)), (e: unknown) => e instanceof VpnError && e.code === 'ECONFIG' && /holds keys but is readable by group or others \(mode 0644\)/.test(e.message));
    assert.throws(() => d.cfg.apply('/nonexistent/tunkit.toml'), (e: unknown) => e instanceof VpnError && e.code === 'ECONFIG');
    assert.equal(d.cfg.save(), before);
    assert.equal(d.node.entry('gre1').tunnel, gre);
  });
});

test('a step refused half-way is rolled back: the state before the reload comes back', () => {
  withDir((write) => {
    const d = daemon();
    d.cfg.apply(write(file(64)));
    const before = d.cfg.save();
    const x = d.xctl.stack.sad.list()[0]!;
    d.devs.failNext = new VpnError('ENOMEM', 'Cannot allocate memory', 'name');
    // ipip1 is replaced (its link.add fails) and sit9 would be new
    assert.throws(() => d.cfg.apply(write(file(32, '\n[link.sit9]\ntype = "sit"\nremote = "198.51.100.9"\n'))),
      (e: unknown) => e instanceof VpnError && e.code === 'ENOMEM' && /link add ipip1 type ipip: Cannot allocate memory; rolled back to the state before \(\d+ steps\)/.test(e.message));
    assert.equal(d.cfg.save(), before, 'as before the reload');
    assert.equal(d.node.all.has('sit9'), false);
    assert.equal(d.xctl.stack.sad.list()[0], x, 'the SA the plan had not reached is untouched');
    assert.ok(d.log.some((l) => l.startsWith('config: rollback: link add ipip1')));
  });
});

test('addr and route requests: only on tunkit\'s links, a prefix required', () => {
  const d = daemon();
  assert.throws(() => d.cfg.handle('addr.add', { dev: 'eth0', addr: '192.0.2.1/24' }), (e: unknown) => e instanceof VpnError && e.code === 'ENODEV');
  d.node.addLink({ name: 'g', kind: 'gre', remote: '198.51.100.2' });
  assert.throws(() => d.cfg.handle('route.add', { dev: 'g', dst: 'nope' }), (e: unknown) => e instanceof VpnError && e.field === 'dst');
  d.cfg.handle('route.add', { dev: 'g', dst: '2001:db8::/32' });
  assert.deepEqual(d.tables.routes(d.node.entry('g').dev.ifindex), ['2001:db8::/32']);
});

test('a reload that makes a link anew holds a guard blackhole for its routes until they are back', () => {
  withDir((write) => {
    const d = daemon();
    d.cfg.apply(write(file(64)));
    d.log.length = 0;
    const p = d.cfg.apply(write(file(64).replace('key = 9', 'key = 10')));
    assert.deepEqual(p.replaced, ['link gre1']);
    const at = (line: string): number => d.log.findIndex((l) => l.startsWith(line));
    const hold = at('config: holding guard blackhole 203.0.113.0/25 metric 4294967295');
    const del = at('config: link del gre1 (replaced)');
    const back = at('config: route add 203.0.113.0/25 dev gre1');
    const release = at('config: released guard blackhole 203.0.113.0/25');
    assert.ok(hold >= 0 && hold < del && del < back && back < release, d.log.join('\n'));
    assert.deepEqual([...d.tables.guards], [], 'released');
    assert.deepEqual(d.tables.routes(d.node.entry('gre1').dev.ifindex), ['203.0.113.0/25']);
  });
});

test('a start adopts what an earlier tunkitd left: its device as it is, an address already there counts as added', () => {
  withDir((write) => {
    const d = daemon();
    // The fake hands out ifindexes 10, 11, …: the fallback gre0 (made first, as the module's) takes 10.
    d.devs.existing.set('gre1', 11);
    d.devs.existing.set('ipip1', 13);
    assert.throws(() => d.cfg.apply(write(file(64))), /a device "gre1" exists that this tunkitd did not make/);
    d.devs.adoptable.add('gre1');
    d.devs.adoptable.add('ipip1');
    d.tables.setAddress({ family: 4, bytes: Uint8Array.of(192, 0, 2, 1), plen: 30 }, 11, false); // left by the earlier run
    d.cfg.apply(write(file(64)), false);
    assert.equal(d.node.entry('gre1').dev.ifindex, 11, 'made on the ifindex the fake hands out next: the one left');
    assert.deepEqual(d.tables.addresses(11), ['192.0.2.1/30']);
  });
});

test('at start (no rollback) a step refused half-way leaves what was made, to fail closed', () => {
  withDir((write) => {
    const d = daemon();
    const create = d.devs.create.bind(d.devs);
    d.devs.create = (...a: Parameters<typeof create>) => {
      if (a[0] === 'ipip1') throw new VpnError('ENOMEM', 'Cannot allocate memory', 'name');
      return create(...a);
    };
    assert.throws(() => d.cfg.apply(write(file(64)), false), /link add ipip1 type ipip: Cannot allocate memory; what was made stays \(fail closed\)/);
    assert.equal(d.node.all.has('gre1'), true);
    assert.equal(d.devs.made.get('gre1')?.removed, false);
  });
});
