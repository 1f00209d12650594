// scripts/audit-doc.mjs: write docs/audit.md, waitstate-audit's table for waitstate and for
// node:http, each serving the audit app (src/audit/app.ts) on loopback in this process. Run with `npm run docs:audit`
// (it builds first). The figures depend on the Node version, so no test pins them.
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { APP_HOP_BY_HOP_FIELDS, auditApp } from '../dist/src/audit/app.js';
import { audit, renderTable, tally } from '../dist/src/audit/cli.js';
import { CATALOGUE } from '../dist/src/audit/catalogue.js';
import { serve } from '../dist/src/index.js';

const quiet = { error() {}, warn() {}, info() {} };
const waitstate = await serve(auditApp, { listen: ['127.0.0.1:0'], logger: quiet });
// The audit app's habits on node:http: no body for HEAD, the connection-level fields on /hop-by-hop.
const node = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/hop-by-hop') {
      for (const [name, value] of Object.entries(APP_HOP_BY_HOP_FIELDS)) res.setHeader(name, value);
      res.write('ok');
    }
    res.end(req.method === 'HEAD' || req.url === '/hop-by-hop' ? undefined : 'ok');
  });
});
await new Promise((resolve) => node.listen(0, '127.0.0.1', resolve));

const ours = await audit(`http://127.0.0.1:${waitstate.addresses[0].port}`, CATALOGUE);
const theirs = await audit(`http://127.0.0.1:${node.address().port}`, CATALOGUE);
await waitstate.close();
node.close();

const page = [
  '# waitstate-audit: the catalogue against two servers',
  '',
  '<!-- Written by `npm run docs:audit` (scripts/audit-doc.mjs). -->',
  '',
  '`waitstate-audit http://HOST:PORT [--cases FILE] [--json]` sends each case of the edge-case',
  'catalogue ([edge-cases.md](edge-cases.md)) over a raw socket and compares the answers and the',
  'close with what the catalogue expects. The server should answer 200',
  'to any well-formed request; the response cases also expect what the audit app (src/audit/app.ts)',
  'does, as Hono does: no body for HEAD, and on `/hop-by-hop` the Connection, Keep-Alive and',
  'Transfer-Encoding fields an app has no business setting (a plain hello app passes those cases',
  "without testing anything). The verdict is `pass` for waitstate's answer, `allowed` for another",
  'answer the RFC permits (a 417 for an unknown Expect, closing an HTTP/1.0 keep-alive connection;',
  'the catalogue lists them with the rule), and **FAIL** for anything else.',
  '',
  'Exit codes: 0 when every case passed or got an allowed answer, 1 when a case failed, 2 when the',
  'audit did not run: a bad argument, a bad cases file, or no server at the address (nothing',
  'listening, a host that does not resolve; checked once, before the cases). The audit speaks plain',
  'HTTP: for a server behind TLS, audit its http:// address. `--json` prints the report as JSON (the',
  'target, the counts, and per case what was expected, what came back and the verdict).',
  '',
  '## Your own cases: `--cases FILE`',
  '',
  '`--cases FILE` runs the cases in FILE instead of the catalogue: a JSON array of objects, one per',
  'case, sent one at a time, each on a connection of its own. A case has these fields (any other is',
  'refused, naming the case):',
  '',
  '| field | | what it says |',
  '|---|---|---|',
  '| `id` | required | the name shown in the report |',
  '| `send` | required | the bytes sent as soon as the connection opens, one character a byte (latin1): write CR LF as `\\r\\n` |',
  '| `statuses` | required | the status of each response expected, in order (a `100 Continue` counts); `[]` for none |',
  '| `closes` | required | `true` when the server must close the connection after those answers, `false` when it must keep it open |',
  '| `thenSend` | optional | bytes sent once the first response has come (the body after a `100 Continue`) |',
  '| `alsoAllowed` | optional | other answers the RFC permits, each `{ "statuses": [...], "closes": ..., "why": "..." }`; one of them gets the verdict `allowed`, with its `why` in the JSON report |',
  '| `headAnswers` | optional | the indexes (0 for the first) of the responses that answer a HEAD: each ends with its head, whatever its fields say |',
  '| `fieldRule` | optional | a rule on the answers\' fields, checked besides the statuses: `"head-length-as-get"` (each HEAD answer has no Content-Length, or the one of the GET answer just before it) or `"framed-once"` (each answer with content has one framing field, and at most one Connection field) |',
  "| `title`, `rfc` | optional | what the case is about (`title`, in the JSON report; the `id` when absent) and the rule that decides it (`rfc`, the table's rule column) |",
  "| `area`, `decidedBy`, `code` | optional | kept from the catalogue's own cases, so a copy of some of them runs as it is |",
  '',
  'A case passes when the statuses come back in that order and the connection is closed, or kept,',
  'as `closes` says; a reply that cannot be read as HTTP/1.1 responses, or answers still missing',
  'after 3 seconds, fail it. This file, [examples/audit/cases.json](../examples/audit/cases.json) (the test suite',
  'runs it), has one case of each kind:',
  '',
  '```json',
  readFileSync(fileURLToPath(new URL('../examples/audit/cases.json', import.meta.url)), 'utf8').trimEnd(),
  '```',
  '',
  '```sh',
  'npx waitstate-audit http://127.0.0.1:8080 --cases examples/audit/cases.json',
  '```',
  '',
  '## The catalogue against waitstate and node:http',
  '',
  `Run on Node ${process.version}, each server serving the audit app on loopback.`,
  '',
  '### waitstate',
  '',
  renderTable(ours),
  '',
  `### node:http (Node ${process.version})`,
  '',
  renderTable(theirs),
  '',
].join('\n');
writeFileSync(fileURLToPath(new URL('../docs/audit.md', import.meta.url)), page);
const summary = (rows) => {
  const { passed, allowed, failed } = tally(rows);
  return `${passed} passed, ${allowed} allowed, ${failed} failed`;
};
console.log(`wrote docs/audit.md: waitstate ${summary(ours)}; node:http ${summary(theirs)}`);
