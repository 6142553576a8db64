// Control-plane, config and CLI errors (style.md §4, kind 3). Data-path input
// never throws: it returns a Drop code (drop.ts). Programmer errors throw plain
// RangeError/TypeError at once.

/**
 * A typed error with a stable `code` (errno-like names where the kernel has
 * one, e.g. 'EINVAL') and, for bad configuration, the `field` it concerns so
 * the CLI can name it.
 */
export class VpnError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid configuration: the kernel would return EINVAL from its netlink/ioctl validation. */
export class ConfigError extends VpnError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('EINVAL', `${field}: ${message}`, field, options);
  }
}

/**
 * An error tunkitd answered a request with (as opposed to one raised while
 * reaching it), or a CLI pre-check standing for such an answer: the
 * counterpart of a netlink NLMSG_ERROR. Its code is the daemon's, e.g.
 * 'ENOENT' for a missing policy, never "unreachable".
 */
export class RemoteError extends VpnError {}

/** glibc's strerror() text for the errno names the daemon answers with (what perror/"RTNETLINK answers" print). */
const STRERROR: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', ESRCH: 'No such process',
  EIO: 'Input/output error', EBADF: 'Bad file descriptor', EACCES: 'Permission denied', EBUSY: 'Device or resource busy',
  EEXIST: 'File exists', ENODEV: 'No such device', EINVAL: 'Invalid argument', ENOSPC: 'No space left on device',
  ERANGE: 'Numerical result out of range', ENOBUFS: 'No buffer space available', EOPNOTSUPP: 'Operation not supported',
  EAFNOSUPPORT: 'Address family not supported by protocol', EADDRINUSE: 'Address already in use',
  EPROTONOSUPPORT: 'Protocol not supported', ENOTSUP: 'Operation not supported',
};

/** strerror() of an errno name, or undefined for codes that are not errno names (EUSAGE, EIKE, …). */
export const strerror = (code: string): string | undefined => STRERROR[code];

/** A message without the strerror() text it may start with ("No such process: no state …" → "no state …"). */
export function withoutStrerror(code: string, message: string): string {
  const text = strerror(code);
  return text !== undefined && message.startsWith(`${text}: `) ? message.substring(text.length + 2) : message;
}
