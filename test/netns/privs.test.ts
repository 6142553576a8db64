// tunkitd --user: least privilege (src/daemon/privs.ts, native/privs.c).
//   - an unknown user or group, or a root without the capabilities the drop
//     needs, stops tunkitd at start: exit 1, an error naming it, no control socket;
//   - two daemons started as root with --user nobody:nogroup (or a throwaway
//     system user the test creates and removes) run as that uid/gid with
//     CapEff exactly CAP_NET_ADMIN|CAP_NET_RAW (0x3000) and no_new_privs,
//     own their control socket, and still create a GRE tunnel (`link add`
//     after the drop) that carries ping between the two namespaces.
//   - without root from the start: a non-root user holding only ambient
//     CAP_NET_ADMIN and CAP_NET_RAW (systemd's User= + AmbientCapabilities=,
//     here setpriv) starts tunkitd, which creates a GRE device on `link add`.
//   - with ambient CAP_NET_RAW only (CapEff 0x2000): tunkitd starts without
//     ipsec0 (warned), adopts a GRE device root pre-created for its user
//     (ip tuntap add … user UID vnet_hdr; mtu, alias tunkitd, up, address)
//     and carries ping; a device whose MTU would have to change, or a missing
//     one, fails `link add` with the fix in the error; the daemon keeps running.
// Each daemon runs in a private mount namespace with a 0666 /dev/net/tun
// (privs-fixture.ts LAUNCHER). Namespaces and the user are removed even on failure.
// With no capabilities at all: zerocap.test.ts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Netns } from '../../src/demo/netns.js';
import { Pair, requireRoot, SIDES, sleep, TUNKIT, TUNKITD, within } from './pair.js';
import { creds, LAUNCHER, testUser } from './privs-fixture.js';

test('tunkitd --user with an unknown user exits 1 at start naming it', () => {
  requireRoot();
  const ns = Netns.create('tkpu');
  try {
    const sock = `/run/tunkit/${ns.name}.sock`;
    const bad = `tkpriv-nosuch-${process.pid}`;
    const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, TUNKITD, '--socket', sock, '--user', bad], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`startup_failed .*unknown user \\\\"${bad}\\\\"`));
    assert.equal(existsSync(sock), false, 'no control socket');
    const g = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, TUNKITD, '--socket', sock, '--user', 'root:tkpriv-nosuch-group'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(g.status, 1, `exit ${g.status}: ${g.stderr}`);
    assert.match(g.stderr, /unknown group \\"tkpriv-nosuch-group\\"/);
    // root without CAP_SETUID & co (a systemd unit's CapabilityBoundingSet=): refused before anything opens
    const b = spawnSync('ip', ['netns', 'exec', ns.name, 'setpriv', '--bounding-set=-all,+net_admin,+net_raw', '--inh-caps=-all',
      process.execPath, TUNKITD, '--socket', sock, '--user', 'root'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(b.status, 1, `exit ${b.status}: ${b.stderr}`);
    assert.match(b.stderr, /--user needs CAP_CHOWN, CAP_SETGID and CAP_SETUID/);
    assert.equal(existsSync(sock), false, 'no control socket');
  } finally {
    Netns.cleanupAll();
  }
});

test('tunkitd --user drops to the user with CAP_NET_ADMIN|CAP_NET_RAW only, and tunnels still work', async () => {
  requireRoot();
  const user = testUser();
  let p: Pair | null = null;
  try {
    p = await Pair.create('tkpv', ['--user', user.spec], LAUNCHER);
    const pair = p;
    for (const s of SIDES) {
      const sd = pair.side(s);
      for (let i = 0; i < 100 && !sd.log.includes('privileges_dropped'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(sd.log, /event=privileges_dropped .*cap_eff=0x3000/, `[${s}] log: ${sd.log}`);
      const c = creds(sd.daemon.pid!);
      assert.equal(c.uid, `${user.uid} ${user.uid} ${user.uid} ${user.uid}`, `[${s}] Uid`);
      assert.equal(c.gid, `${user.gid} ${user.gid} ${user.gid} ${user.gid}`, `[${s}] Gid`);
      assert.equal(c.capEff, '0000000000003000', `[${s}] CapEff`);
      assert.equal(c.noNewPrivs, '1', `[${s}] NoNewPrivs`);
      const st = statSync(sd.sock);
      assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [user.uid, user.gid, 0o600], `[${s}] control socket owner and mode`);
    }
    pair.tunnel('gre1', 'type gre', ['198.51.100.1', '198.51.100.2'], ['192.0.2.1/30', '192.0.2.2/30']);
    await pair.pingOk('left', '192.0.2.2', { count: 3 });
    const st = pair.stats('right', 'gre1');
    assert.ok((st.rx['packets'] ?? 0) >= 3, `right gre1 rx ${JSON.stringify(st.rx)}`);
  } catch (e) {
    if (e instanceof Error && p !== null) e.message += `\n${p.logs()}`;
    throw e;
  } finally {
    await p?.close();
    user.remove();
  }
});

test('tunkitd runs without root from the start given ambient CAP_NET_ADMIN and CAP_NET_RAW', async () => {
  requireRoot();
  const user = testUser();
  const ns = Netns.create('tkpa');
  const dir = mkdtempSync(join(tmpdir(), 'tkpriv-'));
  try {
    chownSync(dir, user.uid, user.gid); // the control socket's directory: the user's own
    const sock = join(dir, 'tunkitd.sock');
    const caps = '+net_admin,+net_raw';
    const d = ns.spawn(LAUNCHER[0]!, [...LAUNCHER.slice(1), 'setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups',
      `--inh-caps=-all,${caps}`, `--ambient-caps=${caps}`, process.execPath, TUNKITD, '--socket', sock]);
    let log = '';
    d.stderr?.on('data', (b: Buffer) => { log += b.toString(); });
    const exited = new Promise<number | string>((r) => d.on('exit', (code, sig) => r(code ?? sig ?? -1)));
    try {
      for (let i = 0; i < 200 && !existsSync(sock) && d.exitCode === null; i++) await sleep(25);
      assert.ok(existsSync(sock), `no control socket: ${log}`);
      const c = creds(d.pid!);
      assert.equal(c.uid, `${user.uid} ${user.uid} ${user.uid} ${user.uid}`, 'Uid');
      assert.equal(c.capEff, '0000000000003000', 'CapEff');
      const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, TUNKIT, '--socket', sock, 'link', 'add', 'g1', 'type', 'gre', 'local', '192.0.2.1', 'remote', '192.0.2.2'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, `link add: ${r.stderr}\n${log}`);
      assert.equal(spawnSync('ip', ['netns', 'exec', ns.name, 'ip', 'link', 'show', 'g1']).status, 0, 'g1 exists');
      d.kill('SIGTERM');
      assert.equal(await within(exited, 5000), 0, `exit on SIGTERM: ${log}`);
    } finally {
      d.kill('SIGKILL');
    }
  } finally {
    Netns.cleanupAll();
    rmSync(dir, { recursive: true, force: true });
    user.remove();
  }
});

test('tunkitd runs without root and with only CAP_NET_RAW on devices pre-created for its user', async () => {
  requireRoot();
  const user = testUser();
  const dir = mkdtempSync(join(tmpdir(), 'tkunpriv-'));
  let p: Pair | null = null;
  try {
    chownSync(dir, user.uid, user.gid); // the control sockets' directory: the user's own
    const caps = '+net_raw';
    const launcher = [...LAUNCHER, 'setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups',
      `--inh-caps=-all,${caps}`, `--ambient-caps=${caps}`];
    p = await Pair.create('tkun', [], launcher, dir);
    const pair = p;
    const addrs = ['192.0.2.1/30', '192.0.2.2/30'];
    for (const [i, s] of SIDES.entries()) {
      const sd = pair.side(s);
      const c = creds(sd.daemon.pid!);
      assert.equal(c.uid, `${user.uid} ${user.uid} ${user.uid} ${user.uid}`, `[${s}] Uid`);
      assert.equal(c.capEff, '0000000000002000', `[${s}] CapEff: CAP_NET_RAW only`);
      assert.match(sd.log, /event=no_cap_net_admin /, `[${s}] told once what is unavailable`);
      assert.match(sd.log, /event=policy_tun_unavailable .*policy-based IPsec \(ipsec0\) is unavailable/, `[${s}] no ipsec0`);
      // what the administrator does as root: the device, owned by the user, configured as tunkitd will want it
      pair.shOk(s, `ip tuntap add dev gre1 mode tun user ${user.uid} vnet_hdr`);
      pair.shOk(s, 'ip link set dev gre1 mtu 1476 alias tunkitd up');
      pair.shOk(s, `ip addr add ${addrs[i]!} dev gre1`);
      pair.tunkitOk(s, `link add gre1 type gre local ${sd.addr} remote ${pair.side(SIDES[1 - i]!).addr}`);
      pair.tunkitOk(s, 'link set gre1 up'); // already up: nothing to change
    }
    await pair.pingOk('left', '192.0.2.2', { count: 3 });
    const st = pair.stats('right', 'gre1');
    assert.ok((st.rx['packets'] ?? 0) >= 3, `right gre1 rx ${JSON.stringify(st.rx)}`);

    // a device whose MTU would have to change: refused naming the field, nothing changed
    pair.shOk('left', `ip tuntap add dev gre2 mode tun user ${user.uid}`);
    pair.shOk('left', 'ip link set dev gre2 alias tunkitd');
    const bad = pair.tunkit('left', 'link add gre2 type gre local 198.51.100.1 remote 198.51.100.3');
    assert.notEqual(bad.code, 0, `link add gre2 must fail: ${bad.stdout}`);
    assert.match(bad.stderr, /gre2 has mtu 1500, the tunnel needs 1476: changing it needs CAP_NET_ADMIN.*ip link set gre2 mtu 1476/, bad.stderr);
    assert.match(pair.shOk('left', 'ip link show dev gre2'), /mtu 1500 /, 'gre2 left as it was');
    // a device nobody pre-created: the error says how to
    const none = pair.tunkit('left', 'link add gre3 type gre local 198.51.100.1 remote 198.51.100.4');
    assert.notEqual(none.code, 0, `link add gre3 must fail: ${none.stdout}`);
    assert.match(none.stderr, new RegExp(`needs CAP_NET_ADMIN.*ip tuntap add dev gre3 mode tun user ${user.uid}`), none.stderr);
    assert.equal(pair.side('left').daemon.exitCode, null, 'the daemon keeps running');
    assert.doesNotMatch(pair.tunkitOk('left', 'link show'), /gre2|gre3/, 'no half-made tunnel');
    await pair.pingOk('left', '192.0.2.2', { count: 1 });
    // the policy firewall's once-a-second sync fails with EPERM: said once, with what it means
    const fw = pair.side('left').log.match(/event=policy_firewall .*/g) ?? [];
    assert.equal(fw.length, 1, `one policy_firewall warning: ${fw.join('\n')}`);
    assert.match(fw[0]!, /needs CAP_NET_ADMIN: the nf_tables policy firewall is unavailable/);
  } catch (e) {
    if (e instanceof Error && p !== null) e.message += `\n${p.logs()}`;
    throw e;
  } finally {
    await p?.close();
    rmSync(dir, { recursive: true, force: true });
    user.remove();
  }
});
