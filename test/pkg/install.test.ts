// The npm package as a user installs it: `npm pack` of the built tree, then
// `npm install -g --prefix TMP ./tunkit-*.tgz` (dependencies from the
// registry, the addon compiled by the package's install script), then
// `tunkit`/`tunkitd --version` from TMP/bin, the installed daemon making a
// device in a namespace of its own (root), the man pages under
// TMP/share/man, the completion script; and the man pages lint clean with
// groff and man (Debian's groff-base and man-db are installed if missing);
// the zsh completion answers in zsh (Debian's zsh installed if missing).
// `npm pack --ignore-scripts`: the test command has built dist/ and
// completion/ already, and a prepack rebuild would swap dist/ under the
// other tests. Temp directories are removed even on failure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../util/paths.js';

const PKG = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; man: string[] };

/** The environment without the npm_* variables of an enclosing `npm test`, nor c8's NODE_V8_COVERAGE (npm's own code is not ours to cover). */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_V8_COVERAGE'));

function run(cmd: string, args: readonly string[], cwd = REPO_ROOT): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 300_000 });
  assert.equal(r.error, undefined, `${cmd} ${args.join(' ')}: ${String(r.error)}`);
  return r;
}

/** Installs Debian packages when `tool` is missing (root only, as the systemd test does). */
function ensureTool(tool: string, debs: readonly string[]): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return;
  assert.equal(process.getuid?.(), 0, `${tool} is missing: install Debian packages ${debs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['-qq', 'update'], ['install', '-y', '-qq', '--no-install-recommends', ...debs]]) {
    const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { encoding: 'utf8', env, timeout: 600_000 });
    assert.equal(r.status, 0, `apt-get ${args.join(' ')}: ${r.stderr}`);
  }
}

test('man pages: groff -man -ww and man --warnings find nothing to say', () => {
  ensureTool('groff', ['groff-base']);
  ensureTool('man', ['man-db']);
  assert.deepEqual(PKG.man.map((m) => m.replace(/^\.\//, '')).sort(), ['man/tunkit.8', 'man/tunkit.conf.5', 'man/tunkitd.8']);
  for (const page of PKG.man) {
    const g = run('groff', ['-man', '-ww', '-z', page]);
    assert.equal(g.status, 0, g.stderr);
    assert.equal(g.stderr, '', `groff on ${page}`);
    const m = spawnSync('man', ['--warnings', '-l', page], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...cleanEnv(), MANPAGER: 'cat', MANWIDTH: '80' } });
    assert.equal(m.status, 0, m.stderr);
    assert.equal(m.stderr, '', `man --warnings on ${page}`);
    assert.match(m.stdout, /^NAME\n/m, `${page} renders`);
  }
});

test('zsh completion: the generated functions answer in zsh (compadd stubbed; Debian zsh installed if missing)', () => {
  ensureTool('zsh', ['zsh']);
  const dir = join(REPO_ROOT, 'completion');
  for (const f of ['_tunkit', '_tunkitd']) assert.ok(existsSync(join(dir, f)), `completion/${f} is missing: run npm run build first`);
  const z = run('zsh', ['-f', '-c', `compadd() { shift; print -r -- "$*"; }
    _files() { print -r -- '<files>'; }
    t() { words=("$@"); CURRENT=\${#words}; PREFIX=\${words[CURRENT]}; source "${dir}/_\${words[1]}"; }
    t tunkit ''; t tunkit xfrm ''; t tunkit link add t0 type ''; t tunkit --socket ''; t tunkitd --log-level ''`]);
  assert.equal(z.status, 0, z.stderr);
  const [top, xfrm, kinds, files, levels] = z.stdout.split('\n');
  assert.ok(top?.split(' ').includes('xfrm') && top.split(' ').includes('link'), top);
  assert.ok(xfrm?.split(' ').includes('state') && xfrm.split(' ').includes('policy'), xfrm);
  assert.equal(kinds, 'ipip gre gretap sit xfrm');
  assert.equal(files, '<files>');
  assert.equal(levels, 'error warn info debug');
});

test('npm pack → npm install -g --prefix TMP: tunkit and tunkitd on PATH, addon built, man pages, completion', { timeout: 600_000 }, () => {
  for (const built of ['dist/tunkit.cjs', 'dist/src/daemon/main.js', 'completion/tunkit.bash']) {
    assert.ok(existsSync(join(REPO_ROOT, built)), `${built} is missing: run npm run build first`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'tunkit-pkg-'));
  try {
    const prefix = join(tmp, 'prefix');
    const p = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp]);
    assert.equal(p.status, 0, p.stderr);
    const [info] = JSON.parse(p.stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(info !== undefined);
    const files = info.files.map((f) => f.path);
    for (const want of ['bin/tunkit', 'bin/tunkitd', 'dist/tunkit.cjs', 'dist/src/daemon/main.js', 'binding.gyp', 'native/tunkit.c',
      'scripts/build-native.mjs', 'man/tunkit.8', 'man/tunkitd.8', 'man/tunkit.conf.5', 'completion/tunkit.bash', 'completion/_tunkit', 'completion/tunkitd.bash', 'completion/_tunkitd']) {
      assert.ok(files.includes(want), `package has ${want}`);
    }
    const shipped = files.filter((f) => /^(test|bench|dist\/test|dist\/bench|dist\/src\/demo|node_modules|build)\//.test(f) || f.endsWith('.ts'));
    assert.deepEqual(shipped, [], 'no tests, benchmarks, sources or build output in the package');

    const i = run('npm', ['install', '-g', '--prefix', prefix, '--allow-scripts=tunkit', '--no-audit', '--no-fund', join(tmp, info.filename)], tmp);
    assert.equal(i.status, 0, `npm install -g: ${i.stderr}`);
    const root = join(prefix, 'lib', 'node_modules', 'tunkit');
    assert.ok(existsSync(join(root, 'build', 'Release', 'tunkit_native.node')), 'the install script built the addon');
    const deps = readdirSync(join(root, 'node_modules'));
    for (const dep of ['prom-client', 'smol-toml']) assert.ok(deps.includes(dep), `${dep} installed`);
    for (const dev of ['typescript', 'esbuild', 'node-gyp', 'eslint']) assert.ok(!deps.includes(dev), `devDependency ${dev} not installed`);

    const cli = run(join(prefix, 'bin', 'tunkit'), ['--version'], tmp);
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(cli.stdout, `tunkit utility, tunkit-${PKG.version}\n`);
    const d = run(join(prefix, 'bin', 'tunkitd'), ['--version'], tmp);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(d.stdout, `tunkitd utility, tunkit-${PKG.version}\n`);
    // The daemon's modules (prom-client, smol-toml, the addon) load from the installed tree.
    const load = run(process.execPath, ['--input-type=module', '-e',
      `const { loadAddon } = await import(${JSON.stringify(join(root, 'dist', 'src', 'crypto', 'addon.js'))});
       await import(${JSON.stringify(join(root, 'dist', 'src', 'daemon', 'metrics.js'))});
       await import(${JSON.stringify(join(root, 'dist', 'src', 'config', 'schema.js'))});
       console.log(typeof loadAddon([]));`], tmp);
    assert.equal(load.status, 0, load.stderr);
    assert.equal(load.stdout, 'object\n');

    // The installed daemon runs (root): in a namespace of its own (unshare -n, gone with its
    // processes), tunkitd makes an ipip device that the installed tunkit and the kernel both see.
    const bin = join(prefix, 'bin');
    const sock = join(tmp, 'd.sock');
    const smoke = run('unshare', ['-n', 'sh', '-c', `set -e
      '${bin}/tunkitd' --socket '${sock}' --log-level warn & pid=$!
      trap 'kill $pid 2>/dev/null || true' EXIT
      i=0; while [ ! -S '${sock}' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
      '${bin}/tunkit' --socket '${sock}' link add tkpkg0 type ipip remote 192.0.2.2 local 192.0.2.1
      '${bin}/tunkit' --socket '${sock}' link show tkpkg0
      ip -o link show tkpkg0 >/dev/null && echo kernel-sees-it
      kill $pid; wait $pid; echo "daemon-exit=$?"`], tmp);
    assert.equal(smoke.status, 0, `${smoke.stdout}\n${smoke.stderr}`);
    assert.match(smoke.stdout, /^\d+: tkpkg0@NONE: <POINTOPOINT,NOARP> mtu 1480 /m);
    assert.match(smoke.stdout, /link\/ipip 192\.0\.2\.1 peer 192\.0\.2\.2/);
    assert.match(smoke.stdout, /^kernel-sees-it\ndaemon-exit=0$/m);

    for (const page of ['man8/tunkit.8', 'man8/tunkitd.8', 'man5/tunkit.conf.5']) {
      assert.ok(existsSync(join(prefix, 'share', 'man', page)), `${page} under TMP/share/man`);
    }
    const compl = join(root, 'completion');
    const c = run('bash', ['--norc', '-c', `source '${compl}/tunkit.bash' && source '${compl}/tunkitd.bash' && complete -p tunkit tunkitd`], tmp);
    assert.equal(c.stdout, 'complete -F _tunkit tunkit\ncomplete -F _tunkitd tunkitd\n', c.stderr);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  assert.ok(!existsSync(tmp), 'temp directory removed');
});
