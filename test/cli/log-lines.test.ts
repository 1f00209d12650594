// waitstate-serve's log as a user reads it later: its own lines (Serving on, Shutting down) and an
// app error from a worker thread, each stamped with its time and level, on stderr (stdout is left
// to --access-log=- and --trace=-), as text or as pino's JSON lines; and what --inspect says with
// its URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = `${root}dist/src/cli/serve.js`;
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/src/cli/serve.js is missing: run `npm run build` (npm test does it)');
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** waitstate-serve on a free port, its output kept. */
function start(flags: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, '--listen=127.0.0.1:0', ...flags, 'test/fixtures/throwing-app.mjs:app'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Serve the throwing fixture in 2 worker threads, ask for /throw, stop: what it wrote to stdout and stderr. */
async function serveAndFail(flags: string[], port: (stderr: string) => number | undefined): Promise<{ stdout: string; stderr: string }> {
  const proc = start(['--threads=2', ...flags]);
  await until(() => port(proc.stderr()) !== undefined || proc.child.exitCode !== null);
  const bound = port(proc.stderr());
  if (bound === undefined) throw new Error(`no "Serving on" line; stdout ${proc.stdout()} stderr ${proc.stderr()}`);
  expect((await exchange(bound, 'GET /throw HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).status).toBe(500);
  await until(() => proc.stderr().includes('E_DEMO'));
  proc.child.kill('SIGTERM');
  expect(await proc.exit).toBe(0);
  return { stdout: proc.stdout(), stderr: proc.stderr() };
}

const TIME = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`;

describe('waitstate-serve log lines', () => {
  it('carry the time and the level in text, a stack indented under its entry', async () => {
    const serving = new RegExp(`^${TIME} INFO  Serving on http://127\\.0\\.0\\.1:(\\d+)$`, 'm');
    const { stdout, stderr } = await serveAndFail([], (text) => {
      const m = serving.exec(text);
      return m === null ? undefined : Number(m[1]);
    });
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    const entries = lines.filter((line) => new RegExp(`^${TIME} `).test(line));
    expect(entries.map((line) => line.slice(25, 30))).toEqual(['INFO ', 'ERROR', 'INFO ']);
    expect(entries[1]).toMatch(/ERROR waitstate: GET \/throw: app error before the response head \(answered 500\): E_DEMO: Error: boom$/);
    expect(entries[2]).toMatch(/INFO {2}Shutting down: finishing requests in progress$/);
    // Every other line belongs to the error's entry: its stack, its code, its cause.
    expect(lines.filter((line) => !entries.includes(line)).every((line) => line.startsWith('  '))).toBe(true);
    expect(stderr).toMatch(/\n {6}at app \(.*throwing-app\.mjs/);
  });

  it('are one pino JSON line each with --log-format=json', async () => {
    const { stdout, stderr } = await serveAndFail(['--log-format=json'], (text) => {
      const m = /"msg":"Serving on http:\/\/127\.0\.0\.1:(\d+)"/.exec(text);
      return m === null ? undefined : Number(m[1]);
    });
    expect(stdout).toBe('');
    const records = stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; time: number; pid: number; msg: string; err?: Record<string, string> });
    expect(records.map((r) => r.level)).toEqual([30, 50, 30]);
    for (const r of records) expect(Math.abs(r.time - Date.now())).toBeLessThan(60_000);
    const [serving, failed, stopping] = records;
    expect(serving!.msg).toMatch(/^Serving on http:\/\/127\.0\.0\.1:\d+$/);
    expect(failed!.msg).toBe('waitstate: GET /throw: app error before the response head (answered 500): E_DEMO: boom');
    expect(failed!.err).toMatchObject({ type: 'Error', message: 'boom: inner', code: 'E_DEMO' });
    expect(failed!.err!['stack']).toMatch(/^Error: boom\n {4}at app [^]*\ncaused by: TypeError: inner\n/);
    expect(stopping!.msg).toBe('Shutting down: finishing requests in progress');
    expect(new Set(records.map((r) => r.pid)).size).toBe(1);
  });

  it('--inspect says, with the URL, that the page needs internet access, and how to read the events offline', async () => {
    const proc = start(['--threads=0', '--inspect=0']);
    await until(() => proc.stderr().includes('--html') || proc.child.exitCode !== null);
    const lines = proc.stderr().trimEnd().split('\n');
    expect(lines[1]).toMatch(new RegExp(`^${TIME} INFO  Inspector on http://127\\.0\\.0\\.1:\\d+ \\(open it in a browser\\)$`));
    expect(lines[2]).toMatch(
      new RegExp(`^${TIME} INFO  The inspector page embeds Stately's hosted inspector \\(https://stately\\.ai/inspect\\)`),
    );
    expect(lines[2]).toContain('needs internet access');
    expect(lines[2]).toContain('--trace=trace.jsonl');
    expect(lines[2]).toContain('`waitstate-trace trace.jsonl --connection N --html trace.html`');
  });
});
