// src/config/config-file.ts: `waitstate-serve --config FILE`: options from a JSON object, or from
// the server section of a PasteDeploy .ini written for Waitress; and how they give way to flags.
//
// Values are taken as written: an .ini's are all text, a JSON file's may be text too, and both
// are converted by resolveOptions as flags are ("yes", "8080", "a b"). Keys keep their spelling
// for messages (src/config/options.ts, Spelling).

import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { OptionError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import { IniSyntaxError, interpolate, parseIni, type IniFile } from './ini.js';
import { ADDRESS_OPTIONS, camelOf, isOptionName, OPTIONS, snakeOf, type OptionName, type Spelling } from './options.js';

export interface ConfigFile {
  /** The path as given, as messages name the file. */
  readonly path: string;
  /** Options by library name, values as written. */
  readonly options: { readonly [K in OptionName]?: unknown };
  /** Each option's key as written in the file. */
  readonly keys: { readonly [K in OptionName]?: string };
  /** What the file holds that is not read, said at info level. */
  readonly notes: readonly string[];
}

const EXPECTED = 'expected a JSON object of options (.json), or a PasteDeploy .ini file with a [server:main] section';

/** The flag that names the file, in errors about the file as a whole. */
const FLAG = '--config';

/** Read a config file: `.json` or `.ini`. Any problem throws an OptionError naming the file, and the key. */
export function readConfigFile(path: string): ConfigFile {
  const kind = extname(path).toLowerCase();
  if (kind !== '.json' && kind !== '.ini') throw new OptionError(FLAG, `${path}: ${EXPECTED}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptionError(FLAG, `cannot read ${path}: ${(error as Error).message}`);
  }
  return kind === '.json' ? fromJson(path, text) : fromIni(path, text);
}

function fromJson(path: string, text: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OptionError(FLAG, `${path} is not JSON (${(error as Error).message}): ${EXPECTED}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OptionError(FLAG, `${path} holds ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}: ${EXPECTED}`);
  }
  const file = collector(path);
  for (const [key, value] of Object.entries(parsed)) file.add(key, value);
  return file.done([]);
}

/** PasteDeploy's names for a Waitress server (`egg:waitress` means its `main` entry point). */
const WAITRESS_USE = new Set(['egg:waitress#main', 'egg:waitress']);

/**
 * The server section of a PasteDeploy file, as PasteDeploy hands it to waitress.serve_paste:
 * `use` chooses the server, `set NAME` and keys also in [DEFAULT] are global settings of the
 * app, `get NAME = KEY` takes [DEFAULT]'s KEY; %(here)s is the file's directory.
 */
function fromIni(path: string, text: string): ConfigFile {
  let ini: IniFile;
  try {
    ini = parseIni(text);
  } catch (error) {
    if (error instanceof IniSyntaxError) throw new OptionError(FLAG, `${path} ${error.message}`);
    throw error;
  }
  const names = [...ini.sections.keys()];
  const chosen = ['server:main', 'server'].find((name) => ini.sections.has(name)) ?? names.find((name) => name.startsWith('server:'));
  if (chosen === undefined) {
    const found = names.length === 0 ? 'no section' : `only ${names.map((name) => `[${name}]`).join(', ')}`;
    throw new OptionError(FLAG, `${path}: ${EXPECTED} (it has ${found})`);
  }
  const defaults = new Map([...ini.defaults].map(([key, entry]) => [key, entry.value]));
  defaults.set('here', dirname(resolve(path))).set('__file__', resolve(path));
  const section = ini.sections.get(chosen)!;
  const lookup = (key: string) => section.get(key)?.value ?? defaults.get(key);
  const valueOf = (key: string, raw: string) => {
    try {
      return interpolate(raw, lookup);
    } catch (error) {
      throw new OptionError(key, (error as Error).message, path);
    }
  };
  const file = collector(path);
  const notes: string[] = [];
  for (const [key, { value }] of section) {
    if (key === 'use') {
      const use = valueOf(key, value).trim();
      if (!WAITRESS_USE.has(use.toLowerCase())) {
        throw new OptionError(key, `"${use}" is not Waitress: waitstate reads a server section written for egg:waitress#main`, path);
      }
    } else if (key.startsWith('set ')) {
      notes.push(`"${key}" in [${chosen}] is a setting of the app (PasteDeploy's global_conf), not of the server; not read`);
    } else if (key.startsWith('get ')) {
      const from = valueOf(key, value).trim();
      if (!defaults.has(from)) throw new OptionError(key, `[DEFAULT] has no key "${from}" to get`, path);
      file.add(key.slice(4).trim(), defaults.get(from)!);
    } else if (ini.defaults.has(key)) {
      notes.push(
        `"${key}" in [${chosen}] is also in [DEFAULT], so PasteDeploy takes it as the app's global setting, not the server's; not read`,
      );
    } else {
      file.add(key, valueOf(key, value));
    }
  }
  const others = names.filter((name) => name !== chosen);
  if (others.length > 0) {
    notes.push(
      `${others.map((name) => `[${name}]`).join(', ')} not read: waitstate serves the app named by MODULE:OBJECT, and only [${chosen}] holds server options`,
    );
  }
  return file.done(notes.map((note) => `waitstate: ${path}: ${note}`));
}

/** The options of one file, added key by key: an unknown key, or one option under two keys, throws. */
function collector(path: string) {
  const options: { [K in OptionName]?: unknown } = {};
  const keys: { [K in OptionName]?: string } = {};
  return {
    add(key: string, value: unknown): void {
      const name = camelOf(key);
      if (!isOptionName(name)) {
        // Suggest in the file's own style: snake_case, or camelCase for a key that is.
        const candidates = Object.keys(OPTIONS).map((option) => (/[A-Z]/.test(key) ? option : snakeOf(option)));
        throw new OptionError(key, `is not an option of waitstate${didYouMean(key, candidates)}`, path);
      }
      const earlier = keys[name];
      if (earlier !== undefined) throw new OptionError(key, `is the same option as ${earlier}: give it once`, path);
      options[name] = value;
      keys[name] = key;
    },
    done(notes: readonly string[]): ConfigFile {
      return { path, options, keys, notes };
    },
  };
}

/**
 * A config file's options under the flags': a flag wins over the file's key, and a flag naming
 * any address option (listen, host, port, unix_socket, sockets) sets aside all the file's address
 * keys, which together say where to listen. The spelling names the file's keys as written there.
 */
export function underFlags(
  file: ConfigFile,
  flags: Readonly<Record<string, unknown>>,
): { options: Record<string, unknown>; spelling: Spelling } {
  const flagsPlaceIt = ADDRESS_OPTIONS.some((name) => flags[name] !== undefined);
  const options: Record<string, unknown> = {};
  const written: { [K in OptionName]?: { key: string; file: string } } = {};
  for (const [name, value] of Object.entries(file.options) as [OptionName, unknown][]) {
    if (flags[name] !== undefined || (flagsPlaceIt && (ADDRESS_OPTIONS as readonly string[]).includes(name))) continue;
    options[name] = value;
    written[name] = { key: file.keys[name]!, file: file.path };
  }
  return { options: { ...options, ...flags }, spelling: { style: 'cli', written } };
}
