// Fuzzing the `tunkit` command line: token arrays made by mutating real
// command lines (test/vectors/xfrm-cli.json's `ip xfrm` set-ups and the
// link/tunnel lines of the netns tests) with words of the CLI's own grammar
// (cli/grammar.ts), boundary values and random strings, run through
// parseArgs and the object's run function (link, tunnel, xfrm, ike, monitor,
// stats, save, reload) against a fake daemon that records the request and
// answers with an error. Each command line must end in exactly one of:
//   - a request whose op the daemon knows and whose args survive the
//     control protocol (JSON, parseRequest);
//   - a typed error (UsageError / StatusError / TunnelError / VpnError) with
//     a message naming something;
//   - help text.
// Never another throw (TypeError, RangeError, …), never a hang. `capture`
// and `-batch` are parsed but not run (they open files).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import type { CommandLine } from '../../src/cli/args.js';
import { runSave, runReload } from '../../src/cli/config.js';
import { optionGrammar, tunkitGrammar } from '../../src/cli/grammar.js';
import type { GrammarNode } from '../../src/cli/grammar.js';
import { runIke } from '../../src/cli/ike.js';
import { runLink, runMonitor, runStats } from '../../src/cli/link.js';
import { runTunnel } from '../../src/cli/tunnel.js';
import { runXfrm } from '../../src/cli/xfrm.js';
import type { KeyInput } from '../../src/cli/xfrm-keymat-args.js';
import type { Control } from '../../src/daemon/client.js';
import { parseRequest } from '../../src/daemon/protocol.js';
import type { Op } from '../../src/daemon/protocol.js';
import { RemoteError, VpnError } from '../../src/wire/errors.js';
import { loadJson } from '../util/paths.js';
import { fuzzAsync, fuzzRuns, mutatedArgv } from './fuzz-harness.js';

const BOUNDED = 2500;

/** Every word the grammar offers, its option words, and values around the parsers' boundaries. */
function vocabulary(): string[] {
  const words = new Set<string>();
  const walk = (n: GrammarNode): void => {
    for (const w of n.words) words.add(w);
    for (const [w, c] of Object.entries(n.children)) {
      words.add(w);
      walk(c);
    }
    for (const [k, vs] of Object.entries(n.values)) {
      words.add(k);
      for (const v of vs) words.add(v);
    }
  };
  walk(tunkitGrammar());
  for (const w of optionGrammar().words) words.add(w);
  const values = [
    '0', '1', '7', '64', '255', '256', '1500', '65535', '65536', '4294967295', '4294967296', '-1', '0x10', '0xffffffff', '0x100000000', '1e3', '', ' ',
    '198.51.100.1', '198.51.100.2', '198.51.100.256', '192.0.2.0/24', '192.0.2.0/33', '203.0.113.7/32', '0.0.0.0/0', 'any', '2001:db8::1', '2001:db8::/32', '::/0', '::ffff:1.2.3.4',
    'gre1', 'eth0', 'lo', 'ipsec0', '0123456789abcdefg', 'a/b', 'x y', 'inherit', 'nopmtudisc', 'pmtudisc',
    'rfc4106(gcm(aes))', 'rfc7539esp(chacha20,poly1305)', 'cbc(aes)', 'hmac(sha256)', 'hmac(sha1)', 'ecb(cipher_null)',
    '0x0102030405060708090a0b0c0d0e0f1011121314', '0x00112233445566778899aabbccddeeff', '0x', '0xzz', '@/nonexistent/key', '128', '96', '64',
    'esp', 'ah', 'tunnel', 'transport', 'in', 'out', 'fwd', 'block', 'allow', 'espinudp', 'esn', 'noecn', 'decap-dscp', 'af-unspec', 'required', 'use',
  ];
  for (const v of values) words.add(v);
  return [...words];
}

/** Real command lines to start from (ip's words after `ip`). */
function seeds(): string[][] {
  const out: string[][] = [];
  const cli = loadJson<{ cases: { setup: string[] }[] }>('xfrm-cli.json');
  const split = (s: string): string[] => (s.match(/'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^'|'$/g, ''));
  for (const c of cli.cases) for (const s of c.setup) if (s.startsWith('ip ')) out.push(split(s.substring(3)));
  const more = [
    'link add gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 5 csum ttl 64 tos inherit',
    'link add tap1 type gretap remote 198.51.100.2 iseq oseq mtu 1400',
    'link add sit1 type sit remote 198.51.100.2 6rd-prefix 2001:db8::/32 mode any',
    'link add xfrm1 type xfrm if_id 5 dev eth0',
    'link set gre1 up mtu 1400', 'link del gre1', '-s -s -d link show dev gre1', '-j -p link show type gre',
    'tunnel add gre2 mode gre remote 198.51.100.2 local 198.51.100.1 ikey 7 okey 8 ttl 32', 'tunnel change gre2 ttl 10', 'tunnel show', 'tunnel del gre2',
    'xfrm policy setdefault in block out allow fwd block', 'xfrm state deleteall dst 192.0.2.99', 'xfrm policy list dir out', 'xfrm monitor all',
    'xfrm state get src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x1000', '-s xfrm stat', 'monitor drops', 'stats', 'save', 'reload',
    'ike list-sas', 'ike initiate net-net', 'ike terminate gw', 'help', '-V',
  ];
  for (const m of more) out.push(m.split(' '));
  return out;
}

class Requested extends RemoteError {
  constructor(readonly op: Op) {
    super('ENODEV', 'fuzz: the fake daemon refuses every request');
  }
}

/** A daemon that checks each request survives the control protocol, then refuses it. */
const fakeDaemon: Control = {
  path: '/nonexistent/tunkit-fuzz.sock',
  request(op: Op, args?: object): Promise<unknown> {
    const line = JSON.stringify({ id: 1, op, args: args ?? {} });
    const back = parseRequest(line);
    assert.ok(!('error' in back), `the CLI built a request the daemon refuses to decode: ${line.substring(0, 300)}`);
    return Promise.reject(new Requested(op));
  },
};

const keys: KeyInput = { readFile: (path) => { throw new Error(`${path}: not readable in the fuzz test`); }, onLiteral: () => {} };

async function run(cl: CommandLine, out: (s: string) => void): Promise<number | string> {
  switch (cl.object) {
    case 'link': return runLink(cl, fakeDaemon, out);
    case 'monitor': return runMonitor(cl, fakeDaemon, out);
    case 'stats': return runStats(cl, fakeDaemon, out);
    case 'tunnel': return runTunnel(cl.args, fakeDaemon, cl.options, out);
    case 'xfrm': return runXfrm(cl.args, fakeDaemon, cl.options, out, keys);
    case 'ike': return runIke(cl.args, fakeDaemon, cl.options, out);
    case 'save': return runSave(cl, fakeDaemon, out);
    case 'reload': return runReload(cl, fakeDaemon, out);
    default: return `parsed:${cl.object}`; // help, version, batch, capture: parsed only
  }
}

test('fuzz CLI: every command line ends in a request, a typed error naming the problem, or help', async (t) => {
  const vocab = vocabulary();
  await fuzzAsync(t, 'cli/argv', mutatedArgv(seeds(), vocab), async (argv) => {
    let printed = '';
    try {
      const cl = parseArgs(argv);
      const r = await run(cl, (s) => { printed += s; });
      if (typeof r === 'string') return r;
      assert.ok(printed.length > 0 || cl.object === 'monitor', `exit ${r} with nothing printed for ${JSON.stringify(argv)}`);
      return `ok:${cl.object}`;
    } catch (e) {
      if (e instanceof Requested) return `request:${e.op}`;
      if (!(e instanceof VpnError)) throw new Error(`tunkit ${JSON.stringify(argv)} threw ${String(e)}`, { cause: e });
      assert.ok(e.message.trim().length > 0, `an empty ${e.name} message for ${JSON.stringify(argv)}`);
      return `${e instanceof UsageError ? 'usage' : e.name}:${e.code}`;
    }
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 15 });
});
