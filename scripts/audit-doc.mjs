// scripts/audit-doc.mjs: write docs/audit.md, waitstate-audit's table for waitstate and for
// node:http, each serving the audit app (src/audit/app.ts) on loopback in this process. Run with `npm run docs:audit`
// (it builds first). The figures depend on the Node version, so no test pins them.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
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
  'close with what the catalogue expects. It exits 1 when a case fails. The server should answer 200',
  'to any well-formed request; the response cases also expect what the audit app (src/audit/app.ts)',
  'does, as Hono does: no body for HEAD, and on `/hop-by-hop` the Connection, Keep-Alive and',
  'Transfer-Encoding fields an app has no business setting (a plain hello app passes those cases',
  "without testing anything). The verdict is `pass` for waitstate's answer, `allowed` for another",
  'answer the RFC permits (a 417 for an unknown Expect, closing an HTTP/1.0 keep-alive connection;',
  'the catalogue lists them with the rule), and **FAIL** for anything else.',
  '',
  `Run on Node ${process.version}, each server serving the audit app on loopback.`,
  '',
  '## waitstate',
  '',
  renderTable(ours),
  '',
  `## node:http (Node ${process.version})`,
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
