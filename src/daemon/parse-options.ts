// tunkitd's argv into Options: the option table is options.ts (kept free of
// run-time imports for shell completion); this is its parser, which needs
// the socket default, the --metrics-listen grammar and the version.

import { resolve } from 'node:path';
import { VpnError } from '../wire/errors.js';
import { defaultSocketPath } from './client.js';
import type { Level } from './log.js';
import { parseListen } from './metrics.js';
import type { ListenAddr } from './metrics.js';
import { DAEMON_OPTIONS, DAEMON_USAGE, LOG_LEVELS } from './options.js';
import { tunkitVersion } from './version.js';

/** What tunkitd was asked to do, parsed (units and paths resolved). */
export interface Options {
  socket: string; level: Level; metricsListen: ListenAddr | null; config: string | null; swanctl: string | null; strongswanConf: string | null;
  user: string | null; controlGroup: string | null; isTeardown: boolean;
}

/**
 * argv (without node and the script) into Options. -h/--help and
 * -V/--version print and exit 0; anything not in DAEMON_OPTIONS throws a
 * VpnError EUSAGE (main: exit 1).
 */
export function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    socket: defaultSocketPath(), level: 'info', metricsListen: null, config: null, swanctl: null, strongswanConf: null, user: null,
    controlGroup: null, isTeardown: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const opt = DAEMON_OPTIONS.find((d) => d.name === a);
    if (opt?.arg !== undefined && v !== undefined && (opt.values === undefined || opt.values.includes(v))) {
      i++;
      if (opt.name === '--socket') o.socket = v;
      else if (opt.name === '--config') o.config = resolve(v);
      else if (opt.name === '--swanctl') o.swanctl = v;
      else if (opt.name === '--strongswan-conf') o.strongswanConf = v;
      else if (opt.name === '--user') o.user = v;
      else if (opt.name === '--control-group') o.controlGroup = v;
      else if (opt.name === '--log-level') o.level = LOG_LEVELS.find((l) => l === v) ?? o.level;
      else if (opt.name === '--metrics-listen') o.metricsListen = parseListen(v);
      continue;
    }
    if (a === '--teardown') {
      o.isTeardown = true;
      continue;
    }
    if (a === '-h' || a === '--help') {
      process.stdout.write(DAEMON_USAGE);
      process.exit(0);
    }
    if (a === '-V' || a === '--version') {
      process.stdout.write(`tunkitd utility, tunkit-${tunkitVersion()}\n`);
      process.exit(0);
    }
    throw new VpnError('EUSAGE', `tunkitd: bad argument "${a ?? ''}"${a === '--log-level' ? ' (error, warn, info or debug)' : ''}`);
  }
  return o;
}
