// How waitstate-serve loads the app, over real processes, inline, in worker threads and in
// processes alike: --call serves what a factory returns; a factory served without it is named
// at start-up and in the log; a module that cannot be imported is reported as node reports it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../helpers/raw-client.js';
import { root, runCli, servingPort } from '../helpers/cli-process.js';

const live: ChildProcess[] = [];
afterEach(() => {
  for (const child of live.splice(0)) child.kill('SIGKILL');
});

const FACTORIES = 'test/fixtures/factory-app.mjs';
const get = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
/** Inline, in worker threads, in processes (each with a worker thread). */
const MODES: [string, string[]][] = [
  ['inline', ['--threads=0']],
  ['worker threads', ['--threads=2']],
  ['processes', ['--threads=1', '--processes=2']],
];

function serve(args: readonly string[], cwd = root) {
  return runCli(['--listen=127.0.0.1:0', ...args], cwd, live);
}

/** Start-up fails: resolves to what it printed on stderr. */
async function failure(args: readonly string[], cwd = root): Promise<string> {
  const proc = serve(args, cwd);
  expect(await proc.exit).toBe(1);
  return proc.stderr();
}

describe('--call: the app is what OBJECT returns', () => {
  it.each(MODES)('%s: a factory and an async one, called once in each thread', async (_, mode) => {
    for (const factory of ['createApp', 'createLater']) {
      const proc = serve([...mode, '--call', `${FACTORIES}:${factory}`]);
      const port = await servingPort(proc);
      for (let i = 0; i < 6; i++) expect((await exchange(port, get)).body.toString()).toMatch(/^made 1 in \d+\/\d+$/);
      // Each thread (or process) made its own app, once, in itself.
      const makers = proc.stdout().match(/^app made in \d+\/\d+$/gm) ?? [];
      expect(new Set(makers).size).toBe(makers.length);
      expect(makers).toHaveLength(mode[0] === '--threads=0' ? 1 : 2);
      if (mode[0] === '--threads=2') for (const maker of makers) expect(maker).not.toMatch(/\/0$/);
      // The log says where it serves, and nothing is wrong.
      expect(proc.stderr()).not.toMatch(/ (WARN |ERROR) /);
      proc.child.kill('SIGTERM');
      expect(await proc.exit).toBe(0);
    }
  });
  it('constructs a class', async () => {
    const port = await servingPort(serve(['--threads=0', '--call', `${FACTORIES}:Service`]));
    expect((await exchange(port, get)).body.toString()).toBe('constructed');
  });
  it.each(MODES)('%s: a factory that returns no app fails start-up in one line naming MODULE:OBJECT and --call', async (_, mode) => {
    expect(await failure([...mode, '--call', `${FACTORIES}:makeNumber`])).toBe(
      'waitstate-serve: error: MODULE:OBJECT: test/fixtures/factory-app.mjs:makeNumber() returned a number, not an app: ' +
        'with --call, the factory must return a function (request) => Response or an object with a fetch method\n',
    );
    expect(await failure([...mode, '--call', `${FACTORIES}:handler`])).toMatch(
      /^waitstate-serve: error: MODULE:OBJECT: test\/fixtures\/factory-app\.mjs:handler\(\) returned a Response: .* serve it without --call\n$/,
    );
  });
  it.each(MODES)('%s: a factory that throws fails start-up with its stack', async (_, mode) => {
    const lines = (await failure([...mode, '--call', `${FACTORIES}:createFailing`])).trimEnd().split('\n');
    expect(lines[0]).toBe('waitstate-serve: error: test/fixtures/factory-app.mjs:createFailing() threw (--call): Error: no database');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {4}at createFailing \(file:\/\/.*\/test\/fixtures\/factory-app\.mjs:\d+:\d+\)$/),
    ]);
  });
  it('a class without --call fails start-up, pointing to --call', async () => {
    expect(await failure(['--threads=0', `${FACTORIES}:Service`])).toBe(
      'waitstate-serve: error: MODULE:OBJECT: test/fixtures/factory-app.mjs:Service is a class, not an app: serve an instance, made by --call (which constructs it)\n',
    );
  });
});

describe('a factory served without --call', () => {
  const startupWarning =
    'waitstate: test/fixtures/factory-app.mjs:createApp looks like a factory (it takes no parameters and is named createApp): ' +
    'if it makes the app, serve what it returns with --call';
  const advice = 'test/fixtures/factory-app.mjs:createApp looks like a factory: serve what it returns, with waitstate-serve --call';

  it.each([['--threads=0'], ['--threads=2']])('%s: is named at start-up once, and its 500s say so in the log once', async (mode) => {
    const proc = serve([mode, `${FACTORIES}:createApp`]);
    const port = await servingPort(proc);
    for (let i = 0; i < 3; i++) expect((await exchange(port, get)).status).toBe(500);
    proc.child.kill('SIGTERM');
    await proc.exit;
    const log = proc.stderr();
    expect(log.split(startupWarning)).toHaveLength(2);
    expect(log.split(advice)).toHaveLength(2);
    expect(log).toContain(
      'waitstate: GET /: app error before the response head (answered 500): WS_ERR_APP_FACTORY: the app returned an app (an object with a fetch method), not a Response; ' +
        advice,
    );
  });
  it('with processes: the primary says it once for all, and each process its first 500 naming the app as it was given', async () => {
    const proc = serve(['--threads=1', '--processes=2', `${FACTORIES}:createApp`]);
    const port = await servingPort(proc);
    expect((await exchange(port, get)).status).toBe(500);
    proc.child.kill('SIGTERM');
    await proc.exit;
    expect(proc.stderr().split(startupWarning)).toHaveLength(2);
    expect(proc.stderr()).toContain(`not a Response; ${advice} ${FACTORIES}:createApp (or serve('${FACTORIES}:createApp()'))\n`);
  });
  it('no warning for a handler, whatever its name', async () => {
    for (const object of ['handler', 'getUser']) {
      const proc = serve(['--threads=0', `${FACTORIES}:${object}`]);
      await servingPort(proc);
      proc.child.kill('SIGTERM');
      await proc.exit;
      expect(proc.stderr()).toMatch(/ INFO  Serving on /);
      expect(proc.stderr()).not.toMatch(/ (WARN |ERROR) |factory/);
    }
  });
});

describe('a module that cannot be imported is reported as node reports it, in every mode alike', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waitstate-load-'));
    const files: Record<string, string> = {
      'syntax.mjs': "export const app = () =>\n  new Response('x';\n",
      'imports-syntax.mjs': "import './syntax.mjs';\nexport const app = () => new Response('x');\n",
      'throws.mjs': "const where = 'top level';\nthrow new Error(`boom at ${where}`);\n",
      'imports-throws.mjs': "import './throws.mjs';\nexport const app = () => new Response('x');\n",
      'lib.mjs': 'export const there = 1;\n',
      'missing-export.mjs': "import { nope } from './lib.mjs';\nexport const app = () => new Response(nope);\n",
      'missing-module.mjs': "import './nowhere.mjs';\nexport const app = () => new Response('x');\n",
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What each mode prints for `module`, checked to be the same in all. */
  async function reported(module: string): Promise<string[]> {
    const printed = await Promise.all(MODES.map(([, mode]) => failure([...mode, `${module}:app`], dir)));
    expect(printed[1]).toBe(printed[0]);
    expect(printed[2]).toBe(printed[0]);
    return printed[0]!.trimEnd().split('\n');
  }

  it('a syntax error: the file, the line and a caret', async () => {
    expect(await reported('syntax.mjs')).toEqual([
      'waitstate-serve: error: cannot import syntax.mjs: SyntaxError: missing ) after argument list',
      `${dir}/syntax.mjs:2`,
      "  new Response('x';",
      expect.stringMatching(/^ {15}\^+$/),
    ]);
  });
  it('a syntax error in a module it imports: that module', async () => {
    expect(await reported('imports-syntax.mjs')).toEqual([
      'waitstate-serve: error: cannot import imports-syntax.mjs: SyntaxError: missing ) after argument list',
      `${dir}/syntax.mjs:2`,
      "  new Response('x';",
      expect.stringMatching(/^ {15}\^+$/),
    ]);
  });
  it('a throw at top level, here or in a module it imports: its stack', async () => {
    for (const module of ['throws.mjs', 'imports-throws.mjs']) {
      expect(await reported(module)).toEqual([
        `waitstate-serve: error: cannot import ${module}: Error: boom at top level`,
        `    at file://${dir}/throws.mjs:2:7`,
      ]);
    }
  });
  it('an import of a name a module does not export: where, as node shows it', async () => {
    expect(await reported('missing-export.mjs')).toEqual([
      "waitstate-serve: error: cannot import missing-export.mjs: SyntaxError: The requested module './lib.mjs' does not provide an export named 'nope'",
      `file://${dir}/missing-export.mjs:1`,
      "import { nope } from './lib.mjs';",
      '         ^^^^',
    ]);
  });
  it('a missing module, a missing export: one line', async () => {
    expect(await reported('missing-module.mjs')).toEqual([
      `waitstate-serve: error: cannot import missing-module.mjs: Cannot find module '${dir}/nowhere.mjs' imported from ${dir}/missing-module.mjs`,
    ]);
    expect(await reported('nowhere.mjs')).toEqual([
      `waitstate-serve: error: MODULE:OBJECT: cannot import nowhere.mjs: Cannot find module '${dir}/nowhere.mjs'`,
    ]);
    expect(await reported('lib.mjs')).toEqual(['waitstate-serve: error: MODULE:OBJECT: lib.mjs has no export "app"']);
  });
});
