// tunkitd's command-line options as one table: parseOptions (parse-options.ts)
// accepts exactly these, the usage line is built from it, and shell
// completion (cli/completion.ts) offers them. No run-time imports, so
// completion can read it without loading the daemon.

import type { Level } from './log.js';

/** --log-level's values, least to most verbose. */
export const LOG_LEVELS: readonly Level[] = ['error', 'warn', 'info', 'debug'];

export interface DaemonOption {
  readonly name: string;
  /** What the option's value is; absent: the option takes none. FILE and PATH complete as file names. */
  readonly arg?: 'PATH' | 'FILE' | 'ADDR:PORT' | 'LEVEL' | 'USER[:GROUP]' | 'GROUP';
  /** The only values accepted (and offered), when the value is one of a list. */
  readonly values?: readonly string[];
}

export const DAEMON_OPTIONS: readonly DaemonOption[] = [
  { name: '--socket', arg: 'PATH' },
  { name: '--config', arg: 'FILE' },
  { name: '--swanctl', arg: 'FILE' },
  { name: '--strongswan-conf', arg: 'FILE' },
  { name: '--log-level', arg: 'LEVEL', values: LOG_LEVELS },
  { name: '--metrics-listen', arg: 'ADDR:PORT' },
  { name: '--user', arg: 'USER[:GROUP]' },
  { name: '--control-group', arg: 'GROUP' },
  { name: '--teardown' },
  { name: '-h' }, { name: '--help' }, { name: '-V' }, { name: '--version' },
];

/** `usage: tunkitd [--socket PATH] … | --teardown [--socket PATH] | --version` and a newline. */
export const DAEMON_USAGE = `usage: tunkitd ${DAEMON_OPTIONS.filter((o) => o.arg !== undefined)
  .map((o) => `[${o.name} ${o.values?.join('|') ?? o.arg ?? ''}]`).join(' ')} | --teardown [--socket PATH] | --version\n`;
