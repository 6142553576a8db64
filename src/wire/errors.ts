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
