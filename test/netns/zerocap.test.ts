// tunkitd with no capabilities at all (CapEff 0), not root from the start
// (README "Least privilege"): ESP-in-UDP on the NAT-T port needs neither raw
// sockets nor CAP_NET_ADMIN, given the policy TUN ipsec0 root pre-created
// for the daemon's user (ip tuntap add … user UID vnet_hdr, alias tunkitd, up)
// and the routes into it.
//   - two such daemons start (no_cap_net_raw warned once), carry pings both
//     ways over an ESP-in-UDP SA pair in tunnel mode; every packet on the veth
//     is UDP 4500 → 4500 of the RFC 4303 length; the per-SA counters match;
//   - a GRE tunnel and a plain ESP SA are refused, naming CAP_NET_RAW, exit
//     non-zero, nothing added; the ESP-in-UDP pings keep crossing.
//   - tunkitd --config with a policy that needs ipsec0, which it cannot open:
//     exit 1 naming it, no control socket; the same file without the policies
//     starts (ipsec0's absence is only warned then).
// Namespaces, their devices and the user are removed even on failure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { Netns } from '../../src/demo/netns.js';
import { Capture, describe, INNER, installSas, key, OUTER, sa, settleStates, states } from './esp-fixture.js';
import { Pair, requireRoot, SIDES, sleep, TUNKITD, within } from './pair.js';
import { asUser, creds, LAUNCHER, testUser } from './privs-fixture.js';
import type { TestUser } from './privs-fixture.js';

const ENCAP = ['encap', 'espinudp', '4500', '4500', '0.0.0.0'];
const GCM = (): string[] => ['aead', 'rfc4106(gcm(aes))', key(20), '128'];
/** A 56-byte ping (84-byte inner IPv4) in AES-GCM tunnel mode over UDP: IP 20 + UDP 8 + ESP 8 + IV 8 + (84 + 2 → 88) + ICV 16. */
const WIRE_LEN = 20 + 8 + 8 + 8 + 88 + 16;

/** Pre-creates ipsec0 for `user` (as root, in the daemon's namespace) before the launcher runs the daemon. */
const withIpsec0 = (user: TestUser): string[] => ['sh', '-c',
  `ip tuntap add dev ipsec0 mode tun user ${user.uid} vnet_hdr && ip link set dev ipsec0 alias tunkitd up && exec "$@"`, 'sh'];

/** SA pair 0x3000/0x3001 with out and in policies; what tunkitd cannot install without CAP_NET_ADMIN, root does. */
function setUp(p: Pair): void {
  installSas(p, 0x3000, { algo: GCM, mode: 'tunnel', extra: ENCAP });
  for (const [i, s] of SIDES.entries()) {
    p.shOk(s, `ip addr add ${INNER[i]!}/32 dev lo`);
    p.shOk(s, `ip route add ${INNER[1 - i]!}/32 dev ipsec0 src ${INNER[i]!}`);
  }
}

/** Pings both ways; returns the out-SA packet counts once settled. */
async function pingBoth(p: Pair): Promise<[number, number]> {
  await Promise.all([p.pingOk('left', INNER[1], { iface: INNER[0], count: 3 }), p.pingOk('right', INNER[0], { iface: INNER[1], count: 3 })]);
  const st = await settleStates(p);
  const out = (from: 'left' | 'right', to: 'left' | 'right', spi: number): number => {
    const o = sa(st[from], spi, from);
    const i = sa(st[to], spi, to);
    assert.equal(i.curlft.packets, o.curlft.packets, `spi 0x${spi.toString(16)}: ${to} in == ${from} out`);
    assert.deepEqual(o.stats, { replayWindow: 0, replay: 0, integrityFailed: 0 });
    return o.curlft.packets;
  };
  return [out('left', 'right', 0x3000), out('right', 'left', 0x3001)];
}

function refusals(p: Pair): void {
  const gre = p.tunkit('left', `link add gre1 type gre local ${OUTER[0]} remote ${OUTER[1]}`);
  assert.notEqual(gre.code, 0, `link add gre1 must fail: ${gre.stdout}`);
  assert.match(gre.stderr, /CAP_NET_RAW needed for type gre tunnels/, gre.stderr);
  assert.doesNotMatch(p.tunkitOk('left', 'link show'), /gre1/, 'no gre1');
  assert.equal(p.sh('left', 'ip link show dev gre1').code, 1, 'no gre1 device');
  const esp = p.tunkit('left', ['xfrm', 'state', 'add', 'src', OUTER[0], 'dst', OUTER[1], 'proto', 'esp', 'spi', '0x4000', 'mode', 'tunnel', ...GCM()]);
  assert.notEqual(esp.code, 0, `plain ESP state add must fail: ${esp.stdout}`);
  assert.match(esp.stderr, /CAP_NET_RAW needed for proto esp without encap/, esp.stderr);
  assert.deepEqual(states(p, 'left').map((x) => x.spi).sort(), [0x3000, 0x3001], 'no state 0x4000');
  assert.equal(p.side('left').daemon.exitCode, null, 'the daemon keeps running');
}

test('tunkitd with no capabilities carries ESP-in-UDP and refuses what needs CAP_NET_RAW', async (t: TestContext) => {
  requireRoot();
  const user = testUser();
  const dir = mkdtempSync(join(tmpdir(), 'tkzero-'));
  let p: Pair | null = null;
  try {
    chownSync(dir, user.uid, user.gid); // the control sockets' directory: the user's own
    p = await Pair.create('tkzc', [], [...withIpsec0(user), ...LAUNCHER, ...asUser(user, '')], dir);
    const pair = p;
    for (const s of SIDES) {
      const sd = pair.side(s);
      const c = creds(sd.daemon.pid!);
      assert.equal(c.uid, `${user.uid} ${user.uid} ${user.uid} ${user.uid}`, `[${s}] Uid`);
      assert.equal(c.capEff, '0000000000000000', `[${s}] CapEff: none`);
      assert.equal(sd.log.match(/event=no_cap_net_raw /g)?.length, 1, `[${s}] no_cap_net_raw said once: ${sd.log}`);
      assert.match(sd.log, /event=adopted dev=ipsec0/, `[${s}] ipsec0 adopted`);
    }
    setUp(pair);
    const cap = await Capture.start(pair, 'right');
    let first: [number, number];
    try {
      first = await pingBoth(pair);
    } finally {
      const seen = await cap.stop();
      t.diagnostic(`on the wire: ${describe(seen)}`);
      assert.ok(seen.length >= 12, `captured ${seen.length} packets, expected ≥ 12`);
      assert.ok(seen.every((x) => x.proto === 17 && x.sport === 4500 && x.dport === 4500 && x.totalLen === WIRE_LEN),
        `every packet UDP 4500 → 4500 of ${WIRE_LEN} bytes: ${describe(seen)}`);
    }
    assert.ok(first[0] >= 6 && first[1] >= 6, `SA packets ${first.join('/')}`);
    refusals(pair);
    const again = await pingBoth(pair);
    assert.ok(again[0] >= first[0] + 6 && again[1] >= first[1] + 6, `SA packets went on: ${first.join('/')} → ${again.join('/')}`);
    for (const s of SIDES) {
      // nfnetlink refuses the firewall's batch at once (EPERM on its BATCH_BEGIN); a wait for an
      // answer instead stalled the daemon a second at a time
      const fw = pair.side(s).log.match(/event=policy_firewall .*/g) ?? [];
      assert.equal(fw.length, 1, `[${s}] one policy_firewall warning: ${fw.join('\n')}`);
      assert.match(fw[0]!, /EPERM.*needs CAP_NET_ADMIN/);
    }
  } catch (e) {
    if (e instanceof Error && p !== null) e.message += `\n${p.logs()}`;
    throw e;
  } finally {
    await p?.close();
    rmSync(dir, { recursive: true, force: true });
    user.remove();
  }
});

/** A left-side config: the ESP-in-UDP SA pair and, when `policies`, its tunnel-mode policies (if_id 0: ipsec0). */
function configText(policies: boolean): string {
  const state = (src: string, dst: string, spi: number): string => `[[xfrm.state]]
src = "${src}"
dst = "${dst}"
spi = ${spi}
mode = "tunnel"
reqid = ${spi}
aead = { name = "rfc4106(gcm(aes))", key = "${key(20)}", bits = 128 }
encap = { type = "espinudp", sport = 4500, dport = 4500 }
`;
  const policy = (src: string, dst: string, dir: string, from: string, to: string, spi: number): string => `[[xfrm.policy]]
src = "${src}/32"
dst = "${dst}/32"
dir = "${dir}"
tmpl = [{ src = "${from}", dst = "${to}", reqid = ${spi}, mode = "tunnel" }]
`;
  return [state(OUTER[0], OUTER[1], 0x3000), state(OUTER[1], OUTER[0], 0x3001),
    ...(policies ? [policy(INNER[0], INNER[1], 'out', OUTER[0], OUTER[1], 0x3000), policy(INNER[1], INNER[0], 'in', OUTER[1], OUTER[0], 0x3001)] : []),
  ].join('\n');
}

/** Starts a zero-capability tunkitd --config FILE in ns; resolves with its exit status (or 'running' and its log). */
async function startWithConfig(ns: Netns, user: TestUser, sock: string, file: string): Promise<{ exit: number | string; log: string; hadSocket: boolean }> {
  const d = ns.spawn(LAUNCHER[0]!, [...LAUNCHER.slice(1), ...asUser(user, ''), process.execPath, TUNKITD, '--socket', sock, '--config', file]);
  let log = '';
  d.stderr?.on('data', (b: Buffer) => { log += b.toString(); });
  const exited = new Promise<number | string>((r) => d.on('exit', (code, sig) => r(code ?? sig ?? -1)));
  try {
    for (let i = 0; i < 200 && !existsSync(sock) && d.exitCode === null; i++) await sleep(25);
    const hadSocket = existsSync(sock);
    if (hadSocket) {
      await sleep(500); // the SIGTERM handler is set once start() returned, just after the socket appeared
      d.kill('SIGTERM');
    }
    const exit = await within(exited, 10_000);
    return { exit, log, hadSocket };
  } finally {
    d.kill('SIGKILL');
  }
}

test('tunkitd --config refuses to start when a policy needs ipsec0 it cannot open; without such policies it starts', async () => {
  requireRoot();
  const user = testUser();
  const ns = Netns.create('tkzf');
  const dir = mkdtempSync(join(tmpdir(), 'tkzero-'));
  try {
    chownSync(dir, user.uid, user.gid);
    const sock = join(dir, 'tunkitd.sock');
    const file = join(dir, 'tunkit.toml');
    writeFileSync(file, configText(true), { mode: 0o600 });
    chownSync(file, user.uid, user.gid); // holds keys: the daemon's user's own, 0600
    const bad = await startWithConfig(ns, user, sock, file);
    assert.equal(bad.exit, 1, `exit: ${bad.log}`);
    assert.equal(bad.hadSocket, false, 'no control socket');
    assert.match(bad.log, /event=startup_failed .*tunkit\.toml: xfrm policy #1: policy-based IPsec \(if_id 0, tunnel mode\) needs ipsec0, which tunkitd could not open: pre-create it/, bad.log);
    assert.notEqual(spawnSync('ip', ['netns', 'exec', ns.name, 'ip', 'link', 'show', 'dev', 'ipsec0']).status, 0, 'no ipsec0 made');

    writeFileSync(file, configText(false), { mode: 0o600 });
    const ok = await startWithConfig(ns, user, sock, file);
    assert.equal(ok.hadSocket, true, `started: ${ok.log}`);
    assert.equal(ok.exit, 0, `exit on SIGTERM: ${ok.log}`);
    assert.match(ok.log, /event=policy_tun_unavailable /, 'ipsec0 missing: a warning only');
    assert.match(ok.log, /event=config_applied .*added=2 /, ok.log);
  } finally {
    Netns.cleanupAll();
    rmSync(dir, { recursive: true, force: true });
    user.remove();
  }
});
