// `tunkit link add NAME type xfrm [dev PHYS] [if_id IF_ID]`: ip/link_xfrm.c
// xfrm_parse_opt, read the way iproute2 6.1 reads it. The kernel's own
// checks (xfrmi_newlink: "if_id must be non zero", an if_id taken → EEXIST)
// are the daemon's.

import { ArgCursor, checkAltIfname, getUnsigned, invarg, matches, UsageError } from './args.js';

/** What `link add … type xfrm` sends: the device, its if_id and MTU (default ETH_DATA_LEN). */
export interface XfrmLinkConfig {
  readonly name: string;
  readonly kind: 'xfrm';
  /** IFLA_XFRM_IF_ID; 0 = not given (the kernel refuses it). */
  readonly ifId: number;
  readonly mtu?: number;
}

export const XFRM_LINK_USAGE = [
  'Usage: ... xfrm dev [ PHYS_DEV ] [ if_id IF-ID ]',
  '\t\t[ external ]',
  '',
  'Where: IF-ID := { 0x1..0xffffffff }',
].join('\n');

/** xfrm_parse_opt over the words after `type xfrm`. */
export function xfrmLinkConfig(name: string, args: readonly string[], mtu: number | undefined): { config: XfrmLinkConfig; linkDev?: string } {
  const ts = new ArgCursor(args);
  let ifId = 0;
  let linkDev: string | undefined;
  while (!ts.isDone) {
    const tok = ts.take();
    if (matches(tok, 'dev')) {
      const v = ts.value('dev');
      if (!checkAltIfname(v)) throw invarg('"dev" not a valid ifname', v, 'dev');
      linkDev = v;
    } else if (matches(tok, 'if_id')) {
      const v = ts.value('if_id');
      const n = getUnsigned(v, 0);
      if (n === null || n === 0) throw invarg('if_id value is invalid', v, 'if_id');
      ifId = n;
    } else if (matches(tok, 'external')) {
      throw invarg('collect_md xfrm interfaces are not supported by tunkit', tok, 'external');
    } else {
      throw new UsageError(`${XFRM_LINK_USAGE}\nError: argument "${tok}" is wrong: unknown keyword`, tok);
    }
  }
  const config: XfrmLinkConfig = { name, kind: 'xfrm', ifId, ...(mtu !== undefined ? { mtu } : {}) };
  return { config, ...(linkDev !== undefined ? { linkDev } : {}) };
}
