// swanctl.conf `include` (ike/include.ts through daemon/swanctl-files.ts):
// glob patterns relative to the including file, sorted, nested; errors name
// the included file and its own line.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { globFiles, readCharonFile, readSwanctlFile } from '../../src/daemon/swanctl-files.js';
import { loadCredentials } from '../../src/ike/creds.js';
import { includePattern } from '../../src/ike/include.js';

const dir = mkdtempSync(join(tmpdir(), 'tunkit-include-'));
const put = (name: string, text: string): string => {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};

const conn = (name: string, child: string): string => `connections {\n  ${name} {\n    remote_addrs = 192.0.2.2\n    local_addrs = 192.0.2.1\n    children {\n      ${child} {\n        local_ts = 203.0.113.0/28\n      }\n    }\n  }\n}\n`;

describe('swanctl.conf include', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads include lines, not include = keys', () => {
    assert.equal(includePattern('include conf.d/*.conf'), 'conf.d/*.conf');
    assert.equal(includePattern('  include "a b.conf" # x'), 'a b.conf');
    assert.equal(includePattern('include = yes'), null);
    assert.equal(includePattern('included { }'), null);
  });

  it('a glob relative to the including file, in sorted order, nested, inside a section too', () => {
    put('a/conf.d/20-second.conf', conn('second', 'net-2'));
    put('a/conf.d/10-first.conf', `${conn('first', 'net-1')}include ../secrets/*.secret\n`);
    put('a/conf.d/.hidden.conf', 'this is not read {');
    put('a/secrets/psk.secret', 'secrets {\n  ike-1 {\n    secret = "documentation only"\n  }\n}\n');
    const main = put('a/swanctl.conf', '# main\ninclude conf.d/*.conf\ninclude conf.d/nothing-*.conf\n');
    const cfg = readSwanctlFile(main);
    assert.deepEqual(cfg.connections.map((c) => c.name), ['first', 'second']);
    assert.equal(cfg.secrets.length, 1);
    assert.deepEqual(globFiles(join(dir, 'a', 'conf.d', '*.conf')).map((f) => f.substring(dir.length)), ['/a/conf.d/10-first.conf', '/a/conf.d/20-second.conf']);
  });

  it('an error in an included file names that file and its own line', () => {
    put('b/conf.d/peer.conf', 'connections {\n  gw {\n    remote_addrs = 192.0.2.2\n    rekey_tyme = 1h\n  }\n}\n');
    const main = put('b/swanctl.conf', '# one\n# two\ninclude conf.d/peer.conf\n');
    assert.throws(() => readSwanctlFile(main), (e: Error) => e.message === `${join(dir, 'b/conf.d/peer.conf')}:4: connections.gw.rekey_tyme: is not supported by tunkit (it would be silently ignored, so it is refused)`);
  });

  it('lines after an include keep their own numbers', () => {
    put('c/inc.conf', '# 1\n# 2\n# 3\n');
    const main = put('c/swanctl.conf', 'include inc.conf\nconnections {\n  gw {\n    bogus = 1\n  }\n}\n');
    assert.throws(() => readSwanctlFile(main), (e: Error) => e.message.startsWith(`${main}:4: connections.gw.bogus:`));
  });

  it('a certificate or key file that cannot be read, named in an included file: the error names that file and its own line', () => {
    put('f/conf.d/peer.conf', 'connections {\n  gw {\n    remote_addrs = 192.0.2.2\n    local {\n      auth = pubkey\n      certs = missing.pem\n    }\n    remote {\n      auth = pubkey\n    }\n  }\n}\n');
    put('f/secrets.conf', 'secrets {\n  private-gw {\n    file = missing.key\n  }\n}\n');
    const main = put('f/swanctl.conf', '# main\ninclude conf.d/peer.conf\ninclude secrets.conf\n');
    const cfg = readSwanctlFile(main);
    const ref = cfg.connections[0]!.local.certFiles[0]!;
    assert.deepEqual([ref.file, ref.line], [join(dir, 'f/conf.d/peer.conf'), 6]);
    assert.deepEqual([cfg.keyFiles?.[0]?.file, cfg.keyFiles?.[0]?.line], [join(dir, 'f/secrets.conf'), 3]);
    const io = { read: (p: string): Uint8Array => { throw new Error(`ENOENT: ${p}`); }, list: (): string[] => [] };
    assert.throws(() => loadCredentials(cfg, main, join(dir, 'f'), io), (e: Error) => e.message.startsWith(`${join(dir, 'f/secrets.conf')}:3: secrets.private-gw.file: cannot read`), 'the key file first');
    const noKeys = { ...cfg, keyFiles: [] };
    assert.throws(() => loadCredentials(noKeys, main, join(dir, 'f'), io), (e: Error) => e.message.startsWith(`${join(dir, 'f/conf.d/peer.conf')}:6: connections.gw.local.certs: cannot read`));
  });

  it('a missing plain file, a cycle and a missing main file are errors naming file and line', () => {
    const miss = put('d/swanctl.conf', '\ninclude nope.conf\n');
    assert.throws(() => readSwanctlFile(miss), (e: Error) => e.message.startsWith(`${miss}:2: include: cannot read ${join(dir, 'd/nope.conf')}`));
    const loop = put('e/swanctl.conf', 'include self.conf\n');
    put('e/self.conf', 'include self.conf\n');
    assert.throws(() => readSwanctlFile(loop), /self\.conf:1: include: .*self\.conf includes itself/);
    assert.throws(() => readSwanctlFile(join(dir, 'none.conf')), /cannot read .*none\.conf/);
  });

  it('strongswan.conf: charon settings with includes; unknown keys refused', () => {
    put('f/strongswan.d/charon.conf', 'charon {\n  keep_alive = 5s\n  retransmit_timeout = 1.5\n  retransmit_tries = 2\n  cookie_threshold = 4\n}\n');
    const s = readCharonFile(put('f/strongswan.conf', 'include strongswan.d/*.conf\n'));
    assert.deepEqual([s.keepAliveMs, s.retransmit.timeoutMs, s.retransmit.base, s.retransmit.tries, s.cookieThreshold, s.cookieThresholdIp], [5000, 1500, 1.8, 2, 4, 3]);
    assert.deepEqual([s.fragmentSize, s.maxPacket], [1280, 10_000], 'strongSwan\'s defaults');
    const frag = readCharonFile(put('h/strongswan.conf', 'charon {\n  fragment_size = 576\n  max_packet = 20000\n}\n'));
    assert.deepEqual([frag.fragmentSize, frag.maxPacket], [576, 20_000]);
    const tiny = put('i/strongswan.conf', 'charon {\n  fragment_size = 100\n}\n');
    assert.throws(() => readCharonFile(tiny), (e: Error) => e.message.startsWith(`${tiny}:2: charon.fragment_size: "100" is not 0 or a whole number from 256 to 65535`));
    const bad = put('g/strongswan.conf', 'charon {\n  threads = 16\n}\n');
    assert.throws(() => readCharonFile(bad), (e: Error) => e.message.startsWith(`${bad}:2: charon.threads: is not supported by tunkit`));
  });
});
