// The edge-case catalogue (src/audit/catalogue.ts) run against waitstate over real sockets: each
// case's answers and close must be what the catalogue says, and for a refusal the code in the
// server's log line must be the one the catalogue names (so `decidedBy` cannot drift silently).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCatalogue } from '../../src/audit/catalogue-doc.js';
import { auditApp } from '../../src/audit/app.js';
import { CATALOGUE } from '../../src/audit/catalogue.js';
import { probe, verdict } from '../../src/audit/probe.js';
import { recordingLogger, startServer, type TestServer } from '../helpers/raw-client.js';

describe('the edge-case catalogue against waitstate', () => {
  const log = recordingLogger();
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(auditApp, { logger: log });
  });
  afterAll(() => t.close());

  it('has at least 50 cases, with unique ids', () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CATALOGUE.map((c) => c.id)).size).toBe(CATALOGUE.length);
  });

  it('allows other answers only with a rule, and never waitstate’s own answer again', () => {
    for (const edge of CATALOGUE) {
      for (const answer of edge.alsoAllowed ?? []) {
        expect(answer.why, edge.id).toMatch(/RFC \d+ §/);
        expect(verdict(edge, { statuses: [...answer.statuses], closes: answer.closes }), edge.id).toBe('allowed');
      }
    }
  });

  it.each(CATALOGUE.map((c) => [c.id, c] as const))('%s', async (_, edge) => {
    log.lines.length = 0;
    const result = await probe('127.0.0.1', t.port, edge);
    // waitstate's own answer, not merely one the RFC also allows.
    expect({ ...result, verdict: verdict(edge, result) }).toEqual({ statuses: edge.statuses, closes: edge.closes, verdict: 'pass' });
    const refusals = log.lines.filter((line) => / WS_ERR_[A-Z0-9_]+: /.test(line));
    if (edge.code === undefined) expect(refusals).toEqual([]);
    else expect(refusals.map((line) => / (WS_ERR_[A-Z0-9_]+): /.exec(line)?.[1])).toEqual([edge.code]);
  });
});

describe('docs/edge-cases.md', () => {
  it('shows the catalogue as it is (run `npm run docs:edge-cases`)', () => {
    const page = readFileSync(new URL('../../docs/edge-cases.md', import.meta.url), 'utf8');
    expect(page).toBe(withCatalogue(page));
  });
});
