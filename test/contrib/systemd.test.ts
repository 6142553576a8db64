// contrib/systemd units: `systemd-analyze verify` finds nothing to say
// (Debian's systemd package is installed when systemd-analyze is missing),
// and the units agree with the daemon: Type=notify, the runtime directory
// is where tunkitd puts its control socket, the template joins the
// namespace it is named after.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { defaultSocketPath } from '../../src/daemon/client.js';
import { REPO_ROOT } from '../util/paths.js';

const DIR = join(REPO_ROOT, 'contrib', 'systemd');

function systemdAnalyze(): string {
  const have = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  if (have.status === 0) return have.stdout.trim();
  assert.equal(process.getuid?.(), 0, 'systemd-analyze is missing: install Debian package systemd (root needed to do it here)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['-qq', 'update'], ['install', '-y', '-qq', '--no-install-recommends', 'systemd']]) {
    const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { encoding: 'utf8', env, timeout: 600_000 });
    assert.equal(r.status, 0, `apt-get ${args.join(' ')}: ${r.stderr}`);
  }
  return 'systemd-analyze';
}

/** Directive values of a unit file: name → every value given. */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m !== null) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

test('systemd-analyze verify: both units are clean', () => {
  const tool = systemdAnalyze();
  const tmp = mkdtempSync(join(tmpdir(), 'tk-units-'));
  try {
    const inst = join(tmp, 'tunkitd@tkverify.service');
    copyFileSync(join(DIR, 'tunkitd@.service'), inst);
    for (const unit of [join(DIR, 'tunkitd.service'), inst]) {
      const r = spawnSync(tool, ['verify', unit], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `${unit}: ${r.stderr}`);
      assert.equal(`${r.stdout}${r.stderr}`.trim(), '', `systemd-analyze verify ${unit} has findings`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the units match the daemon: notify, socket directory, namespace, hardening', () => {
  for (const name of ['tunkitd.service', 'tunkitd@.service']) {
    const d = directives(readFileSync(join(DIR, name), 'utf8'));
    const one = (k: string): string | undefined => d.get(k)?.at(-1);
    assert.equal(one('Type'), 'notify', name);
    assert.equal(one('NotifyAccess'), 'main', name);
    assert.ok(one('WatchdogSec') !== undefined, `${name}: WatchdogSec`);
    // The control socket's directory is the RuntimeDirectory (/run/<dir>).
    const netns = name === 'tunkitd.service' ? 'default' : '%i';
    assert.equal(one('Environment'), `TUNKIT_NETNS=${netns}`, name);
    assert.equal(`/run/${one('RuntimeDirectory') ?? ''}`, dirname(defaultSocketPath(netns)), `${name}: RuntimeDirectory`);
    assert.equal(one('RuntimeDirectoryPreserve'), 'yes', `${name}: instances share /run/tunkit`);
    assert.equal(one('CapabilityBoundingSet'), 'CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE', name);
    assert.equal(one('AmbientCapabilities'), 'CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE', name);
    assert.equal(one('DeviceAllow'), '/dev/net/tun rw', name);
    assert.equal(one('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6 AF_NETLINK', name);
    for (const [k, v] of [['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes']]) {
      assert.equal(one(k!), v, `${name}: ${k!}`);
    }
    assert.match(one('ExecStart') ?? '', /bin\/tunkitd( |$)/, name);
  }
  const t = directives(readFileSync(join(DIR, 'tunkitd@.service'), 'utf8'));
  assert.deepEqual(t.get('NetworkNamespacePath'), ['/run/netns/%i']);
  assert.match(t.get('ExecStart')?.[0] ?? '', /--socket \/run\/tunkit\/%i\.sock/);
});
