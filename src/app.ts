// src/app.ts: the words every layer shares: what an app is, what it learns about its connection,
// and what a running server gives back. Nothing here does anything but toHandler().

/** What the app learns about the connection besides the Request (Waitress's environ extras). */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly urlScheme: string;
  readonly scriptName: string;
  readonly serverName: string;
  readonly serverPort: number;
}

/**
 * @deprecated The Fetch standard's `RequestInfo` is `Request | string`; this one is
 * {@link ConnectionInfo}, under the name it had before.
 */
export type RequestInfo = ConnectionInfo;

export type FetchHandler = (request: Request, info: ConnectionInfo) => Response | Promise<Response>;

/** A Fetch handler, or an object with one as its `fetch` method (a Hono app, for instance). */
export type App = FetchHandler | { fetch(request: Request, info: ConnectionInfo): Response | Promise<Response> };

/** The app as one handler; a `fetch` method is called on its object, as the object expects. */
export function toHandler(app: App): FetchHandler {
  if (typeof app === 'function') return app;
  if (app !== null && typeof app === 'object' && typeof app.fetch === 'function') {
    return (request, info) => app.fetch(request, info);
  }
  throw new TypeError('app must be a function (request, info) => Response, or an object with such a fetch method');
}

export interface BoundAddress {
  /** The address, or the path of a Unix socket. */
  readonly host: string;
  /** 0 for a Unix socket. */
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6' | 'unix';
  /** `http://127.0.0.1:8080`, IPv6 in brackets; `http://unix:/path` for a Unix socket (as Waitress prints it). */
  readonly url: string;
}

export interface ServerHandle {
  /** What was really bound (port 0 resolved). */
  readonly addresses: readonly BoundAddress[];
  /** Open connections right now. */
  readonly connections: number;
  /** With `inspect` set to a port: the page to open to watch the machines. */
  readonly inspector?: string | undefined;
  /** Stop accepting, let running requests finish, close idle connections; resolves when all are closed. */
  close(): Promise<void>;
}
