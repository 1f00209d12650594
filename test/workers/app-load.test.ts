// Loading the app where it runs: a load error crosses from a worker thread or a process whole
// (name, code, stack, cause), so serve() rejects with what an inline load throws; `MODULE:OBJECT()`
// serves what the factory returns in every thread; a factory's warning is said once, not once a thread.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/index.js';
import { exchange, recordingLogger, startServer } from '../helpers/raw-client.js';

const get = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
// Inline loads are checked over real processes (test/cli/load.test.ts): here vitest's own loader would import the module.
const MODES = [{ threads: 2 }, { threads: 1, processes: 2 }];

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'waitstate-app-load-'));
  writeFileSync(join(dir, 'syntax.mjs'), "export const app = () =>\n  new Response('x';\n");
  writeFileSync(join(dir, 'throws.mjs'), "throw Object.assign(new Error('no config'), { code: 'E_CONFIG' });\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadError(ref: string, options: object): Promise<Error & { code?: string }> {
  const error: unknown = await serve(ref, { listen: ['127.0.0.1:0'], logger: recordingLogger(), ...options }).then(
    (server) => server.close().then(() => undefined),
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error(`serve(${ref}) started`);
  return error;
}

describe('a load error, from wherever the app was loaded', () => {
  it.each(MODES)('%o: a syntax error rejects with an AppLoadError whose stack is the file, line and caret', async (mode) => {
    const error = await loadError(`${dir}/syntax.mjs:app`, mode);
    expect(error).toMatchObject({ name: 'AppLoadError', code: 'WS_ERR_APP_LOAD' });
    expect(error.message).toMatch(/^cannot import .*syntax\.mjs: SyntaxError: missing \) after argument list$/);
    expect(error.stack!.split('\n').slice(1)).toEqual([`${dir}/syntax.mjs:2`, "  new Response('x';", expect.stringMatching(/^ +\^+$/)]);
  });
  it.each(MODES)('%o: a throw at top level: the stack of the throw, and the error as the cause', async (mode) => {
    const error = await loadError(`${dir}/throws.mjs:app`, mode);
    expect(error).toMatchObject({ name: 'AppLoadError', code: 'WS_ERR_APP_LOAD', cause: { message: 'no config', code: 'E_CONFIG' } });
    expect(error.stack!.split('\n').slice(1)).toEqual([`    at file://${dir}/throws.mjs:1:21`]);
  });
  it.each(MODES)('%o: a bad reference stays an OptionError, by its code', async (mode) => {
    const error = await loadError('test/fixtures/factory-app.mjs:nope', mode);
    expect(error).toMatchObject({ code: 'WS_ERR_OPTION', message: 'MODULE:OBJECT: test/fixtures/factory-app.mjs has no export "nope"' });
  });
});

describe('MODULE:OBJECT() through serve()', () => {
  it.each([{ threads: 0 }, { threads: 2 }])('%o: serves what the factory returns', async (mode) => {
    const t = await startServer('test/fixtures/factory-app.mjs:createLater()', mode);
    expect((await exchange(t.port, get)).body.toString()).toMatch(/^made 1 in /);
    await t.close();
  });
  it('refuses arguments', async () => {
    await expect(startServer('test/fixtures/factory-app.mjs:createApp(1)')).rejects.toThrow(/a factory is called without arguments/);
  });
  it('a factory served as the app is named once at start-up, however many threads loaded it', async () => {
    const log = recordingLogger();
    const t = await startServer('test/fixtures/factory-app.mjs:createApp', { threads: 3, logger: log });
    await t.close();
    expect(log.lines.filter((line) => line.includes('looks like a factory'))).toEqual([
      'warn: waitstate: test/fixtures/factory-app.mjs:createApp looks like a factory (it takes no parameters and is named createApp): if it makes the app, serve what it returns with --call',
    ]);
  });
});
