// parseIni: an .ini read as Python's configparser reads it, since PasteDeploy files are configparser files.
import { describe, expect, it } from 'vitest';
import { interpolate, IniSyntaxError, parseIni } from '../../src/config/ini.js';

const valuesOf = (text: string, section: string) =>
  Object.fromEntries([...(parseIni(text).sections.get(section) ?? [])].map(([key, entry]) => [key, entry.value]));

describe('parseIni', () => {
  it('reads sections, key = value and key: value, lowercases keys, and skips ; and # comment lines', () => {
    const text = '# top\n[server:main]\nUse = egg:waitress#main\n; a comment\nport: 8080\n  # indented comment\nhost=127.0.0.1\n';
    expect(valuesOf(text, 'server:main')).toEqual({ use: 'egg:waitress#main', port: '8080', host: '127.0.0.1' });
  });
  it('keeps ; and # after the start of a line as part of the value (no inline comments)', () => {
    expect(valuesOf('[s]\nident = a ; b # c\n', 's')).toEqual({ ident: 'a ; b # c' });
  });
  it('continues a value on lines indented deeper than its key, across comment and empty lines', () => {
    const text = '[s]\nlisten = 127.0.0.1:1\n    [::1]:1\n  ; skipped\n\n    *:2\nport = 3\n\n';
    expect(valuesOf(text, 's')).toEqual({ listen: '127.0.0.1:1\n[::1]:1\n\n*:2', port: '3' });
  });
  it('keeps [DEFAULT] apart', () => {
    const ini = parseIni('[DEFAULT]\nroot = /srv\n[s]\na = 1\n');
    expect(ini.defaults.get('root')?.value).toBe('/srv');
    expect([...ini.sections.keys()]).toEqual(['s']);
  });
  it.each([
    ['port = 1\n', 1, /before any \[section\]/],
    ['[s]\njust words\n', 2, /is not a \[section\] or key = value/],
    ['[s]\na = 1\nA = 2\n', 3, /"a" appears twice/],
    ['[s]\n[s]\n', 2, /section \[s\] appears twice/],
  ])('refuses %j at line %i', (text, line, reason) => {
    let error: unknown;
    try {
      parseIni(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(IniSyntaxError);
    expect((error as IniSyntaxError).line).toBe(line);
    expect((error as IniSyntaxError).reason).toMatch(reason);
  });
});

describe('interpolate', () => {
  const vars = new Map([
    ['here', '/srv/app'],
    ['sock', '%(here)s/run.sock'],
    ['loop', '%(loop)s'],
  ]);
  const lookup = (name: string) => vars.get(name);
  it('replaces %(name)s, itself interpolated, and %% by %', () => {
    expect(interpolate('%(SOCK)s and 100%%', lookup)).toBe('/srv/app/run.sock and 100%');
  });
  it.each([
    ['%(nope)s', /names no key/],
    ['50% off', /must be followed by % or \(name\)s/],
    ['%(loop)s', /refers to itself/],
  ])('refuses %j', (value, message) => {
    expect(() => interpolate(value, lookup)).toThrow(message);
  });
});
