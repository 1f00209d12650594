// scripts/trace-page.mjs: make docs/trace-page.png, the trace page as docs/inspector.md shows it.
// Serves a small app with `trace` on, sends GET /hello and then GET /hello and GET /missing (a
// 404) pipelined on one connection, renders that connection's page and has headless Chromium
// take a 1400×900 screenshot of it at the step where the channel dispatches the 404's request.
// Run with `npm run build && node scripts/trace-page.mjs` (Debian's chromium must be installed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTrace } from '../dist/src/cli/trace.js';
import { serve } from '../dist/src/index.js';
import { renderTraceHtml } from '../dist/src/observe/trace-html.js';

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
if (chromium === undefined) throw new Error('chromium is not installed (apt-get install -y chromium)');
const dir = mkdtempSync(join(tmpdir(), 'waitstate-trace-page-'));
const trace = join(dir, 'trace.jsonl');

const app = (request) =>
  new URL(request.url).pathname === '/hello' ? new Response('Hello, World!') : new Response('Not Found', { status: 404 });
const server = await serve(app, { listen: ['127.0.0.1:0'], threads: 0, trace });
const socket = connect(server.addresses[0].port, '127.0.0.1');
let received = '';
socket.on('data', (chunk) => (received += chunk));
/** Send `text`, then wait until `count` responses in all have arrived. */
async function send(text, count) {
  socket.write(text);
  while ((received.match(/HTTP\/1\.1 /g) ?? []).length < count) await new Promise((resolve) => setTimeout(resolve, 10));
}
await send('GET /hello HTTP/1.1\r\nHost: example\r\n\r\n', 1);
await send('GET /hello HTTP/1.1\r\nHost: example\r\n\r\nGET /missing HTTP/1.1\r\nHost: example\r\n\r\n', 3);
socket.end();
await new Promise((resolve) => socket.on('close', resolve));
await server.close();

const lines = readTrace(readFileSync(trace, 'utf8'));
const id = lines.find((l) => l.connection !== null).connection;
const steps = lines.filter((l) => l.connection === id);
const step = steps.findLastIndex((l) => l.actor === 'channel' && l.event === 'request.complete') + 1;
const page = join(dir, 'trace.html');
writeFileSync(page, renderTraceHtml(lines, id));
const png = fileURLToPath(new URL('../docs/trace-page.png', import.meta.url));
execFileSync(
  chromium,
  [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    '--window-size=1400,900',
    `--screenshot=${png}`,
    `file://${page}#step=${step}`,
  ],
  { stdio: 'ignore', timeout: 60_000 },
);
rmSync(dir, { recursive: true, force: true });
console.log(`wrote docs/trace-page.png: connection ${id}, step ${step} of ${steps.length}`);
