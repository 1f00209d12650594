// src/errors.ts: the errors waitstate makes besides its refusals on the wire, each with a stable
// `code` (branch on it, never on the message).
//
// What the server answers a client it refuses is in src/http/errors.ts. This module holds the
// rest: what a program using waitstate catches (a bad option at start-up), and what the server
// logs when an app's answer cannot be sent, when a worker thread dies under a request, and when
// a request is not run because the server is stopping. docs/usage.md lists every code.

/** A bad option: thrown at start-up, naming the option as the caller spelled it. */
export class OptionError extends Error {
  readonly code = 'WS_ERR_OPTION';
  constructor(
    readonly option: string,
    /** What is wrong, without the option's name. */
    readonly detail: string,
    /** The config file the option was read from, when it was. */
    readonly source?: string,
  ) {
    super(source === undefined ? `${option}: ${detail}` : `${source}: ${option}: ${detail}`);
    this.name = 'OptionError';
  }
}

/** Why an app's answer cannot be sent: a stable code and the rule, in one sentence. */
interface AppProblem {
  readonly code: string;
  /** One sentence ending with the section or the reason that justifies it. */
  readonly reason: string;
}

function problem(code: string, reason: string): AppProblem {
  return Object.freeze({ code, reason });
}

/** The answers of an app the server cannot send: the client gets a 500, and the log says which. */
export const APP_PROBLEM = Object.freeze({
  notAResponse: problem(
    'WS_ERR_APP_NOT_A_RESPONSE',
    'An app answers with a Response, or a promise of one: nothing else says what to send.',
  ),
  unreadable: problem('WS_ERR_APP_UNREADABLE', 'Reading the Response the app returned threw, so what to send is unknown.'),
  bodyUsed: problem('WS_ERR_APP_BODY_USED', 'The body of the Response was already read, and a body can be read only once.'),
  statusRange: problem(
    'WS_ERR_APP_STATUS_RANGE',
    'A final status is 200 to 599: 1xx are interim, and Response.error() has 0. (RFC 9110 §15)',
  ),
  statusText: problem(
    'WS_ERR_APP_STATUS_TEXT',
    'The status text must not contain CR or LF, which would end the status line. (RFC 9112 §4)',
  ),
  field: problem(
    'WS_ERR_APP_FIELD',
    'A field name must be a token and a value must not contain CR, LF, NUL or another control character, which would split the response. (RFC 9110 §5.5)',
  ),
  contentLength: problem('WS_ERR_APP_CONTENT_LENGTH', 'Content-Length must be one decimal length, the same if repeated. (RFC 9110 §8.6)'),
  file: problem('WS_ERR_APP_FILE', 'A file response must name a regular file the server can open.'),
  factory: problem(
    'WS_ERR_APP_FACTORY',
    'An app answers with a Response; one that returns an app (a function, or an object with a fetch method) is a factory, to be called once at start-up (--call).',
  ),
});

type AppProblemName = keyof typeof APP_PROBLEM;

/** An app's answer that cannot be sent. The message says what in this answer broke the rule. */
export class AppResponseError extends Error {
  readonly code: string;
  /** The rule broken, as APP_PROBLEM words it. */
  readonly reason: string;
  constructor(name: AppProblemName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppResponseError';
    this.code = APP_PROBLEM[name].code;
    this.reason = APP_PROBLEM[name].reason;
    // The fault is in what the app returned: where the server noticed it would only be noise.
    this.stack = `${this.name}: ${message}`;
  }
}

/**
 * An app module that cannot be loaded: it does not compile, it threw while it ran, or its
 * factory (--call) threw. The stack is where the app failed, not where waitstate noticed it: the
 * file, line and caret of a syntax error as node prints them, or the frames of the app's code.
 */
export class AppLoadError extends Error {
  readonly code = 'WS_ERR_APP_LOAD';
  constructor(message: string, where: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppLoadError';
    this.stack = where === '' ? `${this.name}: ${message}` : `${this.name}: ${message}\n${where}`;
  }
}

/**
 * What to print of an error that stopped the start-up: its message, and for an app that could
 * not be loaded, where it failed (read from the stack, so an AppLoadError rebuilt in another
 * thread or process, with its name, code and stack, reads the same).
 */
export function startupReport(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const heading = `${error.name}: ${error.message}`;
  if (codeOf(error) !== 'WS_ERR_APP_LOAD' || error.stack === undefined || !error.stack.startsWith(heading)) return error.message;
  return error.message + error.stack.slice(heading.length);
}

/** A request the app never got: the server stopped while it waited for a worker thread. */
export class ServerClosingError extends Error {
  readonly code = 'WS_ERR_SERVER_CLOSING';
  constructor() {
    super('the server is stopping, and requests still waiting for a worker thread are not run');
    this.name = 'ServerClosingError';
  }
}

/**
 * upgradeWebSocket() refused the client's opening handshake (RFC 6455 §4.2.1): the client's
 * fault. An app may catch it and answer as it likes; one that lets it escape has the server
 * answer `status` (400, or 426 with the version it speaks) instead of a 500, logged at info.
 * A TypeError, as Deno's Deno.upgradeWebSocket() throws for a request it cannot upgrade.
 */
export class WebSocketHandshakeError extends TypeError {
  readonly code: string;
  readonly status: 400 | 426;
  constructor(refusal: { readonly status: 400 | 426; readonly code: string; readonly reason: string }) {
    super(refusal.reason);
    this.name = 'WebSocketHandshakeError';
    this.code = refusal.code;
    this.status = refusal.status;
  }
}

/** A worker thread that exited under a request, or while it started. */
export class WorkerExitedError extends Error {
  readonly code = 'WS_ERR_WORKER_EXITED';
  constructor(message: string) {
    super(message);
    this.name = 'WorkerExitedError';
  }
}

/** An error's `code`, when it has one (Node's, waitstate's and many libraries' errors do). */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}
