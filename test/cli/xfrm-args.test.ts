// `tunkit xfrm …` parsing (src/cli/xfrm-*-args.ts) against iproute2 6.1's
// ip/ipxfrm.c, ip/xfrm_state.c, ip/xfrm_policy.c and ip/xfrm_monitor.c, and
// against the error messages a real `ip` 6.1 printed (test/vectors/xfrm-cli.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { parseXfrmArgs, XFRM_USAGE } from '../../src/cli/xfrm-args.js';
import type { XfrmCommand } from '../../src/cli/xfrm-args.js';
import { algoKeyHex } from '../../src/cli/xfrm-keymat-args.js';
import { GOLDEN, parsedPolicy, parsedState, xfrmArgs } from './xfrm-golden.js';

const K_GCM = '0102030405060708090a0b0c0d0e0f1011121314';
const K_AES = '00112233445566778899aabbccddeeff';
const S = 'src 198.51.100.1 dst 198.51.100.2 proto esp';
const words = (s: string): string[] => s.split(' ').filter((w) => w !== '');
const parse = (s: string): XfrmCommand => parseXfrmArgs(words(s));

/** Asserts a UsageError whose message is `msg` (string: exact) and, if given, names `field`. */
function usage(args: readonly string[], msg: string | RegExp, field?: string): void {
  assert.throws(() => parseXfrmArgs(args), (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    if (typeof msg === 'string') assert.equal(e.message, msg);
    else assert.match(e.message, msg);
    if (field !== undefined) assert.equal(e.field, field);
    return true;
  });
}

test('xfrm resolves as ip.c resolves it: x, xf, xfrm', () => {
  for (const w of ['x', 'xf', 'xfrm']) assert.equal(parseArgs([w, 'state']).object, 'xfrm');
  assert.deepEqual(parseArgs(['-s', 'xfrm', 'state', 'list']).args, ['state', 'list']);
});

test('GCM tunnel SA with a selector', () => {
  assert.deepEqual(parsedState(`ip xfrm state add ${S} spi 0x1000 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' 0x${K_GCM} 128 sel src 192.0.2.0/24 dst 203.0.113.0/24`), {
    src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: 0x1000, mode: 'tunnel', reqid: 1,
    aead: { name: 'rfc4106(gcm(aes))', keyHex: K_GCM, bits: 128 },
    sel: { src: '192.0.2.0/24', dst: '203.0.113.0/24' },
  });
});

test('CBC + HMAC auth-trunc, flags, mark, replay window; order of keywords is free', () => {
  const s = parsedState(`ip xfrm state add mark 7 mask 0xff flag noecn nopmtudisc replay-window 32 ${S} spi 8192 auth-trunc hmac(sha256) 0x${K_AES}${K_AES} 128 enc cbc(aes) 0x${K_AES}`);
  assert.deepEqual(s, {
    src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: 8192, mode: 'transport', replayWindow: 32,
    flags: ['noecn', 'nopmtudisc'], enc: { name: 'cbc(aes)', keyHex: K_AES },
    auth: { name: 'hmac(sha256)', keyHex: K_AES + K_AES, bits: 128 }, authTrunc: true, mark: { value: 7, mask: 0xff },
  });
});

test('plain auth and string keys (xfrm_algo_parse takes the characters as bytes)', () => {
  const s = parsedState(`ip xfrm state add ${S} spi 1 auth hmac(sha256) secret enc cbc(aes) abcdefghijklmnop`);
  assert.deepEqual(s.auth, { name: 'hmac(sha256)', keyHex: Buffer.from('secret').toString('hex') });
  assert.equal(s.authTrunc, false);
  assert.equal(s.enc?.keyHex, Buffer.from('abcdefghijklmnop').toString('hex'));
  assert.equal(algoKeyHex('0x123'), '0123', 'odd digit count: a leading zero');
  assert.equal(algoKeyHex('0x'), '3078', '"0x" alone is a two-byte string');
  assert.equal(algoKeyHex(''), '');
  usage(words(`state add ${S} spi 1 enc cbc(aes) 0x${'00'.repeat(513)}`), /makes buffer overflow\n$/);
});

test('encap, limits, if_id, output-mark (mask defaults as the kernel does), tfcpad, extra flags', () => {
  const s = parsedState(`ip xfrm state add ${S} spi 0x5000 aead x 0x00 64 encap espinudp 4500 4501 0.0.0.0 limit time-soft 3000 limit byte-hard 0x10 limit packet-soft 010 if_id 0 output-mark 3 tfcpad 64 extra-flag oseq-may-wrap`);
  assert.deepEqual(s.encap, { type: 'espinudp', sport: 4500, dport: 4501, oa: '0.0.0.0' });
  assert.deepEqual(s.limits, { timeSoft: 3000, byteHard: 16, packetSoft: 8 });
  assert.equal(s.ifId, 0, 'if_id 0 is sent when given');
  assert.deepEqual(s.outputMark, { value: 3, mask: 0xffffffff });
  assert.equal(s.tfcpad, 64);
  assert.deepEqual(s.extraFlags, ['oseq-may-wrap']);
  assert.deepEqual(parsedState(`ip xfrm state add ${S} spi 1 enc x y flag 0x81 replay-window 64`).flags, ['noecn', 'esn']);
  assert.equal(parsedState(`ip xfrm state add ${S} spi 1 enc x y mark 5 mask 0`).mark, undefined, 'mask 0: no mark (ip: if (mark.m))');
});

test('selectors: IPv6, ports, ICMP type/code in sport/dport, GRE key, dev, proto by number or name', () => {
  assert.deepEqual(parsedState(`ip xfrm state add src 2001:db8:300:0::1 dst 2001:db8:300::2 proto esp spi 1 enc x y sel src 2001:db8:1::/64 dst 2001:db8:2::/64 proto tcp dport 443 dev eth0`).sel,
    { src: '2001:db8:1::/64', dst: '2001:db8:2::/64', proto: 6, dport: 443, dportMask: 0xffff, dev: 'eth0' });
  const icmp = parsedPolicy('ip xfrm policy add src 192.0.2.1 dst 203.0.113.5 proto icmp type 8 code 0 dir in action block');
  assert.deepEqual(icmp, {
    sel: { src: '192.0.2.1/32', dst: '203.0.113.5/32', proto: 1, sport: 8, sportMask: 0xffff, dport: 0, dportMask: 0xffff },
    dir: 'in', action: 'block',
  });
  assert.deepEqual(parsedPolicy('ip xfrm policy add dir in dev eth0 proto gre key 0x10002').sel,
    { src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 47, sport: 1, sportMask: 0xffff, dport: 2, dportMask: 0xffff, dev: 'eth0' });
  assert.equal(parsedPolicy('ip xfrm policy add proto 132 sport 0 dir out').sel.sport, undefined, 'port 0 sets no mask');
  assert.equal(parsedPolicy('ip xfrm policy add proto IPv6-ICMP dir out').sel.proto, 58, 'aliases, as getprotobyname');
  assert.deepEqual(parsedPolicy('ip xfrm policy add src 198.51.100/24 dir out').sel.src, '198.51.100.0/24', 'get_addr_ipv4 short forms');
  assert.deepEqual(parsedPolicy('ip xfrm policy add dst 192.0.2.0/255.255.255.0 dir out').sel.dst, '192.0.2.0/24');
});

test('policies: templates, priority, index, mark, if_id, limits', () => {
  assert.deepEqual(parsedPolicy('ip xfrm policy add src 2001:db8:1::/64 dst 2001:db8:2::/64 dir fwd index 50 priority 9 mark 5 mask 0xf if_id 7 limit time-hard 100 tmpl src 2001:db8:300::1 dst 2001:db8:300::2 proto esp spi 0x100 mode tunnel reqid 9 tmpl proto esp mode transport level use'), {
    sel: { src: '2001:db8:1::/64', dst: '2001:db8:2::/64' }, dir: 'fwd', index: 50, priority: 9,
    tmpls: [
      { src: '2001:db8:300::1', dst: '2001:db8:300::2', proto: 'esp', spi: 0x100, mode: 'tunnel', reqid: 9 },
      { proto: 'esp', mode: 'transport', level: 'use' },
    ],
    ifId: 7, mark: { value: 5, mask: 0xf }, limits: { timeHard: 100 },
  });
});

test('delete / get / list / flush / setdefault / monitor commands', () => {
  assert.deepEqual(parse(`state del ${S} spi 0x1000`), { obj: 'state', state: { cmd: 'del', id: { src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: 0x1000 }, isKeysShown: false } });
  assert.deepEqual(parse('sa g dst 198.51.100.2 proto esp spi 1 --keys'), { obj: 'state', state: { cmd: 'get', id: { dst: '198.51.100.2', proto: 'esp', spi: 1 }, isKeysShown: true } });
  const l = parse('state list --keys src 198.51.100.0/24 mode tunnel');
  assert.ok(l.obj === 'state' && l.state.cmd === 'list' && l.state.isKeysShown && l.state.filter.mode === 'tunnel');
  assert.deepEqual(parse('state'), { obj: 'state', state: { cmd: 'list', filter: {}, isKeysShown: false } });
  assert.deepEqual(parse('state flush proto esp'), { obj: 'state', state: { cmd: 'flush' } });
  assert.deepEqual(parse('state count'), { obj: 'state', state: { cmd: 'count' } });
  assert.deepEqual(parse('policy del index 8 dir out'), { obj: 'policy', policy: { cmd: 'del', id: { dir: 'out', index: 8 } } });
  assert.deepEqual(parse('policy get src 192.0.2.0/24 dir in'), { obj: 'policy', policy: { cmd: 'get', id: { sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0' }, dir: 'in' } } });
  assert.deepEqual(parse('policy setdefault in block out accept'), { obj: 'policy', policy: { cmd: 'setdefault', defaults: { in: 'block', out: 'accept' } } });
  assert.deepEqual(parse('policy getdefault'), { obj: 'policy', policy: { cmd: 'getdefault' } });
  assert.deepEqual(parse('policy'), { obj: 'policy', policy: { cmd: 'list', filter: {} } });
  const m = parse('monitor nokeys acq SA mapping');
  assert.ok(m.obj === 'monitor');
  assert.deepEqual([...m.groups], ['acquire', 'sa', 'mapping']);
  assert.deepEqual(parse('monitor all'), { obj: 'monitor', groups: new Set() });
  assert.deepEqual(parse('stat'), { obj: 'stat' });
  assert.equal(parse('state help').obj, 'help');
});

test('what tunkit does not implement is refused by name', () => {
  usage(words(`state add src 198.51.100.1 dst 198.51.100.2 proto ah spi 1`), 'Error: argument "ah" is wrong: XFRM-PROTO "ah" is not supported by tunkit (esp only)', 'proto');
  usage(words(`state add ${S} spi 1 mode beet enc x y`), 'Error: argument "beet" is wrong: MODE "beet" is not supported by tunkit', 'mode');
  usage(words(`state add ${S} spi 1 enc x y replay-seq 5`), /"replay-seq" is not supported by tunkit/, 'replay-seq');
  usage(words(`state add ${S} spi 1 enc x y encap espintcp 1 2 0.0.0.0`), /"espintcp" is not supported/, 'encap');
  usage(words(`state get ${S} spi 1 mark 5`), /"mark" is not supported by tunkit/, 'mark');
  usage(words('state allocspi'), /"allocspi" is not supported/);
  usage(words('policy add dir out ptype sub'), /PTYPE "sub" is not supported/, 'ptype');
  usage(words('policy add dir out flag localok'), /policy flags are not supported/, 'flag');
  usage(words('monitor all-nsid'), /"all-nsid" is not supported/);
  usage([], XFRM_USAGE, 'XFRM-OBJECT');
});

test('every malformed command line ip 6.1 refused is refused with ip\'s words', () => {
  // tunkit's own wordings, on purpose: args.ts incompleteCommand names the keyword; the usage text is tunkit's.
  const OWN: Readonly<Record<string, string>> = {
    'Command line is not complete. Try option "help"': 'Command line is not complete: "encap" needs a value. Try option "help"',
    [`Usage: ip xfrm XFRM-OBJECT { COMMAND | help }\nwhere  XFRM-OBJECT := state | policy | monitor`]: XFRM_USAGE,
    // a key that fails to parse is never echoed (ip prints it whole): the argument's name instead
    'Error: argument "0xzz" is wrong: ALGO-KEYMAT value is invalid': 'Error: argument "ALGO-KEYMAT" is wrong: ALGO-KEYMAT value is invalid',
  };
  let checked = 0;
  for (const e of GOLDEN.errors) {
    if (e.rc === 2) {
      assert.doesNotThrow(() => parseXfrmArgs(xfrmArgs(e.cmd)), `kernel-side refusal, parses: ${e.cmd}`);
      continue;
    }
    const ip = e.out.replace(/\n$/, '');
    const want = OWN[ip] ?? ip.replaceAll('"ip xfrm', '"tunkit xfrm');
    usage(xfrmArgs(e.cmd), want);
    checked++;
  }
  assert.ok(checked >= 35, `checked ${checked}`);
});

test('more of ip\'s checks: family mix in a selector, key without gre, duplicates, missing values', () => {
  usage(words('policy add src 192.0.2.0/24 dst 2001:db8::/32 dir out'), 'Error: argument "2001:db8::/32" is wrong: the same address family is required between values after "src" and "dst"');
  usage(words('policy add proto tcp key 5 dir out'), '"key" is invalid with PROTO value "tcp"');
  usage(words('policy add src 192.0.2.1 dir out src 192.0.2.2'), 'Error: duplicate "unknown": "src" is the second value.');
  usage(words('policy add dir out proto tcp sport'), /"sport" needs a value/, 'sport');
  usage(words('state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 1 enc'), 'Error: argument "ALGO-NAME" is required');
  usage(words(`state add ${S} spi 1 enc x`), 'Error: argument "ALGO-KEYMAT" is required');
  usage(words(`state add ${S} spi 1 aead x 0x00 8 auth y 0x00`), 'Error: duplicate "ALGO-TYPE": "auth" is the second value.');
  usage(words(`state add ${S} spi 1 comp deflate enc x y`), 'ALGO-TYPE value "comp" is invalid with XFRM-PROTO value "esp"');
  usage(words(`state add ${S} spi 1 enc x y limit byte-soft 99999999999999999999`), /value after "byte-soft" is invalid/);
  usage(words(`state add src any dst 198.51.100.2 proto esp spi 1 enc x y`), 'Error: argument "any" is wrong: value after "src" has an unrecognized address family');
  usage(words('policy get dir out'), 'Not enough information: either SELECTOR or INDEX is required.');
});

test('the parser throws nothing but UsageError, whatever the tokens', () => {
  const tok = fc.oneof(
    fc.constantFrom('src', 'dst', 'proto', 'esp', 'spi', 'mode', 'tunnel', 'sel', 'tmpl', 'dir', 'out', 'limit', 'time-soft',
      'enc', 'aead', 'auth-trunc', 'encap', 'espinudp', 'mark', 'mask', 'flag', 'noecn', 'tcp', 'sport', 'type', 'key',
      '1', '0x10', '198.51.100.1', '2001:db8::1/64', 'dev', 'eth0', 'level', 'use', 'index', 'priority', 'action'),
    fc.string({ maxLength: 6 }),
  );
  fc.assert(fc.property(fc.constantFrom('state add', 'state del', 'state list', 'policy add', 'policy get', 'policy list', 'monitor'),
    fc.array(tok, { maxLength: 14 }), (head, rest) => {
      try {
        parseXfrmArgs([...words(head), ...rest]);
      } catch (e) {
        assert.ok(e instanceof UsageError, String(e));
      }
    }), { numRuns: 2000 });
});

test('a key that fails to parse is never echoed in the error', () => {
  const secret = '00112233445566778899aabbccddeezz';
  for (const key of [`0x${secret}`, `0x${'ab'.repeat(513)}`, 'k'.repeat(600)]) {
    assert.throws(() => parseXfrmArgs(words(`state add ${S} spi 1 enc cbc(aes) ${key}`)), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.ok(!e.message.includes(key.substring(2, 18)), `key echoed: ${e.message}`);
      assert.equal(e.field, 'key');
      return true;
    });
  }
});
