// tunkit -batch: iproute2's lib/utils.c getcmdline / makeargs / do_batch,
// case by case, and the runner over a stream with a fake command runner.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { BatchError, CmdlineAssembler, makeargs, MAX_ARGS, runBatch } from '../../src/cli/batch.js';

test('makeargs: white space splits words; quotes only at the start of a word, no escapes', () => {
  const cases: readonly (readonly [string, readonly string[]])[] = [
    ['link show\n', ['link', 'show']],
    ['  link\t show \r\n', ['link', 'show']],
    ['', []],
    ['   \n', []],
    ['link add "a b" type ipip', ['link', 'add', 'a b', 'type', 'ipip']],
    ["xfrm state add enc 'cbc(aes)' 0x00", ['xfrm', 'state', 'add', 'enc', 'cbc(aes)', '0x00']],
    ['"a b"c d', ['a b', 'c', 'd']], // the character after the closing quote starts a new word
    ['ab"cd ef"', ['ab"cd', 'ef"']], // a quote inside a word is an ordinary character
    ['"" x', ['', 'x']],
    ["'a\"b' \"c'd\"", ['a"b', "c'd"]],
    ['a\\ b', ['a\\', 'b']], // a backslash is an ordinary character
    ['a "b"', ['a', 'b']],
  ];
  for (const [line, want] of cases) assert.deepEqual(makeargs(line), want, JSON.stringify(line));
});

test('makeargs: an unterminated quote and too many words are fatal, as ip exits', () => {
  assert.throws(() => makeargs('link add "gre1 type gre'), (e: unknown) => e instanceof BatchError && e.message === 'Unterminated quoted string');
  assert.throws(() => makeargs("x 'y"), /Unterminated quoted string/);
  const words = Array.from({ length: MAX_ARGS - 1 }, (_, i) => `w${i}`);
  assert.equal(makeargs(words.join(' ')).length, MAX_ARGS - 1);
  assert.throws(() => makeargs([...words, 'one-more'].join(' ')), /Too many arguments to command/);
});

test('getcmdline: # comments to the end of the line, \\ continues, LINE is the last physical line', () => {
  const asm = new CmdlineAssembler();
  assert.deepEqual(asm.feed('link show # all of them\n'), { text: 'link show ', lineNo: 1 });
  assert.deepEqual(asm.feed('# a comment line\n'), { text: '', lineNo: 2 });
  assert.deepEqual(asm.feed('link add "x#y" type gre\n'), { text: 'link add "x', lineNo: 3 }); // even inside quotes
  assert.equal(asm.feed('link add gre1 \\\n'), null);
  assert.equal(asm.feed('  type gre \\\n'), null);
  assert.deepEqual(asm.feed('  remote 192.0.2.2\n'), { text: 'link add gre1   type gre   remote 192.0.2.2\n', lineNo: 6 });
  // A comment hides the backslash, so the line does not continue.
  assert.deepEqual(asm.feed('link show # \\\n'), { text: 'link show ', lineNo: 7 });
  assert.deepEqual(asm.feed('last \\'), { text: 'last \\', lineNo: 8 }); // no newline: not a continuation
  assert.equal(asm.end(), null);
  assert.equal(asm.feed('open \\\n'), null);
  assert.equal(asm.end(), 'Missing continuation line');
});

/** Runs a batch over `text` with a runner that fails the commands whose first word is "fail". */
async function run(text: string, isForce: boolean): Promise<{ status: number; ran: string[]; err: string[] }> {
  const ran: string[] = [];
  const err: string[] = [];
  const status = await runBatch('cmds.txt', Readable.from([text]), isForce, (argv) => {
    ran.push(argv.join(' '));
    return Promise.resolve(argv[0] === 'fail' ? 2 : 0);
  }, (s) => err.push(s));
  return { status, ran, err };
}

const SCRIPT = [
  'link add a type ipip   # one',
  '',
  '   # only a comment',
  'fail first',
  'link add \\',
  '  b type gre',
  'fail second',
  'link show',
].join('\n');

test('do_batch: stops at the first failing command with "Command failed FILE:LINE", status 1', async () => {
  const r = await run(SCRIPT, false);
  assert.deepEqual(r.ran, ['link add a type ipip', 'fail first']);
  assert.deepEqual(r.err, ['Command failed cmds.txt:4']);
  assert.equal(r.status, 1);
});

test('do_batch -force: runs everything, reports each failure, status 1 at the end', async () => {
  const r = await run(SCRIPT, true);
  assert.deepEqual(r.ran, ['link add a type ipip', 'fail first', 'link add b type gre', 'fail second', 'link show']);
  assert.deepEqual(r.err, ['Command failed cmds.txt:4', 'Command failed cmds.txt:7']);
  assert.equal(r.status, 1);
});

test('do_batch: all good is status 0; chunks split anywhere; fatal quote error ends even -force', async () => {
  const ok = await run('link show\nlink show dev x\n', false);
  assert.deepEqual([ok.status, ok.ran, ok.err], [0, ['link show', 'link show dev x'], []]);
  const ran: string[] = [];
  const chunks = ['li', 'nk sh', 'ow\nxfrm po', 'licy list'];
  const st = await runBatch('-', Readable.from(chunks), false, (a) => { ran.push(a.join(' ')); return Promise.resolve(0); }, () => undefined);
  assert.deepEqual([st, ran], [0, ['link show', 'xfrm policy list']]);
  const bad = await run('link show\nlink add "x\nlink show\n', true);
  assert.deepEqual([bad.status, bad.ran, bad.err], [1, ['link show'], ['Unterminated quoted string']]);
  const cont = await run('link show\nlink add x \\', false);
  assert.deepEqual([cont.status, cont.ran, cont.err], [0, ['link show', 'link add x \\'], []], 'a trailing backslash without newline is a word');
  const open = await run('link show\nlink add x \\\n', false);
  assert.deepEqual([open.status, open.ran, open.err], [0, ['link show'], ['Missing continuation line']]);
});
