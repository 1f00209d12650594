// src/config/ini.ts: an .ini file read as Python's configparser reads it, since PasteDeploy's
// deployment files (a Waitress server's [server:main]) are configparser files.
//
// What configparser does by default, and so this: `[section]` headers; `key = value` or
// `key: value` (split at the first = or :, both sides trimmed, keys lowercased); whole-line
// comments starting with ; or # (a ; or # later in a line is part of the value); a line indented
// deeper than its key continues the value (joined with newlines); a key or section given twice is
// an error; [DEFAULT] holds keys every section can refer to as %(name)s (%% is a %).

/** A key's value, and the line it starts on (for messages). */
export interface IniEntry {
  readonly value: string;
  readonly line: number;
}

export interface IniFile {
  /** Every section but [DEFAULT], in file order, each its keys in order. */
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, IniEntry>>;
  readonly defaults: ReadonlyMap<string, IniEntry>;
}

/** What the file breaks of configparser's syntax, and where. */
export class IniSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'IniSyntaxError';
  }
}

const DEFAULT_SECTION = 'DEFAULT';

export function parseIni(text: string): IniFile {
  const sections = new Map<string, Map<string, { lines: string[]; line: number }>>();
  let section: Map<string, { lines: string[]; line: number }> | undefined;
  let current: { lines: string[]; indent: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const content = raw.trim();
    if (content.startsWith(';') || content.startsWith('#')) continue;
    if (content === '') {
      // An empty line may sit inside a value that continues below; trailing ones are trimmed.
      current?.lines.push('');
      continue;
    }
    const indent = raw.length - raw.trimStart().length;
    if (current !== undefined && indent > current.indent) {
      current.lines.push(content);
      continue;
    }
    current = undefined;
    const header = /^\[(.+)\]/.exec(content);
    if (header !== null) {
      const name = header[1]!;
      if (sections.has(name)) throw new IniSyntaxError(i + 1, `section [${name}] appears twice`);
      section = new Map();
      sections.set(name, section);
      continue;
    }
    if (section === undefined) throw new IniSyntaxError(i + 1, 'a key comes before any [section] header');
    const pair = /^(.*?)\s*[=:]\s*(.*)$/.exec(content);
    const key = pair?.[1]?.toLowerCase();
    if (pair === null || key === undefined || key === '') throw new IniSyntaxError(i + 1, `"${content}" is not a [section] or key = value`);
    if (section.has(key)) throw new IniSyntaxError(i + 1, `"${key}" appears twice in its section`);
    current = { lines: [pair[2]!], indent };
    section.set(key, { lines: current.lines, line: i + 1 });
  }
  const entries = (keys: Map<string, { lines: string[]; line: number }>) =>
    new Map([...keys].map(([key, { lines: parts, line }]) => [key, { value: parts.join('\n').trimEnd(), line }]));
  const defaults = entries(sections.get(DEFAULT_SECTION) ?? new Map());
  sections.delete(DEFAULT_SECTION);
  return { sections: new Map([...sections].map(([name, keys]) => [name, entries(keys)])), defaults };
}

/** configparser's deepest %(name)s within %(name)s. */
const MAX_INTERPOLATION_DEPTH = 10;

/** `value` with each %(name)s replaced by `lookup(name)` (itself interpolated) and %% by %. */
export function interpolate(value: string, lookup: (name: string) => string | undefined, depth = 0): string {
  return value.replace(/%(%|\(([^)]*)\)s|.?)/gs, (whole, _, name: string | undefined) => {
    if (whole === '%%') return '%';
    if (name === undefined) throw new Error(`"${value}": a % must be followed by % or (name)s`);
    const found = lookup(name.toLowerCase());
    if (found === undefined) throw new Error(`"${value}": %(${name})s names no key of the section or [DEFAULT]`);
    if (depth >= MAX_INTERPOLATION_DEPTH) throw new Error(`"${value}": %(${name})s refers to itself`);
    return interpolate(found, lookup, depth + 1);
  });
}
