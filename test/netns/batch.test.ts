// `tunkit -batch` and `tunkit tunnel` against a real tunkitd (pair.ts, left
// side only):
//   a batch stops at its first failing command with "Command failed FILE:LINE"
//   (exit 1) and leaves what ran before it in place; -force runs every line,
//   reports each failure and still exits 1; `-batch -` reads stdin and the
//   global options before -batch (-j) apply to every line;
//   tunnel add / show / change / del end to end, show in ip tunnel's format,
//   change keeping the device (same ifindex) and del removing it.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { step, TUNKIT, withPair } from './pair.js';
import type { Pair, Run } from './pair.js';

const BATCH = [
  '# tunnels for the batch test',
  'tunnel add gre11 mode gre remote 203.0.113.2 local 198.51.100.1 key 5',
  'tu add ipip11 remote 203.0.113.3 local 198.51.100.1 ttl 64   # mode from the name',
  'link add "gt11" type gretap \\',
  '    remote 203.0.113.4 local 198.51.100.1',
  'tunnel add gre12 mode gre remote 203.0.113.2 local 198.51.100.1 key 5   # line 6: same endpoints and key: EEXIST',
  'tunnel add sit11 remote 203.0.113.5 local 198.51.100.1',
  'link frobnicate',
  'tunnel show sit11',
].join('\n');

/** `tunkit --socket SOCK ARGS…` in the left namespace, stdin from `input`. */
const tunkit = (p: Pair, args: readonly string[], input?: string): Run =>
  p.exec('left', process.execPath, [TUNKIT, '--socket', p.left.sock, ...args], input);

/** The names `tunnel show` lists, fallback devices excepted. */
const listed = (p: Pair): string[] =>
  p.tunkitOk('left', 'tunnel show').split('\n').map((l) => /^(\S+): /.exec(l)?.[1] ?? '').filter((n) => n !== '' && !/^(tunl0|gre0|sit0)$/.test(n));

const cleanup = (p: Pair): void => {
  for (const n of ['gre11', 'gre12', 'ipip11', 'gt11', 'sit11', 'gre21']) tunkit(p, ['link', 'del', n]);
};

test('tunkit -batch and tunkit tunnel against tunkitd', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-batch-'));
  const file = join(dir, 'cmds.txt');
  writeFileSync(file, BATCH);
  try {
    await withPair('tkbt', async (p) => {
      await step(t, p, 'a batch stops at the first failing command: Command failed FILE:6, exit 1', async () => {
        const r = tunkit(p, ['-batch', file]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr, `add tunnel "gre0" failed: File exists\nCommand failed ${file}:6\n`);
        assert.equal(r.stdout, '');
        assert.deepEqual(listed(p), ['gre11', 'ipip11'], 'lines before the failure ran, none after it');
        assert.match(p.tunkitOk('left', 'link show gt11'), /gt11@NONE: <BROADCAST,MULTICAST>/);
        cleanup(p);
      });

      await step(t, p, '-force runs every line, reports each failure, exits 1', async () => {
        const r = tunkit(p, ['-force', '-batch', file]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr, `add tunnel "gre0" failed: File exists\nCommand failed ${file}:6\n`
          + `Command "frobnicate" is unknown, try "tunkit link help".\nCommand failed ${file}:8\n`);
        assert.equal(r.stdout, 'sit11: ipv6/ip remote 203.0.113.5 local 198.51.100.1 ttl inherit 6rd-prefix 2002::/16\n');
        assert.deepEqual(listed(p), ['gre11', 'ipip11', 'sit11']);
        cleanup(p);
      });

      await step(t, p, '-batch - reads stdin; -j before it applies to each line; a clean batch exits 0', async () => {
        const r = tunkit(p, ['-j', '-batch', '-'], 'tunnel add gre21 mode gre remote 203.0.113.7 local 198.51.100.1 okey 9\n\ntunnel show\n');
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        const shown = JSON.parse(r.stdout) as { ifname: string; okey?: number }[];
        assert.deepEqual(shown.filter((s) => s.ifname === 'gre21'), [{ ifname: 'gre21', mode: 'gre/ip', remote: '203.0.113.7', local: '198.51.100.1', okey: 9, flags: [] }]);
        cleanup(p);
      });

      await step(t, p, 'tunnel add, show, change (same device), del', async () => {
        p.tunkitOk('left', 'tunnel add gre11 mode gre remote 203.0.113.2 local 198.51.100.1 ttl 64 key 7 seq');
        assert.equal(p.tunkitOk('left', 'tunnel show gre11'),
          'gre11: gre/ip remote 203.0.113.2 local 198.51.100.1 ttl 64 key 7\n  Drop packets out of sequence.\n  Sequence packets on output.\n');
        const before = /^(\d+): gre11@NONE: .* mtu (\d+) /m.exec(p.tunkitOk('left', 'link show gre11'));
        assert.ok(before !== null);
        p.tunkitOk('left', 'tunnel change gre11 ttl 10 okey 8 tos inherit');
        assert.equal(p.tunkitOk('left', 'tunnel show gre11'),
          'gre11: gre/ip remote 203.0.113.2 local 198.51.100.1 ttl 10 tos inherit ikey 7 okey 8\n  Drop packets out of sequence.\n  Sequence packets on output.\n');
        const after = /^(\d+): gre11@NONE: .* mtu (\d+) /m.exec(p.tunkitOk('left', 'link show gre11'));
        assert.equal(after?.[1], before[1], 'same ifindex: the device stayed');
        assert.equal(after?.[2], before[2], 'same header length: same MTU');
        const bad = p.tunkit('left', 'tunnel change gre11 remote any');
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /^add tunnel "gre11" failed: Invalid argument/);
        p.tunkitOk('left', 'tunnel del gre11');
        const gone = p.tunkit('left', 'tunnel show gre11');
        assert.deepEqual([gone.code, gone.stderr], [1, 'get tunnel "gre11" failed: No such device\n']);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
