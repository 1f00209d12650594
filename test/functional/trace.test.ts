// The trace option and waitstate-trace: one JSON line per event a machine processed, and the
// timeline of one connection read back from them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TraceLine } from '../../src/observe/trace.js';
import { readTrace, renderTimeline } from '../../src/cli/trace.js';
import { exchange, RawClient, startServer } from '../helpers/raw-client.js';
import { CHROMIUM, findTool, TESTS_NEEDING_TOOLS, titleSayingWhy } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'waitstate-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('trace', () => {
  it('writes the transitions of each connection, and waitstate-trace prints one as a timeline', async () => {
    const file = join(dir, 'trace.jsonl');
    const t = await startServer(() => new Response('hi'), { trace: file });
    // Connection A: one good request; connection B: a malformed one.
    const a = await RawClient.connect(t.port);
    a.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await a.readResponse();
    a.destroy();
    await exchange(t.port, 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n');
    await t.close();
    const lines = readTrace(readFileSync(file, 'utf8'));
    const ids = [...new Set(lines.map((l) => l.connection).filter((id) => id !== null))];
    expect(ids).toHaveLength(2);
    const [good, bad] = ids as number[];
    const step = (l: TraceLine) => `${l.actor}: ${l.from} --${l.event}--> ${l.to}`;
    const goodSteps = lines.filter((l) => l.connection === good).map(step);
    expect(goodSteps).toEqual(
      expect.arrayContaining([
        'parser: head --head.parsed--> complete',
        'channel: reading --request.complete--> dispatched',
        'task: queued --task.start--> running',
        'channel: dispatched --task.done--> reading',
      ]),
    );
    expect(lines.filter((l) => l.connection === bad).map(step)).toEqual(
      expect.arrayContaining(['parser: head --head.failed--> error', 'channel: reading --request.invalid--> pending-close']),
    );
    // Times only grow.
    expect(lines.every((l, i) => i === 0 || l.t >= lines[i - 1]!.t)).toBe(true);

    const printed = spawnSync(process.execPath, [`${root}dist/src/cli/trace.js`, file, '--connection', String(bad)], { encoding: 'utf8' });
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(new RegExp(`^connection ${bad}\\n`));
    expect(printed.stdout).toMatch(/ms {2}channel +reading +--request\.invalid--> +pending-close/);
    expect(printed.stdout).not.toContain(`connection ${good}`);
  });

  it('renders a timeline from lines', () => {
    const lines: TraceLine[] = [
      { t: 10, connection: 1, actor: 'channel', from: '(start)', event: 'xstate.init', to: 'reading' },
      { t: 10.5, connection: 1, actor: 'parser', from: 'head', event: 'head.parsed', to: 'complete' },
    ];
    expect(renderTimeline(lines)).toBe(
      [
        'connection 1',
        '    0.000 ms  channel  (start)  --xstate.init-->  reading',
        '    0.500 ms  parser   head     --head.parsed-->  complete',
        '',
      ].join('\n'),
    );
  });

  it('waitstate-trace says what is wrong in one line', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [`${root}dist/src/cli/trace.js`, ...args], { encoding: 'utf8' });
    expect(run().status).toBe(2);
    expect(run(join(dir, 'missing.jsonl')).stderr).toMatch(/^waitstate-trace: error: ENOENT/);
    expect(run('package.json').stderr).toMatch(/line 1 is not JSON/);
  });
});

// The page is checked in a real browser: headless Chromium (Debian's chromium; .ci/run installs it).
const chromium = findTool(CHROMIUM);
const pageTitle = titleSayingWhy('the trace page', TESTS_NEEDING_TOOLS['test/functional/trace.test.ts']!);

describe.skipIf(chromium === undefined)(pageTitle, () => {
  /** The page's DOM after its script ran, at `#step=N`. */
  const domAt = (page: string, step: number) =>
    execFileSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${page}#step=${step}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });

  it('steps through a connection over its machine diagrams, offline', async () => {
    const file = join(dir, 'page-trace.jsonl');
    const t = await startServer(() => new Response('hi'), { trace: file });
    await exchange(t.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await t.close();
    const lines = readTrace(readFileSync(file, 'utf8'));
    const id = lines.find((l) => l.connection !== null)!.connection!;
    const page = join(dir, 'trace.html');
    const made = spawnSync(process.execPath, [`${root}dist/src/cli/trace.js`, file, '--html', page], { encoding: 'utf8' });
    expect(made.status).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|fetch\(|import\(/); // self-contained: nothing fetched
    const steps = lines.filter((l) => l.connection === id);
    const k = steps.findIndex((l) => l.actor === 'channel' && l.event === 'request.complete');
    expect(k).toBeGreaterThan(0);
    const dom = domAt(page, k + 1);
    expect(dom).toContain(`step ${k + 1} of ${steps.length}: channel reading --request.complete--&gt; dispatched`);
    expect(dom).toMatch(/<g class="state at current" id="m-channel-s-dispatched"/);
    expect(dom).toMatch(/class="edge taken" data-from="reading" data-event="request.complete" data-to="dispatched"/);
    // Another step lights another state: the page really steps.
    expect(domAt(page, 1)).toContain(`step 1 of ${steps.length}: ${steps[0]!.actor} (start) --xstate.init--&gt; ${steps[0]!.to}`);
  }, 120_000);
});
