// `tunkit [-force] -batch FILE`: one command per line, as iproute2's
// lib/utils.c do_batch() runs `ip -batch`:
//
//   physical lines ─ getcmdline ─▶ command line (FILE:LINE) ─ makeargs ─▶ argv ─▶ runLine
//
//   getcmdline  '#' starts a comment to the end of the line (even inside
//               quotes); a line ending in '\' continues on the next one (LINE
//               is then the last physical line); "Missing continuation line"
//               at end of input ends the batch without running the partial
//               command.
//   makeargs    words split on space, tab, CR and LF; a word that *begins*
//               with ' or " runs to the next same quote (no escapes; the
//               character after the closing quote starts a new word); an
//               unterminated quote or more than MAX_ARGS - 1 words ends the
//               whole batch with status 1 (ip's exit(1)).
//   do_batch    blank lines are skipped; a failed command prints
//               "Command failed FILE:LINE" to stderr, stops the batch unless
//               -force, and makes the exit status 1 (EXIT_FAILURE).
//
// One deliberate difference: ip's argument errors call exit(-1) and end even
// a -force batch without a "Command failed" line; tunkit counts them as a
// failed command like any other.

import { openSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** include/utils.h MAX_ARGS: argv slots per command, one kept for the NULL. */
export const MAX_ARGS = 512;

/** A fatal batch error (ip's exit(1) from makeargs). */
export class BatchError extends Error {}

/** One logical command line and the number of the last physical line it took (cmdlineno). */
export interface Cmdline { readonly text: string; readonly lineNo: number }

/** lib/utils.c getcmdline(), fed one physical line at a time. */
export class CmdlineAssembler {
  private pending: string | null = null;
  private lineNo = 0;

  /**
   * Feeds one physical line, with its '\n' unless it was the last line of
   * the input. Returns the command line once complete, null while a '\'
   * continuation is open.
   */
  feed(line: string): Cmdline | null {
    this.lineNo++;
    const cut = stripComment(line);
    const text = this.pending === null ? cut : this.pending + cut;
    if (text.endsWith('\\\n')) {
      this.pending = text.substring(0, text.length - 2);
      return null;
    }
    this.pending = null;
    return { text, lineNo: this.lineNo };
  }

  /** At end of input: getcmdline's message when a continuation was left open, else null. */
  end(): string | null {
    return this.pending !== null ? 'Missing continuation line' : null;
  }
}

const stripComment = (s: string): string => {
  const i = s.indexOf('#');
  return i < 0 ? s : s.substring(0, i);
};

const WS = ' \t\r\n';
const isWs = (c: string | undefined): boolean => c !== undefined && c !== '' && WS.includes(c);

/** lib/utils.c makeargs(): the words of one command line; throws BatchError as ip exits. */
export function makeargs(line: string): string[] {
  const argv: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (isWs(line[i])) i++;
    if (i >= line.length) break;
    if (argv.length >= MAX_ARGS - 1) throw new BatchError('Too many arguments to command');
    const c = line[i]!;
    if (c === '\'' || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new BatchError('Unterminated quoted string');
      argv.push(line.substring(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < line.length && !isWs(line[end])) end++;
      argv.push(line.substring(i, end));
      i = end + 1;
    }
  }
  return argv;
}

/** Physical lines of a text stream, each with its '\n' (the last one may lack it). */
export async function* physicalLines(input: Readable): AsyncGenerator<string> {
  input.setEncoding('utf8');
  let buf = '';
  for await (const chunk of input as AsyncIterable<string>) {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      yield buf.substring(0, nl + 1);
      buf = buf.substring(nl + 1);
      nl = buf.indexOf('\n');
    }
  }
  if (buf !== '') yield buf;
}

/** strerror() for the errors opening a batch file can give. */
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory', EACCES: 'Permission denied', EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory', ELOOP: 'Too many levels of symbolic links', EMFILE: 'Too many open files',
};

/** The batch input: stdin for "-", else the file (opened now, so that a missing file is reported before anything runs). */
export function openBatch(name: string): Readable | string {
  if (name === '-') return process.stdin;
  try {
    return createReadStream('', { fd: openSync(name, 'r') });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    return `Cannot open file "${name}" for reading: ${STRERROR[code] ?? (e instanceof Error ? e.message : String(e))}`;
  }
}

/** Runs one command's words; resolves with its exit status (0 = success). */
export type LineRunner = (argv: readonly string[]) => Promise<number>;

/**
 * lib/utils.c do_batch(): runs every command of `input` in order; resolves 0
 * when all succeeded, 1 when one failed (the first, unless `isForce`) or the
 * input was unusable. Messages go to `err`, one line each without '\n'.
 */
export async function runBatch(
  name: string, input: Readable, isForce: boolean, runLine: LineRunner, err: (s: string) => void,
): Promise<number> {
  const asm = new CmdlineAssembler();
  let status = 0;
  for await (const line of physicalLines(input)) {
    const cmd = asm.feed(line);
    if (cmd === null) continue;
    let argv: string[];
    try {
      argv = makeargs(cmd.text);
    } catch (e) {
      if (!(e instanceof BatchError)) throw e;
      err(e.message);
      return 1;
    }
    if (argv.length === 0) continue;
    if ((await runLine(argv)) !== 0) {
      err(`Command failed ${name}:${cmd.lineNo}`);
      status = 1;
      if (!isForce) return status;
    }
  }
  const tail = asm.end();
  if (tail !== null) err(tail);
  return status;
}
