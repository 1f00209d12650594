// waitstate-serve's argument parser and --help, without a process: what each flag turns into,
// and that the help says what the command really does.
import { describe, expect, it } from 'vitest';
import { resolveAppRef } from '../../src/app-ref.js';
import { helpText, parseArgs } from '../../src/cli/serve.js';
import { flagOf, OPTIONS, snakeOf } from '../../src/config/options.js';

describe('parseArgs', () => {
  it('--inspect PORT takes the port; --inspect before the app leaves the app alone', () => {
    expect(parseArgs(['--inspect', '5679', 'app.mjs:app'])).toMatchObject({ options: { inspect: '5679' }, target: 'app.mjs:app' });
    expect(parseArgs(['--inspect', 'app.mjs:app'])).toMatchObject({ options: { inspect: true }, target: 'app.mjs:app' });
    expect(parseArgs(['--inspect=5679', 'app.mjs:app'])).toMatchObject({ options: { inspect: '5679' }, target: 'app.mjs:app' });
    expect(parseArgs(['app.mjs:app', '--inspect'])).toMatchObject({ options: { inspect: true }, target: 'app.mjs:app' });
  });
  it('leaves values as typed, for the one converter in resolveOptions', () => {
    expect(parseArgs(['--port', '8080', '--ipv6=no', '--expose-tracebacks', '--no-ipv4', 'a:b']).options).toEqual({
      port: '8080',
      ipv6: 'no',
      exposeTracebacks: true,
      ipv4: false,
    });
  });
  it('adds a repeated list flag to the list', () => {
    expect(parseArgs(['--listen=127.0.0.1:1', '--listen', '[::1]:1 *:2', 'a:b']).options).toEqual({ listen: '127.0.0.1:1 [::1]:1 *:2' });
  });
  it('reads the command’s own flags, short forms too', () => {
    expect(parseArgs(['-V']).command).toEqual({ '--version': true });
    expect(parseArgs(['-h']).command).toEqual({ '--help': true });
    expect(parseArgs(['--config', 'deploy.ini', 'a:b']).command).toEqual({ '--config': 'deploy.ini' });
  });
  it.each([
    [['--prot=80'], /^--prot: is not an option; did you mean --port\? \(see --help\)$/],
    [['--no-ipv44'], /^--no-ipv44: is not an option; did you mean --no-ipv4\?/],
    [['--versoin'], /^--versoin: is not an option; did you mean --version\?/],
    [['--bogus'], /^--bogus: is not an option \(see --help\)$/],
    [['-x'], /^-x: is not an option/],
    [['--no-ipv4=1'], /^--no-ipv4: takes no value$/],
    [['--version=2'], /^--version: takes no value$/],
    [['--config'], /^--config: needs a FILE$/],
    [['--port'], /^--port: needs a value$/],
    [['a:b', 'c:d'], /^MODULE:OBJECT: give one app, not 2/],
  ])('refuses %j in one line', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });
  it.each([
    ['app.mjs', /^MODULE:OBJECT: "app\.mjs" names no OBJECT: serve app\.mjs:default for the module's default export, or app\.mjs:NAME$/],
    ['app.mjs:', /^MODULE:OBJECT: "app\.mjs:" is not MODULE:OBJECT \(for example examples\/hello\/app\.mjs:app\)$/],
    [':app', /^MODULE:OBJECT: ":app" is not MODULE:OBJECT/],
  ])('an app reference %s without a module or an object is refused, saying what to write', (ref, message) => {
    expect(() => resolveAppRef(ref, '/srv')).toThrow(message);
  });
});

describe('--help', () => {
  const help = helpText();
  /** The entry of `flag` (its first line starts with it), its wrapped lines joined. */
  const entryOf = (flag: string) => {
    const start = help.search(new RegExp(`\\n  ${flag}(?=[=,[ \\n])`));
    expect(start, `${flag} in --help`).toBeGreaterThan(-1);
    const end = help.indexOf('\n  -', start + 1);
    return help.slice(start, end === -1 ? undefined : end).replace(/\s+/g, ' ');
  };
  it('lists --version and --config', () => {
    expect(help).toContain('-V, --version');
    expect(entryOf('--config')).toMatch(/PasteDeploy/);
  });
  it('shows the default the command uses: 4 threads', () => {
    expect(entryOf('--threads')).toContain('--threads=N (default: 4)');
    expect(entryOf('--threads')).not.toContain('default: 0');
  });
  it.each(
    Object.entries(OPTIONS)
      .filter(([, spec]) => 'ignored' in spec)
      .map(([name]) => name),
  )('says %s has no effect', (name) => {
    expect(entryOf(flagOf(name))).toMatch(/No effect in waitstate: /);
  });
  it('names options as flags and offers no form only the library takes', () => {
    for (const name of Object.keys(OPTIONS)) {
      const snake = snakeOf(name);
      if (snake.includes('_')) expect(help).not.toMatch(new RegExp(`\\b${snake}\\b`));
    }
    expect(help).not.toMatch(/net\.Server|in the library|The library|a function receiving/);
    expect(help).toContain('Not with --listen or --unix-socket.');
  });
});
