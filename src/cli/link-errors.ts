// `link add` failures reported as ip reports them (iproute2 6.1): a keyword
// the kind does not take (the kind's help, `return -1`: exit 1), and the
// parameter checks that stand for the kernel's netlink validation
// ("RTNETLINK answers: Invalid argument", exit 2; main.ts remoteMessage).

import { makeTunnelParams } from '../tunnel/params.js';
import type { TunnelConfig } from '../tunnel/params.js';
import { RemoteError, VpnError } from '../wire/errors.js';
import { StatusError, UsageError } from './args.js';

/**
 * A keyword the kind does not take: iptunnel_parse_opt / gre_parse_opt
 * print the kind's help (iptunnel_print_help: "Usage: ... %-6s\t[ remote
 * ADDR ]…", gre_print_help: "%-9s") and return -1, which iplink_modify
 * passes up: exit 1. tunkit prints that first line, then why.
 */
export function kindHelp(kind: string, tok: string, why: string): StatusError {
  const id = kind.padEnd(kind === 'gre' || kind === 'gretap' ? 9 : 6);
  return new StatusError(`Usage: ... ${id}\t[ remote ADDR ]\ntunkit: ${why}; try "tunkit link help".`, tok, 1);
}

/**
 * makeTunnelParams' checks stand for the kernel's netlink validation
 * (EINVAL from ipgre_netlink_parms & co.): reported as its answer would be
 * ("RTNETLINK answers: Invalid argument (tunkit: FIELD: why)", exit 2).
 */
export function checkAsKernel(c: TunnelConfig): void {
  try {
    makeTunnelParams(c);
  } catch (e) {
    if (e instanceof VpnError && !(e instanceof UsageError)) throw new RemoteError(e.code, e.message, e.field, { cause: e });
    throw e;
  }
}
