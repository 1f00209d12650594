// src/errors.ts: the errors waitstate throws at its callers, each with a stable `code`.
//
// What the server answers on the wire is in src/http/errors.ts; this module is for what a
// program using waitstate catches: a bad option at start-up, for one.

/** A bad option: thrown at start-up, naming the option as the caller spelled it. */
export class OptionError extends Error {
  readonly code = 'WS_ERR_OPTION';
  constructor(
    readonly option: string,
    /** What is wrong, without the option's name. */
    readonly detail: string,
  ) {
    super(`${option}: ${detail}`);
    this.name = 'OptionError';
  }
}
