// Global option and object parsing (src/cli/args.ts) against iproute2's
// ip/ip.c main() / do_cmd(), and the lib/utils.c helpers it exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  duparg, duparg2, getInteger, getU8, getUnsigned, incompleteCommand, invarg, matches, missarg,
  parseArgs, resolveObject, USAGE, UsageError,
} from '../../src/cli/args.js';
import { VpnError } from '../../src/wire/errors.js';

/** Asserts `fn` throws a UsageError (code EUSAGE) whose field is `field` and message matches `msg`. */
function usage(fn: () => unknown, field: string, msg: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    assert.equal(e.code, 'EUSAGE');
    assert.equal(e.field, field);
    if (typeof msg === 'string') assert.equal(e.message, msg);
    else assert.match(e.message, msg);
    return true;
  });
}

test('UsageError: a VpnError with code EUSAGE, its own name, and the field', () => {
  const e = new UsageError('bad', 'ttl');
  assert.ok(e instanceof VpnError);
  assert.equal(e.name, 'UsageError');
  assert.equal(e.code, 'EUSAGE');
  assert.equal(e.field, 'ttl');
});

test('lib/utils.c messages: invarg, duparg, duparg2, missarg, incomplete command', () => {
  assert.equal(invarg('unknown keyword', 'mtuu').message, 'Error: argument "mtuu" is wrong: unknown keyword');
  assert.equal(invarg('unknown keyword', 'mtuu').field, 'mtuu');
  assert.equal(invarg('invalid TTL', '300', 'ttl').field, 'ttl');
  assert.equal(duparg('mtu', '1400').message, 'Error: duplicate "mtu": "1400" is the second value.');
  assert.equal(duparg2('dev', 'x').message, 'Error: either "dev" is duplicate, or "x" is garbage.');
  assert.equal(missarg('socket path').message, 'Error: argument "socket path" is required');
  assert.match(incompleteCommand('ttl').message, /not complete: "ttl" needs a value/);
});

test('matches(): iproute2 prefix rule (non-empty prefix of the word)', () => {
  assert.ok(matches('l', 'link'));
  assert.ok(matches('link', 'link'));
  assert.ok(!matches('links', 'link'));
  assert.ok(!matches('', 'link'));
  assert.ok(!matches('k', 'link'));
});

test('get_u8 / get_unsigned / get_integer: strtoul/strtol bases and ranges', () => {
  assert.equal(getU8('64'), 64);
  assert.equal(getU8('0x40'), 64);
  assert.equal(getU8('010'), 8, 'base 0: leading 0 is octal');
  assert.equal(getU8('08'), null, 'octal has no 8');
  assert.equal(getU8('255'), 255);
  assert.equal(getU8('256'), null);
  assert.equal(getU8('-1'), null, 'strtoul wraps -1 to ULONG_MAX');
  assert.equal(getU8('-0'), 0);
  assert.equal(getU8(' 7'), 7, 'leading white space is skipped');
  assert.equal(getU8('7 '), null, 'trailing characters are not');
  assert.equal(getU8(''), null);
  assert.equal(getU8('0x'), null);
  assert.equal(getU8('10', 16), 16);
  assert.equal(getU8('0x10', 16), 16);
  assert.equal(getU8('ff', 16), 255);
  assert.equal(getU8('12', 10), 12);
  assert.equal(getUnsigned('4294967295'), 0xffffffff);
  assert.equal(getUnsigned('4294967296'), null);
  assert.equal(getUnsigned('0xffffffff'), 0xffffffff);
  assert.equal(getInteger('-5'), -5);
  assert.equal(getInteger('2147483647'), 2147483647);
  assert.equal(getInteger('2147483648'), null);
  assert.equal(getInteger('-2147483648'), -2147483648);
  assert.equal(getInteger('1.5'), null);
});

const DEFAULTS = { statsLevel: 0, hasDetails: false, isJson: false, isPretty: false };

test('parseArgs: no options, object and its arguments', () => {
  assert.deepEqual(parseArgs(['link', 'show', 'ipip1']), { options: DEFAULTS, object: 'link', args: ['show', 'ipip1'] });
  assert.deepEqual(parseArgs(['link']), { options: DEFAULTS, object: 'link', args: [] });
});

test('parseArgs: -s repeats (-s -s, -ss, -stats, -statistics, --stats)', () => {
  const level = (argv: string[]): number => parseArgs([...argv, 'link']).options.statsLevel;
  assert.equal(level(['-s']), 1);
  assert.equal(level(['-s', '-s']), 2);
  assert.equal(level(['-ss']), 2);
  assert.equal(level(['-sss']), 3);
  assert.equal(level(['-stats']), 1);
  assert.equal(level(['-statistics', '-st']), 2);
  assert.equal(level(['--stats', '--s']), 2, 'ip.c: "--x" is "-x"');
  assert.equal(level(['-s', '-ss']), 3);
});

test('parseArgs: -d/-details, -j/-json, -p/-pretty, abbreviations and -- forms', () => {
  for (const d of ['-d', '-det', '-details', '--details']) assert.equal(parseArgs([d, 'l']).options.hasDetails, true, d);
  for (const j of ['-j', '-js', '-json', '--json']) assert.equal(parseArgs([j, 'l']).options.isJson, true, j);
  for (const p of ['-p', '-pr', '-pretty', '--pretty']) assert.equal(parseArgs([p, 'l']).options.isPretty, true, p);
  assert.deepEqual(parseArgs(['-s', '-d', '-j', '-p', 'link', 'show']).options,
    { statsLevel: 1, hasDetails: true, isJson: true, isPretty: true });
});

test('parseArgs: --socket PATH (and its abbreviations past -s)', () => {
  assert.equal(parseArgs(['--socket', '/run/t.sock', 'link']).options.socketPath, '/run/t.sock');
  assert.equal(parseArgs(['-socket', '/x', '-s', 'link']).options.socketPath, '/x');
  assert.equal(parseArgs(['--so', '/y', 'link']).options.socketPath, '/y');
  assert.equal(parseArgs(['-s', 'link']).options.socketPath, undefined, '-s stays -stats');
  usage(() => parseArgs(['--socket']), 'socket path', 'Error: argument "socket path" is required');
  usage(() => parseArgs(['--socket', '']), 'socket path', /required/);
});

test('parseArgs: "--" ends the options; options after OBJECT belong to the object', () => {
  assert.deepEqual(parseArgs(['-s', '--', 'link']).options.statsLevel, 1);
  assert.deepEqual(parseArgs(['link', '-s', 'show']).args, ['-s', 'show']);
});

test('parseArgs: -he/-help asks for usage (object help); -h is -human as in ip', () => {
  assert.equal(parseArgs(['-he']).object, 'help');
  assert.equal(parseArgs(['-help', 'link']).object, 'help');
  usage(() => parseArgs(['-h', 'link']), '-h', /"-h" \(-human\) is not supported/);
  assert.ok(USAGE.startsWith('Usage: tunkit'));
});

test('parseArgs: unknown and unsupported options name the token', () => {
  usage(() => parseArgs(['-x', 'link']), '-x', 'Option "-x" is unknown, try "tunkit -help".');
  usage(() => parseArgs(['--bogus', 'link']), '--bogus', /Option "-bogus" is unknown/);
  usage(() => parseArgs(['-4', 'link']), '-4', /not supported by tunkit/);
  usage(() => parseArgs(['-o', 'link']), '-o', /"-o" \(-oneline\) is not supported/);
  usage(() => parseArgs(['-color=never', 'link']), '-color=never', /-color/);
  usage(() => parseArgs(['-r', 'link']), '-r', /-resolve/);
  usage(() => parseArgs(['-', 'link']), '-', /-loops/);
});

test('do_cmd: OBJECT abbreviations resolve in ip.c cmds[] order', () => {
  for (const w of ['l', 'li', 'lin', 'link']) assert.equal(resolveObject(w), 'link', w);
  for (const w of ['mo', 'mon', 'moni', 'monitor']) assert.equal(resolveObject(w), 'monitor', w);
  for (const w of ['x', 'xf', 'xfrm']) assert.equal(resolveObject(w), 'xfrm', w);
  // tunkit's own objects come after ip's: "s" and "r" keep ip's meaning, "i" is still ila.
  for (const w of ['sa', 'sav', 'save']) assert.equal(resolveObject(w), 'save', w);
  for (const w of ['re', 'rel', 'reload']) assert.equal(resolveObject(w), 'reload', w);
  for (const w of ['ik', 'ike']) assert.equal(resolveObject(w), 'ike', w);
  for (const w of ['c', 'cap', 'capture']) assert.equal(resolveObject(w), 'capture', w); // no ip object starts with c
  usage(() => resolveObject('r'), 'r', /Object "route" is not supported/);
  usage(() => resolveObject('s'), 's', /Object "sr" is not supported/);
  assert.equal(resolveObject('help'), 'help');
  assert.equal(parseArgs(['-s', 'mon', 'link']).object, 'monitor');
  usage(() => resolveObject('m'), 'm', 'Object "maddress" is not supported by tunkit (link, tunnel, monitor, xfrm, ike, stats, save, reload, capture).');
  usage(() => resolveObject('r'), 'r', /Object "route" is not supported/);
  assert.equal(resolveObject('tunnel'), 'tunnel');
  usage(() => resolveObject('tunt'), 'tunt', /"tuntap" is not supported/);
  usage(() => resolveObject('links'), 'links', 'Object "links" is unknown, try "tunkit help".');
  usage(() => resolveObject('bogus'), 'bogus', /unknown/);
});

test('parseArgs: a missing OBJECT is a usage error', () => {
  usage(() => parseArgs([]), 'OBJECT', /^Usage: tunkit/);
  usage(() => parseArgs(['-s', '-d']), 'OBJECT', /^Usage: tunkit/);
});

test('property: random argv only ever throws UsageError', () => {
  const token = fc.oneof(
    fc.constantFrom('-s', '-ss', '-d', '-j', '-p', '--socket', '--', '-', '-x', '-h', '-b', '-f', '-V', 'link', 'l', 'mon', 'm', 'route', 'tu', ''),
    fc.string({ maxLength: 8 }),
  );
  fc.assert(fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
    try {
      const r = parseArgs(argv);
      assert.ok(['link', 'tunnel', 'monitor', 'xfrm', 'stats', 'save', 'reload', 'ike', 'capture', 'help', 'version', 'batch'].includes(r.object));
      assert.ok(r.options.statsLevel >= 0);
    } catch (e) {
      assert.ok(e instanceof UsageError, `unexpected ${String(e)}`);
    }
  }), { numRuns: 2000 });
});

test('stats is an object tunkit implements (ip.c cmds[] has it last)', () => {
  assert.equal(resolveObject('stats'), 'stats');
  assert.equal(resolveObject('st'), 'stats');
});

test('-batch FILE, -force, -V: ip.c main()\'s options (options after -batch still count, words after them do not)', () => {
  assert.deepEqual(parseArgs(['-batch', 'cmds.txt']), { options: { statsLevel: 0, hasDetails: false, isJson: false, isPretty: false }, object: 'batch', args: ['cmds.txt'] });
  const b = parseArgs(['-j', '-force', '--socket', '/run/x.sock', '-b', '-', '-s', 'ignored', 'words']);
  assert.deepEqual(b, { options: { statsLevel: 1, hasDetails: false, isJson: true, isPretty: false, socketPath: '/run/x.sock', isForce: true }, object: 'batch', args: ['-'] });
  assert.equal(parseArgs(['-fo', '-b', 'x']).options.isForce, true); // -f is -family, as in ip
  usage(() => parseArgs(['-f', '-b', 'x']), '-f', /-family/);
  usage(() => parseArgs(['-batch']), 'batch', /^Usage: tunkit/);
  for (const v of [['-V'], ['-Version'], ['-Ver', 'link', 'show'], ['--version'], ['-s', '-V', '-x']]) assert.equal(parseArgs(v).object, 'version', v.join(' '));
  usage(() => parseArgs(['-v']), '-v', /Option "-v" is unknown/);
  assert.match(USAGE, /-batch filename/);
});
