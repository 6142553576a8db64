// `tunkit`: the iproute2-style CLI for tunkitd.
//
//   tunkit [-s[-s]] [-d] [-j [-p]] [--socket PATH] link { add | set | del | show | help } ...
//   tunkit [-s] [-j [-p]] [--socket PATH] tunnel { add | change | del | show | help } ...   (ip tunnel)
//   tunkit [--socket PATH] [-j] monitor [ all | link | pmtu | drops | ike ]
//   tunkit [--socket PATH] [-j] stats     (drops of packets that reached no device)
//   tunkit [-s] [-j [-p]] [--socket PATH] xfrm { state | policy | monitor | stat } ...   (ip xfrm)
//   tunkit [ OPTIONS ] [ -force ] -batch FILE | -      (one command per line, batch.ts)
//   tunkit -V | --version
//   tunkit [--socket PATH] save              (the running state as tunkitd's config file, keys included)
//   tunkit [--socket PATH] [-j] reload [FILE] (tunkitd re-reads its config file, or FILE, and applies the difference)
//   tunkit [-j [-p]] [--socket PATH] ike { list-sas | initiate CHILD | terminate NAME | load FILE }   (swanctl)
//   tunkit [--socket PATH] capture DEV [ inner | outer ] [ -w FILE ] [ -c COUNT ]   (pcap; stdout without -w)
//
// Exit status as ip(8): 0 ok, 255 a malformed command line (ip's exit(-1)),
// 2 the daemon refused the request (ip's RTNETLINK failure: "RTNETLINK
// answers: <strerror> (tunkit: <why>)" for link and xfrm), 1 the daemon
// cannot be reached, a missing device (ip's `return -1` paths), a keyword
// the kind does not take, an `ip tunnel` ioctl-style failure, a failed
// xfrm deleteall round, or a failed batch.
//
// Start-up time matters (one process per command in scripts): each object's
// modules load only when a command uses them, and all requests of a run,
// a whole batch included, share one control connection.

import { ControlClient, defaultSocketPath } from '../daemon/client.js';
import type { Control } from '../daemon/client.js';
import { RemoteError, strerror, VpnError, withoutStrerror } from '../wire/errors.js';
import { parseArgs, resolveObject, UsageError, USAGE } from './args.js';
import type { CommandLine } from './args.js';

export interface Io {
  /** stdout: a newline is added to text that lacks one; '' prints nothing. */
  readonly out: (s: string) => void;
  /** stderr: one message, printed with a newline. */
  readonly err: (s: string) => void;
}

const STDIO: Io = {
  out: (s) => { if (s !== '') process.stdout.write(s.endsWith('\n') ? s : `${s}\n`); },
  err: (s) => { process.stderr.write(`${s}\n`); },
};

/**
 * Overwrites this process's argv in place (libuv's uv_set_process_title
 * zeroes the whole argv area), so a key given on the command line is gone
 * from /proc/PID/cmdline and ps while the request runs. It was visible
 * from exec until here: @FILE or -batch - never put it there.
 */
const hideArgv = (): void => { process.title = 'tunkit'; };

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ETIMEDOUT', 'ECONNRESET']);

/** Objects whose daemon answers stand for the kernel's rtnetlink/xfrm netlink ones. */
const NETLINK_OBJECTS = new Set(['link', 'xfrm']);

/**
 * The stderr line for an error the daemon answered. For link and xfrm, ip's
 * rtnl_talk prints "RTNETLINK answers: " + strerror(errno) (lib/libnetlink.c)
 * and exits 2; tunkit keeps those words first, so scripts grepping ip's text
 * still match, and adds its own explanation after them in parentheses.
 */
export function remoteMessage(e: RemoteError, object?: string): string {
  const text = strerror(e.code);
  if (text === undefined || object === undefined || !NETLINK_OBJECTS.has(object)) {
    return e.message.startsWith('Error') ? e.message : `Error: ${e.message}`;
  }
  return `RTNETLINK answers: ${text} (tunkit: ${withoutStrerror(e.code, e.message)})`;
}

/** Prints an error the way its kind calls for and returns the exit status. */
function report(e: unknown, io: Io, object?: string): number {
  if (e instanceof RemoteError) {
    io.err(remoteMessage(e, object));
    return 2;
  }
  if (e instanceof UsageError) {
    io.err(e.message);
    // ip tunnel's `return -1` failures (TunnelError) exit 1; exit(-1) is 255.
    return 'status' in e && typeof e.status === 'number' ? e.status : 255;
  }
  if (e instanceof VpnError) {
    const unreachable = UNREACHABLE.has(e.code);
    io.err(e.message.startsWith('Error') || unreachable ? e.message : `Error: ${e.message}`);
    return unreachable ? 1 : 2;
  }
  io.err(`tunkit: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
}

/**
 * One command: its object's module is loaded here, on first use. isBatch:
 * the command came from a -batch input, so its keys were never on argv
 * (no warning, nothing to hide).
 */
async function dispatch(cl: CommandLine, c: Control, io: Io, isBatch: boolean): Promise<number> {
  switch (cl.object) {
    case 'help': io.out(USAGE); return 0;
    case 'link': return (await import('./link.js')).runLink(cl, c, io.out);
    case 'monitor': return (await import('./link.js')).runMonitor(cl, c, io.out);
    case 'stats': return (await import('./link.js')).runStats(cl, c, io.out);
    case 'tunnel': return (await import('./tunnel.js')).runTunnel(cl.args, c, cl.options, io.out);
    case 'xfrm': {
      const { cliKeys, runXfrm } = await import('./xfrm.js');
      const keys = isBatch ? cliKeys(() => undefined) : cliKeys(io.err, io === STDIO ? hideArgv : undefined);
      return runXfrm(cl.args, c, cl.options, io.out, keys);
    }
    case 'save': return (await import('./config.js')).runSave(cl, c, io.out);
    case 'reload': return (await import('./config.js')).runReload(cl, c, io.out);
    case 'ike': return (await import('./ike.js')).runIke(cl.args, c, cl.options, io.out);
    case 'capture': return (await import('./capture.js')).runCapture(cl, c, io.err);
    case 'version': case 'batch': throw new UsageError(`Object "${cl.object}" is unknown, try "tunkit help".`, cl.object);
  }
}

/** Runs one command line (built by `make`, whose errors count as the command's); resolves its exit status. */
async function runOne(make: () => CommandLine, c: Control, io: Io, isBatch = false): Promise<number> {
  let object: string | undefined;
  try {
    const cl = make();
    object = cl.object;
    return await dispatch(cl, c, io, isBatch);
  } catch (e) {
    return report(e, io, object);
  }
}

/** `-batch FILE`: each line is OBJECT ARGS… with the global options of the command line. */
async function batch(cl: CommandLine, c: Control, io: Io): Promise<number> {
  const { openBatch, runBatch } = await import('./batch.js');
  const name = cl.args[0] ?? '-';
  const input = openBatch(name);
  if (typeof input === 'string') {
    io.err(input);
    return 1;
  }
  const line = (argv: readonly string[]): CommandLine => ({ options: cl.options, object: resolveObject(argv[0] ?? ''), args: argv.filter((_, i) => i > 0) });
  return runBatch(name, input, cl.options.isForce === true, (argv) => runOne(() => line(argv), c, io, true), io.err);
}

/** The CLI: argv without node and the script; resolves the exit status. */
export async function main(argv: readonly string[], io: Io = STDIO): Promise<number> {
  let cl: CommandLine;
  try {
    cl = parseArgs(argv);
  } catch (e) {
    return report(e, io);
  }
  if (cl.object === 'version') {
    const { tunkitVersion } = await import('../daemon/version.js');
    io.out(`tunkit utility, tunkit-${tunkitVersion()}`);
    return 0;
  }
  const c = new ControlClient(cl.options.socketPath ?? defaultSocketPath());
  try {
    return cl.object === 'batch' ? await batch(cl, c, io) : await runOne(() => cl, c, io);
  } finally {
    c.close();
  }
}
