#!/usr/bin/env node
// src/cli/serve.ts: `waitstate-serve [OPTIONS] MODULE:OBJECT`, the waitress-serve of waitstate.
//
// Flags come from the options table (src/config/options.ts): `--max-request-body-size=N`,
// `--expose-tracebacks` / `--no-expose-tracebacks`, `--listen` repeatable. MODULE:OBJECT names
// the app (src/app-ref.ts); like waitress-serve it runs in 4 worker threads unless `--threads`
// says otherwise (0 = inline). `--call` serves what OBJECT returns when called (a factory);
// `--reload` restarts the server when the app's files change (src/cli/reload.ts). Sockets passed
// by systemd (LISTEN_FDS) are served instead of --listen. `--config FILE` reads options from a
// JSON object or a Waitress PasteDeploy .ini (src/config/config-file.ts), under the flags. Every
// message names an option as it was written. Errors print one line (an app that cannot be loaded,
// also where it failed) and exit 1; SIGINT and SIGTERM close the server gracefully and exit 0.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { callingRef, existingAppModule } from '../app-ref.js';
import { OptionError, startupReport } from '../errors.js';
import { readConfigFile, underFlags } from '../config/config-file.js';
import { didYouMean } from '../config/did-you-mean.js';
import {
  ADDRESS_OPTIONS,
  flagOf,
  hasFlag,
  OPTIONS,
  resolveOptions,
  spell,
  spellIn,
  type OptionName,
  type Spelling,
} from '../config/options.js';
import { startServing } from '../server/serve.js';
import { pinnedListeners, reportToReloader, serveReloading } from './reload.js';

const USAGE = 'Usage: waitstate-serve [OPTIONS] MODULE:OBJECT';
/** The inspector page is Stately's, served from the internet; a trace holds the same events offline. */
const INSPECTOR_OFFLINE =
  "The inspector page embeds Stately's hosted inspector (https://stately.ai/inspect): the browser needs internet access. " +
  'Offline, record the same events with --trace=trace.jsonl and read them with `waitstate-trace trace.jsonl`, ' +
  'or one connection as a page with `waitstate-trace trace.jsonl --connection N --html trace.html`.';
/** Where the CLI's defaults differ from the library's: like waitress-serve, it runs the app in 4 worker threads. */
const CLI_DEFAULTS: { readonly [K in OptionName]?: unknown } = { threads: 4 };
/** Options named on the command line: as flags, wherever --help and messages mention them. */
const FLAG_SPELLING: Spelling = { style: 'cli' };

/** A flag of the command itself, not a server option: `value` names what it takes, if anything. */
interface CommandFlag {
  readonly value?: string;
  readonly short?: string;
  readonly help: string;
}

/** The command's own flags; each also appears in --help and among the "did you mean" candidates. */
const COMMAND_FLAGS = {
  '--call': { help: 'OBJECT is a factory: serve what calling it returns (awaited), as waitress-serve --call does.' },
  '--reload': {
    help:
      'For development: run the server in a child process and restart it when the app module, a file it imports or the ' +
      '--config file changes.',
  },
  '--config': {
    value: 'FILE',
    help:
      'Read options from FILE: a JSON object (keys in snake_case, as Waitress spells them, or camelCase), or a PasteDeploy ' +
      '.ini file, whose [server:main] section (use = egg:waitress#main) is read. Flags win over the file; a flag for any of ' +
      '--listen, --host, --port, --unix-socket, --sockets replaces all of those the file gives.',
  },
  '--help': { short: '-h', help: 'Show this help and exit.' },
  '--version': { short: '-V', help: 'Print the version of waitstate and exit.' },
} as const satisfies Record<string, CommandFlag>;
type CommandFlagName = keyof typeof COMMAND_FLAGS;

/** `help` as lines of at most `width` columns, each indented by `indent`. */
function wrap(help: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of help.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, indent + line];
}

/** ` (default: 4)`, or nothing for an option that is off or empty unless given. */
function shownDefault(name: OptionName): string {
  const value = name in CLI_DEFAULTS ? CLI_DEFAULTS[name] : OPTIONS[name].default;
  if (value === '' || value === false || (Array.isArray(value) && value.length === 0)) return '';
  return ` (default: ${value === true ? 'on' : String(value)})`;
}

export function helpText(): string {
  const lines = [
    USAGE,
    '',
    'Serve the Fetch app OBJECT exported by the ES module MODULE (a path).',
    'A flag takes its value after = or a space; a boolean flag also takes =yes/no, on/off, true/false or 1/0.',
    '',
    'Options:',
  ];
  for (const [option, spec] of Object.entries(OPTIONS)) {
    const name = option as OptionName;
    if (!hasFlag(name)) continue;
    const flag = flagOf(name);
    const form =
      spec.kind === 'boolean'
        ? `${flag}, --no-${flag.slice(2)}`
        : spec.kind === 'inspect'
          ? `${flag}[=PORT]`
          : `${flag}=${spec.kind === 'integer' ? 'N' : spec.kind === 'output' ? 'FILE' : 'VALUE'}`;
    const ignored = 'ignored' in spec ? ` No effect in waitstate: ${spec.ignored}.` : '';
    lines.push(`  ${form}${shownDefault(name)}`, ...wrap(spellIn(FLAG_SPELLING, spec.help + ignored), '      '));
  }
  for (const [flag, spec] of Object.entries(COMMAND_FLAGS) as [CommandFlagName, CommandFlag][]) {
    const form = `${spec.short === undefined ? '' : `${spec.short}, `}${flag}${spec.value === undefined ? '' : `=${spec.value}`}`;
    lines.push(`  ${form}`, ...wrap(spec.help, '      '));
  }
  lines.push('', 'Environment:');
  for (const spec of Object.values(OPTIONS) as { env?: string; help: string }[]) {
    if (spec.env !== undefined) lines.push(`  ${spec.env}`, ...wrap(spellIn(FLAG_SPELLING, spec.help), '      '));
  }
  return lines.join('\n');
}

export interface ParsedArgs {
  /** Server options by library name, values as typed (converted and checked by resolveOptions). */
  options: Record<string, unknown>;
  target: string | undefined;
  /** The command's own flags given: true, or the value of one that takes one. */
  command: { [K in CommandFlagName]?: string | true };
}

const byFlag = new Map((Object.keys(OPTIONS) as OptionName[]).filter(hasFlag).map((name) => [flagOf(name), name]));
const byShort = new Map(
  Object.entries(COMMAND_FLAGS).flatMap(([flag, spec]: [string, CommandFlag]) => (spec.short === undefined ? [] : [[spec.short, flag]])),
);
/** The flags an option would have but has not (a secret, an object), each with why. */
const withoutFlag = new Map(
  Object.entries(OPTIONS).flatMap(([name, spec]: [string, { noFlag?: string }]) =>
    spec.noFlag === undefined ? [] : [[flagOf(name), spec.noFlag] as const],
  ),
);
/** Every flag there is, for "did you mean". */
const ALL_FLAGS = [
  ...Object.keys(COMMAND_FLAGS),
  ...[...byFlag].flatMap(([flag, name]) => (OPTIONS[name].kind === 'boolean' ? [flag, `--no-${flag.slice(2)}`] : [flag])),
];

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options: Record<string, unknown> = {};
  const positional: string[] = [];
  const command: ParsedArgs['command'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = byShort.get(arg) ?? (eq === -1 ? arg : arg.slice(0, eq));
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (flag in COMMAND_FLAGS) {
      const name = flag as CommandFlagName;
      const spec: CommandFlag = COMMAND_FLAGS[name];
      if (spec.value === undefined) {
        if (value !== undefined) throw new OptionError(flag, 'takes no value');
        command[name] = true;
      } else {
        value ??= argv[++i];
        if (value === undefined || value === '') throw new OptionError(flag, `needs a ${spec.value}`);
        command[name] = value;
      }
      continue;
    }
    const negated = flag.startsWith('--no-') ? byFlag.get('--' + flag.slice(5)) : undefined;
    if (negated !== undefined && OPTIONS[negated].kind === 'boolean') {
      if (value !== undefined) throw new OptionError(flag, 'takes no value');
      options[negated] = false;
      continue;
    }
    const name = byFlag.get(flag);
    if (withoutFlag.has(flag)) throw new OptionError(flag, `is not a flag: ${withoutFlag.get(flag)}`);
    if (name === undefined) throw new OptionError(flag, `is not an option${didYouMean(flag, ALL_FLAGS)} (see --help)`);
    const kind = OPTIONS[name].kind;
    if (kind === 'inspect') {
      // --inspect alone switches it on (as node --inspect does); --inspect=PORT or --inspect PORT picks the port.
      options[name] = value ?? (/^\d+$/.test(argv[i + 1] ?? '') ? argv[++i] : true);
    } else if (kind === 'boolean') {
      options[name] = value ?? true;
    } else {
      value ??= argv[++i];
      if (value === undefined) throw new OptionError(flag, 'needs a value');
      // A repeated list flag adds to the list: its values are joined as a space-separated list.
      const earlier = options[name];
      options[name] = (kind === 'list' || kind === 'sockets') && typeof earlier === 'string' ? `${earlier} ${value}` : value;
    }
  }
  if (positional.length > 1) throw new OptionError('MODULE:OBJECT', `give one app, not ${positional.length} (${positional.join(' ')})`);
  return { options, target: positional[0], command };
}

/** This package's version, from the package.json above this file (dist/src/cli/ when installed, src/cli/ in tests). */
function packageVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const candidate = new URL('package.json', dir);
    if (existsSync(candidate)) {
      const found = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      if (found.name === 'waitstate' && typeof found.version === 'string') return found.version;
    }
    if (dir.pathname === '/') throw new Error('waitstate: its package.json is not found above ' + import.meta.url);
  }
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
  if (!/^\d+$/.test(count)) throw new OptionError('LISTEN_FDS', `must be a number of descriptors (got "${count}")`);
  return Array.from({ length: Number(count) }, (_, i) => SD_LISTEN_FDS_START + i);
}

/**
 * The options to serve with: the flags, systemd's sockets (which, like a flag for an address,
 * set the config file's address keys aside), then the config file under them; how each was
 * spelled; and what the file holds that is not read.
 */
function gatherOptions(args: ParsedArgs): { options: Record<string, unknown>; spelling: Spelling; notes: readonly string[] } {
  const flags = { ...args.options };
  const activated = systemdSockets(process.env, process.pid);
  if (activated.length > 0) {
    const where = ADDRESS_OPTIONS.find((name) => flags[name] !== undefined);
    if (where !== undefined) {
      throw new OptionError(
        spell(FLAG_SPELLING, where),
        `cannot be combined with the ${activated.length} socket(s) systemd passed (LISTEN_FDS)`,
      );
    }
    flags['sockets'] = activated;
  }
  // Options without a flag that the environment gives (a secret): below the flags, above the file.
  const fromEnv = fromEnvironment(process.env);
  const path = args.command['--config'];
  const file = typeof path === 'string' ? readConfigFile(path) : undefined;
  const under = { ...fromEnv.options, ...flags };
  const { options, spelling } = file === undefined ? { options: under, spelling: FLAG_SPELLING } : underFlags(file, under);
  for (const [name, value] of Object.entries(CLI_DEFAULTS)) options[name] ??= value;
  return { options, spelling: { ...spelling, written: { ...spelling.written, ...fromEnv.written } }, notes: file?.notes ?? [] };
}

/** The options read from environment variables (`env` in the table), each named by its variable. */
function fromEnvironment(env: NodeJS.ProcessEnv): { options: Record<string, unknown>; written: NonNullable<Spelling['written']> } {
  const options: Record<string, unknown> = {};
  const written: { [K in OptionName]?: { key: string } } = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, { env?: string }][]) {
    const value = spec.env === undefined ? undefined : env[spec.env];
    if (spec.env === undefined || value === undefined || value === '') continue;
    options[name] = value;
    written[name] = { key: spec.env };
  }
  return { options, written };
}

/** --reload: check what can be checked once, then serve from a child process restarted on changes. */
function reload(argv: readonly string[], target: string, args: ParsedArgs): Promise<number> {
  if (process.env['LISTEN_FDS'] !== undefined) throw new OptionError('--reload', 'cannot serve sockets passed by systemd (LISTEN_FDS)');
  const { options, spelling } = gatherOptions(args);
  // A bad option fails here, not in every restart; so does a mistyped module, which the reloader
  // would otherwise wait on to change.
  const { logger } = resolveOptions(options, spelling);
  const appFile = existingAppModule(target, process.cwd());
  const config = args.command['--config'];
  const watched = typeof config === 'string' ? [appFile, resolve(config)] : [appFile];
  return serveReloading(
    argv.filter((arg) => arg !== '--reload'),
    watched,
    { out: (line) => logger.info(line), err: (line) => logger.error(line) },
  );
}

async function main(argv: readonly string[], out: (line: string) => void = console.log): Promise<number> {
  const args = parseArgs(argv);
  if (args.command['--help'] !== undefined) {
    out(helpText());
    return 0;
  }
  if (args.command['--version'] !== undefined) {
    out(`waitstate ${packageVersion()}`);
    return 0;
  }
  if (args.target === undefined) throw new OptionError('MODULE:OBJECT', `specify an application. ${USAGE}`);
  const target = args.command['--call'] !== undefined ? callingRef(args.target) : args.target;
  if (args.command['--reload'] !== undefined) return reload(argv, target, args);
  const gathered = gatherOptions(args);
  const { spelling, notes } = gathered;
  const options = pinnedListeners(gathered.options, process.env);
  // Inline, in worker threads or in processes, the server imports the module where the app runs.
  const server = await startServing(target, options, { spelling, notes });
  // The server's own lines, stamped as its log lines are (logFormat, logLevel), on the same stream.
  const { logger } = resolveOptions(options, spelling);
  for (const address of server.addresses) logger.info(`Serving on ${address.url}`);
  if (server.inspector !== undefined) {
    logger.info(`Inspector on ${server.inspector} (open it in a browser)`);
    logger.info(INSPECTOR_OFFLINE);
  }
  let reloading = false;
  await new Promise<void>((resolveSignal) => {
    const stop = () => resolveSignal();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    reloading = reportToReloader(server.addresses, stop);
  });
  // Under --reload, the reloader's line says why this server stops.
  if (!reloading) logger.info('Shutting down: finishing requests in progress');
  await server.close();
  return 0;
}

// Run only when executed (npm's bin entry is a symlink, hence realpath), not when imported by tests.
const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Option errors name the option as it was written (a flag, a config file's key) already; an
      // app that cannot be loaded is shown where it failed.
      process.stderr.write(`waitstate-serve: error: ${startupReport(error)}\n`);
      process.exit(1);
    },
  );
}
