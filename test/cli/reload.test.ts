// waitstate-serve --reload over real processes: the server restarts when the app module or a
// file it imports changes, on the same address, in worker threads and processes too; a syntax
// error is printed and the next change starts it again; SIGINT leaves no process behind.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchange } from '../helpers/raw-client.js';
import { alive, descendants, runCli, servingPort, type CliProcess } from '../helpers/cli-process.js';
import { until } from '../helpers/wait.js';

const live: ChildProcess[] = [];
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'waitstate-reload-test-'));
  writeFileSync(join(dir, 'lib.mjs'), "export const word = 'one';\n");
  writeFileSync(
    join(dir, 'app.mjs'),
    "import { word } from './lib.mjs';\nexport const app = () => new Response(`v1 ${word} ${process.pid}`);\n",
  );
});
afterEach(() => {
  for (const child of live.splice(0)) {
    for (const pid of descendants(child.pid!)) process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

const get = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';

/** Edit a file of the app as an editor would: write it whole. */
function edit(name: string, change: (text: string) => string): void {
  const path = join(dir, name);
  writeFileSync(path, change(readFileSync(path, 'utf8')));
}

/** Ask until the answer matches (the server restarts meanwhile); returns it. */
async function answerMatching(port: number, pattern: RegExp): Promise<string> {
  let body = '';
  for (let waited = 0; waited < 15_000 && !pattern.test(body); waited += 100) {
    body = await exchange(port, get).then(
      (r) => r.body.toString(),
      () => '',
    );
    if (!pattern.test(body)) await new Promise((r) => setTimeout(r, 100));
  }
  expect(body).toMatch(pattern);
  return body;
}

/** Stop with SIGINT, to the reloader alone or (as Ctrl-C in a shell) its whole group; nothing may remain. */
async function interrupt(proc: CliProcess, group: boolean): Promise<void> {
  const pid = proc.child.pid!;
  const family = descendants(pid);
  expect(family.length).toBeGreaterThan(0);
  process.kill(group ? -pid : pid, 'SIGINT');
  const code = await Promise.race([proc.exit, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
  expect(code).toBe(0);
  expect(await until(() => family.every((child) => !alive(child)), 5_000)).toBe(true);
}

describe('--reload', () => {
  it('with worker threads: restarts on a change to the app or a file it imports, waits out a syntax error, stops on SIGINT', async () => {
    const proc = runCli(['--reload', '--threads=2', '--listen=127.0.0.1:0', 'app.mjs:app'], dir, live);
    const port = await servingPort(proc);
    const first = await answerMatching(port, /^v1 one \d+$/);

    edit('app.mjs', (text) => text.replace('v1', 'v2'));
    const second = await answerMatching(port, /^v2 one \d+$/);
    expect(second.split(' ')[2]).not.toBe(first.split(' ')[2]); // a new process
    expect(await servingPort(proc, 2)).toBe(port); // on the same address

    edit('lib.mjs', () => "export const word = 'two';\n");
    await answerMatching(port, /^v2 two \d+$/);

    edit('lib.mjs', () => "export const word = 'three'\nexport const broken = (;\n");
    expect(await until(() => /the server stopped \(exit code 1\); it restarts when a file changes/.test(proc.stderr()), 15_000)).toBe(true);
    expect(proc.stderr()).toContain('waitstate-serve: error: cannot import app.mjs: SyntaxError: ');
    expect(proc.stderr()).toContain(`${join(dir, 'lib.mjs')}:2\n`);

    edit('lib.mjs', () => "export const word = 'fixed';\n");
    await answerMatching(port, /^v2 fixed \d+$/);

    // One line a restart, naming what changed.
    expect([...proc.stderr().matchAll(/ INFO  (waitstate-serve: .* changed: restarting)$/gm)].map((m) => m[1])).toEqual([
      'waitstate-serve: app.mjs changed: restarting',
      'waitstate-serve: lib.mjs changed: restarting',
      'waitstate-serve: lib.mjs changed: restarting',
      'waitstate-serve: lib.mjs changed: restarting',
    ]);
    await interrupt(proc, false);
  }, 60_000);

  it('fails at once, in one line, for a module that is not there or a bad option, instead of waiting for a change', async () => {
    const missing = runCli(['--reload', '--listen=127.0.0.1:0', 'nowhere.mjs:app'], dir, live);
    expect(await missing.exit).toBe(1);
    expect(missing.stderr()).toBe(
      `waitstate-serve: error: MODULE:OBJECT: cannot import nowhere.mjs: Cannot find module '${join(dir, 'nowhere.mjs')}'\n`,
    );
    const bad = runCli(['--reload', '--threads=-1', 'app.mjs:app'], dir, live);
    expect(await bad.exit).toBe(1);
    expect(bad.stderr()).toMatch(/^waitstate-serve: error: --threads: must be at least 0\b[^\n]*\n$/);
  });

  it('with processes: restarts them all, on a change to the --config file too, and Ctrl-C (SIGINT to the group) stops them all', async () => {
    writeFileSync(join(dir, 'config.json'), '{ "ident": "first" }');
    const args = ['--reload', '--threads=0', '--processes=2', '--config=config.json', '--listen=127.0.0.1:0', 'app.mjs:app'];
    const proc = runCli(args, dir, live, { detached: true });
    const port = await servingPort(proc);
    await answerMatching(port, /^v1 one \d+$/);
    edit('lib.mjs', () => "export const word = 'two';\n");
    await answerMatching(port, /^v1 two \d+$/);
    expect((await exchange(port, get)).header('server')).toBe('first');
    edit('config.json', () => '{ "ident": "second" }');
    const ident = async () => (await exchange(port, get).catch(() => undefined))?.header('server');
    let seen: string | undefined;
    for (let waited = 0; waited < 15_000 && seen !== 'second'; waited += 100) {
      seen = await ident();
      if (seen !== 'second') await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toBe('second');
    await interrupt(proc, true);
  }, 60_000);
});
