// contrib/container/Containerfile, built and run with rootful podman as the
// README's "Running in a container" says:
//   podman build (both stages from --build-arg BASE: container-base.sh's
//   local stand-in for node:20-bookworm-slim, as this machine cannot pull
//   from docker.io); the image has tunkit and tunkitd of this version, the
//   addon, and no compilers;
//   podman run --cap-drop all --cap-add NET_ADMIN --cap-add NET_RAW
//   --device /dev/net/tun in a network namespace of ours: tunkitd (PID 1,
//   those two capabilities only) makes a GRE tunnel to a host tunkitd in a
//   second namespace, and ping crosses it both ways; podman stop ends it
//   with exit 0; without NET_RAW it starts but refuses GRE naming CAP_NET_RAW,
//   and without /dev/net/tun it stops at start with the README's error line.
// Names are unique per run; the containers, the image and the namespaces
// are removed even on failure, and a killed run's containers and image by
// the next run. Root only (fails, never skips, without it).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { Netns, vethPair } from '../../src/demo/netns.js';
import { TUNKIT, TUNKITD, requireRoot, runAsync, sleep } from '../netns/pair.js';
import type { Run } from '../netns/pair.js';
import { REPO_ROOT } from '../util/paths.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const CONTAINERFILE = join(REPO_ROOT, 'contrib', 'container', 'Containerfile');

/** container-base.sh ensure: podman's configuration (environment) and the BASE image. */
function ensureBase(): { env: NodeJS.ProcessEnv; base: string } {
  const r = spawnSync('bash', [join(REPO_ROOT, 'test', 'pkg', 'container-base.sh'), 'ensure'], { encoding: 'utf8', timeout: 1_200_000 });
  assert.equal(r.status, 0, `container-base.sh ensure: ${r.stderr}${String(r.error ?? '')}`);
  const kv = new Map(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  const [conf, storage, base] = [kv.get('CONTAINERS_CONF'), kv.get('CONTAINERS_STORAGE_CONF'), kv.get('BASE')];
  assert.ok(conf !== undefined && storage !== undefined && base !== undefined, r.stdout);
  return { env: { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage }, base };
}

/** podman ARGS with the test's configuration; resolves (never rejects) with the exit code and output. */
function podman(env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs = 120_000): Promise<Run> {
  return runAsync('podman', args, timeoutMs, undefined, env);
}

async function podmanOk(env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podman(env, args, timeoutMs);
  assert.equal(r.code, 0, `podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Polls `podman logs NAME` until `re` matches (tunkitd logs to stderr) or tunkitd fails to start; returns the log. */
async function waitLog(env: NodeJS.ProcessEnv, name: string, re: RegExp, ms = 20_000): Promise<string> {
  let log = '';
  for (const t0 = performance.now(); performance.now() - t0 < ms; await sleep(200)) {
    const r = await podman(env, ['logs', name]);
    log = r.stdout + r.stderr;
    if (re.test(log)) return log;
    if (/event=startup_failed/.test(log)) break;
  }
  assert.fail(`container ${name}: no ${String(re)} in its log (waited up to ${ms} ms):\n${log}`);
}

/** A host tunkitd in `ns` (the far end of the tunnel); resolves once its socket exists. */
async function startPeer(ns: Netns, sock: string): Promise<{ tunkit: (args: string) => string; log: () => string }> {
  const d = ns.spawn(process.execPath, [TUNKITD, '--socket', sock, '--log-level', 'warn']);
  let log = '';
  d.stderr?.on('data', (b: Buffer) => { log += b.toString(); });
  for (let i = 0; i < 200 && !existsSync(sock) && d.exitCode === null; i++) await sleep(25);
  assert.ok(existsSync(sock), `host tunkitd in ${ns.name} did not create ${sock}: ${log}`);
  return { tunkit: (args) => ns.exec(process.execPath, [TUNKIT, '--socket', sock, ...args.split(' ')]), log: () => log };
}

/**
 * tunkitd in container `name` (network: a test namespace, NET_ADMIN and NET_RAW, /dev/net/tun), a
 * GRE tunnel to a host tunkitd in a second namespace, ping both ways, then podman stop.
 */
async function greThroughContainer(env: NodeJS.ProcessEnv, image: string, name: string): Promise<void> {
  const lns = Netns.create('tkctl');
  const rns = Netns.create('tkctr');
  vethPair(lns, '192.0.2.1/24', rns, '192.0.2.2/24');
  const peer = await startPeer(rns, `/run/tunkit/${rns.name}.sock`);
  await podmanOk(env, ['run', '-d', '--name', name, '--cap-drop', 'all', '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW',
    '--device', '/dev/net/tun', '--network', `ns:/run/netns/${lns.name}`, image, '--log-level', 'info']);
  const started = await waitLog(env, name, /event=listening socket=\/run\/tunkit\/default\.sock/);
  // Without CAP_NET_BIND_SERVICE IKE cannot bind UDP 500 (README); nothing else complains.
  assert.deepEqual(started.split('\n').filter((l) => /level=(warn|error)/.test(l)).map((l) => /event=(\S+)/.exec(l)?.[1]), ['ike_port_taken'], started);
  const status = await podmanOk(env, ['exec', name, 'cat', '/proc/1/status']);
  assert.match(status, /^CapEff:\s+0000000000003000$/m, 'PID 1 (tunkitd) has CAP_NET_ADMIN and CAP_NET_RAW only');
  assert.match(await podmanOk(env, ['exec', name, 'cat', '/proc/1/cmdline']), /tunkitd\0--log-level\0info\0$/);

  const inside = (args: string): Promise<string> => podmanOk(env, ['exec', name, 'tunkit', ...args.split(' ')]);
  await inside('link add tkc0 type gre key 7 local 192.0.2.1 remote 192.0.2.2');
  lns.exec('ip', ['addr', 'add', '203.0.113.1/30', 'dev', 'tkc0']);
  await inside('link set tkc0 up');
  peer.tunkit('link add tkc0 type gre key 7 local 192.0.2.2 remote 192.0.2.1');
  rns.exec('ip', ['addr', 'add', '203.0.113.2/30', 'dev', 'tkc0']);
  peer.tunkit('link set tkc0 up');
  assert.match(lns.exec('ip', ['-d', 'link', 'show', 'tkc0']), /tun type tun pi off/, 'the kernel sees the container\'s TUN device in our namespace');
  for (const [ns, dst] of [[lns, '203.0.113.2'], [rns, '203.0.113.1']] as const) {
    const p = await runAsync('ip', ['netns', 'exec', ns.name, 'ping', '-4', '-n', '-c', '3', '-i', '0.2', '-W', '2', dst]);
    assert.match(p.stdout, /3 packets transmitted, 3 received/, `ping ${dst} from ${ns.name}:\n${p.stdout}${p.stderr}\n${peer.log()}`);
  }
  const [dev] = JSON.parse(await inside('-j -s link show tkc0')) as { stats64: { rx: { packets: number }; tx: { packets: number } } }[];
  assert.ok(dev !== undefined && dev.stats64.rx.packets >= 6 && dev.stats64.tx.packets >= 6, JSON.stringify(dev));

  await podmanOk(env, ['stop', '-t', '10', name]);
  assert.equal((await podmanOk(env, ['inspect', '--format', '{{.State.ExitCode}}', name])).trim(), '0', 'tunkitd exits 0 on podman stop');
  await waitLog(env, name, /level=info event=shutdown signal=SIGTERM /, 5000);
}

/**
 * tunkitd in container `name` without CAP_NET_RAW (README): it starts, warns no_cap_net_raw once, and refuses
 * a GRE tunnel naming CAP_NET_RAW, exit 2 (what it still carries, ESP-in-UDP, is test/netns/zerocap.test.ts's).
 */
async function withoutNetRaw(env: NodeJS.ProcessEnv, image: string, name: string): Promise<void> {
  await podmanOk(env, ['run', '-d', '--name', name, '--cap-drop', 'all', '--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun',
    '--network', 'none', image, '--log-level', 'info']);
  const log = await waitLog(env, name, /event=listening socket=\/run\/tunkit\/default\.sock/);
  assert.equal(log.match(/level=warn event=no_cap_net_raw err="socket AF_INET\/SOCK_RAW\/47: EPERM \(Operation not permitted\)"/g)?.length, 1, log);
  const r = await podman(env, ['exec', name, 'tunkit', 'link', 'add', 'tkc0', 'type', 'gre', 'local', '192.0.2.1', 'remote', '192.0.2.2']);
  assert.equal(r.code, 2, `link add … type gre exited ${r.code}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /CAP_NET_RAW needed for type gre tunnels/, r.stderr);
  assert.notEqual((await podman(env, ['exec', name, 'tunkit', 'link', 'show', 'tkc0'])).code, 0, 'no tkc0 made');
  await podmanOk(env, ['rm', '-f', name]);
}

/**
 * tunkitd in container `name` with --cap-drop all plus `args` (lacking something the README says it needs):
 * exit 1 at start, its one error line the README's `startup_failed` with `err`.
 */
async function startupFails(t: TestContext, env: NodeJS.ProcessEnv, image: string, name: string, args: readonly string[], err: string): Promise<void> {
  const r = await podman(env, ['run', '--rm', '--name', name, '--cap-drop', 'all', ...args, '--network', 'none', image]);
  t.diagnostic(r.stderr.trim());
  assert.equal(r.code, 1, `exit ${r.code}: ${r.stdout}${r.stderr}`);
  const errors = r.stderr.split('\n').filter((l) => /level=error/.test(l));
  assert.deepEqual(errors.map((l) => /event=(\S+) err="(.*)"$/.exec(l)?.slice(1)), [['startup_failed', err]], r.stderr);
}

/** True while process `pid` exists (kill 0: ESRCH when it is gone; EPERM still means it exists). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * What an earlier run of this test left when it was killed before its finally (SIGKILL, a CI timeout): its
 * containers and image, named after its pid. Only those of pids no longer running; a concurrent run's stay.
 */
async function sweepDeadRuns(env: NodeJS.ProcessEnv): Promise<void> {
  const dead = (re: RegExp, s: string): boolean => { const m = re.exec(s); return m !== null && !alive(Number(m[1])); };
  const ctrs = (await podmanOk(env, ['ps', '-a', '--format', '{{.Names}}'])).split('\n')
    .filter((n) => dead(/^tkctr-(?:noraw-|notun-)?(\d+)-[0-9a-f]{6}$/, n));
  if (ctrs.length > 0) await podmanOk(env, ['rm', '-f', '--ignore', ...ctrs]);
  const images = (await podmanOk(env, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n')
    .filter((i) => dead(/^localhost\/tunkit-ctr-test:(\d+)-[0-9a-f]{6}$/, i));
  if (images.length > 0) await podmanOk(env, ['rmi', '-f', ...images]);
}

test('contrib/container/Containerfile: podman builds it; tunkitd runs in it with NET_ADMIN, NET_RAW and /dev/net/tun; GRE to a host tunkitd', { timeout: 2_400_000 }, async (t) => {
  requireRoot();
  const { env, base } = ensureBase();
  await sweepDeadRuns(env);
  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const image = `localhost/tunkit-ctr-test:${id}`;
  const name = `tkctr-${id}`;
  const noraw = `tkctr-noraw-${id}`;
  const notun = `tkctr-notun-${id}`;
  try {
    // --network host: the build's RUN steps reach Debian's mirror and the npm registry as the host does.
    const t0 = performance.now();
    const b = await podman(env, ['build', '--layers=false', '--network', 'host', '--build-arg', `BASE=${base}`,
      '-f', CONTAINERFILE, '-t', image, REPO_ROOT], 1_800_000);
    assert.equal(b.code, 0, `podman build exited ${b.code}:\n${(b.stdout + b.stderr).slice(-6000)}`);
    t.diagnostic(`podman build (BASE=${base}): ${Math.round((performance.now() - t0) / 1000)} s`);

    await t.test('the image: tunkit and tunkitd of this version, the addon, no compilers', async () => {
      for (const cmd of ['tunkit', 'tunkitd']) {
        const out = await podmanOk(env, ['run', '--rm', '--network', 'none', '--entrypoint', cmd, image, '--version']);
        assert.equal(out, `${cmd} utility, tunkit-${VERSION}\n`);
      }
      const out = await podmanOk(env, ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c',
        'test -f /opt/tunkit/lib/node_modules/tunkit/build/Release/tunkit_native.node && echo addon; for c in g++ cc make python3; do command -v $c || true; done']);
      assert.equal(out, 'addon\n', 'the addon, and no compiler in the run stage');
    });

    await t.test('tunkitd in the container: two capabilities, a GRE tunnel to a host tunkitd, ping both ways, podman stop → exit 0', () => greThroughContainer(env, image, name));

    await t.test('without NET_RAW tunkitd starts, warns no_cap_net_raw and refuses a GRE tunnel naming CAP_NET_RAW (README)',
      () => withoutNetRaw(env, image, noraw));
    await t.test('without /dev/net/tun tunkitd stops at start, naming the clone device (README)', (t) => startupFails(t, env, image, notun,
      ['--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW'], 'open /dev/net/tun: ENOENT (No such file or directory)'));
  } finally {
    Netns.cleanupAll();
    await podman(env, ['rm', '-f', '--ignore', name, noraw, notun]);
    await podman(env, ['rmi', '-f', image]);
    const left = await podman(env, ['ps', '-a', '--filter', `name=${id}`, '--format', '{{.Names}}']);
    assert.equal(left.stdout.trim(), '', 'no test container left');
    assert.equal((await podman(env, ['image', 'exists', image])).code, 1, 'test image removed');
  }
});
