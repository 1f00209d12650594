#!/usr/bin/env node
// src/cli/serve.ts: `waitstate-serve [OPTIONS] MODULE:OBJECT`, the waitress-serve of waitstate.
//
// Flags come from the options table (src/config/options.ts): `--max-request-body-size=N`,
// `--expose-tracebacks` / `--no-expose-tracebacks`, `--listen` repeatable. MODULE:OBJECT names
// the app (src/app-ref.ts); like waitress-serve it runs in 4 worker threads unless `--threads`
// says otherwise (0 = inline). `--call` serves what OBJECT returns when called (a factory);
// `--reload` restarts the server when the app's files change (src/cli/reload.ts). Sockets passed
// by systemd (LISTEN_FDS) are served instead of --listen. Errors print one line (an app that
// cannot be loaded, also where it failed) and exit 1; SIGINT and SIGTERM close the server
// gracefully and exit 0.

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { callingRef, existingAppModule } from '../app-ref.js';
import { OptionError, startupReport } from '../errors.js';
import { flagOf, OPTIONS, readConfigFile, resolveOptions, type OptionName } from '../config/options.js';
import { serve } from '../server/serve.js';
import { pinnedListeners, reportToReloader, serveReloading } from './reload.js';

const USAGE = 'Usage: waitstate-serve [OPTIONS] MODULE:OBJECT';
/** Like waitress-serve, the CLI runs the app in 4 worker threads unless told otherwise. */
const CLI_DEFAULT_THREADS = 4;

function helpText(): string {
  const lines = [USAGE, '', 'Serve the Fetch app OBJECT exported by the ES module MODULE (a path).', '', 'Options:'];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const flag =
      spec.kind === 'boolean'
        ? `${flagOf(name)}, --no-${flagOf(name).slice(2)}`
        : spec.kind === 'inspect'
          ? `${flagOf(name)}[=PORT]`
          : `${flagOf(name)}=${spec.kind === 'integer' ? 'N' : 'VALUE'}`;
    const def = spec.kind === 'list' || spec.kind === 'sockets' ? '' : ` (default: ${JSON.stringify(spec.default)})`;
    lines.push(`  ${flag}`, `      ${spec.help}${def}`);
  }
  lines.push(
    '  --call',
    '      OBJECT is a factory: serve what calling it returns (awaited), as waitress-serve --call does.',
    '  --reload',
    '      For development: restart the server when the app module or a file it imports changes.',
    '  --config=FILE',
    '      Read options from a JSON object (keys in snake_case, as Waitress spells them, or camelCase); flags win over it.',
    '  --help',
    '      Show this help and exit.',
  );
  return lines.join('\n');
}

interface ParsedArgs {
  options: Record<string, unknown>;
  target: string | undefined;
  help: boolean;
  config: string | undefined;
  call: boolean;
  reload: boolean;
}

const byFlag = new Map(Object.keys(OPTIONS).map((name) => [flagOf(name), name as OptionName]));

function parseArgs(argv: readonly string[]): ParsedArgs {
  const options: Record<string, unknown> = {};
  const positional: string[] = [];
  let help = false;
  let config: string | undefined;
  const how = { call: false, reload: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    // How the app is loaded, not how it is served: flags of the command, not options.
    if (arg === '--call' || arg === '--reload') {
      how[arg === '--call' ? 'call' : 'reload'] = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (flag === '--config') {
      config = value ?? argv[++i];
      if (config === undefined || config === '') throw new OptionError('--config', 'needs a file name');
      continue;
    }
    const negated = flag.startsWith('--no-') ? byFlag.get('--' + flag.slice(5)) : undefined;
    if (negated !== undefined && OPTIONS[negated].kind === 'boolean') {
      if (value !== undefined) throw new OptionError(negated, `${flag} takes no value`);
      options[negated] = false;
      continue;
    }
    const name = byFlag.get(flag);
    if (name === undefined) throw new OptionError(flag, 'is not an option (see --help)');
    const spec = OPTIONS[name];
    if (spec.kind === 'inspect') {
      // --inspect alone switches it on (as node --inspect does); --inspect=PORT picks the port.
      options[name] = value ?? true;
      continue;
    }
    if (spec.kind === 'boolean') {
      if (value === undefined) options[name] = true;
      else if (/^(1|true|yes|on)$/i.test(value)) options[name] = true;
      else if (/^(0|false|no|off)$/i.test(value)) options[name] = false;
      else throw new OptionError(name, `${flag} must be true or false (got "${value}")`);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new OptionError(name, `${flag} needs a value`);
    }
    if (spec.kind === 'list' || spec.kind === 'sockets') {
      const list = (options[name] as string[] | undefined) ?? [];
      list.push(...value.split(/\s+/).filter((x) => x !== ''));
      options[name] = list;
    } else {
      options[name] = value;
    }
  }
  if (positional.length > 1) throw new OptionError('MODULE:OBJECT', `give one app, not ${positional.length} (${positional.join(' ')})`);
  return { options, target: positional[0], help, config, ...how };
}

/** sd_listen_fds(3): the first descriptor systemd passes. */
const SD_LISTEN_FDS_START = 3;

/**
 * Sockets passed by systemd socket activation: LISTEN_FDS descriptors from fd 3, when LISTEN_PID
 * is this process (or unset). The variables are removed, as sd_listen_fds(unset=1) does, so that
 * processes started from here do not take the sockets for theirs.
 */
function systemdSockets(env: NodeJS.ProcessEnv, pid: number): number[] {
  const count = env['LISTEN_FDS'];
  const owner = env['LISTEN_PID'];
  if (count === undefined) return [];
  delete env['LISTEN_FDS'];
  delete env['LISTEN_PID'];
  delete env['LISTEN_FDNAMES'];
  if (owner !== undefined && owner !== String(pid)) return [];
  if (!/^\d+$/.test(count)) throw new OptionError('sockets', `LISTEN_FDS must be a number of descriptors (got "${count}")`);
  return Array.from({ length: Number(count) }, (_, i) => SD_LISTEN_FDS_START + i);
}

async function main(argv: readonly string[], out: (line: string) => void = console.log): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    out(helpText());
    return 0;
  }
  if (args.target === undefined) throw new OptionError('MODULE:OBJECT', `specify an application. ${USAGE}`);
  const target = args.call ? callingRef(args.target) : args.target;
  if (args.config !== undefined) args.options = { ...readConfigFile(args.config), ...args.options };
  if (args.reload) {
    if (process.env['LISTEN_FDS'] !== undefined) throw new OptionError('--reload', 'cannot serve sockets passed by systemd (LISTEN_FDS)');
    resolveOptions(args.options); // a bad option fails here, not in every restart
    // A mistyped module fails now: the reloader would wait for it to change.
    const appFile = existingAppModule(target, process.cwd());
    const watched = args.config === undefined ? [appFile] : [appFile, resolve(args.config)];
    return serveReloading(
      argv.filter((arg) => arg !== '--reload'),
      watched,
      { out, err: (line) => process.stderr.write(line + '\n') },
    );
  }
  args.options = pinnedListeners(args.options, process.env);
  const activated = systemdSockets(process.env, process.pid);
  if (activated.length > 0) {
    const where = ['listen', 'host', 'port', 'unixSocket', 'sockets'].find((name) => args.options[name] !== undefined);
    if (where !== undefined) {
      throw new OptionError(where as OptionName, `cannot be combined with the ${activated.length} socket(s) systemd passed (LISTEN_FDS)`);
    }
    args.options['sockets'] = activated;
  }
  args.options['threads'] ??= CLI_DEFAULT_THREADS;
  // Inline, in worker threads or in processes, serve() imports the module where the app runs.
  const server = await serve(target, args.options);
  for (const address of server.addresses) out(`Serving on ${address.url}`);
  if (server.inspector !== undefined) out(`Inspector on ${server.inspector} (open it in a browser)`);
  let reloading = false;
  await new Promise<void>((resolveSignal) => {
    const stop = () => resolveSignal();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    reloading = reportToReloader(server.addresses, stop);
  });
  // Under --reload, the reloader's line says why this server stops.
  if (!reloading) out('Shutting down: finishing requests in progress');
  await server.close();
  return 0;
}

// Run only when executed (npm's bin entry is a symlink, hence realpath), not when imported by tests.
const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // An option is named as it was given here: by its flag, in the detail too.
      const message =
        error instanceof OptionError && error.option in OPTIONS
          ? `${flagOf(error.option)}: ${error.detail.replace(/\b[a-z]+(?:[A-Z][a-z0-9]*)+\b/g, (word) => (word in OPTIONS ? flagOf(word) : word))}`
          : startupReport(error);
      process.stderr.write(`waitstate-serve: error: ${message}\n`);
      process.exit(1);
    },
  );
}
