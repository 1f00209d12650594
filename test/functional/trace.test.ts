// The trace option and waitstate-trace: one JSON line per event a machine processed, and the
// timeline of one connection read back from them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TraceLine } from '../../src/observe/trace.js';
import { readTrace, renderTimeline } from '../../src/cli/trace.js';
import { DIAGRAMS, machineShape } from '../../src/observe/diagram.js';
import { traceRequests } from '../../src/observe/trace-html.js';
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
    // Which request, and what it was answered: on the lines where the head was read and the status written.
    expect(lines.filter((l) => l.connection === good && l.request !== undefined).map(step)).toEqual([
      'parser: head --head.parsed--> complete',
    ]);
    expect(lines.find((l) => l.connection === good && l.request !== undefined)!.request).toBe('GET /');
    expect(lines.filter((l) => l.status !== undefined).map((l) => [l.connection, step(l), l.status])).toEqual([
      [good, 'task: running --app.responded--> streaming', 200],
      [bad, 'channel: reading --request.invalid--> pending-close', 400],
    ]);
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

/**
 * A trace of two connections. The first: GET /hello four times on one connection, then GET /hello
 * and GET /missing (a 404) pipelined, sent in one write; the second: one GET /hello.
 */
async function traceSession(file: string): Promise<TraceLine[]> {
  const app = (request: Request) => (new URL(request.url).pathname === '/hello' ? new Response('hi') : new Response('no', { status: 404 }));
  const t = await startServer(app, { trace: file });
  const client = await RawClient.connect(t.port);
  for (let i = 0; i < 4; i++) {
    client.write('GET /hello HTTP/1.1\r\nHost: a\r\n\r\n');
    await client.readResponse();
  }
  client.write('GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /missing HTTP/1.1\r\nHost: a\r\n\r\n');
  expect((await client.readResponse()).status).toBe(200);
  expect((await client.readResponse()).status).toBe(404);
  client.destroy();
  await exchange(t.port, 'GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  await t.close();
  return readTrace(readFileSync(file, 'utf8'));
}

describe('the requests of a connection in its trace', () => {
  it('names each request with its status, a pipelined one too, and --html shows the first connection and says so', async () => {
    const file = join(dir, 'requests.jsonl');
    const lines = await traceSession(file);
    const [first, second] = [...new Set(lines.map((l) => l.connection).filter((id) => id !== null))] as number[];
    const steps = lines.filter((l) => l.connection === first);
    const requests = traceRequests(steps);
    expect(requests.labels).toEqual([...Array(5).fill('GET /hello → 200'), 'GET /missing → 404']);
    // The channel ends request 5 (task.done) after the parser read the head of request 6, pipelined behind it.
    const head6 = steps.findIndex((l) => l.request === 'GET /missing');
    const done5 = steps.findIndex((l, i) => i > head6 && l.actor === 'channel' && l.event === 'task.done');
    expect([requests.of[head6], requests.of[done5]]).toEqual([5, 4]);

    const page = join(dir, 'requests.html');
    const made = spawnSync(process.execPath, [`${root}dist/src/cli/trace.js`, file, '--html', page], { encoding: 'utf8' });
    expect(made.status).toBe(0);
    expect(made.stderr).toBe(
      `waitstate-trace: ${file} has 2 connections (${first}, ${second}); the page shows the first, ${first}: pick another with --connection N\n`,
    );
    const html = readFileSync(page, 'utf8');
    expect(html).toContain(`<h1>waitstate trace: connection ${first}</h1>`);
    expect(html).toContain(`The first of 2 connections in this trace (${first}, ${second})`);
  });
});

// The page is checked in a real browser: headless Chromium (Debian's chromium; .ci/run installs it).
const chromium = findTool(CHROMIUM);
const pageTitle = titleSayingWhy('the trace page', TESTS_NEEDING_TOOLS['test/functional/trace.test.ts']!);

/**
 * Run in the page after its own script (appended to a copy): what it drew, then the step list
 * after stepping with the → key to the last step; written into the DOM for --dump-dom.
 */
const PROBE = `
const box = (e) => { const r = e.getBoundingClientRect(); return { x: r.left, y: r.top, right: r.right, bottom: r.bottom }; };
const seen = (e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; };
const list = document.getElementById('steps');
const out = { viewport: [innerWidth, innerHeight], steps: list.querySelectorAll('.step').length, overflows: list.scrollHeight > list.clientHeight };
out.arcs = [...document.querySelectorAll('svg.machine .arc')].map((arc) => {
  const label = document.getElementById(arc.dataset.label);
  return {
    machine: arc.ownerSVGElement.id.slice(2), from: arc.dataset.from, to: arc.dataset.to,
    marker: getComputedStyle(arc.querySelector('path')).markerEnd,
    events: [...label.querySelectorAll('tspan')].map((t) => t.textContent),
    label: box(label.querySelector('rect')), text: box(label.querySelector('text')),
  };
});
out.requests = [...document.querySelectorAll('#steps .request')].map((e) => e.textContent);
out.notes = [...document.querySelectorAll('#steps .of')].map((e) => e.closest('.step').textContent.replace(/\\s+/g, ' ').trim());
for (let i = 1; i < out.steps; i++) dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
const item = document.querySelector('#steps .step.current');
out.last = {
  step: Number(item.dataset.step), itemSeen: seen(item), stateSeen: seen(document.querySelector('.node.current')),
  request: document.getElementById('request').textContent, hash: location.hash,
};
// Back with ← to the last step of a task, whose drawing comes last.
const lastTask = JSON.parse(document.getElementById('trace').textContent).steps.map((s) => s.actor).lastIndexOf('task');
for (let i = out.steps - 1; i > lastTask; i--) dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft' }));
const taskItem = document.querySelector('#steps .step.current');
out.task = { step: Number(taskItem.dataset.step), itemSeen: seen(taskItem), stateSeen: seen(document.querySelector('.node.current')), machineSeen: seen(document.getElementById('m-task')), lastTask };
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = encodeURIComponent(JSON.stringify(out));
document.body.append(pre);
`;

interface Box {
  x: number;
  y: number;
  right: number;
  bottom: number;
}
interface Probe {
  viewport: number[];
  steps: number;
  overflows: boolean;
  arcs: { machine: string; from: string; to: string; marker: string; events: string[]; label: Box; text: Box }[];
  requests: string[];
  notes: string[];
  last: { step: number; itemSeen: boolean; stateSeen: boolean; request: string; hash: string };
  task: { step: number; itemSeen: boolean; stateSeen: boolean; machineSeen: boolean; lastTask: number };
}

describe.skipIf(chromium === undefined)(pageTitle, () => {
  const browse = (...args: string[]) =>
    execFileSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1400,900', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });
  /** The page's DOM after its script ran, at `#step=N`, in a 1400×900 window. */
  const domAt = (page: string, step: number) => browse('--dump-dom', `file://${page}#step=${step}`);

  it('draws every transition with its arrow and events, names the requests, and keeps the step in view at 1400×900', async () => {
    const file = join(dir, 'page-trace.jsonl');
    const lines = await traceSession(file);
    const id = lines.find((l) => l.connection !== null)!.connection!;
    const page = join(dir, 'trace.html');
    const made = spawnSync(process.execPath, [`${root}dist/src/cli/trace.js`, file, '--html', page], { encoding: 'utf8' });
    expect(made.status).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|fetch\(|import\(/); // self-contained: nothing fetched

    const probed = join(dir, 'probed.html');
    writeFileSync(probed, html.replace('</body>', `<script>${PROBE}</script></body>`));
    const encoded = /<pre id="probe">([^<]*)<\/pre>/.exec(browse('--dump-dom', `file://${probed}`))![1]!;
    const probe = JSON.parse(decodeURIComponent(encoded)) as Probe;
    // A 1400×900 window: headless Chromium, like a desktop browser, keeps some of its height for itself.
    expect(probe.viewport[0]).toBe(1400);
    expect(probe.viewport[1]).toBeGreaterThan(780);
    expect(probe.viewport[1]).toBeLessThanOrEqual(900);

    // Each transition of each machine drawn: on the arc between its two states, which points with an arrowhead.
    expect(new Set(probe.arcs.map((a) => a.machine))).toEqual(new Set(['channel', 'parser', 'task']));
    for (const machine of ['channel', 'parser', 'task']) {
      const shape = machineShape(DIAGRAMS.find((d) => d.machine.id === machine)!.machine);
      const arcs = probe.arcs.filter((a) => a.machine === machine);
      for (const t of shape.transitions) {
        const arc = arcs.find((a) => a.from === t.from && a.to === t.to);
        expect(arc?.events, `${machine}: ${t.from} --${t.event}--> ${t.to}`).toContain(t.event);
      }
      for (const [i, a] of arcs.entries()) {
        expect(a.marker, `${a.from} -> ${a.to}`).toMatch(/url\("?#arrow(-taken)?"?\)/);
        // The text, in the browser's own font, fits its label; no label covers another.
        expect(a.text.x >= a.label.x - 0.5 && a.text.right <= a.label.right + 0.5, `${a.events} fits its label`).toBe(true);
        for (const b of arcs.slice(i + 1)) {
          const apart =
            a.label.right <= b.label.x || b.label.right <= a.label.x || a.label.bottom <= b.label.y || b.label.bottom <= a.label.y;
          expect(apart, `${a.events} and ${b.events}`).toBe(true);
        }
      }
    }
    expect(probe.requests).toEqual(['connection opened', ...Array(5).fill('GET /hello → 200'), 'GET /missing → 404']);
    expect(probe.notes).toEqual([expect.stringMatching(/channel dispatched --task\.done--> reading \(for request 5\)$/)]);
    // Stepped with → to the last step: it is lit, and in sight, in a list longer than the window.
    expect(probe.overflows).toBe(true);
    expect(probe.last).toEqual({
      step: probe.steps - 1,
      itemSeen: true,
      stateSeen: true,
      request: 'request 6 of 6: GET /missing → 404',
      hash: `#step=${probe.steps}`,
    });
    // Its whole drawing is scrolled into sight.
    const { lastTask } = probe.task;
    expect(probe.task).toEqual({ step: lastTask, itemSeen: true, stateSeen: true, machineSeen: true, lastTask });

    // A step opened by its URL lights its state and the arc it took, and names its event on it.
    const steps = lines.filter((l) => l.connection === id);
    const k = steps.findIndex((l) => l.actor === 'channel' && l.event === 'request.complete');
    const dom = domAt(page, k + 1);
    expect(dom).toContain(`step ${k + 1} of ${steps.length}: channel reading --request.complete--&gt; dispatched`);
    expect(dom).toMatch(/<g class="node state at current" id="m-channel-s-dispatched"/);
    const taken = /<g class="arc taken" data-from="reading" data-to="dispatched" data-label="([^"]+)"/.exec(dom);
    expect(taken).not.toBeNull();
    expect(dom).toMatch(new RegExp(`<g class="label taken" id="${taken![1]}">.*?<tspan [^>]*class="taken">request\\.complete</tspan>`));
    // Another step lights another state: the page really steps.
    expect(domAt(page, 1)).toContain(`step 1 of ${steps.length}: ${steps[0]!.actor} (start) --xstate.init--&gt; ${steps[0]!.to}`);

    // And a screenshot, as a person would see it.
    const shot = join(dir, 'trace.png');
    browse(`--screenshot=${shot}`, `file://${page}#step=${k + 1}`);
    const png = readFileSync(shot);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1400, 900]);
  }, 120_000);
});
