// The swanctl.conf subset: a strongSwan-style file parses into the config
// the core runs on; every key tunkit does not implement is refused naming
// file, line and key; proposals and selectors are checked.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findPsk } from '../../src/ike/config.js';
import { parseSwanctl, SwanctlError } from '../../src/ike/swanctl.js';
import { conf } from './pair.js';

describe('swanctl.conf subset', () => {
  it('parses connections, children, proposals and secrets', () => {
    const c = parseSwanctl(conf('a', 'aes128gcm16-prfsha256-x25519, aes256-sha256-modp2048', 'aes128gcm16,aes256-sha256'), 'a.conf');
    const gw = c.connections[0]!;
    assert.equal(gw.name, 'gw');
    assert.deepEqual([gw.localAddrs, gw.remoteAddrs], [['198.51.100.1'], ['198.51.100.2']]);
    assert.equal(gw.proposals.length, 2);
    assert.deepEqual(gw.proposals[1]!.prf, [5], 'no prf: the integrity algorithm\'s PRF (sha256)');
    assert.deepEqual([gw.local.id, gw.remote.id], ['a.example', 'b.example']);
    assert.deepEqual(gw.children.map((ch) => [ch.name, ch.localTs, ch.remoteTs, ch.espProposals.length]), [['net-a', ['203.0.113.0/28'], ['203.0.113.16/28'], 2]]);
    assert.equal(new TextDecoder().decode(findPsk(c, 'a.example', 'b.example')!), 'a fine test secret, not for production');
  });

  const refused: [string, RegExp][] = [
    ['connections {\n  gw {\n    reauth_time = 1h\n  }\n}\n', /^x\.conf:3: connections\.gw\.reauth_time: is not supported/],
    ['connections {\n  gw {\n    rekey_time = 1 week\n  }\n}\n', /^x\.conf:3: connections\.gw\.rekey_time: "1 week" is not a time/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_time = 1h\n        life_time = 30m\n      }\n    }\n  }\n}\n', /^x\.conf:6: connections\.gw\.children\.c\.life_time: must be longer than rekey_time/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_time = 60\n        rand_time = 2m\n      }\n    }\n  }\n}\n', /^x\.conf:6: connections\.gw\.children\.c\.rand_time: must be shorter than rekey_time/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_bytes = 1 TB\n      }\n    }\n  }\n}\n', /^x\.conf:5: connections\.gw\.children\.c\.rekey_bytes: "1 TB" is not a byte count/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_bytes = 010\n      }\n    }\n  }\n}\n', /^x\.conf:5: connections\.gw\.children\.c\.rekey_bytes: "010" is not a byte count \(a decimal number/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_packets = 10k\n      }\n    }\n  }\n}\n', /^x\.conf:5: connections\.gw\.children\.c\.rekey_packets: "10k" is not a packet count/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_bytes = 1m\n        life_bytes = 512k\n      }\n    }\n  }\n}\n', /^x\.conf:6: connections\.gw\.children\.c\.life_bytes: must be larger than rekey_bytes \(1048576\)/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_packets = 1000\n        rand_packets = 1000\n      }\n    }\n  }\n}\n', /^x\.conf:6: connections\.gw\.children\.c\.rand_packets: must be smaller than rekey_packets \(1000\)/],
    ['connections {\n  gw {\n    children {\n      c {\n        rekey_bytes = 99999999999999999999\n      }\n    }\n  }\n}\n', /rekey_bytes: "99999999999999999999" is not a byte count/],
    ['connections {\n  gw {\n    children {\n      c {\n        mode = transport\n      }\n    }\n  }\n}\n', /^x\.conf:5: connections\.gw\.children\.c\.mode: "transport" is not supported yet/],
    ['connections {\n  gw {\n    local {\n      auth = eap-mschapv2\n    }\n  }\n}\n', /^x\.conf:4: connections\.gw\.local\.auth: "eap-mschapv2" is not supported \(psk, pubkey/],
    ['connections {\n  gw {\n    local {\n      auth = pubkey-md5\n      certs = a.pem\n    }\n  }\n}\n', /^x\.conf:4: connections\.gw\.local\.auth: "md5" in "pubkey-md5" is not supported/],
    ['connections {\n  gw {\n    local {\n      auth = pubkey\n    }\n  }\n}\n', /^x\.conf:4: connections\.gw\.local\.auth: "pubkey" needs certs = FILE/],
    ['connections {\n  gw {\n    local {\n      certs = a.pem\n      auth = psk\n    }\n  }\n}\n', /^x\.conf:4: connections\.gw\.local\.certs: needs auth = pubkey/],
    ['connections {\n  gw {\n    remote {\n      certs = b.pem\n    }\n  }\n}\n', /^x\.conf:4: connections\.gw\.remote\.certs: is not supported by tunkit/],
    ['connections {\n  gw {\n    local {\n      cacerts = ca.pem\n    }\n  }\n}\n', /^x\.conf:4: connections\.gw\.local\.cacerts: is not supported by tunkit/],
    ['secrets {\n  private-a {\n    path = a.key\n  }\n}\n', /^x\.conf:3: secrets\.private-a\.path: is not supported by tunkit/],
    ['connections {\n  gw {\n    proposals = aes128-md5-modp1024\n  }\n}\n', /^x\.conf:3: connections\.gw\.proposals: "md5" is not an algorithm/],
    ['pools {\n}\n', /^x\.conf:1: pools: section is not supported/],
    ['connections {\n  gw {\n    fragmentation = maybe\n  }\n}\n', /^x\.conf:3: connections\.gw\.fragmentation: "maybe" must be yes, accept, force or no/],
    ['connections {\n  gw {\n', /section is never closed/],
    ['include /etc/swanctl/conf.d/*.conf\n', /^x\.conf:1: include: include is expanded only when reading files/],
    ['secrets {\n  eap-x {\n    secret = y\n  }\n}\n', /^x\.conf:2: secrets\.eap-x: only ike \(PSK\) and private, rsa, ecdsa \(key file\) secrets/],
    ['connections {\n  gw {\n    children {\n      c {\n        local_ts = 203.0.113.0/33\n      }\n    }\n  }\n}\n', /local_ts: "203\.0\.113\.0\/33" is not a subnet/],
  ];
  for (const [text, re] of refused) {
    it(`refuses: ${re.source}`, () => {
      assert.throws(() => parseSwanctl(text, 'x.conf'), (e: unknown) => e instanceof SwanctlError && re.test(e.message) && e.code === 'ESWANCTL');
    });
  }

  it('rekey_/life_/rand_ bytes and packets: vici\'s units and check_lifetimes defaults (life = rekey × 1.1, rand = life − rekey; 0 = none)', () => {
    const vol = (lines: string): [unknown, unknown] => {
      const ch = parseSwanctl(`connections {\n  gw {\n    children {\n      c {\n${lines}\n      }\n    }\n  }\n}\n`, 'v.conf').connections[0]!.children[0]!;
      return [ch.bytes, ch.packets];
    };
    assert.deepEqual(vol(''), [{ rekey: 0, life: 0, rand: 0 }, { rekey: 0, life: 0, rand: 0 }]);
    assert.deepEqual(vol('rekey_bytes = 500m\nrekey_packets = 1000'), [
      { rekey: 500 * 1024 ** 2, life: 550 * 1024 ** 2, rand: 50 * 1024 ** 2 }, { rekey: 1000, life: 1100, rand: 100 },
    ]);
    assert.deepEqual(vol('rekey_bytes = 1 G\nlife_bytes = 2G\nrand_bytes = 10K'), [{ rekey: 1024 ** 3, life: 2 * 1024 ** 3, rand: 10240 }, { rekey: 0, life: 0, rand: 0 }]);
    assert.deepEqual(vol('life_packets = 5000')[1], { rekey: 0, life: 5000, rand: 5000 }, 'a hard limit alone: no rekey (rand unused)');
    assert.deepEqual(vol('rekey_bytes = 7')[0], { rekey: 7, life: 7, rand: 0 }, 'integer arithmetic as charon: 7 × 110 / 100 = 7');
  });

  it('fragmentation: yes by default; accept, force and no as written (RFC 7383, strongSwan\'s values)', () => {
    const frag = (line: string): string => parseSwanctl(`connections {\n  gw {\n${line}\n  }\n}\n`, 'f.conf').connections[0]!.fragmentation;
    assert.deepEqual([frag(''), frag('fragmentation = accept'), frag('fragmentation = force'), frag('fragmentation = no')], ['yes', 'accept', 'force', 'no']);
  });

  it('certificate auth: auth methods, certs, cacerts and key files parse', () => {
    const c = parseSwanctl(`connections {
  gw {
    local {
      auth = rsa/pss-sha384-sha256
      certs = a.pem
      id = C=CH, O=tunkit test, CN=a.example
    }
    remote {
      cacerts = ca.pem, other-ca.pem
    }
  }
}
secrets {
  private-a {
    file = a.key
    secret = "a passphrase"
  }
  ecdsa-b {
    file = /etc/swanctl/ecdsa/b.key
  }
}
`, 'c.conf');
    const gw = c.connections[0]!;
    assert.deepEqual([gw.local.auth, gw.local.sig, gw.local.id], ['pubkey', { keyType: 'rsa', isPss: true, hashes: ['sha384', 'sha256'] }, 'C=CH, O=tunkit test, CN=a.example']);
    assert.deepEqual(gw.local.certFiles, [{ path: 'a.pem', line: 5, key: 'connections.gw.local.certs' }]);
    assert.deepEqual([gw.remote.auth, gw.remote.sig.keyType, gw.remote.id, gw.remote.certFiles.map((f) => f.path)], ['pubkey', 'any', '%any', ['ca.pem', 'other-ca.pem']]);
    assert.deepEqual(c.keyFiles!.map((k) => [k.dir, k.path, k.line, k.passphrase === null ? null : new TextDecoder().decode(k.passphrase)]),
      [['private', 'a.key', 15, 'a passphrase'], ['ecdsa', '/etc/swanctl/ecdsa/b.key', 19, null]]);
  });

  it('lifetimes: swanctl.conf defaults (child 1 h, life +10 %, rand = life - rekey; IKE 4 h, over 10 %) and units', () => {
    const d = parseSwanctl(conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16'), 'a.conf').connections[0]!;
    assert.deepEqual(d.life, { rekeySec: 14400, randSec: 1440, lifeSec: 15840 });
    assert.deepEqual(d.children[0]!.life, { rekeySec: 3600, randSec: 360, lifeSec: 3960 });
    const c = parseSwanctl(conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16', { connExtra: 'rekey_time = 2h\n    over_time = 5m\n    rand_time = 0', childExtra: 'rekey_time = 20m\n        life_time = 1d' }), 'a.conf').connections[0]!;
    assert.deepEqual(c.life, { rekeySec: 7200, randSec: 0, lifeSec: 7500 });
    assert.deepEqual(c.children[0]!.life, { rekeySec: 1200, randSec: 1200, lifeSec: 86400 }, 'the default rand_time (life - rekey) is capped at rekey_time');
    const z = parseSwanctl(conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16', { childExtra: 'rekey_time = 0' }), 'a.conf').connections[0]!;
    assert.deepEqual(z.children[0]!.life, { rekeySec: 0, randSec: 0, lifeSec: 0 }, 'rekey_time = 0: never rekeyed, no limit');
  });

  it('secrets: 0x hex and 0s base64 forms; a secret for other ids does not match', () => {
    const c = parseSwanctl('secrets {\n  ike-1 {\n    id = x.example\n    secret = 0x01020304\n  }\n  ike-2 {\n    secret = 0sAQI=\n  }\n}\n', 's.conf');
    assert.deepEqual(findPsk(c, 'me', 'x.example'), Uint8Array.of(1, 2, 3, 4));
    assert.deepEqual(findPsk(c, 'me', 'y.example'), Uint8Array.of(1, 2));
  });
});
