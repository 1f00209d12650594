// src/config/options-doc.ts: docs/options.md and docs/from-waitress.md, rendered from the options table
// (src/config/options.ts). `npm run docs:options` writes both; test/cli/options-doc.test.ts fails when
// either is stale.

import { flagOf, OPTIONS, snakeOf } from './options.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

function shownDefault(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.length === 0 ? '' : `\`${value.join(' ')}\``;
  if (value === '') return '""';
  return `\`${String(value)}\``;
}

export function renderOptionsDoc(): string {
  const lines = [
    '# Options',
    '',
    '<!-- Generated from src/config/options.ts by `npm run docs:options`; test/cli/options-doc.test.ts checks it. -->',
    '',
    'Every option has three spellings: camelCase in the library (`serve(app, { maxRequestBodySize: 1024 })`),',
    'kebab-case on the command line (`--max-request-body-size=1024`; booleans as `--name` / `--no-name`),',
    'and snake_case, as Waitress spells it, in a config file (`waitstate-serve --config=FILE`: a JSON object,',
    "or a PasteDeploy .ini's `[server:main]`; flags win over the file). Values are read alike from a flag,",
    'a file or a string given to the library: `yes`/`no`, `on`/`off`, `true`/`false`, `1`/`0` for booleans,',
    '`"8080"` for numbers, space-separated lists. A bad value, an unknown name (with a suggestion when one is',
    'near) or a combination Waitress refuses (`listen` with `host`/`port`, `unix_socket` or `sockets` with any',
    'of them, `ipv4` and `ipv6` both off, `trusted_proxy_count` or `trusted_proxy_headers` without',
    '`trusted_proxy`, `forwarded` with an `x-forwarded-*` header) fails at start-up with an error naming the',
    'option as it was written: camelCase from the library; from `waitstate-serve`, the flag, or the config',
    'file and its key, in one line, and exit 1. Warnings name options the same way.',
    '',
    '## Waitress options',
    '',
    '| option | CLI flag | config key | type | default | meaning |',
    '|---|---|---|---|---|---|',
  ];
  const row = (name: string) => {
    const spec = OPTIONS[name as keyof typeof OPTIONS];
    let help = 'library' in spec && spec.library !== undefined ? `${spec.help} ${spec.library}` : spec.help;
    if ('ignored' in spec && spec.ignored !== undefined) help += ` **No effect on Node** (a warning says so): ${spec.ignored}.`;
    if ('precedent' in spec && spec.precedent !== undefined) help += ` *Why this default:* ${spec.precedent}.`;
    const noFlag = 'noFlag' in spec ? spec.noFlag : undefined;
    if (noFlag !== undefined) help += ` No flag: ${noFlag}.`;
    const flag = noFlag === undefined ? `\`${flagOf(name)}\`` : '—';
    const kind = spec.kind === 'tls' ? 'object' : spec.kind;
    return `| \`${name}\` | ${flag} | \`${snakeOf(name)}\` | ${kind} | ${shownDefault(spec.default)} | ${cell(help)} |`;
  };
  const names = Object.keys(OPTIONS);
  const own = (name: string) => 'own' in OPTIONS[name as keyof typeof OPTIONS];
  for (const name of names.filter((n) => !own(n))) lines.push(row(name));
  lines.push('', "## waitstate's own", '', '| option | CLI flag | config key | type | default | meaning |', '|---|---|---|---|---|---|');
  for (const name of names.filter(own)) lines.push(row(name));
  lines.push(
    '',
    'Not options: `logger` (library only: any object with `error`, `warn` and `info`, such as `console`',
    'or a pino logger, used as it is; without one, the built-in logger writes to stderr as `log_format` says)',
    'and, on the command line, `--config=FILE`, `--help` and `--version`. `waitstate-serve` runs',
    '4 worker threads unless `--threads` says otherwise, like `waitress-serve`.',
    '',
  );
  return lines.join('\n');
}

/** Where a Waitress option means something else here, or nothing; the rest mean the same. */
const WAITRESS_DIFFERENCES: Partial<Record<string, string>> = {
  threads:
    'The library runs the app inline unless `threads` > 0 (then the app is a module reference); `waitstate-serve` runs 4, like waitress-serve. ' +
    'A thread is an event loop: it runs up to `thread_concurrency` requests at once while they await I/O (a Waitress thread runs one).',
  channelTimeout:
    'As in Waitress, a connection silent this long while no request runs is closed. A request on its way in is held besides to ' +
    '`header_timeout` and `body_min_rate`: in Waitress every byte resets the idle timer, so a client sending a byte now and then ' +
    'holds its connection (and, at `connection_limit`, the server) forever.',
  sockets: 'File descriptors or listening `net.Server` objects; `waitstate-serve` also takes systemd sockets (`LISTEN_FDS`).',
  serverName: 'Default `waitstate.invalid`.',
  ident: 'Default `waitstate`.',
  trustedProxyHeaders: 'Stricter: malformed client addresses, hosts and ports from the trusted proxy get 400 (see edge-cases.md).',
  connectionLimit:
    'Default 10000 (Waitress: 100). At the limit the oldest connection without a whole request head is shed (408) to make room; ' +
    'only when none can be do new ones wait. Counts connections only (Waitress counts its listener and trigger too).',
  urlPrefix: 'The path equal to the prefix becomes `/` (a URL path cannot be empty; Waitress leaves PATH_INFO empty).',
  maxRequestHeaderSize: 'A head of exactly this size passes (Waitress refuses at the limit).',
  clearUntrustedProxyHeaders: 'On by default, as in Waitress 3.x (2.1.2 and before left them unless asked).',
};

/** waitstate's own options about time and concurrency, as a Waitress user would ask about them. */
const DEPARTURES: Record<string, string> = {
  headerTimeout: 'A request head must arrive whole in this time from its first byte, or 408 and close.',
  bodyMinRate: 'A request body must keep this average rate once `body_grace_period` has passed, or 408 and close.',
  bodyGracePeriod: 'How long a body may arrive at any rate.',
  threadConcurrency: 'Requests one worker thread runs at once while they await; a Waitress thread runs one.',
  handlerTimeout:
    'Off by default. A request the app has not finished in this time gets 503 (or, once its response began, a closed connection) and frees its worker slot.',
};

export function renderFromWaitressDoc(): string {
  const lines = [
    '# Coming from Waitress',
    '',
    '<!-- Generated from src/config/options.ts by `npm run docs:options`; test/cli/options-doc.test.ts checks it. -->',
    '',
    "Every argument of Waitress's `serve()` has a waitstate option of the same meaning, spelled",
    'camelCase in the library, kebab-case on the command line (the same flag waitress-serve takes),',
    "and snake_case (Waitress's own spelling) in a `--config` file, JSON or .ini.",
    '',
    '## Your deployment .ini',
    '',
    '`waitstate-serve --config=production.ini module.mjs:app` reads the `[server:main]` section of a PasteDeploy',
    '.ini written for Waitress (`use = egg:waitress#main`; without `[server:main]`, `[server]` or the first `[server:*]`), as',
    "PasteDeploy would hand it to Waitress: configparser's syntax (`key = value` or `key: value`, `;` and `#`",
    'comment lines, values continued on indented lines), `%(here)s` and `[DEFAULT]` keys interpolated, values',
    'read as Waitress reads them (`yes`/`no`, space- or line-separated lists). The other sections',
    '(`[app:main]`, `[pipeline:main]`, `[filter:*]`, logging) are not read, and an info line says so: the app',
    "is the ES module named on the command line, and logging is waitstate's own (`log_level`, `access_log`). A",
    '`use` naming another server is refused. Flags win over the file, key by key, and a flag for any of',
    '`--listen`, `--host`, `--port`, `--unix-socket`, `--sockets` sets aside all of those keys in the file.',
    '',
    '```ini',
    '[server:main]',
    'use = egg:waitress#main',
    'listen = 127.0.0.1:6543 [::1]:6543',
    'threads = 4',
    'trusted_proxy = 127.0.0.1',
    'trusted_proxy_headers = x-forwarded-for x-forwarded-proto',
    '```',
    '',
    '## Every option',
    '',
    '| Waitress | library | `waitstate-serve` | differences |',
    '|---|---|---|---|',
  ];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    if ('own' in spec) continue;
    const ignored = 'ignored' in spec && spec.ignored !== undefined ? `Accepted with a warning, no effect: ${spec.ignored}.` : undefined;
    const difference = ignored ?? WAITRESS_DIFFERENCES[name] ?? 'same';
    lines.push(`| \`${snakeOf(name)}\` | \`${name}\` | \`${flagOf(name)}\` | ${cell(difference)} |`);
  }
  lines.push(
    '',
    '## The API',
    '',
    '| Waitress | waitstate |',
    '|---|---|',
    '| `serve(app, **kw)` (blocks) | `await serve(app, options)` (resolves once listening, to a handle) |',
    '| `create_server(app, **kw)`, `.run()`, `.close()` | `serve()` returns `{ addresses, connections, close() }`; `close()` is graceful (`shutdownTimeout`) |',
    '| a WSGI callable | a Fetch handler `(request, info) => Response`, or an object with `fetch` (Hono, …), or `"module:export"` |',
    '| `waitress-serve [OPTS] module:app` | `waitstate-serve [OPTS] module.mjs:app` |',
    '| `waitress-serve --call module:create_app` | `waitstate-serve --call module.mjs:createApp`, awaited if it returns a promise; each worker thread and process calls it once. In `serve()`: `"module.mjs:createApp()"` |',
    "| `pserve --reload` (hupper; waitress-serve has none) | `waitstate-serve --reload`, waitstate's own: the server runs in a child process, restarted when the app module or a file it imports changes; for development |",
    '| `environ["REMOTE_ADDR"]`, `REMOTE_PORT` | `info.remoteAddress`, `info.remotePort` |',
    '| `environ["wsgi.url_scheme"]`, `SERVER_NAME`, `SERVER_PORT` | `info.urlScheme`, `info.serverName`, `info.serverPort`; `request.url` holds the scheme, host and port the client used |',
    '| `SCRIPT_NAME`, `PATH_INFO` | `info.scriptName`; `request.url` without the prefix |',
    '| `environ["waitress.client_disconnected"]()` | `request.signal`: aborts when the client goes, by a close (FIN) or a reset, inline and in worker threads; after a FIN the answer is still sent |',
    '| `wsgi.file_wrapper` | `fileResponse(path)` |',
    "| Paste's TransLogger | the `accessLog` option |",
    '| the `waitress` logger of Python logging (`INFO:waitress:Serving on …` on stderr, no time unless configured) | the `logger` option; without one, lines with an ISO 8601 time and a level on stderr, as text or pino JSON (`logFormat`), at least `logLevel` |',
    '| `environ["wsgi.input"]`, on any method | `request.body`, `text()`, `json()`, … on any method, GET and HEAD included |',
    "| none: Waitress has no WebSockets (a WSGI app cannot take its connection over) | `upgradeWebSocket(request)`, Deno's API: a standard WebSocket and the 101 to answer with; closed with 1001 at shutdown ([usage.md](usage.md#websockets)) |",
    '| no TLS: a proxy in front terminates it, and `url_scheme = https` (or a trusted `X-Forwarded-Proto`) tells the app | ' +
      "waitstate's own: `certfile` and `keyfile` (gunicorn's names; `--certfile`, `--keyfile`), or `tls` in the library, serve HTTPS " +
      'directly, and `url_scheme` is then https by itself; HTTP/2 still needs a proxy ([usage.md](usage.md#tls)) |',
    '',
    '## Protocol answers where waitstate departs',
    '',
    'Where Waitress 2.1.2 and the RFC differ, waitstate follows the RFC, or what Fetch apps need; every',
    'case, with its rule and what Waitress does, is in [edge-cases.md](edge-cases.md).',
    '',
    '| situation | Waitress | waitstate |',
    '|---|---|---|',
    "| the app sets a hop-by-hop field (Hono's `streamSSE` sets `Connection` and `Transfer-Encoding`) | AssertionError, 500 | the field dropped and logged once per field and route at info level; the server frames the response |",
    '| HEAD | sends the body | no body; the Content-Length the app gave or its body has, never an invented 0 |',
    '| `CONNECT`, `TRACE`, `TRACK` | passed to the app | 501 (a Fetch Request cannot carry them) |',
    '| a fragment in the target, a Host no URL can have, a folded Content-Length or Transfer-Encoding | served | 400 |',
    '',
    '## Time and concurrency: where waitstate departs',
    '',
    'Waitress runs a request per thread and knows one clock, the idle `channel_timeout`. Node apps await, and a',
    'server that only times out idleness can be held by clients that send a byte now and then. These options are',
    "waitstate's own (details in [options.md](options.md)):",
    '',
    '| waitstate option | `waitstate-serve` | default | what it does that Waitress did not |',
    '|---|---|---|---|',
  );
  for (const [name, what] of Object.entries(DEPARTURES)) {
    const spec = OPTIONS[name as keyof typeof OPTIONS];
    lines.push(`| \`${name}\` | \`${flagOf(name)}\` | ${shownDefault(spec.default)} | ${cell(what)} |`);
  }
  lines.push(
    '',
    "waitstate's other own options (worker windows, processes, the access log, log levels, …) are in",
    '[options.md](options.md).',
    '',
  );
  return lines.join('\n');
}
