// --config FILE: a JSON object or a Waitress PasteDeploy .ini, read from real files; how flags win
// over it; and what messages about its keys say.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfigFile, underFlags } from '../../src/config/config-file.js';
import { resolveOptions } from '../../src/config/options.js';
import { OptionError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'waitstate-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file in the temp directory; returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The OptionError `run` throws. */
function optionErrorOf(run: () => unknown): OptionError {
  try {
    run();
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

const EXPECTED = /expected a JSON object of options \(\.json\), or a PasteDeploy \.ini file with a \[server:main\] section/;

/** A deployment file as Pyramid's cookiecutter writes one, with Waitress as its server. */
const PRODUCTION_INI = `###
# app configuration
###

[app:main]
use = egg:myproject
pyramid.reload_templates = false

[pipeline:main]
pipeline = myproject

###
# wsgi server configuration
###

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:6543
    [::1]:6543
threads = 0
expose_tracebacks = no
trusted_proxy = 127.0.0.1
trusted_proxy_headers = x-forwarded-for
    x-forwarded-proto
unix_socket_perms = 660

[loggers]
keys = root, myproject
`;

describe('a JSON config file', () => {
  it('is read with snake_case and camelCase keys, values as written, each key kept for messages', () => {
    const config = readConfigFile(file('a.json', '{ "max_request_body_size": 10, "exposeTracebacks": "yes", "listen": "127.0.0.1:0" }'));
    expect(config.options).toEqual({ maxRequestBodySize: 10, exposeTracebacks: 'yes', listen: '127.0.0.1:0' });
    expect(config.keys).toEqual({ maxRequestBodySize: 'max_request_body_size', exposeTracebacks: 'exposeTracebacks', listen: 'listen' });
    expect(config.notes).toEqual([]);
  });
  it.each([
    ['{ "max_request_body_sise": 1 }', 'max_request_body_sise', /is not an option of waitstate; did you mean max_request_body_size\?$/],
    ['{ "maxRequestBodySise": 1 }', 'maxRequestBodySise', /did you mean maxRequestBodySize\?$/],
    ['{ "max_body": 1 }', 'max_body', /is not an option of waitstate$/],
    ['{ "constructor": 1 }', 'constructor', /is not an option of waitstate$/],
    ['{ "port": 1, "Port": 2 }', 'Port', /is not an option of waitstate; did you mean port\?$/],
    [
      '{ "max_request_body_size": 1, "maxRequestBodySize": 2 }',
      'maxRequestBodySize',
      /is the same option as max_request_body_size: give it once/,
    ],
  ])('refuses %s, naming the file and the key', (text, key, detail) => {
    const path = file('keys.json', text);
    const error = optionErrorOf(() => readConfigFile(path));
    expect(error.option).toBe(key);
    expect(error.source).toBe(path);
    expect(error.detail).toMatch(detail);
    expect(error.message.startsWith(`${path}: ${key}: `)).toBe(true);
  });
  it.each(['[1, 2]', '8080', '"port"', 'null', '{ not json'])('refuses %s: not a JSON object', (text) => {
    expect(optionErrorOf(() => readConfigFile(file('bad.json', text))).message).toMatch(EXPECTED);
  });
});

describe('a PasteDeploy .ini config file', () => {
  it('reads [server:main] as PasteDeploy hands it to Waitress: use skipped, other sections noted, values as text', () => {
    const path = file('production.ini', PRODUCTION_INI);
    const config = readConfigFile(path);
    expect(config.options).toEqual({
      listen: '127.0.0.1:6543\n[::1]:6543',
      threads: '0',
      exposeTracebacks: 'no',
      trustedProxy: '127.0.0.1',
      trustedProxyHeaders: 'x-forwarded-for\nx-forwarded-proto',
      unixSocketPerms: '660',
    });
    expect(config.keys.trustedProxyHeaders).toBe('trusted_proxy_headers');
    expect(config.notes).toHaveLength(1);
    expect(config.notes[0]).toMatch(
      /\[app:main\], \[pipeline:main\], \[loggers\] not read: waitstate serves the app named by MODULE:OBJECT/,
    );
  });
  it('converts its text values as flags are converted', () => {
    const settings = resolveOptions(readConfigFile(file('production.ini', PRODUCTION_INI)).options);
    expect(settings.listen).toEqual(['127.0.0.1:6543', '[::1]:6543']);
    expect(settings.threads).toBe(0);
    expect(settings.exposeTracebacks).toBe(false);
    expect(settings.trustedProxyHeaders).toEqual(['x-forwarded-for', 'x-forwarded-proto']);
  });
  it('interpolates %(here)s and [DEFAULT] keys, takes get NAME from [DEFAULT], and notes set NAME and keys [DEFAULT] shadows', () => {
    const text =
      '[DEFAULT]\nhttp_port = 8097\nident = shadowed\n' +
      '[server:main]\nuse = egg:waitress\nunix_socket = %(here)s/app.sock\nget port = http_port\nset debug = true\nident = mine\n';
    const config = readConfigFile(file('interp.ini', text));
    expect(config.options).toEqual({ unixSocket: join(dir, 'app.sock'), port: '8097' });
    expect(config.notes.join('\n')).toMatch(/"set debug" .* not of the server/);
    expect(config.notes.join('\n')).toMatch(/"ident" .* also in \[DEFAULT\]/);
  });
  it.each([
    ['[server]\nport = 1\n', { port: '1' }],
    ['[server:other]\nport = 2\n[server:third]\nport = 3\n', { port: '2' }],
    ['[server:other]\nport = 2\n[server:main]\nport = 4\n', { port: '4' }],
  ])('picks [server:main], else [server], else the first [server:*]: %j', (text, options) => {
    expect(readConfigFile(file('pick.ini', text)).options).toEqual(options);
  });
  it.each([
    ['[server:main]\nuse = egg:gunicorn#main\n', 'use', /"egg:gunicorn#main" is not Waitress/],
    ['[server:main]\nprot = 80\n', 'prot', /is not an option of waitstate; did you mean port\?$/],
    ['[server:main]\nunix_socket = %(nowhere)s/x\n', 'unix_socket', /names no key/],
  ])('refuses %j, naming the file and the key', (text, key, detail) => {
    const path = file('refused.ini', text);
    const error = optionErrorOf(() => readConfigFile(path));
    expect([error.source, error.option]).toEqual([path, key]);
    expect(error.detail).toMatch(detail);
  });
  it.each([
    ['[app:main]\nuse = egg:myproject\n', /\(it has only \[app:main\]\)$/],
    ['', /\(it has no section\)$/],
    ['port = 1\n', /line 1: a key comes before any \[section\] header/],
  ])('refuses %j: no server section', (text, detail) => {
    const error = optionErrorOf(() => readConfigFile(file('none.ini', text)));
    expect(error.option).toBe('--config');
    expect(error.message).toMatch(detail);
  });
});

describe('other files', () => {
  it.each(['config.yaml', 'config.toml', 'waitress.conf', 'config'])('refuses %s, saying what is expected', (name) => {
    const error = optionErrorOf(() => readConfigFile(file(name, 'port = 1\n')));
    expect(error.message).toMatch(EXPECTED);
    expect(error.message.split('\n')).toHaveLength(1);
  });
  it('refuses a file that cannot be read, naming it', () => {
    expect(optionErrorOf(() => readConfigFile(join(dir, 'missing.json'))).message).toMatch(
      /^--config: cannot read .*missing\.json: ENOENT/,
    );
  });
});

describe('flags over a config file', () => {
  const config = readConfigFile(file('flags.json', '{ "listen": "127.0.0.1:0", "ident": "file", "threads": 0, "backlog": 5 }'));
  it('a flag wins over the same key', () => {
    const { options } = underFlags(config, { ident: 'flag' });
    expect(options).toEqual({ listen: '127.0.0.1:0', ident: 'flag', threads: 0, backlog: 5 });
  });
  it.each([{ port: '8097' }, { host: '127.0.0.1' }, { unixSocket: '/tmp/x.sock' }, { sockets: [3] }])(
    'a flag for any address option (%j) sets aside all the file gives about where to listen',
    (flags) => {
      const { options, spelling } = underFlags(config, flags);
      expect(options['listen']).toBeUndefined();
      expect(() => resolveOptions({ ...options, sockets: undefined }, spelling)).not.toThrow(/cannot be combined/);
    },
  );
  it('names the keys that came from the file as written there, and the rest as flags', () => {
    const { spelling } = underFlags(config, { ident: 'flag' });
    expect(spelling).toEqual({
      style: 'cli',
      written: {
        listen: { key: 'listen', file: config.path },
        threads: { key: 'threads', file: config.path },
        backlog: { key: 'backlog', file: config.path },
      },
    });
  });
});

describe('messages about options from a config file', () => {
  const resolveFile = (name: string, text: string, flags: Record<string, unknown> = {}) => {
    const { options, spelling } = underFlags(readConfigFile(file(name, text)), flags);
    return () => resolveOptions(options, spelling);
  };
  it('a conflict inside the file names the file and its keys', () => {
    const error = optionErrorOf(resolveFile('conflict.json', '{ "listen": "127.0.0.1:0", "port": 8096 }'));
    expect(error.message).toBe(`${join(dir, 'conflict.json')}: listen: cannot be combined with port`);
  });
  it('a bad value names the key, and a missing companion is named in the file’s style', () => {
    expect(optionErrorOf(resolveFile('bad.ini', '[server:main]\nport = eighty\n')).message).toMatch(
      /bad\.ini: port: must be an integer \(got "eighty"\)$/,
    );
    expect(optionErrorOf(resolveFile('alone.ini', '[server:main]\ntrusted_proxy_count = 2\n')).message).toMatch(
      /alone\.ini: trusted_proxy_count: has no meaning without trusted_proxy$/,
    );
  });
  it('a flag is named as a flag, whatever the file holds', () => {
    expect(optionErrorOf(resolveFile('ok.json', '{ "threads": 0 }', { port: 'x' })).message).toBe('--port: must be an integer (got "x")');
  });
  it('warnings name the key and the file', () => {
    const settings = resolveFile('warn.ini', '[server:main]\nrecv_bytes = 1\ntrusted_proxy = 10.0.0.1\n')();
    expect(settings.warnings[0]).toMatch(/^waitstate: recv_bytes in .*warn\.ini is accepted for Waitress configs only/);
    expect(settings.warnings[1]).toMatch(/^waitstate: trusted_proxy in .*warn\.ini is set without trusted_proxy_headers:/);
  });
});
